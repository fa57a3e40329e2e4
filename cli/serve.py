"""`qa serve`: the web chat and its REST API."""

from __future__ import annotations

import argparse
import os
import sys

from cli.options import AddCommand, settings_of


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
        settings_of(args)
        host = args.host or ui_default("host", "127.0.0.1")
        port = args.port or int(ui_default("port", "7860"))
    except ValueError as exc:
        print(f"qa serve: {exc}", file=sys.stderr)
        return 2
    serve(host=host, port=port, settings=settings_of(args))
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
