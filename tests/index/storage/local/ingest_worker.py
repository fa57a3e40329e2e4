"""Run ingests that a test can kill part-way (tests/index/storage/local/test_store.py's crash test).

    python tests/index/storage/local/ingest_worker.py

The model is loaded once (that takes seconds); each ingest then runs in a forked child, so the test can SIGKILL
it at any moment without paying for the start-up again. The parent never runs the model before forking, so the
child starts with no thread pool to inherit. Protocol, one tab-separated line each:

    worker → test   ready
    test → worker   INDEX_DIR  INPUT_DIR  PROGRESS_FILE
    worker → test   started  PID          the child is ingesting INPUT_DIR into INDEX_DIR
    worker → test   ended  PID  STATUS    STATUS: "exit N" or "signal N"

The child appends each progress message of the ingest to PROGRESS_FILE. The worker stops at end of input.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.encoder import Encoder

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))


def _say(*parts: object) -> None:
    print("\t".join(map(str, parts)), flush=True)


def _ingest(encoder: Encoder, index_dir: Path, input_dir: Path, progress_file: Path) -> None:
    from index.ingest import Ingestor
    from newsqa.settings import Settings

    with progress_file.open("a", encoding="utf-8") as log:

        def note(fraction: float, message: str) -> None:
            log.write(f"{fraction:.3f}\t{message}\n")
            log.flush()

        settings = Settings(index_dir=index_dir)
        Ingestor(encoder, settings).ingest([input_dir], index_dir, show_progress=False, on_progress=note)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from index.encoder import load_encoder

    encoder = load_encoder()
    _say("ready")
    for line in sys.stdin:
        if not line.strip():
            continue
        index_dir, input_dir, progress_file = (Path(part) for part in line.rstrip("\n").split("\t"))
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _ingest(encoder, index_dir, input_dir, progress_file)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        _say("started", pid)
        _, status = os.waitpid(pid, 0)
        outcome = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
        _say("ended", pid, outcome)


if __name__ == "__main__":
    main()
