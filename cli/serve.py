"""`qa serve`: the web chat and its REST API."""

from __future__ import annotations

import argparse
import os
import sys

from cli.options import AddCommand, settings_of


def cmd_serve(args: argparse.Namespace) -> int:
    if args.index_dir:
        os.environ["QA_INDEX_DIR"] = str(args.index_dir)
    from ui.guard import allowed_hosts, trusted_proxies
    from ui.server import serve, sign_in

    try:
        # Checked here too, so a half-set sign-in, a malformed host list or settings file is one line, not a
        # traceback.
        settings = settings_of(args)
        ui = settings.ui
        sign_in(ui)
        allowed_hosts(ui.allowed_hosts)
        trusted_proxies(ui.trusted_proxies)
    except ValueError as exc:
        print(f"qa serve: {exc}", file=sys.stderr)
        return 2
    serve(host=args.host or ui.host, port=args.port or ui.port, settings=settings)
    return 0


def add_serve_command(add: AddCommand, parents: list[argparse.ArgumentParser]) -> None:
    """`qa serve [--host H] [--port P]`."""
    p = add("serve", "start the web chat (and its REST API)", parents=parents)
    p.add_argument(
        "--host", default=None,
        help="address to bind (default $QA_UI_HOST, newsqa.toml's [ui] host, or 127.0.0.1; 0.0.0.0 serves every "
        "interface)",
    )  # fmt: skip
    p.add_argument("--port", type=int, default=None, help="port to listen on (default $QA_UI_PORT, [ui] port, or 7860)")
    p.set_defaults(func=cmd_serve)
