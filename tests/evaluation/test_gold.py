"""The shipped gold set and the SQuAD loader, read from the real files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evaluation.gold import GoldFormatError, GoldQuestion, SquadSet, load_gold, load_squad, split_by_title
from newsqa.paths import CORPUS_DIR, REPO_ROOT, SQUAD_DIR
from qa.models import AnswerType

GOLD = REPO_ROOT / "evaluation" / "goldsets" / "khmer-times.jsonl"
ARTICLE = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"
SQUAD_V1 = SQUAD_DIR / "dev-v1.1.json"
SQUAD_V2 = SQUAD_DIR / "dev-v2.0.json"

needs_squad = pytest.mark.skipif(
    not SQUAD_V1.exists() or not SQUAD_V2.exists(),
    reason=f"SQuAD dev files not found under {SQUAD_DIR} (benchmark data is not shipped with the repository)",
)


def _article_body() -> str:
    """The answerable text: the story body, without banner, byline, caption and teasers."""
    text = ARTICLE.read_text(encoding="utf-8")
    first, last = "Interior Minister Sar Kheng has warned", "confiscated during raids in 2019."
    return text[text.index(first) : text.index(last) + len(last)]


# --- the shipped gold set ---


@pytest.fixture(scope="module")
def gold() -> list[GoldQuestion]:
    return load_gold(GOLD)


def test_gold_set_size_and_mix(gold: list[GoldQuestion]) -> None:
    assert len(gold) >= 45
    assert sum(not q.answerable for q in gold) >= 8
    assert sum(bool(q.history) for q in gold) >= 6
    assert len({q.id for q in gold}) == len(gold)
    assert {q.type for q in gold} == {t.value for t in AnswerType}  # every answer type is exercised


def test_every_answer_is_verbatim_in_the_article_body(gold: list[GoldQuestion]) -> None:
    body = _article_body()
    whole_file = ARTICLE.read_text(encoding="utf-8")
    missing = [(q.id, a) for q in gold for a in q.answers if a not in body]
    assert missing == []
    assert all(a in whole_file for q in gold for a in q.answers)


def test_gold_questions_are_well_formed(gold: list[GoldQuestion]) -> None:
    for q in gold:
        assert q.article_id is None  # ids are computed at ingest; the seed corpus has one article
        assert q.question.strip() == q.question
        assert all(a.strip() == a and a for a in q.answers), q.id
        assert all(h.strip() for h in q.history), q.id


# --- load_gold errors name the file and line ---


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(**fields: object) -> str:
    record: dict[str, object] = {"id": "x-1", "question": "Who?", "answers": ["Him Yun"], "type": "person"}
    record.update(fields)
    return json.dumps(record)


def test_load_gold_reads_defaults_and_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, [_line(), "", _line(id="x-2", answers=[], type=None)])
    questions = load_gold(path)
    assert [q.id for q in questions] == ["x-1", "x-2"]
    assert questions[0].history == [] and questions[0].article_id is None
    assert questions[0].answerable and not questions[1].answerable


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "x-2", "question": ', "line 2: not valid JSON"),
        ('["not", "an", "object"]', "line 2: expected a JSON object, got list"),
        (_line(id="x-2", answers="Him Yun"), "line 2: answers: Input should be a valid list"),
        (_line(id="x-2", type="animal"), "line 2: type: Value error, unknown type 'animal'"),
        (_line(id="x-2", answer=["typo"]), "line 2: answer: Extra inputs are not permitted"),
        (_line(), "line 2: id 'x-1' already used on line 1"),
    ],
)
def test_load_gold_errors(tmp_path: Path, bad_line: str, message: str) -> None:
    path = _write(tmp_path, [_line(), bad_line])
    with pytest.raises(GoldFormatError) as error:
        load_gold(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


# --- SQuAD ---


@needs_squad
def test_load_squad_v1_counts_and_links() -> None:
    squad = load_squad(SQUAD_V1)
    assert len(squad.articles) == 2067
    assert len(squad.questions) == 10570
    texts = {a["id"]: a["text"] for a in squad.articles}
    assert len(texts) == len(squad.articles)
    assert squad.articles[0]["id"] == "squad:1973_oil_crisis:0"
    assert squad.articles[0]["title"] == "1973 oil crisis"
    for q in squad.questions:
        assert q.article_id in texts
        assert q.answers and all(a in texts[q.article_id] for a in q.answers)  # answers are spans
    assert len({q.id for q in squad.questions}) == len(squad.questions)


@needs_squad
def test_load_squad_v2_has_unanswerable_questions() -> None:
    squad = load_squad(SQUAD_V2)
    assert len(squad.articles) == 1204
    assert len(squad.questions) == 11873
    assert sum(not q.answerable for q in squad.questions) == 5945


@needs_squad
def test_load_squad_sampling_is_seeded() -> None:
    first = load_squad(SQUAD_V1, limit=50, seed=3)
    again = load_squad(SQUAD_V1, limit=50, seed=3)
    other = load_squad(SQUAD_V1, limit=50, seed=4)
    assert [q.id for q in first.questions] == [q.id for q in again.questions]
    assert [q.id for q in first.questions] != [q.id for q in other.questions]
    assert len(first.questions) == 50
    assert len(first.articles) == 2067  # all paragraphs stay, as retrieval distractors
    asked = load_squad(SQUAD_V1, limit=50, seed=3, asked_paragraphs_only=True)
    assert {a["id"] for a in asked.articles} == {q.article_id for q in asked.questions}
    with pytest.raises(ValueError, match="limit"):
        load_squad(SQUAD_V1, limit=-1)


@needs_squad
def test_split_by_title_separates_tune_from_test() -> None:
    squad = load_squad(SQUAD_V1)
    tune, test = split_by_title(squad)

    def titles(part: SquadSet) -> set[str]:
        return {a["id"].split(":")[1] for a in part.articles}

    assert len(titles(tune)) == len(titles(test)) == 24
    assert not titles(tune) & titles(test)
    assert len(tune.articles) + len(test.articles) == 2067
    assert len(tune.questions) + len(test.questions) == 10570
    tune_ids = {a["id"] for a in tune.articles}
    assert all(q.article_id in tune_ids for q in tune.questions)

    held_out = load_squad(SQUAD_V1, half="test", limit=100, seed=0)
    assert len(held_out.questions) == 100
    assert {a["id"] for a in held_out.articles} == {a["id"] for a in test.articles}
    assert not {q.article_id for q in held_out.questions} & tune_ids
    assert Counter(q.id for q in held_out.questions).most_common(1)[0][1] == 1
