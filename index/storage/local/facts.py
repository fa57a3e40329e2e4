"""What a loaded snapshot holds, counted: articles, sentences and chunks, the sources, the dates, and the
metadata fields with a few of their values."""

from __future__ import annotations

from index.storage.local.rows import SegmentRows


class CorpusFacts(SegmentRows):
    """Counts and summaries of the live articles (a mixin of `IndexStore`)."""

    @property
    def n_articles(self) -> int:
        return int(self.manifest["articles"])

    @property
    def n_sentences(self) -> int:
        return int(self.manifest["sentences"])

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["chunks"])

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, most articles first."""
        counts: dict[str, int] = {}
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT COALESCE(source, ''), COUNT(*) FROM articles WHERE {where} GROUP BY 1"
            for source, n in s.db.execute(query, params):
                counts[source] = counts.get(source, 0) + n
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def date_range(self) -> tuple[str | None, str | None]:
        firsts, lasts = [], []
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT MIN(date), MAX(date) FROM articles WHERE date IS NOT NULL AND {where}"
            first, last = s.db.execute(query, params).fetchone()
            if first:
                firsts.append(first)
                lasts.append(last)
        return (min(firsts), max(lasts)) if firsts else (None, None)

    def field_values(self, per_field: int = 5) -> dict[str, list[str]]:
        """Each metadata field of the live articles with a few of its values (the most common first)."""
        counts: dict[str, dict[str, int]] = {}
        for s in self.segments:
            if not s.has_fields:
                continue
            where, params = self._alive(s, "article_id")
            query = f"SELECT name, value, COUNT(*) FROM fields WHERE {where} GROUP BY name, value"
            for name, value, n in s.db.execute(query, params):
                counts.setdefault(name, {})[value] = counts.get(name, {}).get(value, 0) + n
        return {
            name: [v for v, _ in sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:per_field]]
            for name, values in sorted(counts.items())
        }
