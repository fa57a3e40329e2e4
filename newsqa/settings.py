"""The one settings tree: every part of the product reads what can be configured from here.

`Settings` is made at the entry points (the `qa` command, the web chat, `qa.answer`) and passed down; each
part reads its section:

    Settings
    ├── index: IndexSettings          where the index lives, how articles are cut, the limits, the store
    ├── encoder: EncoderSettings      the embedding model and how it runs
    ├── answering: AnsweringSettings  the abstention threshold, how deep retrieval goes, sentences per answer
    ├── ui: UISettings                qa serve: address, sign-in, extra host names, trusted proxies
    └── threads                       CPU threads for the encoder and FAISS (None: every CPU the process may use)

Each value comes from a keyword argument, else its `QA_*` environment variable, else a `newsqa.toml` file, else
the default below; an empty value counts as unset. A field's variable is its section's prefix and its name in
capitals: `QA_INDEX_DIR`, `QA_MODEL_NAME`, `QA_ANSWER_THRESHOLD`, `QA_UI_PORT`, `QA_THREADS` (the encoder's
`precision` alone keeps its older name, `QA_ENCODER`).

The file is `$QA_CONFIG` when set, else `newsqa.toml` in the working folder, else `newsqa.toml` in the user config
folder (~/.config/newsqa/ on Linux). Its tables are the sections: [index], [encoder], [answering], [ui]. As in
files written before there were sections, the index's and the encoder's keys (`encoder = "fp32"` for the
precision) and `threads` may also stand at the top level, and the encoder's under [index]. Keyword arguments
and `model_copy(update=...)` take the same flat names: `Settings(index_dir=path, store="milvus")`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newsqa.errors import NewsQAError
from newsqa.paths import CORPUS_DIR

CONFIG_ENV = "QA_CONFIG"
CONFIG_NAME = "newsqa.toml"
THREADS_ENV = "QA_THREADS"


class SettingsError(NewsQAError, ValueError):
    """A setting that cannot be used: a value of the wrong kind, or a settings file that cannot be read; the
    message names the variable or the file."""


class SettingsFileError(SettingsError):
    """The settings file is missing where $QA_CONFIG says, or is not valid TOML; the message says which."""


def _default_index_dir() -> Path:
    return Path(user_data_dir("newsqa", appauthor=False)) / "index"


def _default_model_cache() -> Path:
    return Path(user_cache_dir("newsqa", appauthor=False)) / "encoder"


class Section(BaseModel):
    """A section of the tree: its fields, the prefix of their variables and its table in newsqa.toml."""

    model_config = ConfigDict(extra="forbid")

    table: ClassVar[str]  # its name in `Settings` and its [table] in newsqa.toml
    env_prefix: ClassVar[str] = "QA_"
    env_names: ClassVar[dict[str, str]] = {}  # fields whose variable is not env_prefix + NAME

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of `field`."""
        return cls.env_names.get(field, f"{cls.env_prefix}{field.upper()}")

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None, *, config: bool = True) -> Self:
        """This section alone, as `Settings()` reads it: the `QA_*` variables of `environ` (default: this
        process's) over the settings file (`config=False`: the variables alone)."""
        values = dict(file_values().get(cls.table, {})) if config else {}
        values.update(environment_values(environ).get(cls.table, {}))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_described(exc, cls.table)) from None


class IndexSettings(Section):
    """Where the index lives, what is indexed first, how articles are cut and bounded, and which store keeps it."""

    table = "index"

    index_dir: Path = Field(default_factory=_default_index_dir, description="Where the index is stored.")
    corpus_dir: Path = Field(default=CORPUS_DIR, description="Corpus indexed automatically on first use.")
    chunk_max_tokens: int = Field(default=200, description="Word pieces per chunk; the encoder stops at 256.")
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


class EncoderSettings(Section):
    """The embedding model (its weights are hash-checked) and how onnxruntime runs it."""

    table = "encoder"
    env_names = {"precision": "QA_ENCODER"}

    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    model_sha256: str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    precision: Literal["int8", "fp32"] = Field(
        default="int8", description="How the encoder runs in onnxruntime: int8-quantised (fast) or fp32 (exact)."
    )
    model_cache_dir: Path = Field(
        default_factory=_default_model_cache, description="Where the encoder's ONNX export is cached."
    )


