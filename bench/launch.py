"""Run a command and write its own CPU time and peak RSS to a JSON file.

    python bench/launch.py USAGE.json COMMAND [ARG...]

Why a launcher: Linux keeps, as a new program's ``ru_maxrss``, the memory of the process
it was started from (``exec`` records the old address space's peak; subprocess starts
children with vfork, which shares the parent's). Started straight from a benchmark that
holds the corpus and the generated site, every command measured at least the benchmark's
own ~130 MB. Started from this small process, the floor is this process's ~10 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main() -> int:
    usage_file, *command = sys.argv[1:]
    proc = subprocess.Popen(command)  # stdin, stdout, stderr: this process's own
    _, status, usage = os.wait4(proc.pid, 0)
    with open(usage_file, "w", encoding="utf-8") as fh:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss}, fh)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
