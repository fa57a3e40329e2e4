"""Score the answerer on a gold set: ask every question through `Assistant.answer()` and measure what comes back.

* `evaluate` asks a list of `GoldQuestion`s of one assistant and returns an `EvalResult` (evaluation/results.py):
  one `QuestionRecord` per question (what was returned, its span, hit@k, EM/F1, retrieval ranks, latency) and
  the aggregate metrics defined in docs/metrics.md, overall, per question kind and per named subset (SQuAD's
  tune/test halves). Each question's record is scored in evaluation/records.py, the aggregates in
  evaluation/summary.py.
* `run_eval` prepares the dataset and its index (evaluation/datasets/) and asks it; `add_eval_arguments` /
  `run_eval_cli` are the `qa eval` command.

Reports (Markdown, JSON, plots) are written by `evaluation.report`. Nothing heavy is imported at module load:
the `qa` command builds its parser from this module.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.datasets import DATASETS, HALVES, EvalSetupError, Half, PreparedDataset, prepare_dataset
from evaluation.gold import (
    GoldFormatError,
    GoldQuestion,
)
from evaluation.metrics import (
    QUESTION_KINDS,
)
from evaluation.records import ArticleTexts, RetrievalRanks, record_of, retrieval_ranks, score_given_sentence
from evaluation.results import (
    REPO_ROOT,
    EvalResult,
    EvalSettings,
    IndexInfo,
    Metrics,
    QuestionRecord,
)
from evaluation.summary import breakdown, summarize
from index.encoder import ModelError

if TYPE_CHECKING:
    from index.encoder import TextEncoder
    from index.storage import StoreReader
    from newsqa.settings import Settings
    from qa.assistant import Assistant
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


# --------------------------------------------------------------------------------------------------------
# Asking the questions
# --------------------------------------------------------------------------------------------------------


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

    settings = _run_settings(settings or EvalSettings(), assistant, top_k)
    store = assistant.store
    texts = ArticleTexts(store) if store is not None else None
    # Load lazily-initialised pieces (tokenizer, FAISS pages) before the clock starts: latency is per question.
    assistant.answer("What happened in the news this year?", top_k=top_k)
    started = time.perf_counter()
    records = [
        _ask(gold, assistant, store, texts, top_k)
        for gold in tqdm(questions, desc="answering", unit=" q", disable=not progress, dynamic_ncols=True)
    ]
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


def _run_settings(settings: EvalSettings, assistant: Assistant, top_k: int) -> EvalSettings:
    """`settings` completed with what is being run: the model, the scorer weights, the reader, the commit."""
    return settings.model_copy(
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


def _ask(
    gold: GoldQuestion, assistant: Assistant, store: StoreReader | None, texts: ArticleTexts | None, top_k: int
) -> QuestionRecord:
    """Ask one gold question (only the `answer()` call is timed) and score what came back; `store` is the
    assistant's store as the run began (the probes of the gold sentence read it)."""
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
        ranks = retrieval_ranks(assistant, understood, gold, texts)
    record = record_of(gold, answer, error, latency_ms, ranks, texts, top_k)
    if gold.answerable and store is not None and gold.article_id is not None:
        score_given_sentence(assistant, store, gold, record)
    return record


def run_eval(
    dataset: str = "gold",
    path: Path | None = None,
    *,
    encoder: TextEncoder | None = None,
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
    from newsqa.settings import Settings
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


def run_eval_cli(args: argparse.Namespace, *, encoder: TextEncoder | None = None) -> int:
    """Run `qa eval` from parsed arguments (see `add_eval_arguments`); print a summary and the report path.

    Returns the exit status: 0 done; 1 hit@1 below --min-hit1, or answer() raised on some question;
    2 the evaluation could not run (missing or malformed file, bad option). `encoder` reuses a loaded model.
    """
    from evaluation.report import default_report_dir, summary_lines, write_report
    from newsqa.settings import Settings

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
    """`python -m evaluation.run [options]`: the same as `qa eval`."""
    parser = argparse.ArgumentParser(prog="qa eval", description="Score the answerer on a gold set or SQuAD.")
    add_eval_arguments(parser)
    with contextlib.suppress(KeyboardInterrupt):
        return run_eval_cli(parser.parse_args(argv))
    return 130


if __name__ == "__main__":
    sys.exit(main())
