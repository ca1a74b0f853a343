"""What the archive already holds, by URL: the one scan a crawl or replay makes of it.

Built from the store's captures and from the WARC records the store has not read yet (a
crawl run without an extract after it), so it is right even before ``extract`` runs.
The crawler uses it to skip known articles, to send conditional requests, to write
revisit records, and (``newsarchive replay``) to answer requests without the network.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import NamedTuple

from archive.store.files import FileTable
from archive.store.readonly import DB_NAME, open_readonly
from archive.warc.files import OPEN_SUFFIX, list_warc_files
from archive.warc.reader import WarcRecord, iter_records, read_record_at

logger = logging.getLogger(__name__)


class Capture(NamedTuple):
    date: str  # WARC-Date
    file: str
    offset: int
    status: int | None


class ArchiveIndex:
    def __init__(self, data_dir: Path) -> None:
        self.warc_dir = data_dir / "warc"
        self.latest: dict[str, Capture] = {}  # url -> its latest capture
        self.latest_ok: dict[str, Capture] = {}  # url -> its latest 2xx capture
        self.payloads: dict[str, tuple[str, str]] = {}  # payload digest -> (url, date) of its first 200
        self.db_path = data_dir / DB_NAME
        self.store_problem: str | None = None  # why the store could not be read, if it could not
        files = FileTable([])
        try:
            conn = open_readonly(data_dir / DB_NAME)
        except sqlite3.Error as exc:  # a directory, or no permission to read it
            conn = None
            self._unusable(data_dir / DB_NAME, exc)
        if conn is not None:
            try:
                for row in conn.execute(
                    "SELECT url, fetched_at, warc_file, warc_offset, status, payload_digest FROM captures"
                    " ORDER BY fetched_at"
                ):
                    self._add(*row)
                files = FileTable.of(conn)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # a store without tables yet is fine
                    self._unusable(data_dir / DB_NAME, exc)
            except sqlite3.DatabaseError as exc:  # corrupt: the crawl still archives, to WARC
                self._unusable(data_dir / DB_NAME, exc)
            finally:
                conn.close()
        self.paths = {name: Path(row["path"]) for name, row in files.rows.items() if row.get("path")}
        for path in list_warc_files(self.warc_dir):
            known = files.match(path)  # the store's name for the file, and how far it has read it
            self.paths[known.name] = path
            for record in iter_records(path, known.read_to, with_payload=False, digests=False):
                record.file = known.name
                if record.type in ("response", "revisit"):
                    self._add(
                        record.url,
                        record.date,
                        record.file,
                        record.offset,
                        record.status,
                        record.headers.get("WARC-Payload-Digest") if record.type == "response" else None,
                    )

    def first_seen(self, site: str, until: str) -> list[tuple[str, str]]:
        """(URL, first seen) of the store's articles of ``site`` first seen no later than
        ``until`` (an ISO time): what the revisit schedule starts from. Asked per site, as
        the schedule needs it, rather than held for every article of the archive."""
        if self.store_problem is not None:
            return []
        try:
            conn = open_readonly(self.db_path)
        except sqlite3.Error as exc:
            self._unusable(self.db_path, exc)
            return []
        if conn is None:
            return []
        try:
            return conn.execute(
                "SELECT url, first_seen FROM articles WHERE site = ? AND first_seen <= ? AND url IS NOT NULL",
                [site, until],
            ).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                self._unusable(self.db_path, exc)
            return []
        except sqlite3.DatabaseError as exc:
            self._unusable(self.db_path, exc)
            return []
        finally:
            conn.close()

    def _unusable(self, path: Path, exc: sqlite3.Error) -> None:
        """The store cannot be read: the crawl goes on from the WARC files alone (every
        capture is in them; what the store adds, the articles' first-seen times for the
        revisit schedule, waits for the rebuild), and says so."""
        self.store_problem = (
            f"{path} is unusable ({exc}): went on from the WARC files alone; "
            "rebuild it with `newsarchive extract --rebuild`"
        )
        logger.warning("%s", self.store_problem)

    def _add(
        self, url: str, date: str, name: str, offset: int, status: int | None, digest: str | None
    ) -> None:
        capture = Capture(date, name, offset, status)
        if url not in self.latest or date >= self.latest[url].date:
            self.latest[url] = capture
        if status is not None and 200 <= status < 300:
            if url not in self.latest_ok or date >= self.latest_ok[url].date:
                self.latest_ok[url] = capture
        if status == 200 and digest and digest not in self.payloads:
            self.payloads[digest] = (url, date)

    def __len__(self) -> int:
        return len(self.latest)

    def _read(self, name: str, offset: int) -> WarcRecord:
        path = self.paths.get(name) or self.warc_dir / name
        if not path.exists():
            path = path.with_name(path.name + OPEN_SUFFIX)
        return read_record_at(path, offset)

    def lookup(self, url: str, ok_only: bool = False) -> tuple[WarcRecord, bytes] | None:
        """The latest record for ``url`` (with ``ok_only``, its latest 2xx) and its HTTP
        entity as a server sends it: chunked framing undone, Content-Encoding intact (a
        revisit's from its original)."""
        found = (self.latest_ok if ok_only else self.latest).get(url)
        if found is None:
            return None
        record = self._read(found.file, found.offset)
        if record.type != "revisit":
            return record, record.entity()
        original = self.latest_ok.get(record.headers.get("WARC-Refers-To-Target-URI") or record.url)
        if original is None or (original.file, original.offset) == (found.file, found.offset):
            return record, b""
        return record, self._read(original.file, original.offset).entity()
