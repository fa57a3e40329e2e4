"""Understand follow-up questions in a chat by rewriting them with what earlier turns established.

"and in 2018?" after "how many kilograms were seized in 2019?" becomes "how many kilograms were seized in
2018?"; "who said that?" after an answer becomes 'who said "<the answer sentence>"?'. The rewritten question
is returned to the user, so a wrong guess is visible rather than silent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text.tokenize import tokenize
from qa.models import Answer, AnswerType
from qa.question import WH_WORDS, answer_type_of

_LEAD = re.compile(r"^\s*(?:and|but|also|so|ok|okay|then)?\s*(?:what|how)\s+about\s+|^\s*(?:and|but|also|so)\s+", re.I)
_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")
_PRONOUN = re.compile(r"\b(that|this|it|he|she|they|them|him|his|her|their|those|these|there)\b", re.I)
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her)\b", re.I)
_RELATIVE_TIME = re.compile(r"\b(?:(?:last|this|next|previous) year|yesterday|today|recently)\b", re.I)
_AUXILIARY = re.compile(r"\b(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|may|might)\b", re.I)
_PREP_PHRASE = re.compile(r"^(in|on|at|for|from|during|since|by|of|about)\s+(.+)$", re.I)


@dataclass
class Turn:
    """One earlier exchange: what was understood, and the answer given (if any)."""

    question: str
    answer: Answer | None = None


def _turns(history: Sequence[str | Answer | Turn] | None) -> list[Turn]:
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Answer):
            turns.append(Turn(item.understood_question, item))
        elif isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, str) and item.strip():
            turns.append(Turn(item.strip()))
    return turns


def _strip_mark(text: str) -> str:
    return text.strip().rstrip("?.! ").strip()


def is_follow_up(question: str) -> bool:
    """A question that leans on earlier turns: a fragment, a leading 'and', or a bare pronoun."""
    text = _strip_mark(question)
    lowered = text.lower()
    content = tokenize(text)
    if _LEAD.match(text):
        return True
    has_wh = any(w in WH_WORDS for w in re.findall(r"\w+", lowered))
    if not has_wh and len(content) <= 3:
        return True
    names = re.findall(r"(?<!^)\b[A-Z][a-z]+", text)
    if has_wh and len(content) <= 2 and not _AUXILIARY.search(lowered):
        return True  # "In how many cases?", "which year?": a question word with no verb of its own
    return bool(_PRONOUN.search(lowered)) and len(content) <= 3 and not names


def rewrite(question: str, history: Sequence[str | Answer | Turn] | None) -> str:
    """The question made self-contained using `history` (earlier turns, oldest first)."""
    turns = _turns(history)
    if not turns or not is_follow_up(question):
        return question.strip()
    previous = turns[-1]
    base = _strip_mark(previous.question)
    text = _strip_mark(question)
    fragment = _LEAD.sub("", text).strip()
    has_wh = any(w in WH_WORDS for w in re.findall(r"\w+", fragment.lower()))

    if not has_wh:
        # An elliptical fragment: swap it in for the matching part of the previous question.
        new_years = _YEAR.findall(fragment)
        if new_years and _YEAR.search(base):
            return _YEAR.sub(new_years[0], base, count=1) + "?"
        if new_years and _RELATIVE_TIME.search(base):
            return _RELATIVE_TIME.sub(f"in {new_years[0]}", base, count=1) + "?"
        match = _PREP_PHRASE.match(fragment)
        if match:
            prep = match.group(1).lower()
            replaced = re.sub(rf"\b{prep}\s+[^,?]+$", fragment, base, count=1, flags=re.I)
            return (replaced if replaced != base else f"{base} {fragment}") + "?"
        return f"{base} {fragment}?"

    if not _AUXILIARY.search(fragment.lower()) and not _PRONOUN.search(fragment):
        # "and how many marijuana plants?": a new subject for the previous question's predicate.
        predicate = _AUXILIARY.search(base.lower())
        if predicate:
            return f"{fragment} {base[predicate.start() :]}?"
        return f"{fragment} {base}?"

    # A full question with a pronoun: resolve it against the previous answer.
    answer = previous.answer
    top = answer.sentences[0] if answer and answer.found and answer.sentences else None
    if top is not None:
        person = top.span.text if top.span and top.span.answer_type == AnswerType.PERSON else None
        if person and _PERSON_PRONOUN.search(fragment):
            return _PERSON_PRONOUN.sub(person, fragment, count=1) + "?"
        if re.search(r"\b(that|this|it)\b", fragment, re.I) and answer_type_of(fragment) in (
            AnswerType.PERSON, AnswerType.DATE, AnswerType.PLACE, AnswerType.REASON, AnswerType.OTHER,
        ):  # fmt: skip
            quoted = _quote_of(top.text)
            return re.sub(r"\b(that|this|it)\b", f'"{quoted}"', fragment, count=1, flags=re.I) + "?"
    subject = _subject_of(base)
    if subject:
        return re.sub(r"\b(it|that|this|they|them)\b", subject, fragment, count=1, flags=re.I) + "?"
    return f"{fragment} ({base})?"


def _quote_of(sentence: str, max_words: int = 25) -> str:
    words = sentence.replace("“", "").replace("”", "").replace('"', "").split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def _subject_of(question: str) -> str:
    """The main noun phrase of a previous question, used to resolve 'it'/'they' (last content words)."""
    words = [w for w in re.findall(r"[\w'-]+", question) if w.lower() not in WH_WORDS]
    content = [w for w in words if tokenize(w)]
    return " ".join(content[-3:]) if content else ""
