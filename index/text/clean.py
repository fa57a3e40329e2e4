"""Turn one raw news text (a scraped page's text or its HTML) into a title, a byline and the answerable body.

`clean_article` strips the web furniture that scrapes of news sites carry (repeated banner words, the
"Name / Source Share:" byline, photo captions, "Previous Article / Next Article" teasers) with generic,
conservative rules: a line that reads like a sentence of the story is always kept. `clean_html` does the
same for an HTML page through trafilatura. `clean_body` only normalises whitespace and drops trailing
teasers, for bodies that are already clean (JSON exports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from index.models import IndexStoreError


class CleanedText(BaseModel):
    """The parts of an article worth keeping. `text` is the body, paragraphs separated by a blank line."""

    title: str = ""
    author: str | None = None
    source: str | None = None
    text: str
    date: str | None = None
    url: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="Other metadata: categories, tags, language.")


class NoArticleTextError(IndexStoreError):
    """An HTML page in which no article body could be found."""


# Spaces that scrapes carry inside lines (no-break, thin, ideographic…): all read as one plain space.
# A lone plain space is left alone rather than replaced by itself: re.sub builds one piece per match, and a 20 MB
# line has four million of them (300 MB for nothing).
_INLINE_SPACE = re.compile(
    r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# Terminal escape sequences (colours, window titles) and other control characters: never article text, and
# printed raw they would drive the user's terminal.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]?")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

_CLOSERS = "\"'”’»)]」』）"
_SENTENCE_END = ".!?…。！？។៕"
_TITLE_END = ".!?…,;:。！？។៕，；："
# Scripts written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar): a run of them is one "word"
# to str.split(), so their characters are counted instead, about two to a word.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

# Lines that are page furniture wherever they appear; compared lower-cased and without trailing colon.
_BOILERPLATE_LINES = frozenset(
    {
        "advertisement",
        "advertisements",
        "advertising",
        "sponsored",
        "sponsored content",
        "skip to content",
        "skip to main content",
        "share",
        "share this",
        "share this article",
        "share this story",
        "share on facebook",
        "share on twitter",
        "tweet",
        "print",
        "email",
    }
)

# The whole line is the marker, or the marker, a colon and the teaser's headline.
_TEASER_MARKER = re.compile(
    r"^[«‹<←\s]*(?:previous|prev|next|older|newer)\s+(?:article|post|story|news|item)s?[»›>→\s]*(?::.*)?$",
    re.IGNORECASE,
)

# A personal name: capitalised words, with the usual lower-case particles between them.
_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:(?:de|da|del|der|van|von|bin|binti|al|la|le|dos|du)\s+)?[A-Z][\w'’.-]*){0,4}"
_NAMES = rf"{_NAME}(?:\s*,\s*{_NAME})*(?:\s*,?\s+(?i:and|&)\s+{_NAME})?"
_SOURCE = r"[A-Z0-9][\w'’.&-]*(?:\s+[\w'’.&-]+){0,5}?"
_SHARE = r"(?:\s*\|?\s*(?i:share(?:\s+this(?:\s+article|\s+story)?)?)\s*:?)?"
# Case matters for names (so a headline is not read as one) but not for the words around them.
_BYLINE = re.compile(
    rf"^(?:(?i:by)\s+)?(?P<author>{_NAMES})\s*[/|]\s*(?P<source>{_SOURCE}){_SHARE}\s*$"
    rf"|^(?i:by)\s+(?P<author_only>{_NAMES}){_SHARE}\s*$"
)

_AGENCIES = r"(?:Reuters|AFP|AP|EPA|Xinhua|Getty Images|Shutterstock|Supplied|File(?: photo)?|Bloomberg)"
# "KT/Chor Sokunthea", "AFP/Getty Images": an upper-case outlet code, a slash, then a name.
_SLASH_CREDIT = r"\b[A-Z]{1,6}/[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}"
_LABEL_CREDIT = r"(?:^|[.!?|–—-]\s*)(?:Photos?|Pictures?|Images?|Credit|Photo credit)\s*(?::|by\b|courtesy\b).{1,80}"
_AGENCY_CREDIT = rf"(?:\(\s*{_AGENCIES}\s*\)|(?:^|[.|–—-])\s*{_AGENCIES})"
# Near the top of a page a credit may follow the caption without a full stop; in the body it must not.
_HEADER_CAPTION = re.compile(rf"(?:{_SLASH_CREDIT}|{_LABEL_CREDIT}|{_AGENCY_CREDIT})\.?$")
_BODY_CAPTION = re.compile(rf"(?:[.!?]\s+{_SLASH_CREDIT}|{_LABEL_CREDIT}|[.!?]\s*\(\s*{_AGENCIES}\s*\))\.?$")

_HEADER_LINES = 8
_SHORT_LINE_WORDS = 30
_TITLE_MAX_WORDS = 25
_WORDS_COUNTED = 64
_TITLE_MAX_CHARS = 200


@dataclass
class _Line:
    text: str
    paragraph: int
    alone: bool
    keep: bool = True


def normalize_line(line: str) -> str:
    """Drop escape codes and control characters, collapse runs of spaces (no-break and other wide spaces
    included) to one space and strip the ends."""
    return _INLINE_SPACE.sub(" ", _CONTROL.sub("", _INVISIBLE.sub("", _ESCAPES.sub("", line)))).strip()


def clean_body(text: str) -> str:
    """Tidy a body that is already free of page furniture: whitespace, then trailing "Next Article" teasers.

    Args:
        text: an article body, e.g. the `text` field of a JSON export.

    Returns:
        The body with paragraphs separated by one blank line.
    """
    lines = _to_lines(_split_paragraphs(text))
    _drop_trailing_teasers(lines)
    return _from_lines(lines)


def clean_article(raw_text: str, *, find_title: bool = True) -> CleanedText:
    """Split a scraped news text into title, author, source and the answerable body.

    Args:
        raw_text: the text of one article as scraped, boilerplate and all.
        find_title: look for a headline in the first lines; off when the caller already knows the title.

    Returns:
        The cleaned parts. Without any boilerplate the body comes back as given, whitespace aside; the title
        is then empty unless the text opens with a headline (a short line of its own, without final
        punctuation).
    """
    lines = _to_lines(_split_paragraphs(raw_text))
    title, author, source = _strip_header(lines, find_title=find_title)
    _drop_trailing_teasers(lines)
    for line in lines:
        if line.keep and (_is_boilerplate_line(line.text) or _is_caption(line.text, _BODY_CAPTION)):
            line.keep = False
    _drop_trailing_banners(lines)
    return CleanedText(title=title, author=author, source=source, text=_from_lines(lines))


def clean_html(html: str | bytes) -> CleanedText:
    """Extract the article from an HTML page with trafilatura, offline, favouring precision over recall.

    Args:
        html: the page; bytes are decoded by trafilatura using the page's declared charset.

    Returns:
        Title (from the page's metadata, `<title>` or `<h1>`), author, site name, date, canonical URL
        and body.

    Raises:
        NoArticleTextError: trafilatura found no article text in the page.
    """
    meta = _extract(html)
    if meta is None:
        raise NoArticleTextError("no article text found in the HTML page (is it an index page or empty?)")
    title = normalize_line(meta.get("title") or "")
    # trafilatura renders one paragraph per line; the rest of the project expects blank-line paragraphs.
    paragraphs = [normalize_line(line) for line in (meta.get("text") or "").splitlines()]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    text = clean_body("\n\n".join(paragraphs))
    # A few link labels ("Home", "News") are what trafilatura keeps from a page with no story at all.
    if not has_content(text):
        raise NoArticleTextError(f"no article text in the HTML page, only {text[:60]!r}")
    return CleanedText(
        title=title,
        author=_none_if_blank(meta.get("author")),
        source=_none_if_blank(meta.get("sitename")) or _none_if_blank(meta.get("hostname")),
        text=text,
        date=_none_if_blank(meta.get("date")),
        url=_none_if_blank(meta.get("url")),
        # The page's <meta> categories, tags and language, kept as metadata (never as text).
        fields={
            name: value
            for name, key in (("category", "categories"), ("tags", "tags"), ("language", "language"))
            if (value := _joined(meta.get(key)))
        },
    )


def _joined(value: object) -> str | None:
    if isinstance(value, list):
        value = ", ".join(normalize_line(str(v)) for v in value if str(v).strip())
    return _none_if_blank(value)


def _extract(html: str | bytes) -> dict[str, Any] | None:
    # Imported here: trafilatura pulls in lxml and its language data, which plain-text ingest never needs.
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        # Dates from the page's markup only (meta tags, JSON-LD, <time>): never a year guessed from the body,
        # which would put "It opened in 1999." into citations and the date filter as the article's date.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None:
        return None
    fields = document if isinstance(document, dict) else document.as_dict()
    return fields if isinstance(fields.get("text"), str) and fields["text"].strip() else None


def _none_if_blank(value: object) -> str | None:
    return (normalize_line(value) or None) if isinstance(value, str) else None


def _split_paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = normalize_line(raw)
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _join_paragraphs(paragraphs: list[list[str]]) -> str:
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def _to_lines(paragraphs: list[list[str]]) -> list[_Line]:
    return [_Line(text, n, alone=len(p) == 1) for n, p in enumerate(paragraphs) for text in p]


def _from_lines(lines: list[_Line]) -> str:
    paragraphs: dict[int, list[str]] = {}
    for line in lines:
        if line.keep:
            paragraphs.setdefault(line.paragraph, []).append(line.text)
    return _join_paragraphs(list(paragraphs.values()))


def _words(text: str) -> int:
    """Words in `text`, counted up to 65: every rule compares with 40 or less, and a 20 MB line split into all
    its words would cost hundreds of MB of small strings."""
    spaced = len(text.split(maxsplit=_WORDS_COUNTED))
    if spaced > _WORDS_COUNTED:
        return _WORDS_COUNTED + 1
    return spaced + (len(text) - len(_UNSPACED.sub("", text))) // 2  # a copy of the text, not a list of characters


def has_content(text: str) -> bool:
    """Whether a cleaned body holds article text: ten words or more, or at least one finished sentence.

    "Subscribe to our newsletter / Facebook Twitter" does not; "Drugs seized." does.
    """
    return _words(text) >= 10 or any(_ends_sentence(p) for p in text.split("\n"))


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_body(text: str) -> bool:
    """A line that reads as part of the story; no rule here may drop one."""
    return _words(text) > 40 or (_words(text) >= 6 and _ends_sentence(text))


def _is_banner(text: str) -> bool:
    if len(text) > 1000:  # a banner is one word repeated along a line, never a paragraph of text
        return False
    tokens = text.lower().split()
    return len(tokens) >= 2 and len(set(tokens)) == 1 and tokens[0].isalnum()


def _is_boilerplate_line(text: str) -> bool:
    return text.lower().rstrip(":").strip() in _BOILERPLATE_LINES


def _is_caption(text: str, pattern: re.Pattern[str]) -> bool:
    return _words(text) <= _SHORT_LINE_WORDS and not _is_body(text) and pattern.search(text) is not None


def _match_byline(text: str) -> tuple[str, str | None] | None:
    if _words(text) > 16:
        return None
    match = _BYLINE.match(text)
    if match is None:
        return None
    author = match.group("author") or match.group("author_only")
    source = match.group("source")
    return author.strip(), source.strip() if source else None


def _looks_like_title(line: _Line) -> bool:
    text = line.text
    return (
        line.alone
        and not _is_caption(text, _BODY_CAPTION)
        and len(text) <= _TITLE_MAX_CHARS
        and _words(text) <= _TITLE_MAX_WORDS
        and text.rstrip(_CLOSERS)[-1:] not in _TITLE_END
        and bool(re.match(r"[\"'“‘(\[]?[\w]", text))
        and text[0] == text[0].upper()
    )


def _strip_header(lines: list[_Line], *, find_title: bool) -> tuple[str, str | None, str | None]:
    """Drop banner, byline and caption lines at the top; take the headline if there is one."""
    title_line: _Line | None = None
    author: str | None = None
    source: str | None = None
    seen_other = False
    for line in lines[:_HEADER_LINES]:
        text = line.text
        if _is_body(text):
            break
        if _is_banner(text) or _is_boilerplate_line(text):
            line.keep = False
            continue
        # The headline comes first: a title such as "Covid-19: WHO/Europe Warns" must not pass for a caption.
        if find_title and title_line is None and not seen_other and _looks_like_title(line):
            title_line = line
            line.keep = False
            continue
        seen_other = True
        byline = _match_byline(text) if author is None else None
        if byline is not None:
            author, source = byline
            line.keep = False
            continue
        if _is_caption(text, _HEADER_CAPTION):
            line.keep = False
            continue
        break
    if title_line is not None and not any(line.keep for line in lines):
        # A lone short line is the whole text, not a headline over nothing.
        title_line.keep = True
        title_line = None
    return (title_line.text if title_line else ""), author, source


def _drop_trailing_teasers(lines: list[_Line]) -> None:
    """Cut "Previous Article" / "Next Article" markers and the short teaser headlines after them.

    Only the tail of the text is considered: from the end back to the last line that reads as story text.
    """
    first_marker: int | None = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line.keep:
            continue
        if _TEASER_MARKER.match(line.text) and _words(line.text) <= _TITLE_MAX_WORDS:
            first_marker = index
        elif _is_body(line.text) or _words(line.text) > _TITLE_MAX_WORDS:
            break
    if first_marker is not None:
        for line in lines[first_marker:]:
            line.keep = False


def _drop_trailing_banners(lines: list[_Line]) -> None:
    for line in reversed(lines):
        if not line.keep:
            continue
        if not (_is_banner(line.text) or _is_boilerplate_line(line.text)):
            return
        line.keep = False
