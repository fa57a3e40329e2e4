"""The news evaluation sets: our own news development set (evaluation/news/) and the public small news QA sets.

The news development set holds hand-written questions over BBC News (2004-05) and Reuters-21578 (1987) articles
read from ../shared/bench/news/; the set stores article ids, questions, answers, gold sentences and `as_of`
dates, never article text beyond the gold sentence. This module reads it (`load_news`), says which articles it is
asked over (`load_corpus`, `corpus_records`), and checks it against those articles (`validate`): every answer a
substring of its gold sentence, every gold sentence a sentence of its cleaned article as the index splits it,
every question in the half its article's hash puts it in.

`load_news_small` reads the span and unanswerable parts of ../shared/bench/news/news-qa-small.jsonl (ESTER's
newswire questions, QuAIL's Voice of America questions) as gold questions over their own passages.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evaluation.gold import GoldFormatError, GoldQuestion, numbered_lines, read_questions
from newsqa.paths import NEWS_BENCH_DIR

NEWS = Path(__file__).resolve().parent / "news"
BBC = NEWS_BENCH_DIR / "bbc.jsonl"
REUTERS = NEWS_BENCH_DIR / "reuters21578.jsonl"
NEWS_SMALL = NEWS_BENCH_DIR / "news-qa-small.jsonl"

# How a question is asked. Answerable: "quiz" (short, the gold sentence says it outright), "context" (a sentence
# of context before the question proper), "previous" (the answer or the subject sits in a sentence before the one
# the question paraphrases: `support`), "title" (the subject is named only in the headline: `support`),
# "relative" (a relative date resolved against `as_of`). Unanswerable: "off-corpus-event" (an event the archive
# does not cover), "off-corpus-detail" (the right topic, `near_article`, without the detail asked).
NewsKind = Literal["quiz", "context", "previous", "title", "relative", "off-corpus-event", "off-corpus-detail"]
NEWS_KINDS: tuple[str, ...] = NewsKind.__args__  # type: ignore[attr-defined]
Half = Literal["tune", "test"]
# The parts of news-qa-small.jsonl `qa eval --dataset news-small` asks: span questions and unanswerable ones.
SMALL_SOURCES = ("ESTER", "QuAIL-news")
SMALL_ANSWER_TYPES = ("span", "unanswerable")


class OtherReport(BaseModel):
    """A sentence of another article that reports the same answer (the same fact filed in another story)."""

    model_config = ConfigDict(extra="forbid")

    article_id: str
    sentence: str


class NewsQuestion(BaseModel):
    """One question of the news development set (one line of evaluation/news/questions.jsonl)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str] = Field(description="Exact substrings of `sentence`; [] for an off-corpus question.")
    type: str | None = None
    kind: NewsKind
    half: Half
    article_id: str | None = Field(default=None, description="`bbc-<category>-<nnn>` or `reuters-<id>`.")
    sentence: str | None = Field(default=None, description="The gold sentence, whitespace normalised.")
    support: str | None = Field(
        default=None, description="previous/title: the sentence (or headline) the question paraphrases."
    )
    near_article: str | None = Field(default=None, description="off-corpus-detail: the article on the topic.")
    also: list[OtherReport] = Field(
        default_factory=list, description="Other articles' sentences that say the same answer; they count as hits."
    )
    as_of: date | None = None
    relative: bool | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def split_key(self) -> str:
        """What the tune/test split hashes: the gold article, else the topic article, else the question id."""
        return self.article_id or self.near_article or self.id

    def gold(self) -> GoldQuestion:
        """The question as the evaluation asks and scores it."""
        return GoldQuestion(
            id=self.id,
            question=self.question,
            answers=self.answers,
            type=self.type,
            article_id=self.article_id,
            as_of=self.as_of,
            sentence=self.sentence,
            also=[(other.article_id, other.sentence) for other in self.also],
            relative=self.relative,
        )


def half_of(key: str) -> Half:
    """The fixed half of an article (or question) id: by the first byte of its SHA-256, even → tune."""
    return "tune" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "test"


def load_news(path: str | Path = NEWS / "questions.jsonl") -> list[NewsQuestion]:
    """Read the news development set; `GoldFormatError` names the file and line of a malformed entry."""
    return read_questions(Path(path), NewsQuestion)


class NewsCorpus(NamedTuple):
    """The articles the news set is asked over: every BBC article but `bbc_excluded`, and `reuters_ids`."""

    bbc_excluded: frozenset[str]
    reuters_ids: frozenset[int]