class AnsweringSettings(Section):
    """How the answer path (qa/answering/) retrieves and decides. The defaults are what was fitted and measured;
    the threshold's own default is the one fitted with the reader (docs/answering.md)."""

    table = "answering"
    env_prefix = "QA_ANSWER_"

    # None: the threshold fitted with the reader (qa/reader/reader.json), or with the linear scorer when answering
    # without the reader (qa/scorer_weights.json).
    threshold: float | None = Field(default=None, ge=0.0, le=1.0, description="Abstain below this probability.")
    top_k: int = Field(
        default=3, ge=1, description="Sentences per answer when the caller does not say (qa.answer, the chat)."
    )
    chunks: int = Field(
        default=8, ge=1, description="Chunks, best first after fusing the rankings, whose sentences are the candidates."
    )
    depth: int = Field(
        default=40, ge=1, description="Hits each ranking (dense chunks, dense sentences, BM25) gives to the fusion."
    )


class UISettings(Section):
    """`qa serve`: where the chat listens, the sign-in it asks for, and which host names and proxies it trusts
    (ui/server.py, ui/guard.py check them when the chat starts)."""

    table = "ui"
    env_prefix = "QA_UI_"

    host: str = Field(default="127.0.0.1", description="Address to bind; 0.0.0.0 serves every interface.")
    port: int = Field(default=7860, description="Port to listen on.")
    username: str | None = Field(default=None, description="With password: visitors must sign in.")
    password: SecretStr | None = Field(default=None, description="With username: visitors must sign in.")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Host names served besides the bind address (a list, or text with commas)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies whose X-Forwarded-For names the client (addresses or networks; none: trust none).",
    )

    @field_validator("allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        """Text separated by commas (as a variable gives it) or a list (of such text); blanks dropped."""
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            return [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return value


SECTIONS: dict[str, type[Section]] = {
    s.table: s for s in (IndexSettings, EncoderSettings, AnsweringSettings, UISettings)
}

# The names a keyword argument or a top-level key of newsqa.toml may use, and the field each sets: the index's and
# the encoder's fields (as when the settings were the index's alone) and `threads`.
FLAT_NAMES: dict[str, str] = {
    **{name: f"index.{name}" for name in IndexSettings.model_fields},
    **{name: f"encoder.{name}" for name in EncoderSettings.model_fields if name != "precision"},
    "encoder": "encoder.precision",
    "threads": "threads",
}


def thread_setting(value: object) -> int | None:
    """A `threads` value as the pools take it: None (unset), or a whole number, at least 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return max(1, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"{THREADS_ENV} must be a whole number of threads, not {value!r}") from None


class Settings(BaseSettings):
    """Everything that can be configured, by section (see the module docstring), passed down from the entry
    points."""

    model_config = SettingsConfigDict(extra="ignore")

    index: IndexSettings = Field(default_factory=IndexSettings)
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    ui: UISettings = Field(default_factory=UISettings)
    threads: int | None = Field(
        default=None, description="CPU threads for the encoder and FAISS (QA_THREADS); None: every usable CPU."
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_described(exc)) from None

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
        return init_settings, _Source(settings_cls, environment_values), _Source(settings_cls, file_values)

    @model_validator(mode="before")
    @classmethod
    def _sections_of_flat_names(cls, data: Any) -> Any:
        return nest(data) if isinstance(data, Mapping) else data

    @field_validator("threads", mode="before")
    @classmethod
    def _whole_threads(cls, value: object) -> int | None:
        return thread_setting(value)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with `update` applied, unvalidated as pydantic's own; a flat name (`index_dir`, `store`,
        `encoder="fp32"`) changes that field of its section, as in the constructor."""
        nested = nest(update or {})
        for name in SECTIONS:
            if isinstance(nested.get(name), dict):
                nested[name] = getattr(self, name).model_copy(update=nested[name], deep=deep)
        return super().model_copy(update=nested, deep=deep)


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with each flat name (`FLAT_NAMES`) moved into its section, over what the section's own entry
    gives. `encoder` is the section when given a mapping or an `EncoderSettings`, the precision when given text."""
    nested = dict(values)
    for flat, path in sorted(FLAT_NAMES.items(), key=lambda item: item[0] not in SECTIONS):  # `encoder` first
        if flat not in nested or "." not in path or (flat in SECTIONS and not isinstance(nested[flat], str)):
            continue
        section, field = path.split(".")
        value = nested.pop(flat)
        given = nested.get(section)
        given = given.model_dump() if isinstance(given, BaseModel) else dict(given or {})
        nested[section] = {**given, field: value}
    return nested


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


