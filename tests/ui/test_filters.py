"""The metadata filter of the chat and of the `/ask` endpoint: how FIELD=VALUE conditions are read and checked
against the corpus's fields, and what the handlers answer with them over articles that carry a category."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qa.models import Answer, SearchFilter
from tests.ui.server import HARBOUR_QUESTION, free_port, harbour_assistant
from ui.api import public_answer
from ui.app import build_app, launch
from ui.arguments import metadata_conditions, search_filter
from ui.handlers import chat_messages

KNOWN = {"category": ["business", "sport"], "section": ["shipping"], "tags": ["ferry, strike"]}
SKIPPED = {"__type__": "update"}  # gr.skip(): the component keeps what it shows


@pytest.fixture(scope="module")
def harbour(encoder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return harbour_assistant(encoder, tmp_path_factory.mktemp("harbour"))


def _handler(app: Any, name: str) -> Any:
    return next(block_fn.fn for block_fn in app.fns.values() if getattr(block_fn.fn, "__name__", "") == name)


def _cited(answers: list[Answer]) -> list[str]:
    return [s.citation.article_id for s in answers[-1].sentences]


# --- reading the conditions ---------------------------------------------------------------------------------------


def test_conditions_are_read_as_ingest_stores_metadata() -> None:
    assert metadata_conditions("category=business", KNOWN) == {"category": "business"}
    both = {"category": "business", "section": "shipping"}
    assert metadata_conditions(" Category = business ; Section=shipping ", KNOWN) == both
    assert metadata_conditions("category=business, section=shipping", KNOWN) == both
    assert metadata_conditions("category=business\nsection=shipping\n", KNOWN) == both
    # A comma inside a value (a list of tags is stored joined) does not start a new condition; quotes go.
    assert metadata_conditions('tags=ferry, strike, category="sport"', KNOWN) == {
        "tags": "ferry, strike",
        "category": "sport",
    }
    assert metadata_conditions("category=business; category=business", KNOWN) == {"category": "business"}
    assert metadata_conditions("  ", KNOWN) == {}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("category business", "Metadata filter 'category business': write FIELD=VALUE, e.g. category=business."),
        ("category=", "Metadata filter 'category=': give the value after '=', e.g. category=business."),
        (
            "categry=sport",
            "Metadata filter: no article has a field 'categry'. Did you mean category? "
            "The corpus's fields: category, section, tags.",
        ),
        ("source=Port News", "Metadata filter: source is not a metadata field; narrow by source with the sources"),
        ("published=2021-04-01", "Metadata filter: published is not a metadata field; narrow by date with the from"),
        (
            "category=business; category=sport",
            "Metadata filter: category is given two values (business, sport); an article has one value per field",
        ),
    ],
)
def test_a_bad_condition_says_what_to_write(typed: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        metadata_conditions(typed, KNOWN)
    assert str(refused.value).startswith(message), str(refused.value)


def test_a_corpus_without_fields_says_it_has_none_to_filter_on() -> None:
    with pytest.raises(ValueError, match="where: no article has a field 'category': the articles in the corpus hold"):
        metadata_conditions("category=business", {}, "where")


def test_search_filter_combines_sources_dates_and_fields() -> None:
    assert search_filter(["Port News"], "2021-04-01", "", {"category": "sport"}) == SearchFilter(
        sources=["Port News"], date_from="2021-04-01", fields={"category": "sport"}
    )
    assert search_filter(None, "", "", {"category": "sport"}) == SearchFilter(fields={"category": "sport"})
    assert search_filter(None, "", "", {}) is None


# --- the chat's handler over a corpus with categories -------------------------------------------------------------


def test_the_chat_answers_within_the_metadata_filter_follow_ups_too(harbour) -> None:  # type: ignore[no-untyped-def]
    respond = _handler(build_app(harbour), "respond")
    unfiltered = respond(HARBOUR_QUESTION, [], None, "", "", 3, "", "")[2]
    assert _cited(unfiltered)[0] == "harbour-cargo-march"  # the business report wins without a filter

    box, messages, answers, shown, _, _ = respond(HARBOUR_QUESTION, [], None, "", "", 3, "", "category=sport")
    assert box == "" and shown == 0 and len(messages) == 2
    assert _cited(answers) == ["harbour-regatta-march"]
    assert "The harbour regatta drew" in messages[1]["content"]
    # The box keeps the filter, so the follow-up is asked with it as well.
    answers = respond("and in April?", answers, None, "", "", 3, "", "Category = sport")[2]
    assert answers[-1].understood_question == "How many came to the harbour in April?"
    assert _cited(answers) == ["harbour-regatta-april"]
    assert all(s.citation.fields["category"] == "sport" for s in answers[-1].sentences)

    # Source and date filters still apply, together with the metadata filter.
    answers = respond("How many containers did the harbour handle?", [], ["Port News"], "2021-05-01", "", 3, "",
                      "category=business")[2]  # fmt: skip
    assert _cited(answers) == ["harbour-cargo-april"]
    messages, elsewhere = respond(HARBOUR_QUESTION, [], ["Another Paper"], "", "", 3, "", "category=sport")[1:3]
    assert elsewhere[-1].found is False
    assert "Only articles with category=sport were searched." in messages[-1]["content"]


def test_a_reply_found_nothing_under_a_metadata_filter_says_what_was_searched(harbour) -> None:  # type: ignore[no-untyped-def]
    """A value is matched exactly: "Sport" finds no article, and the note under the reply lists the values."""
    respond = _handler(build_app(harbour), "respond")
    box, messages, answers = respond(HARBOUR_QUESTION, [], None, "", "", 3, "", "category=Sport")[:3]
    assert box == "" and answers[-1].found is False  # asked and answered: nothing in that category
    assert len(messages) == 3 and "qa-not-found" in messages[1]["content"]
    assert messages[2]["content"] == (
        '<div class="qa-notice" role="alert">Only articles with category=Sport were searched. Values are matched '
        "exactly; the values listed are category: business, sport.</div>"
    )
    found = respond(HARBOUR_QUESTION, answers, None, "", "", 3, "", "category=sport")[1]
    assert len(found) == 4 and "qa-notice" not in "".join(m["content"] for m in found)  # the note was for that turn


def test_a_bad_metadata_filter_is_a_note_under_the_conversation(harbour) -> None:  # type: ignore[no-untyped-def]
    respond = _handler(build_app(harbour), "respond")
    answers = respond(HARBOUR_QUESTION, [], None, "", "", 3, "", "category=sport")[2]

    refused = respond("and in April?", answers, None, "", "", 3, "", "categry=sport")
    box, messages, kept, shown, citations, article = refused
    assert box == SKIPPED and kept == SKIPPED and shown == SKIPPED  # the question stays in its box; no answer added
    assert citations == SKIPPED and article == SKIPPED
    assert messages[:-1] == chat_messages(answers)  # the conversation so far, unchanged
    assert 'class="qa-notice"' in messages[-1]["content"]
    assert "no article has a field &#x27;categry&#x27;. Did you mean category?" in messages[-1]["content"]
    assert "The corpus&#x27;s fields: category, section." in messages[-1]["content"]

    notes = [respond("and in April?", answers, None, "", "", 3, "", typed)[1][-1]["content"] for typed in
             ("category", "x" * 1001)]  # fmt: skip
    assert "write FIELD=VALUE, e.g. category=business." in notes[0]
    assert "Metadata filter is 1,001 characters long; the limit is 1,000" in notes[1]


def test_an_index_that_keeps_no_fields_refuses_the_filter_in_the_chat(  # type: ignore[no-untyped-def]
    harbour, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index written before articles' fields were stored cannot apply the filter: the assistant refuses it
    (never answering from outside it), and the chat says so in a note instead of failing the event."""
    import qa.assistant

    app = build_app(harbour)
    respond, ask = _handler(app, "respond"), _handler(app, "ask")
    monkeypatch.setattr(qa.assistant, "filters_on_fields", lambda store: False)
    messages = respond(HARBOUR_QUESTION, [], None, "", "", 3, "", "category=sport")[1]
    assert "Metadata filter: this index cannot filter on metadata (category=sport)" in messages[-1]["content"]
    import gradio as gr

    with pytest.raises(gr.Error, match=r"where: this index cannot filter on metadata \(category=sport\)"):
        ask(HARBOUR_QUESTION, where="category=sport")


