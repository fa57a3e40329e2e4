"""Follow-up questions in a chat are rewritten into self-contained ones from the earlier turns."""

from __future__ import annotations

import pytest

from qa.followup import Turn, is_follow_up, rewrite
from qa.models import Answer, AnswerType, Citation, CitedSentence, Span
from qa.question import answer_type_of

KILOGRAMS_2019 = "how many kilograms were seized in 2019?"
SINCE_2017 = (
    "Speaking at the appointment ceremony of the new governor of Kandal province yesterday, Mr Kheng said "
    "Cambodia’s anti-drug trafficking campaign has been successful over the past three years, adding nearly 1.5 "
    "tonnes of illicit drugs have been seized since 2017."
)
GOVERNOR = (
    "Newly-appointed Kandal provincial governor Kong Sorphon said yesterday he will follow Mr Kheng’s advice and "
    "regularly monitor his subordinates in implementing action against drug-related crimes."
)


def answered(question: str, sentence: str, span: str, answer_type: AnswerType, understood: str | None = None) -> Answer:
    """An Answer as the assistant gives it: one cited sentence with its span."""
    start = sentence.index(span)
    return Answer(
        question=question,
        understood_question=understood or question,
        answer_type=answer_type,
        found=True,
        sentences=[
            CitedSentence(
                text=sentence,
                score=0.9,
                span=Span(text=span, start=start, end=start + len(span), answer_type=answer_type),
                citation=Citation(article_id="seed", title="Sar Kheng cautions", sentence_number=1, start=0, end=1),
            )
        ],
    )


@pytest.mark.parametrize("follow_up", ["and in 2018?", "And in 2018?", "what about 2018?", "and 2018?"])
def test_a_new_year_replaces_the_old_one(follow_up: str) -> None:
    rewritten = rewrite(follow_up, [KILOGRAMS_2019])
    assert "2018" in rewritten and "2019" not in rewritten
    assert "kilograms" in rewritten and "seized" in rewritten
    assert is_follow_up(follow_up)


def test_a_year_replaces_a_relative_time() -> None:
    rewritten = rewrite("and in 2018?", ["How many drug cases were recorded last year?"])
    assert "2018" in rewritten and "last year" not in rewritten
    assert "drug cases were recorded" in rewritten


def test_a_place_replaces_the_old_place() -> None:
    rewritten = rewrite("and in Kandal?", ["how many cases were recorded in Phnom Penh?"])
    assert "Kandal" in rewritten and "Phnom Penh" not in rewritten and "cases" in rewritten


def test_the_latest_turn_is_the_one_followed_up() -> None:
    history = ["Who is the new governor of Kandal province?", KILOGRAMS_2019]
    assert rewrite("and in 2018?", history) == "how many kilograms were seized in 2018?"


def test_an_answer_in_the_history_is_followed_up_by_what_was_understood() -> None:
    previous = answered(
        "and in 2019?", "A total of 720 kilogrammes were confiscated in 2019.", "720 kilogrammes",
        AnswerType.QUANTITY, understood=KILOGRAMS_2019,
    )  # fmt: skip
    assert rewrite("and in 2018?", [previous]) == "how many kilograms were seized in 2018?"
    assert rewrite("and in 2018?", [Turn(KILOGRAMS_2019)]) == "how many kilograms were seized in 2018?"


def test_who_said_that_resolves_against_the_previous_answer() -> None:
    previous = answered(
        "How much illegal drugs has Cambodia seized since 2017?", SINCE_2017, "nearly 1.5 tonnes", AnswerType.QUANTITY
    )
    rewritten = rewrite("who said that?", [previous])
    assert "that" not in rewritten.split()
    assert "Speaking at the appointment ceremony of the new governor" in rewritten, rewritten
    assert answer_type_of(rewritten) == AnswerType.PERSON


def test_a_pronoun_resolves_to_the_person_just_named() -> None:
    previous = answered("Who is the new governor of Kandal province?", GOVERNOR, "Kong Sorphon", AnswerType.PERSON)
    assert rewrite("what did he promise?", [previous]) == "what did Kong Sorphon promise?"


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Who is the new governor of Kandal province?",
        "Why were the suspects released?",
    ],
)
def test_a_self_contained_question_is_left_alone(question: str) -> None:
    assert rewrite(question, [KILOGRAMS_2019]) == question


@pytest.mark.parametrize("history", [None, [], ["  "]])
def test_without_history_nothing_is_rewritten(history: list[str] | None) -> None:
    assert rewrite("  and in 2018? ", history) == "and in 2018?"


def test_a_new_subject_keeps_the_rest_of_the_previous_question() -> None:
    rewritten = rewrite(
        "and how many marijuana plants?", ["How much illicit drugs were confiscated during raids in 2019?"]
    )
    assert "marijuana plants" in rewritten
    assert "2019" in rewritten and "confiscated" in rewritten, rewritten


def test_a_follow_up_with_its_own_question_word_keeps_the_previous_context() -> None:
    rewritten = rewrite("In how many cases?", ["How many suspects were arrested in 2019?"])
    assert "cases" in rewritten and "arrested" in rewritten and "2019" in rewritten, rewritten
