"""Shared fixtures: the real encoder and an assistant over the bundled corpus, each made once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from newsqa.paths import CORPUS_DIR

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SEED_ARTICLE = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"


@pytest.fixture(scope="session")
def encoder():  # type: ignore[no-untyped-def]
    """The real packaged MiniLM encoder (hash-checked), loaded once."""
    from index.encoder import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def settings_factory(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Make Settings pointing at a fresh index directory."""
    from newsqa.settings import Settings

    def make(**overrides: object) -> Settings:
        index_dir = tmp_path_factory.mktemp("index")
        return Settings(index_dir=index_dir, **overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def seed_assistant(encoder, settings_factory) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """An Assistant over the bundled corpus only, in its own index directory."""
    from qa.assistant import Assistant

    assistant = Assistant(settings_factory(), encoder=encoder)
    yield assistant
