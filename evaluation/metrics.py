"""Scoring functions for the evaluation: answer spans, cited sentences, retrieval ranks and abstention.

Everything here is a pure function of strings and numbers (no model, no index), so each metric can be
checked by hand. Two families of answer metrics are exposed:

* ``squad_exact_match`` / ``squad_f1``: the official SQuAD definitions (evaluate-v1.1 normalisation,
  with the v2.0 rule that an unanswerable question scores only an empty prediction), for comparison with
  published numbers;
* ``exact_match`` / ``token_f1``: the same definitions computed on ``normalize_numbers`` forms, so that
  "1,200" and "1200", "four" and "4", "19%" and "19 per cent" count as the same answer.

Both normalisations live in evaluation/normalize.py (and are exported here too).

docs/metrics.md defines every metric in plain words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from evaluation.normalize import normalize_answer, normalize_numbers

__all__ = [
    "abstention_scores",
    "exact_match",
    "normalize_answer",
    "normalize_numbers",
    "percentile",
    "question_kind",
    "recall_at_k",
    "reciprocal_rank",
    "sentence_hit_at_k",
    "squad_exact_match",
    "squad_f1",
    "token_f1",
]

# --------------------------------------------------------------------------------------------------------
# Span metrics
# --------------------------------------------------------------------------------------------------------


def _f1_tokens(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    """SQuAD token F1 between two token lists; v2.0 rule when either side is empty."""
    if not prediction_tokens or not gold_tokens:
        return float(prediction_tokens == gold_tokens)
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _best_over_golds(prediction: str, golds: Sequence[str], normalize: Callable[[str], str], exact: bool) -> float:
    """Best score over the gold answers; an empty gold list means "unanswerable"."""
    predicted = normalize(prediction)
    if not golds:
        # Unanswerable: only an empty prediction is right (SQuAD v2.0 scores it against gold "").
        return float(predicted == "")
    best = 0.0
    for gold in golds:
        expected = normalize(gold)
        score = float(predicted == expected) if exact else _f1_tokens(predicted.split(), expected.split())
        best = max(best, score)
    return best


def squad_exact_match(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD exact match (1.0 or 0.0), best over ``golds``; ``[]`` gold = unanswerable."""
    return _best_over_golds(prediction, golds, normalize_answer, exact=True)


