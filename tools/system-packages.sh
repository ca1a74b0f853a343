#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real (a browser, a Redis server),
# where they are missing and apt is usable. The list lives in tools/system-packages.txt:
# one "command package" pair per line. Without root or apt, says what is missing and
# carries on; the tests that need a missing program then fail with its name.
set -u
cd "$(dirname "$0")"
missing=()
while read -r command package; do
  [ -z "${command:-}" ] || [ "${command:0:1}" = "#" ] && continue
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done < system-packages.txt
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages (install them, e.g. apt-get install ${missing[*]}): tests that use them will fail" >&2
fi
