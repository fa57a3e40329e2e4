"""Decide and cite: answer with the best read candidates that clear the threshold, each cited to its article, or
abstain; and answer "who said that?" from the attribution of the previous answer's sentence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.models import Article
from index.readers.pdf_document import page_at
from index.storage import StoreReader
from index.text.dates import TimeMention
from qa.answering.antecedent import cited_at, sentences_back, with_antecedent
from qa.answering.read import Read
from qa.answering.understand import Understood
from qa.followup import Turn
from qa.models import Answer, AnswerType, Citation, CitedSentence
from qa.score import ScoredSentence
from qa.spans import speaker_of
from qa.when import fact_dates

NOT_FOUND = "Not found in the corpus."
WHO_SAID = re.compile(
    r"^\s*(?:and\s+|but\s+)?who\s+(?:said|says|told|stated|claimed|announced|reported|warned|wrote)\s+"
    r"(?:that|this|it|so)\b",
    re.I,
)
# A supporting sentence must score at least this share of the best one to be shown beside it.
SUPPORT_RATIO = 0.5


@dataclass(frozen=True)
class Decide:
    """`Understood` + the read candidates → `Answer`: the cited sentences, or "not found" below `threshold`."""

    store: StoreReader
    read: Read
    threshold: float

    def run(self, understood: Understood, ranked: list[ScoredSentence], top_k: int) -> Answer:
        if not ranked or ranked[0].score < self.threshold:
            best = f" (closest sentence scored {ranked[0].score:.2f})" if ranked else ""
            return abstain(understood, f"{NOT_FOUND} No sentence answers this question{best}.")
        chosen = select(ranked, top_k, self.threshold)
        times = self.store.times({s.article_id for s in chosen})
        articles = {a.id: a for a in self.store.articles({s.article_id for s in chosen})}  # text: a PDF's page
        cited = [
            self._cite(articles[s.article_id], s, understood, times.get(s.article_id, {}).get(s.number, []))
            for s in chosen
        ]
        if understood.question.answer_type == AnswerType.PERSON and cited[0].span is None:
            # '"…," he said.' answers a who-question only with the sentence that names him.
            named = attribution(self.store, cited[0])
            if named and named[0].text != cited[0].text:
                cited = [cited[0], named[0], *cited[1:]][: max(top_k, 2)]
        cited = with_antecedent(self.store, self.read, understood.question, understood.text, cited, top_k)
        return Answer(
            question=understood.asked, understood_question=understood.text,
            answer_type=understood.question.answer_type, found=True, sentences=cited, message="", time=understood.time,
        )  # fmt: skip

    def _cite(
        self, article: Article, sentence: ScoredSentence, understood: Understood, times: Sequence[TimeMention]
    ) -> CitedSentence:
        return CitedSentence(
            text=sentence.text,
            score=round(sentence.score, 4),
            span=self.read.span(sentence.text, sentence.reading, understood.question),
            citation=Citation(
                article_id=article.id,
                title=article.title,
                source=article.source,
                date=article.date,
                url=article.url,
                origin=article.origin,
                fields=dict(article.fields),
                page=page_at(article.text, sentence.start) if article.origin.lower().endswith(".pdf") else None,
                fact_dates=fact_dates(times),
                sentence_number=sentence.number,
                start=sentence.start,
                end=sentence.end,
            ),
        )


def who_said(
    store: StoreReader, understood: Understood, history: Sequence[str | Answer | Turn] | None, top_k: int
) -> Answer | None:
    """The answer to "who said that?" when the previous turn's answer carries an attributed sentence, else None."""
    previous = last_answer(history)
    if previous is None or not WHO_SAID.match(understood.asked):
        return None
    attributed = attribution(store, previous.sentences[0])
    if not attributed:
        return None
    return Answer(
        question=understood.asked, understood_question=understood.text, answer_type=AnswerType.PERSON, found=True,
        sentences=attributed[:top_k] if top_k > 1 else attributed[:1], time=understood.time,
    )  # fmt: skip


def attribution(store: StoreReader, cited: CitedSentence) -> list[CitedSentence]:
    """Who a cited sentence is attributed to: itself when it names the speaker, else the nearest earlier
    sentence of the article that does (for '"…," he said.'); the attributed sentence follows as evidence."""
    c = cited.citation
    for row in sentences_back(store, c, 4, itself=True):
        span = speaker_of(row.text)
        if span is None:
            continue
        named = CitedSentence(text=row.text, score=cited.score, span=span, citation=cited_at(store, c, row))
        return [named] if row.number == c.sentence_number else [named, cited.model_copy(update={"span": None})]
    return []


def select(ranked: list[ScoredSentence], top_k: int, threshold: float) -> list[ScoredSentence]:
    """The best sentence, then further ones that also clear the bar (distinct text only)."""
    chosen: list[ScoredSentence] = []
    seen: set[str] = set()
    floor = max(threshold, ranked[0].score * SUPPORT_RATIO)
    for s in ranked:
        if len(chosen) >= top_k:
            break
        key = " ".join(s.text.lower().split())
        if key in seen or (chosen and s.score < floor):
            continue
        seen.add(key)
        chosen.append(s)
    return chosen


def last_answer(history: Sequence[str | Answer | Turn] | None) -> Answer | None:
    """The previous turn's answer, when the history carries it and it found something."""
    last = history[-1] if history else None
    answer = last.answer if isinstance(last, Turn) else last
    return answer if isinstance(answer, Answer) and answer.found and answer.sentences else None


def abstain(understood: Understood, message: str) -> Answer:
    return Answer(
        question=understood.asked, understood_question=understood.text,
        answer_type=understood.question.answer_type, found=False, sentences=[], message=message, time=understood.time,
    )  # fmt: skip
