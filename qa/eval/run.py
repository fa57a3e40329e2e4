"""Score the answerer on a gold set: ask every question through `Assistant.answer()` and measure what comes back.

* `evaluate` asks a list of `GoldQuestion`s of one assistant and returns an `EvalResult` (qa/eval/results.py):
  one `QuestionRecord` per question (what was returned, its span, hit@k, EM/F1, retrieval ranks, latency) and
  the aggregate metrics defined in docs/metrics.md, overall, per question kind and per named subset (SQuAD's
  tune/test halves).
* `run_eval` prepares the dataset and its index (qa/eval/datasets.py) and asks it; `add_eval_arguments` /
  `run_eval_cli` are the `qa eval` command.

Reports (Markdown, JSON, plots) are written by `qa.eval.report`. Nothing heavy is imported at module load:
the `qa` command builds its parser from this module.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from index.encoder import ModelError
from qa.eval.datasets import DATASETS, HALVES, EvalSetupError, Half, PreparedDataset, prepare_dataset
from qa.eval.gold import (
    GoldFormatError,
    GoldQuestion,
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
from qa.eval.results import (
    REPO_ROOT,
    RETRIEVAL_KS,
    CalibrationBin,
    CitationScores,
    EvalResult,
    EvalSettings,
    IndexInfo,
    KindScores,
    Metrics,
    QuestionRecord,
    RetrievalScores,
    ReturnedSentence,
    SpanScores,
)

if TYPE_CHECKING:
    from index.encoder import Encoder
    from index.settings import Settings
    from index.storage import ChunkRecord, StoreReader
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

# Retrieval is scored on more chunks than answer() reads (8), so recall@10/@20 show what a wider net would catch.
RETRIEVAL_CHUNKS = 20
CALIBRATION_BINS = 10


# --------------------------------------------------------------------------------------------------------
# Asking the questions
# --------------------------------------------------------------------------------------------------------


class _ArticleTexts:
    """Article texts read once per evaluation (citations and chunks are checked against them)."""

    def __init__(self, store: StoreReader) -> None:
        self.store = store
        self._texts: dict[str, str | None] = {}

    def __call__(self, article_id: str) -> str | None:
        if article_id not in self._texts:
            found = self.store.articles([article_id])
            self._texts[article_id] = found[0].text if found else None
        return self._texts[article_id]


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
    from qa.answering import as_asked

    store = assistant.store
    # The answer path's own retrieval stage over the understood question, deeper than answering reads and without
    # the time preference, as this probe has always measured it.
    pipeline = dataclasses.replace(assistant.pipeline(), time_aware=False)
    asked = as_asked(understood, date.today())
    if store is None or store.facts().chunks == 0 or (not asked.question.terms and not asked.question.numbers):
        # Nothing to search, or a question answer() refuses before retrieval: it counts as retrieving nothing.
        return RetrievalRanks(gold.article_id is not None, None, gold.article_id is None, None)
    refs = pipeline.retrieve(asked, chunks=RETRIEVAL_CHUNKS).found.chunks

    def holds_answer(chunk: ChunkRecord) -> bool:
        text = texts(chunk.article_id)
        return text is not None and sentence_hit_at_k([text[chunk.start : chunk.end]], gold.answers, 1)

    article_rank = None
    if gold.article_id is not None:
        ranked_articles = list(dict.fromkeys(r.article_id for r in refs))
        if gold.article_id in ranked_articles:
            article_rank = ranked_articles.index(gold.article_id) + 1
        relevant = {c.ref for c in store.article_parts(gold.article_id)[1] if holds_answer(c)}
        chunk_scored = bool(relevant)
    else:
        relevant = {c.ref for c in store.chunks(refs) if holds_answer(c)}
        chunk_scored = True
    chunk_rank = next((i for i, ref in enumerate(refs, start=1) if ref in relevant), None)
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


def _hits(returned: ReturnedSentence, gold: GoldQuestion) -> bool:
    """A returned sentence answers `gold`: it holds an answer, and when the gold names its sentence, it is that
    sentence of that article or one of the gold's `also` sentences, the same fact in another report (so a
    same-subject report of another date never counts, whatever its figure)."""
    if not sentence_hit_at_k([returned.text], gold.answers, 1):
        return False
    if gold.sentence is None:
        return True
    mine = " ".join(returned.text.split()).lower()
    for article_id, sentence in [(gold.article_id, gold.sentence), *gold.also]:
        wanted = " ".join(sentence.split()).lower()
        if returned.article_id == article_id and (wanted in mine or mine in wanted):
            return True
    return False


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
    hit_rank = next((k for k, r in enumerate(returned, start=1) if _hits(r, gold)), None)
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


def _score_given_sentence(assistant: Assistant, store: StoreReader, gold: GoldQuestion, record: QuestionRecord) -> None:
    """Score the span answering marks in the gold article's first sentence holding the first gold answer (SQuAD
    dev's answer_start is that first occurrence), apart from retrieval and ranking."""
    sentence = next(
        (row.text for row in store.article_parts(gold.article_id or "")[0] if gold.answers[0] in row.text),
        None,
    )
    if sentence is None:
        return
    titles = {a.id: a.title for a in store.articles([gold.article_id or ""], text=False)}
    span = assistant.span_of(gold.question, sentence, titles.get(gold.article_id or "", ""))
    prediction = span.text if span is not None else sentence
    record.given_sentence, record.given_span = sentence, prediction
    record.given_em, record.given_f1 = exact_match(prediction, gold.answers), token_f1(prediction, gold.answers)
    record.given_squad_em = squad_exact_match(prediction, gold.answers)
    record.given_squad_f1 = squad_f1(prediction, gold.answers)


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
    return (
        f"{c.provenance}; reranks the best {c.candidates} candidates, abstains below {c.threshold}; "
        f"spans for {', '.join(c.span_types) or 'no answer type'}"
    )


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
            "time_aware": assistant.time_aware,
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
            answer = assistant.answer(gold.question, history=list(gold.history) or None, top_k=top_k, as_of=gold.as_of)
        except Exception as exc:  # one crash must not lose a long run; it is counted and listed
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - began) * 1000
        ranks = RetrievalRanks()
        if gold.answerable and texts is not None:
            understood = answer.understood_question if answer is not None else gold.question
            ranks = _retrieval_ranks(assistant, understood, gold, texts)
        record = _record(gold, answer, error, latency_ms, ranks, texts, top_k)
        if gold.answerable and store is not None and gold.article_id is not None:
            _score_given_sentence(assistant, store, gold, record)
        records.append(record)
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
        given_sentence=_given_scores(records),
    )


