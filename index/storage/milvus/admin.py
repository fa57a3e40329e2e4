"""Health and upkeep of the Milvus store: find and finish interrupted writes, find rows of versions no reader
should see, and ask Milvus to compact (it merges segments and drops deleted rows itself)."""

from __future__ import annotations

from collections import defaultdict

from index.storage.api import ModelStamp
from index.storage.milvus.connection import MODEL, Connection
from index.storage.milvus.expressions import literal
from index.storage.milvus.reader import MilvusReader
from index.storage.milvus.schema import ARTICLE_PARTS, COLLECTIONS
from index.storage.milvus.writer import drop_other_versions, finish_intents


class MilvusAdmin:
    """A `StoreAdmin` for the Milvus store."""

    def __init__(self, connection: Connection, model: ModelStamp | None) -> None:
        self.connection = connection
        self.model = model

    def check(self, *, full: bool = False) -> list[str]:
        """Problems: a missing collection or model stamp, another model's vectors, writes that stopped part-way,
        and with `full` (reading every row's article and version) rows of versions that are not live."""
        client = self.connection.open()
        missing = [name for name in COLLECTIONS if name not in set(client.list_collections())]
        if missing:
            return [f"{self.connection.location} has no collection {', '.join(missing)}; create it with qa ingest"]
        if self.connection.read(MODEL) is None:
            return [f"{self.connection.location} has no model stamp; rebuild it with qa ingest --rebuild PATH"]
        problems = []
        try:
            self.connection.check_model(self.model)
        except Exception as exc:  # IndexMismatchError: reported, not raised, by a check
            problems.append(str(exc))
        intents = self.connection.intents()
        if intents:
            problems.append(
                f"{len(intents)} write(s) stopped part-way; qa repair (or the same ingest again) completes them"
            )
        if full:
            stale = self._stale_rows()
            if stale:
                total = sum(len(v) for v in stale.values())
                problems.append(
                    f"{total} article version(s) that readers should not see are stored; qa repair removes them"
                )
        return problems

    def _stale_rows(self) -> dict[str, set[str]]:
        """Article id → versions stored in any collection that are not the article's live version."""
        reader = MilvusReader(self.connection)
        versions: dict[str, set[str]] = defaultdict(set)
        for collection in ARTICLE_PARTS:
            for row in reader._scan(collection, "", ["article_id", "gen"]):
                versions[row["article_id"]].add(row["gen"])
        live = reader.live_generations(list(versions))
        return {a: gens - {live.get(a, "")} for a, gens in versions.items() if gens - {live.get(a, "")}}

    def repair(self) -> str:
        """Finish interrupted writes, then delete rows of versions that are not live."""
        finished = finish_intents(self.connection)
        stale = self._stale_rows()
        reader = MilvusReader(self.connection)
        live = reader.live_generations(list(stale))
        drop_other_versions(self.connection, {a: g for a, g in live.items() if a in stale})
        client = self.connection.open()
        for article_id in (a for a in stale if a not in live):  # rows of a version never completed
            for collection in ARTICLE_PARTS:
                client.delete(collection, filter=f"article_id == {literal(article_id)}")
        if finished or stale:
            self.connection.bump_version()
            return (
                f"finished {finished} interrupted write(s) and removed {sum(len(v) for v in stale.values())} "
                f"stale article version(s) in {self.connection.location}"
            )
        return f"{self.connection.location} is sound; nothing to do"

    def compact(self) -> int:
        """Ask Milvus to compact every collection (it runs in the background on a server); returns how many."""
        client = self.connection.open()
        for name in COLLECTIONS:
            client.compact(name)
        return len(COLLECTIONS)
