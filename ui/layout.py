"""The chat page's layout and the wiring of its events: `build_app(assistant)` gives the Gradio Blocks to launch.

The page: a header with the corpus facts; the chat on the left (the conversation, the question box, the As-of
date, New conversation and Export); tabs on the right (Sources: the cited article; Filters: sources, dates,
metadata and sentences per answer; Add articles: uploads). No model loading and no search logic here: the events
call `ui.handlers.ChatHandlers`. The chat, the `ask` API endpoint and the upload ingest run on separate queue
workers, so an upload that is still ingesting never holds up anybody's question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from newsqa.settings import Settings
from qa.assistant import Assistant
from ui.api import ApiAccess, api_routes
from ui.api_page import describe_api_parameters
from ui.arguments import MAX_AS_OF_CHARS, MAX_QUESTION_CHARS, MAX_TOP_K, MAX_WHERE_CHARS
from ui.examples import example_questions
from ui.handlers import NO_ARTICLE_YET, ChatHandlers
from ui.render import empty_article
from ui.uploads import UPLOAD_CAP_FACTOR, UPLOAD_SUFFIXES, upload_help

__all__ = ["CHAT_WORKERS", "build_app"]

CHAT_WORKERS = 2  # questions answered at once; uploads have their own single worker
# The page's own events are private: `/ask` is the only public gradio endpoint.
CHAT_EVENTS: dict[str, Any] = {"concurrency_id": "chat", "concurrency_limit": CHAT_WORKERS, "api_visibility": "private"}
VIEW_EVENTS: dict[str, Any] = {"concurrency_limit": None, "api_visibility": "private"}

_SCROLL_TO_CITED = """() => {
  setTimeout(() => {
    const mark = document.getElementById('qa-cited-sentence');
    const box = mark && mark.closest('.qa-text');
    if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  }, 80);
}"""


@dataclass
class ChatColumn:
    """The left column: the conversation and what is typed to continue it."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    ask_button: gr.Button
    active_filters: gr.HTML
    as_of: gr.Textbox
    as_of_today: gr.Button
    as_of_latest: gr.Button
    new_chat: gr.Button
    export_button: gr.Button
    exported: gr.File


@dataclass
class SideTabs:
    """The right column's tabs: the cited article, the filters, the uploads."""

    citation: gr.Radio
    article_view: gr.HTML
    source_filter: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    where: gr.Textbox
    fields_listed: gr.HTML
    top_k: gr.Slider
    files: gr.File
    add_button: gr.Button
    ingest_result: gr.HTML


@dataclass
class ChatPage:
    """Every component an event reads or writes, with the per-visitor state (the answers, the reply shown)."""

    answers: gr.State
    shown: gr.State
    corpus_facts: gr.HTML
    chat: ChatColumn
    side: SideTabs


def build_app(
    assistant: Assistant, settings: Settings | None = None, examples: Sequence[str] | None = None
) -> gr.Blocks:
    """The chat page over `assistant`; call `launch(app)` (or `app.launch`) to serve it.

    Args:
        assistant: answers the questions and ingests uploads; shared by every visitor.
        settings: upload limits and the bundled corpus (for example questions); default `assistant.settings`.
        examples: questions offered on the empty chat; default `example_questions(settings)`.
    """
    settings = settings or assistant.settings
    examples = list(examples) if examples is not None else example_questions(settings)
    handlers = ChatHandlers(assistant, settings)
    with gr.Blocks(title="News archive QA", analytics_enabled=False, fill_width=True) as app:
        page = _lay_out(handlers, settings, examples)
        _wire_conversation(page, handlers)
        _wire_panels(app, page, handlers)
        gr.api(handlers.ask, api_name="ask", concurrency_id="chat", concurrency_limit=CHAT_WORKERS)
        describe_api_parameters(app, "ask", handlers.ask)
    app.queue(default_concurrency_limit=1)
    # The REST API's routes, served beside the page by `launch` (which sets who may call them).
    app.api_access = ApiAccess(None)  # type: ignore[attr-defined]
    app.api_routes = api_routes(assistant, settings, app.api_access)  # type: ignore[attr-defined]
    # The browser refuses a whole selection when one file is over gradio's limit, so that limit is only a hard
    # cap against filling the disk; files over QA_MAX_FILE_BYTES arrive and are refused one by one, with reasons.
    app.max_file_size = UPLOAD_CAP_FACTOR * settings.index.max_file_bytes
    return app


