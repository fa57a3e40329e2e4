"""Score the answerer on a gold set: ask every question through `Assistant.answer()` and measure what comes back.

* `evaluate` asks a list of `GoldQuestion`s of one assistant and returns an `EvalResult`: one `QuestionRecord`
  per question (what was returned, its span, hit@k, EM/F1, retrieval ranks, latency) and the aggregate metrics
  defined in docs/metrics.md, overall, per question kind and per named subset (SQuAD's tune/test halves).
* `prepare_dataset` builds the index a dataset is asked against, through the product's own ingest path: the
  bundled corpus folder for the gold set, every SQuAD dev paragraph (one article each) for SQuAD. A build is
  cached in its index folder and reused while nothing that shapes it changed (data file, model, index code).
* `run_eval` ties the two together; `add_eval_arguments` / `run_eval_cli` are the `qa eval` command.

Reports (Markdown, JSON, plots) are written by `qa.eval.report`. Nothing heavy is imported at module load:
the `qa` command builds its parser from this module.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, Field

from index.encoder import ModelError, sha256_of
from qa.eval.gold import (
    BUNDLED_GOLD,
    GoldFormatError,
    GoldQuestion,
    load_gold,
    load_squad,
    sample_questions,
    split_by_title,
)
from qa.eval.metrics import (
    QUESTION_KINDS,
    abstention_scores,
    exact_match,
    percentile,
    question_kind,
    sentence_hit_at_k,
    squad_exact_match,
    squad_f1,
    token_f1,
)

if TYPE_CHECKING:
    from index.encoder import Encoder
    from index.models import IngestReport
    from index.settings import Settings
    from index.store import IndexStore
    from qa.assistant import Assistant
    from qa.models import Answer
    from qa.reader import Reader
    from qa.score import ScorerWeights

__all__ = [
    "DATASETS",
    "EvalResult",
    "EvalSettings",
    "EvalSetupError",
    "IndexInfo",
    "Metrics",
    "PreparedDataset",
    "QuestionRecord",
    "add_eval_arguments",
    "evaluate",
    "prepare_dataset",
    "run_eval",
    "run_eval_cli",
    "summarize",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO_ROOT.parent / "shared" / "bench"
DATASETS = ("gold", "squad-v1.1", "squad-v2.0")
DEFAULT_PATHS = {
    "gold": BUNDLED_GOLD,
    "squad-v1.1": BENCH_DIR / "squad" / "dev-v1.1.json",
    "squad-v2.0": BENCH_DIR / "squad" / "dev-v2.0.json",
}
HALVES = ("tune", "test", "all")
# Retrieval is scored on more chunks than answer() reads (8), so recall@10/@20 show what a wider net would catch.
RETRIEVAL_CHUNKS = 20
RETRIEVAL_KS = (1, 3, 5, 10, 20)
CALIBRATION_BINS = 10
# Files whose code decides what an index holds (cleaning, sentence and chunk boundaries, BM25 tokens); a cached
# evaluation index is rebuilt when one changes. The on-disk layout is covered by index.store.FORMAT_VERSION.
_INDEX_CODE = ("clean.py", "sentences.py", "chunks.py", "lexical.py")
_MARKER = "eval-index.json"

Half = Literal["tune", "test", "all"]


class EvalSetupError(Exception):
    """The evaluation cannot start (missing file, unusable index folder); the message says what to do."""


# --------------------------------------------------------------------------------------------------------
# Records and results
# --------------------------------------------------------------------------------------------------------


class ReturnedSentence(BaseModel):
    """One sentence `answer()` returned, as the evaluation saw it."""

    text: str
    score: float
    article_id: str
    span: str | None = None
    marked: str = Field(description="The sentence with the span in **bold**.")
    verbatim: bool = Field(description="The text is exactly the article's text at the cited offsets.")


class QuestionRecord(BaseModel):
    """Everything measured for one question."""

    id: str
    question: str
    understood_question: str
    history: list[str] = Field(default_factory=list)
    kind: str = Field(description="metrics.question_kind of the question as asked.")
    gold_type: str | None = None
    answer_type: str = Field(description="The answer type the assistant read from the question.")
    gold_answers: list[str]
    gold_article_id: str | None
    answerable: bool
    abstained: bool
    message: str = ""
    error: str | None = Field(default=None, description="An exception answer() raised (counted as abstained).")
    returned: list[ReturnedSentence] = Field(default_factory=list)
    span_text: str | None = None
    prediction: str = Field(description="What EM/F1 score: the span, else the top sentence, '' when abstained.")
    hit_rank: int | None = Field(default=None, description="1-based rank of the first returned sentence that hits.")
    hit_at_1: bool = False
    hit_at_3: bool = False
    hit_at_5: bool = False
    squad_em: float
    squad_f1: float
    em: float
    f1: float
    article_scored: bool = False
    article_rank: int | None = None
    chunk_scored: bool = False
    chunk_rank: int | None = None
    citation_correct: bool | None = None
    citations_verbatim: bool | None = None
    top_score: float | None = None
    latency_ms: float


class SpanScores(BaseModel):
    n: int
    squad_em: float
    squad_f1: float
    em: float
    f1: float


class RetrievalScores(BaseModel):
    n: int = Field(description="Questions scored (answerable, with a gold article or a gold chunk).")
    recall: dict[str, float] = Field(description="k → share of scored questions with a relevant item in the top k.")
    mrr: float


class CitationScores(BaseModel):
    n_scored: int = Field(description="Answered answerable questions with a gold article id.")
    correct: float = Field(description="Share of those whose top sentence is the gold article's text, verbatim.")
    n_checked: int = Field(description="Answered questions whose cited sentences were checked against the article.")
    verbatim: float = Field(description="Share of those whose every cited sentence is the article's exact text.")


class CalibrationBin(BaseModel):
    low: float
    high: float
    n: int
    mean_score: float
    hit_at_1: float


class Metrics(BaseModel):
    """Aggregate numbers over a set of question records (see docs/metrics.md)."""

    n_questions: int
    n_answerable: int
    n_unanswerable: int
    n_errors: int
    hit_at: dict[str, float] = Field(description="k → sentence hit@k over answerable questions.")
    spans: dict[str, SpanScores] = Field(description="all / answerable / unanswerable.")
    retrieval: dict[str, RetrievalScores] = Field(description="article / chunk.")
    abstention: dict[str, float]
    citation: CitationScores
    latency_ms: dict[str, float] = Field(description="p50, p95, mean, max of answer() wall time.")
    calibration: list[CalibrationBin]


class KindScores(BaseModel):
    """The per-group breakdown row (question kind, or gold answer type)."""

    n: int
    n_answerable: int
    hit_at_1: float
    hit_at_3: float
    em: float
    f1: float
    abstained: float = Field(description="Share of the group's questions that got no answer.")


class IndexInfo(BaseModel):
    """The index the questions were asked against."""

    index_dir: str
    articles: int
    sentences: int
    chunks: int
    build_seconds: float = Field(description="Wall time of the ingest that built it (the original build if reused).")
    articles_per_second: float
    reused: bool = Field(description="True when a cached build was reused instead of ingesting again.")
    problems: int = Field(default=0, description="Inputs the ingest skipped.")
    key: str = ""


class EvalSettings(BaseModel):
    """What was run: enough to reproduce the numbers."""

    dataset: str = "custom"
    path: str | None = None
    limit: int | None = None
    seed: int = 0
    half: str = "all"
    asked_paragraphs_only: bool = False
    top_k: int = 5
    model_name: str = ""
    model_sha256: str = ""
    weights_provenance: str = ""
    weights_threshold: float | None = None
    reader: str = Field(default="", description="The reader's provenance and how it is used; empty: no reader.")
    git_commit: str | None = None
    started_at: str = ""


class EvalResult(BaseModel):
    """One evaluation run: settings, index, overall metrics, breakdowns and every question's record."""

    settings: EvalSettings
    index: IndexInfo | None = None
    metrics: Metrics
    per_kind: dict[str, KindScores]
    per_type: dict[str, KindScores] = Field(default_factory=dict, description="By the gold set's answer type.")
    subsets: dict[str, Metrics] = Field(default_factory=dict, description="E.g. SQuAD 'tune' and 'test' halves.")
    seconds: float = Field(description="Wall time of the whole question loop (answers and retrieval probes).")
    records: list[QuestionRecord]


