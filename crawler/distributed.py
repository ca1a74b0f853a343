"""Several crawler processes, on any machines, sharing one crawl frontier in Redis.

Turned on by ``REDIS_URL`` (``newsarchive crawl --redis URL``): the ``RedisFrontier``
add-on swaps in scrapy-redis's scheduler (the request queue in Redis) with the pieces
scrapy-redis lacks for this archive:

- ``FleetDupeFilter``: scrapy-redis's shared seen set, plus the archive's rule that an
  article already archived is not fetched again (``crawler/dupefilter.py``), across the
  fleet: every process adds what its own archive holds to one Redis hash at open and
  the articles it fetches as it goes (in batches). Revisits (``crawler/revisits.py``),
  which each process finds due in its own archive, are queued once per round (the seen
  set) and skipped when any process has looked at the article since the step they are
  due for (a second hash, of the revisits answered).
- ``FleetScheduler``: remembers, per process, the requests it has taken from the queue
  and not finished (a Redis hash, beside a heartbeat key that expires when the process
  stops). A live process puts a dead one's requests back on the queue: plain
  scrapy-redis loses them, since they are already in the seen set. A process stays
  while others still have requests in flight (their pages may yield more), and start
  pages, feeds and sitemaps, which every process yields, are fetched once per round.
- ``InflightMiddleware``: tells the scheduler when a request is finished, i.e. when its
  callback's output (new requests included) has been handed over.

A round ends when its last process leaves with the queue empty: the seen set is cleared
so the next run fetches start pages and sections again, as a single process would.
Each process writes its own WARC files (named by host and pid) in its own data dir.

Speed: every Redis command is a round trip that stalls this process's event loop, so a
process asks Redis once per URL it meets (not once per link: it remembers what it has
asked), takes requests from the queue in batches (recorded as in flight in the same
step), and sends the writes nobody waits for (finished requests, fetched articles) with
its next round trip. An idle process looks at the queue every ``NEWSARCHIVE_FLEET_POLL``
seconds, not Scrapy's 5, so a process that starts before the queue fills, or runs dry
for a moment, starts fetching as soon as there is work.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime

import scrapy
from scrapy import Request, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy_redis.dupefilter import RFPDupeFilter as RedisDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from archive.warc.fields import WARC_DATE
from crawler.dupefilter import archived_fingerprints, known_article

logger = logging.getLogger(__name__)

KEY_PREFIX = "newsarchive:%(spider)s"
INFLIGHT_META = "newsarchive_inflight"  # the token of a request taken from the queue

# Keep the later date of a URL's fetch (seeding from many archives, in any order).
SET_IF_LATER = """
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or current < ARGV[i + 1] then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
"""
# Queue a request unless the fleet has seen it; one round trip for what scrapy-redis does
# in two (SADD to the seen set, ZADD to the queue), or three with the archive check.
# KEYS: seen set, queue, known articles, revisited articles. ARGV: fingerprint, score,
# encoded request, "1" for an article to look up first: if it was archived, its date is
# returned instead (whether it is due again is decided by the caller), and for a revisit
# the time of the step it is due for: if any process has fetched the article since (a
# revisit of any status, or a 2xx), 2 is returned and nothing queued. Returns 1 if queued,
# 0 if seen.
QUEUE_UNLESS_SEEN = """
if ARGV[4] == '1' then
  local fetched = redis.call('HGET', KEYS[3], ARGV[1])
  if fetched then return fetched end
end
if ARGV[5] ~= '' then
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    local last = redis.call('HGET', key, ARGV[1])
    if last and last >= ARGV[5] then return 2 end
  end
