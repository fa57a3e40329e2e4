"""What each dataset asks and what it indexes: one plan function per kind of dataset.

A plan function takes the `Request` (the file, the sample asked for, the model and settings that build the
index) and returns a `Plan`: the questions, the named subsets to score apart, the index's cache key and the build
that ingests the dataset's articles through the product's own ingest path. The gold set indexes the corpus folder
of the settings; the dated set (evaluation/dated/) the 400 Reuters-21578 articles its corpus.json lists, read from
../shared/bench/news/ as a JSON Lines file; the news development set (evaluation/news/) every BBC article and the
3,000 Reuters articles its corpus.json lists; news-small the passages of ../shared/bench/news/news-qa-small.jsonl's
ESTER and QuAIL questions; SQuAD every dev paragraph (one article each).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from evaluation.datasets.index_cache import index_key
from evaluation.errors import EvalSetupError
from evaluation.gold import GoldQuestion, load_gold, load_squad, sample_questions, split_by_id, split_by_title
from evaluation.news_set import (
    BBC,
    NEWS_KINDS,
    REUTERS,
    corpus_records,
    load_corpus,
    load_news,
    load_news_small,
    write_feed,
)
from index.encoder import sha256_of

if TYPE_CHECKING:
    from index.encoder import TextEncoder
    from index.ingest import Ingestor
    from index.models import IngestReport
    from newsqa.settings import Settings

HALVES = ("tune", "test", "all")
Half = Literal["tune", "test", "all"]


@dataclass(frozen=True)
class Request:
    """What `prepare_dataset` was asked: the questions' file and sample, and what builds the index."""

    path: Path
    encoder: TextEncoder
    settings: Settings
    ingestor: Ingestor
    limit: int | None = None
    seed: int = 0
    half: Half = "all"
    asked_paragraphs_only: bool = False
    progress: bool = True

    def key(self, data_hash: str, article_ids: Sequence[str]) -> str:
        """The index's cache key for these data and articles under this model and these settings."""
        return index_key(data_hash, article_ids, self.encoder, self.settings)


@dataclass
class Plan:
    """A dataset's questions and how to build the index they are asked against."""

    questions: list[GoldQuestion]
    key: str
    build: Callable[[Path], IngestReport]
    subsets: dict[str, set[str]] = field(default_factory=dict)


def _feed_build(
    request: Request, scratch: str, name: str, write: Callable[[Path], None]
) -> Callable[[Path], IngestReport]:
    """A build that writes the articles as the JSON Lines feed `name` in a scratch folder and ingests it."""

    def build(folder: Path) -> IngestReport:
        with tempfile.TemporaryDirectory(prefix=f"qa-{scratch}-") as scratch_dir:
            feed = Path(scratch_dir) / name
            write(feed)
            return request.ingestor.ingest([feed], folder, show_progress=request.progress)

    return build


def plan_gold(request: Request) -> Plan:
    """A JSONL gold set over the corpus folder of the settings (the gold file itself is never indexed)."""
    from index.readers import iter_input_files

    if request.half != "all" or request.asked_paragraphs_only:
        raise EvalSetupError(
            "--half applies to the SQuAD and dated datasets only, --asked-paragraphs-only to SQuAD only"
        )
    questions = sample_questions(load_gold(request.path), request.limit, request.seed)
    corpus = request.settings.index.corpus_dir
    # A gold file is questions, not articles: it stays out of the index even if it sits in the corpus.
    gold_files = {request.path.resolve()}
    files = [f for f in iter_input_files([corpus]) if not gold_files & {f.resolve(), *f.resolve().parents}]
    if not files:
        raise EvalSetupError(f"{corpus}: no corpus files to index (set QA_CORPUS_DIR)")
    listing = "".join(f"{f.relative_to(corpus)}\0{sha256_of(f)}\n" for f in files)
    data_hash = hashlib.sha256(listing.encode()).hexdigest()

    def build(folder: Path) -> IngestReport:
        return request.ingestor.ingest(files, folder, show_progress=request.progress)

    return Plan(questions, request.key(data_hash, [str(f.resolve()) for f in files]), build)


