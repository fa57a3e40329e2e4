"""The time prior: how well each candidate's time fits the time the question asks about (qa/when.py), in
log-odds, and how it moves the candidates before and after the reader reads them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from index.storage import SentenceRef, StoreReader
from qa.models import QuestionTime
from qa.score import ScoredSentence
from qa.when import DEFAULT_TIME_WEIGHTS, TimeWeights, asks_about_time, newest_date, time_prior

Priors = dict[SentenceRef, float]


@dataclass(frozen=True)
class TimePrior:
    """Candidates + the question's time → each candidate's prior (empty when time is not read)."""

    store: StoreReader
    enabled: bool = True
    weights: TimeWeights = DEFAULT_TIME_WEIGHTS

    def run(self, ranked: list[ScoredSentence], when: QuestionTime) -> Priors:
        if not self.enabled or not ranked:
            return {}
        ids = {s.article_id for s in ranked}
        dates = {a.id: a.date for a in self.store.articles(ids, text=False)}
        times = self.store.times(ids) if asks_about_time(when) else {}
        newest = newest_date(when, dates.values())
        priors = {}
        for s in ranked:
            in_article = times.get(s.article_id, {})
            others = {n: t for n, t in in_article.items() if n != s.number}
            priors[s.ref] = time_prior(
                when, dates.get(s.article_id), in_article.get(s.number, []), others, newest, self.weights
            )
        return priors


def order(ranked: list[ScoredSentence], priors: Priors) -> None:
    """Sort the scorer's candidates by their odds with the prior added, so the prior decides which the reader reads."""
    if priors:
        ranked.sort(key=lambda s: -(log_odds(s.score) + priors[s.ref]))


def settle(ranked: list[ScoredSentence], priors: Priors) -> None:
    """Reorder the read candidates by the prior, counted from the one it puts first: that one keeps the reader's
    own probability (so whether to answer at all stays the reader's call, never made surer by a date), and the
    others move by how much better or worse their time fits."""
    if not priors or not ranked:
        return
    adjusted = {s.ref: log_odds(s.score) + priors[s.ref] for s in ranked}
    ranked.sort(key=lambda s: -adjusted[s.ref])
    shift = priors[ranked[0].ref]
    for s in ranked:
        s.score = probability(adjusted[s.ref] - shift)


def log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))
