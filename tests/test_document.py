"""The document format (FORMAT.md): building and checking."""

from __future__ import annotations

import hashlib
from pathlib import Path

from archive.document import article_id, build_document, check_document, export_file_name

REFERENCE = Path(__file__).resolve().parent.parent / "seeds" / "reference"


def test_build_collapses_white_space_and_drops_repeated_headline():
    text = build_document(
        "  Russia and\u00a0China \n talk ", ["Russia and China talk", " A \t paragraph ", "", "Cafe\u0301"]
    )
    assert text == "Russia and China talk\n\nA paragraph\n\nCafé"
    assert check_document(text) == []


def test_no_headline_no_document():
    assert build_document("  ", ["body"]) is None


def test_id_and_file_name():
    url = "https://www.example.com/news/2024/a"
    assert article_id(url) == hashlib.sha256(url.encode()).hexdigest()[:16]
    assert export_file_name(7, article_id(url)) == f"007_{article_id(url)}.txt"
    assert export_file_name(1234, "0" * 16) == "1234_0000000000000000.txt"


def test_checks_find_each_problem():
    assert "ends with a newline" in check_document("T\n\nbody\n")
    assert "line 2 is not empty" in check_document("T\nbody")
    assert "two empty lines in a row" in check_document("T\n\n\nbody")
    assert "a line starts or ends with white space" in check_document("T \n\nbody")
    assert "contains \\r or tab" in check_document("T\n\nbo\tdy")
    assert "not NFC" in check_document("T\n\nCafe\u0301")
    assert check_document("T\n\nb", "1_abc.txt")[0].startswith("file name")
    assert "is not the article id" in check_document("T\n\nb", "000_" + "a" * 16 + ".txt", "b" * 16)[0]


def test_reference_documents_names_match_the_pattern():
    for path in REFERENCE.glob("*.txt"):
        problems = check_document("x\n\ny", path.name)
        assert problems == [], path.name
