"""Understand a question: rewrite a follow-up into a self-contained question (qa/followup.py), put it in the
archive's spelling (qa/spelling.py), analyse it (qa/question.py) and read the time it asks about (qa/when.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from index.storage import StoreReader
from qa.followup import Turn, rewrite
from qa.models import Answer, QuestionTime
from qa.question import Question, analyze
from qa.spelling import align_spelling
from qa.when import read_time


@dataclass(frozen=True)
class Understood:
    """A question as the rest of the answer path reads it."""

    asked: str  # the question as asked, its whitespace collapsed
    text: str  # self-contained and in the archive's spelling: what is searched for and read
    question: Question
    time: QuestionTime


def as_asked(question: str, as_of: date) -> Understood:
    """`question` exactly as given, with no history, spelling or time read: what the trainers fit on (SQuAD's
    questions are self-contained and ask nothing of the archive's dates)."""
    return Understood(question, question, analyze(question), QuestionTime(as_of=as_of))


@dataclass(frozen=True)
class Understand:
    """Question text (+ earlier turns, the day asked) → `Understood`."""

    store: StoreReader | None
    time_aware: bool = True

    def run(self, question: str, history: Sequence[str | Answer | Turn] | None, as_of: date) -> Understood:
        asked = " ".join(question.split())
        understood = rewrite(asked, history)
        if self.store is not None:
            understood = align_spelling(understood, terms_held_by(self.store))
        when = read_time(understood, as_of) if self.time_aware else QuestionTime(as_of=as_of)
        return Understood(asked, understood, analyze(understood), when)


def terms_held_by(store: StoreReader) -> Callable[[Iterable[str]], set[str]]:
    """Which of some index terms the store's chunks hold."""

    def holds(terms: Iterable[str]) -> set[str]:
        return {t for t, df in store.document_frequencies(list(terms)).items() if df > 0}

    return holds
