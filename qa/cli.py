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
    from qa.models import Answer

EXAMPLES = """\
examples:
  qa ask "how many kilograms were seized in 2019?"      answer from the bundled corpus (indexed on first use)
  qa ask "and in 2018?" --history "how many cases were recorded in 2019?"
  qa ask "what was the trade surplus last month?" --as-of 1987-04-30
  qa ingest ~/news/ archive.jsonl                         add a folder and a file (.txt .md .html .json .jsonl .pdf …)
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

    chosen: dict[str, object] = {}
    if getattr(args, "index_dir", None):
        chosen["index_dir"] = Path(args.index_dir)
    if getattr(args, "store", None):
        chosen["store"] = args.store
    return Settings(**chosen)  # type: ignore[arg-type]


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
    from index.readers.json_records import parse_field_map

    try:
        field_map = parse_field_map(args.field or ())
    except ValueError as exc:
        print(f"qa ingest: {exc}", file=sys.stderr)
        return 2
    settings = _settings(args)
    paths = [Path(p) for p in args.paths]
    ingestor = Ingestor(load_encoder(settings), settings)
    if args.ray is None:
        report = ingestor.ingest(
            paths, settings.index_dir, rebuild=args.rebuild, show_progress=not args.quiet, field_map=field_map,
            follow_symlinks=args.follow_symlinks,
        )  # fmt: skip
    else:
        try:
            from index.ingest.distributed import ingest_with_ray, is_ray_address  # ray is imported for --ray only
        except ImportError as exc:
            print(f"qa ingest: --ray needs Ray ({exc}): pip install 'newsqa[distributed]'", file=sys.stderr)
            return 2

        address = args.ray or None
        if address is not None and not is_ray_address(address):
            # `--ray PATH ...`: the value is the first input, not a cluster address.
            paths.insert(0, Path(address))
            address = None
        report = ingest_with_ray(
            ingestor, paths, settings.index_dir, address=address, rebuild=args.rebuild,
            show_progress=not args.quiet, field_map=field_map, follow_symlinks=args.follow_symlinks,
        )  # fmt: skip
    print(report.summary())
    print(f"index: {settings.index_dir}")
    nothing_in = not (report.added or report.updated or report.unchanged)
    return 1 if report.problems and nothing_in else 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        print(f"qa ask: --top-k must be at least 1, got {args.top_k}", file=sys.stderr)
        return 2
    if (args.question is None) == (args.file is None):
        print("qa ask: give one question, or --file PATH ('-' for standard input), not both", file=sys.stderr)
        return 2
    if args.file is not None:
        try:
            questions = _questions_of(args.file)
        except OSError as exc:
            print(f"qa ask: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        if not questions:
            print(f"qa ask: {args.file} holds no questions (one per line)", file=sys.stderr)
            return 2
    elif not args.question.strip():
        print('qa ask: the question is empty; write one, e.g. qa ask "how many cases were recorded?"', file=sys.stderr)
        return 2
    else:
        questions = [args.question]
    narrowed = None
    if args.where:
        from index.readers.json_records import parse_field_map
        from qa.models import SearchFilter

        try:
            narrowed = SearchFilter(fields=parse_field_map(args.where))
        except ValueError:
            print(
                f"qa ask: --where takes FIELD=VALUE, e.g. --where category=business, not {args.where}", file=sys.stderr
            )
            return 2
    assistant = _assistant(args)
    as_of = args.as_of
    if as_of == "latest":  # the newest article's date
        as_of = assistant.stats().date_to
    codes = []
    for question in questions:
        try:
            result = assistant.answer(
                question, history=args.history or None, top_k=args.top_k, as_of=as_of, search_filter=narrowed
            )
        except ValueError as exc:
            print(f"qa ask: {exc}", file=sys.stderr)
            return 2
        if args.json:
            # One question: indented; many (--file): one object per line, to read line by line.
            print(result.model_dump_json(indent=None if args.file is not None else 2), flush=True)
        else:
            if len(questions) > 1:
                print(f"{_BOLD}{result.question}{_RESET}")
            _print_answer(result, args.as_of is not None)
        codes.append(0 if result.found else 3)
    return max(codes)


def _questions_of(path: str) -> list[str]:
    """The questions of a file (or standard input for "-"): one per line, blank lines skipped."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _print_answer(result: Answer, show_as_of: bool) -> None:
    shown = result.shown_question()
    if shown != result.question:
        print(f"{_DIM}understood as: {shown}{_RESET}")
    if show_as_of and result.time is not None:
        print(f"{_DIM}as of {result.time.as_of.isoformat()}{_RESET}")
    if not result.found:
        print(f"{_BOLD}{result.message}{_RESET}")
        return
    for number, sentence in enumerate(result.sentences, 1):
        c = sentence.citation
        print(f"[{number}] {sentence.marked(_HL, _RESET) if _HL else sentence.marked('[', ']')}")
        where = ", ".join(x for x in (c.title, c.source, c.date, f"page {c.page}" if c.page else "") if x)
        facts = "".join(f"; {fact}" for fact in c.fact_dates)
        print(f"    {_DIM}{where}{facts} — sentence {c.sentence_number + 1}, characters {c.start}–{c.end}, "
              f"article {c.article_id}, score {sentence.score:.2f}{_RESET}")  # fmt: skip


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
    from index.storage import IndexNotFoundError, has_index, layout, needs_upgrade

    settings = _settings(args)
    if not has_index(settings):
        raise IndexNotFoundError(f"no index at {settings.index_dir}; create one with: qa ingest PATH")
    if not needs_upgrade(settings):
        # A current index (or one too old to read back, which opening it reports with what to do).
        print(f"qa upgrade: the index at {settings.index_dir} is current ({layout(settings)}); nothing to do")
        return 0
    from index.encoder import load_encoder
    from index.ingest import Ingestor

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
    from ui.guard import allowed_hosts_from_env, trusted_proxies_from_env
    from ui.server import auth_from_env, configured_hosts, serve, ui_default

    try:
        # Checked here too, so a half-set sign-in, a malformed host list or settings file is one line, not a
        # traceback.
        auth_from_env()
        allowed_hosts_from_env()
        trusted_proxies_from_env()
        configured_hosts()
        _settings(args)
        host = args.host or ui_default("host", "127.0.0.1")
        port = args.port or int(ui_default("port", "7860"))
    except ValueError as exc:
        print(f"qa serve: {exc}", file=sys.stderr)
        return 2
    serve(host=host, port=port, settings=_settings(args))
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

        # `qa train-reader train -- --help`: the "--" only separates the trainer's own options.
        train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
        return train_main(train_args, prog="qa train-reader train")
    from qa.train.calibrate import calibrate

    calibrate(args)
    return 0