# --------------------------------------------------------------------------------------------------------
# Asking the questions
# --------------------------------------------------------------------------------------------------------


class _ArticleTexts:
    """Article texts read once per evaluation (citations and chunks are checked against them)."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._texts: dict[str, str | None] = {}

    def __call__(self, article_id: str) -> str | None:
        if article_id not in self._texts:
            article = self.store.article(article_id)
            self._texts[article_id] = article.text if article else None
        return self._texts[article_id]


def _chunk_locations(store: IndexStore, where: str, params: Sequence[object]) -> dict[int, tuple[str, int, int]]:
    query = f'SELECT row, article_id, start, "end" FROM chunks WHERE {where}'
    return {row: (article, start, end) for row, article, start, end in store.db.execute(query, list(params))}


class RetrievalRanks(NamedTuple):
    """Where retrieval put the gold article and the gold chunk (1-based; None: not in the top 20)."""

    article_scored: bool = False
    article_rank: int | None = None
    chunk_scored: bool = False
    chunk_rank: int | None = None


def _retrieval_ranks(assistant: Assistant, understood: str, gold: GoldQuestion, texts: _ArticleTexts) -> RetrievalRanks:
    """Ranks of the gold article and gold chunk for one answerable question.

    Article level: the retrieved chunks' articles, deduplicated in chunk order; relevant = the gold article.
    Chunk level: relevant = a chunk of the gold article whose text holds a gold answer (any article's chunk
    when the gold article is not named). A question whose gold article has no such chunk is not scored.
    """
    from qa.question import analyze
    from qa.retrieve import retrieve

    store = assistant.store
    parsed = analyze(understood)
    if store is None or store.n_chunks == 0 or (not parsed.terms and not parsed.numbers):
        # Nothing to search, or a question answer() refuses before retrieval: it counts as retrieving nothing.
        return RetrievalRanks(gold.article_id is not None, None, gold.article_id is None, None)
    vector = assistant.encoder.encode([understood])[0]
    rows = retrieve(store, parsed, vector, chunks=RETRIEVAL_CHUNKS).chunk_rows

    def holds_answer(location: tuple[str, int, int]) -> bool:
        article_id, start, end = location
        text = texts(article_id)
        return text is not None and sentence_hit_at_k([text[start:end]], gold.answers, 1)

    article_rank = None
    if gold.article_id is not None:
        owners = store.chunk_articles(rows)
        ranked_articles = list(dict.fromkeys(owners[r] for r in rows if r in owners))
        if gold.article_id in ranked_articles:
            article_rank = ranked_articles.index(gold.article_id) + 1
        gold_chunks = _chunk_locations(store, "article_id = ?", [gold.article_id])
        relevant = {row for row, location in gold_chunks.items() if holds_answer(location)}
        chunk_scored = bool(relevant)
    else:
        marks = ",".join("?" * len(rows))
        located = _chunk_locations(store, f"row IN ({marks})", rows) if rows else {}
        relevant = {row for row, location in located.items() if holds_answer(location)}
        chunk_scored = True
    chunk_rank = next((i for i, row in enumerate(rows, start=1) if row in relevant), None)
    return RetrievalRanks(gold.article_id is not None, article_rank, chunk_scored, chunk_rank)


def _returned(answer: Answer, texts: _ArticleTexts) -> list[ReturnedSentence]:
    out = []
    for sentence in answer.sentences if answer.found else []:
        citation = sentence.citation
        article_text = texts(citation.article_id)
        out.append(
            ReturnedSentence(
                text=sentence.text,
                score=sentence.score,
                article_id=citation.article_id,
                span=sentence.span.text if sentence.span else None,
                marked=sentence.marked(),
                verbatim=article_text is not None and article_text[citation.start : citation.end] == sentence.text,
            )
        )
    return out


def _record(
    gold: GoldQuestion,
    answer: Answer | None,
    error: str | None,
    latency_ms: float,
    ranks: RetrievalRanks,
    texts: _ArticleTexts | None,
    top_k: int,
) -> QuestionRecord:
    returned = _returned(answer, texts) if answer is not None and texts is not None else []
    abstained = answer is None or not answer.found or not returned
    span_text = returned[0].span if returned else None
    prediction = "" if abstained else (span_text if span_text is not None else returned[0].text)
    sentences = [r.text for r in returned]
    hit_rank = next(
        (k for k in range(1, len(sentences) + 1) if sentence_hit_at_k(sentences[k - 1 : k], gold.answers, 1)), None
    )
    hit = {k: hit_rank is not None and hit_rank <= k and k <= top_k for k in (1, 3, 5)}
    citation_correct = None
    if gold.answerable and gold.article_id is not None and not abstained:
        citation_correct = returned[0].article_id == gold.article_id and returned[0].verbatim
    return QuestionRecord(
        id=gold.id,
        question=gold.question,
        understood_question=answer.understood_question if answer is not None else gold.question,
        history=list(gold.history),
        kind=question_kind(gold.question),
        gold_type=gold.type,
        answer_type=str(answer.answer_type) if answer is not None else "",
        gold_answers=list(gold.answers),
        gold_article_id=gold.article_id,
        answerable=gold.answerable,
        abstained=abstained,
        message=answer.message if answer is not None else "",
        error=error,
        returned=returned,
        span_text=span_text,
        prediction=prediction,
        hit_rank=hit_rank,
        hit_at_1=hit[1],
        hit_at_3=hit[3],
        hit_at_5=hit[5],
        squad_em=squad_exact_match(prediction, gold.answers),
        squad_f1=squad_f1(prediction, gold.answers),
        em=exact_match(prediction, gold.answers),
        f1=token_f1(prediction, gold.answers),
        article_scored=ranks.article_scored and gold.answerable,
        article_rank=ranks.article_rank if gold.answerable else None,
        chunk_scored=ranks.chunk_scored and gold.answerable,
        chunk_rank=ranks.chunk_rank if gold.answerable else None,
        citation_correct=citation_correct,
        citations_verbatim=all(r.verbatim for r in returned) if returned else None,
        top_score=returned[0].score if returned else None,
        latency_ms=latency_ms,
    )


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _describe_reader(reader: Reader | None) -> str:
    if reader is None:
        return ""
    c = reader.config
    use = f"rescores the best {c.candidates} candidates" if c.rescore else "does not rescore"
    return f"{c.provenance}; {use}; spans for {', '.join(c.reader_span_types) or 'no answer type'}"


def evaluate(
    questions: Sequence[GoldQuestion],
    assistant: Assistant,
    *,
    top_k: int = 5,
    progress: bool = True,
    settings: EvalSettings | None = None,
    index: IndexInfo | None = None,
    subsets: Mapping[str, Collection[str]] | None = None,
) -> EvalResult:
    """Ask every question of `assistant` and score the answers.

    Args:
        questions: gold questions; `history` turns are passed to `answer()` as earlier questions.
        assistant: a loaded `Assistant`; its store is also probed directly (retrieve with 20 chunks) to score
            retrieval recall@k / MRR at article and chunk level. Only the `answer()` call is timed.
        top_k: sentences asked of `answer()`; hit@k is scored for k = 1..top_k.
        progress: show a progress bar.
        settings: what is being run (dataset, sample...); model and scorer-weight details are filled in here.
        index: the index's description, copied into the result.
        subsets: named sets of question ids (e.g. SQuAD halves) to get their own `Metrics`.

    Returns:
        An `EvalResult` with one `QuestionRecord` per question, in the order given.
    """
    from tqdm.auto import tqdm

    settings = (settings or EvalSettings()).model_copy(
        update={
            "top_k": top_k,
            "model_name": assistant.encoder.name,
            "model_sha256": assistant.encoder.weights_sha256,
            "weights_provenance": assistant.weights.provenance,
            "weights_threshold": assistant.threshold,
            "reader": _describe_reader(assistant.reader),
            "git_commit": _git_commit(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    store = assistant.store
    texts = _ArticleTexts(store) if store is not None else None
    # Load lazily-initialised pieces (tokenizer, FAISS pages) before the clock starts: latency is per question.
    assistant.answer("What happened in the news this year?", top_k=top_k)
    started = time.perf_counter()
    records: list[QuestionRecord] = []
    for gold in tqdm(questions, desc="answering", unit=" q", disable=not progress, dynamic_ncols=True):
        answer, error = None, None
        began = time.perf_counter()
        try:
            answer = assistant.answer(gold.question, history=list(gold.history) or None, top_k=top_k)
        except Exception as exc:  # one crash must not lose a long run; it is counted and listed
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - began) * 1000
        ranks = RetrievalRanks()
        if gold.answerable and texts is not None:
            understood = answer.understood_question if answer is not None else gold.question
            ranks = _retrieval_ranks(assistant, understood, gold, texts)
        records.append(_record(gold, answer, error, latency_ms, ranks, texts, top_k))
    seconds = time.perf_counter() - started
    chosen = {name: set(ids) for name, ids in (subsets or {}).items()}
    return EvalResult(
        settings=settings,
        index=index,
        metrics=summarize(records, top_k),
        per_kind=breakdown(records, lambda r: r.kind, QUESTION_KINDS),
        per_type=breakdown(records, lambda r: r.gold_type) if any(r.gold_type for r in records) else {},
        subsets={name: summarize([r for r in records if r.id in ids], top_k) for name, ids in chosen.items()},
        seconds=seconds,
        records=records,
    )


# --------------------------------------------------------------------------------------------------------
# Aggregates
# --------------------------------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _span_scores(records: Sequence[QuestionRecord]) -> SpanScores:
    return SpanScores(
        n=len(records),
        squad_em=_mean([r.squad_em for r in records]),
        squad_f1=_mean([r.squad_f1 for r in records]),
        em=_mean([r.em for r in records]),
        f1=_mean([r.f1 for r in records]),
    )


def _retrieval_scores(ranks: Sequence[int | None]) -> RetrievalScores:
    return RetrievalScores(
        n=len(ranks),
        recall={str(k): _mean([float(r is not None and r <= k) for r in ranks]) for k in RETRIEVAL_KS},
        mrr=_mean([1.0 / r if r else 0.0 for r in ranks]),
    )


def _calibration(records: Sequence[QuestionRecord]) -> list[CalibrationBin]:
    """Answered questions binned by their top sentence's score; each bin's share of hit@1."""
    bins: list[CalibrationBin] = []
    answered = [(r.top_score, r.hit_at_1) for r in records if r.top_score is not None]
    for i in range(CALIBRATION_BINS):
        low, high = i / CALIBRATION_BINS, (i + 1) / CALIBRATION_BINS
        last = i == CALIBRATION_BINS - 1  # the top bin includes a score of exactly 1
        inside = [(s, hit) for s, hit in answered if low <= s < high or (last and s == high)]
        if inside:
            bins.append(
                CalibrationBin(
                    low=low,
                    high=high,
                    n=len(inside),
                    mean_score=_mean([s for s, _ in inside]),
                    hit_at_1=_mean([float(hit) for _, hit in inside]),
                )
            )
    return bins


def summarize(records: Sequence[QuestionRecord], top_k: int = 5) -> Metrics:
    """Aggregate metrics over `records` (see docs/metrics.md); sentence metrics over answerable questions only."""
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    latencies = [r.latency_ms for r in records]
    cited = [r for r in records if r.citation_correct is not None]
    checked = [r for r in records if r.citations_verbatim is not None]
    return Metrics(
        n_questions=len(records),
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        n_errors=sum(r.error is not None for r in records),
        hit_at={
            str(k): _mean([float(r.hit_rank is not None and r.hit_rank <= k) for r in answerable])
            for k in range(1, top_k + 1)
        },
        spans={
            "all": _span_scores(records),
            "answerable": _span_scores(answerable),
            "unanswerable": _span_scores(unanswerable),
        },
        retrieval={
            "article": _retrieval_scores([r.article_rank for r in answerable if r.article_scored]),
            "chunk": _retrieval_scores([r.chunk_rank for r in answerable if r.chunk_scored]),
        },
        abstention=abstention_scores(records),
        citation=CitationScores(
            n_scored=len(cited),
            correct=_mean([float(bool(r.citation_correct)) for r in cited]),
            n_checked=len(checked),
            verbatim=_mean([float(bool(r.citations_verbatim)) for r in checked]),
        ),
        latency_ms={
            "p50": percentile(latencies, 50) if latencies else 0.0,
            "p95": percentile(latencies, 95) if latencies else 0.0,
            "mean": _mean(latencies),
            "max": max(latencies, default=0.0),
        },
        calibration=_calibration(records),
    )


def breakdown(
    records: Sequence[QuestionRecord],
    group_of: Callable[[QuestionRecord], str | None],
    order: Sequence[str] = (),
) -> dict[str, KindScores]:
    """Per-group scores (n, hit@1, hit@3, EM, F1, abstention share); groups in `order` first, then by name."""
    groups: dict[str, list[QuestionRecord]] = {}
    for record in records:
        groups.setdefault(group_of(record) or "unknown", []).append(record)
    names = [g for g in order if g in groups] + sorted(g for g in groups if g not in order)
    result = {}
    for name in names:
        members = groups[name]
        answerable = [r for r in members if r.answerable]
        result[name] = KindScores(
            n=len(members),
            n_answerable=len(answerable),
            hit_at_1=_mean([float(r.hit_at_1) for r in answerable]),
            hit_at_3=_mean([float(r.hit_at_3) for r in answerable]),
            em=_mean([r.em for r in members]),
            f1=_mean([r.f1 for r in members]),
            abstained=_mean([float(r.abstained) for r in members]),
        )
    return result


# --------------------------------------------------------------------------------------------------------
# Datasets and their indexes
# --------------------------------------------------------------------------------------------------------


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
    for name in _INDEX_CODE:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()


def index_key(data_hash: str, article_ids: Sequence[str], encoder: Encoder, settings: Settings) -> str:
    """Cache key of an evaluation index: data, article selection, model, chunking and the index code."""
    from index.store import FORMAT_VERSION

    parts = {
        "data": data_hash,
        "articles": hashlib.sha256("\n".join(article_ids).encode()).hexdigest(),
        "model": encoder.weights_sha256,
        "format": FORMAT_VERSION,
        "code": _index_code_hash(),
        "chunk_max_tokens": settings.chunk_max_tokens,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def default_index_dir(dataset: str, key: str) -> Path:
    """Where a dataset's evaluation index is cached when no --index-dir is given (user cache folder)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsqa", appauthor=False)) / "eval-index" / f"{dataset}-{key[:12]}"


