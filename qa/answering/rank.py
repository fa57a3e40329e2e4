"""Rank the retrieved sentences: the linear scorer's probability (qa/score.py), reordered by the time prior."""

from __future__ import annotations

from dataclasses import dataclass

from index.storage import StoreReader
from qa.answering.retrieval import Retrieval
from qa.answering.time_prior import Priors, TimePrior, order
from qa.answering.understand import Understood
from qa.score import ScoredSentence, ScorerWeights, sentence_features, weigh


@dataclass
class Ranked:
    """Every retrieved sentence with its features, in retrieval order, and the same sentences best first."""

    in_retrieval_order: list[ScoredSentence]
    best_first: list[ScoredSentence]
    priors: Priors


@dataclass(frozen=True)
class Rank:
    """`Understood` + `Retrieval` → `Ranked`."""

    store: StoreReader
    weights: ScorerWeights
    time_prior: TimePrior

    def run(self, understood: Understood, retrieval: Retrieval) -> Ranked:
        scored = sentence_features(self.store, understood.question, retrieval.vector, retrieval.found)
        ranked = weigh(scored, self.weights)
        priors = self.time_prior.run(ranked, understood.time)
        order(ranked, priors)
        return Ranked(scored, ranked, priors)
