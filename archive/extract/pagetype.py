"""The page-type decision: is this page an article (a row of the store) or not?"""

from __future__ import annotations

from archive.extract.structured import ARTICLE_PAGETYPES

MIN_WORDS = 40  # shorter "articles" are teasers, cookie walls or error pages
MIN_WORDS_WITHOUT_ARTICLE_SIGNS = 150


# schema.org and og:type kinds that say "not an article": listings, profiles, videos.
LISTING_TYPES = {
    "collectionpage",
    "searchresultspage",
    "profilepage",
    "itemlist",
    "videoobject",
    "mediagallery",
}


def is_article(
    pagetype: str | None, dated: bool, word_count: int, schema_types: frozenset[str] = frozenset()
) -> bool:
    """Only article pages become rows: home, section, tag, author, search and video pages do not.

    A page whose JSON-LD or og:type calls it an article needs MIN_WORDS. One that calls
    itself a listing, profile or video, or whose og:type is something else than "website"
    (which many article pages say too), is not an article. A page that says nothing needs
    a date in its markup (``dated``) and a longer body.
    """
    kind = (pagetype or "").lower().replace("_", "")
    if schema_types & ARTICLE_PAGETYPES or kind in ARTICLE_PAGETYPES:
        return word_count >= MIN_WORDS
    if schema_types & LISTING_TYPES or kind not in ("", "website", "webpage"):
        return False
    return dated and word_count >= MIN_WORDS_WITHOUT_ARTICLE_SIGNS