# --- the /ask endpoint -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harbour_client(harbour) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    app = build_app(harbour)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        yield Client(url, verbose=False, download_files=False)
    finally:
        app.close()


def test_ask_endpoint_takes_a_metadata_filter(harbour, harbour_client) -> None:  # type: ignore[no-untyped-def]
    from gradio_client.exceptions import AppError

    sport = SearchFilter(fields={"category": "sport"})
    result = harbour_client.predict(HARBOUR_QUESTION, where="category=sport", api_name="/ask")
    assert result == public_answer(harbour.answer(HARBOUR_QUESTION, search_filter=sport))
    assert [s["citation"]["article_id"] for s in result["sentences"]] == ["harbour-regatta-march"]
    with pytest.raises(AppError, match=r"where: no article has a field 'categry'\. Did you mean category\?"):
        harbour_client.predict(HARBOUR_QUESTION, where="categry=sport", api_name="/ask")


def test_the_field_list_names_the_corpus_fields_and_some_values(harbour) -> None:  # type: ignore[no-untyped-def]
    assert harbour.stats().fields == {"category": ["business", "sport"], "section": ["sailing", "shipping"]}
    refresh = _handler(build_app(harbour), "refresh")
    listed = refresh()[2]
    assert "<code>category</code>: business, sport</li>" in listed
    assert "<code>section</code>: sailing, shipping</li>" in listed
