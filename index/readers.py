"""Read input files and folders into raw articles, reporting every broken input instead of stopping.

`read_inputs` walks the paths it is given and yields, in a stable order, a `RawArticle` for each article
found and a `Problem` (file, line, what to do) for each input that cannot be read. Supported inputs: .txt and
.md (one article per file), .html/.htm (one page), .json (an object or a list of objects) and .jsonl (one
object per line).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from index.clean import (
    CleanedText,
    NoArticleTextError,
    clean_article,
    clean_body,
    clean_html,
    has_content,
    normalize_line,
)
from index.dates import EARLIEST_DATE, LATEST_DATE, MONTH_NAMES
from index.metadata import (
    AUTHOR_KEYS,
    DATE_KEYS,
    ID_KEYS,
    SOURCE_KEYS,
    TEXT_KEYS,
    TITLE_KEYS,
    URL_KEYS,
    Metadata,
    split_byline,
    split_front_matter,
)
from index.models import Problem
from index.settings import Settings

DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx"})  # binary formats, read by index.documents
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"}) | DOCUMENT_SUFFIXES

# Read from the settings class, not an instance: the default must not depend on the caller's environment.
DEFAULT_MAX_BYTES: int = Settings.model_fields["max_file_bytes"].default

_TITLE_FIELDS = TITLE_KEYS
_TEXT_FIELDS = TEXT_KEYS
_DATE_FIELDS = DATE_KEYS
_URL_FIELDS = URL_KEYS
_SOURCE_FIELDS = SOURCE_KEYS
_AUTHOR_FIELDS = AUTHOR_KEYS
_ID_FIELDS = ID_KEYS

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T\s])")
_SLASHED_ISO_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:$|[T\s])")
# "07 Jan 2020", "Tue, 07 Jan 2020 10:00 GMT", "26-FEB-1987 15:01:11.79" (Reuters-21578).
_DAY_MONTH_YEAR = re.compile(r"^(?:[A-Za-z]+\.?,?\s+)?(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{4})\b")
# "January 7, 2020", "Tuesday, Jan. 7th 2020".
_MONTH_DAY_YEAR = re.compile(r"^(?:[A-Za-z]+,?\s+)?([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")

_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")

_MIB = 1024 * 1024
# trafilatura's clean-up takes time that grows faster than the page: 0.5 MB of 16,000 paragraphs took 8 s and
# 2 MB over a minute, holding the index's write lock; a news page has a few thousand tags (scripts included).
MAX_HTML_TAGS = 50_000


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


TOO_DEEP = "JSON nested too deeply to read (more levels than any article record has)"


def iter_input_files(paths: Sequence[Path], *, follow_symlinks: bool = False) -> Iterator[Path]:
    """Yield the readable-looking files under `paths`, each once, in a stable order.

    Files are yielded as given (even hidden or of an unsupported type, so `read_inputs` can say why it
    skips them); folders are walked recursively in sorted order, skipping hidden entries, files whose
    suffix is not supported, folders that cannot be listed and (unless `follow_symlinks`) symbolic links that
    lead out of the folder named. Paths that do not exist yield nothing.
    """
    for item in _input_items(paths, follow_symlinks):
        if isinstance(item, Path):
            yield item


def _input_items(paths: Sequence[Path], follow_symlinks: bool) -> Iterator[Path | Problem]:
    """`iter_input_files`, with a Problem for each folder or link it skips (saying why) in its place."""
    seen: set[Path] = set()
    for path in paths:
        if _is_dir(path):
            candidates = _walk(path, _resolved(path), follow_symlinks, set())
        else:
            candidates = iter([path] if _exists(path) else [])
        for candidate in candidates:
            if isinstance(candidate, Problem):
                yield candidate
                continue
            key = _resolved(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


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


def input_units(paths: Sequence[Path], *, follow_symlinks: bool = False) -> Iterator[Path | Problem]:
    """What `read_inputs` reads, in its order, without reading it: each file to read (`read_file`), and a
    Problem in its place for each path that does not exist and each folder or link skipped. Reading the files
    of this sequence in order gives exactly `read_inputs`' records, wherever each file is read."""
    for path in paths:
        if not _exists(path):
            yield Problem(path=str(path), reason="no such file or folder")
            continue
        yield from _input_items([path], follow_symlinks)