def add_train_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """`qa train-reader prepare | train | calibrate` (docs/training.md)."""
    from qa.train.calibrate import add_arguments as add_calibrate_arguments
    from qa.train.squad_data import DEFAULT_OUT, SQUAD_DIR

    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP", help="the step to run")
    p = steps.add_parser("prepare", help="SQuAD v1.1 train (and dev tune) split into sentences, answers by offset")
    p.add_argument("--squad-dir", type=Path, default=SQUAD_DIR, help=f"folder of the SQuAD files (default {SQUAD_DIR})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the training file to write (default {DEFAULT_OUT})")
    p = steps.add_parser(
        "train", help="fine-tune the cross-encoder (its options: qa train-reader train --help)", add_help=False
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="options of python -m qa.train.reader")
    p = steps.add_parser("calibrate", help="fit blend, depth, threshold and span types on SQuAD dev's tune half")
    add_calibrate_arguments(p)


EXIT_CODES = """exit codes:
  0  done (qa ask: every question answered)
  1  problems (e.g. nothing could be ingested, an article id not found)
  2  usage or index error (a bad option, an empty question, no index, a damaged index)
  3  not found in the corpus (qa ask)
"""

# Subcommands whose arguments come from modules that import the answering stack: their parsers are only built
# when they are the command run (or listed by `qa --help`), so `qa stats` never pays for those imports.
_HEAVY_COMMANDS = ("eval", "train-scorer", "train-reader")


STORE_ARGS = ("--store",)
STORE_OPTION = {
    "choices": ("local", "milvus"),
    "help": "where the index is kept: local segments (FAISS) or Milvus at $QA_MILVUS_URI (default: $QA_STORE or local)",
}


