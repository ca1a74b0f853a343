"""Which URLs are articles, and which are never worth a request.

A site's ``allow`` regexes decide when given. Otherwise a URL "looks like an article"
when its last path segment carries an id or a date (digits) or is a slug of several
words: the shape nearly every news CMS uses, and one that section, tag and author pages
rarely have.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from w3lib.url import url_query_cleaner

from crawler.sites import Site

# Pages a news crawler never needs: navigation by tag/author/search, accounts, media.
NEVER_FETCH = re.compile(
    r"/(tags?|topics?|authors?|search|login|signin|sign-in|register|subscribe|account|"
    r"newsletters?|cart|checkout)(/|$|\?)|"
    r"\.(jpe?g|png|gif|webp|svg|ico|mp[34]|m4a|avi|mov|webm|pdf|zip|gz|css|js|woff2?)(\?|$)",
    re.IGNORECASE,
)
SLUG_WORDS = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+){3,}", re.IGNORECASE)
HAS_ID = re.compile(r"\d{4,}")


# Query parameters that only say where a reader came from: the same article either way.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "cmpid",
        "ocid",
        "icid",
        "ito",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "xtor",
        "spm",
    }
)


# Session ids servers put in links for cookieless clients: a new one per response, so every
# page would be a new URL each time it is linked (a site explodes many-fold).
SESSION_PARAMS = frozenset(
    {"jsessionid", "phpsessid", "sid", "sessionid", "session_id", "sessid", "aspsessionid", "zenid", "oscsid"}
)
# The same as a path parameter (`/a;jsessionid=XYZ?q`): by hand, since w3lib cleans queries only.
SESSION_PATH_PARAM = re.compile(r";(?:" + "|".join(SESSION_PARAMS) + r")=[^/?#;]*", re.IGNORECASE)


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name.startswith(("utm_", "pk_", "mtm_")) or name in TRACKING_PARAMS or name in SESSION_PARAMS


def clean_url(url: str) -> str:
    """``url`` without its #fragment, tracking parameters (utm_*, fbclid, ...) and session ids
    (jsessionid, PHPSESSID, sid, ... in the query or as a ``;name=`` path parameter).

    Requests are made for the clean URL, so the variants of one article that feeds and
    share links spread are fetched, archived and recognised as one.
    """
    url = urldefrag(url)[0]
    if ";" in url:
        url = SESSION_PATH_PARAM.sub("", url)
    query = urlsplit(url).query
    if not query:
        return url
    tracking = [key for key, _ in parse_qsl(query, keep_blank_values=True) if is_tracking_param(key)]
    if not tracking:
        return url
    return url_query_cleaner(url, tracking, remove=True, unique=False)


def absolute_url(link: str, base: str) -> str:
    """``link`` made absolute against ``base``; raises ``ValueError`` for a malformed URL
    (a bad IPv6 literal such as ``https://[SITE_URL]/``, a port out of range, no host)."""
    url = link.strip()
    parts = urlsplit(url)
    if not parts.scheme:  # relative: joined (an absolute link is most of a sitemap, and joining costs)
        url = urljoin(base, url)
        parts = urlsplit(url)
    parts.port  # noqa: B018 (parsed on access: raises for a bad port, as Scrapy's Request would)
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    return url


def is_http(url: str) -> bool:
    """Only http(s) is ever requested: a ``file://`` URL would read the crawler's own disk."""
    return urlsplit(url).scheme in ("http", "https")


def looks_like_article(url: str) -> bool:
    path = urlsplit(url).path
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    last = segments[-1]
    return bool(HAS_ID.search(path) or SLUG_WORDS.search(last))


def is_article_url(url: str, site: Site) -> bool:
    """True when ``url`` is an article of ``site`` (by its ``allow`` regexes or by shape)."""
    if site.allow:
        return any(p.search(url) for p in site.allow)
    return looks_like_article(url)


def is_wanted(url: str, site: Site) -> bool:
    """True when ``url`` may be requested at all for ``site``."""
    return (
        is_http(url) and site.is_allowed_host(url) and not site.is_denied(url) and not NEVER_FETCH.search(url)
    )
