"""Read input files and folders into raw articles, reporting every broken input instead of stopping.

`read_inputs(paths)` lists the files under `paths` (`listing`), reads each one bounded and checked (`files`)
and hands its bytes to the reader of its suffix (`registry`): one module a format — `plain_text` (.txt, .md),
`html_page` (.html, .htm), `json_records` (.json, .jsonl), `pdf_document` (.pdf), `word_document` (.docx). It
yields, in a stable order, a `RawArticle` for each article found and a `Problem` (file, line, what to do) for
each input that cannot be read; one broken article costs only itself.
"""

from index.readers.files import DEFAULT_MAX_BYTES, read_file, read_inputs, read_units
from index.readers.listing import input_units, iter_input_files
from index.readers.raw import FormatReader, RawArticle
from index.readers.registry import READERS, SUPPORTED_SUFFIXES, reader_for

__all__ = [
    "DEFAULT_MAX_BYTES",
    "READERS",
    "SUPPORTED_SUFFIXES",
    "FormatReader",
    "RawArticle",
    "input_units",
    "iter_input_files",
    "read_file",
    "read_inputs",
    "read_units",
    "reader_for",
]
