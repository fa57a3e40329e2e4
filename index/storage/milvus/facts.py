"""What the Milvus index holds, counted once per reader: articles, sentences and chunks, sources, the date range,
a few values of each metadata field, the version and any writes that stopped part-way."""

from __future__ import annotations

from collections import defaultdict

from index.storage.api import StoreFacts
from index.storage.milvus.connection import SEEN, VERSION, reaching
from index.storage.milvus.expressions import literal
from index.storage.milvus.rows import CollectionRows
from index.storage.milvus.schema import ARTICLES, CHUNKS, SENTENCES, from_day_number

FIELD_SAMPLE = 500  # articles whose metadata fields facts() lists a few values of
MANY_SOURCES = 200  # above this many sources, facts() reads every article's source instead of counting each


class CorpusFacts(CollectionRows):
    """`facts()` of a `MilvusReader` (a mixin of it)."""

    _facts: StoreFacts | None

    @reaching
    def facts(self) -> StoreFacts:
        """The facts as of this reader's first call (counted once): `current_version()` differs from their
        version once a writer committed, and the caller opens a new reader for new facts."""
        if self._facts is not None:
            return self._facts
        version = self.connection.version()
        seen = self.connection.read(SEEN) or {}
        pending = [key for key, _ in self.connection.intents()]
        stamp = self.connection.read(VERSION) or {}
        first, last = self._date_range(sorted(int(d) for d in seen.get("days", [])))
        self._facts = StoreFacts(
            backend="milvus",
            articles=self._count(ARTICLES, "part == 0"),
            sentences=self._count(SENTENCES),
            chunks=self._count(CHUNKS),
            sources=self._sources(seen.get("sources", [])),
            date_from=first,
            date_to=last,
            location=self.connection.location,
            version=version,
            updated_at=str(stamp.get("updated_at", "")),
            fields=self._fields(),
            details={"server": self.connection.server, "unfinished writes": len(pending)},
            warning=(
                f"{len(pending)} write(s) to this index stopped part-way; run the ingest again (or qa repair) "
                "to complete them"
            )
            if pending
            else None,
        )
        return self._facts

    def _sources(self, seen: list[str]) -> list[tuple[str, int]]:
        counts: dict[str, int] = defaultdict(int)
        if len(seen) <= MANY_SOURCES:
            for source in seen:
                counts[source] = self._count(ARTICLES, f"part == 0 and source == {literal(source)}")
        else:
            for row in self._scan(ARTICLES, "part == 0", ["source"]):
                counts[row["source"]] += 1
        return sorted(((s, n) for s, n in counts.items() if n), key=lambda pair: (-pair[1], pair[0]))

    def _date_range(self, days: list[int]) -> tuple[str | None, str | None]:
        """The first and last days of live articles, trying the days ever written from each end (a day whose
        articles were all removed is skipped)."""
        present = (d for d in days if d > 0 and self._count(ARTICLES, f"part == 0 and day == {d}"))
        first = next(present, None)
        if first is None:
            return None, None
        last = next(d for d in reversed(days) if d >= first and self._count(ARTICLES, f"part == 0 and day == {d}"))
        return from_day_number(first).isoformat(), from_day_number(last).isoformat()

    def _fields(self) -> dict[str, list[str]]:
        """A few values of each metadata field, read from a sample of the articles (one query)."""
        values: dict[str, set[str]] = defaultdict(set)
        for row in self.client.query(ARTICLES, filter="part == 0", output_fields=["fields"], limit=FIELD_SAMPLE):
            for name, value in (row["fields"] or {}).items():
                values[name].add(str(value))
        return {name: sorted(found)[:5] for name, found in sorted(values.items())}
