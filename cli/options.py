"""The options every index command shares (--index-dir, --store) and what they select: the settings and the
assistant a command works on."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsqa.settings import Settings
    from qa.assistant import Assistant

# `add(name, help text, **add_parser options)`: makes a subcommand's parser, its help text and the exit codes
# shown alike for every command (`cli.command.build_parser` passes it to each command group).
AddCommand = Callable[..., argparse.ArgumentParser]

STORE_ARGS = ("--store",)
STORE_OPTION = {
    "choices": ("local", "milvus"),
    "help": "where the index is kept: local segments (FAISS) or Milvus at $QA_MILVUS_URI (default: $QA_STORE or local)",
}


def index_dir_option() -> argparse.ArgumentParser:
    """--index-dir, accepted before or after the subcommand. SUPPRESS: an absent option after the subcommand must
    not reset a value given before it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--index-dir", type=Path, default=argparse.SUPPRESS, help="index directory (default: $QA_INDEX_DIR or the "
        "user data folder)",
    )  # fmt: skip
    parent.add_argument(*STORE_ARGS, default=argparse.SUPPRESS, **STORE_OPTION)  # type: ignore[arg-type]
    return parent


def settings_of(args: argparse.Namespace) -> Settings:
    """The index settings, with --index-dir and --store over the environment and newsqa.toml."""
    from newsqa.settings import Settings

    chosen: dict[str, object] = {}
    if getattr(args, "index_dir", None):
        chosen["index_dir"] = Path(args.index_dir)
    if getattr(args, "store", None):
        chosen["store"] = args.store
    return Settings(**chosen)  # type: ignore[arg-type]


def open_assistant(args: argparse.Namespace, auto_ingest: bool = True) -> Assistant:
    """The assistant over the chosen index; a warning the index carries (e.g. an older format) goes to stderr."""
    from qa.assistant import Assistant

    assistant = Assistant(settings_of(args), auto_ingest=auto_ingest)
    warning = assistant.store.facts().warning if assistant.store is not None else None
    if warning:
        print(f"qa: warning: {warning}", file=sys.stderr)
    return assistant
