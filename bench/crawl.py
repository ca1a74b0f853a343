"""Crawl speed: newsarchive against a bare Scrapy CrawlSpider on the same loopback site.

    .venv/bin/python -m bench.crawl --pages 2000 --runs 3
    .venv/bin/python -m bench.crawl --pages 10000 --runs 1 --keep /tmp/warcs-10k

Generates a news site of N articles (bench/site.py), serves it with nginx on 127.0.0.1,
and runs, alternating, in fresh processes and fresh data dirs:

- ``baseline``: ``scrapy runspider bench/baseline_spider.py`` (Rule(LinkExtractor(),
  follow=True), no archiving);
- ``newsarchive``: ``newsarchive crawl`` with full WARC archiving;
- ``no-archive``: ``newsarchive crawl`` with the WARC middleware switched off, to show
  what archiving costs.

Each gets the same concurrency and no politeness delay (it is our own loopback server).
Prints pages/s, CPU ms per page, peak RSS, the ratios, and nginx's own CPU time per page
to show the server is not the bottleneck. Figures depend on the machine's load, which is
printed with them. ``--profile DIR`` adds one cProfile run of each variant (DIR/<variant>.prof).

Archiving's share is a few percent of a page's CPU, less than two crawls on a busy machine
differ by, so it is also measured alone, in this process: the WARC middleware handed each
article as fetched from nginx (body still gzipped), then the crawl's read-back check of the
files, CPU time per page set against the no-archive crawls' CPU per page of the same run.
"""

from __future__ import annotations

import json
import pstats
import re
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

from scrapy.http import Headers, Request, Response
from scrapy.utils.test import get_crawler

from archive.warc.verify import verify
from bench.common import (
    PYTHON,
    REPO,
    CrawlRun,
    check,
    crawl_arguments,
    header,
    load,
    median,
    run_measured,
    spread,
)
from bench.site import Nginx, Site, serve_site
from crawler import settings as project_settings
from crawler.middlewares import WarcArchiveMiddleware

# The same for every variant: no politeness delay on loopback, same parallelism.
SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "TELNETCONSOLE_ENABLED": "False",
    "LOG_LEVEL": "INFO",
}
# -s DOWNLOADER_MIDDLEWARES replaces the project's whole dict: keep every other middleware.
NO_ARCHIVE = "DOWNLOADER_MIDDLEWARES=" + json.dumps(
    {**project_settings.DOWNLOADER_MIDDLEWARES, "crawler.middlewares.WarcArchiveMiddleware": None}
)
VARIANTS = ("baseline", "newsarchive", "no-archive")
STAT = re.compile(r"'(response_received_count|elapsed_time_seconds|downloader/response_bytes)': ([\d.]+)")


@dataclass
class Run(CrawlRun):
    crawl_seconds: float  # Scrapy's elapsed_time_seconds: the crawl without process start and exit
    max_rss_mb: float
    nginx_cpu: float


def sites_toml(site: Site) -> str:
    base = site.base_url
    return (
        f'[[sites]]\nname = "bench"\nstart_urls = ["{base}/"]\nfeeds = ["{base}/feed.xml"]\n'
        f'sitemaps = ["{base}/sitemap.xml"]\n'
    )


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("-s", f"{key}={value}")]


def command(variant: str, site: Site, data: Path, sites_file: Path) -> list[str]:
    if variant == "baseline":
        spider = REPO / "bench" / "baseline_spider.py"
        return [
            PYTHON,
            "-m",
            "scrapy",
            "runspider",
            spider,
            "-a",
            f"start={site.base_url}/",
        ] + _settings_args(SETTINGS)
    args = [PYTHON, "-m", "archive", "crawl", "--sites", sites_file, "--data", data]
    args += _settings_args(SETTINGS)
    if variant == "no-archive":
        args += ["-s", NO_ARCHIVE]
    return args


def _stats(text: str) -> dict[str, float]:
    return {key: float(value) for key, value in STAT.findall(text)}


def run_variant(variant: str, site: Site, nginx: Nginx, work: Path, timeout: float) -> tuple[Run, Path]:
    data = Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work))
    sites_file = work / "sites.toml"
    before = nginx.cpu_seconds()
    # The baseline runs outside the repository: in it, scrapy.cfg would give it newsarchive's settings.
    cwd = work if variant == "baseline" else REPO
    measured = check(run_measured(command(variant, site, data, sites_file), timeout, cwd=cwd), variant)
    nginx_cpu = nginx.cpu_seconds() - before
    log = measured.stderr + "".join(p.read_text() for p in (data / "logs").glob("*.log"))
    stats = _stats(log)
    if "response_received_count" not in stats:
        raise RuntimeError(f"{variant}: no Scrapy stats in its log:\n{log[-3000:]}")
    run = Run(
        variant=variant,
        pages=int(stats["response_received_count"]),
        wall=measured.wall,
        cpu=measured.cpu,
        crawl_seconds=stats.get("elapsed_time_seconds", measured.wall),
        max_rss_mb=measured.max_rss_mb,
        nginx_cpu=nginx_cpu,
    )
    return run, data


