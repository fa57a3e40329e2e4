"""Write: what one ingest does with its prepared inputs, in order — decide for each whether it is added, an
update (its old version removed) or unchanged, hand the new ones to the embedder, and give them to the store's
writer in batches of `IndexSettings.segment_sentences` sentences once their vectors are back, so memory stays bounded.

Decisions read the index as it was before the run (`StoreReader`) and what the run itself has taken in, so an
article given twice in one ingest is one article; nothing is published until the caller commits the writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from index.ingest.embed import ArticleEmbedder
from index.ingest.prepare import Candidate, add_times
from index.ingest.progress import FileCount, StageProgress
from index.models import Article, IngestReport, Problem
from index.storage import PreparedArticle, StoreReader, StoreWriter


class IngestRun:
    """One ingest's writing side. It holds what the run has decided so far: the articles it has taken in (id →
    metadata, text left out), those it removed or replaced that the index held before it (read through `reader`,
    the view from before the run), lookups by file and URL for the articles it took in, and the batch not yet
    handed to `writer`."""

    def __init__(
        self,
        reader: StoreReader | None,
        writer: StoreWriter,
        embedder: ArticleEmbedder,
        stage: StageProgress,
        batch_sentences: int,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.embedder = embedder
        self.stage = stage
        self.batch_sentences = batch_sentences
        self.gone: set[str] = set()
        self.taken: dict[str, Article] = {}
        self.by_origin: dict[str, str] = {}
        self.by_url: dict[str, str] = {}
        self.batch: list[PreparedArticle] = []
        self.batch_size = 0  # sentences in `batch`

    def remove(self, article_ids: Sequence[str], report: IngestReport) -> bool:
        """Remove articles by id (each reported as updated, an unknown id as a problem); whether any was."""
        changed = False
        for article_id in article_ids:
            if self._delete(article_id):
                report.updated.append(article_id)
                changed = True
            else:
                report.problems.append(Problem(path=article_id, reason="no article with this id in the index"))
        return changed

    def add(self, candidates: Iterable[Candidate | Problem], report: IngestReport, read_total: int | None) -> bool:
        """Decide for each prepared input, in order, and write the new ones; whether anything changed. Every
        Problem goes to `report` and costs only its own input."""
        changed = False
        files = FileCount(read_total)
        for candidate in candidates:
            if isinstance(candidate, Problem):
                self.stage("read", *files.seen(candidate.path))
                report.problems.append(candidate)
                continue
            item = candidate.item
            self.stage("read", *files.seen(item.article.origin))
            try:
                outcome = self._decide(candidate)
            except Exception as exc:  # one broken article must never stop the ingest
                report.problems.append(Problem(path=item.article.origin, reason=f"could not process: {exc}"))
                continue
            getattr(report, outcome).append(item.article.id)
            if outcome != "unchanged":
                self._take(candidate)
                changed = True
        self.stage("read", *files.finished())
        self.embedder.reading_done()
        self._flush()
        return changed

    def _take(self, candidate: Candidate) -> None:
        """Take a new or updated article in: embedded, then written with its batch."""
        item = candidate.item
        if not candidate.timed:
            add_times(item)
        article = item.article
        self.taken[article.id] = article.model_copy(update={"text": ""})
        self.by_origin[article.origin] = article.id
        if article.url:
            self.by_url[article.url] = article.id
        self.batch.append(item)
        self.embedder.add(item)
        self.batch_size += len(item.sentences)
        if self.batch_size >= self.batch_sentences:
            self._flush()

    def _flush(self) -> None:
        """Wait for the batch's vectors and hand it to the writer."""
        if not self.batch:
            return
        embedder = self.embedder
        embedder.finish()
        self.writer.add(self.batch)
        embedder.articles_written += len(self.batch)
        self.stage("write", embedder.articles_written, embedder.articles)
        self.batch, self.batch_size = [], 0

    def _decide(self, candidate: Candidate) -> str:
        """ "added", "updated" (its old version removed) or "unchanged", from what the index and this run hold."""
        article = candidate.item.article
        same = self._known(article.id)
        if same is not None:
            if same.content_hash == article.content_hash and _same_metadata(same, article):
                return "unchanged"
            self._delete(article.id)
            return "updated"
        # Without an id from the input, the same file (or URL) with new content is a new version.
        old = (self._lookup("url", article.url) if article.url else None) or (
            self._lookup("origin", article.origin) if not candidate.own_id else None
        )
        if old is not None:
            self._delete(old)
            return "updated"
        return "added"

    def _known(self, article_id: str) -> Article | None:
        """The live article `article_id`'s metadata (text left out), or None."""
        if article_id in self.taken:
            return self.taken[article_id]
        if self.reader is None or article_id in self.gone:
            return None
        found = self.reader.articles([article_id], text=False)
        return found[0] if found else None

    def _lookup(self, column: str, value: str) -> str | None:
        """The id of a live article read from the same file (column "origin") or URL, or None."""
        mine = (self.by_origin if column == "origin" else self.by_url).get(value)
        if mine is not None and mine in self.taken:
            return mine
        if self.reader is None:
            return None
        found = self.reader.find_articles(url=value) if column == "url" else self.reader.find_articles(origin=value)
        for article in found:
            if article.id not in self.gone and article.id not in self.taken:
                return article.id
        return None

    def _delete(self, article_id: str) -> bool:
        """Remove the live article `article_id` wherever it is (the unwritten batch, or the store); False when
        there is none."""
        if self._known(article_id) is None:
            return False
        # Its sentences still count towards the batch's size, as they always have: batches end where they did.
        self.batch = [item for item in self.batch if item.article.id != article_id]
        self.writer.remove([article_id])
        self.gone.add(article_id)
        self.taken.pop(article_id, None)
        return True


def _same_metadata(a: Article, b: Article) -> bool:
    return (a.title, a.source, a.date, a.url, a.author) == (b.title, b.source, b.date, b.url, b.author)
