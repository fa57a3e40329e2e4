"""An article's metadata where the input mixes it into the text: front matter, header lines and bylines.

`split_front_matter(text)` takes a YAML `---` block, or a first paragraph of `Key: value` lines ("Source: Harbour
Gazette", "Date: 3 May 2022"), off the top of a text file; `split_byline(text)` takes a leading "By Jane Roe,
Harbour Gazette, 3 May 2022" paragraph off a body. Both return what they found as a plain {key: value} dict
(keys lower-case) and the text without it, so metadata never becomes a sentence to cite. `Metadata.from_pairs`
sorts such pairs into the known fields (title, source, date, url, author, id) and the rest (`fields`: category,
section, tags, language, …), the same way for every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

# Keys that name the known fields, in every format (JSON records, front matter, header lines); first wins.
TITLE_KEYS = ("title", "headline")
TEXT_KEYS = ("text", "body", "content", "article")
DATE_KEYS = ("date", "published", "published_at", "pubdate", "publication_date")
URL_KEYS = ("url", "link")
SOURCE_KEYS = ("source", "publisher")
AUTHOR_KEYS = ("author", "byline", "authors", "by")
ID_KEYS = ("id", "article_id", "doc_id")
KNOWN_KEYS = frozenset((*TITLE_KEYS, *TEXT_KEYS, *DATE_KEYS, *URL_KEYS, *SOURCE_KEYS, *AUTHOR_KEYS, *ID_KEYS))

MAX_FIELDS = 50  # extra metadata fields kept per article
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 500

_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z _-]{0,30}?)\s*:\s*(?P<value>\S.*)$")
_YAML_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w -]{0,40}?)\s*:\s*(?P<value>.*)$")
_YAML_ITEM = re.compile(r"^\s+-\s+(?P<value>.+)$")
# "By Jane Roe, Harbour Gazette, 3 May 2022", "By Jane Roe | Harbour Gazette | May 3, 2022", "By Jane Roe".
_BYLINE = re.compile(r"^(?i:by)\s+(?P<parts>[A-Z][^.!?]{1,150}?(?:\d{4})?)\.?$")
_BYLINE_SPLIT = re.compile(r"\s*(?:,|\||—|–|\s-\s)\s*")
_BYLINE_BARS = re.compile(r"\s*(?:\||—|–|\s-\s)\s*")
_NAME_WORD = re.compile(r"^[A-Z][\w'’.-]*$")
_PARTICLES = frozenset({"de", "da", "del", "der", "van", "von", "bin", "al", "la", "le", "and", "&"})


class Metadata(BaseModel):
    """The known metadata of an article and the rest, from whatever the input calls them."""

    title: str | None = None
    source: str | None = None
    date: str | None = Field(default=None, description="As written; index.text.dates.normalize_date makes it ISO.")
    url: str | None = None
    author: str | None = None
    id: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="Every other scalar field.")

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, object], skip: Iterable[str] = ()) -> Metadata:
        """Sort `pairs` (keys in any case) into the known fields and `fields`; values that are not scalars
        (or lists of scalars, joined with ", ") are left out, as are the keys in `skip`."""
        skipped = {k.lower() for k in skip}
        known: dict[str, str] = {}
        fields: dict[str, str] = {}
        for raw_key, raw_value in pairs.items():
            key = field_key(raw_key)
            value = scalar_text(raw_value)
            if not key or key in skipped or value is None:
                continue
            if key in KNOWN_KEYS:
                known.setdefault(key, value)
            elif len(fields) < MAX_FIELDS and len(key) <= MAX_KEY_CHARS:
                fields.setdefault(key, value[:MAX_VALUE_CHARS])

        def first(keys: Iterable[str]) -> str | None:
            return next((known[k] for k in keys if k in known), None)

        return cls(
            title=first(TITLE_KEYS), source=first(SOURCE_KEYS), date=first(DATE_KEYS), url=first(URL_KEYS),
            author=first(AUTHOR_KEYS), id=first(ID_KEYS), fields=fields,
        )  # fmt: skip


def field_key(name: object) -> str:
    """A metadata key as it is stored: "Published At", "published-at" and "published_at" are one field."""
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def scalar_text(value: object) -> str | None:
    """A metadata value as one line of text: strings, numbers and booleans, or a list of them joined with ", ";
    None for anything else (objects, nested lists) and for blanks."""
    if isinstance(value, list):
        parts = [scalar_text(v) for v in value if not isinstance(v, list | dict)]
        text = ", ".join(p for p in parts if p)
        return text or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        text = " ".join(value.split()).strip().strip("\"'").strip()
        return text or None
    return None


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Metadata at the top of a text file, and the text without it.

    A YAML block between `---` lines (scalars, `[a, b]` lists and `- item` lists), or a first paragraph made only
    of `Key: value` lines of which at least one names a known field (Source, Date, Author, Title, URL, …). Anything
    else is left as text: ({}, text).
    """
    stripped = text.lstrip("\ufeff")
    lines = stripped.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((n for n in range(1, len(lines)) if lines[n].strip() in ("---", "...")), None)
        if end is not None:
            pairs = _yaml_pairs(lines[1:end])
            if pairs is not None:
                return pairs, "\n".join(lines[end + 1 :])
    first_blank = next((n for n, line in enumerate(lines) if not line.strip()), len(lines))
    header = [line.strip() for line in lines[:first_blank]]
    matches = [_HEADER_LINE.match(line) for line in header]
    if header and all(matches) and len(header) <= 20:
        pairs = {m.group("key").strip().lower(): m.group("value").strip() for m in matches if m}
        if any(key.replace(" ", "_") in KNOWN_KEYS for key in pairs):
            return dict(pairs), "\n".join(lines[first_blank:])
    return {}, text


