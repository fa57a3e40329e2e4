"""The reader (qa/reader.py): span decoding, hash checks of the shipped weights, and what the real model reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from index.encoder import ModelError
from qa.reader import READER_DIR, Reader, best_spans, load_reader, run_layers, widen_to_words

KILOGRAMMES = (
    "A total of 720 kilogrammes of illicit drugs and 99.97 kilogrammes of dried marijuana as well as 94,441 "
    "marijuana plants were confiscated during raids in 2019."
)
OFF_TOPIC = "Mr Kheng also called on local authorities to keep close watch on their subordinates."


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


def test_split_forward_equals_the_base_model(encoder) -> None:  # type: ignore[no-untyped-def]
    """Bottom layers (shared) then top layers (copies) give exactly what the whole base model gives."""
    transformer = encoder.model[0].auto_model
    reader = Reader.build(transformer, encoder.model.tokenizer, bottom_layers=4)
    enc = reader.encode_pairs("how many kilograms were seized?", [KILOGRAMMES, "Short."])
    mask = enc["attention_mask"]
    with torch.inference_mode():
        split = run_layers(reader.top, reader.bottom(enc["input_ids"], enc["token_type_ids"], mask), mask)
        whole = transformer(**{k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")})
    assert torch.allclose(split, whole.last_hidden_state, atol=1e-5)


def test_shipped_reader_prefers_the_answering_sentence_and_marks_the_amount(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    answer, other = reader.read("How many kilogrammes of illicit drugs were seized in 2019?", [KILOGRAMMES, OFF_TOPIC])
    assert answer.logit > other.logit
    assert "720" in KILOGRAMMES[answer.start : answer.end]


def test_reader_spans_are_slices_of_the_sentence(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = load_reader(encoder)
    sentences = [KILOGRAMMES, OFF_TOPIC, "Prices rose 19% in 2019, the ministry said."]
    for text, r in zip(sentences, reader.read("What rose in 2019?", sentences), strict=True):
        assert 0 <= r.start < r.end <= len(text)
        assert text[r.start : r.end].strip()


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


def test_untyped_questions_take_the_readers_span(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    """A what-question's highlighted span is the reader's reading of the cited sentence (for the answer types
    reader.json gives it), cut from the sentence itself."""
    from qa.reader import reader_span

    reader = seed_assistant.reader
    assert reader is not None and "other" in reader.config.reader_span_types
    question = "What weight of narcotics was seized over the past three years?"
    answer = seed_assistant.answer(question)
    assert answer.found and answer.answer_type.value == "other"
    best = answer.sentences[0]
    assert best.span is not None and "1.5 tonnes" in best.span.text
    assert best.text[best.span.start : best.span.end] == best.span.text
    (reading,) = reader.read(answer.understood_question, [best.text])
    assert reader_span(best.text, reading, answer.answer_type) == best.span


def test_without_the_reader_the_rules_mark_the_span(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    plain = Assistant(
        seed_assistant.settings, encoder=seed_assistant.encoder, index_dir=seed_assistant.index_dir,
        auto_ingest=False, reader=False,
    )  # fmt: skip
    assert plain.reader is None
    answer = plain.answer("how many kilograms were seized in 2019?")
    assert answer.found and answer.best_span is not None and answer.best_span.text == "720 kilogrammes"


def test_rescoring_orders_candidates_by_the_blend(encoder) -> None:  # type: ignore[no-untyped-def]
    """The rescoring path (off for the shipped weights): only the best `candidates` are read, and they come back
    ordered by sigmoid(linear * logit(p) + reader * answerability + bias)."""
    import dataclasses

    from qa.reader import rerank
    from qa.score import ScoredSentence

    reader = load_reader(encoder)
    reader.config = dataclasses.replace(
        reader.config, rescore=True, blend_linear=0.0, blend_reader=1.0, blend_bias=0.0, candidates=2
    )
    texts = [OFF_TOPIC, KILOGRAMMES, "Not read at all."]
    ranked = [ScoredSentence(i, "a", i, 0, len(t), t, 0, np.zeros(0), score=0.9 - i / 10) for i, t in enumerate(texts)]
    question = "How many kilogrammes of illicit drugs were seized in 2019?"
    out = rerank(reader, question, ranked)
    assert [s.text for s in out] == sorted(texts[:2], key=lambda t: -reader.read(question, [t])[0].logit)
    for s in out:
        assert s.reading is not None
        assert s.score == pytest.approx(1 / (1 + np.exp(-s.reading.logit)), rel=1e-6)


def test_a_rescoring_reader_brings_its_own_threshold(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from qa.assistant import Assistant

    reader = load_reader(seed_assistant.encoder)
    assert not reader.config.rescore and seed_assistant.threshold == seed_assistant.weights.threshold
    reader.config = dataclasses.replace(reader.config, rescore=True, threshold=0.999)
    strict = Assistant(
        seed_assistant.settings, encoder=seed_assistant.encoder, index_dir=seed_assistant.index_dir,
        auto_ingest=False, reader=reader,
    )  # fmt: skip
    assert strict.threshold == 0.999
    assert not strict.answer("how many kilograms were seized in 2019?").found
