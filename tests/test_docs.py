"""Every code example in README.md and docs/*.md, run as written against a small index, so the docs cannot drift.

Each fenced block is found and sorted: Python blocks are executed; shell blocks have each `qa …` command parsed by
the real argument parser and then run, each `curl …` command run against a live server, and a `$ qa …` transcript
compared with the output it shows. Listings of commands (README's command table) are checked against the parser.
The server the examples talk to runs on a free port, so "127.0.0.1:7860" in an example is pointed at it; nothing
else in an example is changed. The few commands that cannot run inside a test are listed in NOT_RUN, each with its
reason; a new command the test does not know how to run fails the test until it runs or gets a reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import cli
from newsqa.paths import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
DOC_PORT = "127.0.0.1:7860"

# Commands (matched by their start) that are parsed or read but not run, and why.
NOT_RUN = {
    "python3 scripts/bootstrap.py": "sets up a virtual environment and installs the stack; the test suite is what "
    "its `test` command runs, and its steps are checked against the Dockerfile by tests/test_packaging.py",
    "qa serve": "serves until stopped; the examples below it run against the same server started by this test",
    "qa eval --dataset squad": "needs SQuAD v1.1/v2.0 and indexes all ~2,000 dev paragraphs (minutes); "
    "tests/qa/test_squad_regression.py runs the SQuAD path on a sample",
    "qa eval --dataset dated": "indexes 400 Reuters articles and asks 125 questions (minutes); "
    "tests/qa/test_dated_regression.py runs it",
    "qa eval --weights /tmp/train/": "needs the weights file `qa train-scorer` writes",
    "qa eval --dataset news": "indexes ~5,200 BBC and Reuters articles (news) or 545 passages for 940 questions "
    "(news-small, about 5 min) from ../shared/bench; tests/evaluation/test_news_set.py checks the set and "
    "pytest -m benchmark tests/qa/test_news_benchmark.py runs both",
    "qa train-reader": "training and calibration need SQuAD and hours of CPU (or a GPU); tests/training covers them",
    "python -m training.reader": "fine-tunes the reader on a GPU (parsed by the trainer's own parser here)",
    "python3 -m training.reader": "fine-tunes the reader on a GPU (parsed by the trainer's own parser here)",
    "cp data/": "copies training outputs that only exist after training",
    "python3 ../shared/tools/device_pack.py": "a packing tool of the GPU machine's workspace, not of this project",
    "pytest tests/": "the test suite itself",
    "docker build": "needs Docker and the network; tests/test_packaging.py checks the Dockerfile against "
    "scripts/bootstrap.py and pyproject.toml",
    ".venv/bin/python -m pytest": "the test suite itself",
    ".venv/bin/python benchmarks/": "a benchmark over a downloaded archive (minutes to hours)",
    "python benchmarks/": "a benchmark (minutes); benchmarks/ has its own smoke tests",
}
PYTHON_NOT_RUN = {
    "serve(host=": "serve() blocks until the server stops; the block after it runs the same server non-blocking",
}


@dataclass
class Block:
    path: Path
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


def fenced_blocks() -> list[Block]:
    blocks = []
    for path in DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        start = None
        for number, line in enumerate(lines, 1):
            if line.startswith("```") and start is None:
                start, language, body = number, line[3:].strip(), []
            elif line.startswith("```"):
                blocks.append(Block(path, start, language, "\n".join(body)))
                start = None
            elif start is not None:
                body.append(line)
    return blocks


SHELL_WORDS = ("qa ", "$ qa ", "python", "python3", "curl ", "cp ", "pytest ", ".venv/bin/python", "docker ")
BLOCKS = fenced_blocks()
PYTHON = [b for b in BLOCKS if b.language == "python"]
# A listing of commands with what each does (README's command table), not commands to run.
LISTINGS = [b for b in BLOCKS if not b.language and re.search(r"^qa \w+.*\S\s{2,}\S", b.text, re.M)]
SHELL = [
    b
    for b in BLOCKS
    if b.language in ("bash", "sh", "console")
    or (
        not b.language
        and b not in LISTINGS
        and any(line.lstrip().startswith(SHELL_WORDS) for line in b.text.splitlines())
    )
]


def commands(text: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, prompts, comments and heredoc bodies dropped."""
    found, heredoc, pending = [], None, ""
    for raw in text.splitlines():
        if heredoc is not None:
            heredoc = None if raw.strip() == heredoc else heredoc
            continue
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        stripped = line.strip()
        if stripped.startswith("$ "):
            stripped = stripped[2:]
        elif not stripped.startswith(SHELL_WORDS):
            continue  # a comment, or output shown after a command
        if match := re.search(r"<<\s*'?(\w+)'?", stripped):
            heredoc = match.group(1)
        found.append(stripped)
    return found


def _words(command: str) -> list[str]:
    return shlex.split(command.split("<<")[0], comments=True)


