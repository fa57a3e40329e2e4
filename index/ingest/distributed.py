"""Distributed ingest on Ray Data (`qa ingest --ray [ADDRESS]`): the same ingest as `Ingestor.ingest`, with the
reading and the embedding spread over a Ray cluster.

- Reading and preparing: one Ray Data map task per input file reads it (`index.readers.read_file`) and cleans,
  splits, chunks and finds the time expressions of its articles (`index.ingest.prepare.prepare_record`). The
  results come back to the driver in input order (`preserve_order`), with the listing's Problems (missing paths,
  skipped links) in their places, so the driver sees exactly what a plain ingest reads.
- Deciding and writing: on the driver, by the plain ingest's own loop (`Ingestor.apply`): the same
  added/updated/unchanged decisions (nothing unchanged is embedded) and the same `StoreWriter` (the local store
  writes from the driver; with `QA_STORE=milvus` the writes go to Milvus).
- Embedding: a pool of encoder actors (Ray Data `map_batches` with an actor class that loads the encoder once,
  `index.encoder.load_encoder`) runs the plain ingest's chunk→passage code (`index.ingest.embed.encode_chunks`);
  each part that comes back is saved to the pending cache on the driver (`index.ingest.embed.embed_articles`),
  so a Ray ingest that dies part-way resumes like a plain one.

Every node must have this package, the model package and the input files at the same paths (a shared folder).
Only this module imports ray, and only `qa ingest --ray` imports this module.
"""

from __future__ import annotations

import logging
import math
import pickle
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.data

from index.encoder import TextEncoder, load_encoder
from index.ingest.embed import EmbeddingOwner, embed_articles, encode_chunks
from index.ingest.ingestor import Ingestor
from index.ingest.pending import PendingVectors
from index.ingest.prepare import Candidate, prepare_record
from index.ingest.progress import StageProgress
from index.models import IngestReport, Problem
from index.readers import input_units, read_file
from newsqa.settings import Settings

# What `qa ingest --ray VALUE` takes as a cluster address rather than an input path: "auto", or host:port with an
# optional ray:// scheme.
_ADDRESS = re.compile(r"^(auto|(ray://)?[\w.-]+:\d+)$")


def is_ray_address(value: str) -> bool:
    """Whether `value` names a Ray cluster ("auto", "host:port", "ray://host:port") rather than an input path."""
    return bool(_ADDRESS.match(value))


def ingest_with_ray(
    ingestor: Ingestor,
    paths: Sequence[Path],
    index_dir: Path | None = None,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    rebuild: bool = False,
    show_progress: bool = True,
    on_stage: StageProgress | None = None,
    follow_symlinks: bool = False,
    field_map: Mapping[str, str] | None = None,
) -> IngestReport:
    """`Ingestor.ingest` on Ray: the same report and the same index. Uses the Ray cluster this process is already
    connected to, else connects to `address`, else starts a local one (`num_cpus`: its CPUs, default all); a
    cluster it started or connected to is left again at the end."""
    settings = ingestor.settings_for(index_dir)
    paths = list(paths)
    connected_here = _connect(address, num_cpus)
    quiet = _quiet_ray_data()
    try:
        units = list(input_units(paths, follow_symlinks=follow_symlinks))
        files = sum(isinstance(unit, Path) for unit in units) + sum(1 for p in paths if not p.exists())

        def make_embedder(owner: EmbeddingOwner, cache: PendingVectors, stage: StageProgress) -> _ActorEmbedder:
            return _ActorEmbedder(owner, cache, stage, settings)

        return ingestor.apply(
            _prepared(units, ingestor.settings, field_map), settings, rebuild=rebuild, show_progress=show_progress,
            on_stage=on_stage, read_total=files, make_embedder=make_embedder,
        )  # fmt: skip
    finally:
        quiet.restore()
        if connected_here:
            ray.shutdown()


def _connect(address: str | None, num_cpus: int | None) -> bool:
    """Join a Ray cluster unless already in one; True when this call did (so the caller leaves it again)."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **options)
    return True


class _quiet_ray_data:  # named like the setting it makes
    """Ray Data set up for an ingest: results in input order, no progress bars of its own (the ingest has its
    stages), and its INFO lines ("Starting execution of Dataset …") kept out of the output; `restore()` puts
    back what was there."""

    def __init__(self) -> None:
        self.context = ray.data.DataContext.get_current()
        self.logger = logging.getLogger("ray.data")
        self.saved = (self.context.execution_options.preserve_order, self.context.enable_progress_bars)
        self.level = self.logger.level
        self.context.execution_options.preserve_order = True
        self.context.enable_progress_bars = False
        self.logger.setLevel(logging.ERROR)

    def restore(self) -> None:
        self.context.execution_options.preserve_order, self.context.enable_progress_bars = self.saved
        self.logger.setLevel(self.level)


def _prepared(
    units: list[Path | Problem], settings: Settings, field_map: Mapping[str, str] | None
) -> Iterator[Candidate | Problem]:
    """The prepared articles and the Problems of the inputs, in `read_inputs`' order: each file read and prepared
    in its own Ray task, the listing's Problems in their places."""
    files = [str(unit) for unit in units if isinstance(unit, Path)]
    rows: Iterator[dict[str, Any]] = iter(())
    if files:
        dataset = ray.data.from_items([{"path": f} for f in files], override_num_blocks=min(len(files), 1000))
        fields = dict(field_map) if field_map is not None else None
        rows = iter(dataset.map(_prepare_file, fn_kwargs={"settings": settings, "field_map": fields}).iter_rows())
    for unit in units:
        if isinstance(unit, Problem):
            yield unit
            continue
        row = next(rows)
        if row["path"] != str(unit):  # preserve_order is what makes the two ingests equal: never go on without it
            raise RuntimeError(f"Ray returned {row['path']} where {unit} was expected")
        yield from pickle.loads(row["records"])


