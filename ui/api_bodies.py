"""The REST API's request and response bodies: their field descriptions are the OpenAPI document's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from qa.models import Answer
from ui.arguments import MAX_QUESTION_CHARS, MAX_TOP_K  # the chat's limits, so every way in takes the same

MAX_HISTORY_TURNS = 50
MAX_RECORDS = 1000  # articles per POST /api/v1/articles


class ApiFilter(BaseModel):
    """Which articles may answer."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] | None = Field(
        default=None, description='Only articles from these sources, e.g. ["Khmer Times"]; empty or absent: all.'
    )
    date_from: str | None = Field(default=None, description="Only articles dated on or after this day (YYYY-MM-DD).")
    date_to: str | None = Field(default=None, description="Only articles dated on or before this day (YYYY-MM-DD).")
    fields: dict[str, str] | None = Field(
        default=None,
        description='Only articles whose metadata has these values, e.g. {"category": "business"} (needs an index '
        "that stores articles' fields).",
    )


class AnswerRequest(BaseModel):
    """A question, with the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, description="The question as a user would type it."
    )
    history: list[str | Answer] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns, oldest first: their questions (strings) or the answers this API returned for "
        'them. Follow-ups such as "and in 2018?" are understood from them.',
    )
    top_k: int = Field(default=3, ge=1, le=MAX_TOP_K, description="At most this many sentences in the answer.")
    as_of: str | None = Field(
        default=None,
        description='The day the question is asked as of (YYYY-MM-DD): "last month" counts from it and articles '
        "published after it rank last. Absent: today.",
    )
    filters: ApiFilter | None = Field(default=None, description="Which articles may answer; absent: all.")


class ArticleIn(BaseModel):
    """An article to add, as a JSONL feed would give it. Other scalar fields are kept as the article's metadata
    where the index keeps them."""

    model_config = ConfigDict(extra="allow")

    text: str = Field(min_length=1, description="The article's body (plain text; paragraphs separated by blank lines).")
    id: str | None = Field(default=None, description="Its id; absent: a hash of its content. The same id replaces.")
    title: str | None = Field(default=None, description="The title.")
    source: str | None = Field(default=None, description="The publication.")
    date: str | None = Field(default=None, description="The publication date (YYYY-MM-DD, or a date in words).")
    url: str | None = Field(default=None, description="Where it was published.")
    author: str | None = Field(default=None, description="Who wrote it.")


class ArticlesRequest(BaseModel):
    """Articles to add to the index."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(
        min_length=1, max_length=MAX_RECORDS, description=f"The articles (1 to {MAX_RECORDS} per request)."
    )


class Refused(BaseModel):
    """An article that could not be added, and why."""

    record: int | None = Field(description="Its position in `articles`, counted from 1.")
    reason: str = Field(description="What was wrong with it.")


class IngestResult(BaseModel):
    """What adding the articles did."""

    added: list[str] = Field(description="Ids of the articles new to the index.")
    updated: list[str] = Field(description="Ids of articles whose earlier version was replaced.")
    unchanged: list[str] = Field(description="Ids of articles already indexed as they are.")
    refused: list[Refused] = Field(description="Articles that could not be added, each with the reason.")
    seconds: float = Field(description="How long adding them took.")


class ArticleOut(BaseModel):
    """An article as indexed: the cleaned text that citations' offsets point into, and its metadata."""

    id: str = Field(description="The article's id.")
    title: str = Field(description="Its title.")
    text: str = Field(description="The cleaned text; citations' start/end offsets point into it.")
    source: str | None = Field(description="The publication, when known.")
    date: str | None = Field(description="The publication date (YYYY-MM-DD), when known.")
    url: str | None = Field(description="Where it was published, when known.")
    author: str | None = Field(description="Who wrote it, when known.")
    origin: str = Field(description="The file (and line) it was read from, without the server's folders.")
    fields: dict[str, str] = Field(description="Its other metadata: category, section, tags, language…")


class Removed(BaseModel):
    """What a removal did."""

    removed: list[str] = Field(description="Ids of the articles removed.")


class SourceCount(BaseModel):
    """A source and how many articles it has."""

    name: str = Field(description='The source ("" for articles without one).')
    articles: int = Field(description="How many articles of the index it has.")


class Stats(BaseModel):
    """What the index holds."""

    articles: int = Field(description="Articles in the index.")
    sentences: int = Field(description="Sentences in the index.")
    chunks: int = Field(description="Passages the retrieval searches (runs of whole sentences).")
    sources: list[SourceCount] = Field(description="Sources, most articles first.")
    date_from: str | None = Field(description="Date of the oldest dated article.")
    date_to: str | None = Field(description="Date of the newest dated article.")
    updated_at: str = Field(description="When the index last changed (ISO time).")
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The metadata fields the articles hold (what filters.fields can name), each with a few of its "
        'values, most common first, e.g. {"category": ["business", "sport"]}.',
    )
    warning: str | None = Field(description="Set when a damaged index is being served from an earlier snapshot.")


class Health(BaseModel):
    """Whether the server answers."""

    status: str = Field(description='"ok", or "degraded" when an earlier snapshot stands in for a damaged one.')


class ApiError(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="What went wrong, in words a user can act on.")


# The error responses every route may give, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiError, "description": text}
    for code, text in (
        (400, "The request is malformed."),
        (401, "A sign-in is required."),
        (403, "The Host or Origin is not one this server serves."),
        (422, "A field is missing or has a wrong value."),
        (429, "Too many failed sign-ins from this address."),
        (503, "The index cannot be read."),
    )
}
