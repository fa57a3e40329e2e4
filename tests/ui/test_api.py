"""The chat's `ask` API endpoint through `gradio_client`, and the input checks behind the page's handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsqa.settings import UISettings
from qa.models import Answer, SearchFilter
from tests.ui.server import free_port
from ui.api import public_answer
from ui.app import build_app, example_questions, launch
from ui.arguments import parse_history, search_filter
from ui.handlers import chat_messages
from ui.server import sign_in
from ui.uploads import MAX_UPLOAD_FILES, check_uploads

QUESTION = "how many kilograms were seized in 2019?"


@pytest.fixture(scope="module")
def server_url(seed_assistant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = build_app(seed_assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        yield url
    finally:
        app.close()


@pytest.fixture(scope="module")
def client(server_url: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(server_url, verbose=False, download_files=False)


def test_the_sentences_slider_starts_at_the_answering_settings_top_k(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from newsqa.settings import AnsweringSettings

    def slider(settings: object = None) -> object:
        app = build_app(seed_assistant, settings)  # type: ignore[arg-type]
        return next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "qa-top-k")

    assert slider().value == 3  # type: ignore[attr-defined]
    two = seed_assistant.settings.model_copy(update={"answering": AnsweringSettings(top_k=2)})
    assert slider(two).value == 2  # type: ignore[attr-defined]


def test_ask_endpoint_returns_what_answer_returns(client, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    expected = seed_assistant.answer(QUESTION)
    result = client.predict(QUESTION, api_name="/ask")

    # The same Answer, except that a citation's origin names the file, not where it sits on the server.
    origin = expected.sentences[0].citation.origin
    assert origin is not None and origin.startswith("/")
    assert all(s["citation"]["origin"] == Path(origin).name for s in result["sentences"])
    for sentence in result["sentences"]:
        sentence["citation"]["origin"] = origin
    assert Answer.model_validate(result) == expected
    assert result["found"] is True
    first = result["sentences"][0]
    assert first["text"] == expected.sentences[0].text
    assert "720 kilogrammes" in first["text"]
    assert first["span"] == expected.sentences[0].span.model_dump(mode="json")
    assert first["citation"]["title"] == "Sar Kheng cautions against freeing suspects in minor drug crimes"


def test_ask_endpoint_uses_history_for_follow_ups(client, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    first = seed_assistant.answer(QUESTION)
    follow_up = "and how many marijuana plants?"
    expected = seed_assistant.answer(follow_up, history=[first], top_k=2)

    with_answers = client.predict(follow_up, json.dumps([first.model_dump(mode="json")]), 2, api_name="/ask")
    with_questions = client.predict(question=follow_up, history_json=json.dumps([QUESTION]), top_k=2, api_name="/ask")
    assert with_answers == public_answer(expected)
    assert with_questions == public_answer(seed_assistant.answer(follow_up, history=[QUESTION], top_k=2))
    assert len(with_answers["sentences"]) <= 2


def test_ask_endpoint_abstains_off_corpus_and_applies_filters(client, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    result = client.predict("What is the capital of France?", api_name="/ask")
    assert result["found"] is False and result["sentences"] == []
    assert result["message"].startswith("Not found in the corpus")

    narrowed = client.predict(QUESTION, sources="Another Paper", api_name="/ask")
    assert Answer.model_validate(narrowed) == seed_assistant.answer(
        QUESTION, search_filter=SearchFilter(sources=["Another Paper"])
    )
    assert narrowed["found"] is False


def test_ask_endpoint_reports_bad_input(client) -> None:  # type: ignore[no-untyped-def]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history_json is not valid JSON"):
        client.predict(QUESTION, "[not json", api_name="/ask")
    with pytest.raises(AppError, match="write it as YYYY-MM-DD"):
        client.predict(QUESTION, date_from="07/01/2020", api_name="/ask")
    with pytest.raises(AppError, match="top_k must be between 1 and 10"):
        client.predict(QUESTION, top_k=0, api_name="/ask")
    # One limit for a question, whichever way it comes (the chat's box has the same), and nothing echoed back.
    with pytest.raises(AppError, match="question is 100,000 characters long; the limit is 1,000"):
        client.predict("x" * 100_000, api_name="/ask")
    with pytest.raises(AppError, match=r"top_k must be a whole number, not 2\.7"):
        client.predict(QUESTION, top_k=2.7, api_name="/ask")
    with pytest.raises(AppError, match="history_json is nested too deeply"):
        client.predict(QUESTION, "[" * 50_000 + "]" * 50_000, api_name="/ask")
    assert client.predict(QUESTION, top_k=3.0, sources=None, api_name="/ask")["found"]
    with pytest.raises(AppError, match="as_of: 'someday soon' is not a date the assistant can read; write a day"):
        client.predict(QUESTION, as_of="someday soon", api_name="/ask")
    with pytest.raises(AppError, match=r"as_of 9999-12-31 is outside the dates .* \(1500-01-01 to 2500-12-31\)"):
        client.predict("How many cases this year?", as_of="9999-12-31", api_name="/ask")
    # What the chat's box takes, the endpoint takes: a date in words, a month, "latest".
    assert client.predict(QUESTION, as_of="1 June 2020", api_name="/ask")["time"]["as_of"] == "2020-06-01"
    assert client.predict(QUESTION, as_of="2019-03", api_name="/ask")["time"]["as_of"] == "2019-03-31"
    # The bundled article has no metadata fields: a metadata filter is refused with that reason, not answered.
    with pytest.raises(AppError, match="where: no article has a field 'category': the articles in the corpus hold"):
        client.predict(QUESTION, where="category=business", api_name="/ask")
    with pytest.raises(AppError, match="where 'category': write FIELD=VALUE"):
        client.predict(QUESTION, where="category", api_name="/ask")


def test_ask_endpoint_answers_as_of_a_date(client) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    dated = client.predict("How many drug cases were recorded last year?", as_of="2020-06-01", api_name="/ask")
    assert dated["time"]["as_of"] == "2020-06-01"
    assert dated["time"]["expression"] == "last year" and dated["time"]["label"] == "2019"
    today = client.predict(QUESTION, api_name="/ask")
    assert today["time"]["as_of"] == date.today().isoformat()


def test_ask_endpoint_is_documented_for_clients(client) -> None:  # type: ignore[no-untyped-def]
    api = client.view_api(print_info=False, return_format="dict")
    assert "/ask" in api["named_endpoints"]
    names = [p["parameter_name"] for p in api["named_endpoints"]["/ask"]["parameters"]]
    assert names == ["question", "history_json", "top_k", "sources", "date_from", "date_to", "as_of", "where"]
    # The page's own handlers are not part of the public API.
    assert set(api["named_endpoints"]) == {"/ask"}


def test_search_filter_checks_dates() -> None:
    assert search_filter(None, "", " ") is None
    assert search_filter(["Khmer Times"], "2019-01-01", "2019-12-31") == SearchFilter(
        sources=["Khmer Times"], date_from="2019-01-01", date_to="2019-12-31"
    )
    with pytest.raises(ValueError, match=r"From date '2019-13-01' is not a date; write it as YYYY-MM-DD"):
        search_filter(None, "2019-13-01", "")
    with pytest.raises(ValueError, match="after To date"):
        search_filter(None, "2020-01-01", "2019-01-01")


def test_parse_history_accepts_questions_and_answers(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seed_assistant.answer(QUESTION)
    history = parse_history(json.dumps([QUESTION, answer.model_dump(mode="json")]))
    assert history == [QUESTION, answer]
    assert parse_history("") == []
    with pytest.raises(ValueError, match="must be a JSON list"):
        parse_history('{"question": "x"}')
    with pytest.raises(ValueError, match="item 1 must be a question"):
        parse_history("[3]")


def test_uploads_are_checked_for_type_size_and_count(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Title\n\nSome article text.")
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * 2048)
    empty = tmp_path / "empty.md"
    empty.write_text("")
    pdf = tmp_path / "report.odt"
    pdf.write_bytes(b"PK")

    accepted, refused = check_uploads([good, big, empty, pdf, tmp_path / "gone.html"], max_bytes=1024)
    assert accepted == [good]
    assert refused == [
        "big.jsonl: 2 KiB is over the 1 KiB limit per file",
        "empty.md: the file is empty",
        "report.odt: '.odt' files are not supported; upload .docx, .htm, .html, .json, .jsonl, .md, .pdf, .txt",
        "gone.html: the upload did not arrive; try again",
    ]
    accepted, refused = check_uploads([good] * (MAX_UPLOAD_FILES + 1), max_bytes=1024)
    assert len(accepted) == MAX_UPLOAD_FILES and "more than 50 files at once" in refused[0]


def auth_from_env(environ: dict[str, str]) -> tuple[str, str] | None:
    return sign_in(UISettings.read(environ, config=False))


def test_auth_comes_from_the_environment() -> None:
    assert auth_from_env({}) is None
    assert auth_from_env({"QA_UI_USERNAME": "desk", "QA_UI_PASSWORD": "s3cret"}) == ("desk", "s3cret")
    with pytest.raises(ValueError, match="set both QA_UI_USERNAME and QA_UI_PASSWORD"):
        auth_from_env({"QA_UI_USERNAME": "desk"})


def test_examples_come_from_the_bundled_gold_set_and_are_answered(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    examples = example_questions(seed_assistant.settings)
    assert 1 <= len(examples) <= 4
    for question in examples:
        assert seed_assistant.answer(question).found, question


def test_the_examples_are_bundled_gold_questions_of_different_kinds() -> None:
    from evaluation.gold import BUNDLED_GOLD, load_gold
    from ui.examples import BUNDLED_CORPUS_EXAMPLES

    gold = {item.question: item for item in load_gold(BUNDLED_GOLD)}
    chosen = [gold[question] for question in BUNDLED_CORPUS_EXAMPLES]  # each one a gold question
    assert all(item.answerable and not item.history for item in chosen)
    assert len({item.type for item in chosen}) == len(chosen), "one example per kind of answer"


def test_chat_transcript_alternates_questions_and_replies(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answers = [seed_assistant.answer(QUESTION), seed_assistant.answer("What is the capital of France?")]
    messages = chat_messages(answers)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert "720 kilogrammes" in messages[1]["content"] and "qa-not-found" in messages[3]["content"]


def test_serve_binds_locally_and_asks_for_the_password_from_the_environment(
    seed_assistant, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from ui.app import serve

    monkeypatch.setenv("QA_UI_USERNAME", "desk")
    monkeypatch.setenv("QA_UI_PASSWORD", "s3cret")
    port = free_port()
    app = serve(port=port, assistant=seed_assistant, block=False, quiet=True)
    try:
        url = str(app.local_url)
        assert url == f"http://127.0.0.1:{port}/"
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("config").status_code == 401
            assert http.post("login", data={"username": "desk", "password": "wrong"}).status_code == 400
            assert http.post("login", data={"username": "desk", "password": "s3cret"}).status_code == 200
            assert http.get("config").status_code == 200
    finally:
        app.close()


def test_qa_serve_with_half_a_sign_in_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    monkeypatch.setenv("QA_UI_USERNAME", "editor")
    monkeypatch.delenv("QA_UI_PASSWORD", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa serve: set both QA_UI_USERNAME and QA_UI_PASSWORD") and err.count("\n") == 1


def test_qa_serve_with_a_malformed_host_list_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    monkeypatch.delenv("QA_UI_USERNAME", raising=False)
    monkeypatch.delenv("QA_UI_PASSWORD", raising=False)
    monkeypatch.setenv("QA_UI_ALLOWED_HOSTS", "https://news.example/path")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa serve: ") and "QA_UI_ALLOWED_HOSTS" in err and err.count("\n") == 1


def test_the_api_page_describes_each_parameter_of_ask(server_url: str) -> None:
    """What gradio's "Use via API" page shows for /ask: each parameter under its own name, with its description
    from the endpoint's docstring (not "the input value provided in the '1st' Api component" alone)."""
    import httpx

    info = httpx.get(f"{server_url.rstrip('/')}/gradio_api/info", timeout=30).json()
    parameters = info["named_endpoints"]["/ask"]["parameters"]
    names = [p["parameter_name"] for p in parameters]
    assert names == ["question", "history_json", "top_k", "sources", "date_from", "date_to", "as_of", "where"]
    assert [p["label"] for p in parameters] == names
    described = {p["parameter_name"]: p["python_type"]["description"] for p in parameters}
    assert described["question"] == "the question as a user would type it."
    assert "JSON list of questions (strings) or earlier results" in described["history_json"]
    assert '"last tuesday" or "latest"' in described["as_of"]
    assert 'FIELD=VALUE (e.g. "category=business")' in described["where"]
    assert all(len(text) > 20 for text in described.values()), described
