"""What changed between two versions of an article's text, by paragraph and by word.

Used wherever versions are compared (the store counts the words added and removed, the
Datasette diff view and ``newsarchive changes`` show them), so that every place tells the
same story. difflib does the matching: paragraphs are aligned first (a paragraph added
or removed whole stays whole), then the words of the paragraphs that changed, so an edited
sentence reads as one edit inside its paragraph rather than as a paragraph swapped.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

Op = Literal["equal", "insert", "delete"]
TOKEN = re.compile(r"\S+|\s+")  # words and the spaces between them: joined, they give the text back


class Piece(NamedTuple):
    op: Op
    text: str


Paragraph = list[Piece]


def _paragraphs(text: str) -> list[str]:
    return [block for block in (text or "").split("\n\n") if block]


def _word_pieces(old: str, new: str) -> Paragraph:
    """One paragraph's change, word by word (the spaces go with the words around them)."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    pieces: Paragraph = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("delete", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("insert", "".join(b[j1:j2])))
    return pieces


def diff_paragraphs(old: str, new: str) -> list[Paragraph]:
    """The paragraphs of ``new`` and ``old`` merged in reading order, each a list of pieces:
    unchanged text, text inserted in ``new``, text deleted from ``old``."""
    a, b = _paragraphs(old), _paragraphs(new)
    merged: list[Paragraph] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            merged += [[Piece("equal", block)] for block in a[i1:i2]]
        elif tag == "delete":
            merged += [[Piece("delete", block)] for block in a[i1:i2]]
        elif tag == "insert":
            merged += [[Piece("insert", block)] for block in b[j1:j2]]
        else:  # replaced: pair them up in order, the surplus added or removed whole
            for k in range(max(i2 - i1, j2 - j1)):
                before = a[i1 + k] if i1 + k < i2 else None
                after = b[j1 + k] if j1 + k < j2 else None
                if before is None:
                    merged.append([Piece("insert", after)])
                elif after is None:
                    merged.append([Piece("delete", before)])
                else:
                    merged.append(_word_pieces(before, after))
    return merged


def word_changes(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed) from ``old`` to ``new``."""
    added = removed = 0
    for paragraph in diff_paragraphs(old, new):
        for piece in paragraph:
            if piece.op == "insert":
                added += len(piece.text.split())
            elif piece.op == "delete":
                removed += len(piece.text.split())
    return added, removed
