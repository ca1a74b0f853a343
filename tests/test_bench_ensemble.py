"""bench/ensemble.py on real pages: a bundled WCXB article (CC-BY-4.0: tests/data/wcxb/README.md)
and the bundled news corpus, run through every extractor, voted on, scored and cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import ensemble

DATA = Path(__file__).parent / "data" / "wcxb"
DEMO_CORPUS = Path(__file__).resolve().parent.parent / "archive" / "demo" / "corpus"


@pytest.fixture(scope="module")
def wcxb(tmp_path_factory) -> Path:
    """A one-page WCXB folder in the benchmark's layout, from the bundled article 0249."""
    root = tmp_path_factory.mktemp("wcxb")
    (root / "dev" / "html").mkdir(parents=True)
    (root / "dev" / "ground-truth").mkdir()
    shutil.copy(DATA / "0249.html.gz", root / "dev" / "html" / "0249.html.gz")
    truth = json.loads((DATA / "0249.json").read_text(encoding="utf-8"))
    ground = {
        "url": truth["url"],
        "ground_truth": {"title": truth["title"], "main_content": truth["main_content"]},
    }
    (root / "dev" / "ground-truth" / "0249.json").write_text(json.dumps(ground), encoding="utf-8")
    shutil.copy(DATA / "evaluate.py", root / "evaluate.py")
    return root


@pytest.fixture(scope="module")
def page(wcxb, tmp_path_factory) -> dict:
    """Every extractor's output on the article, as the benchmark caches it."""
    return ensemble.wcxb_page((wcxb, "0249", tmp_path_factory.mktemp("cache")))


def test_every_extractor_finds_the_article(page):
    assert page["kept"] and page["lang"] == "en"
    for name in ("ours", "bare", "page"):
        assert "Cash flow" in page[name], name
    for name in ("readability", "justext"):
        assert any("Cash flow" in block for block in page[name]), name
    assert set(page["seconds"]) == set(ensemble.EXTRACTORS)
    assert all(seconds >= 0 for seconds in page["seconds"].values())


def test_block_votes_keep_what_others_have_and_add_what_both_agree_on(page):
    ours = ensemble._blocks(page["ours"])
    texts = ensemble.variants(page)
    assert set(ensemble._blocks(texts["ours-none"])) <= set(ours)  # only drops our blocks
    assert ensemble._blocks(texts["ours+both"])[: len(ours)] == ours  # only adds after them
    # a paragraph readability and jusText both have, that ours lacks, is added; one only
    # readability has is not
    extra = "The quarterly statements of the company were audited by an outside firm in March."
    lone = "Subscribe to our newsletter for weekly tips on running a small business well."
    agreed = {
        **page,
        "readability": [*page["readability"], extra, lone],
        "justext": [*page["justext"], extra],
    }
    variants = ensemble.block_variants(agreed)
    assert variants["ours+both"].endswith(extra) and lone not in variants["vote2"]
    assert variants["ours+both|doubt"] == page["ours"]  # one sentence: no doubt about ours


def test_a_block_nobody_else_has_is_dropped_by_the_vote(page):
    stray = "Related: ten celebrity homes you will not believe are for sale this summer"
    voted = ensemble.block_variants({**page, "ours": page["ours"] + "\n\n" + stray})
    assert stray not in voted["ours-none"] and stray not in voted["vote2"]
    assert stray in voted["ours+both"]


def test_token_vote_projects_the_voters_onto_the_page(page):
    """Bevendorff et al.'s vote: with ours as the only voter (threshold 1) it gives back
    nearly our words; with 2 of 3 it keeps only what two extractors share."""
    ours_words = page["ours"].split()
    alone = ensemble.token_vote(page, [page["ours"]], threshold=1).split()
    assert len(set(ours_words) & set(alone)) >= 0.9 * len(set(ours_words))
    assert ensemble.token_vote(page, [page["ours"], ""], threshold=2) == ""
    assert ensemble.token_vote({**page, "page": ""}, [page["ours"]], threshold=1) == ""


def test_found_matches_by_words_not_by_markup():
    found = ensemble.Found("The Bank of Russia raised its key rate, to 21%, on Friday.\nShort one")
    assert found.has("the bank of russia raised its KEY RATE to 21 on friday")
    assert found.has("short one") and found.has("   ")
    assert not found.has("The central bank of China cut its rate on Monday morning")


def test_the_bench_prints_its_tables_and_reuses_its_cache(wcxb, tmp_path, capsys):
    args = ["--wcxb", str(wcxb), "--corpus", str(DEMO_CORPUS), "--limit", "1", "--workers", "1"]
    assert ensemble.main([*args, "--cache", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    for line in (
        "== WCXB dev articles",
        "== corpus",
        "token-vote",
        "oracle",
        "CPU ms per page",
        "== verdict",
    ):
        assert line in first
    cached = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert cached[-1] == "wcxb/0249.json" and len(cached) == 2
    assert ensemble.main([*args, "--cache", str(tmp_path)]) == 0
    second = capsys.readouterr().out
    assert second.split("== verdict")[1] == first.split("== verdict")[1]  # the same, from the cache


def test_the_bench_says_when_a_corpus_is_missing(tmp_path, capsys):
    assert ensemble.main(["--wcxb", str(tmp_path), "--corpus", str(DEMO_CORPUS)]) == 2
    assert "need both corpora" in capsys.readouterr().err
