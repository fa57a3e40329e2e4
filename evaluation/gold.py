"""Gold questions for the evaluation: the shipped JSONL gold sets and the official SQuAD dev files.

``load_gold`` reads one of our gold files (one ``GoldQuestion`` per line, see evaluation/goldsets/);
``load_squad`` turns a SQuAD v1.1/v2.0 dev file into articles to ingest (one per paragraph) plus
``GoldQuestion``s that point at them; ``split_by_title`` separates a tuning half from a test half so
that thresholds are never tuned on the questions they are reported on.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsqa.errors import NewsQAError
from qa.models import AnswerType

__all__ = [
    "GoldFormatError",
    "GoldQuestion",
    "SquadSet",
    "describe_errors",
    "load_gold",
    "load_squad",
    "numbered_lines",
    "paragraph_id",
    "sample_questions",
    "split_by_id",
    "split_by_title",
]


# Gold sets shipped with the package: questions about the bundled corpus (kept out of corpus/ so they are
# never ingested as articles).
GOLD_SETS = Path(__file__).resolve().parent / "goldsets"
BUNDLED_GOLD = GOLD_SETS / "khmer-times.jsonl"


DATED = GOLD_SETS.parent / "dated"


def split_by_id(questions: list[GoldQuestion]) -> tuple[list[GoldQuestion], list[GoldQuestion]]:
    """A fixed tuning half and test half of a gold set, by a hash of each question's id."""
    tune = [q for q in questions if hashlib.sha256(q.id.encode()).digest()[0] % 2 == 0]
    picked = {q.id for q in tune}
    return tune, [q for q in questions if q.id not in picked]


class GoldFormatError(NewsQAError, ValueError):
    """A gold or benchmark file that cannot be read; the message names the file and line."""


