"""The answer path's components (qa/answering/): the time prior's two moves and the decision's selection as plain
functions, and `AnswerPipeline` over the bundled corpus with the real model: its candidates are what answers, and
its retrieval stage reaches deeper on request without reordering what answering reads."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from index.storage import ChunkRef, SentenceRef
from newsqa.settings import AnsweringSettings
from qa.answering import AnswerPipeline, as_asked
from qa.answering.decide import select
from qa.answering.time_prior import log_odds, order, settle
from qa.score import ScoredSentence

ASKED_ON = date(2020, 3, 1)
QUESTION = "How many kilogrammes of illicit drugs were confiscated in 2019?"


def _sentence(number: int, score: float, text: str | None = None) -> ScoredSentence:
    return ScoredSentence(
        ref=SentenceRef("a", number), article_id="a", number=number, start=0, end=1,
        text=text or f"sentence {number}", chunk=ChunkRef("a", 0), features=np.zeros(1), score=score,
    )  # fmt: skip


def test_the_prior_orders_the_scorer_candidates_by_summed_log_odds() -> None:
    ranked = [_sentence(0, 0.6), _sentence(1, 0.5)]
    order(ranked, {ranked[0].ref: 0.0, ranked[1].ref: 1.0})
    assert [s.number for s in ranked] == [1, 0]


def test_settling_keeps_the_first_candidates_own_probability_and_shifts_the_others() -> None:
    ranked = [_sentence(0, 0.7), _sentence(1, 0.6)]
    priors = {ranked[0].ref: 0.0, ranked[1].ref: 1.5}
    settle(ranked, priors)
    assert [s.number for s in ranked] == [1, 0]
    assert ranked[0].score == pytest.approx(0.6)  # the date reorders; it never makes the answer surer
    assert log_odds(ranked[1].score) == pytest.approx(log_odds(0.7) - 1.5)


def test_no_prior_changes_nothing() -> None:
    ranked = [_sentence(0, 0.4), _sentence(1, 0.9)]
    order(ranked, {})
    settle(ranked, {})
    assert [(s.number, s.score) for s in ranked] == [(0, 0.4), (1, 0.9)]


def test_selection_shows_support_only_at_half_the_best_and_never_twice() -> None:
    ranked = [_sentence(0, 0.9, "Same text."), _sentence(1, 0.8, "same  TEXT."), _sentence(2, 0.5), _sentence(3, 0.4)]
    assert [s.number for s in select(ranked, top_k=3, threshold=0.3)] == [0, 2]
    assert [s.number for s in select(ranked, top_k=1, threshold=0.3)] == [0]


def test_the_answer_is_the_pipelines_best_candidate(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    pipeline = seed_assistant.pipeline()
    candidates = pipeline.candidates(pipeline.understand(QUESTION, None, ASKED_ON))
    answer = seed_assistant.answer(QUESTION, as_of=ASKED_ON)
    assert answer.found and candidates.ranked
    best = candidates.ranked[0]
    assert answer.sentences[0].text == best.text
    assert answer.sentences[0].score == round(best.score, 4)
    assert best.reading is not None  # read by the reader before the decision
    assert len(candidates.ranked) <= seed_assistant.reader.config.candidates < len(candidates.scored)


def test_the_retrieval_stage_reaches_deeper_without_reordering(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    pipeline = dataclasses.replace(seed_assistant.pipeline(), time_aware=False)
    asked = as_asked(QUESTION, ASKED_ON)
    # The bundled corpus holds 3 chunks: ask for 2, then for the answer's 8.
    shallow = pipeline.retrieve(asked, chunks=2).found.chunks
    deep = pipeline.retrieve(asked).found.chunks
    assert len(shallow) == 2 and len(deep) == seed_assistant.stats().chunks == 3
    assert deep[: len(shallow)] == shallow


def test_the_answering_settings_say_how_deep_retrieval_goes(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    asked = as_asked(QUESTION, ASKED_ON)
    assert seed_assistant.pipeline().settings == AnsweringSettings()  # 8 chunks, 40 hits per ranking
    shallow = dataclasses.replace(seed_assistant.pipeline(), time_aware=False, settings=AnsweringSettings(chunks=2))
    assert len(shallow.retrieve(asked).found.chunks) == 2 and len(shallow.retrieve(asked, chunks=3).found.chunks) == 3
    narrow = dataclasses.replace(shallow, settings=AnsweringSettings(depth=1))
    found = narrow.retrieve(asked).found
    assert len(found.dense_chunk) == len(found.bm25_chunk) == len(found.dense_sentence) == 1


def test_without_a_reader_the_candidates_are_the_linear_scorers_order(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    pipeline = AnswerPipeline(
        encoder=seed_assistant.encoder, store=seed_assistant.store, weights=seed_assistant.weights, time_aware=False
    )
    candidates = pipeline.candidates(as_asked(QUESTION, ASKED_ON))
    scores = [s.score for s in candidates.ranked]
    assert scores == sorted(scores, reverse=True)
    assert {s.ref for s in candidates.ranked} == {s.ref for s in candidates.scored}
    assert all(s.reading is None for s in candidates.ranked)
