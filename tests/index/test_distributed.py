"""`qa ingest --ray` on a local Ray cluster gives the index a plain ingest gives: same articles, sentences, offsets,
chunks, vectors, time expressions, problems and answers; one that dies before publishing resumes from its pending
vectors; re-ingesting is a no-op; plain paths never import ray."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from newsqa.paths import NEWS_BENCH_DIR, REPO_ROOT

REUTERS = NEWS_BENCH_DIR / "reuters21578.jsonl"
QUESTION = "How many bags of cocoa arrived in the week ended February 22?"

pytestmark = pytest.mark.skipif(not REUTERS.is_file(), reason=f"{REUTERS} is absent (the shared news set)")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """60 Reuters articles in three JSONL files, and a broken JSON file between them."""
    folder = tmp_path_factory.mktemp("news")
    records = []
    with REUTERS.open(encoding="utf-8") as handle:
        for line in handle:
            if json.loads(line).get("body"):
                records.append(line)
            if len(records) == 60:
                break
    paths = []
    for n in range(3):
        path = folder / f"reuters-{n}.jsonl"
        path.write_text("".join(records[n * 20 : (n + 1) * 20]), encoding="utf-8")
        paths.append(path)
    broken = folder / "broken.json"
    broken.write_text('{"title": "cut short", "body": ', encoding="utf-8")
    return [paths[0], broken, paths[1], paths[2], folder / "missing.jsonl"]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()


def _content(settings, encoder):  # type: ignore[no-untyped-def]
    """Everything the index holds, article by article in ingest order, vectors included."""
    from index.storage import model_stamp, open_store

    reader = open_store(settings, model_stamp(encoder))
    try:
        articles = reader.articles()
        ids = [a.id for a in articles]
        parts = {}
        for article in articles:
            sentences, chunks = reader.article_parts(article.id)
            sentence_rows = reader.sentences([s.ref for s in sentences], vectors=True)
            chunk_rows = reader.chunks([c.ref for c in chunks], vectors=True)
            parts[article.id] = (
                article.model_dump(),
                [(s.ref, s.start, s.end, s.text, s.chunk) for s in sentence_rows],
                [(c.ref, c.start, c.end, c.sentences) for c in chunk_rows],
                np.stack([s.vector for s in sentence_rows]),
                np.stack([c.vector for c in chunk_rows]),
            )
        return ids, parts, reader.times(ids), reader.facts()
    finally:
        reader.close()


def test_ray_ingest_equals_plain_ingest(ray_cluster, inputs, encoder, settings_factory, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import index.ingest.distributed
    import index.ingest.ingestor
    from cli import main
    from index.ingest import Ingestor
    from index.ingest.distributed import ingest_with_ray
    from index.ingest.pending import PendingVectors
    from qa.assistant import Assistant

    plain_settings, ray_settings = settings_factory(), settings_factory()
    plain = Ingestor(encoder, plain_settings).ingest(inputs, show_progress=False)

    # A Ray ingest that dies before publishing leaves its embedded parts in the pending cache on the driver ...
    real_open_writer = index.ingest.ingestor.open_writer

    def dying_writer(*args, **kwargs):  # type: ignore[no-untyped-def]
        writer = real_open_writer(*args, **kwargs)
        writer.commit = lambda: (_ for _ in ()).throw(RuntimeError("killed before commit"))
        return writer

    monkeypatch.setattr(index.ingest.ingestor, "open_writer", dying_writer)
    with pytest.raises(RuntimeError, match="killed before commit"):
        ingest_with_ray(Ingestor(encoder, ray_settings), inputs, show_progress=False)
    monkeypatch.setattr(index.ingest.ingestor, "open_writer", real_open_writer)
    cache = PendingVectors(ray_settings.index.index_dir, encoder.weights_sha256, encoder.dimension, encoder.kind)
    saved = cache.load()
    assert len(saved) >= 60, "the embedded parts were not kept"

    # ... and the re-run resumes from them: no chunk goes to the encoder actors again.
    parts_sent: list[int] = []
    real_encode_parts = index.ingest.distributed._ActorEmbedder._encode_parts

    def counting(self, parts):  # type: ignore[no-untyped-def]
        parts_sent.append(len(parts))
        return real_encode_parts(self, parts)

    monkeypatch.setattr(index.ingest.distributed._ActorEmbedder, "_encode_parts", counting)
    distributed = ingest_with_ray(Ingestor(encoder, ray_settings), inputs, show_progress=False)
    assert parts_sent == [0]
    assert not cache.load(), "the pending cache outlived the commit"

    assert len(plain.added) == 60
    assert distributed.added == plain.added
    assert distributed.updated == plain.updated == []
    assert [p.model_dump() for p in distributed.problems] == [p.model_dump() for p in plain.problems]
    assert len(plain.problems) == 2  # the broken file and the missing one

    plain_ids, plain_parts, plain_times, _ = _content(plain_settings, encoder)
    ray_ids, ray_parts, ray_times, ray_facts = _content(ray_settings, encoder)
    assert ray_ids == plain_ids
    assert ray_times == plain_times and plain_times, "time expressions differ (or none were found)"
    for article_id in plain_ids:
        article, sentences, chunks, sentence_vectors, chunk_vectors = plain_parts[article_id]
        got = ray_parts[article_id]
        assert got[0] == article
        assert got[1] == sentences
        assert got[2] == chunks
        np.testing.assert_allclose(got[3], sentence_vectors, atol=2**-10)  # float16 precision
        np.testing.assert_allclose(got[4], chunk_vectors, atol=2**-10)

    answers = []
    for settings in (plain_settings, ray_settings):
        answer = Assistant(settings, encoder=encoder, auto_ingest=False, reader=False).answer(QUESTION)
        answers.append(
            [
                (s.text, round(s.score, 4), s.citation.article_id, s.citation.sentence_number, s.citation.start)
                for s in answer.sentences
            ]
        )
    assert answers[0], "the question found nothing"
    assert answers[1] == answers[0]

    # Again through the command line (`--ray PATH` takes PATH as an input): everything unchanged, nothing written.
    capsys.readouterr()
    code = main(["--index-dir", str(ray_settings.index.index_dir), "ingest", "--quiet", "--ray", *map(str, inputs)])
    summary = capsys.readouterr().out
    assert code == 0
    assert "0 added, 0 updated, 60 unchanged, 2 skipped" in summary
    assert _content(ray_settings, encoder)[3].version == ray_facts.version


def test_plain_paths_never_import_ray() -> None:
    code = (
        "import sys; import cli, qa.assistant, index.ingest, index.storage; "
        "sys.exit(1 if any(m == 'ray' or m.startswith('ray.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False).returncode == 0
