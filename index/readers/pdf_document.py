"""PDF articles (.pdf), through pypdf: their text page by page, with title, author and creation date.

A scanned PDF without a text layer, an encrypted one, or a file that is not a PDF is a Problem saying what to do.
In a PDF's text, pages are separated by a blank line and a form feed ("\\f"), which sentence splitting treats as
white space and which the stored text keeps, so the page of any offset is `page_at(text, offset)` wherever the
text is stored.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from index.models import Problem
from index.readers.document import Document, DocumentError, meta_text, read_document
from index.readers.raw import FormatReader, RawArticle
from index.text.clean import has_content, normalize_line

PAGE_BREAK = "\n\n\f"  # between two pages of a PDF's text: a paragraph break marked as a new page
_HYPHENATED = re.compile(r"(\w)-\n(\w)")  # "exam-\nple" at a line end: one word
_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?")


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
    title = meta_text(info.title if info else None)
    return Document(
        title=title or "", text=text, author=meta_text(info.author if info else None),
        date=_pdf_date(info.get("/CreationDate") if info else None), pages=len(pages),
    )  # fmt: skip


def read_pdf_file(
    path: Path, data: bytes, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """The article of a PDF, or the Problem saying why it has none (`field_map` is for JSON)."""
    yield read_document(path, data, read_pdf)


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


def _pdf_date(value: object) -> str | None:
    """ "D:20220503120000+01'00'" -> "2022-05-03"; None when it is not such a date."""
    match = _PDF_DATE.match(str(value)) if value else None
    if match is None or not match.group(2) or not match.group(3):
        return None
    try:
        return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))).date().isoformat()
    except ValueError:
        return None


READER = FormatReader("PDF", frozenset({".pdf"}), read_pdf_file, binary=True)