def load_corpus(path: str | Path = NEWS / "corpus.json") -> NewsCorpus:
    """Read evaluation/news/corpus.json."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return NewsCorpus(frozenset(data["bbc_excluded"]), frozenset(int(i) for i in data["reuters_ids"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GoldFormatError(f"{path}: cannot read the corpus list ({exc})") from None


def bbc_id(raw_id: str) -> str:
    """Our id of a BBC record ("business/001" → "bbc-business-001")."""
    return "bbc-" + raw_id.replace("/", "-")


def corpus_records(corpus: NewsCorpus) -> Iterator[dict[str, str | None]]:
    """The corpus as a newsroom's JSON Lines export would hold it: id, title, body, date, source.

    BBC first (file order), then Reuters (file order). The BBC records carry no date.
    """
    with BBC.open(encoding="utf-8") as source:
        for line in source:
            record = json.loads(line)
            article_id = bbc_id(record["id"])
            if article_id not in corpus.bbc_excluded:
                yield {"id": article_id, "title": record["title"], "body": record["body"], "source": "BBC"}
    with REUTERS.open(encoding="utf-8") as source:
        for line in source:
            record = json.loads(line)
            if record["id"] in corpus.reuters_ids:
                yield {
                    "id": f"reuters-{record['id']}",
                    "title": record.get("title") or "",
                    "body": record.get("body") or "",
                    "date": record.get("date"),
                    "source": "Reuters",
                }


def write_feed(out: Path, records: Iterable[dict[str, str | None]]) -> None:
    """Write `records` as one JSON Lines file for the product's ingest."""
    with out.open("w", encoding="utf-8") as feed:
        for record in records:
            feed.write(json.dumps(record) + "\n")


def normalize(text: str) -> str:
    """Runs of white space as one space (the form gold sentences are stored in)."""
    return " ".join(text.split())


def article_sentences(body: str) -> list[str]:
    """The sentences of an article body as the index cleans and splits it, whitespace normalised."""
    from index.text.clean import clean_body
    from index.text.sentences import split_sentences

    text = clean_body(body)
    return [normalize(text[start:end]) for start, end in split_sentences(text)]


# Each corpus article by id: its title and its sentences as the index cleans and splits them.
Articles = dict[str, tuple[str, list[str]]]


def validate(questions: list[NewsQuestion], corpus: NewsCorpus) -> list[str]:
    """Check the set against its articles; returns the problems found (empty: valid).

    Answerable questions: the gold article is in the corpus; `sentence` is one of its sentences as the index
    cleans and splits it; every answer is a substring of `sentence`; `support` is another sentence of the
    article (previous) or its title (title); relative questions carry `as_of`. Off-corpus questions carry no
    answer, article or sentence (detail ones name their topic article). Every question sits in the half of
    its split key, so all questions of one article share a half. No other corpus article holds a gold sentence
    (a wire re-send would make a second source for the answer) unless it is listed in `also`; each `also`
    sentence is a sentence of another corpus article and holds an answer.
    """
    articles: Articles = {}
    for record in corpus_records(corpus):
        articles[str(record["id"])] = (str(record["title"]), article_sentences(str(record["body"])))
    problems: list[str] = []
    gold_sentences: dict[str, set[str]] = {}  # each gold (or `also`) sentence: the articles it is gold in
    for q in questions:
        if q.half != half_of(q.split_key()):
            problems.append(f"{q.id}: half {q.half!r}, but its split key {q.split_key()!r} hashes to the other")
        if not q.answerable:
            problems += _off_corpus_problems(q, articles)
            continue
        problems += _answerable_problems(q, articles)
        if q.article_id is not None and q.sentence is not None and q.article_id in articles:
            gold_sentences.setdefault(q.sentence, set()).add(q.article_id)
            for other in q.also:
                gold_sentences.setdefault(other.sentence, set()).add(other.article_id)
    for article_id, (_, sentences) in articles.items():
        for sentence in gold_sentences.keys() & set(sentences):
            if article_id not in gold_sentences[sentence]:
                problems.append(f"{article_id} repeats the gold sentence {sentence[:60]!r} of another article")
    return problems


def _off_corpus_problems(q: NewsQuestion, articles: Articles) -> list[str]:
    """An unanswerable question names no article, sentence or support; a detail one names its topic article."""
    problems = []
    if q.article_id or q.sentence or q.support or not q.kind.startswith("off-corpus"):
        problems.append(f"{q.id}: an off-corpus question has no article, sentence or support")
    if (q.kind == "off-corpus-detail") != (q.near_article is not None):
        problems.append(f"{q.id}: near_article is set exactly for off-corpus-detail questions")
    elif q.near_article is not None and q.near_article not in articles:
        problems.append(f"{q.id}: near_article {q.near_article} is not in the corpus")
    return problems


