"""Starting the web chat: `launch(app, ...)` serves a built page with the offline theme, the chat's styles, the
REST API beside it and the request guard in front; `serve(host, port)` builds the page over an assistant and
launches it, as `qa serve` does, with the sign-in, host names and proxies of the settings' `ui` section
(`UISettings`: QA_UI_* variables or newsqa.toml's [ui] table).

`RequestGuard` (installed by `launch`) refuses requests for hosts the server was not bound to (DNS rebinding,
cross-site origins) and throttles failed sign-ins per client IP.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from newsqa.settings import Settings, UISettings
from qa.assistant import Assistant
from ui.api_access import ApiAccess
from ui.guard import LoginThrottle, RequestGuard, allowed_hosts, served_hosts, trusted_proxies
from ui.layout import build_app
from ui.render import CSS, HEAD

__all__ = ["launch", "offline_theme", "serve", "sign_in"]

USERNAME_ENV = UISettings.variable("username")  # QA_UI_USERNAME
PASSWORD_ENV = UISettings.variable("password")  # QA_UI_PASSWORD


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    auth: tuple[str, str] | None = None,
    allowed_hosts: Iterable[str] = (),
    login_throttle: LoginThrottle | None = None,
    trusted_proxies: Iterable[str] = (),
    block: bool = True,
    quiet: bool = False,
) -> str:
    """Serve `app` with the offline theme and the chat's styles; returns the local URL.

    Requests whose Host or Origin is not a host the server was bound to (plus `allowed_hosts`) are refused; with
    `auth`, failed sign-ins are throttled per client IP (`login_throttle`, default `LoginThrottle()`), and the
    API schema and heartbeat need a sign-in too. The client IP is the connection's peer; X-Forwarded-For is
    believed only from `trusted_proxies` (addresses or networks of reverse proxies in front of the chat).
    `block=False` returns once the server is up (close it with `app.close()`).
    """
    # uvicorn (started by gradio) reads the proxies it believes from this variable, and by default believes any
    # loopback client: without this, one local client could claim a new address for every sign-in attempt.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(trusted_proxies)
    throttle = (login_throttle or LoginThrottle()) if auth else None
    guard = Middleware(RequestGuard, hosts=served_hosts(host, allowed_hosts), throttle=throttle)
    # The REST API (ui/api.py) rides on the same server: the same guard, sign-in and throttle.
    access: ApiAccess | None = getattr(app, "api_access", None)
    routes = list(getattr(app, "api_routes", []))
    if access is not None:
        access.auth, access.throttle = auth, throttle
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to the news archive chat." if auth else None,
        prevent_thread_lock=not block,
        share=False,
        inbrowser=False,
        quiet=quiet,
        show_error=True,
        theme=offline_theme(),
        css=CSS,
        head=HEAD,
        max_file_size=app.max_file_size,
        enable_monitoring=False,
        footer_links=["api", "settings"],
        mcp_server=False,
        ssr_mode=False,
        pwa=False,
        run_history=False,
        app_kwargs={"middleware": [guard], "routes": routes},
    )
    if access is not None:
        access.session_user = _session_user(app.server_app)
    return url


def _session_user(server: Any) -> Any:
    """Reads the chat's sign-in cookie: the user a request's session belongs to, or None."""

    def user(request: Any) -> str | None:
        cookies = request.cookies
        token = cookies.get(f"access-token-{server.cookie_id}") or cookies.get(
            f"access-token-unsecure-{server.cookie_id}"
        )
        return server.tokens.get(token) if token else None

    return user


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    *,
    block: bool = True,
    quiet: bool = False,
) -> gr.Blocks:
    """Start the web chat at http://host:port (127.0.0.1 unless told otherwise); what `qa serve` runs.

    The assistant is made from `settings` (QA_* environment and newsqa.toml) when not given. The sign-in, extra
    host names and trusted proxies are `settings.ui`'s (read now when no settings are given): with a username
    and a password, visitors must sign in with them. Blocks until the server stops unless `block=False`; returns
    the app (its URL is `app.local_url`; stop it with `app.close()`).
    """
    ui = settings.ui if settings is not None else UISettings.read()
    auth = sign_in(ui)  # a half-set sign-in fails before the model is loaded
    extra_hosts = allowed_hosts(ui.allowed_hosts)
    proxies = trusted_proxies(ui.trusted_proxies)
    settings = settings or (assistant.settings if assistant else Settings())
    assistant = assistant or Assistant(settings)
    assistant.reader  # noqa: B018 - loaded now, not while the first visitor waits for an answer
    app = build_app(assistant, settings)
    launch(app, host, port, auth=auth, allowed_hosts=extra_hosts, trusted_proxies=proxies, block=block, quiet=quiet)
    return app


def offline_theme() -> gr.themes.Base:
    """Gradio's base look with system fonts only: nothing is fetched from a font CDN."""
    return gr.themes.Base(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def sign_in(ui: UISettings) -> tuple[str, str] | None:
    """(username, password) the visitors must sign in with, or None when neither is set; ValueError for one
    without the other."""
    username = ui.username or ""
    password = ui.password.get_secret_value() if ui.password is not None else ""
    if not username and not password:
        return None
    if not username or not password:
        raise ValueError(f"set both {USERNAME_ENV} and {PASSWORD_ENV} to require a sign-in, or neither")
    return username, password
