"""Serving from many machines: two `qa serve` replicas over one Milvus (a milvus-lite server on 127.0.0.1) answer
the same question identically, each from its own empty index folder (nothing the answering path needs lives on one
replica's disk), and both pick up an article that a separate `qa ingest` process added."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsqa.paths import REPO_ROOT
from tests.milvus_server import Served, lite_server_at
from tests.ui.server import free_port

QUESTION = "how many kilograms were seized in 2019?"
NEW_ARTICLE = (
    "Harbour authority opens night ferry\n\n"
    "The harbour authority of Kep opened a night ferry to Rabbit Island on Monday. "
    "The ferry carries up to 140 passengers on each crossing, the authority said."
)


def _env(tmp: Path, uri: str, name: str) -> dict[str, str]:
    home = tmp / name
    home.mkdir()
    return {
        **os.environ,
        "QA_STORE": "milvus",
        "QA_MILVUS_URI": uri,
        "QA_INDEX_DIR": str(home / "index"),  # each process its own, empty: nothing shared on disk
        "QA_CORPUS_DIR": str(home / "no-corpus"),  # no first-use ingest: the store already holds the corpus
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": str(REPO_ROOT),
    }


def _qa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Served, list[str], Path]]:
    with lite_server_at(tmp_path / "milvus") as server:
        loaded = _qa("ingest", "--quiet", str(REPO_ROOT / "corpus"), env=_env(tmp_path, server.url, "loader"))
        assert loaded.returncode == 0, loaded.stderr
        processes, urls = [], []
        try:
            for name in ("replica-a", "replica-b"):
                port = free_port()
                env = _env(tmp_path, server.url, name)
                log = (tmp_path / f"{name}.log").open("w")
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
                        env=env,
                        cwd=REPO_ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
            for url, process, name in zip(urls, processes, ("replica-a", "replica-b"), strict=True):
                _wait_until_up(url, process, tmp_path / f"{name}.log")
            yield server, urls, tmp_path
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"a replica stopped: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"a replica did not start in time: {log.read_text()[-3000:]}")


def _ask(url: str, question: str) -> dict:
    response = httpx.post(f"{url}/api/v1/answer", json={"question": question, "as_of": "2020-06-01"}, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_replicas_over_one_milvus_answer_alike_and_see_new_articles(replicas) -> None:  # type: ignore[no-untyped-def]
    server, urls, tmp = replicas
    first, second = (_ask(url, QUESTION) for url in urls)
    assert first["found"], first
    assert first == second  # same sentences, scores, spans and citations from either replica
    assert "720 kilogrammes" in first["sentences"][0]["text"]

    news = tmp / "ferry.txt"
    news.write_text(NEW_ARTICLE, encoding="utf-8")
    added = _qa("ingest", "--quiet", str(news), env=_env(tmp, server.url, "writer"))
    assert added.returncode == 0, added.stderr
    question = "how many passengers does the night ferry to Rabbit Island carry?"
    answers = [_ask(url, question) for url in urls]
    for answer in answers:
        assert answer["found"], answer
        best = answer["sentences"][0]
        assert "140 passengers" in best["text"]
        assert best["citation"]["title"] == "Harbour authority opens night ferry"
    assert answers[0] == answers[1]
