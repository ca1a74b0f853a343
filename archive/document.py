"""The document format of FORMAT.md: building documents, ids, and checking them.

One place owns the rules, so the extractor, the exporter and the tests agree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

FILE_NAME = re.compile(r"^([0-9]{3,})_([0-9a-f]{16})\.txt$")
# Control characters other than the white space that normalize_block collapses anyway.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\u200e\u200f\u2060\ufeff]")


def article_id(canonical_url: str) -> str:
    """The first 16 hex digits of the SHA-256 of the canonical URL (UTF-8)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def export_file_name(position: int, article_id_: str) -> str:
    return f"{position:03d}_{article_id_}.txt"


def normalize_block(text: str) -> str:
    """NFC, invisible controls removed, all white space runs (NBSP too) as one space."""
    text = CONTROL.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def build_document(title: str | None, blocks: list[str]) -> str | None:
    """Headline, empty line, one block per paragraph; None when there is no headline."""
    headline = normalize_block(title or "")
    if not headline:
        return None
    body = [b for b in (normalize_block(block) for block in blocks) if b]
    if body and body[0] == headline:  # the headline is not repeated as the first block
        body = body[1:]
    return "\n\n".join([headline, *body])


# Chinese and Japanese are written without spaces: count each ideograph/kana as a word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
_RUN = re.compile(r"\w+")  # WORD on a text without CJK characters, ~1.5x faster


def words(text: str) -> list[str]:
    r"""``WORD.findall(text)``: in a text without CJK characters, WORD's words are its runs of ``\w``."""
    return WORD.findall(text) if _HAS_CJK.search(text) else _RUN.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def text_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def check_document(text: str, file_name: str | None = None, expected_id: str | None = None) -> list[str]:
    """The problems FORMAT.md's "Checking a document" finds in ``text`` (empty: well formed)."""
    problems = []
    if unicodedata.normalize("NFC", text) != text:
        problems.append("not NFC")
    if "\r" in text or "\t" in text:
        problems.append("contains \\r or tab")
    if text.endswith("\n"):
        problems.append("ends with a newline")
    lines = text.split("\n")
    if any(line != line.strip() for line in lines):
        problems.append("a line starts or ends with white space")
    if not lines[0]:
        problems.append("line 1 (headline) is empty")
    if len(lines) > 1 and lines[1]:
        problems.append("line 2 is not empty")
    if "\n\n\n" in text:
        problems.append("two empty lines in a row")
    if file_name is not None:
        match = FILE_NAME.match(file_name)
        if not match:
            problems.append(f"file name {file_name!r} does not match NNN_<16 hex>.txt")
        elif expected_id is not None and match.group(2) != expected_id:
            problems.append(f"file name id {match.group(2)} is not the article id {expected_id}")
    return problems
