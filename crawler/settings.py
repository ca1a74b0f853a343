"""Scrapy settings for newsarchive: polite by default, archiving everything.

Every value here can be overridden per run with ``newsarchive crawl -s KEY=VALUE`` (or
``scrapy crawl news -s KEY=VALUE``).
"""

from archive.warc import body as _body  # a module alias: Scrapy takes every UPPERCASE name here as a setting

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where WARCs, news.db, job dirs and logs live (the CLI sets it from --data).
NEWSARCHIVE_DATA = "data"

# An honest User-Agent with a way to reach the operator; set WARC_OPERATOR to yours.
USER_AGENT = "newsarchive/0.1 (+https://github.com/newsarchive/newsarchive)"
WARC_OPERATOR = ""
WARC_MAX_SIZE = 1_000_000_000  # rotate WARC files at 1 GB
WARC_DEDUP = False  # True: a payload already archived is written as a revisit record

# Politeness.
ROBOTSTXT_OBEY = True
CRAWL_DELAY_MAX = 60.0  # a robots.txt Crawl-delay above this is capped
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = _body.MAX_BODY  # also what extract, replay and the capture view decode at most
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
SITEMAP_MAX_SIZE = 64 * 1024 * 1024  # cap on a gunzipped sitemap
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10

# Archive what arrived even when the connection dropped early: the WARC middleware marks
# such a record `WARC-Truncated: disconnect`, so it is never taken for the whole page.
DOWNLOAD_FAIL_ON_DATALOSS = False

# Only http(s) is ever fetched: a file:// URL in a hostile sitemap would otherwise read the
# crawler's own disk into the archive. (The spider refuses other schemes too; this is the
# second lock.)
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# Ask only for codings every WARC tool can undo: gzip and deflate. Scrapy's default also
# offers zstd, which warcio cannot decode, and br, which warcio 1.8.1 decodes only with the
# long-unmaintained brotlipy (with Brotli >= 1.1, which Scrapy requires, `warcio check`
# crashes on a br record: Decompressor has no attribute unused_data).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

DOWNLOADER_MIDDLEWARES = {
    # At the downloader end: sees responses as received, before decompression/redirects.
    "crawler.middlewares.WarcArchiveMiddleware": 950,
    # Right after RobotsTxtMiddleware (100): robots.txt Crawl-delay, applied.
    "crawler.politeness.RobotsCrawlDelayMiddleware": 110,
    # Right before HttpCompressionMiddleware (590): no charset guessing on gzipped bodies.
    "crawler.compressed.CompressedBodyMiddleware": 595,
}
DUPEFILTER_CLASS = "crawler.dupefilter.ArchiveDupeFilter"
# The archive's index (crawler.index.ArchiveIndexExtension), which the spider, the dupefilter
# and the middlewares share, is enabled by the spider itself, so that a -s EXTENSIONS=...
# (which replaces this project's dict) keeps it.

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 60.0
FEED_EXPORT_ENCODING = "utf-8"
