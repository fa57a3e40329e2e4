"""Typed records that travel from ingest to the index: articles, their sentences and chunks."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from index.text.dates import TimeMention
from newsqa.errors import NewsQAError


class Article(BaseModel):
    """One cleaned news article. `text` is the answerable body; offsets point into it."""

    id: str
    title: str = ""
    text: str
    source: str | None = None
    date: str | None = Field(default=None, description="ISO date (YYYY-MM-DD) when the input gives one.")
    url: str | None = None
    author: str | None = None
    origin: str = Field(default="", description="File (and line) the article was read from.")
    content_hash: str = ""
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Other scalar metadata the input gives: category, section, tags, language… (name -> value).",
    )


# An article's own fields, in the model's order, without `fields` (its open metadata, kept apart): what a store
# keeps in an article's row and reads back.
ARTICLE_COLUMNS = tuple(name for name in Article.model_fields if name != "fields")


class Sentence(BaseModel):
    """A sentence of an article, with character offsets into `Article.text`."""

    article_id: str
    number: int = Field(description="0-based position of the sentence in its article.")
    start: int
    end: int
    text: str
    times: list[TimeMention] = Field(
        default_factory=list,
        description="Time expressions of the sentence (offsets into `text`), resolved against the article's date.",
    )


class Chunk(BaseModel):
    """A run of whole sentences that fits the encoder's window."""

    article_id: str
    number: int
    first_sentence: int
    last_sentence: int = Field(description="Inclusive.")
    start: int
    end: int
    text: str


# Control characters (C0, DEL, C1) and the bidirectional overrides that can make a printed name read as another.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` safe to print to a terminal: control characters escaped as \\xNN / \\uNNNN (a file name with an
    escape sequence in it must not drive the user's terminal, nor a new line fake another report line)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class Problem(BaseModel):
    """An input that could not be ingested, and why."""

    path: str
    line: int | None = None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path} line {self.line}" if self.line is not None else self.path
        return printable(f"{where}: {self.reason}")


class IngestReport(BaseModel):
    """What an ingest did: counts per outcome and each problem with its file and line."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.problems)} skipped ({self.seconds:.1f} s)"
        )
        return "\n".join([text, *(f"  skipped {p}" for p in self.problems)])


class IndexStoreError(NewsQAError):
    """Base of the index's errors: the message says what to do."""


class IndexMismatchError(IndexStoreError):
    """The index on disk was built differently from what this code expects."""


class IndexNotFoundError(IndexStoreError):
    """No index exists at the given place yet."""
