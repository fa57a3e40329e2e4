"""The REST API (ui/api.py) with httpx against the running server: answers, articles in and out, stats, health,
the OpenAPI document, sign-in, the Host guard, and errors that are always {"error": ...} with the right status."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsqa.settings import Settings
from qa.assistant import Assistant
from tests.ui.server import free_port
from ui.api import public_answer
from ui.app import build_app, launch
from ui.guard import LoginThrottle

QUESTION = "how many kilograms were seized in 2019?"
HARBOUR = [
    {
        "id": "harbour-2019",
        "title": "Heroin seizures rise again in Harbour City",
        "source": "Harbour Gazette",
        "date": "2020-01-14",
        "text": "Harbour City police seized 540 kilogrammes of heroin in 2019, according to the force's annual report "
        "released on Monday. Officers arrested 212 suspects during the year.",
    },
]


@pytest.fixture(scope="module")
def assistant(encoder, seed_assistant, tmp_path_factory: pytest.TempPathFactory) -> Assistant:  # type: ignore[no-untyped-def]
    """An assistant over its own copy of the bundled corpus (the tests add and remove articles), sharing the
    loaded model and reader."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("rest") / "index")
    return Assistant(settings, encoder=encoder, reader=seed_assistant.reader)


@pytest.fixture(scope="module")
def api(assistant: Assistant) -> Iterator[httpx.Client]:
    app = build_app(assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client
    finally:
        app.close()


def _is_error(response: httpx.Response, status: int, says: str = "") -> str:
    """The response is a JSON {"error": ...} with `status`, in words (no Python object printed in it)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    assert " object at 0x" not in body["error"] and "Traceback" not in body["error"]
    assert says.lower() in body["error"].lower(), body["error"]
    return body["error"]


def test_answer_returns_the_answer_model(api: httpx.Client, assistant: Assistant) -> None:
    response = api.post("/api/v1/answer", json={"question": QUESTION})
    assert response.status_code == 200
    assert response.json() == public_answer(assistant.answer(QUESTION))
    best = response.json()["sentences"][0]
    assert best["span"]["text"] == "720 kilogrammes" and best["citation"]["origin"].endswith(".txt")


def test_answer_takes_history_as_a_list_top_k_as_of_and_filters(api: httpx.Client, assistant: Assistant) -> None:
    first = api.post("/api/v1/answer", json={"question": QUESTION}).json()
    follow = api.post(
        "/api/v1/answer", json={"question": "and how many marijuana plants?", "history": [first], "top_k": 1}
    ).json()
    assert follow["understood_question"] != follow["question"] and len(follow["sentences"]) == 1
    as_questions = api.post(
        "/api/v1/answer", json={"question": "and how many marijuana plants?", "history": [QUESTION], "top_k": 1}
    ).json()
    assert as_questions["understood_question"] == follow["understood_question"]

    dated = api.post("/api/v1/answer", json={"question": "how many drug cases last year?", "as_of": "2020-06-01"})
    assert dated.json()["time"]["as_of"] == "2020-06-01"
    elsewhere = api.post("/api/v1/answer", json={"question": QUESTION, "filters": {"sources": ["Harbour Gazette"]}})
    assert elsewhere.status_code == 200 and elsewhere.json()["found"] is False
    inside = api.post("/api/v1/answer", json={"question": QUESTION, "filters": {"sources": ["Khmer Times"]}})
    assert inside.json()["found"] is True
    # The index keeps articles' metadata fields: a category none of its articles has leaves nothing to answer from.
    other = api.post("/api/v1/answer", json={"question": QUESTION, "filters": {"fields": {"category": "business"}}})
    assert other.status_code == 200 and other.json()["found"] is False


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"question": ""}, "question"),
        ({}, "question: field required"),
        ({"question": "x" * 1001}, "question"),
        ({"question": QUESTION, "top_k": 0}, "top_k"),
        ({"question": QUESTION, "top_k": 11}, "top_k"),
        ({"question": QUESTION, "history": "[]"}, "history"),
        ({"question": QUESTION, "as_of": "last tuesday"}, "as_of"),
        ({"question": QUESTION, "filters": {"date_from": "2019-13-01"}}, "filters.date_from"),
        ({"question": QUESTION, "filters": {"date_from": "2020-01-01", "date_to": "2019-01-01"}}, "after"),
        ({"question": QUESTION, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_question_request_is_a_422_in_words(api: httpx.Client, body: dict, says: str) -> None:
    _is_error(api.post("/api/v1/answer", json=body), 422, says)


def test_a_body_that_is_not_json_is_refused_in_words(api: httpx.Client) -> None:
    sent = api.post("/api/v1/answer", content=b"{question:", headers={"content-type": "application/json"})
    _is_error(sent, 422, "not valid JSON")
    _is_error(api.post("/api/v1/answer", content=b"question=x"), 422, "JSON object")
    _is_error(api.get("/api/v1/no-such-thing"), 404, "not found")
    _is_error(api.get("/api/v1/answer"), 405, "method not allowed")


def test_articles_are_added_read_answered_and_removed(api: httpx.Client) -> None:
    added = api.post("/api/v1/articles", json={"articles": HARBOUR})
    assert added.status_code == 200, added.text
    assert added.json()["added"] == ["harbour-2019"] and added.json()["refused"] == []
    again = api.post("/api/v1/articles", json={"articles": HARBOUR}).json()
    assert again["unchanged"] == ["harbour-2019"] and again["added"] == []

    article = api.get("/api/v1/articles/harbour-2019").json()
    assert article["title"] == HARBOUR[0]["title"] and article["date"] == "2020-01-14"
    assert article["text"].startswith("Harbour City police seized 540 kilogrammes") and "/" not in article["origin"]
    answer = api.post("/api/v1/answer", json={"question": "How many suspects did Harbour City officers arrest?"})
    best = answer.json()["sentences"][0]
    assert "212 suspects" in best["text"] and best["citation"]["article_id"] == "harbour-2019"
    assert article["text"][best["citation"]["start"] : best["citation"]["end"]] == best["text"]

    assert api.delete("/api/v1/articles/harbour-2019").json() == {"removed": ["harbour-2019"]}
    _is_error(api.get("/api/v1/articles/harbour-2019"), 404, "no article with id")
    _is_error(api.delete("/api/v1/articles/harbour-2019"), 404, "no article with id")
    assert api.get("/api/v1/stats").json()["articles"] == 1


def test_articles_that_cannot_be_added_are_refused_with_reasons(api: httpx.Client) -> None:
    _is_error(api.post("/api/v1/articles", json={"articles": []}), 422, "articles")
    _is_error(api.post("/api/v1/articles", json={"articles": [{"title": "no body"}]}), 422, "articles.0.text")
    refused = api.post("/api/v1/articles", json={"articles": [{"text": "   \n  "}]})
    assert refused.status_code == 422
    (reason,) = refused.json()["refused"]
    assert reason["record"] == 1 and reason["reason"]
    # One bad record among good ones: the good one goes in, the bad one is named.
    mixed = api.post(
        "/api/v1/articles", json={"articles": [{"text": "  "}, {**HARBOUR[0], "id": "harbour-mixed"}]}
    ).json()
    assert mixed["added"] == ["harbour-mixed"] and [r["record"] for r in mixed["refused"]] == [1]
    assert api.delete("/api/v1/articles/harbour-mixed").status_code == 200


def test_stats_and_health(api: httpx.Client) -> None:
    stats = api.get("/api/v1/stats").json()
    assert stats["articles"] == 1 and stats["sources"] == [{"name": "Khmer Times", "articles": 1}]
    assert "index_dir" not in stats  # no server paths
    assert stats["fields"] == {}  # the bundled article has no metadata fields
    assert api.get("/healthz").json() == {"status": "ok"}


def test_the_openapi_document_describes_every_field(api: httpx.Client) -> None:
    spec = api.get("/api/v1/openapi.json").json()
    assert {"/answer", "/articles", "/articles/{article_id}", "/stats"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api/v1"}]
    undescribed = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        if not name.startswith(("HTTPValidationError", "ValidationError"))  # FastAPI's own, never sent
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert not undescribed, f"fields without a description: {undescribed}"
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter["name"] == "article_id", parameter
    assert "AnswerRequest" in spec["components"]["schemas"] and "Answer" in spec["components"]["schemas"]


@pytest.fixture(scope="module")
def signed_api(assistant: Assistant) -> Iterator[httpx.Client]:
    app = build_app(assistant)
    throttle = LoginThrottle(max_failures=3, window_s=60, cooldown_s=60)
    url = launch(
        app, "127.0.0.1", free_port(), auth=("ann", "s3cret"), login_throttle=throttle, block=False, quiet=True
    )
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client
    finally:
        app.close()


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_with_a_sign_in_the_api_needs_the_same_credentials(signed_api: httpx.Client) -> None:
    assert _is_error(signed_api.get("/api/v1/stats"), 401, "sign in")
    assert signed_api.get("/api/v1/stats", headers=_basic("ann", "s3cret")).json()["articles"] >= 1
    assert signed_api.get("/healthz").status_code == 200  # for load balancers: says only "ok"
    # The chat's own sign-in (its session cookie) also opens the API.
    with httpx.Client(base_url=str(signed_api.base_url), timeout=60) as browser:
        assert browser.post("/login", data={"username": "ann", "password": "s3cret"}).status_code < 400
        assert browser.get("/api/v1/stats").status_code == 200
    for _ in range(3):
        _is_error(signed_api.get("/api/v1/stats", headers=_basic("ann", "guess")), 401, "wrong")
    # Throttled like the chat's sign-in: even the right password waits out the cool-down.
    throttled = signed_api.get("/api/v1/stats", headers=_basic("ann", "s3cret"))
    _is_error(throttled, 429, "too many failed sign-ins")
    assert int(throttled.headers["retry-after"]) > 0


def test_the_host_guard_covers_the_api_with_a_json_error(api: httpx.Client) -> None:
    refused = api.post("/api/v1/answer", json={"question": QUESTION}, headers={"Host": "evil.example"})
    _is_error(refused, 403, "host not allowed")
    cross_site = api.post("/api/v1/articles", json={"articles": HARBOUR}, headers={"Origin": "https://evil.example"})
    _is_error(cross_site, 403, "origin not allowed")
    assert api.get("/api/v1/articles/harbour-2019").status_code == 404  # nothing was added


def test_docs_curl_example_matches_the_api(api: httpx.Client) -> None:
    """The JSON body in docs/web-chat.md's curl example is one this API takes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "web-chat.md").read_text(encoding="utf-8")
    start = doc.index("curl -s -X POST http://127.0.0.1:7860/api/v1/answer")
    body = doc[doc.index("-d '", start) + 4 : doc.index("'", doc.index("-d '", start) + 4)]
    response = api.post("/api/v1/answer", json=json.loads(body))
    assert response.status_code == 200 and response.json()["found"] is True
