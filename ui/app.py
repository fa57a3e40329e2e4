"""The web chat: a Gradio page over `Assistant.answer()` that shows the evidence behind every reply.

`build_app(assistant)` lays out the page and wires its events (no model loading, no search logic here);
`launch(app, ...)` starts it with the offline theme and styles; `serve(host, port)` does both for `qa serve`.
The chat, the `ask` API endpoint and the upload ingest run on separate queue workers, so an upload that is
still ingesting never holds up anybody's question. `RequestGuard` (installed by `launch`) refuses requests for
hosts the server was not bound to (DNS rebinding, cross-site origins) and throttles failed sign-ins per client IP.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

# Before gradio is imported: no usage analytics and no version check (the chat must work offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr
from gradio.components.api_component import Api
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from index.metadata import DATE_KEYS, SOURCE_KEYS, field_key, scalar_text
from index.readers import SUPPORTED_SUFFIXES
from index.settings import Settings, config_table
from qa.assistant import Assistant
from qa.models import Answer, SearchFilter
from qa.when import as_of_date, read_as_of
from ui.api import ApiAccess, api_routes, public_answer
from ui.export import write_conversation
from ui.guard import LoginThrottle, RequestGuard, allowed_hosts_from_env, served_hosts, trusted_proxies_from_env
from ui.render import (
    CSS,
    HEAD,
    citation_choices,
    empty_article,
    render_active_filters,
    render_answer,
    render_article,
    render_corpus_facts,
    render_field_list,
    render_ingest_result,
    render_notice,
    render_question,
)

__all__ = ["build_app", "example_questions", "launch", "serve"]

USERNAME_ENV = "QA_UI_USERNAME"
PASSWORD_ENV = "QA_UI_PASSWORD"
UPLOAD_SUFFIXES = sorted(SUPPORTED_SUFFIXES)
CHAT_WORKERS = 2  # questions answered at once; uploads have their own single worker
MAX_UPLOAD_FILES = 50
MAX_TOP_K = 10
# One limit for a question wherever it comes from: the chat's box and the /ask API.
MAX_QUESTION_CHARS = 1000
MAX_HISTORY_CHARS = 200_000
MAX_WHERE_CHARS = 1000
MAX_AS_OF_CHARS = 40  # "the last day of the previous month" fits; the box never cuts what was typed shorter
UPLOAD_CAP_FACTOR = 4  # uploads this many times QA_MAX_FILE_BYTES are stopped by the browser before sending

# Metadata conditions are separated by ";" or a new line, or by "," where the next one starts with "FIELD=": a
# value may hold commas itself (a list of tags is stored as "ferry, strike").
_CONDITION_BREAK = re.compile(r"\s*(?:[;\n]|,(?=\s*[^,;=\n]+=))\s*")

_SCROLL_TO_CITED = """() => {
  setTimeout(() => {
    const mark = document.getElementById('qa-cited-sentence');
    const box = mark && mark.closest('.qa-text');
    if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  }, 80);
}"""


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

    def facts() -> str:
        return render_corpus_facts(assistant.stats())

    def source_choices() -> list[tuple[str, str]]:
        return [(f"{name} ({count})", name) for name, count in assistant.stats().sources]

    def field_list() -> str:
        return render_field_list(assistant.stats().fields)

    def metadata_filter(where: str, label: str) -> dict[str, str]:
        """The conditions typed in the metadata box (or the API's `where`), checked against the corpus's fields."""
        where = _text_argument(label, where, MAX_WHERE_CHARS)
        return metadata_conditions(where, assistant.stats().fields, label) if where.strip() else {}

    def show_citation(answers: list[Answer], shown: int, number: str | None) -> str:
        if not answers or number is None:
            return empty_article("Ask a question; the article behind each citation shows here.")
        reply = answers[shown if 0 <= shown < len(answers) else -1]
        index = int(number) - 1
        if not reply.found or not 0 <= index < len(reply.sentences):
            return empty_article("This reply cites no article.")
        sentence = reply.sentences[index]
        return render_article(assistant.article(sentence.citation.article_id), sentence)

    def sources_of(answers: list[Answer], shown: int) -> tuple[Any, str]:
        """The sources panel for reply `shown`: its citations (first one selected) and that article."""
        choices = citation_choices(answers[shown]) if answers else []
        if not choices:
            message = "This reply cites no article." if answers else "Citations of the last reply show here."
            return gr.update(choices=[], value=None), empty_article(message)
        return gr.update(choices=choices, value=choices[0][1]), show_citation(answers, shown, choices[0][1])

    def respond(
        question: str,
        answers: list[Answer],
        sources: list[str] | None,
        date_from: str,
        date_to: str,
        top_k: float,
        as_of: str,
        where: str = "",
    ) -> tuple[Any, ...]:
        question = (question or "").strip()
        if not question:
            return (gr.skip(),) * 6
        try:
            # The box stops longer input in the browser; this stops it when the event is sent by hand.
            question = _text_argument("question", question, MAX_QUESTION_CHARS)
            fields = metadata_filter(where, "Metadata filter")
            narrowed = search_filter(sources, date_from, date_to, fields)
            day = read_as_of(as_of, date.today(), latest_dated)
            as_of_date(day)  # a date outside the sane range is refused here, with the reason, not mid-answer
        except ValueError as exc:
            label = "As of: " if "date the assistant can read" in str(exc) else ""
            return refused(answers, f"{label}{exc}")
        try:
            answer = assistant.answer(question, history=answers, top_k=int(top_k), search_filter=narrowed, as_of=day)
        except ValueError as exc:
            if not fields:
                raise
            return refused(answers, f"Metadata filter: {exc}")  # an index that keeps no fields cannot apply it
        answers = [*answers, answer]
        citations, article = sources_of(answers, len(answers) - 1)
        return "", chat_messages(answers), answers, len(answers) - 1, citations, article

    def refused(answers: list[Answer], message: str) -> tuple[Any, ...]:
        """A question not asked: the reason is said in the chat, under the conversation so far, and the question
        stays in its box to ask again once the filter or date is fixed."""
        notice = {"role": "assistant", "content": render_notice(message)}
        return gr.skip(), [*chat_messages(answers), notice], gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def respond_to_example(
        answers: list[Answer],
        sources: list[str] | None,
        date_from: str,
        date_to: str,
        top_k: float,
        as_of: str,
        where: str,
        evt: gr.SelectData,
    ) -> tuple[Any, ...]:
        value = evt.value if isinstance(evt.value, dict) else {}
        return respond(str(value.get("text", "")), answers, sources, date_from, date_to, top_k, as_of, where)

    def select_reply(answers: list[Answer], evt: gr.SelectData) -> tuple[Any, ...]:
        if not answers or not isinstance(evt.index, int):
            return gr.skip(), gr.skip(), gr.skip()
        shown = min(evt.index // 2, len(answers) - 1)  # messages alternate: question, reply
        citations, article = sources_of(answers, shown)
        return shown, citations, article

    def restart() -> tuple[Any, ...]:
        citations, article = sources_of([], 0)
        return [], [], -1, citations, article

    def add_articles(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        uploads = [Path(f) for f in files or []]
        try:
            accepted, rejected = check_uploads(uploads, settings.max_file_bytes)
            report = None
            if accepted:
                progress(0.0, desc="reading files")

                def on_progress(fraction: float, message: str) -> None:
                    progress(fraction, desc=message)

                try:
                    report = assistant.ingest(accepted, show_progress=False, on_progress=on_progress)
                except Exception as exc:  # the index refused the whole batch (locked, mismatched): say why
                    raise gr.Error(f"Could not add the files: {exc}") from None
            result = render_ingest_result(report, rejected, {str(p): p.name for p in accepted})
        finally:
            discard_uploads(uploads)  # the index keeps the text; the files must not stay downloadable
        return result, facts(), gr.update(choices=source_choices()), field_list(), None

    def refresh() -> tuple[Any, ...]:
        return facts(), gr.update(choices=source_choices()), field_list(), today()

    def show_active_filters(sources: list[str] | None, date_from: str, date_to: str, where: str) -> Any:
        line = render_active_filters(sources or [], date_from or "", date_to or "", where or "")
        return gr.update(value=line, visible=bool(line))

    def latest_dated() -> str | None:
        return assistant.stats().date_to

    def export(answers: list[Answer]) -> Any:
        if not answers:
            return gr.update(value=None, visible=False)
        folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
        paths = write_conversation(answers, folder)
        return gr.update(value=[str(p) for p in paths], visible=True)

    def today() -> str:
        return date.today().isoformat()

    def latest_article_date() -> str:
        """The newest article's date (today when no article is dated): asks "as of" the end of the corpus."""
        return assistant.stats().date_to or date.today().isoformat()

    def ask(
        question: str,
        history_json: str = "[]",
        top_k: int = 3,
        sources: str = "",
        date_from: str = "",
        date_to: str = "",
        as_of: str = "",
        where: str = "",
    ) -> dict:
        """Answer a question from the corpus with cited sentences, or say it is not found.

        Args:
            question: the question as a user would type it.
            history_json: earlier turns, oldest first, as a JSON list of questions (strings) or earlier results.
            top_k: at most this many sentences in the answer.
            sources: optional comma-separated source names to search (e.g. "Khmer Times").
            date_from: optional ISO date (YYYY-MM-DD): only articles from this day on.
            date_to: optional ISO date (YYYY-MM-DD): only articles up to this day.
            as_of: optional day the question is asked as of ("last month" counts from it; articles after it
                rank last): YYYY-MM-DD, a month ("2019-03"), "last tuesday" or "latest"; empty: today.
            where: optional metadata conditions FIELD=VALUE (e.g. "category=business"), separated by commas or
                semicolons; every one must hold. The field must be one the articles have; the value is matched exactly.

        Returns:
            The Answer as JSON: question, understood_question, answer_type, found, sentences (text, score, span,
            citation), message.
        """
        try:
            question = _text_argument("question", question, MAX_QUESTION_CHARS)
            history = parse_history(_text_argument("history_json", history_json, MAX_HISTORY_CHARS))
            sources = _text_argument("sources", sources, MAX_QUESTION_CHARS)
            names = [s.strip() for s in sources.split(",") if s.strip()]
            narrowed = search_filter(
                names,
                _text_argument("date_from", date_from, 40),
                _text_argument("date_to", date_to, 40),
                metadata_filter(where, "where"),
            )
            try:
                day = read_as_of(_text_argument("as_of", as_of, MAX_AS_OF_CHARS), date.today(), latest_dated)
            except ValueError as exc:
                raise ValueError(f"as_of: {exc}") from None
            as_of_date(day)
            count = whole_number("top_k", top_k)
            if not 1 <= count <= MAX_TOP_K:
                raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, not {top_k}")
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
        try:
            answer = assistant.answer(question, history=history, top_k=count, search_filter=narrowed, as_of=day)
        except ValueError as exc:
            if narrowed is None or not narrowed.fields:
                raise
            raise gr.Error(f"where: {exc}") from None  # an index that keeps no fields cannot apply it
        return public_answer(answer)

    chat_events = {"concurrency_id": "chat", "concurrency_limit": CHAT_WORKERS, "api_visibility": "private"}
    view_events = {"concurrency_limit": None, "api_visibility": "private"}

    with gr.Blocks(title="News archive QA", analytics_enabled=False, fill_width=True) as app:
        answers = gr.State([])
        shown = gr.State(-1)
        with gr.Row(equal_height=False, elem_id="qa-header"):
            gr.Markdown(
                "## News archive QA\nAnswers are exact sentences from the articles, with their sources.",
                elem_id="qa-title",
            )
            corpus_facts = gr.HTML(facts(), elem_id="qa-facts")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
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
                    as_of_latest = gr.Button(
                        "Latest article", size="sm", elem_id="qa-as-of-latest", scale=1, min_width=100
                    )
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
            with gr.Column(scale=2), gr.Tabs():
                with gr.Tab("Sources", id="sources"):
                    citation = gr.Radio(
                        choices=[],
                        label="Citations",
                        info="Of the last reply; click an earlier reply in the chat to see its citations.",
                        elem_id="qa-citations",
                        interactive=True,
                    )
                    article_view = gr.HTML(
                        empty_article("Ask a question; the article behind each citation shows here."),
                        elem_id="qa-article",
                    )
                with gr.Tab("Filters", id="filters"):
                    source_filter = gr.Dropdown(
                        choices=source_choices(),
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
                    fields_listed = gr.HTML(field_list(), elem_id="qa-field-list")
                    top_k = gr.Slider(1, 5, value=3, step=1, label="Sentences per answer", elem_id="qa-top-k")
                with gr.Tab("Add articles", id="upload"):
                    gr.Markdown(
                        f"Upload {', '.join(UPLOAD_SUFFIXES)} files, up to {_size(settings.max_file_bytes)} "
                        f"each and {MAX_UPLOAD_FILES} at a time. JSON/JSONL records need a text field "
                        "(title, source, date and url are used when present)."
                    )
                    files = gr.File(
                        file_count="multiple", file_types=UPLOAD_SUFFIXES, type="filepath", elem_id="qa-files"
                    )
                    add_button = gr.Button("Add to the corpus", variant="primary", elem_id="qa-add")
                    ingest_result = gr.HTML(elem_id="qa-ingest-result")

        chat_inputs = [question, answers, source_filter, date_from, date_to, top_k, as_of, where]
        chat_outputs = [question, chatbot, answers, shown, citation, article_view]
        for trigger in (question.submit, ask_button.click):
            trigger(respond, chat_inputs, chat_outputs, **chat_events).then(  # type: ignore[arg-type]
                None, js=_SCROLL_TO_CITED, api_visibility="private"
            )
        chatbot.example_select(
            respond_to_example,
            chat_inputs[1:],
            chat_outputs,
            **chat_events,  # type: ignore[arg-type]
        ).then(None, js=_SCROLL_TO_CITED, api_visibility="private")
        chatbot.select(select_reply, [answers], [shown, citation, article_view], **view_events).then(  # type: ignore[arg-type]
            None, js=_SCROLL_TO_CITED, api_visibility="private"
        )
        citation.input(show_citation, [answers, shown, citation], [article_view], **view_events).then(  # type: ignore[arg-type]
            None, js=_SCROLL_TO_CITED, api_visibility="private"
        )
        for trigger in (new_chat.click, chatbot.clear):
            trigger(restart, None, [chatbot, answers, shown, citation, article_view], **view_events)  # type: ignore[arg-type]
        add_button.click(
            add_articles,
            [files],
            [ingest_result, corpus_facts, source_filter, fields_listed, files],
            concurrency_id="ingest",
            concurrency_limit=1,
            api_visibility="private",
        )
        export_button.click(export, [answers], [exported], **view_events)  # type: ignore[arg-type]
        as_of_latest.click(latest_article_date, None, [as_of], **view_events)  # type: ignore[arg-type]
        as_of_today.click(today, None, [as_of], **view_events)  # type: ignore[arg-type]
        gr.on(
            [source_filter.change, date_from.change, date_to.change, where.change],
            show_active_filters,
            [source_filter, date_from, date_to, where],
            [active_filters],
            show_progress="hidden",
            **view_events,  # type: ignore[arg-type]
        )
        app.load(
            refresh, None, [corpus_facts, source_filter, fields_listed, as_of], show_progress="hidden", **view_events
        )  # type: ignore[arg-type]
        gr.api(ask, api_name="ask", concurrency_id="chat", concurrency_limit=CHAT_WORKERS)
        describe_api_parameters(app, "ask", ask)
    app.queue(default_concurrency_limit=1)
    # The REST API's routes, served beside the page by `launch` (which sets who may call them).
    app.api_access = ApiAccess(None)  # type: ignore[attr-defined]
    app.api_routes = api_routes(assistant, settings, app.api_access)  # type: ignore[attr-defined]
    # The browser refuses a whole selection when one file is over gradio's limit, so that limit is only a hard
    # cap against filling the disk; files over QA_MAX_FILE_BYTES arrive and are refused one by one, with reasons.
    app.max_file_size = UPLOAD_CAP_FACTOR * settings.max_file_bytes
    return app


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

    The assistant is made from `settings` (QA_* environment) when not given. If QA_UI_USERNAME and
    QA_UI_PASSWORD are both set, visitors must sign in with them; QA_UI_ALLOWED_HOSTS adds host names to serve.
    Blocks until the server stops unless `block=False`; returns the app (its URL is `app.local_url`; stop it
    with `app.close()`).
    """
    auth = auth_from_env()  # a half-set sign-in fails before the model is loaded
    extra_hosts = allowed_hosts_from_env() + configured_hosts()
    proxies = trusted_proxies_from_env()
    settings = settings or (assistant.settings if assistant else Settings())
    assistant = assistant or Assistant(settings)
    assistant.reader  # noqa: B018 - loaded now, not while the first visitor waits for an answer
    app = build_app(assistant, settings)
    launch(app, host, port, auth=auth, allowed_hosts=extra_hosts, trusted_proxies=proxies, block=block, quiet=quiet)
    return app


def offline_theme() -> gr.themes.Base:
    """Gradio's base look with system fonts only: nothing is fetched from a font CDN."""
    return gr.themes.Base(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def auth_from_env(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(username, password) from QA_UI_USERNAME / QA_UI_PASSWORD (else the settings file's [ui] username and
    password, when reading the real environment), or None when neither is set."""
    env = os.environ if environ is None else environ
    username, password = env.get(USERNAME_ENV, ""), env.get(PASSWORD_ENV, "")
    if environ is None and not username and not password:
        ui = config_table("ui")
        username, password = str(ui.get("username") or ""), str(ui.get("password") or "")
    if not username and not password:
        return None
    if not username or not password:
        raise ValueError(f"set both {USERNAME_ENV} and {PASSWORD_ENV} to require a sign-in, or neither")
    return username, password


def configured_hosts() -> list[str]:
    """Extra host names from the settings file's [ui] allowed_hosts (a list, or text separated by commas)."""
    value = config_table("ui").get("allowed_hosts") or []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return allowed_hosts_from_env({"QA_UI_ALLOWED_HOSTS": ",".join(items)})


def ui_default(name: str, default: str) -> str:
    """A `qa serve` default: QA_UI_<NAME>, else the settings file's [ui] value, else `default`."""
    value = os.environ.get(f"QA_UI_{name.upper()}")
    if value:
        return value
    try:
        configured = config_table("ui").get(name)
    except ValueError:
        return default  # reported with its reason when the settings are read
    return str(configured) if configured not in (None, "") else default


def discard_uploads(paths: Iterable[Path]) -> None:
    """Delete uploaded files (and their emptied folders) from gradio's upload folder; other paths are left alone."""
    root = Path(get_upload_folder()).resolve()
    for path in paths:
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if not resolved.is_relative_to(root) or resolved == root:
            continue
        with contextlib.suppress(OSError):
            resolved.unlink(missing_ok=True)
        folder = resolved.parent
        if folder != root:
            with contextlib.suppress(OSError):
                folder.rmdir()  # gradio keeps each upload in a folder of its own; only removed when empty


def chat_messages(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """The chat transcript for the Chatbot: each question, then its rendered reply."""
    messages: list[dict[str, str]] = []
    for answer in answers:
        messages.append({"role": "user", "content": render_question(answer.question)})
        messages.append({"role": "assistant", "content": render_answer(answer)})
    return messages


def search_filter(
    sources: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
    fields: Mapping[str, str] | None = None,
) -> SearchFilter | None:
    """The filter the user set, or None; raises ValueError with a message for a date that is not YYYY-MM-DD.

    `fields` are metadata conditions as `metadata_conditions` reads them (field → the value it must have).
    """
    start = _iso_date(date_from, "From date")
    end = _iso_date(date_to, "To date")
    if start and end and start > end:
        raise ValueError(f"From date {start} is after To date {end}.")
    names = [s for s in sources or [] if s]
    if not names and not start and not end and not fields:
        return None
    return SearchFilter(sources=names or None, date_from=start, date_to=end, fields=dict(fields or {}) or None)


def metadata_conditions(
    text: str, known: Mapping[str, Sequence[str]], label: str = "Metadata filter"
) -> dict[str, str]:
    """{field: value} from "category=business; section=markets" (conditions separated by ";", new lines, or ","
    before the next FIELD=), read as ingest stores metadata: "Section" is `section`, quotes and extra spaces go.

    `known` is the corpus's fields with some of their values (`CorpusStats.fields`): a field no article has is
    refused with the fields there are, as are a condition without "=" or a value, and one field given two values
    (every condition must hold, and an article has one value per field). Errors are ValueErrors led by `label`.
    """
    conditions: dict[str, str] = {}
    for condition in _CONDITION_BREAK.split(text.strip()):
        if not condition:
            continue
        name, equals, raw_value = condition.partition("=")
        field, value = field_key(name), scalar_text(raw_value)
        if not equals or not field:
            raise ValueError(f"{label} {condition!r}: write FIELD=VALUE, e.g. {_example_condition(known)}.")
        if value is None:
            raise ValueError(f"{label} {condition!r}: give the value after '=', e.g. {_example_condition(known)}.")
        if conditions.get(field, value) != value:
            raise ValueError(
                f"{label}: {field} is given two values ({conditions[field]}, {value}); an article has one value "
                "per field and every condition must hold."
            )
        if field not in known:
            raise ValueError(f"{label}: {_unknown_field(field, known)}")
        conditions[field] = value
    return conditions


def _unknown_field(field: str, known: Mapping[str, Sequence[str]]) -> str:
    """Why `field` cannot be filtered on, and what can be."""
    if field in SOURCE_KEYS:
        return f"{field} is not a metadata field; narrow by source with the sources filter."
    if field in DATE_KEYS:
        return f"{field} is not a metadata field; narrow by date with the from and to dates."
    if not known:
        return f"no article has a field {field!r}: the articles in the corpus hold no metadata fields to filter on."
    close = difflib.get_close_matches(field, list(known), n=1)
    guess = f" Did you mean {close[0]}?" if close else ""
    return f"no article has a field {field!r}.{guess} The corpus's fields: {', '.join(known)}."


def _example_condition(known: Mapping[str, Sequence[str]]) -> str:
    """A condition this corpus could use ("category=business" when it has no fields)."""
    for name, values in known.items():
        if values:
            return f"{name}={values[0]}"
    return "category=business"


def _text_argument(name: str, value: object, limit: int) -> str:
    """An API text argument: None counts as empty; anything but text, or text over `limit`, is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{name} is {len(value):,} characters long; the limit is {limit:,}")
    return value


def whole_number(name: str, value: object) -> int:
    """An API count: an int, or a float or text that holds a whole number (JSON clients send 3.0 or "3")."""
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(number)


def parse_history(history_json: str) -> list[str | Answer]:
    """Earlier turns from the API: a JSON list of questions (strings) or earlier results (Answer objects)."""
    text = (history_json or "").strip() or "[]"
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"history_json is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise ValueError("history_json is nested too deeply; send a flat list of questions or answers") from None
    if not isinstance(items, list):
        raise ValueError("history_json must be a JSON list of earlier questions or answers")
    history: list[str | Answer] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            history.append(item)
        elif isinstance(item, dict):
            try:
                history.append(Answer.model_validate(item))
            except ValueError as exc:
                raise ValueError(f"history_json item {number} is not an answer: {exc}") from None
        else:
            raise ValueError(f"history_json item {number} must be a question (string) or an answer (object)")
    return history


def check_uploads(paths: Sequence[Path], max_bytes: int) -> tuple[list[Path], list[str]]:
    """Split uploads into files to ingest and messages for the refused ones (type, size, empty, too many)."""
    accepted: list[Path] = []
    refused: list[str] = []
    for number, path in enumerate(paths, start=1):
        suffix = path.suffix.lower()
        if number > MAX_UPLOAD_FILES:
            refused.append(f"{path.name}: more than {MAX_UPLOAD_FILES} files at once; upload it in another batch")
        elif suffix not in SUPPORTED_SUFFIXES:
            kind = f"{suffix!r} files" if suffix else "files without a suffix"
            refused.append(f"{path.name}: {kind} are not supported; upload {', '.join(UPLOAD_SUFFIXES)}")
        elif not path.is_file():
            refused.append(f"{path.name}: the upload did not arrive; try again")
        elif (size := path.stat().st_size) > max_bytes:
            refused.append(f"{path.name}: {_size(size)} is over the {_size(max_bytes)} limit per file")
        elif size == 0:
            refused.append(f"{path.name}: the file is empty")
        else:
            accepted.append(path)
    return accepted, refused


def example_questions(settings: Settings, limit: int = 4) -> list[str]:
    """Questions the bundled corpus answers, from its gold set (qa/eval/goldsets/): one per kind of answer.

    Only offered over the bundled corpus; another corpus gets no canned examples.
    """
    from index.settings import DEFAULT_CORPUS
    from qa.eval.gold import GOLD_SETS, GoldFormatError, load_gold

    chosen: dict[str | None, str] = {}
    if settings.corpus_dir.resolve() != DEFAULT_CORPUS.resolve():
        return []
    for path in sorted(GOLD_SETS.glob("*.jsonl")):
        try:
            gold = load_gold(path)
        except (OSError, GoldFormatError):
            continue
        for item in gold:
            if item.answerable and not item.history and item.type not in chosen:
                chosen[item.type] = item.question
    return list(chosen.values())[:limit]


def describe_api_parameters(app: gr.Blocks, api_name: str, fn: Any) -> None:
    """Name each input of the gradio endpoint `api_name` after `fn`'s parameter and give it the description from
    `fn`'s docstring ("Args:"), which the API page shows (gradio labels them "1st", "2nd", … otherwise)."""
    described = docstring_arguments(fn.__doc__ or "")
    for block_fn in app.fns.values():
        if block_fn.api_name != api_name:
            continue
        names = list(inspect.signature(fn).parameters)
        for name, component in zip(names, block_fn.inputs, strict=False):
            if not isinstance(component, Api):
                continue
            component.label = name
            component._api_info = {**(component._api_info or {}), "additional_description": described.get(name, "")}


def docstring_arguments(doc: str) -> dict[str, str]:
    """{name: description} from a Google-style docstring's "Args:" section (continuation lines joined)."""
    found: dict[str, str] = {}
    inside, name, indent = False, None, None
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if stripped == "Args:":
            inside = True
            continue
        if not inside:
            continue
        if not stripped:
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:  # the next section ("Returns:")
            break
        if indent is None or depth <= indent:
            indent = depth
            name, _, text = stripped.partition(":")
            found[name.strip()] = text.strip()
        elif name is not None:
            found[name] += " " + stripped
    return found


def _iso_date(value: str | None, label: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{label} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2019-12-31.") from None


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB".replace(".0 MiB", " MiB")
