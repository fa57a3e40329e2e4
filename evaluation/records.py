"""One asked question scored: its `QuestionRecord` (what was returned, its span, hit@k, EM/F1, the citation), the
retrieval ranks of the gold article and chunk (probed through the answer path's retrieval stage), and the span
marked in the gold sentence given apart from retrieval."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from evaluation.gold import GoldQuestion
from evaluation.metrics import (
    exact_match,
    question_kind,
    sentence_hit_at_k,
    squad_exact_match,
    squad_f1,
    token_f1,
)
from evaluation.results import QuestionRecord, ReturnedSentence

if TYPE_CHECKING:
    from index.storage import ChunkRecord, StoreReader
    from qa.assistant import Assistant
    from qa.models import Answer

# Retrieval is scored on more chunks than answer() reads (8), so recall@10/@20 show what a wider net would catch.
RETRIEVAL_CHUNKS = 20


class ArticleTexts:
    """Article texts read once per evaluation (citations and chunks are checked against them)."""

    def __init__(self, store: StoreReader) -> None:
        self.store = store
        self._texts: dict[str, str | None] = {}

    def __call__(self, article_id: str) -> str | None:
        if article_id not in self._texts:
            found = self.store.articles([article_id])
            self._texts[article_id] = found[0].text if found else None
        return self._texts[article_id]


class RetrievalRanks(NamedTuple):
    """Where retrieval put the gold article and the gold chunk (1-based; None: not in the top 20)."""

    article_scored: bool = False
    article_rank: int | None = None
    chunk_scored: bool = False
    chunk_rank: int | None = None


def retrieval_ranks(assistant: Assistant, understood: str, gold: GoldQuestion, texts: ArticleTexts) -> RetrievalRanks:
    """Ranks of the gold article and gold chunk for one answerable question.

    Article level: the retrieved chunks' articles, deduplicated in chunk order; relevant = the gold article.
    Chunk level: relevant = a chunk of the gold article whose text holds a gold answer (any article's chunk
    when the gold article is not named). A question whose gold article has no such chunk is not scored.
    """
    from qa.answering import as_asked

    store = assistant.store
    # The answer path's own retrieval stage over the understood question, deeper than answering reads and without
    # the time preference, as this probe has always measured it.
    pipeline = dataclasses.replace(assistant.pipeline(), time_aware=False)
    asked = as_asked(understood, date.today())
    if store is None or store.facts().chunks == 0 or (not asked.question.terms and not asked.question.numbers):
        # Nothing to search, or a question answer() refuses before retrieval: it counts as retrieving nothing.
        return RetrievalRanks(gold.article_id is not None, None, gold.article_id is None, None)
    refs = pipeline.retrieve(asked, chunks=RETRIEVAL_CHUNKS).found.chunks

    def holds_answer(chunk: ChunkRecord) -> bool:
        text = texts(chunk.article_id)
        return text is not None and sentence_hit_at_k([text[chunk.start : chunk.end]], gold.answers, 1)

    article_rank = None
    if gold.article_id is not None:
        ranked_articles = list(dict.fromkeys(r.article_id for r in refs))
        if gold.article_id in ranked_articles:
            article_rank = ranked_articles.index(gold.article_id) + 1
        relevant = {c.ref for c in store.article_parts(gold.article_id)[1] if holds_answer(c)}
        chunk_scored = bool(relevant)
    else:
        relevant = {c.ref for c in store.chunks(refs) if holds_answer(c)}
        chunk_scored = True
    chunk_rank = next((i for i, ref in enumerate(refs, start=1) if ref in relevant), None)
    return RetrievalRanks(gold.article_id is not None, article_rank, chunk_scored, chunk_rank)


def returned_sentences(answer: Answer, texts: ArticleTexts) -> list[ReturnedSentence]:
    out = []
    for sentence in answer.sentences if answer.found else []:
        citation = sentence.citation
        article_text = texts(citation.article_id)
        out.append(
            ReturnedSentence(
                text=sentence.text,
                score=sentence.score,
                article_id=citation.article_id,
                span=sentence.span.text if sentence.span else None,
                marked=sentence.marked(),
                verbatim=article_text is not None and article_text[citation.start : citation.end] == sentence.text,
            )
        )
    return out


def hits(returned: ReturnedSentence, gold: GoldQuestion) -> bool:
    """A returned sentence answers `gold`: it holds an answer, and when the gold names its sentence, it is that
    sentence of that article or one of the gold's `also` sentences, the same fact in another report (so a
    same-subject report of another date never counts, whatever its figure)."""
    if not sentence_hit_at_k([returned.text], gold.answers, 1):
        return False
    if gold.sentence is None:
        return True
    mine = " ".join(returned.text.split()).lower()
    for article_id, sentence in [(gold.article_id, gold.sentence), *gold.also]:
        wanted = " ".join(sentence.split()).lower()
        if returned.article_id == article_id and (wanted in mine or mine in wanted):
            return True
    return False


def record_of(
    gold: GoldQuestion,
    answer: Answer | None,
    error: str | None,
    latency_ms: float,
    ranks: RetrievalRanks,
    texts: ArticleTexts | None,
    top_k: int,
) -> QuestionRecord:
    returned = returned_sentences(answer, texts) if answer is not None and texts is not None else []
    abstained = answer is None or not answer.found or not returned
    span_text = returned[0].span if returned else None
    prediction = "" if abstained else (span_text if span_text is not None else returned[0].text)
    hit_rank = next((k for k, r in enumerate(returned, start=1) if hits(r, gold)), None)
    hit = {k: hit_rank is not None and hit_rank <= k and k <= top_k for k in (1, 3, 5)}
    citation_correct = None
    if gold.answerable and gold.article_id is not None and not abstained:
        citation_correct = returned[0].article_id == gold.article_id and returned[0].verbatim
    return QuestionRecord(
        id=gold.id,
        question=gold.question,
        understood_question=answer.understood_question if answer is not None else gold.question,
        history=list(gold.history),
        kind=question_kind(gold.question),
        gold_type=gold.type,
        answer_type=str(answer.answer_type) if answer is not None else "",
        gold_answers=list(gold.answers),
        gold_article_id=gold.article_id,
        answerable=gold.answerable,
        abstained=abstained,
        message=answer.message if answer is not None else "",
        error=error,
        returned=returned,
        span_text=span_text,
        prediction=prediction,
        hit_rank=hit_rank,
        hit_at_1=hit[1],
        hit_at_3=hit[3],
        hit_at_5=hit[5],
        squad_em=squad_exact_match(prediction, gold.answers),
        squad_f1=squad_f1(prediction, gold.answers),
        em=exact_match(prediction, gold.answers),
        f1=token_f1(prediction, gold.answers),
        article_scored=ranks.article_scored and gold.answerable,
        article_rank=ranks.article_rank if gold.answerable else None,
        chunk_scored=ranks.chunk_scored and gold.answerable,
        chunk_rank=ranks.chunk_rank if gold.answerable else None,
        citation_correct=citation_correct,
        citations_verbatim=all(r.verbatim for r in returned) if returned else None,
        top_score=returned[0].score if returned else None,
        latency_ms=latency_ms,
    )


def score_given_sentence(assistant: Assistant, store: StoreReader, gold: GoldQuestion, record: QuestionRecord) -> None:
    """Score the span answering marks in the gold article's first sentence holding the first gold answer (SQuAD
    dev's answer_start is that first occurrence), apart from retrieval and ranking."""
    sentence = next(
        (row.text for row in store.article_parts(gold.article_id or "")[0] if gold.answers[0] in row.text),
        None,
    )
    if sentence is None:
        return
    titles = {a.id: a.title for a in store.articles([gold.article_id or ""], text=False)}
    span = assistant.span_of(gold.question, sentence, titles.get(gold.article_id or "", ""))
    prediction = span.text if span is not None else sentence
    record.given_sentence, record.given_span = sentence, prediction
    record.given_em, record.given_f1 = exact_match(prediction, gold.answers), token_f1(prediction, gold.answers)
    record.given_squad_em = squad_exact_match(prediction, gold.answers)
    record.given_squad_f1 = squad_f1(prediction, gold.answers)
