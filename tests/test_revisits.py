"""Looking again at archived articles (issue 18): the ``revisit`` schedule, run after run.

Every crawl is a real process on a fake clock (libfaketime, tests/helpers/clock.py) against
the loopback news site, which answers ``If-None-Match`` with 304; the schedule is read from
the store (``extract`` after the first run) and the WARC files, nothing else.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.demo.site import NewsSite
from archive.warc.fields import parse_warc_date
from crawler.revisits import due_since
from crawler.sites import SiteListError, load_sites
from tests.helpers.cli import FAST, newsarchive
from tests.helpers.clock import faketime, newsarchive_at, start_at
from tests.helpers.redis import private_redis

# rss: the schedule under test; atom: an article both due and listed again in its feed, and
# refetched by `refetch_after_days` too: still one request per run, the revisit.
SITES = """
[defaults]
revisit = ["2h", "1d"]

[[sites]]
name = "rss"
feeds = ["{base}/feeds/rss.xml"]

[[sites]]
name = "atom"
feeds = ["{base}/feeds/atom.xml"]
refetch_after_days = 0
revisit = ["2h"]
"""


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    """A loopback site of this module's own: no other test adds to its feeds."""
    with NewsSite() as news_site:
        yield news_site


@pytest.fixture(scope="module")
def first_run(site: NewsSite, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The sites crawled once on the real clock and extracted: articles first seen now."""
    data = tmp_path_factory.mktemp("revisit-first")
    sites = data / "sites.toml"
    sites.write_text(SITES.format(base=site.base))
    started = datetime.now(UTC)
    newsarchive("crawl", "--sites", sites, *FAST, data=data)
    newsarchive("extract", data=data)
    return SimpleNamespace(data=data, sites=sites, started=started)


def _copy(first_run: SimpleNamespace, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(first_run.data, data)
    return data


def _crawl_at(offset: str | None, site: NewsSite, data: Path) -> SimpleNamespace:
    """One crawl at ``offset`` on the fake clock: its result, the requests the site served
    (path -> list of request headers) and the response records of the WARC files it wrote."""
    before = set((data / "warc").glob("*.warc.gz"))
    mark = len(site.served())
    result = newsarchive_at(offset, "crawl", "--sites", data / "sites.toml", *FAST, data=data)
    assert result.returncode == 0, result.stderr
    served: dict[str, list[dict[str, str]]] = {}
    for request in site.served()[mark:]:
        served.setdefault(request.path, []).append(request.headers)
    records = []
    for path in sorted(set((data / "warc").glob("*.warc.gz")) - before):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    records.append(
                        SimpleNamespace(
                            url=record.rec_headers.get_header("WARC-Target-URI"),
                            date=parse_warc_date(record.rec_headers.get_header("WARC-Date")),
                            status=int(record.http_headers.get_statuscode()),
                            discovered=record.rec_headers.get_header("NewsArchive-Discovered"),
                        )
                    )
    return SimpleNamespace(stdout=result.stdout, served=served, records=records)


def _paths(site: NewsSite, route: str) -> list[str]:
    return [page.path for page in site.articles[route]]


def _summary(crawl: SimpleNamespace) -> str:
    return next(line for line in crawl.stdout.splitlines() if line.startswith("crawl: "))


@pytest.mark.slow  # five crawler processes on the fake clock
def test_schedule_across_runs_on_a_fake_clock(site, first_run, tmp_path):
    data = _copy(first_run, tmp_path)
    rss, atom = _paths(site, "rss"), _paths(site, "atom")
    assert rss and atom

    before_first_step = _crawl_at("+1h", site, data)
    assert not set(rss) & set(before_first_step.served), "revisited before the first step"
    assert "0 articles revisited" in _summary(before_first_step)

    after_first_step = _crawl_at("+3h", site, data)
    for path in rss + atom:  # conditional, answered 304, once though atom's feed lists it again
        assert len(after_first_step.served[path]) == 1, path
        assert after_first_step.served[path][0].get("If-None-Match"), path
    revisits = [r for r in after_first_step.records if r.discovered == "revisit"]
    assert sorted(r.url for r in revisits) == sorted(site.url(p) for p in rss + atom)
    assert {r.status for r in revisits} == {304}  # the 304s are archived, with their route
    # The WARC-Date is the fake clock's, as the schedule's: three hours ahead.
    assert all(r.date - datetime.now(UTC) > timedelta(hours=2) for r in revisits)
    n = len(rss) + len(atom)
    assert f"{n} articles revisited ({n} unchanged, 304)" in _summary(after_first_step)

    second_step = _crawl_at("+2d", site, data)  # rss's "1d" step; atom has no step left
    assert all(len(second_step.served[path]) == 1 for path in rss)
    assert f"{len(rss)} articles revisited ({len(rss)} unchanged, 304)" in _summary(second_step)

    after_last_step = _crawl_at("+30d", site, data)
    assert not set(rss) & set(after_last_step.served), "revisited after the last step"
    assert "0 articles revisited" in _summary(after_last_step)


@pytest.mark.slow  # two crawler processes sharing a real Redis, two rounds
def test_a_fleet_revisits_each_due_article_once(site, first_run, tmp_path):
    """Two processes whose archives both find the same articles due: each is looked at once
    in the round, and not again in the next round by the process that did not fetch it."""
    rss, atom = _paths(site, "rss"), _paths(site, "atom")
    homes = [_copy(first_run, tmp_path / name) for name in ("a", "b")]
    share = ["-s", "CONCURRENT_REQUESTS=2", "-s", "DOWNLOAD_DELAY=0.1"]  # both get some
    with private_redis(tmp_path / "redis") as url:
        for offset in ("+3h", "+4h"):
            mark = len(site.served())
            processes = [
                start_at(
                    offset, "crawl", "--sites", home / "sites.toml", *FAST, *share, "--redis", url, data=home
                )
                for home in homes
            ]
            for process in processes:
                out, err = process.communicate(timeout=240)
                assert process.returncode == 0, f"{out}\n{err}"
            served = [r for r in site.served()[mark:] if r.path in rss + atom]
            if offset == "+3h":  # atom's are also in its feed and due by refetch_after_days
                assert sorted(r.path for r in served) == sorted(rss + atom)
                assert {r.status for r in served} == {304}
            else:  # the other process looked at them since the step: not due in the fleet
                assert not [r.path for r in served if r.path in rss]


# Twisted's reactor on the fake clock: the wall clock is shifted, timers keep their pace.
REACTOR_PROBE = """
import time
from datetime import UTC, datetime
from twisted.internet import reactor
started = time.monotonic()
def done():
    print(datetime.now(UTC).isoformat(), time.monotonic() - started)
    reactor.stop()
reactor.callLater(0.2, done)
reactor.run()
"""


def test_the_fake_clock_shifts_python_and_twisted(tmp_path):
    result = subprocess.run(
        [faketime(), "-f", "+400d", sys.executable, "-c", REACTOR_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    now, waited = result.stdout.split()
    assert datetime.fromisoformat(now) - datetime.now(UTC) > timedelta(days=399)
    assert 0.15 < float(waited) < 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"2h"', "is not a list of durations"),
        ('["2x"]', "is not a duration"),
        ('["0h"]', "is not a duration"),
        ("[2]", "is not a duration"),
        ('["999999w"]', "longer than 36,500 days"),
        ('["1d", "2h"]', "strictly increasing"),
        ('["2h", "120m"]', "strictly increasing"),
    ],
)
@pytest.mark.parametrize("where", ["site", "defaults"])
def test_bad_revisit_is_refused_at_load_naming_file_site_and_key(tmp_path, value, message, where):
    sites = tmp_path / "sites.toml"
    line = f"revisit = {value}\n"
    sites.write_text(
        ("[defaults]\n" + line if where == "defaults" else "")
        + '[[sites]]\nname = "paper"\nstart_urls = ["https://paper.example/"]\n'
        + (line if where == "site" else "")
    )
    with pytest.raises(SiteListError) as caught:
        load_sites(sites)
    text = str(caught.value)
    assert str(sites) in text and "'paper'" in text and "'revisit'" in text and message in text
    assert "\n" not in text


def test_revisit_steps_load_and_default_to_none(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[defaults]\nrevisit = ["90m", "1d", "1w"]\n'
        '[[sites]]\nname = "a"\nstart_urls = ["https://a.example/"]\n'
        '[[sites]]\nname = "b"\nstart_urls = ["https://b.example/"]\nrevisit = []\n'
    )
    a, b = load_sites(sites)
    assert a.revisit == (timedelta(minutes=90), timedelta(days=1), timedelta(weeks=1))
    assert b.revisit == ()


def test_bad_revisit_stops_the_crawl_before_any_fetch(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[sites]]\nname = "paper"\nstart_urls = ["http://127.0.0.1:9/"]\nrevisit = ["1d", "1d"]\n'
    )
    result = newsarchive("crawl", "--sites", sites, data=tmp_path / "data", check=False)
    assert result.returncode == 3
    assert "'revisit'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "warc").exists() or not any((tmp_path / "data" / "warc").iterdir())


T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = (timedelta(hours=2), timedelta(days=1))


@pytest.mark.parametrize(
    ("now", "latest", "due"),
    [
        (T0 + timedelta(hours=1), T0, None),  # before the first step
        (T0 + timedelta(hours=3), T0, T0 + STEPS[0]),  # first step passed, not looked at since
        (T0 + timedelta(hours=3), T0 + timedelta(hours=2), None),  # looked at right at the step
        (T0 + timedelta(hours=5), T0 + timedelta(hours=3), None),  # looked at since the step
        (T0 + timedelta(days=2), T0 + timedelta(hours=3), T0 + STEPS[1]),  # the next step
        (T0 + timedelta(days=30), T0 + timedelta(days=2), None),  # after the last step: never
        (T0 + timedelta(days=30), T0, T0 + STEPS[1]),  # missed steps: one look, for the latest
        (T0 + timedelta(hours=3), None, T0 + STEPS[0]),  # no capture under the URL at all
    ],
)
def test_due_since(now, latest, due):
    assert due_since(T0, latest, STEPS, now) == due