def read_file(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, field_map: Mapping[str, str] | None = None
) -> Iterator[RawArticle | Problem]:
    """Read one file into its articles; see `read_inputs`."""
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        yield Problem(path=where, reason=f"unsupported file type {suffix or '(none)'!r}; supported: {supported}")
        return
    data = _read_bytes(path, max_bytes, binary=suffix in DOCUMENT_SUFFIXES)
    if isinstance(data, Problem):
        yield data
        return
    if suffix == ".jsonl":
        yield from _read_jsonl(path, data, field_map)
        return
    if suffix in (".html", ".htm"):
        yield _read_html(path, data)
        return
    if suffix in DOCUMENT_SUFFIXES:
        yield _read_document(path, data)
        return
    text = _decode(path, data)
    if isinstance(text, Problem):
        yield text
    elif suffix == ".json":
        yield from _read_json(path, text, field_map)
    else:
        yield _read_plain(path, text, markdown=suffix == ".md")


def normalize_date(value: object) -> str | None:
    """Return `value` as an ISO date (YYYY-MM-DD), or None when it is not a date this function knows.

    Accepts "2020-01-07", "2020-01-07T10:00:00Z", "2020/01/07", "07 Jan 2020",
    "Tue, 07 Jan 2020 10:00:00 GMT", "26-FEB-1987 15:01:11.79" and "January 7, 2020". Numeric day/month
    orders such as "07/01/2020" are ambiguous and give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern in (_ISO_DATE, _SLASHED_ISO_DATE):
        if match := pattern.match(text):
            return _iso(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_MONTH_YEAR.match(text):
        month = _month_number(match[2])
        return _iso(int(match[3]), month, int(match[1])) if month else None
    if match := _MONTH_DAY_YEAR.match(text):
        month = _month_number(match[1])
        return _iso(int(match[3]), month, int(match[2])) if month else None
    return None


def _exists(path: Path) -> bool:
    # A dangling symlink is still an input the user named; reading it reports why it fails. So is a path whose
    # folder may not be searched (stat fails with permission denied): reading it says so.
    try:
        return path.exists() or path.is_symlink()
    except PermissionError:
        return True


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reading it reports the problem for this file only
        return path.absolute()


def _walk(folder: Path, root: Path, follow_symlinks: bool, walked: set[tuple[int, int]]) -> Iterator[Path | Problem]:
    """The supported files under `folder`, in sorted order, and a Problem for each entry skipped with a reason.
    `root` is the folder the user named: links leading out of it are only followed with `follow_symlinks`;
    `walked` holds the folders already entered (a linked folder is entered once, so link loops end)."""
    try:
        info = folder.stat()
        walked.add((info.st_dev, info.st_ino))
        entries = sorted(folder.iterdir())
    except PermissionError:
        yield Problem(path=str(folder), reason="permission denied; the folder cannot be listed")
        return
    except OSError as error:
        yield Problem(path=str(folder), reason=f"the folder cannot be listed ({error.strerror or error})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        supported = entry.suffix.lower() in SUPPORTED_SUFFIXES
        try:
            link = entry.is_symlink()
            if link:
                target = _resolved(entry)
                if not follow_symlinks and not target.is_relative_to(root):
                    if supported or _is_dir(entry):
                        reason = f"a symbolic link to {target}, outside {root}; qa ingest --follow-symlinks reads it"
                        yield Problem(path=str(entry), reason=reason)
                    continue
            is_dir = entry.is_dir()
        except PermissionError:
            if supported:  # what could not be an input anyway is left out quietly (/proc holds thousands)
                yield Problem(path=str(entry), reason="permission denied; check its permissions")
            continue
        except OSError:
            is_dir = False  # a dangling link or a link loop: reading it says so, for this entry only
        if is_dir:
            try:
                info = entry.stat()
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in walked:
                yield from _walk(entry, root, follow_symlinks, walked)
        elif supported:
            yield entry


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


def _decode(path: Path, data: bytes, *, line: int | None = None, file_offset: int = 0) -> str | Problem:
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


def _title_from_stem(path: Path) -> str:
    return normalize_line(re.sub(r"[-_]+", " ", path.stem))


def _read_plain(path: Path, text: str, *, markdown: bool) -> RawArticle | Problem:
    heading: str | None = None
    # "Source: …" / "Date: …" header lines or a YAML block at the top are metadata, not sentences to cite.
    pairs, text = split_front_matter(text)
    meta = Metadata.from_pairs(pairs)
    if markdown:
        text = _MD_LINK.sub(r"\1", text)
        first, _, rest = text.lstrip().partition("\n")
        if first.startswith("# "):
            heading, text = normalize_line(first[2:]), rest
        text = _MD_HEADING.sub("", text)
    cleaned = clean_article(text, find_title=heading is None and not meta.title)
    cleaned = _without_byline(cleaned)
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
    article = _article(cleaned, path, title=meta.title or heading or cleaned.title or _title_from_stem(path))
    return article.model_copy(update={"fields": meta.fields, "id": meta.id})


def _without_byline(cleaned: CleanedText) -> CleanedText:
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


def _read_document(path: Path, data: bytes) -> RawArticle | Problem:
    """A PDF or Word file (index.documents): a PDF's text keeps its page breaks, so citations can name pages."""
    from index.documents import DocumentError, read_docx, read_pdf

    try:
        document = read_pdf(path, data) if path.suffix.lower() == ".pdf" else read_docx(path, data)
    except DocumentError as error:
        return Problem(path=str(path), reason=str(error))
    return RawArticle(
        title=document.title or _title_from_stem(path), text=document.text, date=normalize_date(document.date),
        author=document.author, origin=str(path),
    )  # fmt: skip


