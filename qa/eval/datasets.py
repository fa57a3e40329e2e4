"""The datasets `qa eval` asks and the indexes it asks them against.

`prepare_dataset` builds the index through the product's own ingest path: the bundled corpus folder for the gold
set, every SQuAD dev paragraph (one article each) for SQuAD, and for the dated set (qa/eval/dated/) the 400
Reuters-21578 articles its corpus.json lists, read from ../shared/bench/news/ as a JSON Lines file; for the news
development set (qa/eval/news/) every BBC article and the 3,000 Reuters articles its corpus.json lists; for
news-small the passages of ../shared/bench/news/news-qa-small.jsonl's ESTER and QuAIL questions. A build is
cached in its index folder and reused while nothing that shapes it changed (data file, model, index code).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index.encoder import sha256_of
from newsqa.errors import NewsQAError
from newsqa.paths import NEWS_BENCH_DIR, SQUAD_DIR
from qa.eval.gold import (
    BUNDLED_GOLD,
    DATED,
    GoldQuestion,
    load_gold,
    load_squad,
    sample_questions,
    split_by_id,
    split_by_title,
)
from qa.eval.news_set import (
    BBC,
    NEWS,
    NEWS_KINDS,
    NEWS_SMALL,
    corpus_records,
    load_corpus,
    load_news,
    load_news_small,
    write_feed,
)
from qa.eval.results import EvalSettings, IndexInfo

if TYPE_CHECKING:
    from index.encoder import Encoder
    from index.models import IngestReport
    from newsqa.settings import Settings

DATASETS = ("gold", "dated", "news", "news-small", "squad-v1.1", "squad-v2.0")
REUTERS = NEWS_BENCH_DIR / "reuters21578.jsonl"
DEFAULT_PATHS = {
    "gold": BUNDLED_GOLD,
    "dated": DATED / "questions.jsonl",
    "news": NEWS / "questions.jsonl",
    "news-small": NEWS_SMALL,
    "squad-v1.1": SQUAD_DIR / "dev-v1.1.json",
    "squad-v2.0": SQUAD_DIR / "dev-v2.0.json",
}
HALVES = ("tune", "test", "all")
# Files and folders whose code decides what an index holds (reading, cleaning, sentence and chunk boundaries, BM25
# tokens); a cached evaluation index is rebuilt when one changes. The store's own layout is covered by
# index.storage.layout.
_INDEX_CODE = (
    "text", "readers", "ingest/prepare.py", "ingest/chunks.py", "ingest/embed.py", "ingest/write.py", "encoder.py",
    "storage/local/segments.py", "storage/local/postings.py",
)  # fmt: skip
_MARKER = "eval-index.json"

Half = Literal["tune", "test", "all"]


class EvalSetupError(NewsQAError):
    """The evaluation cannot start (missing file, unusable index folder); the message says what to do. `qa eval`
    catches it itself, to prefix its message with the command's name; anything else sees a product error."""


@dataclass
class PreparedDataset:
    """Questions to ask and the built index to ask them against."""

    questions: list[GoldQuestion]
    index_dir: Path
    index: IndexInfo
    settings: EvalSettings
    subsets: dict[str, set[str]] = field(default_factory=dict)
    temporary: bool = False  # index_dir is a temporary folder, removed after the run