def profile_variant(variant: str, site: Site, work: Path, out_dir: Path, top: int) -> None:
    """One run of ``variant`` under cProfile (in this process's child), printing where time goes."""
    data = Path(tempfile.mkdtemp(prefix=f"profile-{variant}-", dir=work))
    out = out_dir / f"{variant}.prof"
    args = command(variant, site, data, work / "sites.toml")
    args = [PYTHON, "-m", "cProfile", "-o", out, *args[1:]]
    check(run_measured(args, timeout=3600, cwd=work if variant == "baseline" else REPO), f"profile {variant}")
    stats = pstats.Stats(str(out))
    total = stats.total_tt
    print(f"\n-- profile of {variant}: {total:.1f} s under cProfile (wall clock); top {top} by own time")
    stats.sort_stats("tottime").print_stats(top)
    print(f"-- {variant}: top {top} by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"-- {variant}: the costs issue 6 asks about, cumulative, share of the {total:.1f} s")
    for label, seconds in breakdown(stats).items():
        print(f"   {label:<58} {seconds:7.2f} s {100 * seconds / total:5.1f}%")


# (path ending, function name) of what the profile breakdown adds up; none of them recurses.
BREAKDOWN = {
    "WARC middleware: records built, compressed, written": ("crawler/middlewares.py", "process_response"),
    "  of which the writer: records, digests, gzip": ("archive/warc/writer.py", "write_exchange"),
    "read-back check of the WARC files (verify)": ("archive/warc/verify.py", "verify"),
    "HttpCompression: gunzip and response replace": ("httpcompression.py", "process_response"),
    "charset detection (TextResponse, from the body)": ("response/text.py", "_body_inferred_encoding"),
    "link extraction (LxmlLinkExtractor.extract_links)": ("linkextractors/lxmlhtml.py", "extract_links"),
}


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of each BREAKDOWN entry in a profile."""
    found = dict.fromkeys(BREAKDOWN, 0.0)
    for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items():
        for label, (ending, function) in BREAKDOWN.items():
            if name == function and path.endswith(ending):
                found[label] += cumulative
    return found


def fetched_articles(site: Site) -> list[tuple[Request, Response]]:
    """Every article as a crawl hands it to the WARC middleware: fetched from nginx with the
    crawl's request headers, nginx's response headers, the body still gzipped."""
    headers = {
        **project_settings.DEFAULT_REQUEST_HEADERS,
        "User-Agent": project_settings.USER_AGENT,
        "Referer": f"{site.base_url}/",
    }
    pairs = []
    for path in site.articles:
        url = site.base_url + path
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as reply:
            body, reply_headers = reply.read(), Headers(list(reply.headers.items()))
        request = Request(
            url, headers=headers, meta={"site": "bench", "route": "link", "found_on": headers["Referer"]}
        )
        response = Response(
            url,
            reply.status,
            reply_headers,
            body,
            request=request,
            ip_address=ip_address("127.0.0.1"),
            protocol="HTTP/1.1",
        )
        pairs.append((request, response))
    return pairs


@dataclass
class ArchiveCost:
    """CPU seconds of archiving a site's articles in this process."""

    pages: int
    write: float  # WarcArchiveMiddleware.process_response for each, then closing the file
    check: float  # the crawl's read-back check of the files written (verify, digests=False)

    def ms_per_page(self) -> float:
        return 1000 * (self.write + self.check) / self.pages


def archive_cost(pairs: list[tuple[Request, Response]], work: Path) -> ArchiveCost:
    """Archive ``pairs`` as a crawl does, timed with this process's CPU clock."""
    data = Path(tempfile.mkdtemp(prefix="archive-cost-", dir=work))
    settings = {"NEWSARCHIVE_DATA": str(data), "WARC_MAX_SIZE": project_settings.WARC_MAX_SIZE}
    middleware = WarcArchiveMiddleware(get_crawler(settings_dict=settings))
    started = time.process_time()
    for request, response in pairs:
        middleware.process_response(request, response)
    files = middleware.writer.close()
    written = time.process_time()
    errors = [error for path in files for error in verify(path, digests=False)]
    checked = time.process_time()
    shutil.rmtree(data, ignore_errors=True)
    if errors:
        raise RuntimeError(f"the files archived do not read back: {errors[:3]}")
    return ArchiveCost(len(pairs), written - started, checked - written)


def report_archive_cost(costs: list[ArchiveCost], runs: list[Run]) -> None:
    print(
        f"archiving alone, in this process ({len(costs)} runs over {costs[0].pages} articles):"
        f" middleware {spread([1000 * c.write / c.pages for c in costs], 3)} +"
        f" read-back check {spread([1000 * c.check / c.pages for c in costs], 3)}"
        f" = {spread([c.ms_per_page() for c in costs], 3)} CPU ms/page"
    )
    no_archive = [r.cpu_ms_per_page for r in runs if r.variant == "no-archive"]
    if no_archive:
        share = median([c.ms_per_page() for c in costs]) / median(no_archive)
        print(f"   {100 * share:.1f}% of no-archive's {median(no_archive):.2f} CPU ms/page (target <= 5%)")


def report(runs: list[Run], site: Site) -> None:
    print(
        f"\n{'variant':<12} {'pages':>6} {'wall s':>16} {'pages/s':>18} {'crawl pages/s':>18}"
        f" {'CPU ms/page':>18} {'peak RSS MB':>18} {'nginx CPU ms/page':>18}"
    )
    by_variant = {v: [r for r in runs if r.variant == v] for v in VARIANTS}
    for variant, rs in by_variant.items():
        if not rs:
            continue
        print(
            f"{variant:<12} {int(median([r.pages for r in rs])):>6} {spread([r.wall for r in rs]):>16}"
            f" {spread([r.pages_per_s for r in rs]):>18}"
            f" {spread([r.pages / r.crawl_seconds for r in rs]):>18}"
            f" {spread([r.cpu_ms_per_page for r in rs], 2):>18} {spread([r.max_rss_mb for r in rs], 0):>18}"
            f" {spread([1000 * r.nginx_cpu / r.pages for r in rs], 2):>18}"
        )

    def med(variant: str, attr: str) -> float:
        return median([getattr(r, attr) for r in by_variant[variant]])

    print("   (median of the runs, min–max in brackets; pages/s = responses / wall time of the command)")
    if by_variant["baseline"] and by_variant["newsarchive"]:
        ratio = med("newsarchive", "pages_per_s") / med("baseline", "pages_per_s")
        print(f"newsarchive / baseline pages/s: {ratio:.2f}x  (target >= 1.5x)")
        cpu = med("newsarchive", "cpu_ms_per_page") / med("baseline", "cpu_ms_per_page")
        print(f"newsarchive / baseline CPU per page: {cpu:.2f}x")
    if by_variant["newsarchive"] and by_variant["no-archive"]:
        cost_cpu = med("newsarchive", "cpu_ms_per_page") / med("no-archive", "cpu_ms_per_page") - 1
        cost_rate = 1 - med("newsarchive", "pages_per_s") / med("no-archive", "pages_per_s")
        print(
            f"archiving costs {100 * cost_cpu:+.1f}% CPU per page and {100 * cost_rate:+.1f}% pages/s "
            "(target <= 5%)"
        )
    if by_variant["newsarchive"]:
        rss = max(r.max_rss_mb for r in by_variant["newsarchive"])
        print(
            f"newsarchive peak RSS: {rss:.0f} MB at {len(site.articles)} articles"
            " (target <= 250 MB at 10,000)"
        )
    busiest = max(runs, key=lambda r: r.nginx_cpu / r.wall)
    busy = 100 * busiest.nginx_cpu / busiest.wall
    print(
        f"nginx (1 worker, pre-gzipped files) was busy at most {busy:.1f}% of one core"
        f" (in a {busiest.variant} run): it is not the bottleneck"
    )
    print(f"   {load()} (at the end)")


def main(argv: list[str] | None = None) -> list[Run]:
    parser = crawl_arguments(__doc__, runs=3)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS)
    )
    parser.add_argument("--keep", type=Path, help="keep the last newsarchive run's data dir (WARCs) here")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="add one cProfile run of each variant, kept in DIR/<variant>.prof",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        work = Path(tmp)
        site, nginx = serve_site(work / "site", args.pages)
        (work / "sites.toml").write_text(sites_toml(site))
        header(
            "crawl benchmark",
            site=f"{site.pages} HTML pages at {site.base_url}",
            articles=f"{len(site.articles)}, {site.html_bytes / len(site.articles) / 1024:.0f} KB"
            f" and {site.links_per_article:.0f} <a href> each on average",
            runs=f"{args.runs} of each of {', '.join(variants)}, alternating; settings {SETTINGS}",
        )
        runs: list[Run] = []
        with nginx:
            for number in range(args.runs):
                for variant in variants:
                    run, data = run_variant(variant, site, nginx, work, args.timeout)
                    runs.append(run)
                    print(
                        f"run {number + 1} {variant:<12} {run.pages:>6} pages {run.wall:7.1f} s"
                        f" {run.pages_per_s:7.1f} pages/s {run.cpu_ms_per_page:6.2f} CPU ms/page"
                        f" {run.max_rss_mb:5.0f} MB peak RSS; {load()}",
                        flush=True,
                    )
                    if variant == "newsarchive" and args.keep and number == args.runs - 1:
                        shutil.rmtree(args.keep, ignore_errors=True)
                        shutil.copytree(data, args.keep)
                    shutil.rmtree(data, ignore_errors=True)
            if runs:
                report(runs, site)
            if "newsarchive" in variants:
                pairs = fetched_articles(site)
                costs = [archive_cost(pairs, work) for _ in range(max(3, args.runs))]
                report_archive_cost(costs, runs)
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                for variant in variants:
                    profile_variant(variant, site, work, args.profile, top=25)
        if args.keep:
            print(f"kept the last newsarchive run's data (WARCs) in {args.keep}")
    return runs


if __name__ == "__main__":
    main()
