"""The layers hold. The top-level packages stand on floors and never import a floor above their own (`FLOORS`):
the product (newsqa/, index/, qa/, ui/) knows nothing of its tooling (evaluation/, training/) or of the `qa`
command (cli/). Everything above index/ (qa/, ui/, the evaluation, the trainers, the command, the benchmarks)
reaches the index only through the storage interface (`index.storage`), never a backend's internals; and inside
index/, each package imports only the packages beneath it (`PACKAGE_RULES`).

Imports are read from each file's syntax tree (plain, `from` and function-level imports, and
`importlib.import_module` / `__import__` with a literal name), so a comment or a string that merely names a
module does not count, and an import hidden inside a function does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSUMERS = ("qa", "ui", "evaluation", "training", "cli", "benchmarks")

# Modules that are a backend's engine: segments, snapshots, pending vectors, the backends' own packages.
FORBIDDEN_MODULES = (
    "index.store",
    "index.segments",
    "index.ingest.pending",
    "index.storage.local",
    "index.storage.milvus",
)
# index.text.tokenize is shared for its tokenizer (questions and the index must cut words alike); its BM25 engine is
# the local backend's.
FORBIDDEN_NAMES = {"index.text.tokenize": {"Lexical", "Postings", "K1", "B"}}


def _forbidden_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)


def imported(source: str) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) for every import in `source`; `from a import b` gives both a.b (as a
    module, since b may be one) and the name b of a."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found.append((node.lineno, node.module, alias.name))
                found.append((node.lineno, f"{node.module}.{alias.name}", None))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value, None))
    return found


def violations(source: str) -> list[str]:
    """The imports of `source` that reach into a backend's internals."""
    bad = []
    for line, module, name in imported(source):
        if _forbidden_module(module):
            bad.append(f"line {line}: {module}")
        elif name is not None and name in FORBIDDEN_NAMES.get(module, ()):
            bad.append(f"line {line}: {module}.{name}")
    return sorted(set(bad))


# Inside index/: the index modules a package may import (itself always). text/ is pure string processing (the
# records and errors of index.models are shared by all); readers turn files into raw articles with it, knowing
# nothing of ingest, the encoder or the store; the store knows nothing of ingest; ingest stands on all of them.
PACKAGE_RULES: dict[str, tuple[str, ...]] = {
    "index.text": ("index.models",),
    "index.readers": ("index.text", "index.models"),
    "index.storage": ("index.text", "index.readers", "index.models", "index.encoder"),
    "index.ingest": ("index.text", "index.readers", "index.models", "index.encoder", "index.storage"),
}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def package_violations(source: str, package: str) -> list[str]:
    """The imports of `source`, a module of `package`, of index modules that `PACKAGE_RULES` does not allow it."""
    allowed = (package, *PACKAGE_RULES[package])
    bad = []
    for line, module, name in imported(source):
        if name is not None or not _within(module, "index") or module == "index":
            continue  # `from a import b` is judged by its a.b entry
        if not any(_within(module, ok) for ok in allowed):
            bad.append(f"line {line}: {module}")
    return sorted(set(bad))


def package_files() -> list[tuple[str, Path]]:
    return sorted(
        (package, path) for package in PACKAGE_RULES for path in (ROOT / package.replace(".", "/")).rglob("*.py")
    )


def consumer_files() -> list[Path]:
    return sorted(p for folder in CONSUMERS for p in (ROOT / folder).rglob("*.py"))


