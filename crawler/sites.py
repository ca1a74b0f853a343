"""The site list (``seeds/sites.toml``): loading and validation.

Every mistake is reported before anything is fetched, naming the file, the site and the
key, because a typo found after an hour of crawling is an hour lost. Values are checked
for range and characters too: a name or User-Agent with a newline would end up in WARC
and HTTP headers, and a day count past a datetime's range stops every request.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import re2
from cssselect import GenericTranslator, SelectorError
from w3lib.url import safe_url_string

from crawler.revisits import parse_steps

NAME_PATTERN = re.compile(r"[a-z0-9_-]+")  # fullmatch: `$` would let a trailing newline through
CONTROL_CHARS = re.compile(r"[\x00-\x20\x7f]")  # in a URL or domain: none, not even a space
HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")  # in a header value (User-Agent): no control chars
HOST_PATTERN = re.compile(r"[a-z0-9._:-]+")  # a host as requests carry it (IDNA, IPv6 unbracketed)
LIST_KEYS = ("start_urls", "feeds", "sitemaps", "allowed_domains", "allow", "deny")
URL_KEYS = ("start_urls", "feeds", "sitemaps")
DEFAULTS = {
    "obey_robots": True,
    "max_depth": 2,
    "download_delay": None,  # seconds between requests to the site's hosts (default: AutoThrottle's)
    "concurrency": None,  # parallel requests per host (default: CONCURRENT_REQUESTS_PER_DOMAIN)
    "silent_after_runs": 3,  # flag the site after this many runs without a new article (0: never)
    "max_age_days": None,  # sitemap entries older than this are not fetched: how far back a crawl reaches
    "refetch_after_days": None,  # fetch an archived article again once its capture is this old
    "revisit": [],  # look at an archived article again this long after first seen (crawler/revisits.py)
    "user_agent": None,  # default: the USER_AGENT setting
    "download_timeout": None,  # seconds (default: DOWNLOAD_TIMEOUT)
    "download_maxsize": None,  # bytes (default: DOWNLOAD_MAXSIZE)
    "content_selector": None,  # CSS: where the article is, when the general extractor gets it wrong
    "remove_selectors": [],  # CSS: parts of the page never to extract
    "title_selector": None,  # CSS: the element holding the headline
}
SELECTOR_KEYS = ("content_selector", "title_selector")
# Bounds of the numeric keys: (lowest, highest, what it counts). A century of days is the
# most a datetime computation around "now" is safe with.
RANGES: dict[str, tuple[int | float, int | float, str]] = {
    "max_depth": (0, 100, "a whole number"),
    "silent_after_runs": (0, 100_000, "a whole number"),
    "concurrency": (1, 1_000, "a whole number"),
    "max_age_days": (0, 36_500, "a whole number of days"),
    "refetch_after_days": (0, 36_500, "a whole number of days"),
    "download_maxsize": (0, 1 << 40, "a whole number of bytes"),
    "download_delay": (0, 3_600, "a number of seconds"),
    "download_timeout": (0.001, 3_600, "a number of seconds"),
}
WHOLE_KEYS = frozenset(k for k, (_, _, unit) in RANGES.items() if unit.startswith("a whole"))
KNOWN_KEYS = frozenset({"name", *LIST_KEYS, *DEFAULTS})


class SiteListError(ValueError):
    """A site list that cannot be used; the message names file, site and key."""


class Pattern(Protocol):
    """A compiled ``allow``/``deny`` regex (RE2)."""

    pattern: str

    def search(self, text: str) -> object: ...


# RE2 runs in time linear in the text, so a `(a+)+$` rule cannot hang the crawl on a crafted
# link; its errors are raised, not also logged to stderr.
RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=4096)  # a crawl meets few hosts, each in thousands of URLs
def host_key(host: str) -> str:
    """``host`` as the crawl's requests carry it, for comparisons: lowercase, IDNA (punycode)
    as w3lib's ``safe_url_string`` (which Scrapy's ``Request`` applies) writes it, no final dot.
    Raises ``ValueError`` for what no URL could carry."""
    if ":" in host:  # an IPv6 literal: no IDNA
        return host.lower()
    return (urlsplit(safe_url_string(f"http://{host}/")).hostname or "").rstrip(".")


@dataclass(frozen=True)
class Site:
    name: str
    start_urls: tuple[str, ...]
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    allow: tuple[Pattern, ...]
    deny: tuple[Pattern, ...]
    obey_robots: bool
    max_depth: int
    download_delay: float | None = None
    concurrency: int | None = None
    silent_after_runs: int = 3
    max_age_days: int | None = None
    refetch_after_days: int | None = None
    revisit: tuple[timedelta, ...] = ()  # steps after first seen, strictly increasing
    user_agent: str | None = None
    download_timeout: float | None = None
    download_maxsize: int | None = None
    content_selector: str | None = None
    remove_selectors: tuple[str, ...] = ()
    title_selector: str | None = None

    def hosts(self) -> set[str]:
        """The hosts its URLs are on: Scrapy's download slots, for per-site politeness."""
        return {host_key(urlsplit(u).hostname) for u in (*self.start_urls, *self.feeds, *self.sitemaps)}

    def is_denied(self, url: str) -> bool:
        return any(p.search(url) for p in self.deny)

    def is_allowed_host(self, url: str) -> bool:
        host = host_key(urlsplit(url).hostname or "")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


def _fail(path: Path, where: str, message: str) -> SiteListError:
    return SiteListError(f"{path}: {where}: {message}")


def _check_keys(path: Path, where: str, table: dict, allowed: frozenset[str]) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(path, where, f"unknown key {key!r} (known keys: {', '.join(sorted(allowed))})")


def _string_list(path: Path, where: str, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, where, f"key {key!r} must be a list of non-empty strings")
    return tuple(value)


