"""extract_span on the seed article's own sentences: the words a reader would underline as the answer."""

from __future__ import annotations

import pytest

from index.text.clean import clean_article
from index.text.sentences import split_sentences
from newsqa.paths import CORPUS_DIR
from qa.models import AnswerType
from qa.question import analyze
from qa.spans import answer_type_fit, extract_span

SEED = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"


def _seed_sentences() -> list[str]:
    text = clean_article(SEED.read_text(encoding="utf-8")).text
    return [text[start:end] for start, end in split_sentences(text)]


SENTENCES = _seed_sentences()


def seed_sentence(beginning: str) -> str:
    matches = [s for s in SENTENCES if s.startswith(beginning)]
    assert len(matches) == 1, f"no single seed sentence starts with {beginning!r}"
    return matches[0]


KILOGRAMMES = "A total of 720 kilogrammes"
PERCENT = "According to a Interior Ministry"
GOVERNOR = "Newly-appointed Kandal provincial governor"
CASES = "It said more than 20,000 suspects"
RELEASED = "They were released just two or three days later"
CAMPAIGN = "Speaking at the appointment ceremony"
HIM_YUN = "Him Yun, director of the Coalition"


@pytest.mark.parametrize(
    ("question", "sentence", "expected", "answer_type"),
    [
        ("how many kilograms were seized in 2019?", KILOGRAMMES, "720 kilogrammes", AnswerType.QUANTITY),
        (
            "How much illicit drugs were confiscated during raids in 2019?",
            KILOGRAMMES,
            "720 kilogrammes",
            AnswerType.QUANTITY,
        ),
        ("How much marijuana was confiscated?", KILOGRAMMES, "99.97 kilogrammes", AnswerType.QUANTITY),
        ("How many cannabis plants were seized in 2019?", KILOGRAMMES, "94,441", AnswerType.QUANTITY),
        ("By how much did drug crimes rise in 2019?", PERCENT, "19 percent", AnswerType.QUANTITY),
        ("What percentage did drug-related crimes rise by in 2019?", PERCENT, "19 percent", AnswerType.QUANTITY),
        ("Who is the new governor of Kandal province?", GOVERNOR, "Kong Sorphon", AnswerType.PERSON),
        ("How many cases were there last year?", CASES, "9,572", AnswerType.QUANTITY),
        ("How many drug cases were recorded last year?", CASES, "9,572", AnswerType.QUANTITY),
        ("How many drug cases were recorded in 2018?", CASES, "8,018", AnswerType.QUANTITY),
        ("How many suspects were arrested last year?", CASES, "20,000", AnswerType.QUANTITY),
        ("Why were the suspects released?", RELEASED, "the crimes were not serious", AnswerType.REASON),
        ("Since what year have the 1.5 tonnes of drugs been seized?", CAMPAIGN, "2017", AnswerType.DATE),
        ("In which year did drug-related crimes go up by 19 percent?", PERCENT, "2019", AnswerType.DATE),
        ("Who directs the Coalition for Integrity and Social Accountability?", HIM_YUN, "Him Yun", AnswerType.PERSON),
    ],
)
def test_span_in_a_seed_sentence(question: str, sentence: str, expected: str, answer_type: AnswerType) -> None:
    text = seed_sentence(sentence)
    span = extract_span(text, analyze(question))
    assert span is not None, f"no span for {question!r}"
    assert text[span.start : span.end] == span.text
    assert expected in span.text, f"{question!r}: got {span.text!r}, expected {expected!r}"
    assert len(span.text) <= len(expected) + 25, f"{question!r}: span {span.text!r} is far wider than the answer"
    assert span.answer_type == answer_type


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How many kilograms were seized?", "He called on local authorities"),
        ("Who is the new governor of Kandal province?", RELEASED),
        ("Why were the suspects released?", KILOGRAMMES),
    ],
)
def test_no_span_when_the_sentence_holds_nothing_of_the_asked_kind(question: str, sentence: str) -> None:
    text = seed_sentence(sentence)
    assert extract_span(text, analyze(question)) is None
    assert answer_type_fit(text, analyze(question)) == 0.0


def test_the_year_is_the_one_next_to_the_number_asked_about() -> None:
    text = seed_sentence(CASES)
    span = extract_span(text, analyze("In what year were 8,018 cases recorded?"))
    assert span is not None and span.text == "2018"


def test_spans_never_end_in_punctuation_or_space() -> None:
    for question in ["How many kilograms were seized?", "Who said it?", "When was it?", "Why was it so?"]:
        for text in SENTENCES:
            span = extract_span(text, analyze(question))
            if span is not None:
                assert span.text == text[span.start : span.end]
                assert span.text == span.text.strip(" ,;:.")


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How much did the deal cost?", "The deal cost the firm $2bn, its chief executive said.", "$2bn"),
        ("How much was raised?", "The concerts raised £456m for charity.", "£456m"),
        ("How much does the club hope to raise?", "The club is hoping to raise $32m by March.", "$32m"),
    ],
)
def test_an_amount_keeps_the_scale_written_against_it(question: str, sentence: str, expected: str) -> None:
    # BBC style: "$2bn", "£456m" — the scale is part of the amount, not a word after it.
    span = extract_span(sentence, analyze(question))
    assert span is not None and span.text == expected
