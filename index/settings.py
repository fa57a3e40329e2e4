"""The one settings object: where the index lives, which model encodes, how text is cut.

Values come from keyword arguments, then `QA_*` environment variables, then the defaults below.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "corpus"


def _default_index_dir() -> Path:
    return Path(user_data_dir("newsqa", appauthor=False)) / "index"


class Settings(BaseSettings):
    """Everything that can be configured, passed down from the entry points."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Field(default_factory=_default_index_dir, description="Where the index is stored.")
    corpus_dir: Path = Field(default=DEFAULT_CORPUS, description="Corpus indexed automatically on first use.")
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_sha256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    chunk_max_tokens: int = Field(default=200, description="Word pieces per chunk; the encoder stops at 256.")
    encode_batch_size: int = 64
    max_file_bytes: int = Field(default=20 * 1024 * 1024, description="Larger input files are skipped.")
    approximate_above: int = Field(
        default=50_000, description="Chunk count above which the dense index is HNSW instead of exact search."
    )
    keep_snapshots: int = Field(default=2, description="Index snapshots kept on disk (the live one included).")
