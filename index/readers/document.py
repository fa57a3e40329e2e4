"""What a PDF or Word file gives (`Document`: its text and metadata), the error when it gives no article text,
and the article made of it: the formats' own parsing is `index.readers.pdf_document` and `word_document`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from index.models import Problem
from index.readers.raw import RawArticle, title_from_stem
from index.text.clean import normalize_line
from index.text.dates import normalize_date
from newsqa.errors import NewsQAError


class DocumentError(NewsQAError):
    """A PDF or DOCX file that gives no article text; the message says why and what to do."""


class Document(BaseModel):
    """What a PDF or DOCX file gives: its text (paragraphs separated by a blank line) and metadata."""

    title: str = ""
    text: str
    author: str | None = None
    date: str | None = Field(default=None, description="ISO date from the file's own metadata, when it has one.")
    pages: int = Field(default=0, description="Pages of a PDF (0 for a DOCX).")


def read_document(path: Path, data: bytes, parse: Callable[[Path, bytes], Document]) -> RawArticle | Problem:
    """The article of a PDF or Word file that `parse` reads, or the Problem saying why it has none."""
    try:
        document = parse(path, data)
    except DocumentError as error:
        return Problem(path=str(path), reason=str(error))
    return RawArticle(
        title=document.title or title_from_stem(path), text=document.text, date=normalize_date(document.date),
        author=document.author, origin=str(path),
    )  # fmt: skip


def meta_text(value: object) -> str | None:
    """A metadata value of the file's own (title, author) as one line, or None."""
    return (normalize_line(value) or None) if isinstance(value, str) else None
