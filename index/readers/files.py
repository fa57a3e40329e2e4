"""Read the files a listing names (`index.readers.listing`) into raw articles, reporting every broken input
instead of stopping.

Each file is opened without blocking and refused, with a reason, when it is a special file (a named pipe would
wait for a writer forever), over the size limit (`QA_MAX_FILE_BYTES`), empty, or, for a text format, UTF-16 or
binary; what is left goes to the reader of its suffix (`index.readers.registry`), which yields its articles and a
`Problem` (file, line, what to do) for each record it cannot read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from index.models import Problem
from index.readers.listing import input_units
from index.readers.raw import RawArticle
from index.readers.registry import SUPPORTED_SUFFIXES, reader_for
from newsqa.settings import IndexSettings

# Read from the settings class, not an instance: the default must not depend on the caller's environment.
DEFAULT_MAX_BYTES: int = IndexSettings.model_fields["max_file_bytes"].default

_MIB = 1024 * 1024


def read_inputs(
    paths: Sequence[Path],
    max_bytes: int = DEFAULT_MAX_BYTES,
    field_map: Mapping[str, str] | None = None,
    *,
    follow_symlinks: bool = False,
) -> Iterator[RawArticle | Problem]:
    """Read every article under `paths`; never raises for a single bad input.

    Args:
        paths: files and folders, as the user named them.
        max_bytes: files larger than this are reported and skipped (settings: `QA_MAX_FILE_BYTES`).
        follow_symlinks: also read what symbolic links inside a folder point to outside it (by default they
            are skipped with a reason: a link in a shared folder must not pull in /etc/passwd).
        field_map: for JSON/JSONL records whose names differ, {field: the record's name for it}, e.g.
            {"title": "headline_text", "date": "published_at"} (`qa ingest --field title=headline_text`).

    Yields:
        A `RawArticle` per article found, a `Problem` per path, file or record that could not be read.
    """
    yield from read_units(input_units(paths, follow_symlinks=follow_symlinks), max_bytes, field_map)


def read_units(
    units: Iterable[Path | Problem], max_bytes: int = DEFAULT_MAX_BYTES, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """Read what `input_units` listed, in its order: each file's records, each Problem as it is."""
    for unit in units:
        if isinstance(unit, Problem):
            yield unit
        else:
            yield from read_file(unit, max_bytes, field_map)


def read_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """Read one file into its articles, through the reader of its suffix; see `read_inputs`."""
    reader = reader_for(path)
    if reader is None:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        suffix = path.suffix.lower()
        yield Problem(path=str(path), reason=f"unsupported file type {suffix or '(none)'!r}; supported: {supported}")
        return
    data = _read_bytes(path, max_bytes, binary=reader.binary)
    if isinstance(data, Problem):
        yield data
    else:
        yield from reader.read(path, data, field_map)


def _format_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    unit, scale = ("MiB", _MIB) if size >= _MIB else ("KiB", 1024)
    value = size / scale
    return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _read_bytes(path: Path, max_bytes: int, *, binary: bool = False) -> bytes | Problem:
    where = str(path)
    try:
        # Opened without blocking and checked before reading: a named pipe called x.txt would otherwise wait
        # for a writer forever while the ingest holds the index's write lock.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = next((name for test, name in _SPECIAL_FILES if test(info.st_mode)), "not a regular file")
                return Problem(path=where, reason=f"{kind}, not a file of text")
            size = info.st_size
            if size > max_bytes:
                return Problem(
                    path=where,
                    reason=(
                        f"{_format_size(size)} is over the {_format_size(max_bytes)} limit; "
                        "split the file or raise QA_MAX_FILE_BYTES"
                    ),
                )
            # Bounded read: the file may have grown since fstat().
            data = handle.read(max_bytes + 1)
    except PermissionError:
        return Problem(path=where, reason="permission denied; check the file's permissions")
    except OSError as error:
        return Problem(path=where, reason=f"cannot read the file ({error.strerror or error})")
    if len(data) > max_bytes:
        return Problem(path=where, reason=f"over the {_format_size(max_bytes)} limit; split the file")
    if not data.strip():
        return Problem(path=where, reason="empty file")
    if binary:  # a PDF or DOCX: its own reader checks it
        return data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(path=where, reason="the file is UTF-16; save it as UTF-8")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return Problem(path=where, line=line, reason="binary file (contains NUL bytes), not text")
    return data
