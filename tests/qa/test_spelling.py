"""Asking in the archive's spelling (qa/spelling.py): British and American variants, rewritten only from a word the
collection lacks to one it holds, and what that does for the bundled article's own example question."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from index.text.tokenize import tokenize
from qa.spelling import align_spelling, variants


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("kilograms", "kilogrammes"),
        ("kilogrammes", "kilograms"),
        ("color", "colour"),
        ("labour", "labor"),
        ("defense", "defence"),
        ("center", "centre"),
        ("organization", "organisation"),
        ("traveled", "travelled"),
        ("tonnes", "tons"),
        ("catalogue", "catalog"),
        ("aluminum", "aluminium"),
    ],
)
def test_variants_cover_the_common_british_and_american_spellings(word: str, other: str) -> None:
    assert other in variants(word)


@pytest.mark.parametrize("word", ["for", "or", "our", "her", "seized", "heroin"])
def test_short_words_and_words_without_a_variant_have_none(word: str) -> None:
    assert variants(word) == []


def _collection(*texts: str):  # type: ignore[no-untyped-def]
    held = {t for text in texts for t in tokenize(text)}

    def holds(terms: Iterable[str]) -> set[str]:
        return set(terms) & held

    return holds


def test_a_word_the_collection_lacks_takes_the_variant_it_holds() -> None:
    holds = _collection("A total of 720 kilogrammes of drugs were seized by the Defence Ministry.")
    assert align_spelling("How many Kilograms did the defense ministry seize?", holds) == (
        "How many Kilogrammes did the defence ministry seize?"
    )


def test_a_word_the_collection_holds_is_never_rewritten() -> None:
    # Both spellings occur: the question's own is kept.
    holds = _collection("The programme cost more.", "The program cost more.")
    assert align_spelling("What did the program cost?", holds) == "What did the program cost?"


def test_a_word_neither_spelling_of_which_the_collection_holds_is_left_alone() -> None:
    holds = _collection("Rice prices rose in Phnom Penh.")
    question = "What colour was the Kheng's car in Bangkok?"
    assert align_spelling(question, holds) == question


def test_the_bundled_examples_question_answers_with_confidence_in_either_spelling(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    american = seed_assistant.answer("how many kilograms were seized in 2019?")
    british = seed_assistant.answer("how many kilogrammes were seized in 2019?")
    assert american.understood_question == "how many kilogrammes were seized in 2019?"
    for answer in (american, british):
        assert answer.found and answer.sentences[0].score >= 0.5
        assert answer.best_span is not None and answer.best_span.text == "720 kilogrammes"
    assert american.sentences[0].score == pytest.approx(british.sentences[0].score)


@pytest.mark.parametrize("question", ["how much marijuana was seized in 2019?", "how many drugs were seized in 2019?"])
def test_its_paraphrases_answer_with_confidence_too(seed_assistant, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = seed_assistant.answer(question)
    assert answer.found and answer.sentences[0].score >= 0.5 and "2019" in answer.sentences[0].text
