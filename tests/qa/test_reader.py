"""The reader (qa/reader.py, qa/cross_encoder.py): span decoding, hash checks of the shipped weights, what the real
model reads, and how the assistant uses it (rerank, abstention, spans)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from index.encoder import ModelError
from qa.cross_encoder import MAX_QUESTION_TOKENS, best_spans, fit_question, second_segment, widen_to_words
from qa.reader import READER_DIR, load_reader, reader_span, rerank
from qa.score import ScoredSentence

KILOGRAMMES = (
    "A total of 720 kilogrammes of illicit drugs and 99.97 kilogrammes of dried marijuana as well as 94,441 "
    "marijuana plants were confiscated during raids in 2019."
)
OFF_TOPIC = "Mr Kheng also called on local authorities to keep close watch on their subordinates."
TITLE = "Sar Kheng cautions against freeing suspects in minor drug crimes"


def test_best_span_maximises_start_plus_end_within_the_allowed_tokens() -> None:
    start = torch.tensor([[9.0, 0.0, 3.0, 1.0, 0.0]])
    end = torch.tensor([[9.0, 0.0, 1.0, 0.0, 2.0]])
    allowed = torch.tensor([[False, True, True, True, True]])  # token 0 is the question: never a span
    assert best_spans(start, end, allowed) == [(2, 4, 5.0)]


def test_best_span_never_ends_before_it_starts() -> None:
    start = torch.tensor([[0.0, 0.0, 5.0]])
    end = torch.tensor([[4.0, 0.0, 0.0]])
    a, b, _ = best_spans(start, end, torch.ones(1, 3, dtype=torch.bool))[0]
    assert a <= b


def test_spans_cut_inside_a_word_grow_to_whole_words() -> None:
    text = "seized 720 kilogrammes in 2019"
    assert widen_to_words(text, 13, 17) == (11, 22)  # "logr" -> "kilogrammes"
    assert widen_to_words(text, 7, 10) == (7, 10)  # already whole


def test_the_title_leads_the_second_segment_and_offsets_skip_it() -> None:
    text, shift = second_segment("Drug report", "Seizures rose.")
    assert text[shift:] == "Seizures rose." and text[:shift].startswith("Drug report")
    assert second_segment("", "Seizures rose.") == ("Seizures rose.", 0)


def test_shipped_reader_prefers_the_answering_sentence_and_marks_the_amount(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    question = "How many kilogrammes of illicit drugs were seized in 2019?"
    answer, other = reader.read(question, [(TITLE, KILOGRAMMES), (TITLE, OFF_TOPIC)])
    assert answer.logit > other.logit
    assert KILOGRAMMES[answer.start : answer.end].startswith("720")


def test_reader_spans_are_slices_of_the_sentence_never_of_the_title(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    sentences = [KILOGRAMMES, OFF_TOPIC, "Prices rose 19% in 2019, the ministry said."]
    readings = reader.read("Who cautions against freeing suspects?", [(TITLE, s) for s in sentences])
    for text, r in zip(sentences, readings, strict=True):
        assert 0 <= r.start < r.end <= len(text)
        assert text[r.start : r.end].strip()


def test_the_reader_reads_the_base_models_word_pieces_untouched(encoder) -> None:  # type: ignore[no-untyped-def]
    """The word-piece table is not shipped: the reader takes the base model's own from the encoder's verified
    model folder, bit for bit."""
    from safetensors import safe_open

    reader = load_reader(encoder)
    with safe_open(str(encoder.model_dir / "model.safetensors"), "pt") as base:
        table = base.get_tensor("embeddings.word_embeddings.weight")
    assert torch.equal(reader.bert.embeddings.word_embeddings.weight.data, table.float())


def _copy_reader(tmp_path: Path) -> Path:
    folder = tmp_path / "reader"
    shutil.copytree(READER_DIR, folder)
    return folder


def test_tampered_reader_weights_are_refused(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _copy_reader(tmp_path)
    config = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    weights = folder / config["weights_file"]
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_reader(encoder, folder)


def test_reader_for_another_base_model_is_refused(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _copy_reader(tmp_path)
    config = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    config["base_model_sha256"] = "0" * 64
    (folder / "reader.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelError, match="another base model"):
        load_reader(encoder, folder)


def test_missing_reader_weights_are_reported(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _copy_reader(tmp_path)
    config = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    (folder / config["weights_file"]).unlink()
    with pytest.raises(ModelError, match="missing"):
        load_reader(encoder, folder)


def test_rerank_reads_only_the_best_candidates_and_orders_them_by_the_blend(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    reader.config = dataclasses.replace(reader.config, blend_linear=0.0, blend_reader=1.0, blend_bias=0.0, candidates=2)
    texts = [OFF_TOPIC, KILOGRAMMES, "Not read at all."]
    ranked = [ScoredSentence(i, "a", i, 0, len(t), t, 0, np.zeros(0), score=0.9 - i / 10) for i, t in enumerate(texts)]
    question = "How many kilogrammes of illicit drugs were seized in 2019?"
    out = rerank(reader, question, ranked, {"a": TITLE})
    assert [s.text for s in out] == [KILOGRAMMES, OFF_TOPIC]  # the third was never read, so it cannot be shown
    for s in out:
        assert s.reading is not None
        assert s.score == pytest.approx(1 / (1 + np.exp(-s.reading.logit)), rel=1e-6)


def test_the_blend_weighs_the_linear_probability_too(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    reader.config = dataclasses.replace(reader.config, blend_linear=1.0, blend_reader=0.0, blend_bias=0.0)
    (reading,) = reader.read("How many?", [("", KILOGRAMMES)])
    assert reader.probability(0.8, reading) == pytest.approx(0.8)


def test_the_cited_sentence_was_read_and_an_untyped_question_takes_the_readers_span(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    reader = seed_assistant.reader
    assert reader is not None and "other" in reader.config.span_types
    question = "What weight of narcotics was seized over the past three years?"
    answer = seed_assistant.answer(question)
    assert answer.found and answer.answer_type.value == "other"
    best = answer.sentences[0]
    assert best.span is not None and "1.5 tonnes" in best.span.text
    assert best.text[best.span.start : best.span.end] == best.span.text
    (reading,) = reader.read(answer.understood_question, [(best.citation.title, best.text)])
    assert reader_span(best.text, reading, answer.answer_type) == best.span


def test_the_readers_threshold_decides_abstention(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    reader = load_reader(seed_assistant.encoder)
    assert seed_assistant.threshold == reader.config.threshold
    reader.config = dataclasses.replace(reader.config, threshold=0.99999)
    strict = Assistant(
        seed_assistant.settings, encoder=seed_assistant.encoder, index_dir=seed_assistant.index_dir,
        auto_ingest=False, reader=reader,
    )  # fmt: skip
    assert strict.threshold == 0.99999
    refused = strict.answer("how many kilograms were seized in 2019?")
    assert not refused.found and "Not found" in refused.message


def test_without_the_reader_the_rules_mark_the_span(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    plain = Assistant(
        seed_assistant.settings, encoder=seed_assistant.encoder, index_dir=seed_assistant.index_dir,
        auto_ingest=False, reader=False,
    )  # fmt: skip
    assert plain.reader is None and plain.threshold == plain.weights.threshold
    answer = plain.answer("how many kilograms were seized in 2019?")
    assert answer.found and answer.best_span is not None and answer.best_span.text == "720 kilogrammes"


# Questions the input box accepts (at most 1,000 characters) that hold the most word pieces per character.
LONG_QUESTIONS = {
    "short distinct words": " ".join(f"w{i}" for i in range(200)) + " seized?",
    "digits": " ".join(str(i % 10) for i in range(495)) + " seized?",
    "punctuation": "?!" * 495 + " seized?",
    "chinese": "二零一九年查获了多少公斤毒品" * 70 + "？",
    "one long word": "x" * 990 + " seized?",
    "emoji": "🚢 " * 490 + "seized?",
}


@pytest.mark.parametrize("question", LONG_QUESTIONS.values(), ids=LONG_QUESTIONS.keys())
def test_a_question_the_input_box_accepts_never_breaks_the_reader(seed_assistant, question: str) -> None:  # type: ignore[no-untyped-def]
    assert len(question) <= 1000
    answer = seed_assistant.answer(question)
    assert answer.found or answer.message, "answered, or refused with a message"


def test_a_long_question_is_cut_for_the_reader_on_a_word_boundary(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    tokenizer = seed_assistant.reader.tokenizer
    question = "How many kilograms of illicit drugs were confiscated in 2019? " + "please answer carefully " * 30
    fitted = fit_question(tokenizer, question)
    assert question.startswith(fitted) and question[len(fitted)] == " ", "cut between words"
    assert len(tokenizer(fitted, add_special_tokens=False)["input_ids"]) <= MAX_QUESTION_TOKENS
    assert fit_question(tokenizer, "How many were seized?") == "How many were seized?"
    # Search uses the whole question; the reader reads its head, and the answer is still found.
    answer = seed_assistant.answer(question)
    assert answer.found and answer.sentences[0].text.startswith("A total of 720 kilogrammes")
