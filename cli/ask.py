"""`qa ask`: answer one question, or a file of them, with cited sentences (plain or as JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.options import AddCommand, open_assistant

if TYPE_CHECKING:
    from qa.models import Answer

# Terminal colours only when printing to a terminal.
_BOLD = "\033[1m" if sys.stdout.isatty() else ""
_HL = "\033[1;33m" if sys.stdout.isatty() else ""
_DIM = "\033[2m" if sys.stdout.isatty() else ""
_RESET = "\033[0m" if sys.stdout.isatty() else ""


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
    assistant = open_assistant(args)
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


def add_ask_command(add: AddCommand, parents: list[argparse.ArgumentParser]) -> None:
    """`qa ask QUESTION` or `qa ask --file PATH`."""
    p = add("ask", "answer questions with cited sentences", parents=parents)
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
