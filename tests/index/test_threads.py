"""The thread pools are set in one place when `index` is imported: checked in fresh processes, as pools are fixed
when torch and FAISS load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsqa.paths import REPO_ROOT

PROBE = (
    "import index, os, torch, faiss; "
    "print(os.environ['OMP_WAIT_POLICY'], torch.get_num_threads(), faiss.omp_get_max_threads())"
)


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    pools = {"QA_THREADS", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
    clean = {k: v for k, v in os.environ.items() if k not in pools}
    return subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_by_default_every_usable_cpu_with_sleeping_waiters() -> None:
    done = probe()
    cpus = len(os.sched_getaffinity(0))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PASSIVE", str(cpus), str(cpus)]


def test_qa_threads_chooses_and_the_wait_policy_set_in_the_environment_is_kept() -> None:
    done = probe(QA_THREADS="1", OMP_WAIT_POLICY="ACTIVE", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ACTIVE", "1", "1"]


def test_without_qa_threads_a_thread_count_in_the_environment_is_kept() -> None:
    done = probe(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PASSIVE", "1", "1"]


def test_a_bad_thread_count_says_what_is_expected() -> None:
    done = probe(QA_THREADS="many")
    assert done.returncode != 0
    assert "QA_THREADS must be a whole number of threads, not 'many'" in done.stderr


@pytest.mark.parametrize("value", ["0", "-3"])
def test_at_least_one_thread(value: str) -> None:
    done = probe(QA_THREADS=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1:] == ["1", "1"]
