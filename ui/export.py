"""A conversation written out for keeping: Markdown to read and JSON to process, each answer with its citations.

`conversation_markdown(answers)` and `conversation_json(answers)` make the text; `write_conversation(answers,
folder)` writes both files and returns their paths (the chat's "Export" offers them for download). Citations name
the article, source, date, sentence and character offsets, as in the chat; origins are file names, never paths
on the server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from qa.models import Answer
from ui.api import public_answer

__all__ = ["conversation_json", "conversation_markdown", "write_conversation"]


def conversation_markdown(answers: Sequence[Answer], exported_at: datetime | None = None) -> str:
    """The conversation as Markdown: each question, its answer sentences (span in bold) and numbered sources."""
    when = (exported_at or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = ["# News archive QA: conversation", "", f"Exported {when}.", ""]
    for turn, answer in enumerate(answers, start=1):
        lines += [f"## {turn}. {_one_line(answer.question)}", ""]
        shown = answer.shown_question()
        if shown != answer.question:
            lines += [f'Answering: "{_one_line(shown)}"', ""]
        if answer.time is not None:
            lines += [f"As of {answer.time.as_of.isoformat()}.", ""]
        if not answer.found or not answer.sentences:
            lines += [f"> {_one_line(answer.message or 'Not found in the corpus.')}", ""]
            continue
        for number, sentence in enumerate(answer.sentences, start=1):
            lines.append(f"> {_one_line(sentence.marked('**', '**'))} [{number}]")
            lines.append(">")
        lines[-1] = ""
        for number, sentence in enumerate(answer.sentences, start=1):
            c = sentence.citation
            page = f"page {c.page}" if c.page is not None else ""
            where = ", ".join(x for x in (c.source or "unknown source", c.date or "undated", page) if x)
            link = f" <{c.url}>" if c.url else ""
            facts = "".join(f"; {fact}" for fact in c.fact_dates)
            facts += "".join(f"; {name}: {value}" for name, value in c.fields.items())
            lines.append(
                f"[{number}] *{_one_line(c.title or 'Untitled')}* — {where}, sentence {c.sentence_number + 1} "
                f"(characters {c.start}–{c.end}), article `{c.article_id}`{facts}; score {sentence.score:.2f}{link}"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def conversation_json(answers: Sequence[Answer], exported_at: datetime | None = None) -> str:
    """The conversation as JSON: {"exported_at", "answers": [the Answer of each turn, as the API returns it]}."""
    when = (exported_at or datetime.now(UTC)).isoformat(timespec="seconds")
    return json.dumps(
        {"exported_at": when, "answers": [public_answer(a) for a in answers]}, indent=2, ensure_ascii=False
    )


def write_conversation(answers: Sequence[Answer], folder: Path) -> list[Path]:
    """Write conversation.md and conversation.json into `folder`; returns their paths."""
    now = datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    markdown, data = folder / "conversation.md", folder / "conversation.json"
    markdown.write_text(conversation_markdown(answers, now), encoding="utf-8")
    data.write_text(conversation_json(answers, now), encoding="utf-8")
    return [markdown, data]


def _one_line(text: str) -> str:
    return " ".join(text.split())
