"""The `qa` command: ingest articles, ask questions, inspect and evaluate the index, serve the web chat.

One module per command group: `indexing` (ingest, remove, stats, repair, upgrade, compact), `ask`, `serve`,
`evaluate` (eval), `train` (train-scorer, train-reader); `options` holds what they share and `command` the parser
and `main`. Commands that need no model import no model: each module imports its heavy parts inside its commands.
"""

from cli.command import EXIT_CODES, build_parser, command_of, main

__all__ = ["EXIT_CODES", "build_parser", "command_of", "main"]
