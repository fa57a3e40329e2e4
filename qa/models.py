"""Typed answers that carry their evidence: the sentence, the span inside it, and where it came from."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


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

    article_id: str
    title: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    origin: str = Field(default="", description="File the article was ingested from.")
    sentence_number: int = Field(description="0-based position of the sentence in the article.")
    start: int = Field(description="Character offset of the sentence in the cleaned article text.")
    end: int


class Span(BaseModel):
    """The answer inside a sentence; offsets are relative to the sentence text."""

    text: str
    start: int
    end: int
    answer_type: AnswerType


class CitedSentence(BaseModel):
    """A sentence extracted verbatim from the corpus, with its citation and optional answer span."""

    text: str
    score: float = Field(description="Confidence in [0, 1] that the sentence answers the question.")
    span: Span | None = None
    citation: Citation

    def marked(self, left: str = "**", right: str = "**") -> str:
        """The sentence with the span wrapped in markers (Markdown bold by default)."""
        if self.span is None:
            return self.text
        s = self.span
        return f"{self.text[: s.start]}{left}{self.text[s.start : s.end]}{right}{self.text[s.end :]}"


class Answer(BaseModel):
    """The reply to one question: cited sentences, or an explicit abstention."""

    question: str = Field(description="The question as asked.")
    understood_question: str = Field(description="The question answered, after resolving follow-ups.")
    answer_type: AnswerType
    found: bool
    sentences: list[CitedSentence] = Field(default_factory=list)
    message: str = ""

    @property
    def rewritten(self) -> bool:
        return self.understood_question != self.question

    @property
    def best_span(self) -> Span | None:
        return self.sentences[0].span if self.found and self.sentences else None


class SearchFilter(BaseModel):
    """Optional narrowing of the search by source and date range (ISO dates, inclusive)."""

    sources: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
