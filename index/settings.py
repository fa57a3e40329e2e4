"""The one settings object: where the index lives, which model encodes, how text is cut.

Values come from keyword arguments, then `QA_*` environment variables, then the defaults below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "corpus"


def _default_index_dir() -> Path:
    return Path(user_data_dir("newsqa", appauthor=False)) / "index"


def _default_model_cache() -> Path:
    return Path(user_cache_dir("newsqa", appauthor=False)) / "encoder"


class Settings(BaseSettings):
    """Everything that can be configured, passed down from the entry points."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Field(default_factory=_default_index_dir, description="Where the index is stored.")
    corpus_dir: Path = Field(default=DEFAULT_CORPUS, description="Corpus indexed automatically on first use.")
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_sha256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    chunk_max_tokens: int = Field(default=200, description="Word pieces per chunk; the encoder stops at 256.")
    encode_batch_size: int = 64
    encoder: Literal["int8", "fp32"] = Field(
        default="int8", description="How the encoder runs in onnxruntime: int8-quantised (fast) or fp32 (exact)."
    )
    model_cache_dir: Path = Field(
        default_factory=_default_model_cache, description="Where the encoder's ONNX export is cached."
    )
    max_file_bytes: int = Field(default=20 * 1024 * 1024, description="Larger input files are skipped.")
    max_article_chars: int = Field(
        default=500_000,
        description="Articles longer than this after clean-up (about 80,000 words) are skipped with a reason.",
    )
    approximate_above: int = Field(
        default=20_000, description="Rows of a segment above which its dense index is HNSW instead of exact search."
    )
    segment_sentences: int = Field(
        default=50_000, description="Sentences an ingest gathers before writing them out as one segment."
    )
    max_segments: int = Field(
        default=8, description="Segments an index may have before an ingest merges the smallest neighbours."
    )
    store: Literal["local", "milvus"] = Field(
        default="local", description="Where the index is kept: local segments (FAISS) or Milvus (QA_STORE)."
    )
    milvus_uri: str | None = Field(
        default=None,
        description="A milvus-lite file or a Milvus server address (http://host:19530); default <index_dir>/milvus.db.",
    )
    milvus_token: str | None = Field(default=None, description="Milvus credentials (user:password or an API key).")
    keep_snapshots: int = Field(default=2, description="Index snapshots kept on disk (the live one included).")
