"""The ingest's face: `Ingestor` reads files (or takes records) and applies them to the configured store as
prepare → embed → write (`index.ingest.prepare`, `embed`, `write`), and removes, upgrades and compacts.

One bad input is reported with its file and line and skipped; the rest goes in. Re-ingesting an unchanged
article does nothing; a changed one replaces its old version. The input is read as a stream and handed to the
store's writer (`index.storage.StoreWriter`) in batches of `IndexSettings.segment_sentences` sentences, so memory
does not grow with the archive; the same ingest writes to either backend. Every token goes through the encoder
once: each chunk is encoded, and its sentences' vectors are read from the same pass (`embed.encode_chunks`).
What readers see changes when the writer commits (see each backend), and embedded batches are kept on disk until
then (`index.ingest.pending`), so an ingest that crashed resumes where it stopped.

Every ingest goes through one loop, `Ingestor.apply`: prepared inputs in (`prepare_record`), decisions and writes
out. What differs between a plain ingest and a distributed one (`index.ingest.distributed`) is only where inputs
are prepared and which `ArticleEmbedder` embeds them; both embed with `embed_articles` and `encode_chunks`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from index.encoder import TextEncoder
from index.ingest.embed import EmbedderFactory, ThreadEmbedder
from index.ingest.pending import PendingVectors
from index.ingest.prepare import Candidate, prepare_record
from index.ingest.progress import Progress, StageListeners, StageProgress
from index.ingest.write import IngestRun
from index.models import IngestReport, Problem
from index.readers import RawArticle, input_units, read_units
from index.storage import (
    IndexNotFoundError,
    ModelStamp,
    StoreReader,
    model_stamp,
    needs_upgrade,
    open_admin,
    open_store,
    open_writer,
    upgradable_articles,
)
from newsqa.settings import Settings


class Ingestor:
    """Applies additions and removals to the configured store through one `StoreWriter`: articles are prepared
    (split, chunked, their time expressions found) as the input is read, embedded on a worker thread, and handed
    to the writer in batches of `IndexSettings.segment_sentences` sentences, so memory stays bounded; `commit()`
    publishes the result."""

    batch_chunks = 128  # chunks embedded (and saved to `index.ingest.pending`) per part

    def __init__(self, encoder: TextEncoder, settings: Settings | None = None) -> None:
        self.encoder = encoder
        self.settings = settings or Settings()

    def settings_for(self, index_dir: Path | None) -> Settings:
        """These settings, pointed at `index_dir` when one is given."""
        if index_dir is None or Path(index_dir) == self.settings.index.index_dir:
            return self.settings
        return self.settings.model_copy(update={"index_dir": Path(index_dir)})

    def ingest(
        self,
        paths: Sequence[Path],
        index_dir: Path | None = None,
        *,
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        follow_symlinks: bool = False,
        field_map: Mapping[str, str] | None = None,
        on_stage: StageProgress | None = None,
    ) -> IngestReport:
        """Read `paths` (files or folders) into the index at `index_dir`; returns what happened. Symbolic links
        inside a folder that lead out of it are skipped with a reason unless `follow_symlinks`. `field_map`
        names JSON fields that differ ({"title": "headline_text"}; index.readers.read_inputs). Progress goes to
        `on_stage` (stage, done, total), to `on_progress` (one fraction and a message), and, with
        `show_progress`, to stderr (index.ingest.progress.StageBars)."""
        # Listed once: the folders are walked for the read stage's total and then read from the same list.
        units = list(input_units(list(paths), follow_symlinks=follow_symlinks))
        return self._apply(
            read_units(units, self.settings.index.max_file_bytes, field_map),
            self.settings_for(index_dir),
            removals=(),
            rebuild=rebuild,
            show_progress=show_progress,
            on_progress=on_progress,
            on_stage=on_stage,
            read_total=len(units),
        )

    def ingest_records(
        self,
        records: Iterable[RawArticle | Problem],
        index_dir: Path | None = None,
        *,
        rebuild: bool = False,
        show_progress: bool = False,
    ) -> IngestReport:
        """Ingest already-read records (e.g. benchmark paragraphs) through the same path as files."""
        return self._apply(
            records, self.settings_for(index_dir), removals=(), rebuild=rebuild, show_progress=show_progress
        )

    def remove(self, article_ids: Sequence[str], index_dir: Path | None = None) -> IngestReport:
        """Remove articles by id; unknown ids are reported as problems."""
        return self._apply([], self.settings_for(index_dir), removals=article_ids, show_progress=False)

    def upgrade(self, index_dir: Path | None = None, *, show_progress: bool = True) -> IngestReport:
        """Rebuild an index of an older format from the articles it stores (ids, text and metadata kept), in
        the current format; the old snapshot is kept as the previous one until pruned."""
        settings = self.settings_for(index_dir)
        records = upgradable_articles(settings)
        return self._apply(records, settings, removals=(), rebuild=True, show_progress=show_progress)

    def needs_upgrade(self, index_dir: Path | None = None) -> bool:
        """Whether the index is of an older format that `upgrade` re-embeds."""
        return needs_upgrade(self.settings_for(index_dir))

    def compact(self, index_dir: Path | None = None) -> int:
        """Reclaim the space of deleted articles (the local store merges every segment into one); returns how
        many parts were rewritten."""
        return open_admin(self.settings_for(index_dir), model_stamp(self.encoder)).compact()

    def _apply(
        self,
        records: Iterable[RawArticle | Problem],
        settings: Settings,
        *,
        removals: Sequence[str],
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        on_stage: StageProgress | None = None,
        read_total: int | None = None,
    ) -> IngestReport:
        candidates = (
            record
            if isinstance(record, Problem)
            else prepare_record(record, settings, self.encoder.count_tokens, self.encoder.dimension, with_times=False)
            for record in records
        )
        return self.apply(
            candidates, settings, removals=removals, rebuild=rebuild, show_progress=show_progress,
            on_progress=on_progress, on_stage=on_stage, read_total=read_total,
        )  # fmt: skip

    def apply(
        self,
        candidates: Iterable[Candidate | Problem],
        settings: Settings,
        *,
        removals: Sequence[str] = (),
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        on_stage: StageProgress | None = None,
        read_total: int | None = None,
        make_embedder: EmbedderFactory | None = None,
    ) -> IngestReport:
        """The one ingest loop every way of ingesting goes through: apply `removals`, then decide for each
        prepared input (in order) whether it is added, updated or unchanged, have the new ones embedded by the
        embedder `make_embedder` makes (default: a thread of this process), and hand them to the store's writer
        in batches of `IndexSettings.segment_sentences` sentences (`IngestRun`); commit when anything changed."""
        started = time.perf_counter()
        report = IngestReport()
        stage = StageListeners(on_stage, on_progress, show_progress)
        model = model_stamp(self.encoder)
        encoder = self.encoder
        cache = PendingVectors(settings.index.index_dir, encoder.weights_sha256, encoder.dimension, encoder.kind)
        make_embedder = make_embedder or ThreadEmbedder
        with open_writer(settings, model, rebuild=rebuild) as writer, make_embedder(self, cache, stage) as embedder:
            reader = None if rebuild else _open_reader(settings, model)
            try:
                run = IngestRun(reader, writer, embedder, stage, self.settings.index.segment_sentences)
                changed = run.remove(removals, report) or rebuild
                changed = run.add(candidates, report, read_total) or changed
            finally:
                if reader is not None:
                    reader.close()
            if changed:
                writer.commit()
                cache.clear()
            to_write = len(report.added) + len(report.updated)
            stage("write", to_write, to_write)  # published: every article is in the live index
        stage.close()
        report.seconds = time.perf_counter() - started
        return report


def _open_reader(settings: Settings, model: ModelStamp) -> StoreReader | None:
    """The index as it is before this ingest (None when there is none yet)."""
    try:
        return open_store(settings, model)
    except IndexNotFoundError:
        return None
