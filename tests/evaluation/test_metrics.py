"""Metric functions against hand-computed values and against the official SQuAD script's own code."""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.metrics import (
    QUESTION_KINDS,
    abstention_scores,
    exact_match,
    normalize_answer,
    normalize_numbers,
    percentile,
    question_kind,
    recall_at_k,
    reciprocal_rank,
    sentence_hit_at_k,
    squad_exact_match,
    squad_f1,
    token_f1,
)

# --- the official evaluate-v1.1.py functions, verbatim apart from style, as an independent reference ---


def _official_normalize_answer(s: str) -> str:
    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _official_f1_score(prediction: str, ground_truth: str) -> float:
    prediction_tokens = _official_normalize_answer(prediction).split()
    ground_truth_tokens = _official_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


_WORDS = st.lists(
    st.sampled_from(["the", "a", "an", "cat", "Cat", "sat", "down,", "on", "mat.", "19", "1,200", "it's", "!"]),
    min_size=1,
    max_size=8,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_WORDS, st.lists(_WORDS, min_size=1, max_size=3))
def test_squad_versions_agree_with_the_official_script(prediction: str, golds: list[str]) -> None:
    assert normalize_answer(prediction) == _official_normalize_answer(prediction)
    official_em = max(float(_official_normalize_answer(prediction) == _official_normalize_answer(g)) for g in golds)
    assert squad_exact_match(prediction, golds) == official_em
    # The v1.1 script divides by zero when a side normalises to nothing; v2.0 defines that case, so the
    # comparison is only meaningful where both sides keep a token.
    if _official_normalize_answer(prediction) and all(_official_normalize_answer(g) for g in golds):
        official_f1 = max(_official_f1_score(prediction, g) for g in golds)
        assert squad_f1(prediction, golds) == pytest.approx(official_f1)


# --- SQuAD normalisation, EM and F1 by hand ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Cat, sat!", "cat sat"),
        ("an apple a day", "apple day"),
        ("  Theatre   of\tthe  Absurd ", "theatre of absurd"),  # "the" only as a whole word
        ("1,200", "1200"),
        ("99.97", "9997"),  # the official script's quirk: the decimal point is punctuation
        ("it’s", "it’s"),  # curly apostrophe is not in string.punctuation
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_f1_by_hand() -> None:
    # "the cat sat" → [cat, sat]; "a cat sat down" → [cat, sat, down]: P = 2/2, R = 2/3, F1 = 0.8
    assert squad_f1("the cat sat", ["a cat sat down"]) == pytest.approx(0.8)
    assert token_f1("the cat sat", ["a cat sat down"]) == pytest.approx(0.8)
    # repeated tokens count once per occurrence: [cat, cat] vs [cat]: P = 1/2, R = 1, F1 = 2/3
    assert squad_f1("cat cat", ["cat"]) == pytest.approx(2 / 3)
    assert squad_f1("dog", ["cat sat"]) == 0.0


def test_best_over_golds() -> None:
    assert squad_exact_match("Denver Broncos", ["Broncos", "Denver Broncos"]) == 1.0
    assert squad_f1("the Broncos", ["Broncos", "Denver Broncos"]) == 1.0
    assert squad_exact_match("The cat sat.", ["cat sat"]) == 1.0


def test_unanswerable_scores_only_empty_predictions() -> None:
    for metric in (exact_match, token_f1, squad_exact_match, squad_f1):
        assert metric("", []) == 1.0
        assert metric("Paris", []) == 0.0
        assert metric("", ["Paris"]) == 0.0
    assert exact_match("the", []) == 1.0  # normalises to nothing, so it abstains in effect


# --- number normalisation ---


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("1,200", "1200"),
        ("four", "4"),
        ("twenty-one", "21"),
        ("one hundred and five", "105"),
        ("two thousand three hundred", "2300"),
        ("two million", "2,000,000"),
        ("1.5 million", "1500000"),
        ("19 percent", "19%"),
        ("19 per cent", "19 percent"),
        ("720 kilogrammes", "720 kg"),
        ("720 kilograms", "720kg"),
        ("nearly 1.5 tonnes", "nearly 1.50 tonne"),
        ("more than 20,000", "more than twenty thousand"),
        ("it’s just a small crime", "it's just a small crime"),
    ],
)
def test_number_forms_match(left: str, right: str) -> None:
    assert normalize_numbers(left) == normalize_numbers(right)
    assert exact_match(left, [right]) == 1.0


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("99.97", "9997"),  # decimals keep their point, unlike the official normalisation
        ("1.5", "15"),
        ("five six", "11"),  # two numbers, not a sum
        ("20", "2019"),
        ("19 percent", "19"),
        ("2 tons", "2 tonnes"),  # a short ton is not a tonne
    ],
)
def test_number_forms_kept_apart(left: str, right: str) -> None:
    assert normalize_numbers(left) != normalize_numbers(right)


