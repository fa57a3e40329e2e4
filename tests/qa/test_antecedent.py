"""Context beyond one sentence: an answer sentence that only refers back ("She will take charge…") is cited after
the earlier sentence that names whom it refers to, with the answer marked there."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from index.encoder import Encoder
from newsqa.settings import Settings
from qa.answering.antecedent import refers_back
from qa.assistant import Assistant
from qa.models import AnswerType, Span
from qa.question import analyze

FERRY = {
    "id": "ferry-1",
    "title": "Ferry operator names new chief",
    "source": "Coast Courier",
    "date": "2021-03-02",
    "text": "Coastline Ferries appointed Margaret Oyelaran as its chief executive on Monday. She will take charge "
    "of the fleet of 14 vessels in April, the board said. The operator carried 3.1 million passengers last year.",
}
RAIL = {
    "id": "rail-1",
    "title": "Rail link reopens after floods",
    "source": "Coast Courier",
    "date": "2021-02-10",
    "text": "The Northvale rail link reopened on Tuesday after three weeks of repairs. Engineers replaced 400 metres "
    "of track washed away by the floods. The line carries 9,000 commuters a day.",
}


def _span(sentence: str, text: str, answer_type: AnswerType = AnswerType.PERSON) -> Span:
    start = sentence.index(text)
    return Span(text=text, start=start, end=start + len(text), answer_type=answer_type)


@pytest.mark.parametrize(
    ("question", "sentence", "marked"),
    [
        ("Who was joined by the clergy?", "She was joined by the clergy of four faiths.", "She"),
        ("Who is due in Leeds on Tuesday?", "He is due to visit Leeds on Tuesday.", "He is due to visit Leeds"),
        (
            "Which president arrived after meeting George W Bush?",
            "He arrived after he met George W Bush.",
            "George W Bush",
        ),
        (
            "Which player meets Kevin Kim in the second round?",
            "The 21-year-old meets Kevin Kim in the second round.",
            "The 21-year-old",
        ),
        (
            "Which rating agency cited an improvement?",
            "The rating agency cited an improvement in profits.",
            "rating agency",
        ),
    ],
)
def test_a_span_that_only_refers_back_is_no_answer(question: str, sentence: str, marked: str) -> None:
    parsed = analyze(question)
    assert refers_back(_span(sentence, marked, parsed.answer_type), parsed, sentence)


@pytest.mark.parametrize(
    ("question", "sentence", "marked"),
    [
        # The answer is in the sentence that refers back: it stays.
        (
            "What did the ministry blame the fall on?",
            "He attributed the fall to the rising Taiwan dollar.",
            "rising Taiwan dollar",
        ),
        ("How many passengers did it carry?", "The operator carried 3.1 million passengers last year.", "3.1 million"),
        # A title that starts with a pronoun is a name, not a reference.
        (
            "Which quiz show did he criticise?",
            "The comedian criticised They Think It's All Over.",
            "They Think It's All Over",
        ),
        # A span repeating the question in a sentence that does not refer back is left to the reader.
        (
            "How much has the system lost in two years?",
            "That could hurt the system, which lost $4bn in two years.",
            "two years",
        ),
        ("Who heads the agency?", "The agency is headed by Ana Ruiz.", "Ana Ruiz"),
        # A description can be the answer: whom he called on.
        ("Whom did the minister call on to act?", "He called on local authorities to act.", "local authorities"),
        # Descriptions answer "what" and "who" questions; only a "which" question asks for the one named earlier.
        (
            "What received a battering in the siege?",
            "The church tower received a battering in the siege.",
            "The church tower",
        ),
        (
            "Who has the authority of a pastor?",
            "The licensed local pastor has the authority of a pastor.",
            "licensed local pastor",
        ),
        # Only questions asking who or which are answered from an earlier sentence.
        ("Did he graduate from the university?", "He never graduated from the university.", "graduated"),
    ],
)
def test_an_answer_in_the_sentence_itself_is_kept(question: str, sentence: str, marked: str) -> None:
    parsed = analyze(question)
    assert not refers_back(_span(sentence, marked, parsed.answer_type), parsed, sentence)
    assert not refers_back(None, parsed, sentence)


@pytest.fixture(scope="module")
def ferry_assistant(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    folder = tmp_path_factory.mktemp("ferry")
    (folder / "news.json").write_text(json.dumps([FERRY, RAIL]), encoding="utf-8")
    assistant = Assistant(Settings(index_dir=folder / "index"), encoder=encoder, auto_ingest=False)
    report = assistant.ingest([folder / "news.json"], show_progress=False)
    assert len(report.added) == 2 and not report.problems
    yield assistant


def test_the_sentence_naming_whom_she_refers_to_is_cited_first(ferry_assistant: Assistant) -> None:
    answer = ferry_assistant.answer("Who will take charge of the fleet of 14 vessels in April?", top_k=3)
    assert answer.found
    named, context = answer.sentences[:2]
    assert named.text.startswith("Coastline Ferries appointed Margaret Oyelaran")
    assert named.span is not None and "Margaret Oyelaran" in named.span.text
    assert named.citation.sentence_number == 0
    # The sentence the question paraphrases follows as context, its pronoun not marked as the answer.
    assert context.text.startswith("She will take charge") and context.span is None
    assert context.citation.sentence_number == 1
    # Each citation carries its own sentence's dates: "on Monday" for the first, "in April" for the second.
    assert any(d.startswith("Monday") for d in named.citation.fact_dates), named.citation.fact_dates
    assert not any(d.startswith("April") for d in named.citation.fact_dates), named.citation.fact_dates
    assert any(d.startswith("April") for d in context.citation.fact_dates), context.citation.fact_dates
    for sentence in answer.sentences:  # both verbatim, at their place in the article
        article = ferry_assistant.article(sentence.citation.article_id)
        assert article is not None
        assert article.text[sentence.citation.start : sentence.citation.end] == sentence.text


def test_a_sentence_that_holds_its_own_answer_is_cited_alone(ferry_assistant: Assistant) -> None:
    answer = ferry_assistant.answer("How many passengers did the operator carry last year?", top_k=3)
    assert answer.found
    best = answer.sentences[0]
    assert best.text == "The operator carried 3.1 million passengers last year."
    assert best.span is not None and best.span.text == "3.1 million"
