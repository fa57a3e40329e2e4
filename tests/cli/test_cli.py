"""The `qa` command as a user meets it: exit codes, help for every argument, options after the subcommand, many
questions in one process, and commands that need no model starting without torch."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cli
from newsqa.paths import REPO_ROOT
from qa.assistant import Assistant

SEED_QUESTION = "how many kilograms were seized in 2019?"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(extra)
    return env


@pytest.fixture
def index_copy(seed_assistant: Assistant, tmp_path: Path) -> Path:
    """A copy of the bundled corpus's index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(seed_assistant.index_dir, target)
    return target


def test_an_empty_question_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for question in ("", "   "):
        assert cli.main(["ask", question]) == 2
        assert "the question is empty" in capsys.readouterr().err
    assert cli.main(["ask"]) == 2  # neither a question nor --file
    assert "give one question, or --file" in capsys.readouterr().err


def test_upgrade_of_a_current_index_says_so_and_succeeds(
    seed_assistant: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["upgrade", "--index-dir", str(seed_assistant.index_dir)]) == 0
    assert "is current" in capsys.readouterr().out


def test_upgrade_without_an_index_says_how_to_make_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--index-dir", str(tmp_path / "none"), "upgrade"]) == 2
    assert "qa ingest PATH" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["train-reader", "train", "--help"], "--max-seconds"),
        (["train-reader", "train", "--", "--help"], "--max-seconds"),
        (["train-reader", "refuse", "--help"], "--init"),
    ],
)
def test_train_reader_help_lists_the_trainers_options(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: qa train-reader {argv[1]}") and "--data" in out and option in out


def test_train_reader_help_points_to_a_command_that_works(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["train-reader", "--help"])
    assert "qa train-reader train --help" in " ".join(capsys.readouterr().out.split())


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[name] = child
                found.update({f"{name} {k}": v for k, v in _subparsers(child).items()})
    return found


def test_every_argument_has_help_and_the_exit_codes_are_listed() -> None:
    parser = cli.build_parser()
    commands = _subparsers(parser)
    assert {"ingest", "ask", "remove", "stats", "repair", "upgrade", "compact", "serve", "eval"} <= set(commands)
    missing = [
        f"{name}: {action.dest}"
        for name, command in [("qa", parser), *commands.items()]
        for action in command._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert not missing, f"arguments without help: {missing}"
    assert "exit codes:" in parser.format_help() and "3  not found" in parser.format_help()
    assert "exit codes:" in commands["ask"].format_help()


def test_index_dir_is_accepted_after_the_subcommand(
    seed_assistant: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    where = str(seed_assistant.index_dir)
    assert cli.main(["stats", "--json", "--index-dir", where]) == 0
    after = json.loads(capsys.readouterr().out)
    assert cli.main(["--index-dir", where, "stats", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert after["index_dir"] == before["index_dir"] == where and after["articles"] == 1


def _without_torch(code: str, index_dir: Path) -> dict:
    """Run `code` (which calls cli.main) in a fresh interpreter; report what it returned, printed and loaded."""
    probe = (
        "import json, sys, time\n"
        "started = time.perf_counter()\n"
        "from cli import main\n"
        f"{code}\n"
        "print(json.dumps({'code': code, 'seconds': time.perf_counter() - started,"
        " 'loaded': sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'gradio')"
        " if m in sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True, timeout=120,
        env=_env(QA_INDEX_DIR=str(index_dir)), cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # -X importtime lists every module imported, with its cumulative microseconds: torch must not be among them.
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    result["imported"] = imported
    return result


def test_stats_remove_and_repair_never_import_torch(index_copy: Path) -> None:
    """`qa stats`, `qa remove` and `qa repair` touch only the index: no torch, transformers or gradio import
    (the answering reader and the chat are what made every command take seconds)."""
    for code in (
        "code = main(['stats'])",
        "code = main(['repair'])",
        "code = main(['remove', 'no-such-article'])",  # unknown id: reported, exit 1
        "code = main(['stats', '--articles'])",
    ):
        result = _without_torch(code, index_copy)
        assert result["loaded"] == [], (code, result["loaded"])
        assert "torch" not in result["imported"] and "transformers" not in result["imported"]
        assert result["code"] == (1 if "remove" in code else 0), code
    listing = subprocess.run(
        [sys.executable, "-m", "cli", "stats", "--articles"], capture_output=True, text=True, timeout=120,
        env=_env(QA_INDEX_DIR=str(index_copy)), cwd=REPO_ROOT,
    )  # fmt: skip
    article_id = listing.stdout.strip().splitlines()[-1].split()[0]
    result = _without_torch(f"code = main(['remove', {article_id!r}])", index_copy)
    assert result["code"] == 0 and result["loaded"] == []
    stats = subprocess.run(
        [sys.executable, "-m", "cli", "stats", "--json"], capture_output=True, text=True, timeout=120,
        env=_env(QA_INDEX_DIR=str(index_copy)), cwd=REPO_ROOT,
    )  # fmt: skip
    assert json.loads(stats.stdout)["articles"] == 0


def test_stats_starts_in_about_a_second(seed_assistant: Assistant) -> None:
    """Wall time of a whole `qa stats` process: under a second on a quiet machine; the bound here leaves room
    for a busy test machine but fails when the answering stack (torch, ~6 s) is loaded again."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "stats"], capture_output=True, text=True, timeout=120,
        env=_env(QA_INDEX_DIR=str(seed_assistant.index_dir)), cwd=REPO_ROOT,
    )  # fmt: skip
    took = time.perf_counter() - started
    assert done.returncode == 0 and "articles    1" in done.stdout
    assert took < 4.0, f"qa stats took {took:.1f} s"


def test_ask_answers_a_file_of_questions_as_json_lines(
    seed_assistant: Assistant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{SEED_QUESTION}\n\nwhat is the capital of Peru?\n", encoding="utf-8")
    index = ["--index-dir", str(seed_assistant.index_dir)]
    # One question not found: exit 3, and both are answered, one JSON object per line.
    assert cli.main(["ask", "--file", str(questions), "--json", *index]) == 3
    lines = capsys.readouterr().out.strip().splitlines()
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == [SEED_QUESTION, "what is the capital of Peru?"]
    assert answers[0]["found"] and "720 kilogrammes" in answers[0]["sentences"][0]["text"]
    assert not answers[1]["found"]


def test_ask_reads_questions_from_standard_input(seed_assistant: Assistant) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ask", "-f", "-", "--json"], input=f"{SEED_QUESTION}\n",
        capture_output=True, text=True, timeout=300, env=_env(QA_INDEX_DIR=str(seed_assistant.index_dir)),
        cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (answer,) = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert answer["found"] and answer["sentences"][0]["span"]["text"] == "720 kilogrammes"


def test_ingest_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    article = tmp_path / "note.txt"
    article.write_text("Harbour City police seized 310 kilogrammes of heroin in 2018, the force said.", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", "--quiet", str(article), "--index-dir", str(tmp_path / "i")],
        capture_output=True, text=True, timeout=300, env=_env(), cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == "" and done.stdout.startswith("1 added")