end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# Remove the tokens of finished requests (ARGV[2..]) from this process's in-flight hash,
# then take up to ARGV[1] requests from the queue, highest priority first, recording each
# in flight under the SHA-1 of its encoding: in one step, so a process killed at any
# moment has every request it took recorded. KEYS: queue (a sorted set), in-flight hash.
TAKE = """
for i = 2, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
local n = tonumber(ARGV[1])
if n < 1 then return {} end
local taken = redis.call('ZRANGE', KEYS[1], 0, n - 1)
if #taken > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #taken - 1) end
for _, data in ipairs(taken) do redis.call('HSET', KEYS[2], redis.sha1hex(data), data) end
return taken
"""
# Join the fleet: the first process of a new round (no one else, nothing queued) clears
# the last round's seen sets. KEYS: workers, queue, seen, sources, heartbeat.
JOIN = """
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3], KEYS[4])
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[5], '1', 'EX', ARGV[2])
"""
# Leave it: the last one out with nothing queued ends the round.
LEAVE = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[5])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3], KEYS[4])
end
"""


class RedisUnavailable(Exception):
    """The Redis given for the frontier does not answer."""


def check_redis(url: str) -> None:
    """Fail before crawling, with a clear message, when the fleet's Redis is not there."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailable(f"cannot use Redis at {url}: {exc}") from None