def _cached_or_built(index_dir: Path, key: str, build: Callable[[Path], IngestReport], rebuild: bool) -> dict:
    """Reuse the build in `index_dir` if its key matches; else (re)build it there. Returns the marker data."""
    from index.store import current_snapshot

    marker = index_dir / _MARKER
    if marker.is_file():
        try:
            stored = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            stored = {}
        if not rebuild and stored.get("key") == key and current_snapshot(index_dir) is not None:
            return stored | {"reused": True}
        shutil.rmtree(index_dir)  # our own earlier build, out of date
    elif index_dir.is_dir() and any(index_dir.iterdir()):
        raise EvalSetupError(
            f"{index_dir} is not empty and was not built by qa eval; "
            "pass --index-dir a new or empty folder (the evaluation builds its own index there)"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    report = build(index_dir)
    if current_snapshot(index_dir) is None:
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


def _index_info(index_dir: Path, encoder: Encoder, stored: dict) -> IndexInfo:
    from index.store import IndexStore

    store = IndexStore.open(index_dir, model_sha256=encoder.weights_sha256, dimension=encoder.dimension)
    try:
        seconds = float(stored["build_seconds"])
        return IndexInfo(
            index_dir=str(index_dir),
            articles=store.n_articles,
            sentences=store.n_sentences,
            chunks=store.n_chunks,
            build_seconds=seconds,
            articles_per_second=store.n_articles / seconds if seconds else 0.0,
            reused=bool(stored["reused"]),
            problems=int(stored.get("problems", 0)),
            key=str(stored["key"]),
        )
    finally:
        store.close()


def _squad_records(articles: Sequence[dict[str, str]]) -> Iterator[object]:
    from index.clean import clean_body
    from index.readers import RawArticle

    for article in articles:
        # The same tidying a JSON export of these paragraphs would get from the product's reader.
        yield RawArticle(
            id=article["id"], title=article["title"], text=clean_body(article["text"]), origin=article["id"]
        )


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
            qa/eval/goldsets/khmer-times.jsonl over corpus/), "squad-v1.1" or "squad-v2.0" (an official dev file).
        path: the gold JSONL or SQuAD JSON; None for the dataset's default (SQuAD: ../shared/bench/squad/).
        encoder: the loaded encoder (it embeds the index).
        limit, seed: a seeded random sample of the questions, in file order (None: all).
        half: SQuAD only: "tune" (first half of the titles), "test" (the rest) or "all". Questions come from
            the half, but every paragraph of the dev file is indexed: the whole dev set is the open corpus.
            With "all", the result's subsets name the tune and test question ids.
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
    from index.settings import Settings

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
            raise EvalSetupError("--half and --asked-paragraphs-only apply to the SQuAD datasets only")
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

    else:
        full = load_squad(path)
        asked = load_squad(path, limit=limit, seed=seed, half=None if half == "all" else half)
        questions = asked.questions
        articles = full.articles
        if asked_paragraphs_only:
            wanted = {q.article_id for q in questions}
            articles = [a for a in articles if a["id"] in wanted]
        if half == "all":
            tune, test = split_by_title(full)
            subsets = {"tune": {q.id for q in tune.questions}, "test": {q.id for q in test.questions}}
        key = index_key(sha256_of(path), [a["id"] for a in articles], encoder, settings)

        def build(folder: Path) -> IngestReport:
            return ingestor.ingest_records(_squad_records(articles), folder, show_progress=progress)  # type: ignore[arg-type]

    temporary = index_dir is None and dataset == "gold"
    if index_dir is None:
        index_dir = Path(tempfile.mkdtemp(prefix="qa-eval-")) if temporary else default_index_dir(dataset, key)
    try:
        stored = _cached_or_built(Path(index_dir), key, build, rebuild)
        try:
            info = _index_info(Path(index_dir), encoder, stored)
        except IndexStoreError:
            if not stored["reused"]:
                raise
            # A cached build the current store code cannot read (its format changed): build it again.
            stored = _cached_or_built(Path(index_dir), key, build, rebuild=True)
            info = _index_info(Path(index_dir), encoder, stored)
    except BaseException:
        if temporary:
            shutil.rmtree(index_dir, ignore_errors=True)
        raise
    return PreparedDataset(questions, Path(index_dir), info, eval_settings, subsets, temporary)