def _yaml_pairs(lines: list[str]) -> dict[str, object] | None:
    """The flat YAML of front matter, read without a YAML library; None when a line is not of that shape."""
    pairs: dict[str, object] = {}
    key: str | None = None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _YAML_ITEM.match(line)
        if item and key is not None:
            current = pairs.get(key)
            pairs[key] = [*(current if isinstance(current, list) else []), item.group("value").strip().strip("\"'")]
            continue
        match = _YAML_LINE.match(line)
        if match is None or line[:1].isspace():
            return None
        key, value = match.group("key").strip(), match.group("value").strip()
        if value.startswith("[") and value.endswith("]"):
            pairs[key] = [part.strip().strip("\"'") for part in value[1:-1].split(",") if part.strip()]
        else:
            pairs[key] = value if value else []
    return pairs


def split_byline(text: str, parse_date: object = None) -> tuple[dict[str, str], str]:
    """A leading byline paragraph ("By Jane Roe, Harbour Gazette, 3 May 2022") as {"author", "source", "date"}
    (those it names), and the text without it; ({}, text) when the first paragraph is not a byline.

    `parse_date(text) -> ISO date or None` tells a date part from a source (index.text.dates.normalize_date).
    """
    paragraphs = text.split("\n\n", 1)
    first = " ".join(paragraphs[0].split())
    match = _BYLINE.match(first)
    if match is None or len(first.split()) > 20:
        return {}, text
    named = match.group("parts")
    # "Jane Roe | Harbour Gazette | May 3, 2022": with bars or dashes, a comma may be inside the date.
    splitter = _BYLINE_BARS if _BYLINE_BARS.search(named) else _BYLINE_SPLIT
    parts = [p for p in splitter.split(named) if p]
    if not parts or not _looks_like_name(parts[0]):
        return {}, text
    found = {"author": parts[0]}
    for part in parts[1:]:
        day = parse_date(part) if callable(parse_date) else None
        if day and "date" not in found:
            found["date"] = day
        elif "source" not in found and not any(ch.isdigit() for ch in part):
            found["source"] = part
        else:
            return {}, text  # something a byline does not hold: leave the paragraph alone
    return found, paragraphs[1] if len(paragraphs) > 1 else ""


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 5 and all(_NAME_WORD.match(w) or w.lower() in _PARTICLES for w in words)