def _index_code_hash() -> str:
    import index

    folder = Path(index.__file__).parent
    digest = hashlib.sha256()
    for entry in _INDEX_CODE:
        path = folder / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            name = file.relative_to(folder).as_posix()
            digest.update(name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def index_key(data_hash: str, article_ids: Sequence[str], encoder: Encoder, settings: Settings) -> str:
    """Cache key of an evaluation index: data, article selection, model, chunking, the index code and the
    store's layout."""
    from index.storage import layout

    parts = {
        "data": data_hash,
        "articles": hashlib.sha256("\n".join(article_ids).encode()).hexdigest(),
        "model": encoder.weights_sha256,
        "encoder": encoder.kind,
        "format": layout(settings),
        "code": _index_code_hash(),
        "chunk_max_tokens": settings.chunk_max_tokens,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def default_index_dir(dataset: str, key: str) -> Path:
    """Where a dataset's evaluation index is cached when no --index-dir is given (user cache folder)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsqa", appauthor=False)) / "eval-index" / f"{dataset}-{key[:12]}"


def _has_index(index_dir: Path, encoder: Encoder, settings: Settings) -> bool:
    """Whether the store at `index_dir` holds an index (an unreadable one counts: opening it says why)."""
    from index.models import IndexNotFoundError, IndexStoreError
    from index.storage import model_stamp, open_store

    try:
        open_store(settings.model_copy(update={"index_dir": index_dir}), model_stamp(encoder)).close()
    except IndexNotFoundError:
        return False
    except IndexStoreError:
        return True
    return True


def _cached_or_built(
    index_dir: Path, key: str, build: Callable[[Path], IngestReport], rebuild: bool, has_index: Callable[[Path], bool]
) -> dict:
    """Reuse the build in `index_dir` if its key matches; else (re)build it there. Returns the marker data."""
    marker = index_dir / _MARKER
    if marker.is_file():
        try:
            stored = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            stored = {}
        if not rebuild and stored.get("key") == key and has_index(index_dir):
            return stored | {"reused": True}
        shutil.rmtree(index_dir)  # our own earlier build, out of date
    elif index_dir.is_dir() and any(index_dir.iterdir()):
        raise EvalSetupError(
            f"{index_dir} is not empty and was not built by qa eval; "
            "pass --index-dir a new or empty folder (the evaluation builds its own index there)"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    report = build(index_dir)
    if not has_index(index_dir):
        reasons = "; ".join(str(p) for p in report.problems[:3]) or "nothing to index"
        raise EvalSetupError(f"building the evaluation index in {index_dir} failed: {reasons}")
    stored = {
        "key": key,
        "build_seconds": report.seconds,
        "problems": len(report.problems),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    marker.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return stored | {"reused": False}


def _index_info(index_dir: Path, encoder: Encoder, settings: Settings, stored: dict) -> IndexInfo:
    from index.storage import model_stamp, open_store

    store = open_store(settings.model_copy(update={"index_dir": index_dir}), model_stamp(encoder))
    try:
        seconds = float(stored["build_seconds"])
        facts = store.facts()
        return IndexInfo(
            index_dir=str(index_dir),
            articles=facts.articles,
            sentences=facts.sentences,
            chunks=facts.chunks,
            build_seconds=seconds,
            articles_per_second=facts.articles / seconds if seconds else 0.0,
            reused=bool(stored["reused"]),
            problems=int(stored.get("problems", 0)),
            key=str(stored["key"]),
        )
    finally:
        store.close()


def _squad_records(articles: Sequence[dict[str, str]]) -> Iterator[object]:
    from index.readers import RawArticle
    from index.text.clean import clean_body

    for article in articles:
        # The same tidying a JSON export of these paragraphs would get from the product's reader.
        yield RawArticle(
            id=article["id"], title=article["title"], text=clean_body(article["text"]), origin=article["id"]
        )


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


def prepare_dataset(
    dataset: str = "gold",
    path: Path | None = None,
    *,
    encoder: Encoder,
    settings: Settings | None = None,
    limit: int | None = None,
    seed: int = 0,
    half: Half = "all",
    asked_paragraphs_only: bool = False,
    index_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> PreparedDataset:
    """Load a dataset's questions and build (or reuse) the index they are asked against.

    Args:
        dataset: "gold" (a JSONL gold set over the corpus folder of `settings`, by default the bundled
            qa/eval/goldsets/khmer-times.jsonl over corpus/), "dated" (qa/eval/dated/), "news" (the news development
            set, qa/eval/news/), "news-small" (news-qa-small.jsonl's span and unanswerable questions), "squad-v1.1"
            or "squad-v2.0" (an official dev file).
        path: the gold JSONL or SQuAD JSON; None for the dataset's default (SQuAD: ../shared/bench/squad/).
        encoder: the loaded encoder (it embeds the index).
        limit, seed: a seeded random sample of the questions, in file order (None: all).
        half: SQuAD only: "tune" (first half of the titles), "test" (the rest) or "all". Questions come from
            the half, but every paragraph of the dev file is indexed: the whole dev set is the open corpus.
            With "all", the result's subsets name the tune and test question ids. Dated: halves by question id;
            news: the half each question records (by its article); news-small has none.
        asked_paragraphs_only: SQuAD only: index just the paragraphs the sampled questions were written on
            (a small, fast index for regression tests; retrieval is then much easier than in the open setting).
        index_dir: where to build the index; a folder built earlier by the evaluation with the same data, model
            and index code is reused. None: a temporary folder for the gold set, the user cache for SQuAD.
        rebuild: ingest again even when a matching build exists.
        progress: show the ingest's progress bars.

    Raises:
        EvalSetupError: unknown dataset, missing file, or an `index_dir` holding some other index.
        GoldFormatError: a malformed gold or SQuAD file.
    """
    from index.ingest import Ingestor
    from index.models import IndexStoreError
    from index.readers import iter_input_files
    from newsqa.settings import Settings

    if dataset not in DATASETS:
        raise EvalSetupError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    if half not in HALVES:
        raise EvalSetupError(f"unknown half {half!r}; choose one of: {', '.join(HALVES)}")
    settings = settings or Settings()
    path = Path(path) if path is not None else DEFAULT_PATHS[dataset]
    if not path.is_file():
        hint = (
            " (the SQuAD dev files live in ../shared/bench/squad/ next to the repository)" if "squad" in dataset else ""
        )
        raise EvalSetupError(f"{path}: no such file{hint}")
    eval_settings = EvalSettings(
        dataset=dataset, path=str(path), limit=limit, seed=seed, half=half, asked_paragraphs_only=asked_paragraphs_only
    )
    ingestor = Ingestor(encoder, settings)
    subsets: dict[str, set[str]] = {}
    if dataset == "gold":
        if half != "all" or asked_paragraphs_only:
            raise EvalSetupError(
                "--half applies to the SQuAD and dated datasets only, --asked-paragraphs-only to SQuAD only"
            )
        questions = sample_questions(load_gold(path), limit, seed)
        corpus = settings.corpus_dir
        # A gold file is questions, not articles: it stays out of the index even if it sits in the corpus.
        gold_files = {path.resolve()}
        files = [f for f in iter_input_files([corpus]) if not gold_files & {f.resolve(), *f.resolve().parents}]
        if not files:
            raise EvalSetupError(f"{corpus}: no corpus files to index (set QA_CORPUS_DIR)")
        data_hash = hashlib.sha256(
            "".join(f"{f.relative_to(corpus)}\0{sha256_of(f)}\n" for f in files).encode()
        ).hexdigest()
        key = index_key(data_hash, [str(f.resolve()) for f in files], encoder, settings)

        def build(folder: Path) -> IngestReport:
            return ingestor.ingest(files, folder, show_progress=progress)

    elif dataset == "dated":
        if asked_paragraphs_only:
            raise EvalSetupError("--asked-paragraphs-only applies to the SQuAD datasets only")
        everything = load_gold(path)
        tune, test = split_by_id(everything)
        chosen = {"tune": tune, "test": test, "all": everything}[half]
        questions = sample_questions(chosen, limit, seed)
        if half == "all":
            subsets = {"tune": {q.id for q in tune}, "test": {q.id for q in test}}
        ids = _dated_corpus_ids(path.parent / "corpus.json")
        key = index_key(sha256_of(REUTERS) + sha256_of(path.parent / "corpus.json"), ids, encoder, settings)

        def build(folder: Path) -> IngestReport:
            with tempfile.TemporaryDirectory(prefix="qa-dated-") as scratch:
                feed = Path(scratch) / "reuters.jsonl"
                _write_reuters_feed(feed, set(ids))
                return ingestor.ingest([feed], folder, show_progress=progress)

    elif dataset == "news":
        if asked_paragraphs_only:
            raise EvalSetupError("--asked-paragraphs-only applies to the SQuAD datasets only")
        for source in (BBC, REUTERS):
            if not source.is_file():
                raise EvalSetupError(f"{source}: no such file (the news set's articles live in ../shared/bench/news/)")
        everything = load_news(path)
        corpus_file = path.parent / "corpus.json"
        corpus = load_corpus(corpus_file)
        chosen_news = [q for q in everything if half in ("all", q.half)]
        questions = sample_questions([q.gold() for q in chosen_news], limit, seed)
        # Per half (when both are asked) and per way of asking, so a change is seen where it acts.
        subsets = {h: {q.id for q in chosen_news if q.half == h} for h in ("tune", "test") if half == "all"}
        subsets |= {kind: {q.id for q in chosen_news if q.kind == kind} for kind in NEWS_KINDS}
        ids = sorted(corpus.bbc_excluded) + [f"reuters-{i}" for i in sorted(corpus.reuters_ids)]
        key = index_key(sha256_of(BBC) + sha256_of(REUTERS) + sha256_of(corpus_file), ids, encoder, settings)

        def build(folder: Path) -> IngestReport:
            with tempfile.TemporaryDirectory(prefix="qa-news-") as scratch:
                feed = Path(scratch) / "news.jsonl"
                write_feed(feed, corpus_records(corpus))
                return ingestor.ingest([feed], folder, show_progress=progress)

    elif dataset == "news-small":
        if half != "all" or asked_paragraphs_only:
            raise EvalSetupError("news-small has no halves (it is an outside check; tune nothing on it)")
        small = load_news_small(path)
        questions = sample_questions(small.questions, limit, seed)
        subsets = {source: set(ids) for source, ids in small.sources.items()}
        key = index_key(sha256_of(path), [str(a["id"]) for a in small.articles], encoder, settings)

        def build(folder: Path) -> IngestReport:
            with tempfile.TemporaryDirectory(prefix="qa-news-small-") as scratch:
                feed = Path(scratch) / "news-small.jsonl"
                write_feed(feed, small.articles)
                return ingestor.ingest([feed], folder, show_progress=progress)

    else:
        full = load_squad(path)
        asked = load_squad(path, limit=limit, seed=seed, half=None if half == "all" else half)
        questions = asked.questions
        articles = full.articles
        if asked_paragraphs_only:
            wanted = {q.article_id for q in questions}
            articles = [a for a in articles if a["id"] in wanted]
        if half == "all":
            tune_set, test_set = split_by_title(full)
            subsets = {"tune": {q.id for q in tune_set.questions}, "test": {q.id for q in test_set.questions}}
        key = index_key(sha256_of(path), [a["id"] for a in articles], encoder, settings)

        def build(folder: Path) -> IngestReport:
            return ingestor.ingest_records(_squad_records(articles), folder, show_progress=progress)  # type: ignore[arg-type]

    temporary = index_dir is None and dataset == "gold"
    if index_dir is None:
        index_dir = Path(tempfile.mkdtemp(prefix="qa-eval-")) if temporary else default_index_dir(dataset, key)
    try:

        def has_index(folder: Path) -> bool:
            return _has_index(folder, encoder, settings)

        stored = _cached_or_built(Path(index_dir), key, build, rebuild, has_index)
        try:
            info = _index_info(Path(index_dir), encoder, settings, stored)
        except IndexStoreError:
            if not stored["reused"]:
                raise
            # A cached build the current store code cannot read (its format changed): build it again.
            stored = _cached_or_built(Path(index_dir), key, build, True, has_index)
            info = _index_info(Path(index_dir), encoder, settings, stored)
    except BaseException:
        if temporary:
            shutil.rmtree(index_dir, ignore_errors=True)
        raise
    return PreparedDataset(questions, Path(index_dir), info, eval_settings, subsets, temporary)
