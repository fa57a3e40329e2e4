"""Typed answers that carry their evidence: the sentence, the span inside it, and where it came from."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from index.text.dates import says_its_year

if TYPE_CHECKING:
    from index.storage.api import Filter


class AnswerType(StrEnum):
    """What kind of thing the question asks for."""

    QUANTITY = "quantity"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    ORGANIZATION = "organization"
    REASON = "reason"
    QUOTE = "quote"
    OTHER = "other"


class Citation(BaseModel):
    """Where a sentence stands: enough for a reader to find and check it."""

    article_id: str = Field(description="Id of the cited article (its own id, or a hash of its content).")
    title: str = Field(description="The article's title.")
    source: str | None = Field(default=None, description="The publication the article comes from, when known.")
    date: str | None = Field(default=None, description="The article's date (YYYY-MM-DD), when known.")
    url: str | None = Field(default=None, description="Where the article was published, when known.")
    origin: str = Field(default="", description="File the article was ingested from.")
    fields: dict[str, str] = Field(
        default_factory=dict, description="The article's other metadata (category, section, tags, language…)."
    )
    fact_dates: list[str] = Field(
        default_factory=list,
        description='Time expressions of the sentence with the dates they stand for ("last month = Mar 1987"), '
        "resolved against the article's date.",
    )
    page: int | None = Field(default=None, description="For a PDF, the page the sentence is on (from 1).")
    sentence_number: int = Field(description="0-based position of the sentence in the article.")
    start: int = Field(description="Character offset of the sentence in the cleaned article text.")
    end: int = Field(description="Character offset just past the sentence's end in the cleaned article text.")


class Span(BaseModel):
    """The answer inside a sentence; offsets are relative to the sentence text."""

    text: str = Field(description="The answer as written in the sentence.")
    start: int = Field(description="Character offset of the answer in the sentence.")
    end: int = Field(description="Character offset just past the answer's end in the sentence.")
    answer_type: AnswerType = Field(description="What kind of answer the span is (quantity, date, person, …).")


class CitedSentence(BaseModel):
    """A sentence extracted verbatim from the corpus, with its citation and optional answer span."""

    text: str = Field(description="The sentence, exactly as in the article.")
    score: float = Field(description="Confidence in [0, 1] that the sentence answers the question.")
    span: Span | None = Field(default=None, description="The answer inside the sentence, when one is marked.")
    citation: Citation = Field(description="Where the sentence stands: article, source, date, position.")

    def marked(self, left: str = "**", right: str = "**") -> str:
        """The sentence with the span wrapped in markers (Markdown bold by default)."""
        if self.span is None:
            return self.text
        s = self.span
        return f"{self.text[: s.start]}{left}{self.text[s.start : s.end]}{right}{self.text[s.end :]}"


class QuestionTime(BaseModel):
    """When the question is about: the date it is asked as of, and the range a time expression in it stands for."""

    as_of: date = Field(description="The day the question is asked as of: relative dates count from it.")
    expression: str | None = Field(default=None, description='The time expression read ("last month"), if any.')
    start: int | None = Field(default=None, description="Offsets of `expression` in the understood question.")
    end: int | None = Field(default=None, description="Offset just past `expression` in the understood question.")
    first: date | None = Field(default=None, description="First day of the range it stands for (inclusive).")
    last: date | None = Field(default=None, description="Last day of that range (inclusive).")
    label: str | None = Field(default=None, description='The range in words: "Mar 1987", "6–12 Apr 1987".')
    latest: bool = Field(default=False, description='The question asks for the newest figure ("current", "latest").')


class Answer(BaseModel):
    """The reply to one question: cited sentences, or an explicit abstention."""

    question: str = Field(description="The question as asked.")
    understood_question: str = Field(description="The question answered, after resolving follow-ups.")
    answer_type: AnswerType = Field(description="What kind of answer the question asks for.")
    found: bool = Field(description="Whether the corpus answers the question; false means an honest abstention.")
    sentences: list[CitedSentence] = Field(
        default_factory=list, description="The sentences that answer it, best first (empty when not found)."
    )
    message: str = Field(default="", description='Why nothing was found ("Not found in the corpus. …"), or "".')
    time: QuestionTime | None = Field(default=None, description="The as-of date used and the time asked about.")

    def shown_question(self) -> str:
        """The understood question with the range its time expression was read as: "… last month (Mar 1987)?"."""
        t = self.time
        text = self.understood_question
        if t is None or t.end is None or not t.label or t.end > len(text):
            return text
        if says_its_year(t.expression, t.first):
            return text  # "in 2019", "February 1987" already say it
        return f"{text[: t.end]} ({t.label}){text[t.end :]}"

    @property
    def rewritten(self) -> bool:
        return self.understood_question != self.question

    @property
    def best_span(self) -> Span | None:
        return self.sentences[0].span if self.found and self.sentences else None


class SearchFilter(BaseModel):
    """Optional narrowing of the search by source and date range (ISO dates, inclusive)."""

    sources: list[str] | None = Field(default=None, description="Only articles from these sources (None: all).")
    date_from: str | None = Field(default=None, description="Only articles dated on or after this ISO date.")
    date_to: str | None = Field(default=None, description="Only articles dated on or before this ISO date.")
    fields: dict[str, str] | None = Field(
        default=None, description='Only articles whose metadata has these values, e.g. {"category": "business"}.'
    )

    def to_storage_filter(self) -> Filter:
        """The same restriction in the storage interface's terms (index.storage.api.Filter)."""
        from index.storage.api import Filter

        return Filter(
            sources=tuple(self.sources or ()), date_from=self.date_from, date_to=self.date_to,
            fields=tuple(sorted((self.fields or {}).items())),
        )  # fmt: skip
