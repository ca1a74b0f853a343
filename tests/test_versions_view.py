"""What changed, shown (issue 18): an article's page lists its versions, ``/-/versions/<id>``
shows between any two the title change and the words added and removed inline, and the
canned *Changed articles* query lists what changed in the last N days. On the real
``newsarchive serve``, over a store whose article has three versions (tests/helpers/versions.py),
one of them with a hostile title and text."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.serve import fetch as fetch_bytes
from tests.helpers.serve import running_server
from tests.helpers.versions import (
    ARTICLE_ID,
    DELETED_WORD,
    HOSTILE_VERSION_TITLE,
    INSERTED_WORD,
    store_with_versions,
)


@pytest.fixture(scope="module")
def base(serve_store, tmp_path_factory):
    data = store_with_versions(serve_store, tmp_path_factory.mktemp("versions") / "data")
    with running_server(data) as url:
        yield url


def fetch(url: str) -> tuple[int, dict, str]:
    status, headers, body = fetch_bytes(url)
    return status, dict(headers), body.decode()


def test_article_page_lists_versions_with_times_counts_and_diff_links(base):
    status, _, html = fetch(f"{base}/news/articles/{ARTICLE_ID}")
    assert status == 200
    section = html.split('<section class="article-versions"')[1].split("</section>")[0]
    rows = re.findall(r"<tr>\s*<td>(\d)</td>(.*?)</tr>", section, re.S)
    assert [number for number, _ in rows] == ["1", "2", "3"]
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\">", rows[0][1])
    assert "+14" in rows[1][1] and "−5" in rows[1][1]  # words added and removed since version 1
    links = re.findall(r'class="diff-link" href="([^"]+)"', section)
    assert links == [
        f"/-/versions/{ARTICLE_ID}?from=1&amp;to=3",
        f"/-/versions/{ARTICLE_ID}?from=1&amp;to=2",
        f"/-/versions/{ARTICLE_ID}?from=2&amp;to=3",
    ]
    assert "<script>alert" not in html  # the hostile title is text
    assert section.count('class="archived-page"') == 3


def test_diff_view_shows_title_change_and_words_inline_escaped(base):
    status, headers, html = fetch(f"{base}/-/versions/{ARTICLE_ID}?from=2&to=3")
    assert status == 200
    assert "script-src 'none'" in headers["Content-Security-Policy"]
    content = html.split('<div class="page-header">')[1].split("<footer")[0]  # Datasette's own script follows
    assert "<script" not in content and "<img" not in content and "<b>" not in content
    title = content.split('<h2 class="diff-title">')[1].split("</h2>")[0]
    assert title == (  # "end" is kept; the rest of the headline was rewritten
        "<del>Velmora talks</del><ins>&lt;script&gt;alert(&#34;v3&#34;)&lt;/script&gt; Talks</ins> end "
        "<del>without a deal</del><ins>&amp; &lt;b&gt;deal&lt;/b&gt; &#34;signed&#34;</ins>"
    )
    assert f"<del>{DELETED_WORD}</del><ins>{INSERTED_WORD}</ins>" in content
    assert '<p class="diff-added"><ins>Correction: an earlier version' in content
    assert "&lt;img src=x onerror=alert(1)&gt;</ins>" in content
    assert "the title changed" in content


def test_diff_view_defaults_to_the_last_change_and_compares_any_two(base):
    _, _, latest = fetch(f"{base}/-/versions/{ARTICLE_ID}")
    assert 'value="2" selected' in latest and 'value="3" selected' in latest
    _, _, first_to_last = fetch(f"{base}/-/versions/{ARTICLE_ID}?from=1&to=3")
    assert (
        "They agreed <del>to meet again next month.</del><ins>on nothing and left early.</ins>"
        in first_to_last
    )
    _, _, same = fetch(f"{base}/-/versions/{ARTICLE_ID}?from=2&to=2")
    assert "<ins>" not in same.split('<div class="diff-text">')[1] and "These are the same version." in same


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (f"/-/versions/{ARTICLE_ID}?from=9&to=3", 400, "from and to must be versions of article"),
        (f"/-/versions/{ARTICLE_ID}?from=x", 400, "from and to must be versions of article"),
        ("/-/versions/nothing-here", 404, "no versions of article nothing-here"),
    ],
)
def test_diff_view_bad_requests_say_so_in_one_line(base, path, status, message):
    code, _, body = fetch(base + path)
    assert code == status and body.startswith(message) and body.count("\n") == 1


def test_changed_articles_canned_query_lists_recent_changes(base):
    def rows(days: str) -> list[dict]:
        return json.loads(fetch(f"{base}/news/changed_articles.json?days={days}&_shape=array")[2])

    [row] = rows("30")
    assert row["article_id"] == ARTICLE_ID and row["title"] == HOSTILE_VERSION_TITLE
    assert (row["changes"], row["words_added"], row["words_removed"], row["title_changes"]) == (2, 29, 6, 2)
    assert rows("1") == []  # the latest change is two days old
    assert [r["article_id"] for r in rows("")] == [ARTICLE_ID]  # empty: the last 7 days
    _, _, html = fetch(f"{base}/news/changed_articles?days=30")
    assert f'class="diff-link" href="/-/versions/{ARTICLE_ID}?from=1&amp;to=3"' in html
    assert "<script>alert" not in html


def test_versions_table_is_browsable_with_archived_pages(base):
    _, _, html = fetch(f"{base}/news/article_versions?article_id={ARTICLE_ID}")
    assert "3 rows" in html and html.count('class="archived-page"') == 3