# --- the layout ---------------------------------------------------------------------------------------------------
def _lay_out(handlers: ChatHandlers, settings: Settings, examples: Sequence[str]) -> ChatPage:
    answers = gr.State([])
    shown = gr.State(-1)
    with gr.Row(equal_height=False, elem_id="qa-header"):
        gr.Markdown(
            "## News archive QA\nAnswers are exact sentences from the articles, with their sources.",
            elem_id="qa-title",
        )
        corpus_facts = gr.HTML(handlers.facts(), elem_id="qa-facts")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = _chat_column(examples)
        with gr.Column(scale=2), gr.Tabs():
            side = _side_tabs(handlers, settings)
    return ChatPage(answers, shown, corpus_facts, chat, side)


def _chat_column(examples: Sequence[str]) -> ChatColumn:
    chatbot = gr.Chatbot(
        value=[],
        label="Chat",
        elem_id="qa-chat",
        height=560,
        examples=[{"text": q} for q in examples] or None,
        placeholder="Ask about the news in the corpus, or pick an example.",
        buttons=[],
        feedback_options=None,
        latex_delimiters=[],
        group_consecutive_messages=False,
        allow_file_downloads=False,
    )
    with gr.Row():
        question = gr.Textbox(
            show_label=False,
            placeholder="Ask a question, e.g. how many kilograms were seized in 2019?",
            elem_id="qa-question",
            scale=6,
            autofocus=True,
            max_length=MAX_QUESTION_CHARS,
        )
        ask_button = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
    active_filters = gr.HTML("", visible=False, elem_id="qa-active-filters")
    as_of, as_of_today, as_of_latest = _as_of_row()
    with gr.Row(elem_id="qa-conversation-row"):
        new_chat = gr.Button("New conversation", size="sm", elem_id="qa-new")
        export_button = gr.Button("Export", size="sm", elem_id="qa-export")
    exported = gr.File(
        label="The conversation with its citations (Markdown and JSON)",
        file_count="multiple",
        interactive=False,
        visible=False,
        elem_id="qa-exported",
    )
    return ChatColumn(
        chatbot, question, ask_button, active_filters, as_of, as_of_today, as_of_latest, new_chat, export_button,
        exported,
    )  # fmt: skip


def _as_of_row() -> tuple[gr.Textbox, gr.Button, gr.Button]:
    """The As-of date box with its Today and Latest article buttons."""
    with gr.Row(equal_height=False, elem_id="qa-as-of-row"):
        as_of = gr.Textbox(
            value="",  # filled in on each page load: a server up since yesterday says today
            label="As of",
            info="Questions are answered as of this day (empty: today): “last month” counts from it. "
            "A date, a month, “last tuesday” or “latest”.",
            placeholder='YYYY-MM-DD, "2019-03", "last tuesday" or "latest"',
            elem_id="qa-as-of",
            scale=3,
            max_length=MAX_AS_OF_CHARS,
        )
        as_of_today = gr.Button("Today", size="sm", elem_id="qa-as-of-today", scale=1, min_width=60)
        as_of_latest = gr.Button("Latest article", size="sm", elem_id="qa-as-of-latest", scale=1, min_width=100)
    return as_of, as_of_today, as_of_latest


def _side_tabs(handlers: ChatHandlers, settings: Settings) -> SideTabs:
    with gr.Tab("Sources", id="sources"):
        citation = gr.Radio(
            choices=[],
            label="Citations",
            info="Of the last reply; click an earlier reply in the chat to see its citations.",
            elem_id="qa-citations",
            interactive=True,
        )
        article_view = gr.HTML(empty_article(NO_ARTICLE_YET), elem_id="qa-article")
    with gr.Tab("Filters", id="filters"):
        source_filter, date_from, date_to, where, fields_listed = _filter_boxes(handlers)
        chosen = min(settings.answering.top_k, MAX_TOP_K)  # the answering settings' default, within the /ask limit
        top_k = gr.Slider(1, max(5, chosen), value=chosen, step=1, label="Sentences per answer", elem_id="qa-top-k")
    with gr.Tab("Add articles", id="upload"):
        gr.Markdown(upload_help(settings))
        files = gr.File(file_count="multiple", file_types=UPLOAD_SUFFIXES, type="filepath", elem_id="qa-files")
        add_button = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
        ingest_result = gr.HTML(elem_id="qa-ingest-result")
    return SideTabs(
        citation, article_view, source_filter, date_from, date_to, where, fields_listed, top_k, files, add_button,
        ingest_result,
    )  # fmt: skip


