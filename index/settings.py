"""The one settings object: where the index lives, which model encodes, how text is cut.

Values come from keyword arguments, then `QA_*` environment variables, then a `newsqa.toml` file, then the
defaults below. The file is `$QA_CONFIG` when set, else `newsqa.toml` in the working folder, else
`newsqa.toml` in the user config folder (~/.config/newsqa/ on Linux); its keys are the field names below
(`index_dir = "/srv/news-index"`, `max_file_bytes = 50_000_000`), at the top level or under an `[index]` table.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from index.models import IndexStoreError
from newsqa.paths import CORPUS_DIR as DEFAULT_CORPUS


def _default_index_dir() -> Path:
    return Path(user_data_dir("newsqa", appauthor=False)) / "index"


def _default_model_cache() -> Path:
    return Path(user_cache_dir("newsqa", appauthor=False)) / "encoder"


class SettingsFileError(IndexStoreError, ValueError):
    """The settings file is missing where $QA_CONFIG says, or is not valid TOML; the message says which."""


CONFIG_ENV = "QA_CONFIG"
CONFIG_NAME = "newsqa.toml"


def config_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file in use: $QA_CONFIG, ./newsqa.toml, or the user config folder's newsqa.toml; None if
    there is none (a $QA_CONFIG that names no file is an error, so a typo is not silently ignored)."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsFileError(f"{CONFIG_ENV}={named}: no such settings file")
        return path
    for candidate in (Path.cwd() / CONFIG_NAME, Path(user_config_dir("newsqa", appauthor=False)) / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def config_table(name: str) -> dict[str, Any]:
    """A table of the settings file (e.g. [ui], read by the web chat), or {} when there is none."""
    path = config_file()
    if path is None:
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get(name)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(f"{path}: not a readable TOML settings file ({exc})") from None
    return dict(table) if isinstance(table, dict) else {}


class _TomlSettings(PydanticBaseSettingsSource):
    """The settings file's values: top-level keys, or those of an [index] table (unknown keys are ignored,
    as other tables, such as [ui], are read by their own parts)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.values: dict[str, Any] = {}
        path = config_file()
        if path is None:
            return
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsFileError(f"{path}: not a readable TOML settings file ({exc})") from None
        index_table = data.get("index")
        table: dict[str, Any] = index_table if isinstance(index_table, dict) else {}
        flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
        self.values = {k: v for k, v in {**flat, **table}.items() if k in settings_cls.model_fields}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


class Settings(BaseSettings):
    """Everything that can be configured, passed down from the entry points."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments, then QA_* variables, then newsqa.toml, then the defaults.
        return init_settings, env_settings, _TomlSettings(settings_cls)

    index_dir: Path = Field(default_factory=_default_index_dir, description="Where the index is stored.")
    corpus_dir: Path = Field(default=DEFAULT_CORPUS, description="Corpus indexed automatically on first use.")
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_sha256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    chunk_max_tokens: int = Field(default=200, description="Word pieces per chunk; the encoder stops at 256.")
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
