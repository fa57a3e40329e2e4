"""Web pages (.html, .htm): one article a page, its text and metadata found by trafilatura (`index.text.clean`).

A page with more tags than any article page has is refused before parsing: trafilatura's clean-up takes time
that grows faster than the page (0.5 MB of 16,000 paragraphs took 8 s and 2 MB over a minute, holding the
index's write lock), while a news page has a few thousand tags, scripts included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from index.models import Problem
from index.readers.raw import FormatReader, RawArticle, article_from, decode, title_from_stem, without_byline
from index.text.clean import NoArticleTextError, clean_html

MAX_HTML_TAGS = 50_000


def read_html_page(
    path: Path, data: bytes, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """The article of a web page, or the Problem saying why it has none (`field_map` is for JSON)."""
    yield _article(path, data)


def _article(path: Path, data: bytes) -> RawArticle | Problem:
    tags = data.count(b"<")
    if tags > MAX_HTML_TAGS:
        reason = (
            f"an HTML page of {tags:,} tags, more than an article page has (the limit is {MAX_HTML_TAGS:,}); "
            "save the article's text as .txt"
        )
        return Problem(path=str(path), reason=reason)
    # Pages in a legacy charset are valid input: trafilatura decodes bytes by the page's own declaration.
    text = decode(path, data)
    try:
        cleaned = clean_html(data if isinstance(text, Problem) else text)
    except NoArticleTextError as error:
        return Problem(path=str(path), reason=str(error))
    except Exception as error:
        # The HTML parser is third-party code: whatever it chokes on costs this page, not the whole ingest.
        return Problem(path=str(path), reason=f"could not parse the HTML ({type(error).__name__}: {error})")
    cleaned = without_byline(cleaned)
    article = article_from(cleaned, path, title=cleaned.title or title_from_stem(path))
    return article.model_copy(update={"fields": cleaned.fields})


READER = FormatReader("web page", frozenset({".html", ".htm"}), read_html_page)
