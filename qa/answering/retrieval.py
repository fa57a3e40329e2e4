"""Retrieve a question's candidate sentences: encode it, prefer the articles of the time it asks about, and fuse
the store's rankings (qa/retrieve.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.encoder import TextEncoder
from index.storage import StoreReader, TimePreference
from index.text.dates import says_its_year
from qa.answering.understand import Understood
from qa.models import QuestionTime, SearchFilter
from qa.retrieve import Retrieved, retrieve
from qa.when import dated_window


@dataclass
class Retrieval:
    """The question's vector and what retrieval found with it."""

    vector: np.ndarray
    found: Retrieved


@dataclass(frozen=True)
class Retrieve:
    """`Understood` (+ a search filter, how many chunks) → `Retrieval`. `depth`: the hits each ranking gives to
    the fusion (the answering settings' `depth`)."""

    store: StoreReader
    encoder: TextEncoder
    depth: int
    time_aware: bool = True

    def run(self, understood: Understood, search_filter: SearchFilter | None, chunks: int) -> Retrieval:
        vector = self.encoder.encode([understood.text])[0]
        prefer = self.preference(understood.time)
        found = retrieve(
            self.store, understood.question, vector, chunks=chunks, depth=self.depth, search_filter=search_filter,
            prefer=prefer,
        )  # fmt: skip
        return Retrieval(vector, found)

    def preference(self, when: QuestionTime) -> TimePreference | None:
        """The articles of the time asked about (qa/when.py), for retrieval to prefer."""
        window = dated_window(when) if self.time_aware else None
        if window is None:
            return None
        told = (when.first.isoformat(), when.last.isoformat()) if when.first and when.last else None
        # For "in 2019", an article saying "in 2019" is BM25's to find; one saying "last year" in 2020 is not.
        literal = says_its_year(when.expression, when.first)
        return TimePreference((window[0].isoformat(), window[1].isoformat()), told, relative_only=literal)
