"""Page extraction: one archived HTML response to an article (``archive.extract.article``)."""