def _read_html(path: Path, data: bytes) -> RawArticle | Problem:
    tags = data.count(b"<")
    if tags > MAX_HTML_TAGS:
        reason = (
            f"an HTML page of {tags:,} tags, more than an article page has (the limit is {MAX_HTML_TAGS:,}); "
            "save the article's text as .txt"
        )
        return Problem(path=str(path), reason=reason)
    # Pages in a legacy charset are valid input: trafilatura decodes bytes by the page's own declaration.
    text = _decode(path, data)
    try:
        cleaned = clean_html(data if isinstance(text, Problem) else text)
    except NoArticleTextError as error:
        return Problem(path=str(path), reason=str(error))
    except Exception as error:
        # The HTML parser is third-party code: whatever it chokes on costs this page, not the whole ingest.
        return Problem(path=str(path), reason=f"could not parse the HTML ({type(error).__name__}: {error})")
    cleaned = _without_byline(cleaned)
    article = _article(cleaned, path, title=cleaned.title or _title_from_stem(path))
    return article.model_copy(update={"fields": cleaned.fields})


def _article(cleaned: CleanedText, path: Path, *, title: str) -> RawArticle:
    return RawArticle(
        title=title,
        text=cleaned.text,
        date=normalize_date(cleaned.date),
        url=cleaned.url,
        source=cleaned.source,
        author=cleaned.author,
        origin=str(path),
    )


