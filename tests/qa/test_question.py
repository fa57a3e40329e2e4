"""Reading a question: the kind of answer it wants, and the words, numbers and years it names."""

from __future__ import annotations

import pytest

from qa.models import AnswerType
from qa.question import analyze, answer_type_of, years_in


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how many kilograms were seized in 2019?", AnswerType.QUANTITY),
        ("How many drug cases were recorded last year?", AnswerType.QUANTITY),
        ("How much illicit drugs were confiscated during raids in 2019?", AnswerType.QUANTITY),
        ("By how much did drug crimes rise in 2019?", AnswerType.QUANTITY),
        ("What percentage did drug-related crimes rise by?", AnswerType.QUANTITY),
        ("What was the number of suspects arrested?", AnswerType.QUANTITY),
        ("When did Sar Kheng speak at the Kandal ceremony?", AnswerType.DATE),
        ("What year did drug crimes rise by 19 percent?", AnswerType.DATE),
        ("In which year did drug-related crimes go up by 19 percent?", AnswerType.DATE),
        ("Since what year have the 1.5 tonnes of drugs been seized?", AnswerType.DATE),
        ("Who is the new governor of Kandal province?", AnswerType.PERSON),
        ("who warned local authorities against releasing drug suspects?", AnswerType.PERSON),
        ("Which minister said the campaign had been successful?", AnswerType.PERSON),
        ("Where does small-scale drug use happen?", AnswerType.PLACE),
        ("Which province got a new governor?", AnswerType.PLACE),
        ("Why were the suspects released?", AnswerType.REASON),
        ("why do some officials free drug addicts?", AnswerType.REASON),
        ("Which organisation does Him Yun lead?", AnswerType.ORGANIZATION),
        ("What did Him Yun say about releasing a drug suspect?", AnswerType.QUOTE),
        ("What is Sar Kheng's job?", AnswerType.OTHER),
    ],
)
def test_answer_type(question: str, expected: AnswerType) -> None:
    assert answer_type_of(question) == expected
    assert analyze(question).answer_type == expected


def test_terms_are_the_content_words_without_question_words() -> None:
    parsed = analyze("  How many   kilograms were seized in 2019? ")
    assert parsed.text == "How many kilograms were seized in 2019?"
    assert parsed.terms == ["kilogram", "seiz", "2019"]
    assert parsed.years == {"2019"}
    assert parsed.numbers == {"2019"}


def test_numbers_are_read_without_thousands_separators() -> None:
    parsed = analyze("In what year were 8,018 cases and 99.97 kilogrammes recorded?")
    assert parsed.numbers == {"8018", "99.97"}
    assert parsed.years == set()
    assert parsed.answer_type == AnswerType.DATE
    assert "year" not in parsed.terms, "'what year' only says what is asked"


def test_years_are_found_in_text() -> None:
    assert years_in("8,018 recorded in 2018, up from 1999 and the 1980s") == {"2018", "1999", "1980"}
    assert years_in("9,572 cases, 720 kilogrammes, 20,000 suspects") == set()


@pytest.mark.parametrize("question", ["", "   ", "?", "what?", "how many?"])
def test_questions_without_content_have_no_terms(question: str) -> None:
    assert analyze(question).terms == []