def test_the_consumers_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in consumer_files()}
    for expected in ("qa/assistant.py", "qa/retrieve.py", "evaluation/run.py", "training/scorer.py", "ui/app.py",
                     "cli/indexing.py", "benchmarks/scale.py"):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("path", consumer_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_consumers_use_only_the_storage_interface(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == [], f"{path.relative_to(ROOT)} imports backend internals"


@pytest.mark.parametrize(
    "source",
    [
        "from index.store import IndexStore",
        "import index.segments",
        "import index.ingest.pending as pending",
        "from index import store",
        "from index.storage import local",
        "from index.storage.local.reader import LocalReader",
        "def f():\n    from index.store import live_name\n",
        "from index.text.tokenize import tokenize, Lexical",
        "import importlib\nimportlib.import_module('index.storage.milvus')",
    ],
)
def test_the_check_catches_each_way_of_importing_internals(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from index.storage import StoreReader, open_store",
        "from index.text.tokenize import tokenize, words",
        "# from index.store import IndexStore\nx = 'index.segments'",
        "from index.models import Article",
    ],
)
def test_the_check_allows_the_interface(source: str) -> None:
    assert violations(source) == []


@pytest.mark.parametrize("path", sorted((ROOT / "index" / "ingest").rglob("*.py")), ids=lambda p: p.name)
def test_ingest_reaches_the_store_only_through_its_interface(path: Path) -> None:
    found = [v for v in violations(path.read_text(encoding="utf-8")) if not v.split(": ")[1].startswith("index.ingest")]
    assert found == [], f"{path.relative_to(ROOT)} imports backend internals"


def test_each_ruled_package_is_found() -> None:
    assert {package for package, _ in package_files()} == set(PACKAGE_RULES)


@pytest.mark.parametrize(
    ("package", "path"), package_files(), ids=lambda v: v.relative_to(ROOT).as_posix() if isinstance(v, Path) else v
)
def test_index_packages_import_only_what_lies_beneath_them(package: str, path: Path) -> None:
    found = package_violations(path.read_text(encoding="utf-8"), package)
    assert found == [], f"{path.relative_to(ROOT)} imports above its layer"


@pytest.mark.parametrize(
    "source",
    [
        "from index.ingest import Ingestor",
        "from index import encoder",
        "import index.storage",
        "def f():\n    from index.encoder import load_encoder\n",
    ],
)
def test_the_package_check_catches_an_import_from_above(source: str) -> None:
    assert package_violations(source, "index.text")


def test_the_package_check_allows_itself_and_what_lies_beneath() -> None:
    source = "from index.text.dates import TimeMention\nfrom index.models import Problem\nimport re\n"
    assert package_violations(source, "index.text") == []
    assert package_violations(source + "from index.readers.raw import RawArticle\n", "index.readers") == []
    assert package_violations("from index.readers import RawArticle\n", "index.text")


# The floors, bottom up: newsqa/ (shared by all) < index/ < qa/ < ui/ (the product); the evaluation and the trainers
# stand beside ui/ on qa/ and index/ (the trainers also use the evaluation's gold loaders and metrics, never the
# other way); cli/, the `qa` command, is the top floor and may import them all. Each package, with the project's
# packages it must never import:
FLOORS: dict[str, tuple[str, ...]] = {
    "newsqa": ("index", "qa", "ui", "evaluation", "training", "cli"),
    "index": ("qa", "ui", "evaluation", "training", "cli"),
    "qa": ("ui", "evaluation", "training", "cli"),
    "ui": ("evaluation", "training", "cli"),
    "evaluation": ("ui", "training", "cli"),
    "training": ("ui", "cli"),
    "cli": (),
}


def floor_violations(source: str, package: str) -> list[str]:
    """The imports of `source`, a module of the top-level `package`, of a package on a floor it may not reach."""
    bad = []
    for line, module, _ in imported(source):
        if any(_within(module, above) for above in FLOORS[package]):
            bad.append(f"line {line}: {module}")
    return sorted(set(bad))


def floor_files() -> list[tuple[str, Path]]:
    return sorted((package, path) for package in FLOORS for path in (ROOT / package).rglob("*.py"))


def test_each_floor_is_found() -> None:
    assert {package for package, _ in floor_files()} == set(FLOORS)


@pytest.mark.parametrize(
    ("package", "path"), floor_files(), ids=lambda v: v.relative_to(ROOT).as_posix() if isinstance(v, Path) else v
)
def test_no_package_imports_a_floor_above_its_own(package: str, path: Path) -> None:
    """The product never imports its tooling or the command; ui/ reads nothing of the evaluation (gold sets,
    runners, reports), not even for its example questions."""
    found = floor_violations(path.read_text(encoding="utf-8"), package)
    assert found == [], f"{path.relative_to(ROOT)} imports a floor above its own"


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("qa", "from ui.render import render_answer"),
        ("qa", "def f():\n    import cli\n"),
        ("qa", "from evaluation import metrics"),
        ("qa", "import importlib\nimportlib.import_module('training.reader')"),
        ("index", "from qa import answer"),
        ("newsqa", "import index.settings"),
        ("ui", "from evaluation.gold import BUNDLED_GOLD, load_gold"),
        ("ui", "from cli.serve import add_serve_command"),
        ("evaluation", "from ui.examples import EXAMPLES"),
        ("evaluation", "import training.calibrate"),
        ("evaluation", "def f():\n    from cli.command import main\n"),
        ("training", "from ui import app"),
        ("training", "__import__('cli')"),
    ],
)
def test_the_floor_check_catches_an_import_from_above(package: str, source: str) -> None:
    assert floor_violations(source, package)


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("qa", "from index.storage import open_store\nfrom newsqa.errors import NewsQAError\nimport qa.models"),
        ("qa", "# from evaluation.gold import load_gold\nx = 'cli.command'"),
        ("qa", "import click\nimport uikit\nimport trainingwheels"),
        ("ui", "from qa.assistant import Assistant\nfrom newsqa.settings import Settings"),
        ("evaluation", "from qa.assistant import Assistant\nfrom index.storage import open_store"),
        ("training", "from qa.cross_encoder import forward\nfrom evaluation.metrics import squad_f1"),
        ("cli", "from ui.server import serve\nfrom evaluation.run import run_eval_cli\nimport training.scorer"),
    ],
)
def test_the_floor_check_allows_what_lies_beneath(package: str, source: str) -> None:
    assert floor_violations(source, package) == []
