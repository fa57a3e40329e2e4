"""The CPU thread pools, set in one place: importing `index` does it, before torch or FAISS is loaded.

torch's intra-op pool and FAISS's OpenMP pool each size themselves to the machine, OpenMP threads spin while they
wait for work, and the tokenizers start a pool of their own. Beside another busy process that spinning fights for
the same cores (two OpenMP runtimes, torch's and FAISS's, even spin against each other). Measured on the 2-core
machine with benchmarks/threads.py (question p50 / encoding 512 sentences; docs/performance.md):

| pools | quiet machine | two busy processes beside |
|---|---|---|
| 2 threads, waiting threads sleep (what is set here) | 122 ms / 1.5 s | 202 ms / 2.9 s |
| 1 thread | 201 ms / 2.9 s | 267 ms / 4.5 s |
| 2 threads, waiting threads spin | 344 ms / 4.0 s | 768 ms / 7.8 s |

So: `OMP_WAIT_POLICY=PASSIVE`, as many threads as the CPUs this process may use (the `threads` setting,
`QA_THREADS`, to choose; it wins over OMP_NUM_THREADS / MKL_NUM_THREADS, which otherwise are kept), and no
tokenizer pool. A program that imports torch before `index` keeps torch's own choice.
"""

from __future__ import annotations

import os

from newsqa.settings import configured_threads


def thread_count(threads: int | None = None) -> int:
    """Threads for torch, FAISS and the encoder: `threads` (the setting) when given, else the CPUs this process
    may run on."""
    if threads is not None:
        return max(1, threads)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads() -> None:
    """Set the pools' environment (see the module docstring). The `threads` setting, when given, decides the
    thread count; otherwise OMP_NUM_THREADS / MKL_NUM_THREADS already in the environment are kept, as is
    OMP_WAIT_POLICY."""
    chosen = configured_threads()
    count = str(thread_count(chosen))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if chosen is not None:
            os.environ[name] = count
        else:
            os.environ.setdefault(name, count)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
