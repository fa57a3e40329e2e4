#!/usr/bin/env python3
"""Set everything up on a fresh machine with only python3, then serve the web chat or run the tests.

    python3 scripts/bootstrap.py serve [qa serve options]    # web chat over corpus/ on http://127.0.0.1:7860
    python3 scripts/bootstrap.py test [pytest options]       # the test suite (what CI runs)

Idempotent: the virtual environment (.venv), the CPU build of torch, the project and, for the tests, Debian's
chromium are installed only when missing or when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Its own root, not newsqa.paths: this script runs before the project is installed, with only the standard
# library, to install it.
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PY = BIN / "python"
STAMP = VENV / ".newsqa-installed"
# torch first, pinned: pip then takes the local CPU wheel instead of a multi-GB CUDA build.
TORCH = "torch==2.13.0"
CHROMIUM = Path("/usr/bin/chromium")


def log(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def run(*cmd: str | Path, check: bool = True, quiet: bool = False) -> int:
    stderr = subprocess.DEVNULL if quiet else None
    return subprocess.run([str(c) for c in cmd], check=check, cwd=ROOT, stderr=stderr).returncode


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs under whatever python3 the machine has
        sys.exit(f"python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not PY.exists():
        log("creating .venv")
        run(sys.executable, "-m", "venv", VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    started = time.monotonic()
    if run(PY, "-c", "import torch", check=False, quiet=True) != 0:  # quiet: no traceback on a fresh machine
        log(f"installing {TORCH} (CPU build)")
        run(PY, "-m", "pip", "install", "--quiet", TORCH)
    log("installing the project and its test tools")
    run(PY, "-m", "pip", "install", "--quiet", "-e", ".[test,dev]")
    STAMP.write_text(wanted + "\n")
    log(f"installed in {time.monotonic() - started:.0f} s")


def ensure_chromium() -> None:
    """Debian's chromium drives the browser test; install it when we may (root with apt-get)."""
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        log("chromium is missing and cannot be installed here (needs root and apt-get): browser tests will skip")
        return
    log("installing Debian's chromium for the browser test")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> int:
        return subprocess.run([apt, *args], check=False, stdout=subprocess.DEVNULL, env=env).returncode

    if apt_get("install", "-y", "-q", "chromium") != 0:
        apt_get("update", "-q")
        apt_get("install", "-y", "-q", "chromium")
    if not CHROMIUM.exists():
        log("chromium could not be installed: browser tests will skip")


def offline_env() -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "serve":
        os.execve(BIN / "qa", [str(BIN / "qa"), "serve", *rest], offline_env())
    ensure_chromium()
    code = subprocess.run([str(PY), "-m", "pytest", *rest], cwd=ROOT, env=offline_env(), check=False).returncode
    if code == 5:  # pytest: no tests were collected (e.g. a -k that matches nothing) is not a failure here
        log("pytest collected no tests")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