def squad_f1(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD token F1 in [0, 1], best over ``golds``; ``[]`` gold = unanswerable."""
    return _best_over_golds(prediction, golds, normalize_answer, exact=False)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD exact match on ``normalize_numbers`` forms ("1,200 kg" matches "1200 kilogrammes")."""
    return _best_over_golds(prediction, golds, normalize_numbers, exact=True)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1 on ``normalize_numbers`` forms, best over ``golds``."""
    return _best_over_golds(prediction, golds, normalize_numbers, exact=False)


def sentence_hit_at_k(sentences: Sequence[str], golds: Sequence[str], k: int) -> bool:
    """True if a gold answer appears, on token boundaries, inside one of the first ``k`` sentences.

    Both sides go through ``normalize_numbers``; matching whole tokens means gold "20" does not hit
    "2019" nor "20,000". An empty gold list (unanswerable) never hits.
    """
    expected = [f" {g} " for g in (normalize_numbers(gold) for gold in golds) if g]
    if not expected:
        return False
    for sentence in sentences[: max(k, 0)]:
        padded = f" {normalize_numbers(sentence)} "
        if any(g in padded for g in expected):
            return True
    return False


# --------------------------------------------------------------------------------------------------------
# Retrieval metrics
# --------------------------------------------------------------------------------------------------------


def _gold_set(gold_id: str | Iterable[str]) -> set[str]:
    # A single id is the common case; several ids cover chunk-level scoring, where the answer can sit
    # in more than one chunk.
    return {gold_id} if isinstance(gold_id, str) else set(gold_id)


def reciprocal_rank(ranked_ids: Sequence[str], gold_id: str | Iterable[str]) -> float:
    """1 / (1-based rank of the first relevant id) in ``ranked_ids``; 0.0 if none is retrieved.

    ``gold_id`` is one id or a collection of ids that all count as relevant.
    """
    relevant = _gold_set(gold_id)
    for rank, candidate in enumerate(ranked_ids, start=1):
        if candidate in relevant:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked_ids: Sequence[str], gold_id: str | Iterable[str], k: int) -> bool:
    """True if a relevant id is among the first ``k`` of ``ranked_ids`` (one gold per question)."""
    relevant = _gold_set(gold_id)
    return any(candidate in relevant for candidate in ranked_ids[: max(k, 0)])


# --------------------------------------------------------------------------------------------------------
# Abstention, latency, breakdowns
# --------------------------------------------------------------------------------------------------------


def _field(record: Any, name: str) -> bool:
    if isinstance(record, Mapping):
        return bool(record[name])
    return bool(getattr(record, name))


def abstention_scores(records: Iterable[Any]) -> dict[str, float]:
    """Precision, recall and F1 of abstaining, plus how often answerable questions got an answer.

    Each record has boolean ``answerable`` (the gold set has an answer) and ``abstained`` (the system
    refused), as mapping keys or attributes. The positive class is "should abstain" (unanswerable):

    * precision: of the questions the system refused, the share that were unanswerable;
    * recall: of the unanswerable questions, the share the system refused;
    * f1: their harmonic mean;
    * answered_rate: of the answerable questions, the share the system did answer.

    A ratio with an empty denominator is 0.0 (as in scikit-learn); the counts are returned too
    (``n_answerable``, ``n_unanswerable``, ``n_abstained``, ``true_abstentions``) so a report can tell
    "0 of 0" from "0 of 10".
    """
    true_abstain = false_abstain = missed_abstain = answered = n_answerable = n_unanswerable = 0
    for record in records:
        answerable = _field(record, "answerable")
        abstained = _field(record, "abstained")
        if answerable:
            n_answerable += 1
            if abstained:
                false_abstain += 1
            else:
                answered += 1
        else:
            n_unanswerable += 1
            if abstained:
                true_abstain += 1
            else:
                missed_abstain += 1
    n_abstained = true_abstain + false_abstain
    precision = true_abstain / n_abstained if n_abstained else 0.0
    recall = true_abstain / n_unanswerable if n_unanswerable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "answered_rate": answered / n_answerable if n_answerable else 0.0,
        "n_answerable": float(n_answerable),
        "n_unanswerable": float(n_unanswerable),
        "n_abstained": float(n_abstained),
        "true_abstentions": float(true_abstain),
    }


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0..100) with linear interpolation between ranks (numpy's default).

    Raises ValueError for no values or ``p`` outside [0, 100], so an empty latency list is noticed
    rather than reported as 0 ms.
    """
    ordered = sorted(float(v) for v in values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be in [0, 100], got {p}")
    position = (len(ordered) - 1) * p / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


QUESTION_KINDS = ("how many/much", "when", "who", "where", "what/which", "why", "how", "other")

# "what year", "which month"... ask for a date, so they are reported with "when".
_WHEN_NOUNS = frozenset({"year", "years", "date", "day", "month", "time", "decade", "century"})
_WORD = re.compile(r"[a-z]+")


def question_kind(question: str) -> str:
    """Coarse question category for per-type breakdowns; one of ``QUESTION_KINDS``.

    The first question word decides ("In which year…" → "when", "By how much…" → "how many/much");
    a question without one ("and in 2018?") is "other".
    """
    words = _WORD.findall(question.lower().replace("’", "'"))
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word == "how":
            return "how many/much" if following in ("many", "much") else "how"
        if word == "when":
            return "when"
        if word in ("who", "whom", "whose"):
            return "who"
        if word == "where":
            return "where"
        if word == "why":
            return "why"
        if word in ("what", "which"):
            return "when" if following in _WHEN_NOUNS else "what/which"
    return "other"
