"""The aggregate metrics of an evaluation (docs/metrics.md): from its per-question records to `Metrics`, overall
and per group (question kind, answer type)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evaluation.metrics import abstention_scores, percentile
from evaluation.results import (
    RETRIEVAL_KS,
    CalibrationBin,
    CitationScores,
    KindScores,
    Metrics,
    QuestionRecord,
    RetrievalScores,
    SpanScores,
)

CALIBRATION_BINS = 10


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _span_scores(records: Sequence[QuestionRecord]) -> SpanScores:
    return SpanScores(
        n=len(records),
        squad_em=_mean([r.squad_em for r in records]),
        squad_f1=_mean([r.squad_f1 for r in records]),
        em=_mean([r.em for r in records]),
        f1=_mean([r.f1 for r in records]),
    )


def _retrieval_scores(ranks: Sequence[int | None]) -> RetrievalScores:
    return RetrievalScores(
        n=len(ranks),
        recall={str(k): _mean([float(r is not None and r <= k) for r in ranks]) for k in RETRIEVAL_KS},
        mrr=_mean([1.0 / r if r else 0.0 for r in ranks]),
    )


def _calibration(records: Sequence[QuestionRecord]) -> list[CalibrationBin]:
    """Answered questions binned by their top sentence's score; each bin's share of hit@1."""
    bins: list[CalibrationBin] = []
    answered = [(r.top_score, r.hit_at_1) for r in records if r.top_score is not None]
    for i in range(CALIBRATION_BINS):
        low, high = i / CALIBRATION_BINS, (i + 1) / CALIBRATION_BINS
        last = i == CALIBRATION_BINS - 1  # the top bin includes a score of exactly 1
        inside = [(s, hit) for s, hit in answered if low <= s < high or (last and s == high)]
        if inside:
            bins.append(
                CalibrationBin(
                    low=low,
                    high=high,
                    n=len(inside),
                    mean_score=_mean([s for s, _ in inside]),
                    hit_at_1=_mean([float(hit) for _, hit in inside]),
                )
            )
    return bins


def summarize(records: Sequence[QuestionRecord], top_k: int = 5) -> Metrics:
    """Aggregate metrics over `records` (see docs/metrics.md); sentence metrics over answerable questions only."""
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    latencies = [r.latency_ms for r in records]
    cited = [r for r in records if r.citation_correct is not None]
    checked = [r for r in records if r.citations_verbatim is not None]
    return Metrics(
        n_questions=len(records),
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        n_errors=sum(r.error is not None for r in records),
        hit_at={
            str(k): _mean([float(r.hit_rank is not None and r.hit_rank <= k) for r in answerable])
            for k in range(1, top_k + 1)
        },
        spans={
            "all": _span_scores(records),
            "answerable": _span_scores(answerable),
            "unanswerable": _span_scores(unanswerable),
        },
        retrieval={
            "article": _retrieval_scores([r.article_rank for r in answerable if r.article_scored]),
            "chunk": _retrieval_scores([r.chunk_rank for r in answerable if r.chunk_scored]),
        },
        abstention=abstention_scores(records),
        citation=CitationScores(
            n_scored=len(cited),
            correct=_mean([float(bool(r.citation_correct)) for r in cited]),
            n_checked=len(checked),
            verbatim=_mean([float(bool(r.citations_verbatim)) for r in checked]),
        ),
        latency_ms={
            "p50": percentile(latencies, 50) if latencies else 0.0,
            "p95": percentile(latencies, 95) if latencies else 0.0,
            "mean": _mean(latencies),
            "max": max(latencies, default=0.0),
        },
        calibration=_calibration(records),
        given_sentence=_given_scores(records),
    )


def _given_scores(records: Sequence[QuestionRecord]) -> SpanScores | None:
    given = [r for r in records if r.given_em is not None]
    if not given:
        return None
    return SpanScores(
        n=len(given),
        squad_em=_mean([r.given_squad_em or 0.0 for r in given]),
        squad_f1=_mean([r.given_squad_f1 or 0.0 for r in given]),
        em=_mean([r.given_em or 0.0 for r in given]),
        f1=_mean([r.given_f1 or 0.0 for r in given]),
    )


def breakdown(
    records: Sequence[QuestionRecord],
    group_of: Callable[[QuestionRecord], str | None],
    order: Sequence[str] = (),
) -> dict[str, KindScores]:
    """Per-group scores (n, hit@1, hit@3, EM, F1, abstention share); groups in `order` first, then by name."""
    groups: dict[str, list[QuestionRecord]] = {}
    for record in records:
        groups.setdefault(group_of(record) or "unknown", []).append(record)
    names = [g for g in order if g in groups] + sorted(g for g in groups if g not in order)
    result = {}
    for name in names:
        members = groups[name]
        answerable = [r for r in members if r.answerable]
        result[name] = KindScores(
            n=len(members),
            n_answerable=len(answerable),
            hit_at_1=_mean([float(r.hit_at_1) for r in answerable]),
            hit_at_3=_mean([float(r.hit_at_3) for r in answerable]),
            em=_mean([r.em for r in members]),
            f1=_mean([r.f1 for r in members]),
            abstained=_mean([float(r.abstained) for r in members]),
        )
    return result
