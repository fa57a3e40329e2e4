"""The web server's guard: refuse requests for hosts the chat was not bound to, and throttle failed sign-ins.

`RequestGuard` is a pure ASGI middleware (installed by `ui.app.launch`). A request whose Host, or Origin when
present, names a host other than those `served_hosts` gives for the bind address (plus the `allowed_hosts`
setting, QA_UI_ALLOWED_HOSTS) gets
403: a page on another site cannot reach the chat through DNS rebinding or a cross-site form. With a sign-in,
`LoginThrottle` counts failed POSTs to /login per client IP and answers 429 for a cool-down after too many, and
the routes gradio leaves open (`/openapi.json`, the session heartbeat) answer 401 until the visitor signed in.

The client IP is the connection's peer. uvicorn would replace it with the X-Forwarded-For a loopback client
sends, which let anyone on the machine pick a fresh address per guess; `launch` trusts that header only from
the proxies named in the `trusted_proxies` setting, QA_UI_TRUSTED_PROXIES (none by default); `allowed_hosts` and
`trusted_proxies` check those settings (newsqa/settings.py, `UISettings`) when the chat starts.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsqa.settings import UISettings

__all__ = [
    "LoginThrottle",
    "RequestGuard",
    "allowed_hosts",
    "host_name",
    "served_hosts",
    "trusted_proxies",
]

ALLOWED_HOSTS_ENV = UISettings.variable("allowed_hosts")  # QA_UI_ALLOWED_HOSTS
TRUSTED_PROXIES_ENV = UISettings.variable("trusted_proxies")  # QA_UI_TRUSTED_PROXIES
# Routes gradio serves without its sign-in check: the API schema and the session heartbeat.
SIGNED_IN_ONLY = ("/openapi.json", "/gradio_api/heartbeat/")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
LOGIN_PATHS = frozenset({"/login", "/login/"})
JSON_PATHS = ("/api/v1/", "/healthz")  # the REST API's errors are JSON (ui/api.py)
LOGIN_MAX_FAILURES = 5  # failed sign-ins from one IP within LOGIN_WINDOW_S before it must wait
LOGIN_WINDOW_S = 60.0
LOGIN_COOLDOWN_S = 60.0
_HOST_NAME = re.compile(r"[a-z0-9._:-]+")  # what a DNS name or an IP address is written with


def allowed_hosts(items: Iterable[str]) -> list[str]:
    """The `allowed_hosts` setting's host names, lower-case and without ports; ValueError names one that is not
    a host name."""
    names: list[str] = []
    for item in items:
        if not item.strip():
            continue
        name = host_name(item)
        if name is None:
            raise ValueError(
                f"{ALLOWED_HOSTS_ENV}: {item.strip()!r} is not a host name; list names such as news.example, "
                "separated by commas"
            )
        names.append(name)
    return names


def trusted_proxies(items: Iterable[str]) -> list[str]:
    """The `trusted_proxies` setting: addresses (or networks) of reverse proxies whose X-Forwarded-For names the
    real client, as networks; ValueError names one that is neither."""
    found: list[str] = []
    for item in items:
        if not item.strip():
            continue
        try:
            found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ValueError(
                f"{TRUSTED_PROXIES_ENV}: {item.strip()!r} is not an IP address or network; list the proxies' "
                "addresses, separated by commas"
            ) from None
    return found


def host_name(value: str) -> str | None:
    """The lower-case host name in a Host header or an origin, without the port ("[::1]:7860" -> "::1"), or None."""
    text = value.strip()
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        name = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    name = name.rstrip(".")
    return name if _HOST_NAME.fullmatch(name) else None


def served_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str] | None:
    """The host names a server bound to `bind_host` answers to, plus `extra`; None means any host.

    A loopback bind serves localhost, 127.0.0.1 and ::1; another address serves that address; 0.0.0.0 or ::
    serves any host unless `extra` names some (then those, the loopback names and the bind address).
    """
    bind = bind_host.strip().strip("[]").lower()
    names = frozenset(name for name in (host_name(e) for e in extra) if name)
    if bind in WILDCARD_BINDS:
        return LOOPBACK_HOSTS | names | {bind} if names else None
    try:
        loopback = ipaddress.ip_address(bind).is_loopback
    except ValueError:
        loopback = bind == "localhost"
    return (LOOPBACK_HOSTS if loopback else frozenset()) | names | {bind}


class LoginThrottle:
    """Counts failed sign-ins per client IP: after `max_failures` within `window_s` seconds that IP must wait
    `cooldown_s` seconds; a success clears its count. Thread-safe; `clock` is injectable for tests."""

    def __init__(
        self,
        max_failures: int = LOGIN_MAX_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        cooldown_s: float = LOGIN_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window_s, self.cooldown_s, self.clock = max_failures, window_s, cooldown_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, ip: str) -> float:
        """Seconds `ip` must still wait before its next sign-in attempt is checked; 0 when it may try now."""
        with self._lock:
            until = self._blocked_until.get(ip)
            if until is None:
                return 0.0
            left = until - self.clock()
            if left > 0:
                return left
            del self._blocked_until[ip]
            self._failures.pop(ip, None)
            return 0.0

    def failed(self, ip: str) -> None:
        """Count a failed sign-in from `ip`; the one that reaches the limit starts its cool-down."""
        with self._lock:
            now = self.clock()
            recent = self._failures.setdefault(ip, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window_s:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._blocked_until[ip] = now + self.cooldown_s
                recent.clear()
            if len(self._failures) + len(self._blocked_until) > 10_000:  # forget IPs that stopped trying
                for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window_s]:
                    del self._failures[key]
                for key in [k for k, until in self._blocked_until.items() if until <= now]:
                    del self._blocked_until[key]

    def succeeded(self, ip: str) -> None:
        """A successful sign-in from `ip` clears its count."""
        with self._lock:
            self._failures.pop(ip, None)
            self._blocked_until.pop(ip, None)


class RequestGuard:
    """Pure ASGI middleware: 403 for a Host or Origin header naming a host outside `hosts` (None: any host), which
    stops DNS-rebinding and cross-site requests; with a `throttle`, 429 for POST /login from an IP in cool-down,
    and every sign-in's outcome counted (a 2xx/3xx answer is a success, anything else a failure)."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None, throttle: LoginThrottle | None = None) -> None:
        self.app, self.hosts, self.throttle = app, hosts, throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(Headers(scope=scope))
        if reason:
            await _refuse(scope, receive, send, 403, reason)
            return
        throttle = self.throttle
        # With a sign-in (the throttle is installed exactly then), gradio's unchecked routes need one too.
        if throttle is not None and scope["path"].startswith(SIGNED_IN_ONLY) and not _signed_in(scope):
            await _refuse(scope, receive, send, 401, "sign in first")
            return
        if throttle is None or scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        ip = scope["client"][0] if scope.get("client") else "unknown"
        wait = throttle.retry_after(ip)
        if wait > 0:
            seconds = math.ceil(wait)
            message = f"too many failed sign-ins; try again in {seconds} s"
            await _refuse(scope, receive, send, 429, message, {"Retry-After": str(seconds)})
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if 200 <= message["status"] < 400:
                    throttle.succeeded(ip)
                else:
                    throttle.failed(ip)
            await send(message)

        await self.app(scope, receive, counting_send)

    def refusal(self, headers: Headers) -> str | None:
        """Why a request with these headers is refused, or None when it may go on."""
        if self.hosts is None:
            return None
        host = headers.get("host", "")
        name = host_name(host)
        if name not in self.hosts:
            return f"host not allowed: {_shown(name or host) or '(none)'}; set {ALLOWED_HOSTS_ENV} to serve it"
        origin = headers.get("origin")
        if origin is not None and host_name(origin) not in self.hosts:
            return f"origin not allowed: {_shown(origin)}; set {ALLOWED_HOSTS_ENV} to serve it"
        return None


def _signed_in(scope: Scope) -> bool:
    """Whether the request carries a session cookie the gradio app handed out at sign-in (an app that keeps no
    such tokens counts as not signed in: refusing is the safe side)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not isinstance(tokens, dict) or cookie_id is None:
        return False
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in tokens


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, reason: str, headers: dict[str, str] | None = None
) -> None:
    """Answer with `status` and a plain-text reason, or {"error": reason} for the REST API (a websocket handshake
    is denied before it is accepted)."""
    if scope.get("path", "").startswith(JSON_PATHS):
        body, kind = json.dumps({"error": reason}).encode(), b"application/json"
    else:
        body, kind = reason.encode(), b"text/plain; charset=utf-8"
    raw = [(b"content-type", kind), (b"x-content-type-options", b"nosniff")]
    raw += [(b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": raw})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})


def _shown(text: str) -> str:
    """An untrusted header value, made safe and short for a plain-text reply."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 100 else clean[:100] + "…"
