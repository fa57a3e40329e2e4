"""JSON (.json: an object or a list of objects) and JSON Lines (.jsonl: one object a line) records.

Each record's fields are found by their usual names (`index.readers.metadata`: title/headline, text/body/content,
date/published…), or by the names a `field_map` gives ({"title": "headline_text"}; `qa ingest --field`); every
other scalar field is kept as metadata. A record that is not an article (no text, not an object, nested too
deeply) is a Problem naming its line; the other records still go in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from index.models import Problem
from index.readers.metadata import (
    AUTHOR_KEYS,
    DATE_KEYS,
    ID_KEYS,
    SOURCE_KEYS,
    TEXT_KEYS,
    TITLE_KEYS,
    URL_KEYS,
    Metadata,
)
from index.readers.raw import FormatReader, RawArticle, decode
from index.text.clean import clean_body, has_content, normalize_line
from index.text.dates import normalize_date

TOO_DEEP = "JSON nested too deeply to read (more levels than any article record has)"


def read_jsonl(path: Path, data: bytes, field_map: Mapping[str, str] | None = None) -> Iterator[RawArticle | Problem]:
    """The articles of a JSON Lines file, one object a line, and a Problem for each line that is not one."""
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line_offset, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            continue
        line = decode(path, raw, line=number, file_offset=line_offset)
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


def read_json(path: Path, data: bytes, field_map: Mapping[str, str] | None = None) -> Iterator[RawArticle | Problem]:
    """The articles of a JSON file (an object or a list of objects); a syntax error ends the file, after the items
    before it."""
    text = decode(path, data)
    if isinstance(text, Problem):
        yield text
        return
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
    raw_text = _first(record, TEXT_KEYS, _as_text)
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
    url = _first(record, URL_KEYS, _as_line)
    return RawArticle(
        title=_first(record, TITLE_KEYS, _as_line) or "",
        text=text,
        date=normalize_date(_first(record, DATE_KEYS, _as_line)),
        url=url,
        # No source field: the site the url names ("www.reuters.com/..." -> "reuters.com") rather than none.
        source=_first(record, SOURCE_KEYS, _as_name) or site_name(url),
        author=_first(record, AUTHOR_KEYS, _as_names),
        id=_first(record, ID_KEYS, _as_id),
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


JSON = FormatReader("JSON", frozenset({".json"}), read_json)
JSONL = FormatReader("JSON Lines", frozenset({".jsonl"}), read_jsonl)
