"""Who may call the REST API: anyone without a sign-in; with one, the chat's signed-in session (cookie) or HTTP
Basic credentials (the chat's user and password), failed ones counted in the chat's login throttle."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Callable

from fastapi import HTTPException, Request

from ui.guard import LoginThrottle


class ApiAccess:
    """Who may call the API: anyone without a sign-in; with one, the chat's signed-in session (cookie) or HTTP
    Basic credentials. `session_user(request)` reads the chat's cookie; it is set once the server runs."""

    def __init__(self, auth: tuple[str, str] | None, throttle: LoginThrottle | None = None) -> None:
        self.auth = auth
        self.throttle = throttle
        self.session_user: Callable[[Request], str | None] = lambda request: None

    def check(self, request: Request) -> None:
        """Raise 401 (or 429 while the client's IP is cooling down) unless the request may go on."""
        if self.auth is None or self.session_user(request) is not None:
            return
        ip = request.client.host if request.client else "unknown"
        if self.throttle is not None and (wait := self.throttle.retry_after(ip)) > 0:
            seconds = math.ceil(wait)
            raise HTTPException(
                429, f"too many failed sign-ins; try again in {seconds} s", {"Retry-After": str(seconds)}
            )
        given = _basic_credentials(request.headers.get("authorization", ""))
        if given is None:
            raise HTTPException(401, "sign in: send HTTP Basic credentials (the chat's user and password)", _CHALLENGE)
        user_ok = hmac.compare_digest(given[0].encode(), self.auth[0].encode())
        password_ok = hmac.compare_digest(given[1].encode(), self.auth[1].encode())
        if not (user_ok and password_ok):
            if self.throttle is not None:
                self.throttle.failed(ip)
            raise HTTPException(401, "wrong user name or password", _CHALLENGE)
        if self.throttle is not None:
            self.throttle.succeeded(ip)


_CHALLENGE = {"WWW-Authenticate": 'Basic realm="news archive", charset="UTF-8"'}


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None