def _given_scores(records: Sequence[QuestionRecord]) -> SpanScores | None:
    given = [r for r in records if r.given_em is not None]
    if not given:
        return None
    return SpanScores(
        n=len(given),
        squad_em=_mean([r.given_squad_em or 0.0 for r in given]),
        squad_f1=_mean([r.given_squad_f1 or 0.0 for r in given]),
        em=_mean([r.given_em or 0.0 for r in given]),
        f1=_mean([r.given_f1 or 0.0 for r in given]),
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


def run_eval(
    dataset: str = "gold",
    path: Path | None = None,
    *,
    encoder: Encoder | None = None,
    settings: Settings | None = None,
    weights: ScorerWeights | None = None,
    reader: Path | bool = True,
    time_aware: bool = True,
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
    `reader` is True for the shipped reader, False to answer without one, or a folder of other reader weights;
    `time_aware=False` answers without the time features (the ablation)."""
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
        settings,
        encoder=encoder,
        weights=weights,
        index_dir=prepared.index_dir,
        auto_ingest=False,
        reader=loaded,
        time_aware=time_aware,
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
        "--store", choices=("local", "milvus"), help="build and answer from this store (default: $QA_STORE or local)"
    )
    parser.add_argument(
        "--path", type=Path, help="gold JSONL or SQuAD JSON (default: the bundled gold set / ../shared/bench/squad/)"
    )
    parser.add_argument("--limit", type=int, help="a seeded random sample of this many questions (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    parser.add_argument(
        "--half", choices=HALVES, default="all", help="SQuAD, dated, news: questions of the tune or test half"
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
        "--no-time", action="store_true", help="answer without the time features: as-of date, time prior (ablation)"
    )
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
    from index.settings import Settings
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
            reader=False if args.no_reader else (args.reader or True), time_aware=not args.no_time,
            half=args.half, asked_paragraphs_only=args.asked_paragraphs_only, top_k=args.top_k,
            index_dir=getattr(args, "index_dir", None), rebuild=args.rebuild, progress=not args.quiet,
            settings=Settings(store=args.store) if getattr(args, "store", None) else None,
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
