"""What the UI tests share: a free local port to serve the real app on, and a small corpus with metadata fields."""

from __future__ import annotations

import json
import socket
from pathlib import Path

# Two desks of one paper report the same months: what "how many came to the harbour" answers depends on the
# category the search is restricted to.
HARBOUR_REPORTS = [
    {"id": "harbour-cargo-march", "date": "2021-04-01", "category": "business", "section": "shipping",
     "title": "Harbour cargo grows in March",
     "text": "The harbour handled 12,400 containers in March, the port authority said on Thursday."},
    {"id": "harbour-regatta-march", "date": "2021-04-02", "category": "sport", "section": "sailing",
     "title": "Regatta draws a record field",
     "text": "The harbour regatta drew 1,850 sailors in March, the race committee said on Friday."},
    {"id": "harbour-cargo-april", "date": "2021-05-03", "category": "business", "section": "shipping",
     "title": "Harbour cargo grows again in April",
     "text": "The harbour handled 13,900 containers in April, the port authority said on Monday."},
    {"id": "harbour-regatta-april", "date": "2021-05-04", "category": "sport", "section": "sailing",
     "title": "Regatta grows again",
     "text": "The harbour regatta drew 2,300 sailors in April, the race committee said on Tuesday."},
]  # fmt: skip
HARBOUR_QUESTION = "How many came to the harbour in March?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def harbour_assistant(encoder, folder: Path):  # type: ignore[no-untyped-def]
    """An Assistant over the harbour reports alone (no default corpus), indexed in `folder`, its reader loaded
    (as `qa serve` does) so that the first question does not wait for it."""
    from newsqa.settings import Settings
    from qa.assistant import Assistant

    feed = folder / "harbour.jsonl"
    feed.write_text("".join(json.dumps(r | {"source": "Port News"}) + "\n" for r in HARBOUR_REPORTS), encoding="utf-8")
    assistant = Assistant(Settings(index_dir=folder / "index", corpus_dir=folder / "none"), encoder=encoder)
    assistant.ingest([feed], show_progress=False)
    assistant.reader  # noqa: B018
    return assistant
