"""Site list values checked for range and characters at load, file, site and key named
(issue 17); hosts compared in their IDNA form; regexes on a linear-time engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sites import SiteListError, load_sites
from crawler.urls import clean_url, is_wanted
from tests.helpers.cli import newsarchive

FEED = 'feeds = ["https://x.test/rss"]\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "entry, key",
    [
        ("max_age_days = 1000000\n", "max_age_days"),  # past a datetime's range: nothing was fetched
        ("refetch_after_days = 99999999\n", "refetch_after_days"),
        ("max_depth = 100000\n", "max_depth"),
        ("concurrency = 1000000000\n", "concurrency"),
        ("download_delay = 1e9\n", "download_delay"),
        ("download_timeout = 0\n", "download_timeout"),
        ("download_maxsize = 9223372036854775807\n", "download_maxsize"),
        ("max_age_days = 7.5\n", "max_age_days"),
        ('user_agent = "bot\\r\\nX-Injected: 1"\n', "user_agent"),
        ('allowed_domains = ["x.test/path"]\n', "allowed_domains"),
        ('allowed_domains = ["x .test"]\n', "allowed_domains"),
        ('start_urls = ["http://[::1:bad/"]\n', "start_urls"),
        ('start_urls = ["https://[SITE_URL]/"]\n', "start_urls"),
        ('start_urls = ["http://x.test:99999/"]\n', "start_urls"),
        ('start_urls = ["http://x.test/a b"]\n', "start_urls"),
    ],
)
def test_out_of_range_or_unsafe_values_are_named(tmp_path, entry, key):
    path = _write(tmp_path, f'[[sites]]\nname = "x"\n{FEED}{entry}')
    with pytest.raises(SiteListError) as err:
        load_sites(path)
    assert f"{path}: site 'x': key '{key}'" in str(err.value)


@pytest.mark.parametrize("name", ["x\\n", "x\\ny", "x\\r", "x\\u0000"])
def test_a_site_name_with_a_newline_or_control_character_is_refused(tmp_path, name):
    path = _write(tmp_path, f'[[sites]]\nname = "{name}"\n{FEED}')
    with pytest.raises(SiteListError, match="key 'name' must match"):
        load_sites(path)


def test_in_range_values_still_load(tmp_path):
    path = _write(
        tmp_path,
        f'[[sites]]\nname = "x"\n{FEED}max_age_days = 36500\ndownload_delay = 0.5\n'
        'download_timeout = 20\nconcurrency = 4\nuser_agent = "bot/1.0 (+https://x.test/bot)"\n',
    )
    assert load_sites(path)[0].max_age_days == 36500


def test_the_crawl_stops_on_max_age_days_overflow_before_fetching(tmp_path):
    path = _write(tmp_path, f'[[sites]]\nname = "x"\n{FEED}max_age_days = 1000000\n')
    result = newsarchive("crawl", "--sites", path, data=tmp_path / "data", check=False, timeout=60)
    assert result.returncode == 3
    assert f"{path}: site 'x': key 'max_age_days'" in result.stderr and "Traceback" not in result.stderr


def test_regexes_run_on_a_linear_engine_and_unsupported_ones_are_named(tmp_path):
    # That (a+)+$ cannot hang a crawl is tests/test_hostile_crawl.py's, in a process with a
    # timeout: on a backtracking engine it would hang this one.
    path = _write(tmp_path, f"[[sites]]\nname = \"x\"\n{FEED}deny = ['(a+)+$', '(?i)/TAG/']\n")
    site = load_sites(path)[0]
    assert site.is_denied("https://x.test/aaa") and site.is_denied("https://x.test/tag/x")
    assert not site.is_denied("https://x.test/b")
    path = _write(tmp_path, f"[[sites]]\nname = \"x\"\n{FEED}allow = ['(a)\\1']\n")
    with pytest.raises(SiteListError, match=r"site 'x': key 'allow': bad regex .*RE2"):
        load_sites(path)


def test_idn_domains_are_compared_in_their_idna_form(tmp_path):
    path = _write(
        tmp_path,
        '[[sites]]\nname = "x"\nstart_urls = ["https://bücher.test/"]\n'
        '[[sites]]\nname = "y"\nstart_urls = ["https://y.test/"]\nallowed_domains = ["Straße.TEST"]\n',
    )
    idn, sharp = load_sites(path)
    assert idn.allowed_domains == ("xn--bcher-kva.test",)
    assert idn.hosts() == {"xn--bcher-kva.test"}
    for url in (
        "https://xn--bcher-kva.test/a/1234",
        "https://bücher.test/a/1234",
        "https://news.BÜCHER.test/a",
    ):
        assert is_wanted(url, idn), url
    assert not is_wanted("https://bucher.test/a/1234", idn)
    assert is_wanted("https://strasse.test/a/1234", sharp)  # as w3lib writes the request's host


@pytest.mark.parametrize(
    "url, clean",
    [
        ("https://x.test/a;jsessionid=0A1B2C?p=1", "https://x.test/a?p=1"),
        ("https://x.test/a;JSESSIONID=0A1B2C", "https://x.test/a"),
        ("https://x.test/a?PHPSESSID=abc&id=7", "https://x.test/a?id=7"),
        ("https://x.test/a?sid=9f&utm_source=x", "https://x.test/a"),
        ("https://x.test/a;sid=9f/b", "https://x.test/a/b"),
        ("https://x.test/a?side=1", "https://x.test/a?side=1"),
    ],
)
def test_session_ids_are_stripped(url, clean):
    assert clean_url(url) == clean