def _compile(path: Path, where: str, key: str, patterns: tuple[str, ...]) -> tuple[Pattern, ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re2.compile(pattern, RE2_OPTIONS))
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise _fail(
                path,
                where,
                f"key {key!r}: bad regex {pattern!r}: {reason} (regexes run on RE2, in linear time: "
                "no backreferences or lookaround)",
            ) from None
    return tuple(compiled)


def _urls(path: Path, where: str, key: str, urls: tuple[str, ...]) -> None:
    for url in urls:
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a bad IPv6 literal or port
            ok = False
        if not ok or CONTROL_CHARS.search(url):
            raise _fail(path, where, f"key {key!r}: not an http(s) URL: {url!r}")


def _domains(path: Path, where: str, domains: tuple[str, ...]) -> tuple[str, ...]:
    keys = []
    for domain in domains:
        try:
            key = host_key(domain.lstrip("."))
        except ValueError:
            key = ""
        if (
            CONTROL_CHARS.search(domain)
            or any(c in domain for c in "/@?#")
            or not HOST_PATTERN.fullmatch(key)
        ):
            raise _fail(path, where, f"key 'allowed_domains': not a domain name: {domain!r}")
        keys.append(key)
    return tuple(keys)


def _numbers(path: Path, where: str, merged: dict) -> dict:
    """The numeric keys, each checked for type and range."""
    for key, (low, high, unit) in RANGES.items():
        value = merged[key]
        kinds = int if key in WHOLE_KEYS else int | float
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high
        ):
            raise _fail(path, where, f"key {key!r} must be {unit} from {low} to {high:,}, got {value!r}")
    return {key: merged[key] for key in RANGES}


def _selectors(path: Path, where: str, merged: dict) -> dict:
    """The extraction overrides, each CSS selector compiled now, so a typo stops the run here."""
    removes = _string_list(path, where, "remove_selectors", merged["remove_selectors"])
    found: dict = {"remove_selectors": removes}
    for key in SELECTOR_KEYS:
        if merged[key] is not None and (not isinstance(merged[key], str) or not merged[key].strip()):
            raise _fail(path, where, f"key {key!r} must be a CSS selector (a non-empty string)")
        found[key] = merged[key]
    named = [(k, found[k]) for k in SELECTOR_KEYS if found[k]] + [("remove_selectors", r) for r in removes]
    for key, selector in named:
        try:
            GenericTranslator().css_to_xpath(selector)
        except SelectorError as exc:
            raise _fail(path, where, f"key {key!r}: bad CSS selector {selector!r}: {exc}") from None
    return found


def _build_site(path: Path, index: int, raw: dict, defaults: dict) -> Site:
    name = raw.get("name")
    where = f"site {name!r}" if isinstance(name, str) else f"site #{index + 1}"
    _check_keys(path, where, raw, KNOWN_KEYS)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise _fail(path, where, "key 'name' must match [a-z0-9_-]+")
    merged = {**DEFAULTS, **defaults, **raw}
    lists = {key: _string_list(path, where, key, merged.get(key, [])) for key in LIST_KEYS}
    for key in URL_KEYS:
        _urls(path, where, key, lists[key])
    if not any(lists[key] for key in URL_KEYS):
        raise _fail(path, where, "no URL at all: give start_urls, feeds or sitemaps")
    if not isinstance(merged["obey_robots"], bool):
        raise _fail(path, where, "key 'obey_robots' must be true or false")
    user_agent = merged["user_agent"]
    if user_agent is not None and (
        not isinstance(user_agent, str) or not user_agent.strip() or HEADER_UNSAFE.search(user_agent)
    ):
        raise _fail(path, where, "key 'user_agent' must be a non-empty string without control characters")
    numbers = _numbers(path, where, merged)
    try:
        revisit = parse_steps(merged["revisit"])
    except ValueError as exc:
        raise _fail(path, where, f"key 'revisit': {exc}") from None
    selectors = _selectors(path, where, merged)
    domains = _domains(path, where, lists["allowed_domains"]) or tuple(
        sorted({host_key(urlsplit(u).hostname) for key in URL_KEYS for u in lists[key]})
    )
    return Site(
        name=name,
        start_urls=lists["start_urls"],
        feeds=lists["feeds"],
        sitemaps=lists["sitemaps"],
        allowed_domains=domains,
        allow=_compile(path, where, "allow", lists["allow"]),
        deny=_compile(path, where, "deny", lists["deny"]),
        obey_robots=merged["obey_robots"],
        user_agent=user_agent,
        revisit=revisit,
        **numbers,
        **selectors,
    )


def load_sites(path: str | Path, only: list[str] | tuple[str, ...] = ()) -> list[Site]:
    """Read and validate a site list; ``only`` keeps the named sites (all when empty)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteListError(f"{path}: no such site list") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteListError(f"{path}: not valid TOML: {exc}") from None
    _check_keys(path, "top level", data, frozenset({"defaults", "sites"}))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(path, "[defaults]", "must be a table")
    _check_keys(path, "[defaults]", defaults, KNOWN_KEYS - {"name"})
    raw_sites = data.get("sites", [])
    if not isinstance(raw_sites, list) or not raw_sites:
        raise _fail(path, "top level", "no [[sites]] entries")
    sites = [_build_site(path, i, raw, defaults) for i, raw in enumerate(raw_sites)]
    seen: set[str] = set()
    for site in sites:
        if site.name in seen:
            raise _fail(path, f"site {site.name!r}", "duplicate name")
        seen.add(site.name)
    if only:
        unknown = sorted(set(only) - seen)
        if unknown:
            raise SiteListError(f"{path}: no site named {', '.join(map(repr, unknown))}")
        sites = [s for s in sites if s.name in only]
    return sites
