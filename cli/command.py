"""The `qa` command line: its parser (one subcommand per command group's module), and `main`, which runs the
subcommand named and turns the product's errors into exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cli.ask import add_ask_command
from cli.evaluate import add_eval_command
from cli.indexing import add_ingest_command, add_maintenance_commands
from cli.options import STORE_ARGS, STORE_OPTION, index_dir_option
from cli.serve import add_serve_command
from cli.train import add_train_commands

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

EXIT_CODES = """exit codes:
  0  done (qa ask: every question answered)
  1  problems (e.g. nothing could be ingested, an article id not found)
  2  usage or index error (a bad option, an empty question, no index, a damaged index)
  3  not found in the corpus (qa ask)
"""


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
    index_dir = [index_dir_option()]

    def add(name: str, text: str, **kwargs: object) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=text, description=text, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    # In the order `qa --help` lists them.
    add_ingest_command(add, index_dir)
    add_ask_command(add, index_dir)
    add_maintenance_commands(add, index_dir)
    add_serve_command(add, index_dir)
    # Subcommands whose arguments come from modules that import the answering stack: their options are only
    # added when they are the command run (or listed by `qa --help`), so `qa stats` never pays for those imports.
    add_eval_command(add, command)
    add_train_commands(add, command)
    return parser


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
    from newsqa.errors import NewsQAError

    argv = list(sys.argv[1:] if argv is None else argv)
    command = command_of(argv)
    parser = build_parser(command if command not in (None, "-h", "--help") else None)
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "step", None) in ("train", "refuse"):
        args.train_args = [*extra, *args.train_args]  # the trainer's own options, --help included
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except NewsQAError as exc:  # the index's, a model's: the message says what to do
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
