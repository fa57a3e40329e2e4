"""Read a question: what type of answer it wants, its weighted terms, and the numbers and years it names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.text.tokenize import tokenize, words
from qa.models import AnswerType

_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)s?\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Checked in order; the first pattern that matches the lower-cased question decides the type.
_TYPE_RULES: list[tuple[AnswerType, re.Pattern[str]]] = [
    (AnswerType.QUANTITY, re.compile(
        r"\bhow (many|much|long|far|old|big|large|high|tall|often|fast)\b|\bwhat (percentage|percent|proportion|"
        r"share|amount|number|quantity|sum|price|rate|size|fraction)\b|\bby how much\b|\bnumber of\b|\bhow much\b"
    )),
    (AnswerType.DATE, re.compile(
        r"\bwhen\b|\b(what|which) (year|years|date|month|day|time|decade|century|period|season)\b|\bsince when\b"
        r"|\bin what year\b|\bhow long ago\b"
    )),
    (AnswerType.REASON, re.compile(r"\bwhy\b|\b(what|which) (reason|cause|caused|motive|purpose)\b|\bfor what\b")),
    (AnswerType.QUOTE, re.compile(
        r"\bwhat (did|does|do|has|had) .{1,60}\b(say|said|tell|told|warn|add|argue|claim)\b"
    )),
    (AnswerType.PLACE, re.compile(
        r"\bwhere\b|\b(what|which|in what|in which) (country|countries|city|cities|province|state|region|place|"
        r"town|village|area|continent|location|island|district|county|border)\b"
    )),
    (AnswerType.ORGANIZATION, re.compile(
        r"\b(what|which) (organi[sz]ation|company|agency|department|ministry|group|party|institution|team|"
        r"university|body|firm|coalition|newspaper|court|government)\b"
    )),
    (AnswerType.PERSON, re.compile(
        r"^(who|whom|whose)\b|\bwho\b|\b(what|which) (person|man|woman|official|minister|governor|president|leader|"
        r"director|author|player|king|queen|writer|scientist)\b|\bwhat is the name of\b|\bwhat was the name of\b"
    )),
]  # fmt: skip

WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])
# Stems that only phrase the question ("how many", "what year") and say nothing about the answer's words.
_CUE_TERMS = frozenset(["mani", "much"])
_DATE_CUES = re.compile(r"\b(?:what|which|in what|in which) (year|date|month|day|time|decade|century)\b")


@dataclass
class Question:
    """A question, read for answering."""

    text: str
    answer_type: AnswerType
    terms: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    years: set[str] = field(default_factory=set)

    @property
    def term_set(self) -> set[str]:
        return set(self.terms)


def answer_type_of(question: str) -> AnswerType:
    """The kind of answer `question` asks for (OTHER when no rule matches)."""
    lowered = " ".join(words(question))
    for answer_type, pattern in _TYPE_RULES:
        if pattern.search(lowered):
            return answer_type
    return AnswerType.OTHER


def analyze(question: str) -> Question:
    """Parse `question` into its answer type, stemmed terms (question words dropped), numbers and years."""
    text = " ".join(question.split())
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    cues = set(_CUE_TERMS) | set(tokenize(" ".join(_DATE_CUES.findall(text.lower()))))
    return Question(
        text=text,
        answer_type=answer_type_of(text),
        terms=[t for t in tokenize(text) if t not in WH_WORDS and t not in cues],
        words=words(text),
        numbers=numbers,
        years={m.group(1) for m in _YEAR.finditer(text)},
    )


def years_in(text: str) -> set[str]:
    return {m.group(1) for m in _YEAR.finditer(text)}