class GoldQuestion(BaseModel):
    """One evaluation question with every acceptable answer; ``answers == []`` means unanswerable."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key in a gold file should fail, not vanish

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str] = Field(description="Acceptable short answers; [] when the corpus cannot answer.")
    type: str | None = Field(default=None, description="What the question asks for (an AnswerType value).")
    article_id: str | None = Field(
        default=None, description="The article holding the answer; None: the only article, not scored."
    )
    history: list[str] = Field(default_factory=list, description="Earlier user turns, oldest first.")
    as_of: date | None = Field(default=None, description="The day the question is asked (default: today).")
    sentence: str | None = Field(
        default=None,
        description="The answering sentence of `article_id`; when given, only that sentence counts as a hit.",
    )
    also: list[tuple[str, str]] = Field(
        default_factory=list,
        description="Other (article_id, sentence) pairs that report the same answer; each counts like `sentence`.",
    )
    relative: bool | None = Field(default=None, description='The question uses a relative time ("last month").')
    traps: list[str] = Field(
        default_factory=list, description="Articles of another date that give a different figure for the question."
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in {t.value for t in AnswerType}:
            allowed = ", ".join(t.value for t in AnswerType)
            raise ValueError(f"unknown type {value!r} (expected one of: {allowed})")
        return value

    @property
    def answerable(self) -> bool:
        """True when the gold set holds at least one answer."""
        return bool(self.answers)


def describe_errors(error: ValidationError) -> str:
    """Pydantic's errors in one line: 'answers: Field required; type: unknown type ...'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "line"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSONL file with their 1-based line numbers (for errors that name the line)."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a JSONL gold file (one question object per line; blank lines are skipped).

    Raises ``GoldFormatError`` naming the file and 1-based line for invalid JSON, a line that is not an
    object, a field that fails validation, or an id used twice; ``FileNotFoundError`` if it is missing.
    """
    return read_questions(Path(path), GoldQuestion)


Question = TypeVar("Question", bound=BaseModel)


def read_questions(path: Path, model: type[Question]) -> list[Question]:
    """The questions of a JSONL file, one `model` object a line (each with a unique `id`), validated; a
    malformed line raises ``GoldFormatError`` naming the file and line (the gold and the news sets' reader)."""
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in numbered_lines(path):
        where = f"{path} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldFormatError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise GoldFormatError(f"{where}: expected a JSON object, got {type(data).__name__}")
        try:
            question = model.model_validate(data)
        except ValidationError as exc:
            raise GoldFormatError(f"{where}: {describe_errors(exc)}") from exc
        key = str(getattr(question, "id"))  # noqa: B009 - every question model has an id; BaseModel does not say so
        if key in seen:
            raise GoldFormatError(f"{where}: id {key!r} already used on line {seen[key]}")
        seen[key] = number
        questions.append(question)
    return questions


class SquadSet(NamedTuple):
    """A SQuAD file as our evaluation sees it.

    ``articles``: one dict per paragraph, ``{"id": "squad:<title>:<paragraph index>", "title", "text"}``,
    ready to ingest; ``questions``: ``GoldQuestion``s whose ``article_id`` is that paragraph id.
    """

    articles: list[dict[str, str]]
    questions: list[GoldQuestion]


def paragraph_id(title: str, index: int) -> str:
    """The article id given to SQuAD paragraph ``index`` (0-based, within its title)."""
    return f"squad:{title}:{index}"


def title_of(article_id: str) -> str:
    # Ids are "squad:<title>:<index>"; titles hold no ":" in the official files, but split from the right
    # so a title with one would still round-trip.
    return article_id.split(":", 1)[1].rsplit(":", 1)[0]


def _read_squad(path: Path) -> SquadSet:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GoldFormatError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise GoldFormatError(f"{path}: not a SQuAD file (expected an object with a 'data' list)")
    articles: list[dict[str, str]] = []
    questions: list[GoldQuestion] = []
    for entry in raw["data"]:
        title = entry["title"]
        for index, paragraph in enumerate(entry["paragraphs"]):
            pid = paragraph_id(title, index)
            articles.append({"id": pid, "title": title.replace("_", " "), "text": paragraph["context"]})
            for qa in paragraph["qas"]:
                if qa.get("is_impossible", False):
                    answers: list[str] = []
                else:
                    # Several annotators often give the same text; keep each distinct answer once.
                    answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(GoldQuestion(id=qa["id"], question=qa["question"], answers=answers, article_id=pid))
    return SquadSet(articles, questions)


def split_by_title(squad: SquadSet) -> tuple[SquadSet, SquadSet]:
    """Split into (tune, test) halves by SQuAD article title, in file order.

    The first ceil(n/2) titles are "tune", the rest "test"; every paragraph and question of a title
    goes with it, so no passage is seen on both sides.
    """
    titles = list(dict.fromkeys(title_of(a["id"]) for a in squad.articles))
    tune_titles = set(titles[: (len(titles) + 1) // 2])

    def side(keep_tune: bool) -> SquadSet:
        return SquadSet(
            [a for a in squad.articles if (title_of(a["id"]) in tune_titles) == keep_tune],
            [
                q
                for q in squad.questions
                if q.article_id is not None and (title_of(q.article_id) in tune_titles) == keep_tune
            ],
        )

    return side(True), side(False)


def sample_questions(questions: list[GoldQuestion], limit: int | None, seed: int = 0) -> list[GoldQuestion]:
    """A seeded random sample of ``limit`` questions (all of them when ``limit`` is None), kept in file order."""
    return _sample(questions, limit, seed)


def _sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if limit is None or limit >= len(questions):
        return questions
    picked = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in picked]  # file order, so reports read article by article


def load_squad(
    path: str | Path,
    limit: int | None = None,
    seed: int = 0,
    half: Literal["tune", "test"] | None = None,
    asked_paragraphs_only: bool = False,
) -> SquadSet:
    """Load a SQuAD v1.1 or v2.0 dev file as articles to ingest and gold questions.

    Args:
        path: the official JSON file (e.g. ../shared/bench/squad/dev-v1.1.json); read in place.
        limit: keep a seeded random sample of this many questions (None: all), in file order.
        seed: the sample's random seed; the same (file, half, limit, seed) always gives the same questions.
        half: "tune" or "test" to keep only that half of the titles (see ``split_by_title``); sampling
            happens inside the half.
        asked_paragraphs_only: keep only paragraphs that a kept question points at. By default every
            paragraph (of the half) is kept, since the others are the distractors retrieval must beat.

    Returns:
        ``SquadSet(articles, questions)``; v2.0 ``is_impossible`` questions have ``answers == []``.
    """
    squad = _read_squad(Path(path))
    if half is not None:
        if half not in ("tune", "test"):
            raise ValueError(f"half must be 'tune', 'test' or None, got {half!r}")
        tune, test = split_by_title(squad)
        squad = tune if half == "tune" else test
    questions = _sample(squad.questions, limit, seed)
    articles = squad.articles
    if asked_paragraphs_only:
        asked = {q.article_id for q in questions}
        articles = [a for a in articles if a["id"] in asked]
    return SquadSet(articles, questions)