# The encoder of this worker process, loaded on its first task (its tokenizer counts the word pieces of chunks).
_worker_encoders: dict[str, TextEncoder] = {}


def _encoder_for(settings: Settings) -> TextEncoder:
    key = settings.model_dump_json()
    if key not in _worker_encoders:
        _worker_encoders[key] = load_encoder(settings)
    return _worker_encoders[key]


def _prepare_file(row: dict[str, Any], *, settings: Settings, field_map: dict[str, str] | None) -> dict[str, Any]:
    """Ray task: one input file's records, each a Candidate (split, chunked, time expressions found) or a Problem
    with the plain ingest's text, pickled in file order."""
    encoder = _encoder_for(settings)
    found: list[Candidate | Problem] = []
    for record in read_file(Path(row["path"]), settings.index.max_file_bytes, field_map):
        if isinstance(record, Problem):
            found.append(record)
        else:
            found.append(prepare_record(record, settings, encoder.count_tokens, encoder.dimension, with_times=True))
    return {"path": row["path"], "records": pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)}


class _EncoderActor:
    """Ray actor: the encoder, loaded once, embedding parts of chunks with the plain ingest's code."""

    def __init__(self, settings: Settings) -> None:
        # One onnxruntime thread per CPU Ray gave this actor: the pool shares the node's cores.
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
        self.encoder = load_encoder(settings.model_copy(update={"threads": max(1, int(cpus))}))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        blocks = []
        for payload in batch["part"]:
            part = pickle.loads(payload)
            found = encode_chunks(self.encoder, [text for text, _ in part], [spans for _, spans in part])
            blocks.append(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
        return {"index": batch["index"], "blocks": np.array(blocks, dtype=object)}


class _ActorEmbedder:
    """The `ArticleEmbedder` of a Ray ingest: gathers the articles to write and, when the ingest writes them,
    embeds their chunks in a pool of `_EncoderActor`s, saving each part to the pending cache as it comes back."""

    def __init__(
        self, ingestor: EmbeddingOwner, cache: PendingVectors, stage: StageProgress, settings: Settings
    ) -> None:
        self.ingestor = ingestor
        self.cache = cache
        self.stage = stage
        self.settings = settings
        self.resumed: dict[bytes, np.ndarray] = {}
        self.waiting: list[Any] = []
        self.articles = 0
        self.articles_written = 0
        self.total_chunks = 0
        self.embedded = 0
        self.actors = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def add(self, item: Any) -> None:
        self.waiting.append(item)
        self.articles += 1
        self.total_chunks += len(item.chunks)

    def reading_done(self) -> None:
        self.stage("embed", self.embedded, self.total_chunks)
        self.stage("write", self.articles_written, self.articles)

    def finish(self) -> None:
        items, self.waiting = self.waiting, []
        if not items:
            return
        chunks = sum(len(item.chunks) for item in items)
        # Parts small enough that every actor gets a few (so none waits idle at the end), at most the plain size.
        part_chunks = max(1, min(self.ingestor.batch_chunks, math.ceil(chunks / (4 * self.actors))))
        embed_articles(
            items, self.cache, self.resumed, self._encode_parts, part_chunks, self.ingestor.encoder.dimension
        )
        self.embedded += chunks
        self.stage("embed", self.embedded, self.total_chunks)

    def _encode_parts(self, parts: list[list[tuple[str, list[tuple[int, int]]]]]) -> Iterator[list[np.ndarray]]:
        if not parts:
            return
        payloads = [{"index": i, "part": pickle.dumps(part)} for i, part in enumerate(parts)]
        dataset = ray.data.from_items(payloads, override_num_blocks=len(parts)).map_batches(
            _EncoderActor,
            fn_constructor_kwargs={"settings": self.settings},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(self.actors, len(parts))),
            num_cpus=1,
        )
        for expected, row in enumerate(dataset.iter_rows()):
            if row["index"] != expected:
                raise RuntimeError(f"Ray returned part {row['index']} where part {expected} was expected")
            yield pickle.loads(row["blocks"])

    def __enter__(self) -> _ActorEmbedder:
        self.resumed = self.cache.load()  # what an interrupted run already embedded
        return self

    def __exit__(self, *exc: object) -> None:
        return None