def _not_run(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


@pytest.fixture(scope="module")
def doc_env(seed_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A copy of the bundled corpus's index, a work folder, and a live server over that index."""
    from newsqa.settings import Settings
    from qa.assistant import Assistant
    from tests.ui.server import free_port
    from ui.app import build_app, launch

    root = tmp_path_factory.mktemp("docs")
    index_dir = root / "index"
    shutil.copytree(seed_assistant.index_dir, index_dir)
    assistant = Assistant(Settings(index_dir=index_dir), encoder=seed_assistant.encoder, reader=seed_assistant.reader)
    app = build_app(assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    env = dict(
        os.environ, PYTHONPATH=str(REPO_ROOT), QA_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1", DOC_SERVER=url.rstrip("/").removeprefix("http://"), DOC_WORK=str(root / "work"),
    )  # fmt: skip
    (root / "work").mkdir()
    try:
        yield env
    finally:
        app.close()


def _run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=600, env=env, cwd=env["DOC_WORK"], input=stdin
    )  # fmt: skip


def test_the_docs_have_examples_to_check() -> None:
    assert len(PYTHON) >= 5 and len(SHELL) >= 8, [b.id for b in BLOCKS]


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_example_runs(block: Block, doc_env: dict[str, str]) -> None:
    compile(block.text, block.id, "exec")
    why = next((why for start, why in PYTHON_NOT_RUN.items() if start in block.text), None)
    if why:
        pytest.skip(f"not run: {why}")
    code = block.text.replace(DOC_PORT, doc_env["DOC_SERVER"])
    if 'launch(app, "127.0.0.1", 7860' in code:  # the example starts its own server: give it a free port
        from tests.ui.server import free_port

        code = code.replace('launch(app, "127.0.0.1", 7860', f'launch(app, "127.0.0.1", {free_port()}')
    done = _run([sys.executable, "-c", code], doc_env)
    assert done.returncode == 0, f"{block.id} failed:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr


def _shell_cases() -> list[tuple[Block, str]]:
    return [(block, command) for block in SHELL for command in commands(block.text)]


@pytest.mark.parametrize(("block", "command"), _shell_cases(), ids=lambda x: x.id if isinstance(x, Block) else x[:60])
def test_shell_example_runs(block: Block, command: str, doc_env: dict[str, str]) -> None:
    words = _words(command)
    if words[0] == "qa":
        try:
            args = cli.build_parser().parse_args(words[1:])  # every qa command in the docs parses, run or not
        except SystemExit as exc:
            pytest.fail(f"{block.id}: `{command}` does not parse (exit {exc.code})")
        assert callable(args.func)
    if words[:3] in (["python", "-m", "training.reader"], ["python3", "-m", "training.reader"]):
        from training.reader import build_parser as trainer_parser

        trainer_parser().parse_args(words[3:])
    if heredoc := re.search(r"python3? - <<\s*'?(\w+)'?", command):
        body = block.text.split(heredoc.group(0), 1)[1].split("\n", 1)[1].split(f"\n{heredoc.group(1)}\n")[0]
        compile(body, block.id, "exec")  # the heredoc's Python is valid, at least
    why = _not_run(command)
    if why:
        pytest.skip(f"not run: {why}")
    if words[0] == "qa":
        if command not in _QA_RUNS:  # the same command shown twice runs once
            _QA_RUNS[command] = _run([sys.executable, "-m", "cli", *words[1:]], doc_env)
        done = _QA_RUNS[command]
        assert done.returncode == 0, f"{block.id}: `{command}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        shown = _shown_output(block.text, command)
        if shown:
            _assert_shows(done.stdout, shown, block.id)
    elif words[0] == "curl":
        _run_curl(command, doc_env, block)
    else:
        pytest.fail(f"{block.id}: the docs test does not know how to run `{command}`: run it or add a reason")


def _shown_output(text: str, command: str) -> str:
    """What a `$ command` transcript shows after the command, up to the next command or the end."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == f"$ {command}":
            shown = []
            for after in lines[number + 1 :]:
                if after.startswith("$ "):
                    break
                shown.append(after)
            return "\n".join(shown)
    return ""


def _assert_shows(output: str, shown: str, where: str) -> None:
    """The output holds what the docs show, line wrapping aside, with "…" standing for anything."""
    actual = " ".join(output.split())
    position = 0
    for piece in (" ".join(part.split()) for part in shown.split("…")):
        if not piece:
            continue
        found = actual.find(piece, position)
        assert found >= 0, f"{where}: the docs show {piece!r}, the command printed:\n{output}"
        position = found + len(piece)


_EVENT_IDS: dict[str, str] = {}
_QA_RUNS: dict[str, subprocess.CompletedProcess[str]] = {}


def _run_curl(command: str, env: dict[str, str], block: Block) -> None:
    words = [w.replace(DOC_PORT, env["DOC_SERVER"]) for w in _words(command)]
    if any("<event_id>" in w for w in words):
        assert block.id in _EVENT_IDS, f"{block.id}: the submit before this read did not run"
        words = [w.replace("<event_id>", _EVENT_IDS[block.id]) for w in words]
    done = _run(["curl", "--max-time", "300", "-sS", "-w", "\n%{http_code}", *words[1:]], env)
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\n")
    assert status == "200", f"{block.id}: `{command}` answered {status}: {body[:500]}"
    if body.lstrip().startswith("{"):
        data = json.loads(body)
        assert "error" not in data, data
        if "event_id" in data:
            _EVENT_IDS[block.id] = data["event_id"]
        if "found" in data:
            assert data["found"] is True and data["sentences"], data
    else:  # gradio's event stream: "event: complete" and the answer as data
        assert "event: complete" in body and '"found": true' in body.replace('"found":true', '"found": true'), body


def test_the_command_listing_matches_the_parser() -> None:
    """README's table of commands: each command exists and each option it names is one that command takes."""
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert LISTINGS, "README's command listing is gone"
    checked = 0
    for block in LISTINGS:
        for line in block.text.splitlines():
            if not line.startswith("qa "):
                continue
            name = line.split()[1]
            assert name in sub.choices, f"{block.id}: `qa {name}` is not a command"
            continuation = block.text.split(line, 1)[1].split("\nqa ", 1)[0]
            command = name  # an option belongs to the last command named before it ("ids from qa stats --articles")
            for word in re.findall(r"(?<![\w-])(?:qa [a-z][\w-]*|--[a-z][\w-]*)", line + continuation):
                if word.startswith("qa "):
                    command = word[3:]
                    assert command in sub.choices, f"{block.id}: `qa {command}` is not a command"
                    continue
                takes = {o for a in sub.choices[command]._actions for o in a.option_strings} | {"--index-dir"}
                assert word in takes, f"{block.id}: `qa {command}` has no option {word}"
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "toml"], ids=lambda b: b.id)
def test_settings_file_example_is_read(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newsqa.toml example is valid TOML whose keys the settings take (top-level keys by their flat names, each
    table its section's), and the settings read from it hold its values."""
    import tomllib

    from pydantic import SecretStr

    from newsqa.settings import FLAT_NAMES, SECTIONS, Settings

    data = tomllib.loads(block.text)
    paths: dict[str, str] = {}  # each key of the example → the setting it sets
    for key, value in data.items():
        if not isinstance(value, dict):
            paths[key] = FLAT_NAMES.get(key, "")
            continue
        for name in value:
            taken = key in SECTIONS and name in SECTIONS[key].model_fields
            paths[f"[{key}] {name}"] = f"{key}.{name}" if taken else FLAT_NAMES.get(name, "") if key == "index" else ""
    unknown = [key for key, path in paths.items() if not path]
    assert not unknown, f"{block.id}: keys no setting takes: {unknown}"
    (tmp_path / "newsqa.toml").write_text(block.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("QA_")]:
        monkeypatch.delenv(name)
    settings = Settings()
    for key, path in paths.items():
        table, _, name = key.strip("[").partition("] ")
        expected = data[table][name] if name else data[key]
        actual: object = settings
        for part in path.split("."):
            actual = getattr(actual, part)
        shown = actual.get_secret_value() if isinstance(actual, SecretStr) else actual
        assert str(shown) == str(expected), key


# `index.text.sentences.MAX_SENTENCE_CHARS`, `qa.retrieve.retrieve`, `index/text/dates.py`,
# `tests/index/test_readers.py::test_…`: code the prose names, in backticks.
_DOTTED_NAME = re.compile(r"`((?:index|qa|ui)(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")
_REPO_PATH = re.compile(r"`((?:index|qa|ui|benchmarks|scripts|tests|corpus)/[\w./-]*)(?:::[^`]*)?`")


def _resolves(dotted: str) -> bool:
    """Whether `dotted` is a module of this checkout, or a name inside the longest such module that prefixes it
    (a module found elsewhere, e.g. in another installed copy of the project, does not count)."""
    import importlib
    import types

    def ours(module: object) -> bool:
        file = getattr(module, "__file__", None)
        return file is not None and Path(file).resolve().is_relative_to(REPO_ROOT)

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        if not ours(found):
            continue
        for name in parts[cut:]:
            found = getattr(found, name, None)
            if found is None or (isinstance(found, types.ModuleType) and not ours(found)):
                return False
        return True
    return False


def test_the_code_the_docs_name_exists() -> None:
    """A module moved or a constant renamed leaves no doc pointing at where it was."""
    named = 0
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for dotted in _DOTTED_NAME.findall(text):
            named += 1
            assert _resolves(dotted), f"{path.name}: `{dotted}` names no module or name of this project"
        for relative in _REPO_PATH.findall(text):
            named += 1
            assert (REPO_ROOT / relative).exists(), f"{path.name}: `{relative}` is no file or folder of this project"
    assert named >= 20, "the pattern finds no names: the check would pass whatever the docs say"


def test_the_doc_name_check_fails_for_what_is_not_there() -> None:
    assert _resolves("index.text.sentences.MAX_SENTENCE_CHARS") and _resolves("qa.retrieve")
    assert not _resolves("index.readers.MAX_HTML_TAGS") and not _resolves("index.lexical.tokenize")