class RedisFrontier:
    """Scrapy add-on: with ``REDIS_URL`` set, the frontier and seen set live in Redis."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("REDIS_URL"):
            return
        # "spider" priority: above the project's DUPEFILTER_CLASS, below `-s KEY=VALUE`.
        for key, value in {
            "SCHEDULER": f"{__name__}.FleetScheduler",
            "DUPEFILTER_CLASS": f"{__name__}.FleetDupeFilter",
            # scrapy-redis's default (False) lets the first process to finish clear the shared queue.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
            "SCHEDULER_QUEUE_KEY": f"{KEY_PREFIX}:requests",
            # A sorted set: TAKE, JOIN and LEAVE read it as one.
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_DUPEFILTER_KEY": f"{KEY_PREFIX}:seen",
        }.items():
            settings.set(key, value, priority="spider")
        settings.setdefault("NEWSARCHIVE_HEARTBEAT", 5.0)  # seconds between a process's signs of life
        settings.setdefault("NEWSARCHIVE_WORKER_TIMEOUT", 30)  # silent this long: dead, its requests requeued
        settings.setdefault("NEWSARCHIVE_FLEET_TAKE", 8)  # requests taken from the queue per round trip
        settings.setdefault("NEWSARCHIVE_FLEET_POLL", 0.25)  # s between an idle process's looks at the queue
        # Outermost, so it sees a callback's output after every other middleware.
        settings["SPIDER_MIDDLEWARES"][f"{__name__}.InflightMiddleware"] = 1
        # Below RetryMiddleware: sees only the failures no retry will follow.
        settings["DOWNLOADER_MIDDLEWARES"][f"{__name__}.InflightMiddleware"] = 1


def _keys(spider_name: str) -> dict[str, str]:
    prefix = KEY_PREFIX % {"spider": spider_name}
    return {
        "workers": f"{prefix}:workers",  # set of worker ids
        "archived": f"{prefix}:archived",  # article fingerprint -> date of its latest 2xx fetch
        "revisited": f"{prefix}:revisited",  # article fingerprint -> date of its latest revisit answer
        "sources": f"{prefix}:sources",  # fingerprints of the dont_filter requests of this round
    }


class FleetDupeFilter(RedisDupeFilter):
    """scrapy-redis's shared seen set, with the archive's known articles (fleet-wide) in front.

    Asks Redis once per URL, not once per link to it: a fingerprint this process has added
    to the shared seen set can only be "seen" from then on (the set is cleared only when
    the fleet's last process leaves), and an article found archived stays archived. The
    question and the queueing go in one round trip (``queue_unless_seen``).
    """

    FETCHED_BATCH = 100  # articles fetched here, written to the fleet's known articles at once

    def __init__(self, server, key: str, crawler: Crawler, debug: bool = False) -> None:
        super().__init__(server, key, debug=debug)
        self.crawler = crawler
        keys = _keys(crawler.spidercls.name)
        self.archived_key, self.revisited_key = keys["archived"], keys["revisited"]
        self.set_if_later = server.register_script(SET_IF_LATER)
        self.queue_script = server.register_script(QUEUE_UNLESS_SEEN)
        self.added: set[str] = set()  # fingerprints this process has put in the shared seen set
        self.archived: dict[str, str] = {}  # fleet's known articles met so far -> date fetched
        self.fetched: dict[str, str] = {}  # articles fetched here, not yet written to Redis
        self.revisited: dict[str, str] = {}  # revisits answered here (any status), not yet written
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FleetDupeFilter:
        from scrapy_redis.connection import get_redis_from_settings

        settings = crawler.settings
        key = settings.get("SCHEDULER_DUPEFILTER_KEY") % {"spider": crawler.spidercls.name}
        return cls(get_redis_from_settings(settings), key, crawler, settings.getbool("DUPEFILTER_DEBUG"))

    def open(self) -> None:
        """Add what this process's archive holds to the fleet's known articles."""
        self._write_archived({fp.hex(): date for fp, date in archived_fingerprints(self.crawler).items()})

    def _write_archived(self, dates: dict[str, str], key: str | None = None) -> None:
        pairs = list(dates.items())
        for start in range(0, len(pairs), 1000):
            args = [v for pair in pairs[start : start + 1000] for v in pair]
            self.set_if_later(keys=[key or self.archived_key], args=args)

    def flush(self) -> None:
        """Write the articles fetched and revisited here since the last flush to the fleet's
        hashes: a later round's revisit is then skipped by every process, whichever archive
        (each process has its own) still finds it due."""
        fetched, self.fetched = self.fetched, {}
        self._write_archived(fetched)
        revisited, self.revisited = self.revisited, {}
        self._write_archived(revisited, self.revisited_key)

    def request_fingerprint(self, request: Request) -> str:
        """Scrapy's fingerprint (scrapy-redis has its own): one notion of "the same request"."""
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def queue_unless_seen(self, request: Request, queue: PriorityQueue) -> bool:
        """scrapy-redis's ``request_seen`` and ``queue.push`` at once; False: not queued."""
        fp = self.request_fingerprint(request)
        if fp in self.added:
            return False
        since = request.meta.get("revisit_since", "")  # a revisit: known, due since this step
        look_up = bool(request.meta.get("article")) and not since and fp not in self.archived
        if fp in self.archived and known_article(request, self.archived[fp], self.crawler):
            return False
        keys = [self.key, queue.key, self.archived_key, self.revisited_key]
        args = [fp, -request.priority, queue._encode_request(request)]
        answer = self.queue_script(keys=keys, args=[*args, int(look_up), since])
        if isinstance(answer, bytes):  # archived: known, or due again
            self.archived[fp] = answer.decode()
            if known_article(request, self.archived[fp], self.crawler):
                return False
            answer = self.queue_script(keys=keys, args=[*args, 0, since])
        if answer == 2:  # another process has looked at it since the step: not in the seen set
            self.crawler.stats.inc_value("newsarchive/fleet/revisits_done_elsewhere")
            return False
        self.added.add(fp)
        return answer == 1

    def response_received(self, response: Response, request: Request) -> None:
        now = datetime.now(UTC).strftime(WARC_DATE)
        if request.meta.get("article") and 200 <= response.status < 300:
            self.fetched[self.request_fingerprint(request)] = now
        if request.meta.get("revisit"):  # any status: a 304 is a look at it too
            self.revisited[self.request_fingerprint(request)] = now
        if len(self.fetched) + len(self.revisited) >= self.FETCHED_BATCH:
            self.flush()

    def close(self, reason: str = "") -> None:
        """Keep the shared seen set: the round ends when the fleet's last process leaves."""


def set_engine_heartbeat(engine: ExecutionEngine, seconds: float) -> None:
    """Make an idle engine ask the scheduler for requests every ``seconds``.

    Scrapy's engine does so only on its heartbeat, every 5 s, with no setting for it; a
    fleet process is idle whenever the shared queue is (at start, and while the others'
    pages are being parsed). The interval is a private attribute, read when the engine
    starts (after the scheduler is built): if an upgrade removes it, setting it would
    silently do nothing, so fail instead.
    """
    if not hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
        raise RuntimeError(
            f"Scrapy {scrapy.__version__}'s engine has no _SLOT_HEARTBEAT_INTERVAL: the fleet cannot"
            " shorten its idle poll (NEWSARCHIVE_FLEET_POLL); see crawler/distributed.py"
        )
    engine._SLOT_HEARTBEAT_INTERVAL = seconds


class FleetScheduler(RedisScheduler):
    """scrapy-redis's scheduler, with each process's in-flight requests kept in Redis."""

    def __init__(self, server, crawler: Crawler, **kwargs) -> None:
        super().__init__(server, **kwargs)
        self.crawler = crawler
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.keys = _keys(crawler.spidercls.name)
        settings = crawler.settings
        self.heartbeat_every = settings.getfloat("NEWSARCHIVE_HEARTBEAT")
        self.timeout = settings.getint("NEWSARCHIVE_WORKER_TIMEOUT")
        self.take_size = max(1, settings.getint("NEWSARCHIVE_FLEET_TAKE"))
        self.join, self.leave = server.register_script(JOIN), server.register_script(LEAVE)
        self.take = server.register_script(TAKE)
        self.taken: deque[Request] = deque()  # taken (so recorded in flight), not yet handed out
        self.done: list[str] = []  # tokens of requests finished, still in the in-flight hash
        self.beat = task.LoopingCall(self._heartbeat)
        set_engine_heartbeat(crawler.engine, settings.getfloat("NEWSARCHIVE_FLEET_POLL"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FleetScheduler:
        plain = RedisScheduler.from_settings(crawler.settings)  # scrapy-redis reads its settings here
        dupefilter = FleetDupeFilter.from_crawler(crawler)
        scheduler = cls(
            plain.server,
            crawler,
            persist=plain.persist,
            flush_on_start=plain.flush_on_start,
            queue_key=plain.queue_key,
            queue_cls=plain.queue_cls,
            dupefilter=dupefilter,
            dupefilter_key=plain.dupefilter_key,
            idle_before_close=plain.idle_before_close,
            serializer=plain.serializer,
        )
        scheduler.stats = crawler.stats
        return scheduler

    def _key(self, kind: str, worker: str | None = None) -> str:
        return f"{self.keys['workers']}:{worker or self.worker}:{kind}"

    def _round_keys(self, worker: str | None = None) -> list[str]:
        return [
            self.keys["workers"],
            self.queue.key,
            self.df.key,
            self.keys["sources"],
            self._key("alive", worker),
        ]

    def open(self, spider) -> None:
        super().open(spider)
        self.df.open()
        self._reap_dead()
        self.join(keys=self._round_keys(), args=[self.worker, self.timeout])
        logger.info("joined the crawl fleet as %s (%d requests queued)", self.worker, len(self.queue))
        self.beat.start(self.heartbeat_every, now=False)

    def close(self, reason: str) -> None:
        if self.beat.running:
            self.beat.stop()
        self.df.flush()
        if reason == "finished":
            self.server.delete(self._key("inflight"))
        else:  # stopped early: what it had taken and not finished goes back for the others
            self._take(0)
            self._requeue(self._key("inflight"), self.worker)
        self.leave(keys=self._round_keys(), args=[self.worker])
        super().close(reason)

    # -- the queue -----------------------------------------------------------------

    def next_request(self) -> Request | None:
        if not self.taken:
            self._take(self.take_size)
        if not self.taken:
            return None
        self.stats.inc_value("scheduler/dequeued/redis", spider=self.spider)
        return self.taken.popleft()

    def _take(self, count: int) -> None:
        """Take up to ``count`` requests from the queue; first forget the finished ones."""
        done, self.done = self.done, []
        for data in self.take(keys=[self.queue.key, self._key("inflight")], args=[count, *done]):
            request = self.queue._decode_request(data)
            request.meta[INFLIGHT_META] = hashlib.sha1(data).hexdigest()  # its field in the in-flight hash
            self.taken.append(request)

    def enqueue_request(self, request: Request) -> bool:
        token = request.meta.pop(INFLIGHT_META, None)  # a retry or redirect of a request taken
        if token is None and request.dont_filter:
            # Sources every process yields at start: once per round across the fleet.
            if not self.server.sadd(self.keys["sources"], self.df.request_fingerprint(request)):
                self.stats.inc_value("newsarchive/fleet/sources_already_queued")
                return False
        if request.dont_filter:
            queued = super().enqueue_request(request)
        elif queued := self.df.queue_unless_seen(request, self.queue):
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        else:
            self.df.log(request, self.spider)
        if token is not None:
            self.finished(token)
        return queued

    def finished(self, token: str) -> None:
        self.done.append(token)  # removed from the in-flight hash with the next round trip

    def has_pending_requests(self) -> bool:
        """Asked by the engine when this process is idle: is there, or may there be, more?"""
        if self.taken or len(self.queue):
            return True
        # Idle here means nothing of ours is in flight: whatever is left is a leftover.
        self.done.clear()
        self.server.delete(self._key("inflight"))
        self._reap_dead()
        if len(self.queue):
            return True
        others = [w.decode() for w in self.server.smembers(self.keys["workers"]) if w.decode() != self.worker]
        return any(self.server.hlen(self._key("inflight", other)) for other in others)

    # -- the fleet -----------------------------------------------------------------

    def _heartbeat(self) -> None:
        self.server.set(self._key("alive"), "1", ex=self.timeout)
        self.server.sadd(self.keys["workers"], self.worker)
        if self.done:
            self._take(0)
        self.df.flush()
        self._reap_dead()

    def _reap_dead(self) -> None:
        for member in self.server.smembers(self.keys["workers"]):
            other = member.decode()
            if other != self.worker and not self.server.exists(self._key("alive", other)):
                self._requeue(self._key("inflight", other), other)
                self.server.srem(self.keys["workers"], other)

    def _requeue(self, inflight_key: str, worker: str) -> None:
        """Put a worker's in-flight requests back on the queue (once: the hash is renamed first)."""
        taken = f"{inflight_key}:requeue:{self.worker}"
        try:
            self.server.rename(inflight_key, taken)
        except Exception as exc:  # redis.ResponseError: no such key, nothing in flight
            if "no such key" not in str(exc).lower():
                raise
            return
        encoded = list(self.server.hvals(taken))
        for data in encoded:
            self.queue.push(self.queue._decode_request(data))
        self.server.delete(taken)
        if worker != self.worker:
            logger.warning(
                "crawl process %s stopped answering: %d of its requests requeued", worker, len(encoded)
            )
        self.stats.inc_value("newsarchive/fleet/requeued", len(encoded))


class InflightMiddleware:
    """Spider and downloader middleware: marks a taken request finished in the fleet scheduler,
    which it finds as the engine's ``scheduler`` (public since Scrapy 2.19)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> InflightMiddleware:
        return cls(crawler)

    def _finished(self, request: Request | None) -> None:
        if request is None or (token := request.meta.get(INFLIGHT_META)) is None:
            return
        scheduler = self.crawler.engine.scheduler
        if isinstance(scheduler, FleetScheduler):  # it is: only FleetScheduler gives out tokens
            scheduler.finished(token)

    def process_spider_output(self, response: Response, result: Iterable) -> Iterator:
        try:
            yield from result
        finally:  # everything the callback yielded is queued now
            self._finished(response.request)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator) -> AsyncIterator:
        try:
            async for item in result:
                yield item
        finally:
            self._finished(response.request)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self._finished(response.request)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._finished(request)  # a download failure no retry follows: its errback yields nothing
