"""Find the answer inside a sentence: typed candidate spans (quantities, dates, names, places, reasons,
quotes), each scored by how well it fits the question, and the best one extracted verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text.dates import MONTH_ABBREVIATIONS, MONTH_NAMES
from index.text.tokenize import STOPWORDS, stem, words
from qa.models import AnswerType, Span
from qa.question import Question

_NUM_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen|"
    r"several|dozens|hundreds|thousands|millions|half|a third|a quarter)"
)
_SCALE = r"(?:\s?(?:hundred|thousand|million|billion|trillion|bn|mln|m|k)\b)?"
_UNIT = (
    r"(?:\s?(?:%|percent|per cent|percentage points?|kilogrammes?|kilograms?|kg|grams?|grammes?|tonnes?|tons?|"
    r"pounds?|lbs?|ounces?|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|inches?|cm|mm|acres?|"
    r"hectares?|litres?|liters?|gallons?|barrels?|degrees?|years?|months?|weeks?|days?|hours?|minutes?|"
    r"seconds?|times|people|persons?|dollars?|euros?|pounds sterling|yen|riel|baht|cents?|points?|votes?|"
    r"seats?|games?|goals?|cases?|suspects?|plants?|members?|students?|workers?|employees?|soldiers?|"
    r"troops|deaths?|casualties|villagers?|buildings?|homes?|copies|units?)\b)?"
)
_QUANTITY = re.compile(
    r"(?:(?:about|around|approximately|nearly|almost|over|more than|less than|at least|up to|some|roughly)\s)?"
    r"(?:[$€£¥]|US\$|USD\s?)?"
    rf"(?:\d[\d,]*(?:\.\d+)?|{_NUM_WORDS}(?:[- ]{_NUM_WORDS})*)"
    rf"{_SCALE}{_UNIT}",
    re.IGNORECASE,
)
# "March", "Mar", "Mar.", "Sept." (capitalised: "may" is a verb). Longer abbreviations first, so "Sept." is read
# whole rather than as "Sep".
_MONTH = (
    "(?:"
    + "|".join(name.capitalize() for name in MONTH_NAMES)
    + "|"
    + "|".join(rf"{name.capitalize()}\.?" for name in sorted(MONTH_ABBREVIATIONS, key=len, reverse=True))
    + ")"
)
_DATE = re.compile(
    rf"(?:(?:early|late|mid|the end of|the beginning of)\s)?"
    rf"(?:\d{{1,2}}\s{_MONTH}(?:,?\s\d{{4}})?|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?|"
    rf"{_MONTH}(?:\s\d{{4}})?|\d{{4}}s?|\d{{1,2}}(?:st|nd|rd|th) century|"
    r"(?:last|next|this) (?:year|month|week)|yesterday|today|tomorrow|"
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))"
    r"(?:\s?(?:–|-|to|and)\s?\d{4})?",
)
_TITLE = (
    r"(?:Mr|Mrs|Ms|Dr|Prof|President|Minister|Governor|Senator|General|Gen|Sir|King|Queen|Prince|Pope|Judge|Lord)\.?"
)
_CAP_WORD = r"(?:[A-Z][\w'’.-]*[\w]|[A-Z])"
_NAME = re.compile(
    rf"(?:{_TITLE}\s)?{_CAP_WORD}(?:(?:\s(?:of|de|van|von|der|al|bin|la|du|and|for|the))*\s{_CAP_WORD})*"
)
_ORG_WORDS = re.compile(
    r"\b(?:Ministry|Department|Coalition|Council|Committee|Commission|Agency|Authority|Party|Company|Corp|"
    r"Corporation|Inc|Ltd|Group|University|College|Institute|Association|Union|Bank|Court|Police|Army|Navy|"
    r"Office|Bureau|Foundation|Organisation|Organization|Society|Federation|League|Club|Times|News|Post)\b"
)
_PLACE_PREP = re.compile(r"\b(?:in|at|from|to|near|across|into|of|throughout|outside|inside)\s$")
_REASON = re.compile(
    r"\b(?:because(?: of)?|since|due to|as a result of|owing to|in order to|so that|for fear of)\s([^.;,”\"]+)",
    re.I,
)
_QUOTE = re.compile(r"[“\"]([^”\"]{3,})[”\"]?")
_NOT_NAMES = frozenset(
    """
    The A An In On At But And This That These Those He She It They We I His Her Its Their Our Yesterday
    Today However Although As After Before When While If According Speaking Newly
    """.split()
)


@dataclass
class Candidate:
    start: int
    end: int
    answer_type: AnswerType
    score: float = 0.0


def _candidates(sentence: str, answer_type: AnswerType) -> list[Candidate]:
    found: list[Candidate] = []
    if answer_type == AnswerType.QUANTITY:
        found = [Candidate(m.start(), m.end(), answer_type) for m in _QUANTITY.finditer(sentence)]
    elif answer_type == AnswerType.DATE:
        found = [Candidate(m.start(), m.end(), answer_type) for m in _DATE.finditer(sentence)]
    elif answer_type in (AnswerType.PERSON, AnswerType.PLACE, AnswerType.ORGANIZATION):
        for m in _NAME.finditer(sentence):
            start, end, text = m.start(), m.end(), m.group()
            first = text.split()[0]
            if first in _NOT_NAMES and " " in text:
                start += len(first) + 1
                text = text[len(first) + 1 :]
            elif first in _NOT_NAMES:
                continue
            if not text or _DATE.fullmatch(text):
                continue
            found.append(Candidate(start, end, answer_type))
    elif answer_type == AnswerType.REASON:
        found = [Candidate(m.start(1), m.end(1), answer_type) for m in _REASON.finditer(sentence)]
    elif answer_type == AnswerType.QUOTE:
        found = [Candidate(m.start(1), m.end(1), answer_type) for m in _QUOTE.finditer(sentence)]
    return [c for c in found if sentence[c.start : c.end].strip(" ,.;:")]


def _matches_question(word: str, qprefixes: set[str]) -> bool:
    # Six-letter stem prefixes let "kilogrammes" answer "kilograms" and "provincial" match "province".
    return len(word) > 2 and word not in STOPWORDS and stem(word)[:6] in qprefixes


_TIME_WORDS = frozenset("last next this year years month months week weeks day days yesterday today ago".split())


def _described(following: str) -> list[str]:
    """The words right after a candidate up to the first function word: what a number counts."""
    described = []
    for word in words(following)[:5]:
        if word in STOPWORDS and word != "of":
            break
        described.append(word)
    return described


def _fit(sentence: str, candidate: Candidate, question: Question, anchors: list[int]) -> float:
    text = sentence[candidate.start : candidate.end]
    cand_words = words(text)
    qstems = question.term_set
    qprefixes = {q[:6] for q in qstems}
    quantity = candidate.answer_type == AnswerType.QUANTITY
    # A quantity's unit may repeat the question ("how many suspects" → "20,000 suspects"); its number may not.
    judged = [w for w in cand_words if w[0].isdigit()] if quantity else cand_words
    judged_stems = {stem(w) for w in judged}
    score = 1.0
    overlap = len(judged_stems & qstems) / max(len(judged_stems), 1)
    score -= 1.5 * overlap  # an answer rarely repeats the question
    if question.numbers and set(re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))) & question.numbers:
        score -= 2.0
    if anchors:
        centre = (candidate.start + candidate.end) / 2
        # The unit a quantity counts, asked in the question ("720 kilogrammes" for "how many kilogrammes"), is as
        # near as can be: two amounts of the asked unit tie on distance, and the first is kept.
        inside = quantity and any(candidate.start <= a < candidate.end for a in anchors)
        distance = 0.0 if inside else min(abs(centre - a) for a in anchors) / max(len(sentence), 1)
        # Typed candidates are found by their form; nearness to the question's words matters less for them.
        score -= (1.2 if candidate.answer_type == AnswerType.OTHER else 0.4) * distance
    after = _described(sentence[candidate.end : candidate.end + 50])
    if quantity:
        # What the number counts, in the candidate and just after it ("9,572 cases last year"), should be
        # what the question asks about.
        described = [w for w in cand_words[1:] + after if w not in _TIME_WORDS and not w[0].isdigit()]
        score += 0.6 * min(sum(_matches_question(w, qprefixes) for w in described), 3)
        # "8,018 recorded in 2018": the year asked about qualifies this very number.
        near = set(re.findall(r"\d+", sentence[candidate.end : candidate.end + 25].replace(",", "")))
        if near & question.numbers:
            score += 0.6
        if re.fullmatch(r"(?:1[6-9]|20)\d\d", text.strip()):
            score -= 0.8  # a bare year is a date, not a quantity
        if "how much" in question.text.lower() and not re.search(r"[^\d\s,.]", text.replace("more than", "")):
            score -= 0.4  # "how much" asks for an amount with a unit more often than a bare count
    if candidate.answer_type == AnswerType.DATE and re.search(r"\d", text):
        score += 0.2  # an explicit date beats "last year" when both are there
    if candidate.answer_type == AnswerType.PERSON:
        score += 0.3 * min(text.count(" "), 2)
        if _ORG_WORDS.search(text):
            score -= 0.7
        if re.search(r"\b(?:said|says|told|added|warned)\b", sentence[candidate.end : candidate.end + 25]):
            score += 0.4
    if candidate.answer_type == AnswerType.ORGANIZATION and _ORG_WORDS.search(text):
        score += 0.8
    if candidate.answer_type == AnswerType.PLACE:
        if _PLACE_PREP.search(sentence[max(0, candidate.start - 12) : candidate.start]):
            score += 0.6
        if _ORG_WORDS.search(text):
            score -= 0.5
    if candidate.answer_type == AnswerType.OTHER:
        score -= 0.08 * len(cand_words)
        if any(ch.isupper() or ch.isdigit() for ch in text[:1]):
            score += 0.2
    return score


def _anchors(sentence: str, question: Question) -> list[int]:
    """Positions in the sentence of words the question also uses."""
    # For a quantity, numbers the question names (years mostly) pick the sentence; they say little about where in
    # it the answer is. For a date, "8,018 cases were recorded in 2018" shows where to look.
    keep_numbers = question.answer_type != AnswerType.QUANTITY
    qstems = {t for t in question.term_set if keep_numbers or not t[0].isdigit()}
    return [m.start() for m in re.finditer(r"\w+", sentence) if stem(m.group().lower()) in qstems]


def extract_span(sentence: str, question: Question) -> Span | None:
    """The best answer span of the question's type inside `sentence`, or None when none fits.

    Untyped questions ("what", "which") have no candidates here: the reader marks their spans.
    """
    anchors = _anchors(sentence, question)
    candidates = _candidates(sentence, question.answer_type)
    if not candidates:
        return None
    for c in candidates:
        c.score = _fit(sentence, c, question, anchors)
    best = max(candidates, key=lambda c: (c.score, -c.start))
    if best.score <= 0.0:
        return None
    end = trim_end(sentence, best.start, best.end)
    return Span(text=sentence[best.start : end], start=best.start, end=end, answer_type=best.answer_type)


SPAN_EDGE = " ,;:."


def trim_end(sentence: str, start: int, end: int) -> int:
    """The end of `sentence[start:end]` without trailing spaces and clause punctuation."""
    while end > start and sentence[end - 1] in SPAN_EDGE:
        end -= 1
    return end


def answer_type_fit(sentence: str, question: Question) -> float:
    """How well the sentence's best candidate of the asked type fits the question, in [0, 1].

    Graded rather than yes/no: for "how many suspects", "212 suspects" fits better than "540 kilogrammes".
    Untyped questions (what/which, quotes) get a neutral 0.5.
    """
    if question.answer_type in (AnswerType.OTHER, AnswerType.QUOTE):
        return 0.5
    anchors = _anchors(sentence, question)
    fits = [_fit(sentence, c, question, anchors) for c in _candidates(sentence, question.answer_type)]
    return min(max(max(fits, default=0.0), 0.0), 2.0) / 2.0


_SPEECH = r"(?:said|says|added|told|warned|noted|stated|explained|announced|insisted|urged|argued|claimed)"
_SPEAKER_BEFORE = re.compile(rf"(?P<name>{_NAME.pattern})(?:,[^,]{{3,120}},)?\s+{_SPEECH}\b")
_SPEAKER_AFTER = re.compile(rf"(?:{_SPEECH}|[Aa]ccording to(?: an?| the)?)\s+(?P<name>{_NAME.pattern})")


def speaker_of(sentence: str) -> Span | None:
    """Who a sentence attributes its words to ("…, Mr Kheng said …", "…, said Him Yun"), when it names them."""
    for pattern in (_SPEAKER_BEFORE, _SPEAKER_AFTER):
        for match in pattern.finditer(sentence):
            start, name = match.start("name"), match.group("name")
            first = name.split()[0]
            if first in _NOT_NAMES:
                if " " not in name:
                    continue
                start += len(first) + 1
                name = name[len(first) + 1 :]
            name = re.sub(r"[’']s$", "", name)
            return Span(text=name, start=start, end=start + len(name), answer_type=AnswerType.PERSON)
    return None
