"""The news development set (evaluation/news/) and the small public news sets load and hold what they claim.

Checks every line of the news set against the articles it was written on (read from ../shared/bench/news/,
which is not shipped: those tests skip without it): gold sentences are sentences of the cleaned articles as the
index splits them, answers are substrings of their gold sentences, halves follow the article hash.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evaluation.gold import GoldFormatError
from evaluation.news_set import (
    BBC,
    NEWS,
    NEWS_KINDS,
    NEWS_SMALL,
    REUTERS,
    NewsQuestion,
    half_of,
    load_corpus,
    load_news,
    load_news_small,
    validate,
)

needs_news = pytest.mark.skipif(
    not BBC.exists() or not REUTERS.exists(),
    reason=f"BBC / Reuters-21578 not found under {BBC.parent} (benchmark data is not shipped with the repository)",
)


@pytest.fixture(scope="module")
def questions() -> list[NewsQuestion]:
    return load_news()


def test_the_set_has_its_size_kinds_and_split(questions: list[NewsQuestion]) -> None:
    answerable = [q for q in questions if q.answerable]
    off_corpus = [q for q in questions if not q.answerable]
    assert len(answerable) >= 200 and len(off_corpus) >= 60
    assert {q.kind for q in questions} == set(NEWS_KINDS)
    assert {q.article_id.split("-")[0] for q in answerable if q.article_id} == {"bbc", "reuters"}
    # Split by article, about half and half, and no article on both sides.
    halves = Counter(q.half for q in questions)
    assert 0.45 <= halves["tune"] / len(questions) <= 0.55
    assert all(q.half == half_of(q.split_key()) for q in questions)
    sides: dict[str, set[str]] = {}
    for q in answerable:
        sides.setdefault(q.article_id or "", set()).add(q.half)
    assert all(len(s) == 1 for s in sides.values())
    # Relative questions say when they are asked; the gold form keeps the fields scoring needs.
    assert all(q.as_of is not None for q in questions if q.kind == "relative")
    gold = answerable[0].gold()
    assert (gold.article_id, gold.sentence, gold.answers) == (
        answerable[0].article_id,
        answerable[0].sentence,
        answerable[0].answers,
    )
    assert all(not q.gold().answerable for q in off_corpus)


def test_a_malformed_line_is_named(tmp_path: Path) -> None:
    good = (NEWS / "questions.jsonl").read_text(encoding="utf-8").splitlines()[0]
    bad = json.loads(good) | {"kind": "trivia"}
    path = tmp_path / "questions.jsonl"
    path.write_text(good + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match=r"line 2: kind"):
        load_news(path)
    path.write_text(good + "\n" + good + "\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match="already used on line"):
        load_news(path)


@needs_news
def test_every_question_matches_its_article(questions: list[NewsQuestion]) -> None:
    corpus = load_corpus()
    assert validate(questions, corpus) == []
    gold_reuters = {int(q.article_id.split("-")[1]) for q in questions if q.article_id and "reuters" in q.article_id}
    assert gold_reuters <= corpus.reuters_ids and 2900 <= len(corpus.reuters_ids) <= 3000


@needs_news
def test_validate_reports_what_is_wrong(questions: list[NewsQuestion]) -> None:
    first = next(q for q in questions if q.answerable)
    broken = [
        first.model_copy(update={"id": "wrong-answer", "answers": ["not in the sentence"]}),
        first.model_copy(update={"id": "wrong-sentence", "sentence": "A sentence no article has."}),
        first.model_copy(update={"id": "wrong-half", "half": "test" if first.half == "tune" else "tune"}),
        first.model_copy(update={"id": "lost", "article_id": "bbc-business-999"}),
    ]
    problems = "\n".join(validate(broken, load_corpus()))
    assert "wrong-answer: answer 'not in the sentence'" in problems
    assert "wrong-sentence: the gold sentence is not a sentence" in problems
    assert "wrong-half: half" in problems
    assert "lost: article bbc-business-999 is not in the corpus" in problems


@pytest.mark.skipif(not NEWS_SMALL.exists(), reason=f"{NEWS_SMALL} not found (benchmark data is not shipped)")
def test_news_small_reads_the_span_and_unanswerable_parts() -> None:
    small = load_news_small()
    by_source = {source: len(ids) for source, ids in small.sources.items()}
    assert by_source == {"ESTER": 801, "QuAIL-news": 139}
    unanswerable = [q for q in small.questions if not q.answerable]
    assert len(unanswerable) == 60 and all(q.id in small.sources["QuAIL-news"] for q in unanswerable)
    passages = {a["id"]: str(a["body"]) for a in small.articles}
    # Every answer is a span of the question's own passage.
    assert all(a in passages[q.article_id or ""] for q in small.questions for a in q.answers)


def test_another_report_of_the_same_answer_counts_only_where_listed() -> None:
    from evaluation.gold import GoldQuestion
    from evaluation.records import hits
    from evaluation.results import ReturnedSentence

    gold = GoldQuestion(
        id="q",
        question="Who is the Wales rugby coach?",
        answers=["Mike Ruddock"],
        article_id="bbc-sport-348",
        sentence="Coach Mike Ruddock says the 24-year-old should take the armband.",
        also=[("bbc-sport-307", "Wales coach Mike Ruddock says England lock Danny Grewcock needs to review it.")],
    )

    def returned(article_id: str, text: str) -> ReturnedSentence:
        return ReturnedSentence(text=text, score=0.9, article_id=article_id, span=None, marked=text, verbatim=True)

    assert hits(returned("bbc-sport-348", gold.sentence or ""), gold)
    assert hits(returned("bbc-sport-307", gold.also[0][1]), gold)
    # The same name in an article not listed, or in a listed article's other sentence, is not a hit.
    assert not hits(returned("bbc-sport-999", gold.also[0][1]), gold)
    assert not hits(returned("bbc-sport-307", "Mike Ruddock named his team."), gold)