def _dated_corpus_ids(path: Path) -> list[str]:
    if not REUTERS.is_file():
        raise EvalSetupError(f"{REUTERS}: no such file (the dated set's articles come from ../shared/bench/news/)")
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))["ids"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvalSetupError(f"{path}: cannot read the corpus list ({exc})") from None
    return [f"reuters-{i}" for i in ids]


def _write_reuters_feed(out: Path, ids: set[str]) -> None:
    """The listed Reuters-21578 records as a JSON Lines feed, as a newsroom would export them: id, title, body,
    date, source."""
    with REUTERS.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as feed:
        for line in source:
            record = json.loads(line)
            article_id = f"reuters-{record['id']}"
            if article_id in ids:
                fields = {"id": article_id, "title": record.get("title") or "", "body": record.get("body") or ""}
                feed.write(json.dumps(fields | {"date": record.get("date"), "source": "Reuters"}) + "\n")


def plan_dated(request: Request) -> Plan:
    """The dated set: halves by question id, over the Reuters articles its corpus.json lists."""
    if request.asked_paragraphs_only:
        raise EvalSetupError("--asked-paragraphs-only applies to the SQuAD datasets only")
    everything = load_gold(request.path)
    tune, test = split_by_id(everything)
    chosen = {"tune": tune, "test": test, "all": everything}[request.half]
    questions = sample_questions(chosen, request.limit, request.seed)
    subsets = {"tune": {q.id for q in tune}, "test": {q.id for q in test}} if request.half == "all" else {}
    corpus_list = request.path.parent / "corpus.json"
    ids = _dated_corpus_ids(corpus_list)
    key = request.key(sha256_of(REUTERS) + sha256_of(corpus_list), ids)
    build = _feed_build(request, "dated", "reuters.jsonl", lambda feed: _write_reuters_feed(feed, set(ids)))
    return Plan(questions, key, build, subsets)


def plan_news(request: Request) -> Plan:
    """The news development set: the half each question records (by its article), and each way of asking."""
    if request.asked_paragraphs_only:
        raise EvalSetupError("--asked-paragraphs-only applies to the SQuAD datasets only")
    for source in (BBC, REUTERS):
        if not source.is_file():
            raise EvalSetupError(f"{source}: no such file (the news set's articles live in ../shared/bench/news/)")
    everything = load_news(request.path)
    corpus_file = request.path.parent / "corpus.json"
    corpus = load_corpus(corpus_file)
    half = request.half
    chosen = [q for q in everything if half in ("all", q.half)]
    questions = sample_questions([q.gold() for q in chosen], request.limit, request.seed)
    # Per half (when both are asked) and per way of asking, so a change is seen where it acts.
    subsets = {h: {q.id for q in chosen if q.half == h} for h in ("tune", "test") if half == "all"}
    subsets |= {kind: {q.id for q in chosen if q.kind == kind} for kind in NEWS_KINDS}
    ids = sorted(corpus.bbc_excluded) + [f"reuters-{i}" for i in sorted(corpus.reuters_ids)]
    key = request.key(sha256_of(BBC) + sha256_of(REUTERS) + sha256_of(corpus_file), ids)
    build = _feed_build(request, "news", "news.jsonl", lambda feed: write_feed(feed, corpus_records(corpus)))
    return Plan(questions, key, build, subsets)


def plan_news_small(request: Request) -> Plan:
    """news-qa-small.jsonl's span and unanswerable questions over their own passages, per source."""
    if request.half != "all" or request.asked_paragraphs_only:
        raise EvalSetupError("news-small has no halves (it is an outside check; tune nothing on it)")
    small = load_news_small(request.path)
    questions = sample_questions(small.questions, request.limit, request.seed)
    subsets = {source: set(ids) for source, ids in small.sources.items()}
    key = request.key(sha256_of(request.path), [str(a["id"]) for a in small.articles])
    build = _feed_build(request, "news-small", "news-small.jsonl", lambda feed: write_feed(feed, small.articles))
    return Plan(questions, key, build, subsets)


def _squad_records(articles: Sequence[dict[str, str]]) -> Iterator[object]:
    from index.readers import RawArticle
    from index.text.clean import clean_body

    for article in articles:
        # The same tidying a JSON export of these paragraphs would get from the product's reader.
        yield RawArticle(
            id=article["id"], title=article["title"], text=clean_body(article["text"]), origin=article["id"]
        )


def plan_squad(request: Request) -> Plan:
    """An official SQuAD dev file: questions from the half asked, every paragraph indexed (the open setting), or
    with `asked_paragraphs_only` just the sampled questions' paragraphs."""
    full = load_squad(request.path)
    half = None if request.half == "all" else request.half
    questions = load_squad(request.path, limit=request.limit, seed=request.seed, half=half).questions
    articles = full.articles
    if request.asked_paragraphs_only:
        wanted = {q.article_id for q in questions}
        articles = [a for a in articles if a["id"] in wanted]
    subsets: dict[str, set[str]] = {}
    if request.half == "all":
        tune_set, test_set = split_by_title(full)
        subsets = {"tune": {q.id for q in tune_set.questions}, "test": {q.id for q in test_set.questions}}

    def build(folder: Path) -> IngestReport:
        records = _squad_records(articles)
        return request.ingestor.ingest_records(records, folder, show_progress=request.progress)  # type: ignore[arg-type]

    return Plan(questions, request.key(sha256_of(request.path), [a["id"] for a in articles]), build, subsets)
