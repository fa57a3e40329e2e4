"""Ingest: files → prepared articles → vectors → the configured store, as three stages.

`prepare` (an article's id, sentences, chunks and time expressions; `chunks`), `embed` (their vectors, saved part
by part to the `pending` cache so a crashed ingest resumes), `write` (added, updated or unchanged, and batches to
the store's writer). `Ingestor` (`ingestor`) runs them over files or records; `progress` reports each stage;
`distributed` runs the same ingest on a Ray cluster.
"""

from index.ingest.ingestor import Ingestor

__all__ = ["Ingestor"]
