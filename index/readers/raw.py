"""What every format's reader makes and shares: the `RawArticle` record, the `FormatReader` entry the registry
holds, and the steps that turn a file's cleaned text into a `RawArticle` the same way for every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from index.models import Problem
from index.readers.metadata import split_byline
from index.text.clean import CleanedText, has_content, normalize_line
from index.text.dates import normalize_date


class RawArticle(BaseModel):
    """One article as read from its input, before it gets an id and a place in the index."""

    title: str = ""
    text: str = Field(description="The cleaned body, paragraphs separated by a blank line.")
    date: str | None = Field(default=None, description="ISO date (YYYY-MM-DD) when the input gives one.")
    url: str | None = None
    source: str | None = None
    author: str | None = None
    id: str | None = Field(default=None, description="Only when the input gives one.")
    origin: str = Field(description='"path", or "path:line" for a JSON Lines record or an item of a JSON list.')
    fields: dict[str, str] = Field(
        default_factory=dict, description="Other metadata the input gives (category, section, tags, language…)."
    )


# (the file, its bytes, the JSON field names to read under other names) -> its articles and Problems, in order.
# Never raises for a bad input: what cannot be read is a Problem naming the file (and line).
ReadFormat = Callable[[Path, bytes, Mapping[str, str] | None], Iterator[RawArticle | Problem]]


@dataclass(frozen=True)
class FormatReader:
    """One input format: the suffixes of the files it reads and how it reads one (`index.readers.registry`)."""

    name: str
    suffixes: frozenset[str]
    read: ReadFormat
    # Bytes handed over as they are (PDF, DOCX); text formats are first refused when UTF-16 or holding NUL bytes.
    binary: bool = False


def decode(path: Path, data: bytes, *, line: int | None = None, file_offset: int = 0) -> str | Problem:
    """Decode UTF-8 (a BOM is allowed); `line` and `file_offset` place `data` when it is one line of a file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        if line is None:
            line = data.count(b"\n", 0, error.start) + 1
        return Problem(
            path=str(path),
            line=line,
            reason=(
                f"not valid UTF-8 (byte 0x{data[error.start]:02x} at byte {file_offset + error.start} of the "
                f"file, column {error.start - line_start + 1}); save the file as UTF-8"
            ),
        )


def title_from_stem(path: Path) -> str:
    """A title from the file's name, for an article that gives none ("harbour-ferry_sinks" -> "harbour ferry
    sinks")."""
    return normalize_line(re.sub(r"[-_]+", " ", path.stem))


def without_byline(cleaned: CleanedText) -> CleanedText:
    """A leading "By Jane Roe, Harbour Gazette, 3 May 2022" paragraph taken out of the body into the metadata it
    names (what the page's own metadata gave stays)."""
    byline, body = split_byline(cleaned.text, normalize_date)
    if not byline or not has_content(body):
        return cleaned
    return cleaned.model_copy(
        update={
            "text": body, "author": cleaned.author or byline.get("author"),
            "source": cleaned.source or byline.get("source"), "date": cleaned.date or byline.get("date"),
        }
    )  # fmt: skip


def article_from(cleaned: CleanedText, path: Path, *, title: str) -> RawArticle:
    """The article of one file from its cleaned text and metadata."""
    return RawArticle(
        title=title,
        text=cleaned.text,
        date=normalize_date(cleaned.date),
        url=cleaned.url,
        source=cleaned.source,
        author=cleaned.author,
        origin=str(path),
    )