def test_normalize_numbers_outputs() -> None:
    assert normalize_numbers("A total of 720 kilogrammes of illicit drugs") == "total of 720 kg of illicit drugs"
    assert normalize_numbers("rose by 19 percent from the previous year.") == "rose by 19 percent from previous year"
    assert normalize_numbers("In 2019.") == "in 2019"
    assert normalize_numbers("") == ""


def test_number_normalised_metrics_beat_official_on_numbers() -> None:
    assert squad_exact_match("19%", ["19 percent"]) == 0.0
    assert exact_match("19%", ["19 percent"]) == 1.0
    assert squad_f1("nineteen percent", ["19 percent"]) == pytest.approx(0.5)
    assert token_f1("nineteen percent", ["19 percent"]) == 1.0
    assert token_f1("99.97 kilogrammes", ["99.97"]) == pytest.approx(2 / 3)  # P = 1/2, R = 1


# --- sentence hit@k ---


def test_hit_respects_token_boundaries() -> None:
    assert not sentence_hit_at_k(["Drug crimes in 2019 rose."], ["20"], k=1)
    assert not sentence_hit_at_k(["more than 20,000 suspects"], ["20"], k=1)
    assert sentence_hit_at_k(["more than 20,000 suspects"], ["20,000"], k=1)
    assert sentence_hit_at_k(["More than 20 suspects were held."], ["20"], k=1)


def test_hit_uses_number_forms_and_k() -> None:
    sentences = ["Kong Sorphon was appointed.", "Crimes rose by 19% in 2019."]
    assert not sentence_hit_at_k(sentences, ["19 percent"], k=1)
    assert sentence_hit_at_k(sentences, ["19 percent"], k=2)
    assert sentence_hit_at_k(sentences, ["nobody", "Kong Sorphon"], k=1)
    assert not sentence_hit_at_k(sentences, ["19 percent"], k=0)
    assert not sentence_hit_at_k(sentences, [], k=2)  # unanswerable: nothing to hit


# --- retrieval ---


def test_reciprocal_rank_and_recall() -> None:
    ranked = ["a", "b", "c"]
    assert reciprocal_rank(ranked, "a") == 1.0
    assert reciprocal_rank(ranked, "b") == 0.5
    assert reciprocal_rank(ranked, "z") == 0.0
    assert reciprocal_rank(ranked, {"c", "b"}) == 0.5  # several relevant chunks: the first counts
    assert recall_at_k(ranked, "c", 3)
    assert not recall_at_k(ranked, "c", 2)
    assert not recall_at_k([], "c", 5)


# --- abstention ---


def test_abstention_scores_by_hand() -> None:
    records = [
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": False},  # missed abstention
        {"answerable": True, "abstained": True},  # wrong abstention
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
    ]
    scores = abstention_scores(records)
    assert scores["precision"] == pytest.approx(2 / 3)  # 2 of 3 refusals were right
    assert scores["recall"] == pytest.approx(2 / 3)  # 2 of 3 unanswerable refused
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["answered_rate"] == pytest.approx(4 / 5)
    assert scores["n_unanswerable"] == 3 and scores["n_abstained"] == 3


def test_abstention_accepts_attributes_and_empty_denominators() -> None:
    class Record:
        def __init__(self, answerable: bool, abstained: bool) -> None:
            self.answerable = answerable
            self.abstained = abstained

    scores = abstention_scores([Record(True, False), Record(True, False)])
    assert scores["precision"] == 0.0 and scores["recall"] == 0.0 and scores["f1"] == 0.0
    assert scores["answered_rate"] == 1.0
    assert scores["n_unanswerable"] == 0


# --- percentile ---


@pytest.mark.parametrize("p", [0, 25, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy(p: float) -> None:
    values = [12.0, 3.5, 7.25, 100.0, 41.0, 8.0, 8.0]
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_by_hand_and_errors() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([5], 95) == 5.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], 101)


# --- question kinds ---


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many suspects were arrested last year?", "how many/much"),
        ("By how much did drug crimes rise?", "how many/much"),
        ("how much marijuana was confiscated", "how many/much"),
        ("When did he speak?", "when"),
        ("In which year did crimes rise?", "when"),
        ("Since what year have drugs been seized?", "when"),
        ("Who is the new governor of Kandal?", "who"),
        ("Whom did the minister call on?", "who"),
        ("Where does drug use happen?", "where"),
        ("Which organisation does Him Yun lead?", "what/which"),
        ("What did Him Yun say about releasing a drug suspect?", "what/which"),
        ("Why were the suspects released?", "why"),
        ("For how long has the campaign been successful?", "how"),
        ("and in 2018?", "other"),
        ("Tell me about Kandal", "other"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind
    assert kind in QUESTION_KINDS
