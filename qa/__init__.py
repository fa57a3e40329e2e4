"""Question answering over news archives: exact sentences from the articles, cited, or an honest abstention.

from qa import answer
result = answer("how many kilograms were seized in 2019?")
print(result.sentences[0].marked(), result.sentences[0].citation)

Importing the package loads nothing: the answer types and the assistant are imported on first use
(`__getattr__`), so `import qa` stays fast and the cross-encoder's trainer (training/reader.py), which imports
qa.cross_encoder and so this package, runs where only torch is installed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.models import Answer, AnswerType, Citation, CitedSentence, SearchFilter, Span

__all__ = [
    "Answer", "AnswerType", "Assistant", "Citation", "CitedSentence", "SearchFilter", "Span", "answer",
    "default_assistant",
]  # fmt: skip

_MODELS = ("Answer", "AnswerType", "Citation", "CitedSentence", "SearchFilter", "Span")
_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The shared assistant over the configured index (bundled corpus indexed on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            from qa.assistant import Assistant

            _default = Assistant()
        return _default


def answer(
    question: str,
    history: Sequence[str | Answer] | None = None,
    top_k: int | None = None,
    index: Assistant | None = None,
    search_filter: SearchFilter | None = None,
    as_of: date | str | None = None,
) -> Answer:
    """Answer `question` from the corpus: cited sentences with the answer span, or `found=False`.

    Args:
        question: the question as the user typed it.
        history: earlier turns of the conversation, oldest first (their questions or `Answer`s), used to
            understand follow-ups such as "and in 2018?".
        top_k: at most this many sentences are returned (default: the answering settings' `top_k`, 3).
        index: the `Assistant` to ask; by default a shared one over the configured index.
        search_filter: optional source and date-range restriction.
        as_of: the day the question is asked (a date or "YYYY-MM-DD"; default today): "last month" counts from
            it, and articles published after it rank last.
    """
    assistant = index or default_assistant()
    return assistant.answer(question, history=history, top_k=top_k, search_filter=search_filter, as_of=as_of)


def __getattr__(name: str) -> object:
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    if name in _MODELS:
        from qa import models

        return getattr(models, name)
    raise AttributeError(name)