def _read_jsonl(path: Path, data: bytes, field_map: Mapping[str, str] | None) -> Iterator[RawArticle | Problem]:
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line_offset, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            continue
        line = _decode(path, raw, line=number, file_offset=line_offset)
        if isinstance(line, Problem):
            yield line
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Problem(path=str(path), line=number, reason=f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        except RecursionError:
            yield Problem(path=str(path), line=number, reason=TOO_DEEP)
            continue
        yield _record_to_article(record, path, number, label="the line", field_map=field_map)


def _read_json(path: Path, text: str, field_map: Mapping[str, str] | None) -> Iterator[RawArticle | Problem]:
    try:
        for index, line, record in _iter_json_values(text):
            if index is None:
                yield _record_to_article(record, path, None, label="the JSON object", field_map=field_map)
            else:
                yield _record_to_article(record, path, line, label=f"item {index} of the list", field_map=field_map)
    except json.JSONDecodeError as error:
        yield Problem(
            path=str(path),
            line=error.lineno,
            reason=f"not valid JSON ({error.msg} at column {error.colno}); the rest of the file is skipped",
        )
    except RecursionError:
        yield Problem(path=str(path), reason=f"{TOO_DEEP}; the rest of the file is skipped")


def _iter_json_values(text: str) -> Iterator[tuple[int | None, int, Any]]:
    """Yield (list index or None, line, value) for a JSON object or for each element of a JSON list.

    Elements are decoded one by one so that each keeps its line number, and those before a syntax error
    still come out.
    """
    decoder = json.JSONDecoder()
    counted_to, line = 0, 1

    def skip_space(position: int) -> int:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        return position

    def line_at(position: int) -> int:
        nonlocal counted_to, line
        line += text.count("\n", counted_to, position)
        counted_to = position
        return line

    position = skip_space(0)
    if not text.startswith("[", position):
        value, end = decoder.raw_decode(text, position)
        yield None, line_at(position), value
    else:
        position = skip_space(position + 1)
        index = 0
        while not text.startswith("]", position):
            value, end = decoder.raw_decode(text, position)
            yield index, line_at(position), value
            position = skip_space(end)
            if text.startswith(",", position):
                position = skip_space(position + 1)
                index += 1
            elif not text.startswith("]", position):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
        end = position + 1
    if skip_space(end) != len(text):
        raise json.JSONDecodeError("Extra data", text, skip_space(end))


def _record_to_article(
    record: object, path: Path, line: int | None, *, label: str, field_map: Mapping[str, str] | None = None
) -> RawArticle | Problem:
    where = str(path)
    if not isinstance(record, dict):
        return Problem(path=where, line=line, reason=f"{label} is a JSON {_json_type(record)}, expected an object")
    if field_map:
        record = rename_fields(record, field_map)
    raw_text = _first(record, _TEXT_FIELDS, _as_text)
    if raw_text is None:
        keys = ", ".join(sorted(map(str, record))) or "none"
        return Problem(
            path=where,
            line=line,
            reason=f"{label} has no text: no non-empty text/body/content/article field (fields: {keys})",
        )
    text = clean_body(raw_text)
    if not text:
        return Problem(path=where, line=line, reason=f"{label} has no text left after cleaning")
    if not has_content(text):
        return Problem(path=where, line=line, reason=f"{label} holds no sentence of article text, only {text[:60]!r}")
    url = _first(record, _URL_FIELDS, _as_line)
    return RawArticle(
        title=_first(record, _TITLE_FIELDS, _as_line) or "",
        text=text,
        date=normalize_date(_first(record, _DATE_FIELDS, _as_line)),
        url=url,
        # No source field: the site the url names ("www.reuters.com/..." -> "reuters.com") rather than none.
        source=_first(record, _SOURCE_FIELDS, _as_name) or site_name(url),
        author=_first(record, _AUTHOR_FIELDS, _as_names),
        id=_first(record, _ID_FIELDS, _as_id),
        origin=where if line is None else f"{where}:{line}",
        # Every other scalar field (BBC's category, a section, tags, language…) is kept as metadata.
        fields=Metadata.from_pairs(record).fields,
    )


def rename_fields(record: dict[str, Any], field_map: Mapping[str, str]) -> dict[str, Any]:
    """`record` with each field_map value's field under its key ({"title": "headline_text"} reads the title
    from "headline_text"); the renamed field is not kept a second time as metadata."""
    renamed = dict(record)
    for field, name in field_map.items():
        if name in record:
            renamed[field] = renamed.pop(name)
    return renamed


def parse_field_map(items: Iterable[str]) -> dict[str, str]:
    """{"title": "headline"} from ["title=headline", ...] (`qa ingest --field`); ValueError for a malformed item."""
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, name = item.partition("=")
        if not sep or not field.strip() or not name.strip():
            raise ValueError(f"--field {item!r}: write FIELD=NAME, e.g. --field title=headline")
        mapping[field.strip().lower()] = name.strip()
    return mapping


def site_name(url: str | None) -> str | None:
    """The host of a web address without "www.", or None when `url` names no host."""
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    host = host.removeprefix("www.")
    return host if "." in host else None


def _first(record: dict[str, Any], fields: Iterable[str], convert: Any) -> str | None:
    for field in fields:
        value = convert(record.get(field))
        if value:
            return value  # type: ignore[no-any-return]
    return None


def _as_text(value: object) -> str | None:
    # Some exports store the body as a list of paragraphs.
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        value = "\n\n".join(value)
    return value if isinstance(value, str) and value.strip() else None


def _as_line(value: object) -> str | None:
    return (normalize_line(value) or None) if isinstance(value, str) else None


def _as_name(value: object) -> str | None:
    # NewsAPI-style exports give the source as {"id": ..., "name": ...}.
    if isinstance(value, dict):
        value = value.get("name")
    return _as_line(value)


def _as_names(value: object) -> str | None:
    if isinstance(value, list):
        names = [name for name in map(_as_name, value) if name]
        return ", ".join(names) or None
    return _as_name(value)


def _as_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _as_line(value)


def _json_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _month_number(name: str) -> int | None:
    name = name.lower()
    # "Jan", "Sept" and "January" name a month; "Ma", "Monday" or "Janx" do not.
    if len(name) < 3:
        return None
    return next((number for number, month in enumerate(MONTH_NAMES, start=1) if month.startswith(name)), None)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        day_of = date(year, month, day)
    except ValueError:
        return None
    # A date outside any archive's range ("0001-01-01" as a placeholder, "9999-12-31" as "never") is no date.
    return day_of.isoformat() if EARLIEST_DATE <= day_of <= LATEST_DATE else None
