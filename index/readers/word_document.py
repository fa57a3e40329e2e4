"""Word articles (.docx), through python-docx: the document's paragraphs (a Title or first Heading paragraph is
its title) and its core properties (title, author, created date).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from index.models import Problem
from index.readers.document import Document, DocumentError, meta_text, read_document
from index.readers.raw import FormatReader, RawArticle
from index.text.clean import has_content, normalize_line


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
        title=meta_text(properties.title) or title, text=text, author=meta_text(properties.author),
        date=created.date().isoformat() if isinstance(created, datetime) else None,
    )  # fmt: skip


def read_docx_file(
    path: Path, data: bytes, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """The article of a Word document, or the Problem saying why it has none (`field_map` is for JSON)."""
    yield read_document(path, data, read_docx)


READER = FormatReader("Word document", frozenset({".docx"}), read_docx_file, binary=True)
