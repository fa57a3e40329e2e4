"""Settings from a newsqa.toml as well as QA_* variables: which file, which wins, and errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.settings import Settings, SettingsFileError, config_file


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in a folder of its own, with no settings file of the user's and no QA_* variables in play."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for name in ("QA_CONFIG", "QA_INDEX_DIR", "QA_MAX_FILE_BYTES", "QA_UI_PORT", "QA_UI_USERNAME", "QA_UI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


def test_a_newsqa_toml_in_the_working_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("newsqa.toml").write_text(
        'index_dir = "/srv/news-index"\nkeep_snapshots = 3\n[index]\nmax_file_bytes = 1234\n[ui]\nport = 9000\n',
        encoding="utf-8",
    )
    settings = Settings()
    assert (settings.index_dir, settings.keep_snapshots, settings.max_file_bytes) == (Path("/srv/news-index"), 3, 1234)
    monkeypatch.setenv("QA_MAX_FILE_BYTES", "99")  # a variable wins over the file
    assert Settings().max_file_bytes == 99
    assert Settings(max_file_bytes=7).max_file_bytes == 7  # and an argument over both


def test_qa_config_names_the_file_and_the_user_folder_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert config_file() is None and Settings().keep_snapshots == 2
    user = tmp_path / "xdg" / "newsqa" / "newsqa.toml"
    user.parent.mkdir(parents=True)
    user.write_text("keep_snapshots = 4\n", encoding="utf-8")
    assert config_file() == user and Settings().keep_snapshots == 4
    named = tmp_path / "elsewhere.toml"
    named.write_text("keep_snapshots = 5\n", encoding="utf-8")
    monkeypatch.setenv("QA_CONFIG", str(named))
    assert Settings().keep_snapshots == 5
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(SettingsFileError, match=r"QA_CONFIG=.*typo\.toml: no such settings file"):
        Settings()


def test_a_broken_settings_file_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    Path("newsqa.toml").write_text("index_dir = \n", encoding="utf-8")
    with pytest.raises(SettingsFileError, match=r"newsqa.toml: not a readable TOML settings file \(Invalid value"):
        Settings()
    from cli import main

    assert main(["stats"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "newsqa.toml: not a readable TOML" in err


def test_the_chat_reads_its_ui_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.server import auth_from_env, configured_hosts, ui_default

    Path("newsqa.toml").write_text(
        '[ui]\nhost = "0.0.0.0"\nport = 9000\nusername = "ann"\npassword = "s3cret"\n'
        'allowed_hosts = ["news.example", "10.0.0.5"]\n',
        encoding="utf-8",
    )
    assert (ui_default("host", "127.0.0.1"), ui_default("port", "7860")) == ("0.0.0.0", "9000")
    assert auth_from_env() == ("ann", "s3cret") and configured_hosts() == ["news.example", "10.0.0.5"]
    monkeypatch.setenv("QA_UI_PORT", "7000")
    assert ui_default("port", "7860") == "7000"
    assert auth_from_env({}) is None  # an explicit environment is read alone (the tests of the sign-in rely on it)
