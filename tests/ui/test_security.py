"""The real server's guards over HTTP: the Host/Origin check (DNS rebinding), sign-in throttling, and uploads
deleted once ingested (not served back from gradio's file route)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsqa.settings import UISettings
from tests.ui.server import free_port
from ui.app import build_app, launch
from ui.guard import LoginThrottle, RequestGuard, allowed_hosts, host_name, served_hosts, trusted_proxies

HOST_REFUSED = "host not allowed: evil.example; set QA_UI_ALLOWED_HOSTS to serve it"
ORIGIN_REFUSED = "origin not allowed: https://evil.example; set QA_UI_ALLOWED_HOSTS to serve it"
ARTICLE = (
    "Harbour Gazette ferry timetable\n\nThe Brannock Point ferry will run every forty minutes from the first of "
    "March, the harbour board said on Monday.\n\nThe board said the change follows complaints about crowded "
    "crossings during the summer."
)


@pytest.fixture(scope="module")
def server_url(seed_assistant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = build_app(seed_assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        yield url.rstrip("/")
    finally:
        app.close()


def uploads_named(name: str) -> list[Path]:
    from gradio.utils import get_upload_folder

    return list(Path(get_upload_folder()).rglob(name))


# --- Host and Origin ---------------------------------------------------------------------------------------------


def test_a_request_for_another_host_is_refused(server_url: str) -> None:
    port = httpx.URL(server_url).port
    with httpx.Client(base_url=server_url, timeout=10) as http:
        for host in ("evil.example", f"evil.example:{port}", "EVIL.example."):
            refused = http.get("/", headers={"Host": host})
            assert refused.status_code == 403, host
            assert refused.text == HOST_REFUSED
            assert refused.headers["content-type"].startswith("text/plain")
        assert http.get("/config", headers={"Host": "evil.example"}).status_code == 403
        # The names a loopback bind answers to, with or without the port.
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}"):
            page = http.get("/", headers={"Host": host})
            assert page.status_code == 200, host
            assert "News archive QA" in page.text
        same_site = http.get("/config", headers={"Origin": f"http://localhost:{port}"})
        assert same_site.status_code == 200 and same_site.json()["title"] == "News archive QA"


def test_a_cross_site_upload_is_refused_and_nothing_is_stored(server_url: str) -> None:
    name = f"cross-site-{uuid.uuid4().hex}.txt"
    with httpx.Client(base_url=server_url, timeout=10) as http:
        refused = http.post(
            "/gradio_api/upload",
            files={"files": (name, ARTICLE.encode(), "text/plain")},
            headers={"Origin": "https://evil.example"},
        )
        assert refused.status_code == 403 and refused.text == ORIGIN_REFUSED
        time.sleep(0.5)  # gradio moves an accepted upload into place after answering; give it the chance
        assert uploads_named(name) == []

        # The same upload from the page's own origin is stored: the check above can see a stored file.
        accepted = http.post(
            "/gradio_api/upload",
            files={"files": (name, ARTICLE.encode(), "text/plain")},
            headers={"Origin": server_url},
        )
        assert accepted.status_code == 200
        stored = Path(accepted.json()[0])
        assert _eventually(stored.exists) and stored.name == name
    stored.unlink()


def test_qa_ui_allowed_hosts_adds_hosts(seed_assistant, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from ui.app import serve

    monkeypatch.setenv("QA_UI_ALLOWED_HOSTS", "news.example, Intranet.Example:8443")
    app = serve(port=free_port(), assistant=seed_assistant, block=False, quiet=True)
    try:
        with httpx.Client(base_url=str(app.local_url), timeout=10) as http:
            assert http.get("/", headers={"Host": "news.example"}).status_code == 200
            assert http.get("/", headers={"Host": "intranet.example:7860"}).status_code == 200
            assert http.get("/", headers={"Origin": "https://news.example"}).status_code == 200
            assert http.get("/").status_code == 200  # 127.0.0.1 still works
            refused = http.get("/", headers={"Host": "evil.example"})
            assert refused.status_code == 403 and refused.text == HOST_REFUSED
    finally:
        app.close()


def test_serve_takes_the_host_names_and_sign_in_of_the_settings_it_is_given(
    seed_assistant, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from newsqa.settings import UISettings
    from ui.app import serve

    for name in ("QA_UI_ALLOWED_HOSTS", "QA_UI_USERNAME", "QA_UI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    ui = UISettings(allowed_hosts=["news.example"], username="desk", password="s3cret")
    settings = seed_assistant.settings.model_copy(update={"ui": ui})
    app = serve(port=free_port(), assistant=seed_assistant, settings=settings, block=False, quiet=True)
    try:
        with httpx.Client(base_url=str(app.local_url), timeout=10) as http:
            assert http.get("/config", headers={"Host": "news.example"}).status_code == 401  # served, signed in only
            assert http.get("/", headers={"Host": "evil.example"}).text == HOST_REFUSED
    finally:
        app.close()


def allowed_hosts_from_env(environ: dict[str, str]) -> list[str]:
    return allowed_hosts(UISettings.read(environ, config=False).allowed_hosts)


def trusted_proxies_from_env(environ: dict[str, str]) -> list[str]:
    return trusted_proxies(UISettings.read(environ, config=False).trusted_proxies)


def test_allowed_hosts_come_from_the_environment_and_the_bind_address() -> None:
    assert allowed_hosts_from_env({}) == []
    assert allowed_hosts_from_env({"QA_UI_ALLOWED_HOSTS": " News.Example ,, [::1], 10.0.0.5:80 "}) == [
        "news.example",
        "::1",
        "10.0.0.5",
    ]
    with pytest.raises(ValueError, match=r"QA_UI_ALLOWED_HOSTS: 'https://news.example/chat' is not a host name"):
        allowed_hosts_from_env({"QA_UI_ALLOWED_HOSTS": "https://news.example/chat"})

    loopback = {"localhost", "127.0.0.1", "::1"}
    assert served_hosts("127.0.0.1") == loopback
    assert served_hosts("localhost") == loopback
    assert served_hosts("::1") == served_hosts("[::1]") == loopback
    assert served_hosts("192.168.1.5") == {"192.168.1.5"}
    assert served_hosts("192.168.1.5", ["news.example"]) == {"192.168.1.5", "news.example"}
    assert served_hosts("0.0.0.0") is None and served_hosts("::") is None  # any host
    assert served_hosts("0.0.0.0", ["news.example"]) == loopback | {"0.0.0.0", "news.example"}

    assert host_name("Example.ORG:8080") == "example.org"
    assert host_name("http://[::1]:7860") == "::1"
    assert host_name("null") == "null"
    for bad in ("", "a b", "evil.example/x", "user@localhost", "localhost:port", "[::1"):
        assert host_name(bad) is None, bad
    from starlette.datastructures import Headers

    guard = RequestGuard(lambda *_: None, served_hosts("127.0.0.1"))  # type: ignore[arg-type]
    assert guard.refusal(Headers(headers={})) == "host not allowed: (none); set QA_UI_ALLOWED_HOSTS to serve it"
    assert guard.refusal(Headers(headers={"host": "localhost", "origin": "null"})) == (
        "origin not allowed: null; set QA_UI_ALLOWED_HOSTS to serve it"
    )


def test_a_websocket_handshake_for_another_host_is_denied() -> None:
    called: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["type"])

    async def handshake(host: str, extensions: dict[str, Any]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", host.encode())], "extensions": extensions}
        await RequestGuard(inner, served_hosts("127.0.0.1"))(scope, receive, send)
        return sent

    closed = asyncio.run(handshake("evil.example", {}))
    assert closed == [{"type": "websocket.close", "code": 1008, "reason": HOST_REFUSED}]
    answered = asyncio.run(handshake("evil.example", {"websocket.http.response": {}}))
    assert answered[0]["type"] == "websocket.http.response.start" and answered[0]["status"] == 403
    assert answered[1]["body"] == HOST_REFUSED.encode()
    assert called == []
    assert asyncio.run(handshake("localhost:7860", {})) == [] and called == ["websocket"]


# --- Sign-in throttling ------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_throttle_counts_failures_per_ip_within_the_window() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=5, window_s=60, cooldown_s=60, clock=clock)
    for _ in range(4):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0
    clock.now += 61  # those four are now outside the window
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0
    for _ in range(4):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 60
    assert throttle.retry_after("10.0.0.2") == 0  # another IP is not affected
    clock.now += 59.5
    assert throttle.retry_after("10.0.0.1") == 0.5
    clock.now += 1
    assert throttle.retry_after("10.0.0.1") == 0
    # After the cool-down the count starts afresh; a success clears it too.
    for _ in range(4):
        throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    for _ in range(4):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0


def test_failed_sign_ins_are_throttled_per_client_ip(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    app = build_app(seed_assistant)
    url = launch(
        app,
        "127.0.0.1",
        free_port(),
        auth=("desk", "s3cret"),
        login_throttle=LoginThrottle(clock=clock),
        block=False,
        quiet=True,
    )
    wrong = {"username": "desk", "password": "wrong"}
    right = {"username": "desk", "password": "s3cret"}
    # Linux routes all of 127.0.0.0/8 to loopback: a second client address needs no network.
    other_ip = httpx.HTTPTransport(local_address="127.0.0.2")
    try:
        with httpx.Client(base_url=url, timeout=10) as http, httpx.Client(base_url=url, transport=other_ip) as other:
            for path in ("login", "login/", "login", "login/", "login"):
                assert http.post(path, data=wrong).status_code == 400
            throttled = http.post("login", data=right)  # not even checked
            assert throttled.status_code == 429
            assert throttled.text == "too many failed sign-ins; try again in 60 s"
            assert throttled.headers["retry-after"] == "60"
            assert http.post("login/", data=right).status_code == 429
            assert http.get("config").status_code == 401  # no cookie was handed out
            assert other.post("login", data=right).status_code == 200  # another IP signs in as usual

            clock.now += 30
            assert http.post("login", data=right).text == "too many failed sign-ins; try again in 30 s"
            clock.now += 31
            assert http.post("login", data=right).status_code == 200
            assert http.get("config").status_code == 200

            # A success resets the count: 4 failures, a success, 4 more failures are never throttled.
            codes = [http.post("login", data=wrong).status_code for _ in range(4)]
            codes.append(http.post("login", data=right).status_code)
            codes += [http.post("login", data=wrong).status_code for _ in range(4)]
            assert codes == [400] * 4 + [200] + [400] * 4
    finally:
        app.close()


def test_a_forged_x_forwarded_for_neither_escapes_the_throttle_nor_is_believed_without_a_trusted_proxy(
    seed_assistant,  # type: ignore[no-untyped-def]
) -> None:
    wrong = {"username": "desk", "password": "wrong"}
    right = {"username": "desk", "password": "s3cret"}
    app = build_app(seed_assistant)
    url = launch(app, "127.0.0.1", free_port(), auth=("desk", "s3cret"), block=False, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            codes = [
                http.post("login", data=wrong, headers={"X-Forwarded-For": f"10.9.{i}.{i}"}).status_code
                for i in range(8)
            ]
            assert codes == [400] * 5 + [429] * 3, "a new claimed address per guess must not reset the count"
            forged = http.post("login", data=right, headers={"X-Forwarded-For": "10.9.99.99"})
            assert forged.status_code == 429
    finally:
        app.close()

    # Behind a configured proxy its X-Forwarded-For names the client: clients are counted apart.
    app = build_app(seed_assistant)
    url = launch(
        app, "127.0.0.1", free_port(), auth=("desk", "s3cret"), trusted_proxies=["127.0.0.1"], block=False, quiet=True
    )
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            for _ in range(5):
                assert http.post("login", data=wrong, headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 400
            assert http.post("login", data=right, headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429
            assert http.post("login", data=right, headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 200
    finally:
        app.close()
    assert trusted_proxies_from_env({"QA_UI_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"}) == [
        "127.0.0.1/32",
        "10.0.0.0/8",
    ]
    with pytest.raises(ValueError, match="QA_UI_TRUSTED_PROXIES: 'nginx' is not an IP address"):
        trusted_proxies_from_env({"QA_UI_TRUSTED_PROXIES": "nginx"})


def test_with_a_sign_in_the_api_schema_and_the_heartbeat_need_it_too(seed_assistant, server_url: str) -> None:  # type: ignore[no-untyped-def]
    app = build_app(seed_assistant)
    url = launch(app, "127.0.0.1", free_port(), auth=("desk", "s3cret"), block=False, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            for path in ("openapi.json", "gradio_api/heartbeat/abc123"):
                refused = http.get(path)
                assert refused.status_code == 401 and refused.text == "sign in first", path
            http.cookies.set(f"access-token-{app.app.cookie_id}", "made-up")  # a cookie gradio never handed out
            assert http.get("gradio_api/heartbeat/abc").status_code == 401
            http.cookies.clear()
            assert http.post("login", data={"username": "desk", "password": "s3cret"}).status_code == 200
            schema = http.get("openapi.json")
            assert schema.status_code == 200 and "paths" in schema.json()
            assert http.get("api/v1/openapi.json").status_code == 200  # the REST API's, with the session cookie
            with http.stream("GET", "gradio_api/heartbeat/abc123") as beating:
                assert beating.status_code == 200
        with httpx.Client(base_url=url, timeout=10) as stranger:
            assert stranger.get("api/v1/openapi.json").status_code == 401
            signed = stranger.get("api/v1/openapi.json", auth=("desk", "s3cret"))  # or HTTP Basic
            assert signed.status_code == 200 and "/answer" in signed.json()["paths"]
    finally:
        app.close()
    with httpx.Client(base_url=server_url, timeout=10) as http:  # without a sign-in nothing changes
        assert http.get("openapi.json").status_code == 200


def test_the_chat_event_refuses_a_question_longer_than_the_box_allows(server_url: str, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    app = build_app(seed_assistant)
    fn_index = _fn_index(app, "respond")
    with httpx.Client(base_url=server_url, timeout=30) as http:
        message = _run_event_message(http, fn_index, ["x " * 500_000, [], [], "", "", 3, "", ""])
    # Refused as a notice in the chat (the conversation kept), never answered.
    said = json.dumps(message)
    assert "question is 999,999 characters long; the limit is 1,000" in said  # once stripped
    assert '"found"' not in said


def test_without_a_sign_in_login_posts_are_not_throttled(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=10) as http:
        codes = {http.post("login", data={"username": "x", "password": "y"}).status_code for _ in range(7)}
    assert codes == {302}  # gradio's redirect when no sign-in is configured


# --- Uploads are deleted once ingested -----------------------------------------------------------------------------


def test_uploaded_files_are_deleted_after_ingest_and_not_served_back(encoder, settings_factory) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    assistant = Assistant(settings_factory(max_file_bytes=4096), encoder=encoder)  # a throwaway index
    app = build_app(assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    tag = uuid.uuid4().hex[:8]
    uploads = {
        f"ferry-{tag}.txt": ARTICLE.encode(),  # accepted and ingested
        f"empty-{tag}.md": b"",  # refused: empty
        f"big-{tag}.txt": b"Big\n\n" + b"A sentence that repeats. " * 400,  # refused: over 4 KiB
    }
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            sent = http.post(
                "gradio_api/upload", files=[("files", (name, data, "text/plain")) for name, data in uploads.items()]
            )
            assert sent.status_code == 200
            paths = [Path(p) for p in sent.json()]
            assert [p.name for p in paths] == list(uploads)
            assert _eventually(lambda: all(p.exists() for p in paths))
            before = http.get(f"gradio_api/file={paths[0]}")
            assert before.status_code == 200 and "forty minutes" in before.text  # served back until ingested

            # "Add to the corpus", the way the page sends it: through the queue, as the private event it is.
            files = [{"path": str(p), "orig_name": p.name, "meta": {"_type": "gradio.FileData"}} for p in paths]
            output = _run_event(http, _fn_index(app, "add_articles"), [files])
            assert "1 added" in output[0]
            assert f"empty-{tag}.md: the file is empty" in output[0]
            assert f"big-{tag}.txt: 10 KiB is over the 4 KiB limit per file" in output[0]

            for path in paths:  # accepted and refused alike
                assert not path.exists(), path
                after = http.get(f"gradio_api/file={path}")
                assert 400 <= after.status_code < 500, (path, after.status_code)
                assert "forty minutes" not in after.text
            assert all(uploads_named(name) == [] for name in uploads)
        # The text lives on in the index.
        answer = assistant.answer("How often will the Brannock Point ferry run?")
        assert answer.found and "every forty minutes" in answer.sentences[0].text
    finally:
        app.close()


def _fn_index(app: Any, name: str) -> int:
    return next(index for index, block_fn in app.fns.items() if getattr(block_fn.fn, "__name__", "") == name)


def _run_event(http: httpx.Client, fn_index: int, data: list[Any]) -> list[Any]:
    """Join the queue for event `fn_index` and read its server-sent events until it completes; its output."""
    message = _run_event_message(http, fn_index, data)
    assert message.get("success"), message
    return list(message["output"]["data"])


def _run_event_message(http: httpx.Client, fn_index: int, data: list[Any]) -> dict[str, Any]:
    """The queue's closing message for event `fn_index` run on `data` (success or not)."""
    session = uuid.uuid4().hex
    joined = http.post("gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session})
    assert joined.status_code == 200, joined.text
    with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}, timeout=120) as events:
        for line in events.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return dict(message)
    raise AssertionError("the event never completed")


def _eventually(check: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())
