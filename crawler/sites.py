"""The site list (``seeds/sites.toml``): loading and validation.

Every mistake is reported before anything is fetched, naming the file, the site and the
key, because a typo found after an hour of crawling is an hour lost.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError

NAME_PATTERN = re.compile(r"^[a-z0-9_-]+$")
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
    "user_agent": None,  # default: the USER_AGENT setting
    "download_timeout": None,  # seconds (default: DOWNLOAD_TIMEOUT)
    "download_maxsize": None,  # bytes (default: DOWNLOAD_MAXSIZE)
    "content_selector": None,  # CSS: where the article is, when the general extractor gets it wrong
    "remove_selectors": [],  # CSS: parts of the page never to extract
    "title_selector": None,  # CSS: the element holding the headline
}
SELECTOR_KEYS = ("content_selector", "title_selector")
KNOWN_KEYS = frozenset({"name", *LIST_KEYS, *DEFAULTS})


class SiteListError(ValueError):
    """A site list that cannot be used; the message names file, site and key."""


@dataclass(frozen=True)
class Site:
    name: str
    start_urls: tuple[str, ...]
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    allow: tuple[re.Pattern, ...]
    deny: tuple[re.Pattern, ...]
    obey_robots: bool
    max_depth: int
    download_delay: float | None = None
    concurrency: int | None = None
    silent_after_runs: int = 3
    max_age_days: int | None = None
    refetch_after_days: int | None = None
    user_agent: str | None = None
    download_timeout: float | None = None
    download_maxsize: int | None = None
    content_selector: str | None = None
    remove_selectors: tuple[str, ...] = ()
    title_selector: str | None = None

    def hosts(self) -> set[str]:
        """The hosts its URLs are on: Scrapy's download slots, for per-site politeness."""
        return {urlsplit(u).hostname for u in (*self.start_urls, *self.feeds, *self.sitemaps)}

    def is_denied(self, url: str) -> bool:
        return any(p.search(url) for p in self.deny)

    def is_allowed_host(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
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


def _compile(path: Path, where: str, key: str, patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise _fail(path, where, f"key {key!r}: bad regex {pattern!r}: {exc}") from None
    return tuple(compiled)


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
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(path, where, "key 'name' must match [a-z0-9_-]+")
    merged = {**DEFAULTS, **defaults, **raw}
    lists = {key: _string_list(path, where, key, merged.get(key, [])) for key in LIST_KEYS}
    for key in URL_KEYS:
        for url in lists[key]:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _fail(path, where, f"key {key!r}: not an http(s) URL: {url!r}")
    if not any(lists[key] for key in URL_KEYS):
        raise _fail(path, where, "no URL at all: give start_urls, feeds or sitemaps")
    if not isinstance(merged["obey_robots"], bool):
        raise _fail(path, where, "key 'obey_robots' must be true or false")
    max_depth = merged["max_depth"]
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise _fail(path, where, "key 'max_depth' must be a whole number >= 0")
    delay, concurrency = merged["download_delay"], merged["concurrency"]
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
        raise _fail(path, where, "key 'download_delay' must be a number of seconds >= 0")
    timeout = merged["download_timeout"]
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise _fail(path, where, "key 'download_timeout' must be a number of seconds > 0")
    if merged["user_agent"] is not None and (
        not isinstance(merged["user_agent"], str) or not merged["user_agent"]
    ):
        raise _fail(path, where, "key 'user_agent' must be a non-empty string")
    selectors = _selectors(path, where, merged)
    for key in ("concurrency", "silent_after_runs", "max_age_days", "refetch_after_days", "download_maxsize"):
        value = merged[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise _fail(path, where, f"key {key!r} must be a whole number >= 0")
    if concurrency == 0:
        raise _fail(path, where, "key 'concurrency' must be at least 1")
    domains = lists["allowed_domains"] or tuple(
        sorted({urlsplit(u).hostname.lower() for key in URL_KEYS for u in lists[key]})
    )
    return Site(
        name=name,
        start_urls=lists["start_urls"],
        feeds=lists["feeds"],
        sitemaps=lists["sitemaps"],
        allowed_domains=tuple(d.lower().lstrip(".") for d in domains),
        allow=_compile(path, where, "allow", lists["allow"]),
        deny=_compile(path, where, "deny", lists["deny"]),
        obey_robots=merged["obey_robots"],
        max_depth=max_depth,
        download_delay=delay,
        concurrency=concurrency,
        silent_after_runs=merged["silent_after_runs"],
        max_age_days=merged["max_age_days"],
        refetch_after_days=merged["refetch_after_days"],
        user_agent=merged["user_agent"],
        download_timeout=timeout,
        download_maxsize=merged["download_maxsize"],
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