def file_values(path: Path | None = None) -> dict[str, Any]:
    """The settings the file gives (default: `config_file()`), by section: top-level keys and the [index] table
    by their flat names, then each section's table. Keys that no setting takes are left for other readers."""
    path = path or config_file()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(f"{path}: not a readable TOML settings file ({exc})") from None
    index_table = data.get("index")
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat.update(index_table if isinstance(index_table, dict) else {})
    values = nest({k: v for k, v in flat.items() if k in FLAT_NAMES})
    for name, section in SECTIONS.items():
        table = data.get(name)
        if isinstance(table, dict):
            values.setdefault(name, {}).update({k: v for k, v in table.items() if k in section.model_fields})
    return _without_empty(values)


def environment_values(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings the `QA_*` variables of `environ` (default: this process's) give, by section. Names are
    matched in any case. The sign-in is one setting: when either of its variables is set, the file's username
    and password are not used."""
    env = {k.upper(): v for k, v in (os.environ if environ is None else environ).items() if v.strip()}
    values: dict[str, Any] = {}
    for name, section in SECTIONS.items():
        variables = {field: section.variable(field) for field in section.model_fields}
        given: dict[str, str | None] = {field: env[v] for field, v in variables.items() if v in env}
        if name == "ui" and given.keys() & {"username", "password"}:
            given = {"username": None, "password": None, **given}  # None: unset, over the file's
        if given:
            values[name] = given
    if THREADS_ENV in env:
        values["threads"] = env[THREADS_ENV]
    return values


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    """`values` without empty text (an empty value counts as unset), nor the sections left empty."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _without_empty(value)
        if value != {} and not (isinstance(value, str) and not value.strip()):
            kept[key] = value
    return kept


class _Source(PydanticBaseSettingsSource):
    """One of the settings' sources (the variables, the file) as pydantic-settings takes it."""

    def __init__(self, settings_cls: type[BaseSettings], read: Callable[[], dict[str, Any]]) -> None:
        super().__init__(settings_cls)
        self.values = read()

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def configured_threads() -> int | None:
    """The `threads` setting alone (QA_THREADS, else the file's `threads`), for `index` to size the thread pools
    when it is imported, before torch or FAISS loads; a file that cannot be read is reported when the settings
    are, not here. Raises SettingsError for a value that is not a whole number."""
    value = environment_values().get("threads")
    if value is None:
        try:
            value = file_values().get("threads")
        except SettingsFileError:
            value = None
    try:
        return thread_setting(value)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _described(error: ValidationError, section: str | None = None) -> str:
    """A validation error in one line that names each setting's variable and newsqa.toml key."""
    parts = []
    for found in error.errors():
        where = [str(p) for p in ((section,) if section else ()) + tuple(found["loc"])]
        message = str(found["msg"]).removeprefix("Value error, ")
        if found["type"] == "value_error":
            parts.append(message)
        elif where[0] in SECTIONS and len(where) > 1 and where[1] in SECTIONS[where[0]].model_fields:
            named = f"{SECTIONS[where[0]].variable(where[1])} ([{where[0]}] {where[1]} in {CONFIG_NAME})"
            shown = "(hidden)" if where[1] == "password" else repr(found["input"])
            parts.append(f"{named}: {message}, not {shown}")
        else:
            parts.append(f"{'.'.join(where)}: {message}")
    return "; ".join(parts)