def _filter_boxes(handlers: ChatHandlers) -> tuple[gr.Dropdown, gr.Textbox, gr.Textbox, gr.Textbox, gr.HTML]:
    """Sources, the date range and the metadata conditions, with the fields the corpus holds listed below."""
    source_filter = gr.Dropdown(
        choices=handlers.source_choices(),
        multiselect=True,
        label="Sources (none selected: all)",
        elem_id="qa-filter-sources",
    )
    with gr.Row():
        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="qa-from")
        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="qa-to")
    where = gr.Textbox(
        label="Metadata",
        info="FIELD=VALUE, e.g. category=business; several separated by commas or semicolons, "
        "all must hold. Applies to every question, follow-ups too, until cleared.",
        placeholder="category=business",
        elem_id="qa-where",
        max_length=MAX_WHERE_CHARS,
    )
    fields_listed = gr.HTML(handlers.field_list(), elem_id="qa-field-list")
    return source_filter, date_from, date_to, where, fields_listed


# --- the events ---------------------------------------------------------------------------------------------------
def _wire_conversation(page: ChatPage, handlers: ChatHandlers) -> None:
    """Asking (the box, the button, an example), picking an earlier reply or a citation, starting over."""
    chat, side = page.chat, page.side
    chat_inputs = [
        chat.question, page.answers, side.source_filter, side.date_from, side.date_to, side.top_k, chat.as_of,
        side.where,
    ]  # fmt: skip
    chat_outputs = [chat.question, chat.chatbot, page.answers, page.shown, side.citation, side.article_view]
    for trigger in (chat.question.submit, chat.ask_button.click):
        trigger(handlers.respond, chat_inputs, chat_outputs, **CHAT_EVENTS).then(
            None, js=_SCROLL_TO_CITED, api_visibility="private"
        )
    chat.chatbot.example_select(handlers.respond_to_example, chat_inputs[1:], chat_outputs, **CHAT_EVENTS).then(
        None, js=_SCROLL_TO_CITED, api_visibility="private"
    )
    chat.chatbot.select(
        handlers.select_reply, [page.answers], [page.shown, side.citation, side.article_view], **VIEW_EVENTS
    ).then(None, js=_SCROLL_TO_CITED, api_visibility="private")
    side.citation.input(
        handlers.show_citation, [page.answers, page.shown, side.citation], [side.article_view], **VIEW_EVENTS
    ).then(None, js=_SCROLL_TO_CITED, api_visibility="private")
    for trigger in (chat.new_chat.click, chat.chatbot.clear):
        trigger(
            handlers.restart, None, [chat.chatbot, page.answers, page.shown, side.citation, side.article_view],
            **VIEW_EVENTS,
        )  # fmt: skip


def _wire_panels(app: gr.Blocks, page: ChatPage, handlers: ChatHandlers) -> None:
    """Uploads, export, the As-of buttons, the active-filter line, and what each page load fills in."""
    chat, side = page.chat, page.side
    side.add_button.click(
        handlers.add_articles,
        [side.files],
        [side.ingest_result, page.corpus_facts, side.source_filter, side.fields_listed, side.files],
        concurrency_id="ingest",
        concurrency_limit=1,
        api_visibility="private",
    )
    chat.export_button.click(handlers.export, [page.answers], [chat.exported], **VIEW_EVENTS)
    chat.as_of_latest.click(handlers.latest_article_date, None, [chat.as_of], **VIEW_EVENTS)
    chat.as_of_today.click(handlers.today, None, [chat.as_of], **VIEW_EVENTS)
    gr.on(
        [side.source_filter.change, side.date_from.change, side.date_to.change, side.where.change],
        handlers.show_active_filters,
        [side.source_filter, side.date_from, side.date_to, side.where],
        [chat.active_filters],
        show_progress="hidden",
        **VIEW_EVENTS,
    )
    app.load(
        handlers.refresh,
        None,
        [page.corpus_facts, side.source_filter, side.fields_listed, chat.as_of],
        show_progress="hidden",
        **VIEW_EVENTS,
    )
