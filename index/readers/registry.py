"""Which reader reads a file: the input formats keyed by file suffix.

A new article format is one module that defines its `FormatReader` (see `index.readers.plain_text`) and one line
in `READERS`; listing folders, bounded reading and the Problems for unsupported files follow from this table.
"""

from __future__ import annotations

from pathlib import Path

from index.readers import html_page, json_records, pdf_document, plain_text, word_document
from index.readers.raw import FormatReader

READERS: tuple[FormatReader, ...] = (
    plain_text.READER,
    html_page.READER,
    json_records.JSON,
    json_records.JSONL,
    pdf_document.READER,
    word_document.READER,
)

_BY_SUFFIX: dict[str, FormatReader] = {suffix: reader for reader in READERS for suffix in reader.suffixes}
if len(_BY_SUFFIX) != sum(len(reader.suffixes) for reader in READERS):
    raise RuntimeError("two readers claim the same file suffix")  # a mistake in READERS, caught on import

SUPPORTED_SUFFIXES = frozenset(_BY_SUFFIX)  # as `READERS` defines them (what the chat's upload accepts)


def reader_for(path: Path) -> FormatReader | None:
    """The reader of `path`'s format, by its suffix in any case (".MD" is Markdown); None when none reads it."""
    return _BY_SUFFIX.get(path.suffix.lower())
