"""The settings tree (newsqa/settings.py): each section from its QA_* variables and its newsqa.toml table, the
names that worked before the sections still working, which source wins, and errors that name the variable or
the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from newsqa.settings import (
    FLAT_NAMES,
    SECTIONS,
    AnsweringSettings,
    EncoderSettings,
    IndexSettings,
    Settings,
    SettingsError,
    SettingsFileError,
    UISettings,
    config_file,
    configured_threads,
)

# Every variable that set something before the settings had sections, with the field it still sets.
VARIABLES_OF_BEFORE = {
    "QA_INDEX_DIR": ("index", "index_dir", "/srv/index", Path("/srv/index")),
    "QA_CORPUS_DIR": ("index", "corpus_dir", "/srv/corpus", Path("/srv/corpus")),
    "QA_CHUNK_MAX_TOKENS": ("index", "chunk_max_tokens", "150", 150),
    "QA_MAX_FILE_BYTES": ("index", "max_file_bytes", "99", 99),
    "QA_MAX_ARTICLE_CHARS": ("index", "max_article_chars", "1000", 1000),
    "QA_APPROXIMATE_ABOVE": ("index", "approximate_above", "10", 10),
    "QA_SEGMENT_SENTENCES": ("index", "segment_sentences", "500", 500),
    "QA_MAX_SEGMENTS": ("index", "max_segments", "3", 3),
    "QA_STORE": ("index", "store", "milvus", "milvus"),
    "QA_MILVUS_URI": ("index", "milvus_uri", "http://127.0.0.1:19530", "http://127.0.0.1:19530"),
    "QA_MILVUS_TOKEN": ("index", "milvus_token", "reader:s3cret", "reader:s3cret"),
    "QA_KEEP_SNAPSHOTS": ("index", "keep_snapshots", "4", 4),
    "QA_MODEL_NAME": ("encoder", "model_name", "other/model", "other/model"),
    "QA_MODEL_SHA256": ("encoder", "model_sha256", "0" * 64, "0" * 64),
    "QA_ENCODER": ("encoder", "precision", "fp32", "fp32"),
    "QA_MODEL_CACHE_DIR": ("encoder", "model_cache_dir", "/tmp/onnx", Path("/tmp/onnx")),
    "QA_UI_HOST": ("ui", "host", "0.0.0.0", "0.0.0.0"),
    "QA_UI_PORT": ("ui", "port", "9000", 9000),
    "QA_UI_ALLOWED_HOSTS": ("ui", "allowed_hosts", "news.example, 10.0.0.5", ["news.example", "10.0.0.5"]),
    "QA_UI_TRUSTED_PROXIES": ("ui", "trusted_proxies", "127.0.0.1", ["127.0.0.1"]),
}


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in a folder of its own, with no settings file of the user's and no QA_* variables in play."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    import os

    for name in [n for n in os.environ if n.upper().startswith("QA_")]:
        monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


def write_config(text: str) -> None:
    Path("newsqa.toml").write_text(text, encoding="utf-8")


# --- the tree and its names ----------------------------------------------------------------------------------


def test_the_defaults_are_those_of_before() -> None:
    settings = Settings()
    assert (settings.index.store, settings.index.keep_snapshots, settings.index.chunk_max_tokens) == ("local", 2, 200)
    assert settings.index.max_file_bytes == 20 * 1024 * 1024 and settings.encoder.precision == "int8"
    assert settings.answering == AnsweringSettings(threshold=None, top_k=3, chunks=8, depth=40)
    assert (settings.ui.host, settings.ui.port, settings.ui.username, settings.ui.allowed_hosts) == (
        "127.0.0.1", 7860, None, []
    )  # fmt: skip
    assert settings.threads is None


def test_each_section_is_its_own_table_and_prefix() -> None:
    assert list(SECTIONS) == ["index", "encoder", "answering", "ui"]
    assert all(name in Settings.model_fields for name in SECTIONS)
    assert [IndexSettings.variable("index_dir"), EncoderSettings.variable("model_name")] == [
        "QA_INDEX_DIR", "QA_MODEL_NAME"
    ]  # fmt: skip
    assert AnsweringSettings.variable("threshold") == "QA_ANSWER_THRESHOLD"
    assert UISettings.variable("allowed_hosts") == "QA_UI_ALLOWED_HOSTS"
    flat = [name for name in FLAT_NAMES if name not in ("encoder", "threads")]
    assert len(set(flat)) == len(flat) == len(IndexSettings.model_fields) + len(EncoderSettings.model_fields) - 1


@pytest.mark.parametrize("variable", VARIABLES_OF_BEFORE)
def test_every_variable_of_before_sets_the_same_setting(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    section, field, text, value = VARIABLES_OF_BEFORE[variable]
    monkeypatch.setenv(variable, text)
    assert getattr(getattr(Settings(), section), field) == value
    monkeypatch.setenv(variable.lower(), text)  # names are matched in any case, as before
    monkeypatch.delenv(variable)
    assert getattr(getattr(Settings(), section), field) == value


def test_the_new_sections_read_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ANSWER_THRESHOLD", "0.4")
    monkeypatch.setenv("QA_ANSWER_TOP_K", "5")
    monkeypatch.setenv("QA_ANSWER_CHUNKS", "12")
    monkeypatch.setenv("QA_ANSWER_DEPTH", "60")
    monkeypatch.setenv("QA_THREADS", "2")
    settings = Settings()
    assert settings.answering == AnsweringSettings(threshold=0.4, top_k=5, chunks=12, depth=60)
    assert settings.threads == 2 and configured_threads() == 2


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config("keep_snapshots = 3\n")
    monkeypatch.setenv("QA_KEEP_SNAPSHOTS", "")
    monkeypatch.setenv("QA_MILVUS_URI", " ")
    monkeypatch.setenv("QA_THREADS", "")
    settings = Settings()
    assert (settings.index.keep_snapshots, settings.index.milvus_uri, settings.threads) == (3, None, None)


# --- the file ------------------------------------------------------------------------------------------------


def test_a_newsqa_toml_in_the_working_folder_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        'index_dir = "/srv/news-index"\nkeep_snapshots = 3\n[index]\nmax_file_bytes = 1234\n[ui]\nport = 9000\n'
    )
    settings = Settings()
    assert (settings.index.index_dir, settings.index.keep_snapshots, settings.index.max_file_bytes) == (
        Path("/srv/news-index"), 3, 1234
    )  # fmt: skip
    assert settings.ui.port == 9000
    monkeypatch.setenv("QA_MAX_FILE_BYTES", "99")  # a variable wins over the file
    assert Settings().index.max_file_bytes == 99
    assert Settings(max_file_bytes=7).index.max_file_bytes == 7  # and an argument over both


def test_each_section_has_its_table_and_the_older_keys_still_count() -> None:
    write_config(
        'encoder = "fp32"\nthreads = 3\nmodel_name = "top/level"\n'
        '[index]\nstore = "milvus"\nmodel_cache_dir = "/tmp/under-index"\n'
        "[answering]\nthreshold = 0.3\ntop_k = 2\n"
        '[ui]\nusername = "ann"\npassword = "s3cret"\nallowed_hosts = "news.example, 10.0.0.5"\n'
        'trusted_proxies = ["10.0.0.0/8"]\n'
    )
    settings = Settings()
    assert (settings.encoder.precision, settings.encoder.model_name) == ("fp32", "top/level")
    assert (settings.index.store, settings.encoder.model_cache_dir) == ("milvus", Path("/tmp/under-index"))
    assert (settings.answering.threshold, settings.answering.top_k, settings.threads) == (0.3, 2, 3)
    assert settings.ui.username == "ann" and settings.ui.password == SecretStr("s3cret")
    assert (settings.ui.allowed_hosts, settings.ui.trusted_proxies) == (["news.example", "10.0.0.5"], ["10.0.0.0/8"])


def test_a_section_table_wins_over_the_older_places() -> None:
    write_config(
        'keep_snapshots = 3\nmodel_name = "top/level"\n'
        '[index]\nkeep_snapshots = 4\nmodel_name = "under/index"\n'
        '[encoder]\nmodel_name = "the/table"\nprecision = "fp32"\n'
    )
    settings = Settings()
    assert (settings.index.keep_snapshots, settings.encoder.model_name, settings.encoder.precision) == (
        4, "the/table", "fp32"
    )  # fmt: skip


def test_keys_no_setting_takes_are_left_alone() -> None:
    write_config('mystery = 1\n[index]\nalso_unknown = 2\n[other]\nx = 1\n[ui]\ntheme = "dark"\n')
    assert Settings() == Settings.model_validate({})


def test_qa_config_names_the_file_and_the_user_folder_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config_file() is None and Settings().index.keep_snapshots == 2
    user = tmp_path / "xdg" / "newsqa" / "newsqa.toml"
    user.parent.mkdir(parents=True)
    user.write_text("keep_snapshots = 4\n", encoding="utf-8")
    assert config_file() == user and Settings().index.keep_snapshots == 4
    named = tmp_path / "elsewhere.toml"
    named.write_text("keep_snapshots = 5\n", encoding="utf-8")
    monkeypatch.setenv("QA_CONFIG", str(named))
    assert Settings().index.keep_snapshots == 5
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(SettingsFileError, match=r"QA_CONFIG=.*typo\.toml: no such settings file"):
        Settings()


def test_a_broken_settings_file_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    write_config("index_dir = \n")
    with pytest.raises(SettingsFileError, match=r"newsqa.toml: not a readable TOML settings file \(Invalid value"):
        Settings()
    assert configured_threads() is None  # at `import index`, the file is left to be reported here
    from cli import main

    assert main(["stats"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "newsqa.toml: not a readable TOML" in err


# --- which source wins -----------------------------------------------------------------------------------------


def test_arguments_take_flat_names_or_sections_over_variables_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('store = "milvus"\nkeep_snapshots = 3\n[answering]\ntop_k = 2\ndepth = 50\n')
    monkeypatch.setenv("QA_KEEP_SNAPSHOTS", "4")
    monkeypatch.setenv("QA_ANSWER_TOP_K", "4")
    settings = Settings(index_dir="/srv/index", encoder="fp32", answering={"threshold": 0.5})
    assert (settings.index.index_dir, settings.index.store, settings.index.keep_snapshots) == (
        Path("/srv/index"), "milvus", 4
    )  # fmt: skip
    assert settings.encoder.precision == "fp32"
    assert settings.answering == AnsweringSettings(threshold=0.5, top_k=4, chunks=8, depth=50)
    whole = Settings(answering=AnsweringSettings(threshold=0.5))  # a section given whole is taken as it is
    assert whole.answering == AnsweringSettings(threshold=0.5)


def test_a_copy_takes_flat_names_too() -> None:
    settings = Settings(store="milvus")
    moved = settings.model_copy(update={"index_dir": Path("/elsewhere"), "encoder": "fp32", "threads": 1})
    assert (moved.index.index_dir, moved.index.store, moved.encoder.precision, moved.threads) == (
        Path("/elsewhere"), "milvus", "fp32", 1
    )  # fmt: skip
    assert settings.index.index_dir != Path("/elsewhere") and settings.encoder.precision == "int8"


def test_the_sign_in_comes_whole_from_one_source(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('[ui]\nusername = "ann"\npassword = "s3cret"\nport = 9000\n')
    assert UISettings.read().username == "ann"
    monkeypatch.setenv("QA_UI_USERNAME", "editor")  # half a sign-in in the environment is not completed by the file
    ui = UISettings.read()
    assert (ui.username, ui.password, ui.port) == ("editor", None, 9000)
    assert UISettings.read({"QA_UI_PASSWORD": "x"}, config=False).username is None
    assert UISettings.read({}, config=False) == UISettings()  # an environment given is read alone


# --- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("QA_KEEP_SNAPSHOTS", "two", r"QA_KEEP_SNAPSHOTS \(\[index\] keep_snapshots in newsqa.toml\): .*integer"),
        ("QA_STORE", "s3", r"QA_STORE \(\[index\] store in newsqa.toml\): Input should be 'local' or 'milvus'"),
        ("QA_ANSWER_THRESHOLD", "1.5", r"QA_ANSWER_THRESHOLD .*less than or equal to 1, not '1.5'"),
        ("QA_UI_PORT", "web", r"QA_UI_PORT \(\[ui\] port in newsqa.toml\): .*integer, not 'web'"),
        ("QA_THREADS", "many", r"^QA_THREADS must be a whole number of threads, not 'many'$"),
    ],
)
def test_a_value_of_the_wrong_kind_is_named_in_one_line(
    variable: str, value: str, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=says):
        Settings()
    from cli import main

    assert main(["stats"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qa: {variable}") and err.count("\n") == 1


def test_a_password_of_the_wrong_kind_is_not_shown() -> None:
    write_config("[ui]\npassword = 12345678\n")
    with pytest.raises(SettingsError, match=r"QA_UI_PASSWORD .*not \(hidden\)") as raised:
        Settings()
    assert "12345678" not in str(raised.value)


# --- the chat's [ui] table, as qa serve reads it ---------------------------------------------------------------


def test_the_chat_reads_its_ui_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.guard import allowed_hosts
    from ui.server import sign_in

    write_config(
        '[ui]\nhost = "0.0.0.0"\nport = 9000\nusername = "ann"\npassword = "s3cret"\n'
        'allowed_hosts = ["news.example", "10.0.0.5"]\n'
    )
    ui = Settings().ui
    assert (ui.host, ui.port) == ("0.0.0.0", 9000)
    assert sign_in(ui) == ("ann", "s3cret") and allowed_hosts(ui.allowed_hosts) == ["news.example", "10.0.0.5"]
    monkeypatch.setenv("QA_UI_PORT", "7000")
    assert Settings().ui.port == 7000
    assert sign_in(UISettings.read({}, config=False)) is None  # an environment read alone leaves the file out
    write_config("")
    assert Settings().ui.host == "127.0.0.1"