def _answerable_problems(q: NewsQuestion, articles: Articles) -> list[str]:
    """An answerable question against its article: the gold sentence, its answers, support, as_of and `also`."""
    where = q.id
    problems = []
    if q.kind.startswith("off-corpus") or q.near_article is not None:
        problems.append(f"{where}: an answerable question cannot be of kind {q.kind} or name a near_article")
    if q.article_id is None or q.sentence is None:
        return [*problems, f"{where}: an answerable question needs article_id and sentence"]
    if q.article_id not in articles:
        return [*problems, f"{where}: article {q.article_id} is not in the corpus"]
    title, sentences = articles[q.article_id]
    if q.sentence not in sentences:
        problems.append(f"{where}: the gold sentence is not a sentence of {q.article_id}: {q.sentence[:80]!r}")
    problems += [f"{where}: answer {a!r} is not in the gold sentence" for a in q.answers if a not in q.sentence]
    if q.kind == "previous" and (q.support not in sentences or q.support == q.sentence):
        problems.append(f"{where}: support must be another sentence of {q.article_id}")
    if q.kind == "title" and q.support != normalize(title):
        problems.append(f"{where}: support must be the title of {q.article_id}")
    if q.kind not in ("previous", "title") and q.support is not None:
        problems.append(f"{where}: only previous and title questions carry support")
    if (q.kind == "relative" or q.relative) and q.as_of is None:
        problems.append(f"{where}: a relative question needs as_of")
    for other in q.also:
        if other.article_id == q.article_id or other.sentence not in articles.get(other.article_id, ("", []))[1]:
            problems.append(f"{where}: also {other.article_id}: not a sentence of another corpus article")
        elif not any(a in other.sentence for a in q.answers):
            problems.append(f"{where}: also {other.article_id}: the sentence holds no answer")
    return problems


# ----------------------------------------------------------------------------------------------------------------
# news-qa-small.jsonl
# ----------------------------------------------------------------------------------------------------------------


class SmallNewsSet(NamedTuple):
    """The small public news QA sets: passages to index, and gold questions that point at them."""

    articles: list[dict[str, str | None]]
    questions: list[GoldQuestion]
    sources: dict[str, set[str]]  # source name -> its question ids


def _listed(value: object) -> list[str]:
    # The file mixes JSON lists with their Python repr ("['a', 'b']"); read both.
    if isinstance(value, str):
        value = ast.literal_eval(value) if value.strip() else []
    if not isinstance(value, list):
        raise ValueError(f"expected a list of answers, got {type(value).__name__}")
    return [str(v) for v in value]


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def load_news_small(path: str | Path = NEWS_SMALL) -> SmallNewsSet:
    """The span and unanswerable questions of ESTER and QuAIL-news, each over its own passage.

    Every passage becomes one article (`id`: the file's article id, its title where the file has one); an
    unanswerable question keeps its passage in the index, so refusing it means knowing the passage does not say.
    """
    path = Path(path)
    articles: dict[str, dict[str, str | None]] = {}
    questions: list[GoldQuestion] = []
    sources: dict[str, set[str]] = {name: set() for name in SMALL_SOURCES}
    for number, line in numbered_lines(path):
        try:
            row = json.loads(line)
            if row["source"] not in SMALL_SOURCES or row["answer_type"] not in SMALL_ANSWER_TYPES:
                continue
            answers = [] if _flag(row["is_impossible"]) else list(dict.fromkeys(_listed(row["answers"])))
            article_id = str(row["article_id"])
            title = row.get("title")
            articles.setdefault(
                article_id,
                {
                    "id": article_id,
                    "title": title if isinstance(title, str) and title != "None" else "",
                    "body": str(row["context"]),
                    "source": str(row["source"]),
                },
            )
            question = GoldQuestion(
                id=str(row["id"]), question=str(row["question"]), answers=answers, article_id=article_id
            )
        except (ValueError, KeyError, SyntaxError, ValidationError) as exc:
            raise GoldFormatError(f"{path} line {number}: {exc}") from None
        questions.append(question)
        sources[str(row["source"])].add(question.id)
    return SmallNewsSet(list(articles.values()), questions, sources)
