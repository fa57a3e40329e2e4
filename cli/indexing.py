"""`qa ingest`, `qa remove`, `qa stats`, `qa repair`, `qa upgrade` and `qa compact`: the commands that fill,
inspect and maintain the index."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli.options import AddCommand, open_assistant, settings_of


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.encoder import load_encoder
    from index.ingest import Ingestor
    from index.readers.json_records import parse_field_map

    try:
        field_map = parse_field_map(args.field or ())
    except ValueError as exc:
        print(f"qa ingest: {exc}", file=sys.stderr)
        return 2
    settings = settings_of(args)
    paths = [Path(p) for p in args.paths]
    ingestor = Ingestor(load_encoder(settings), settings)
    if args.ray is None:
        report = ingestor.ingest(
            paths, settings.index.index_dir, rebuild=args.rebuild, show_progress=not args.quiet, field_map=field_map,
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
            ingestor, paths, settings.index.index_dir, address=address, rebuild=args.rebuild,
            show_progress=not args.quiet, field_map=field_map, follow_symlinks=args.follow_symlinks,
        )  # fmt: skip
    print(report.summary())
    print(f"index: {settings.index.index_dir}")
    nothing_in = not (report.added or report.updated or report.unchanged)
    return 1 if report.problems and nothing_in else 0


def cmd_remove(args: argparse.Namespace) -> int:
    assistant = open_assistant(args, auto_ingest=False)
    report = assistant.remove(args.ids)
    print(report.summary().replace("updated", "removed", 1))
    return 1 if report.problems else 0


def cmd_stats(args: argparse.Namespace) -> int:
    assistant = open_assistant(args, auto_ingest=False)
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

    settings = settings_of(args)
    if not has_index(settings):
        raise IndexNotFoundError(f"no index at {settings.index.index_dir}; create one with: qa ingest PATH")
    if not needs_upgrade(settings):
        # A current index (or one too old to read back, which opening it reports with what to do).
        print(f"qa upgrade: the index at {settings.index.index_dir} is current ({layout(settings)}); nothing to do")
        return 0
    from index.encoder import load_encoder
    from index.ingest import Ingestor

    report = Ingestor(load_encoder(settings), settings).upgrade(settings.index.index_dir)
    print(report.summary().replace("added", "re-embedded", 1))
    return 1 if report.problems and not report.added else 0


def cmd_compact(args: argparse.Namespace) -> int:
    from index.encoder import load_encoder
    from index.ingest import Ingestor

    settings = settings_of(args)
    started = time.perf_counter()
    before = Ingestor(load_encoder(settings), settings).compact(settings.index.index_dir)
    took = time.perf_counter() - started
    print(f"qa compact: {before} segment{'s' if before != 1 else ''} merged into one in {took:.1f} s")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from index.storage import open_admin

    print(f"qa repair: {open_admin(settings_of(args)).repair()}")
    return 0


def add_ingest_command(add: AddCommand, parents: list[argparse.ArgumentParser]) -> None:
    """`qa ingest PATH...`."""
    p = add("ingest", "add or update articles from files and folders", parents=parents)
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


def add_maintenance_commands(add: AddCommand, parents: list[argparse.ArgumentParser]) -> None:
    """`qa remove`, `qa stats`, `qa repair`, `qa upgrade` and `qa compact`."""
    p = add("remove", "remove articles by id", parents=parents)
    p.add_argument("ids", nargs="+", help="article ids (listed by qa stats --articles)")
    p.set_defaults(func=cmd_remove)

    p = add("stats", "what the index holds", parents=parents)
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.add_argument("--articles", action="store_true", help="also list every article with its id")
    p.set_defaults(func=cmd_stats)

    p = add(
        "repair", "check every index file against its checksum; make the last intact snapshot live if not",
        parents=parents,
    )  # fmt: skip
    p.set_defaults(func=cmd_repair)

    p = add("upgrade", "rebuild an index of an older format from the articles it stores", parents=parents)
    p.set_defaults(func=cmd_upgrade)

    p = add("compact", "merge the index's segments into one, leaving out deleted articles", parents=parents)
    p.set_defaults(func=cmd_compact)
