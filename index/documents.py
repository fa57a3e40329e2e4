"""PDF and Word (.docx) articles: their text and metadata, through pypdf and python-docx.

`read_pdf(path, data)` and `read_docx(path, data)` give a `Document` (title, text, date, author, and for a PDF
the page each part of the text is on) or raise `DocumentError` with a reason a user can act on: a scanned PDF
without a text layer, an encrypted one, a file that is not what its suffix says. In a PDF's text, pages are
separated by a blank line and a form feed ("\\f"), which sentence splitting treats as white space and which the
stored text keeps, so the page of any offset is `page_at(text, offset)` wherever the text is stored.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from index.text.clean import has_content, normalize_line

__all__ = ["PAGE_BREAK", "Document", "DocumentError", "page_at", "read_docx", "read_pdf"]

PAGE_BREAK = "\n\n\f"  # between two pages of a PDF's text: a paragraph break marked as a new page
_HYPHENATED = re.compile(r"(\w)-\n(\w)")  # "exam-\nple" at a line end: one word
_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?")


class DocumentError(Exception):
    """A PDF or DOCX file that gives no article text; the message says why and what to do."""


class Document(BaseModel):
    """What a PDF or DOCX file gives: its text (paragraphs separated by a blank line) and metadata."""

    title: str = ""
    text: str
    author: str | None = None
    date: str | None = Field(default=None, description="ISO date from the file's own metadata, when it has one.")
    pages: int = Field(default=0, description="Pages of a PDF (0 for a DOCX).")


def page_at(text: str, offset: int) -> int:
    """The 1-based page of a PDF's text that `offset` falls on (pages are separated by form feeds)."""
    return text.count("\f", 0, max(0, offset)) + 1


def read_pdf(path: Path, data: bytes) -> Document:
    """The text of a PDF, page by page, with its title, author and creation date from the document info."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            raise DocumentError("the PDF is encrypted; save an unprotected copy and add that")
        pages = [_page_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    text = PAGE_BREAK.join(pages).strip()
    if not has_content(text.replace("\f", " ")):
        raise DocumentError(
            f"no text in its {len(pages)} page{'s' if len(pages) != 1 else ''}: a scanned PDF has only images of "
            "text; run it through OCR (e.g. ocrmypdf) and add the result"
        )
    title = _meta_text(info.title if info else None)
    return Document(
        title=title or "", text=text, author=_meta_text(info.author if info else None),
        date=_pdf_date(info.get("/CreationDate") if info else None), pages=len(pages),
    )  # fmt: skip


def read_docx(path: Path, data: bytes) -> Document:
    """The paragraphs of a Word document (a Title or first Heading paragraph is its title) and its core
    properties: title, author, created date."""
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"not a readable Word document ({type(exc).__name__}: {exc})") from None
    title = ""
    paragraphs: list[str] = []
    for paragraph in document.paragraphs:
        line = normalize_line(paragraph.text)
        if not line:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if not title and not paragraphs and (style == "Title" or style.startswith("Heading")):
            title = line
            continue
        paragraphs.append(line)
    text = "\n\n".join(paragraphs)
    if not has_content(text):
        raise DocumentError("no article text in the Word document")
    properties = document.core_properties
    created = properties.created
    return Document(
        title=_meta_text(properties.title) or title, text=text, author=_meta_text(properties.author),
        date=created.date().isoformat() if isinstance(created, datetime) else None,
    )  # fmt: skip


def _unlock(reader: object) -> bool:
    """Open a PDF encrypted with an empty user password (many are: only editing is restricted)."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # pypdf raises several kinds, and needs a crypto library for some ciphers
        return False


def _page_text(raw: str) -> str:
    """A page's extracted lines as paragraphs: lines joined (a word hyphenated across lines made whole),
    a blank line kept as a paragraph break."""
    raw = _HYPHENATED.sub(r"\1\2", raw.replace("\r\n", "\n").replace("\f", "\n"))
    paragraphs = []
    for block in re.split(r"\n\s*\n", raw):
        line = normalize_line(" ".join(block.split("\n")))
        if line:
            paragraphs.append(line)
    return "\n\n".join(paragraphs)


def _meta_text(value: object) -> str | None:
    return (normalize_line(value) or None) if isinstance(value, str) else None


def _pdf_date(value: object) -> str | None:
    """ "D:20220503120000+01'00'" -> "2022-05-03"; None when it is not such a date."""
    match = _PDF_DATE.match(str(value)) if value else None
    if match is None or not match.group(2) or not match.group(3):
        return None
    try:
        return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))).date().isoformat()
    except ValueError:
        return None
