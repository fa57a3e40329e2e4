"""A milvus-lite server for tests: `python -m milvus_lite server` over a folder, on a free local port, the same
client path (http://host:port) as a Milvus standalone or cluster."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    url: str
    process: subprocess.Popen


@contextlib.contextmanager
def lite_server_at(data_dir: Path, start_timeout: float = 60) -> Iterator[Served]:
    """Serve `data_dir` with milvus-lite on 127.0.0.1; stopped on exit. Raises RuntimeError if it does not start."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the milvus-lite server did not start") from None
                time.sleep(0.2)
        yield Served(f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        server.wait(timeout=30)
