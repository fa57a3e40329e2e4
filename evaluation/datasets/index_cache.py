"""The index an evaluation asks its questions against, built once and cached in its folder.

A build is reused while nothing that shapes it changed: the data file, the articles chosen, the model, the
chunking, the index code (`_INDEX_CODE`) and the store's layout, all folded into one key (`index_key`) kept in
the folder's eval-index.json.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.errors import EvalSetupError
from evaluation.results import IndexInfo

if TYPE_CHECKING:
    from index.encoder import TextEncoder
    from index.models import IngestReport
    from newsqa.settings import Settings

# Files and folders whose code decides what an index holds (reading, cleaning, sentence and chunk boundaries, BM25
# tokens); a cached evaluation index is rebuilt when one changes. The store's own layout is covered by
# index.storage.layout.
_INDEX_CODE = (
    "text", "readers", "ingest/prepare.py", "ingest/chunks.py", "ingest/embed.py", "ingest/write.py", "encoder.py",
    "storage/local/segments.py", "storage/local/postings.py",
)  # fmt: skip
_MARKER = "eval-index.json"


def _index_code_hash() -> str:
    import index

    folder = Path(index.__file__).parent
    digest = hashlib.sha256()
    for entry in _INDEX_CODE:
        path = folder / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            name = file.relative_to(folder).as_posix()
            digest.update(name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def index_key(data_hash: str, article_ids: Sequence[str], encoder: TextEncoder, settings: Settings) -> str:
    """Cache key of an evaluation index: data, article selection, model, chunking, the index code and the
    store's layout."""
    from index.storage import layout

    parts = {
        "data": data_hash,
        "articles": hashlib.sha256("\n".join(article_ids).encode()).hexdigest(),
        "model": encoder.weights_sha256,
        "encoder": encoder.kind,
        "format": layout(settings),
        "code": _index_code_hash(),
        "chunk_max_tokens": settings.index.chunk_max_tokens,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def default_index_dir(dataset: str, key: str) -> Path:
    """Where a dataset's evaluation index is cached when no --index-dir is given (user cache folder)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsqa", appauthor=False)) / "eval-index" / f"{dataset}-{key[:12]}"


def has_index(index_dir: Path, encoder: TextEncoder, settings: Settings) -> bool:
    """Whether the store at `index_dir` holds an index (an unreadable one counts: opening it says why)."""
    from index.models import IndexNotFoundError, IndexStoreError
    from index.storage import model_stamp, open_store

    try:
        open_store(settings.model_copy(update={"index_dir": index_dir}), model_stamp(encoder)).close()
    except IndexNotFoundError:
        return False
    except IndexStoreError:
        return True
    return True


def cached_or_built(
    index_dir: Path, key: str, build: Callable[[Path], IngestReport], rebuild: bool, has_index: Callable[[Path], bool]
) -> dict:
    """Reuse the build in `index_dir` if its key matches; else (re)build it there. Returns the marker data."""
    marker = index_dir / _MARKER
    if marker.is_file():
        try:
            stored = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            stored = {}
        if not rebuild and stored.get("key") == key and has_index(index_dir):
            return stored | {"reused": True}
        shutil.rmtree(index_dir)  # our own earlier build, out of date
    elif index_dir.is_dir() and any(index_dir.iterdir()):
        raise EvalSetupError(
            f"{index_dir} is not empty and was not built by qa eval; "
            "pass --index-dir a new or empty folder (the evaluation builds its own index there)"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    report = build(index_dir)
    if not has_index(index_dir):
        reasons = "; ".join(str(p) for p in report.problems[:3]) or "nothing to index"
        raise EvalSetupError(f"building the evaluation index in {index_dir} failed: {reasons}")
    stored = {
        "key": key,
        "build_seconds": report.seconds,
        "problems": len(report.problems),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    marker.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return stored | {"reused": False}


def index_info(index_dir: Path, encoder: TextEncoder, settings: Settings, stored: dict) -> IndexInfo:
    """The built index as the result describes it: its size, build time and whether it was reused."""
    from index.storage import model_stamp, open_store

    store = open_store(settings.model_copy(update={"index_dir": index_dir}), model_stamp(encoder))
    try:
        seconds = float(stored["build_seconds"])
        facts = store.facts()
        return IndexInfo(
            index_dir=str(index_dir),
            articles=facts.articles,
            sentences=facts.sentences,
            chunks=facts.chunks,
            build_seconds=seconds,
            articles_per_second=facts.articles / seconds if seconds else 0.0,
            reused=bool(stored["reused"]),
            problems=int(stored.get("problems", 0)),
            key=str(stored["key"]),
        )
    finally:
        store.close()
