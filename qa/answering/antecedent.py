"""Context beyond one sentence: when the best sentence answers only by referring back ("He arrived in Britain on
Sunday night…", "The rating agency cited…") and what the reader marks in it is no answer (the pronoun, a
description such as "the 21-year-old", or a name the question itself gives), read the sentences before it and cite
the one that names the antecedent, with the best sentence after it as the supporting context.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.readers.pdf_document import page_at
from index.storage import SentenceRecord, StoreReader
from index.text.tokenize import STOPWORDS, stem, words
from qa.answering.read import Read
from qa.models import AnswerType, Citation, CitedSentence, Span
from qa.question import Question
from qa.reader import Reader
from qa.when import fact_dates

# How far back the antecedent is looked for: the paraphrased sentence is usually the next one or two after it.
LOOK_BACK = 3
PRONOUNS = frozenset("he she it they him her them his hers its their theirs this these those".split())
# Only a question asking for someone or something by name ("who…", "which president…", "which company…") is
# answered from an earlier sentence: a "what" question is often answered by a description ("The church tower
# received a battering…"), and a bad span there is the reader's miss, not a reference back.
_NAMED_TYPES = frozenset({AnswerType.PERSON, AnswerType.ORGANIZATION})
_WH_WORD = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
_SUBJECTS = frozenset({"he", "she", "it", "they"})
_DETERMINERS = frozenset("the this that these those its his her their".split())
# A sentence whose subject refers back: "He arrived…", "It advised…", "The rating agency cited…", "The 21-year-old…".
_REFERRING_SUBJECT = re.compile(r"^\W*(?:(?:He|She|It|They|His|Her|Its|Their)\b|The\s+[a-z0-9])")
_CAPITALISED = re.compile(r"^[A-Z][\w'’.&-]*")


def refers_back(span: Span | None, question: Question, sentence: str) -> bool:
    """Whether, for a question asking who or which, the span marked in `sentence` is no answer but a reference
    to someone or something named earlier: a pronoun ("She", "He is due to visit…"); or, in a sentence whose
    subject refers back ("He…", "The 34-year-old…"), only words the question already holds ("George W Bush" for
    "…after meeting George W Bush?") or, for a "which" question, a description without a name ("The king of
    rock 'n' roll" for "Which singer…?")."""
    wh = asked_by(question)
    if span is None or not (wh in {"who", "whom", "whose", "which"} or question.answer_type in _NAMED_TYPES):
        return False
    tokens = span.text.split()
    if not tokens:
        return False
    first = tokens[0].lower()
    if first in PRONOUNS and (len(tokens) == 1 or (first in _SUBJECTS and not _CAPITALISED.match(tokens[1]))):
        return True  # "She", "He is due to visit…"; not a title such as "They Think It's All Over"
    if not _REFERRING_SUBJECT.match(sentence):
        return False
    if _only_question_words(span.text, question):
        return True
    return wh == "which" and first in _DETERMINERS and not any(_CAPITALISED.match(t) for t in tokens[1:])


def asked_by(question: Question) -> str:
    """The question word of the question proper (its last sentence), lower-cased; "" when it has none."""
    proper = re.split(r"(?<=[.!?])\s+", question.text.strip())[-1]
    found = _WH_WORD.search(proper)
    return found.group(1).lower() if found else ""


def _only_question_words(text: str, question: Question) -> bool:
    content = [stem(w) for w in words(text) if w not in STOPWORDS]
    asked = {stem(w) for w in question.words}
    return bool(content) and all(w in asked for w in content)


def antecedent(
    store: StoreReader, read: Read, reader: Reader, question: Question, asked: str, cited: CitedSentence
) -> list[CitedSentence]:
    """The earlier sentence of `cited`'s article (at most `LOOK_BACK` back) that the reader finds the best answer
    in, with an answer span that is itself no reference back, followed by `cited` as context (its span dropped);
    [] when no earlier sentence holds one."""
    c = cited.citation
    earlier = sentences_back(store, c, LOOK_BACK)
    if not earlier:
        return []
    readings = reader.read(asked, [(c.title, r.text) for r in earlier])
    best: tuple[float, SentenceRecord, Span] | None = None
    for row, reading in zip(earlier, readings, strict=True):
        span = read.span(row.text, reading, question)
        if span is None or refers_back(span, question, row.text):
            continue
        if best is None or reading.logit > best[0]:
            best = (reading.logit, row, span)
    if best is None:
        return []
    _, row, span = best
    named = CitedSentence(text=row.text, score=cited.score, span=span, citation=cited_at(store, c, row))
    return [named, cited.model_copy(update={"span": None})]


def sentences_back(store: StoreReader, citation: Citation, count: int, *, itself: bool = False) -> list[SentenceRecord]:
    """The `count` sentences of the cited article before the cited one, nearest first (after the cited one
    itself with `itself`)."""
    rows = {r.number: r for r in store.article_parts(citation.article_id)[0]}
    first = citation.sentence_number if itself else citation.sentence_number - 1
    return [rows[n] for n in range(first, citation.sentence_number - count - 1, -1) if n in rows]


def cited_at(store: StoreReader, citation: Citation, row: SentenceRecord) -> Citation:
    """`citation` moved to another sentence of its article: its number, offsets, page and time expressions."""
    times = store.times({citation.article_id}).get(citation.article_id, {}).get(row.number, [])
    update: dict[str, object] = {
        "sentence_number": row.number, "start": row.start, "end": row.end, "fact_dates": fact_dates(times),
    }  # fmt: skip
    if citation.page is not None:
        (article,) = store.articles({citation.article_id})
        update["page"] = page_at(article.text, row.start)
    return citation.model_copy(update=update)


def with_antecedent(
    store: StoreReader, read: Read, question: Question, asked: str, cited: Sequence[CitedSentence], top_k: int
) -> list[CitedSentence]:
    """`cited`, with the best sentence's antecedent sentence put first when the best one only refers back."""
    reader = read.reader()
    if reader is None or not cited or not refers_back(cited[0].span, question, cited[0].text):
        return list(cited)
    found = antecedent(store, read, reader, question, asked, cited[0])
    if not found:
        return list(cited)
    shown = {(s.citation.article_id, s.citation.sentence_number) for s in found}
    rest = [s for s in cited[1:] if (s.citation.article_id, s.citation.sentence_number) not in shown]
    return [*found, *rest][: max(top_k, 2)]