def run_eval(
    dataset: str = "gold",
    path: Path | None = None,
    *,
    encoder: Encoder | None = None,
    settings: Settings | None = None,
    weights: ScorerWeights | None = None,
    reader: Path | bool = True,
    limit: int | None = None,
    seed: int = 0,
    half: Half = "all",
    asked_paragraphs_only: bool = False,
    top_k: int = 5,
    index_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> EvalResult:
    """Prepare `dataset` (see `prepare_dataset`), answer its questions with an `Assistant` over that index and
    score them (see `evaluate`). `weights` replaces the shipped scorer weights (e.g. freshly trained ones);
    `reader` is True for the shipped reader, False to answer without one, or a folder of other reader weights."""
    from index.encoder import load_encoder
    from index.settings import Settings
    from qa.assistant import Assistant

    settings = settings or Settings()
    encoder = encoder or load_encoder(settings)
    prepared = prepare_dataset(
        dataset, path, encoder=encoder, settings=settings, limit=limit, seed=seed, half=half,
        asked_paragraphs_only=asked_paragraphs_only, index_dir=index_dir, rebuild=rebuild, progress=progress,
    )  # fmt: skip
    from qa.reader import load_reader

    loaded = load_reader(encoder, reader) if isinstance(reader, Path) else reader
    assistant = Assistant(
        settings, encoder=encoder, weights=weights, index_dir=prepared.index_dir, auto_ingest=False, reader=loaded
    )
    try:
        return evaluate(
            prepared.questions, assistant, top_k=top_k, progress=progress, settings=prepared.settings,
            index=prepared.index, subsets=prepared.subsets,
        )  # fmt: skip
    finally:
        if assistant.store is not None:
            assistant.store.close()
        if prepared.temporary:
            shutil.rmtree(prepared.index_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------
# The `qa eval` command
# --------------------------------------------------------------------------------------------------------


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `qa eval` options to `parser` (the `eval` subcommand's parser, or a stand-alone one)."""
    parser.add_argument("--dataset", choices=DATASETS, default="gold", help="what to run (default: gold)")
    parser.add_argument(
        "--path", type=Path, help="gold JSONL or SQuAD JSON (default: the bundled gold set / ../shared/bench/squad/)"
    )
    parser.add_argument("--limit", type=int, help="a seeded random sample of this many questions (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    parser.add_argument(
        "--half", choices=HALVES, default="all", help="SQuAD: questions of the tune or test half of the titles"
    )
    parser.add_argument(
        "--asked-paragraphs-only",
        action="store_true",
        help="SQuAD: index only the paragraphs the sampled questions come from (fast, much easier retrieval)",
    )
    parser.add_argument("--top-k", type=int, default=5, help="sentences asked of answer() (default 5)")
    parser.add_argument("--out", type=Path, help="report folder (default: reports/<dataset>-<timestamp>/)")
    # SUPPRESS: `qa --index-dir X eval` sets it on the main parser; an absent option here must not reset it.
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="build or reuse the evaluation index here (default: temporary for gold, user cache for SQuAD)",
    )
    parser.add_argument("--rebuild", action="store_true", help="ingest again even if a matching index exists")
    parser.add_argument("--weights", type=Path, help="scorer weights JSON to use instead of qa/scorer_weights.json")
    parser.add_argument(
        "--reader", type=Path, help="reader folder (reader.json + weights) to use instead of qa/reader/"
    )
    parser.add_argument("--no-reader", action="store_true", help="answer without the reader (ablation)")
    parser.add_argument(
        "--min-hit1", type=float, help="exit with status 1 when sentence hit@1 (a fraction, 0-1) is below this"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def _load_weights(path: Path) -> ScorerWeights:
    from qa.score import weights_from_dict

    try:
        return weights_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise EvalSetupError(f"{path}: no such weights file") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise EvalSetupError(f"{path}: not a scorer weights file ({exc})") from exc


def run_eval_cli(args: argparse.Namespace, *, encoder: Encoder | None = None) -> int:
    """Run `qa eval` from parsed arguments (see `add_eval_arguments`); print a summary and the report path.

    Returns the exit status: 0 done; 1 hit@1 below --min-hit1, or answer() raised on some question;
    2 the evaluation could not run (missing or malformed file, bad option). `encoder` reuses a loaded model.
    """
    from qa.eval.report import default_report_dir, summary_lines, write_report

    if args.limit is not None and args.limit < 1:
        print("qa eval: --limit must be at least 1", file=sys.stderr)
        return 2
    if args.top_k < 1:
        print("qa eval: --top-k must be at least 1", file=sys.stderr)
        return 2
    try:
        weights = _load_weights(args.weights) if args.weights else None
        result = run_eval(
            args.dataset, args.path, encoder=encoder, weights=weights, limit=args.limit, seed=args.seed,
            reader=False if args.no_reader else (args.reader or True),
            half=args.half, asked_paragraphs_only=args.asked_paragraphs_only, top_k=args.top_k,
            index_dir=getattr(args, "index_dir", None), rebuild=args.rebuild, progress=not args.quiet,
        )  # fmt: skip
    except (EvalSetupError, GoldFormatError, ModelError, FileNotFoundError, ValueError) as exc:
        print(f"qa eval: {exc}", file=sys.stderr)
        return 2
    out = args.out or default_report_dir(args.dataset)
    report = write_report(result, out)
    for line in summary_lines(result):
        print(line)
    print(f"report: {report}")
    status = 0
    hit1 = result.metrics.hit_at.get("1", 0.0)
    if args.min_hit1 is not None and hit1 < args.min_hit1:
        print(f"qa eval: FAILED: hit@1 {hit1:.3f} is below --min-hit1 {args.min_hit1:.3f}", file=sys.stderr)
        status = 1
    if result.metrics.n_errors:
        status = 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m qa.eval.run [options]`: the same as `qa eval`."""
    parser = argparse.ArgumentParser(prog="qa eval", description="Score the answerer on a gold set or SQuAD.")
    add_eval_arguments(parser)
    with contextlib.suppress(KeyboardInterrupt):
        return run_eval_cli(parser.parse_args(argv))
    return 130


if __name__ == "__main__":
    sys.exit(main())
