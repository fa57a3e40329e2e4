"""The `qa` command: ingest articles, ask questions, inspect and evaluate the index, serve the web chat."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.settings import Settings

EXAMPLES = """\
examples:
  qa ask "how many kilograms were seized in 2019?"      answer from the bundled corpus (indexed on first use)
  qa ask "and in 2018?" --history "how many cases were recorded in 2019?"
  qa ask "what was the trade surplus last month?" --as-of 1987-04-30
  qa ingest ~/news/ archive.jsonl                         add a folder and a file (.txt .md .html .json .jsonl)
  qa stats                                                what the index holds
  qa remove 3f2a9c0d1e2b4a5c                              remove an article by id (ids: qa stats --articles)
  qa repair                                               check every index file; go back to the last intact snapshot
  qa compact                                              merge the index's segments into one, dropping deleted rows
  qa upgrade                                              re-embed an index of an older format from its stored articles
  qa serve --port 7860                                    the web chat on http://127.0.0.1:7860
  qa eval                                                 score the bundled gold set

The index lives in $QA_INDEX_DIR (default: the user data folder); --index-dir overrides it.
"""

# Terminal colours only when printing to a terminal.
_BOLD = "\033[1m" if sys.stdout.isatty() else ""
_HL = "\033[1;33m" if sys.stdout.isatty() else ""
_DIM = "\033[2m" if sys.stdout.isatty() else ""
_RESET = "\033[0m" if sys.stdout.isatty() else ""


def _settings(args: argparse.Namespace) -> Settings:
    from index.settings import Settings

    if getattr(args, "index_dir", None):
        return Settings(index_dir=Path(args.index_dir))
    return Settings()


def _assistant(args: argparse.Namespace, auto_ingest: bool = True):  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    assistant = Assistant(_settings(args), auto_ingest=auto_ingest)
    warning = assistant.store.facts().warning if assistant.store is not None else None
    if warning:
        print(f"qa: warning: {warning}", file=sys.stderr)
    return assistant


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.encoder import load_encoder
    from index.ingest import Ingestor

    settings = _settings(args)
    ingestor = Ingestor(load_encoder(settings), settings)
    report = ingestor.ingest([Path(p) for p in args.paths], settings.index_dir, rebuild=args.rebuild)
    print(report.summary())
    print(f"index: {settings.index_dir}")
    nothing_in = not (report.added or report.updated or report.unchanged)
    return 1 if report.problems and nothing_in else 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        print(f"qa ask: --top-k must be at least 1, got {args.top_k}", file=sys.stderr)
        return 2
    assistant = _assistant(args)
    as_of = args.as_of
    if as_of == "latest":  # the newest article's date
        as_of = assistant.stats().date_to
    try:
        result = assistant.answer(args.question, history=args.history or None, top_k=args.top_k, as_of=as_of)
    except ValueError as exc:
        print(f"qa ask: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(result.model_dump_json(indent=2))
        return 0 if result.found else 3
    shown = result.shown_question()
    if shown != result.question:
        print(f"{_DIM}understood as: {shown}{_RESET}")
    if args.as_of and result.time is not None:
        print(f"{_DIM}as of {result.time.as_of.isoformat()}{_RESET}")
    if not result.found:
        print(f"{_BOLD}{result.message}{_RESET}")
        return 3
    for number, sentence in enumerate(result.sentences, 1):
        c = sentence.citation
        print(f"[{number}] {sentence.marked(_HL, _RESET) if _HL else sentence.marked('[', ']')}")
        where = ", ".join(x for x in (c.title, c.source, c.date) if x)
        facts = "".join(f"; {fact}" for fact in c.fact_dates)
        print(f"    {_DIM}{where}{facts} — sentence {c.sentence_number + 1}, characters {c.start}–{c.end}, "
              f"article {c.article_id}, score {sentence.score:.2f}{_RESET}")  # fmt: skip
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    assistant = _assistant(args, auto_ingest=False)
    report = assistant.remove(args.ids)
    print(report.summary().replace("updated", "removed", 1))
    return 1 if report.problems else 0


def cmd_stats(args: argparse.Namespace) -> int:
    assistant = _assistant(args, auto_ingest=False)
    stats = assistant.stats()
    if args.json:
        print(stats.model_dump_json(indent=2))
        return 0
    print(f"index       {stats.index_dir} ({stats.snapshot or 'empty'}, updated {stats.updated_at or '-'})")
    print(f"articles    {stats.articles}")
    print(f"sentences   {stats.sentences}")
    print(f"chunks      {stats.chunks} (dense index: {stats.dense_index.get('chunks', '-')})")
    details = assistant.store.facts().details if assistant.store is not None else {}
    if "segments" in details:
        deleted = details.get("deleted_articles", 0)
        print(f"segments    {details['segments']} ({deleted} deleted articles not yet compacted away)")
    print(f"dates       {stats.date_from or '-'} … {stats.date_to or '-'}")
    print("sources     " + (", ".join(f"{s or '(no source)'} ({n})" for s, n in stats.sources[:10]) or "-"))
    if args.articles and assistant.store is not None:
        for article in assistant.store.articles(text=False):
            date = article.date or "-"
            print(f"  {article.id}  {date:<10}  {article.source or '-':<16.16}  {article.title[:70]}")
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from index.encoder import load_encoder
    from index.ingest import Ingestor

    settings = _settings(args)
    report = Ingestor(load_encoder(settings), settings).upgrade(settings.index_dir)
    print(report.summary().replace("added", "re-embedded", 1))
    return 1 if report.problems and not report.added else 0


def cmd_compact(args: argparse.Namespace) -> int:
    from index.encoder import load_encoder
    from index.ingest import Ingestor

    settings = _settings(args)
    started = time.perf_counter()
    before = Ingestor(load_encoder(settings), settings).compact(settings.index_dir)
    took = time.perf_counter() - started
    print(f"qa compact: {before} segment{'s' if before != 1 else ''} merged into one in {took:.1f} s")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from index.storage import open_admin

    print(f"qa repair: {open_admin(_settings(args)).repair()}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.index_dir:
        os.environ["QA_INDEX_DIR"] = str(args.index_dir)
    from ui.app import allowed_hosts_from_env, auth_from_env, serve

    try:
        # Checked here too, so a half-set sign-in or a malformed host list is one line, not a traceback.
        auth_from_env()
        allowed_hosts_from_env()
    except ValueError as exc:
        print(f"qa serve: {exc}", file=sys.stderr)
        return 2
    serve(host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.eval.run import run_eval_cli

    return run_eval_cli(args)


def cmd_train_scorer(args: argparse.Namespace) -> int:
    from qa.train.scorer import run_train_cli

    return run_train_cli(args)


def cmd_train_reader(args: argparse.Namespace) -> int:
    if args.step == "prepare":
        from qa.train.squad_data import write_training_file

        counts = write_training_file(args.out, args.squad_dir)
        print(f"wrote {args.out}: {counts}")
        return 0
    if args.step == "train":
        from qa.train.reader import main as train_main

        return train_main(args.train_args)
    from qa.train.calibrate import calibrate

    calibrate(args)
    return 0


def add_train_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """`qa train-reader prepare | train | calibrate` (docs/training.md)."""
    from qa.train.calibrate import add_arguments as add_calibrate_arguments
    from qa.train.squad_data import DEFAULT_OUT, SQUAD_DIR

    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    p = steps.add_parser("prepare", help="SQuAD v1.1 train (and dev tune) split into sentences, answers by offset")
    p.add_argument("--squad-dir", type=Path, default=SQUAD_DIR)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p = steps.add_parser(
        "train", help="fine-tune the cross-encoder (options: qa train-reader train -- --help)", add_help=False
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="options of python -m qa.train.reader")
    p = steps.add_parser("calibrate", help="fit blend, depth, threshold and span types on SQuAD dev's tune half")
    add_calibrate_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a news archive; get the exact sentences that answer them, cited.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index-dir", type=Path, help="index directory (default: $QA_INDEX_DIR or user data dir)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="add or update articles from files and folders")
    p.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .htm .json .jsonl), recursive")
    p.add_argument("--rebuild", action="store_true", help="start a new index instead of adding to the current one")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with cited sentences")
    p.add_argument("question")
    p.add_argument("--history", action="append", help="an earlier question of the conversation (repeatable)")
    p.add_argument("--top-k", type=int, default=3, help="at most this many sentences (default 3)")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="answer as of this day, YYYY-MM-DD ('last month' counts from it), or 'latest' for the newest "
        "article's date (default: today)",
    )
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("remove", help="remove articles by id")
    p.add_argument("ids", nargs="+")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("--json", action="store_true")
    p.add_argument("--articles", action="store_true", help="also list every article with its id")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "repair", help="check every index file against its checksum; make the last intact snapshot live if not"
    )
    p.set_defaults(func=cmd_repair)

    p = sub.add_parser("upgrade", help="rebuild an index of an older format from the articles it stores")
    p.set_defaults(func=cmd_upgrade)

    p = sub.add_parser("compact", help="merge the index's segments into one, leaving out deleted articles")
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("serve", help="start the web chat")
    p.add_argument("--host", default=os.environ.get("QA_UI_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("QA_UI_PORT", "7860")))
    p.set_defaults(func=cmd_serve)

    from qa.eval.run import add_eval_arguments
    from qa.train.scorer import add_train_arguments as add_scorer_arguments

    for name, text, add_arguments, func in (
        ("eval", "score the answerer on a gold set or SQuAD", add_eval_arguments, cmd_eval),
        ("train-scorer", "fit the first-stage sentence scorer's weights on the SQuAD tuning half",
         add_scorer_arguments, cmd_train_scorer),
        ("train-reader", "prepare, train and calibrate the cross-encoder reader (SQuAD v1.1 train)",
         add_train_reader_arguments, cmd_train_reader),
    ):  # fmt: skip
        p = sub.add_parser(name, help=text)
        add_arguments(p)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `qa` console script; returns the exit code."""
    from index.models import IndexStoreError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except IndexStoreError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
