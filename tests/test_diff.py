"""archive/diff.py: what changed between two versions of a text, as every view shows it."""

from archive.diff import Piece, diff_paragraphs, word_changes

OLD = "Talks in Beijing\n\nThe ministers met on Monday.\n\nThey agreed on nothing."
NEW = (
    "Talks in Beijing end\n\nThe ministers met on Monday morning.\n\nThey agreed on nothing."
    "\n\nCorrection: Tuesday."
)


def test_an_edited_sentence_is_an_edit_inside_its_paragraph():
    paragraphs = diff_paragraphs(OLD, NEW)
    assert paragraphs[1] == [
        Piece("equal", "The ministers met on "),
        Piece("delete", "Monday."),
        Piece("insert", "Monday morning."),
    ]


def test_a_paragraph_added_whole_stays_whole_and_unchanged_ones_stay_equal():
    paragraphs = diff_paragraphs(OLD, NEW)
    assert paragraphs[2] == [Piece("equal", "They agreed on nothing.")]
    assert paragraphs[3] == [Piece("insert", "Correction: Tuesday.")]


def test_pieces_give_both_texts_back():
    for paragraph in diff_paragraphs(OLD, NEW):
        new = "".join(p.text for p in paragraph if p.op != "delete")
        old = "".join(p.text for p in paragraph if p.op != "insert")
        assert new in NEW.split("\n\n") or not new
        assert old in OLD.split("\n\n") or not old


def test_word_counts():
    assert word_changes(OLD, OLD) == (0, 0)
    assert word_changes(OLD, NEW) == (1 + 2 + 2, 1)  # "end", "Monday morning.", the correction; "Monday."
    assert word_changes("", "T\n\nOne two.") == (3, 0)
