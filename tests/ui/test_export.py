"""The conversation export (ui/export.py): Markdown a person can read and JSON a program can, both with citations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from qa.assistant import Assistant
from ui.export import conversation_markdown, write_conversation

QUESTION = "how many kilograms were seized in 2019?"


def test_export_writes_each_turn_with_its_citations(seed_assistant: Assistant, tmp_path: Path) -> None:
    found = seed_assistant.answer(QUESTION)
    missing = seed_assistant.answer("What is the capital of France?")
    markdown_path, json_path = write_conversation([found, missing], tmp_path / "out")

    markdown = markdown_path.read_text(encoding="utf-8")
    assert f"## 1. {QUESTION}" in markdown and "## 2. What is the capital of France?" in markdown
    assert "**720 kilogrammes**" in markdown  # the span, marked
    citation = found.sentences[0].citation
    assert (
        f"[1] *{citation.title}* — Khmer Times, undated, sentence {citation.sentence_number + 1} "
        f"(characters {citation.start}–{citation.end}), article `{citation.article_id}`"
    ) in markdown
    assert "> Not found in the corpus." in markdown

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert [a["question"] for a in data["answers"]] == [QUESTION, "What is the capital of France?"]
    first = data["answers"][0]["sentences"][0]
    assert first["span"]["text"] == "720 kilogrammes" and "/" not in first["citation"]["origin"]  # no server path


def test_export_of_a_dated_follow_up_names_the_question_answered(seed_assistant: Assistant) -> None:
    first = seed_assistant.answer(QUESTION)
    follow = seed_assistant.answer("and how many marijuana plants?", history=[first], as_of="2020-06-01")
    text = conversation_markdown([first, follow], datetime(2026, 12, 6, tzinfo=UTC))
    assert "Exported 2026-12-06T00:00:00+00:00." in text
    assert f'Answering: "{follow.shown_question()}"' in text and "As of 2020-06-01." in text
