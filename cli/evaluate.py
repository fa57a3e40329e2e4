"""`qa eval`: score the answerer on a gold set or SQuAD. Its options come from the evaluation's runner, imported
only when this is the command run (or the full help is asked for)."""

from __future__ import annotations

import argparse

from cli.options import AddCommand


def cmd_eval(args: argparse.Namespace) -> int:
    from evaluation.run import run_eval_cli

    return run_eval_cli(args)


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from evaluation.run import add_eval_arguments

    add_eval_arguments(parser)


def add_eval_command(add: AddCommand, command: str | None) -> None:
    """`qa eval`; its options are added when `command` is "eval" or None (every subcommand complete)."""
    p = add("eval", "score the answerer on a gold set or SQuAD")
    if command is None or command == "eval":
        _eval_arguments(p)
    p.set_defaults(func=cmd_eval)