def _index_dir_option() -> argparse.ArgumentParser:
    """--index-dir, accepted before or after the subcommand. SUPPRESS: an absent option after the subcommand must
    not reset a value given before it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--index-dir", type=Path, default=argparse.SUPPRESS, help="index directory (default: $QA_INDEX_DIR or the "
        "user data folder)",
    )  # fmt: skip
    parent.add_argument(*STORE_ARGS, default=argparse.SUPPRESS, **STORE_OPTION)  # type: ignore[arg-type]
    return parent


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `qa` argument parser. With `command`, the other heavy subcommands' options are left out (their modules
    are not imported); without it, every subcommand is complete."""
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a news archive; get the exact sentences that answer them, cited.",
        epilog=EXAMPLES + "\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index-dir", type=Path, help="index directory (default: $QA_INDEX_DIR or user data dir)")
    parser.add_argument(*STORE_ARGS, **STORE_OPTION)  # type: ignore[arg-type]
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")
    index_dir = [_index_dir_option()]

    def add(name: str, text: str, **kwargs: object) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=text, description=text, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    p = add("ingest", "add or update articles from files and folders", parents=index_dir)
    p.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .htm .json .jsonl .pdf .docx), recursive")
    p.add_argument("--rebuild", action="store_true", help="start a new index instead of adding to the current one")
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="also read files that symbolic links inside a folder point to outside it (skipped by default)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, only the summary")
    p.add_argument(
        "--field", action="append", metavar="FIELD=NAME",
        help="read FIELD (title, text, date, source, author, url, id) from the JSON records' NAME field, for feeds "
        "whose names differ (repeatable): --field title=headline_text --field date=published_at",
    )  # fmt: skip
    p.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help="read, prepare and embed on a Ray cluster (ADDRESS: auto, host:port or ray://host:port; without it a "
        "local cluster is started); the driver writes to the configured store",
    )  # fmt: skip
    p.set_defaults(func=cmd_ingest)

    p = add("ask", "answer questions with cited sentences", parents=index_dir)
    p.add_argument("question", nargs="?", help="the question (or use --file)")
    p.add_argument(
        "--file", "-f", metavar="PATH", help="answer every line of this file as its own question ('-': standard input)"
    )
    p.add_argument("--history", action="append", help="an earlier question of the conversation (repeatable)")
    p.add_argument("--top-k", type=int, default=3, help="at most this many sentences (default 3)")
    p.add_argument(
        "--as-of",
        metavar="DATE",
        help="answer as of this day, YYYY-MM-DD ('last month' counts from it), or 'latest' for the newest "
        "article's date (default: today)",
    )
    p.add_argument(
        "--json", action="store_true", help="print the Answer as JSON (with --file: one JSON object per line)"
    )
    p.add_argument(
        "--where", action="append", metavar="FIELD=VALUE",
        help="only articles whose metadata has this value, e.g. --where category=business (repeatable)",
    )  # fmt: skip
    p.set_defaults(func=cmd_ask)

    p = add("remove", "remove articles by id", parents=index_dir)
    p.add_argument("ids", nargs="+", help="article ids (listed by qa stats --articles)")
    p.set_defaults(func=cmd_remove)

    p = add("stats", "what the index holds", parents=index_dir)
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--articles", action="store_true", help="also list every article with its id")
    p.set_defaults(func=cmd_stats)

    p = add(
        "repair", "check every index file against its checksum; make the last intact snapshot live if not",
        parents=index_dir,
    )  # fmt: skip
    p.set_defaults(func=cmd_repair)

    p = add("upgrade", "rebuild an index of an older format from the articles it stores", parents=index_dir)
    p.set_defaults(func=cmd_upgrade)

    p = add("compact", "merge the index's segments into one, leaving out deleted articles", parents=index_dir)
    p.set_defaults(func=cmd_compact)

    p = add("serve", "start the web chat (and its REST API)", parents=index_dir)
    p.add_argument(
        "--host", default=None,
        help="address to bind (default $QA_UI_HOST, newsqa.toml's [ui] host, or 127.0.0.1; 0.0.0.0 serves every "
        "interface)",
    )  # fmt: skip
    p.add_argument("--port", type=int, default=None, help="port to listen on (default $QA_UI_PORT, [ui] port, or 7860)")
    p.set_defaults(func=cmd_serve)

    heavy = (
        ("eval", "score the answerer on a gold set or SQuAD", _eval_arguments, cmd_eval),
        ("train-scorer", "fit the first-stage sentence scorer's weights on the SQuAD tuning half",
         _scorer_arguments, cmd_train_scorer),
        ("train-reader", "prepare, train and calibrate the cross-encoder reader (SQuAD v1.1 train)",
         add_train_reader_arguments, cmd_train_reader),
    )  # fmt: skip
    for name, text, add_arguments, func in heavy:
        p = add(name, text)
        if command is None or command == name:
            add_arguments(p)
        p.set_defaults(func=func)
    return parser


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from qa.eval.run import add_eval_arguments

    add_eval_arguments(parser)


def _scorer_arguments(parser: argparse.ArgumentParser) -> None:
    from qa.train.scorer import add_train_arguments

    add_train_arguments(parser)


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (skipping the main options and --index-dir's value), or None."""
    words = iter(argv)
    for word in words:
        if word in ("--index-dir", *STORE_ARGS):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `qa` console script; returns the exit code."""
    from index.models import IndexStoreError

    argv = list(sys.argv[1:] if argv is None else argv)
    command = command_of(argv)
    parser = build_parser(command if command not in (None, "-h", "--help") else None)
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "step", None) == "train":
        args.train_args = [*extra, *args.train_args]  # the trainer's own options, --help included
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except IndexStoreError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
