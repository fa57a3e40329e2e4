"""`qa train-scorer` and `qa train-reader`: the trainers that make the shipped weights. Their options come from
the trainers' modules, imported only when one of these is the command run (or the full help is asked for)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.options import AddCommand


def cmd_train_scorer(args: argparse.Namespace) -> int:
    from training.scorer import run_train_cli

    return run_train_cli(args)


def cmd_train_reader(args: argparse.Namespace) -> int:
    if args.step == "prepare":
        from training.squad_data import write_training_file

        counts = write_training_file(args.out, args.squad_dir)
        print(f"wrote {args.out}: {counts}")
        return 0
    if args.step in ("train", "refuse"):
        if args.step == "train":
            from training.reader import main as run
        else:
            from training.reader_refusal import main as run

        # `qa train-reader train -- --help`: the "--" only separates the trainer's own options.
        train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
        return run(train_args, prog=f"qa train-reader {args.step}")
    from training.calibrate import calibrate

    calibrate(args)
    return 0


def add_train_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """`qa train-reader prepare | train | refuse | calibrate` (docs/training.md)."""
    from training.calibrate import add_arguments as add_calibrate_arguments
    from training.squad_data import DEFAULT_OUT, SQUAD_DIR

    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP", help="the step to run")
    p = steps.add_parser("prepare", help="SQuAD v1.1 train (and dev tune) split into sentences, answers by offset")
    p.add_argument("--squad-dir", type=Path, default=SQUAD_DIR, help=f"folder of the SQuAD files (default {SQUAD_DIR})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the training file to write (default {DEFAULT_OUT})")
    p = steps.add_parser(
        "train", help="fine-tune the cross-encoder (its options: qa train-reader train --help)", add_help=False
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="options of python -m training.reader")
    p = steps.add_parser(
        "refuse",
        help="go on training the reader on questions it must refuse (its options: qa train-reader refuse --help)",
        add_help=False,
    )
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="options of python -m training.reader_refusal")
    p = steps.add_parser("calibrate", help="fit blend, depth, threshold and span types on SQuAD dev's tune half")
    add_calibrate_arguments(p)


def _scorer_arguments(parser: argparse.ArgumentParser) -> None:
    from training.scorer import add_train_arguments

    add_train_arguments(parser)


def add_train_commands(add: AddCommand, command: str | None) -> None:
    """`qa train-scorer` and `qa train-reader`; a command's options are added when `command` names it or is None
    (every subcommand complete)."""
    trainers = (
        ("train-scorer", "fit the first-stage sentence scorer's weights on the SQuAD tuning half",
         _scorer_arguments, cmd_train_scorer),
        ("train-reader", "prepare, train and calibrate the cross-encoder reader (SQuAD v1.1 train)",
         add_train_reader_arguments, cmd_train_reader),
    )  # fmt: skip
    for name, text, add_arguments, func in trainers:
        p = add(name, text)
        if command is None or command == name:
            add_arguments(p)
        p.set_defaults(func=func)
