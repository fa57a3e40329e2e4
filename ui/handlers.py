"""What the chat page does when a visitor acts: the handlers its events call, over one shared assistant.

Each handler takes the values of the components an event reads and returns the updates of those it writes (in
the order `ui.layout` wires them); `ChatHandlers.ask` is also the public `/ask` API endpoint. Input is read and
checked by `ui.arguments`, HTML made by `ui.render`; the answering itself is `Assistant.answer()`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from newsqa.settings import Settings
from qa.assistant import Assistant
from qa.models import Answer, SearchFilter
from qa.when import as_of_date, read_as_of
from ui.api import public_answer
from ui.arguments import (
    MAX_AS_OF_CHARS,
    MAX_HISTORY_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    MAX_WHERE_CHARS,
    filtered_search_note,
    metadata_conditions,
    parse_history,
    search_filter,
    text_argument,
    whole_number,
)
from ui.export import write_conversation
from ui.render import (
    citation_choices,
    empty_article,
    render_active_filters,
    render_answer,
    render_article,
    render_corpus_facts,
    render_field_list,
    render_notice,
    render_question,
)
from ui.uploads import ingest_uploads

__all__ = ["ChatHandlers", "chat_messages"]

NO_ARTICLE_YET = "Ask a question; the article behind each citation shows here."


class ChatHandlers:
    """The page's event handlers over `assistant`, shared by every visitor (their state comes in as arguments).

    Args:
        assistant: answers the questions and ingests uploads.
        settings: the upload limits.
    """

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings

    # --- what the corpus holds --------------------------------------------------------------------------------
    def facts(self) -> str:
        return render_corpus_facts(self.assistant.stats())

    def source_choices(self) -> list[tuple[str, str]]:
        return [(f"{name} ({count})", name) for name, count in self.assistant.stats().sources]

    def field_list(self) -> str:
        return render_field_list(self.assistant.stats().fields)

    def latest_dated(self) -> str | None:
        return self.assistant.stats().date_to

    def metadata_filter(self, where: object, label: str) -> dict[str, str]:
        """The conditions typed in the metadata box (or the API's `where`), checked against the corpus's fields."""
        where = text_argument(label, where, MAX_WHERE_CHARS)
        return metadata_conditions(where, self.assistant.stats().fields, label) if where.strip() else {}

    def refresh(self) -> tuple[Any, ...]:
        return self.facts(), gr.update(choices=self.source_choices()), self.field_list(), self.today()

    # --- the conversation -------------------------------------------------------------------------------------
    def respond(
        self,
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
            question = text_argument("question", question, MAX_QUESTION_CHARS)
            fields = self.metadata_filter(where, "Metadata filter")
            narrowed = search_filter(sources, date_from, date_to, fields)
            day = read_as_of(as_of, date.today(), self.latest_dated)
            as_of_date(day)  # a date outside the sane range is refused here, with the reason, not mid-answer
        except ValueError as exc:
            label = "As of: " if "date the assistant can read" in str(exc) else ""
            return refused(answers, f"{label}{exc}")
        try:
            answer = self.assistant.answer(
                question, history=answers, top_k=int(top_k), search_filter=narrowed, as_of=day
            )
        except ValueError as exc:
            if not fields:
                raise
            return refused(answers, f"Metadata filter: {exc}")  # an index that keeps no fields cannot apply it
        answers = [*answers, answer]
        citations, article = self.sources_of(answers, len(answers) - 1)
        messages = chat_messages(answers)
        if fields and not answer.found:  # say what was searched: a value typed in another case matches nothing
            note = filtered_search_note(fields, self.assistant.stats().fields)
            messages.append({"role": "assistant", "content": render_notice(note)})
        return "", messages, answers, len(answers) - 1, citations, article

    def respond_to_example(
        self,
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
        return self.respond(str(value.get("text", "")), answers, sources, date_from, date_to, top_k, as_of, where)

    def select_reply(self, answers: list[Answer], evt: gr.SelectData) -> tuple[Any, ...]:
        if not answers or not isinstance(evt.index, int):
            return gr.skip(), gr.skip(), gr.skip()
        shown = min(evt.index // 2, len(answers) - 1)  # messages alternate: question, reply
        citations, article = self.sources_of(answers, shown)
        return shown, citations, article

    def restart(self) -> tuple[Any, ...]:
        citations, article = self.sources_of([], 0)
        return [], [], -1, citations, article

    @staticmethod
    def export(answers: list[Answer]) -> Any:
        if not answers:
            return gr.update(value=None, visible=False)
        folder = Path(tempfile.mkdtemp(prefix="qa-export-"))
        paths = write_conversation(answers, folder)
        return gr.update(value=[str(p) for p in paths], visible=True)

    # --- the sources panel ------------------------------------------------------------------------------------
    def show_citation(self, answers: list[Answer], shown: int, number: str | None) -> str:
        if not answers or number is None:
            return empty_article(NO_ARTICLE_YET)
        reply = answers[shown if 0 <= shown < len(answers) else -1]
        index = int(number) - 1
        if not reply.found or not 0 <= index < len(reply.sentences):
            return empty_article("This reply cites no article.")
        sentence = reply.sentences[index]
        return render_article(self.assistant.article(sentence.citation.article_id), sentence)

    def sources_of(self, answers: list[Answer], shown: int) -> tuple[Any, str]:
        """The sources panel for reply `shown`: its citations (first one selected) and that article."""
        choices = citation_choices(answers[shown]) if answers else []
        if not choices:
            message = "This reply cites no article." if answers else "Citations of the last reply show here."
            return gr.update(choices=[], value=None), empty_article(message)
        return gr.update(choices=choices, value=choices[0][1]), self.show_citation(answers, shown, choices[0][1])

    # --- filters, dates and uploads ---------------------------------------------------------------------------
    @staticmethod
    def show_active_filters(sources: list[str] | None, date_from: str, date_to: str, where: str) -> Any:
        line = render_active_filters(sources or [], date_from or "", date_to or "", where or "")
        return gr.update(value=line, visible=bool(line))

    @staticmethod
    def today() -> str:
        return date.today().isoformat()

    def latest_article_date(self) -> str:
        """The newest article's date (today when no article is dated): asks "as of" the end of the corpus."""
        return self.assistant.stats().date_to or date.today().isoformat()

    def add_articles(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        result = ingest_uploads(self.assistant, files, self.settings.index.max_file_bytes, progress)
        return result, self.facts(), gr.update(choices=self.source_choices()), self.field_list(), None

    # --- the /ask API endpoint --------------------------------------------------------------------------------
    def ask(
        self,
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
        # The docstring above is the API page's description of each parameter (ui.api_page).
        try:
            asked = self._ask_arguments(question, history_json, top_k, sources, date_from, date_to, as_of, where)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None
        question, history, count, narrowed, day = asked
        try:
            answer = self.assistant.answer(question, history=history, top_k=count, search_filter=narrowed, as_of=day)
        except ValueError as exc:
            if narrowed is None or not narrowed.fields:
                raise
            raise gr.Error(f"where: {exc}") from None  # an index that keeps no fields cannot apply it
        return public_answer(answer)

    def _ask_arguments(
        self,
        question: object,
        history_json: object,
        top_k: object,
        sources: object,
        date_from: object,
        date_to: object,
        as_of: object,
        where: object,
    ) -> tuple[str, list[str | Answer], int, SearchFilter | None, date | None]:
        """The `/ask` arguments read and checked: (question, history, top_k, filter, as-of day); ValueError with
        the reason for the first one that is wrong."""
        question = text_argument("question", question, MAX_QUESTION_CHARS)
        history = parse_history(text_argument("history_json", history_json, MAX_HISTORY_CHARS))
        sources = text_argument("sources", sources, MAX_QUESTION_CHARS)
        names = [s.strip() for s in sources.split(",") if s.strip()]
        narrowed = search_filter(
            names,
            text_argument("date_from", date_from, 40),
            text_argument("date_to", date_to, 40),
            self.metadata_filter(where, "where"),
        )
        try:
            day = read_as_of(text_argument("as_of", as_of, MAX_AS_OF_CHARS), date.today(), self.latest_dated)
        except ValueError as exc:
            raise ValueError(f"as_of: {exc}") from None
        as_of_date(day)
        count = whole_number("top_k", top_k)
        if not 1 <= count <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, not {top_k}")
        return question, history, count, narrowed, day


def refused(answers: Sequence[Answer], message: str) -> tuple[Any, ...]:
    """A question not asked: the reason is said in the chat, under the conversation so far, and the question
    stays in its box to ask again once the filter or date is fixed."""
    notice = {"role": "assistant", "content": render_notice(message)}
    return gr.skip(), [*chat_messages(answers), notice], gr.skip(), gr.skip(), gr.skip(), gr.skip()


def chat_messages(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """The chat transcript for the Chatbot: each question, then its rendered reply."""
    messages: list[dict[str, str]] = []
    for answer in answers:
        messages.append({"role": "user", "content": render_question(answer.question)})
        messages.append({"role": "assistant", "content": render_answer(answer)})
    return messages
