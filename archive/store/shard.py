"""``extract --shard K/N``: which WARC files one of N extract processes reads.

Light on purpose: the CLI parses ``--shard`` before any extraction code is imported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from archive.warc.files import closed_name


@dataclass(frozen=True)
class Shard:
    """Share ``index`` (1-based) of ``count``: the WARC files whose name hashes to it."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 1 <= K <= N, e.g. ``2/3``."""
        index, sep, count = text.partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            raise ValueError(f"a shard is K/N, e.g. 2/3; got {text!r}") from None
        if not sep or not 1 <= shard.index <= shard.count:
            raise ValueError(f"a shard is K/N with 1 <= K <= N, e.g. 2/3; got {text!r}")
        return shard

    def holds(self, path: Path) -> bool:
        """By a hash of the closed file name, the same on every machine and every run
        (Python's ``hash`` of a str is salted per process, so it will not do)."""
        digest = hashlib.sha1(closed_name(path).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1
