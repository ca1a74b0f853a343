"""Keep Scrapy from guessing the charset of a body that is still compressed.

Scrapy's download handler picks the response class from the headers, so a gzipped
``text/html`` body arrives as an ``HtmlResponse``. ``HttpCompressionMiddleware`` (590)
then decompresses it with ``response.replace(cls=..., body=..., encoding=None)``, and
``replace`` reads every attribute of the old response first, ``encoding`` included: with
no charset in Content-Type that runs ``html_to_unicode`` (meta tag search, trial decodes,
a whole-body cp1252 decode) over the gzipped bytes, about 1 ms of CPU per 100 KB page,
thrown away at once. Handing HttpCompression a plain ``Response`` skips that; it still
picks the right class (``HtmlResponse``) for the decompressed body, whose encoding is then
detected once, lazily, from the real HTML.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse


class CompressedBodyMiddleware:
    """Just before HttpCompression: a compressed body becomes a plain ``Response``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CompressedBodyMiddleware:
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured  # nothing would decompress it: leave the response as Scrapy made it
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        # HttpCompression leaves HEAD responses alone, so their class must stay too.
        if (
            isinstance(response, TextResponse)
            and request.method != "HEAD"
            and response.headers.get(b"Content-Encoding")
        ):
            # Response.attributes: the public __init__ arguments, "encoding" not among them.
            return Response(**{name: getattr(response, name) for name in Response.attributes})
        return response
