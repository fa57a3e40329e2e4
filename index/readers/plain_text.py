"""Text and Markdown files (.txt, .md): one article a file.

Header lines ("Source: …", "Date: …") or a YAML block at the top are its metadata, not sentences to cite; in
Markdown a first "# " heading is its title, links keep their text and heading marks go.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from index.models import Problem
from index.readers.metadata import Metadata, split_front_matter
from index.readers.raw import FormatReader, RawArticle, article_from, decode, title_from_stem, without_byline
from index.text.clean import clean_article, has_content, normalize_line

_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")


def read_plain_text(
    path: Path, data: bytes, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """The article of a .txt or .md file, or the Problem saying why it has none (`field_map` is for JSON)."""
    text = decode(path, data)
    if isinstance(text, Problem):
        yield text
    else:
        yield _article(path, text, markdown=path.suffix.lower() == ".md")


def _article(path: Path, text: str, *, markdown: bool) -> RawArticle | Problem:
    heading: str | None = None
    pairs, text = split_front_matter(text)
    meta = Metadata.from_pairs(pairs)
    if markdown:
        text = _MD_LINK.sub(r"\1", text)
        first, _, rest = text.lstrip().partition("\n")
        if first.startswith("# "):
            heading, text = normalize_line(first[2:]), rest
        text = _MD_HEADING.sub("", text)
    cleaned = clean_article(text, find_title=heading is None and not meta.title)
    cleaned = without_byline(cleaned)
    if not cleaned.text:
        return Problem(path=str(path), reason="no article text left after removing the page furniture")
    if not has_content(cleaned.text):
        return Problem(path=str(path), reason=f"no sentence of article text, only {cleaned.text[:60]!r}")
    cleaned = cleaned.model_copy(
        update={
            "author": meta.author or cleaned.author, "source": meta.source or cleaned.source,
            "date": meta.date or cleaned.date, "url": meta.url or cleaned.url,
        }
    )  # fmt: skip
    article = article_from(cleaned, path, title=meta.title or heading or cleaned.title or title_from_stem(path))
    return article.model_copy(update={"fields": meta.fields, "id": meta.id})


READER = FormatReader("text", frozenset({".txt", ".md"}), read_plain_text)
