"""The trainers' candidates come from the answer path (qa/answering/) over the bundled corpus with the real model:
the scorer's feature groups hold every retrieved sentence, labelled by the gold answer; the calibration's are the
linear scorer's best, each read by the reader being calibrated."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np

from evaluation.gold import GoldQuestion
from qa.answering import as_asked
from qa.score import FEATURES
from training import calibrate, scorer

QUESTION = GoldQuestion(
    id="seed-drugs", question="How many kilogrammes of illicit drugs were confiscated in 2019?", answers=["720"]
)


def test_the_scorer_fits_on_every_retrieved_sentence_labelled_by_the_answer(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    (group,) = scorer.collect_groups(seed_assistant, [QUESTION], progress=False)
    pipeline = dataclasses.replace(seed_assistant.pipeline(), time_aware=False)  # as the trainers ask
    candidates = pipeline.candidates(as_asked(QUESTION.question, date.today()))
    assert group.features.shape == (len(candidates.scored), len(FEATURES))
    assert np.array_equal(group.features, np.stack([s.features for s in candidates.scored]))
    holding = [s.text for s, label in zip(candidates.scored, group.labels, strict=True) if label]
    assert holding and all("720" in text for text in holding)


def test_the_calibration_reads_the_linear_scorers_best(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    (asked,) = calibrate.collect(seed_assistant, seed_assistant.reader, [QUESTION])
    linear = [c.linear for c in asked.candidates]
    assert 0 < len(linear) <= calibrate.MAX_DEPTH and linear == sorted(linear, reverse=True)
    assert all(math.isfinite(c.reader) and 0 <= c.start <= c.end for c in asked.candidates)
    best_read = max(asked.candidates, key=lambda c: c.reader)
    assert best_read.holds and "720" in best_read.text
    assert asked.answer_type == "quantity"
