"""The site list: every mistake named (file, site, key) before anything is fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sites import SiteListError, load_sites
from crawler.urls import is_article_url, is_wanted
from tests.helpers.cli import newsarchive

REPO = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text)
    return path


def test_unknown_key_is_named_with_file_and_site(tmp_path):
    path = _write(tmp_path, '[[sites]]\nname = "x"\nfeeds = ["https://x.test/rss"]\nfeedz = []\n')
    with pytest.raises(SiteListError) as err:
        load_sites(path)
    assert str(path) in str(err.value) and "site 'x'" in str(err.value) and "'feedz'" in str(err.value)


def test_bad_regex_is_named_with_file_site_and_key(tmp_path):
    path = _write(tmp_path, '[[sites]]\nname = "x"\nfeeds = ["https://x.test/rss"]\nallow = [\'(\']\n')
    with pytest.raises(SiteListError, match=r"site 'x': key 'allow': bad regex '\('"):
        load_sites(path)


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[sites]]\nname = "x"\n', "no URL at all"),
        ('[[sites]]\nname = "X Y"\nfeeds = ["https://x.test/"]\n', "must match"),
        ('[[sites]]\nname = "x"\nfeeds = ["ftp://x.test/"]\n', "not an http(s) URL"),
        ('[[sites]]\nname = "x"\nfeeds = ["https://x.test/"]\nmax_depth = -1\n', "max_depth"),
        ('[defaults]\nobey_robot = true\n[[sites]]\nname = "x"\nfeeds = ["https://x.test/"]\n', "[defaults]"),
        (
            '[[sites]]\nname = "x"\nfeeds = ["https://x.test/"]\n[[sites]]\nname = "x"\nfeeds = ["https://x.test/"]\n',
            "duplicate name",
        ),
        ("[[sites]\n", "not valid TOML"),
    ],
)
def test_other_mistakes(tmp_path, body, message):
    with pytest.raises(SiteListError, match=None) as err:
        load_sites(_write(tmp_path, body))
    assert message in str(err.value) and str(tmp_path) in str(err.value)


def test_cli_refuses_a_bad_list_before_fetching(tmp_path):
    path = _write(tmp_path, '[[sites]]\nname = "x"\nfeeds = ["http://127.0.0.1:9/rss"]\ndeny = [\'[\']\n')
    result = newsarchive("crawl", "--sites", path, data=tmp_path / "data", check=False)
    assert result.returncode == 3
    assert f"{path}: site 'x': key 'deny': bad regex" in result.stderr
    assert not (tmp_path / "data" / "warc").exists()


def test_a_setting_naming_a_missing_component_stops_the_crawl_with_one_line(tmp_path):
    """Scrapy fails to set such a crawl up; Twisted alone would print a traceback and exit 0."""
    path = _write(tmp_path, '[[sites]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = newsarchive(
        "crawl",
        "--sites",
        path,
        "-s",
        'EXTENSIONS={"no_such_module.Extension": 0}',
        data=tmp_path / "data",
        check=False,
    )
    assert result.returncode == 3
    assert "the crawl could not start: ModuleNotFoundError: No module named 'no_such_module'" in result.stderr
    assert "Unhandled error in Deferred" not in result.stderr


def test_defaults_apply_and_domains_default_to_url_hosts(tmp_path):
    path = _write(
        tmp_path,
        "[defaults]\nmax_depth = 1\nobey_robots = false\n"
        '[[sites]]\nname = "x"\nstart_urls = ["https://www.x.test/world/"]\n'
        'sitemaps = ["https://cdn.x.test/sitemap.xml"]\n',
    )
    (site,) = load_sites(path)
    assert site.max_depth == 1 and site.obey_robots is False
    assert site.allowed_domains == ("cdn.x.test", "www.x.test")


def test_the_shipped_site_list_is_valid():
    sites = load_sites(REPO / "seeds" / "sites.toml")
    assert len(sites) >= 10
    assert sum(bool(s.feeds or s.sitemaps) for s in sites) >= len(sites) - 1  # Islam Times: no feed found


def test_article_urls_by_shape_and_by_allow(tmp_path):
    path = _write(
        tmp_path,
        '[[sites]]\nname = "x"\nstart_urls = ["https://x.test/"]\n'
        '[[sites]]\nname = "y"\nstart_urls = ["https://y.test/"]\nallow = [\'/story/\']\n',
    )
    x, y = load_sites(path)
    assert is_article_url("https://x.test/world/2024/05/03/talks-in-moscow", x)
    assert is_article_url("https://x.test/news/russia-and-china-pledge-closer-ties", x)
    assert not is_article_url("https://x.test/world/", x)
    assert is_article_url("https://y.test/story/abc", y) and not is_article_url(
        "https://y.test/2024/a-b-c-d", y
    )
    assert not is_wanted("https://x.test/tag/russia/", x)
    assert not is_wanted("https://x.test/photo.jpg", x)
    assert not is_wanted("https://elsewhere.test/news/a-b-c-d", x)
