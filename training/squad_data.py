"""Turn SQuAD v1.1 into the cross-encoder's training file: paragraphs split by the product's sentence splitter,
each question tied to the sentence where its answer was marked (by character offset, never by answer text).

One JSON object a line, gzip-compressed: {"split", "title", "sentences": [...], "qas": [{"id", "question",
"answers", "sentence", "start", "end", "exact"}]}, where `sentence` indexes `sentences` (-1 when the marked answer
crosses a sentence boundary), `start`/`end` are the answer's offsets inside that sentence, and `exact` is False for
the train answers whose offset the data set had to infer (listed in its answer-start ambiguity file): they still
label the sentence, but teach no span. `split` is "train" (all of train-v1.1.json), "tune" (the tune half of
dev-v1.1.json's titles, which the trainer reports on) or "tune-v2" (the tune half of dev-v2.0.json's titles, whose
unanswerable questions carry `"impossible": true`, no answers and sentence -1; the refusal stage of
training/reader_refusal.py learns from them); no test half is ever written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from index.text.sentences import split_sentences
from newsqa.paths import REPO_ROOT, SQUAD_DIR

DEFAULT_OUT = REPO_ROOT / "data" / "train" / "squad-sentences.jsonl.gz"


def _inferred_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8") as handle:
        return {json.loads(line)["id"] for line in handle if line.strip()}


def paragraphs(
    squad_file: Path, split: str, titles: set[str] | None = None, inferred: set[str] | None = None
) -> Iterator[dict]:
    """The paragraphs of one SQuAD file (only `titles`, when given) as training records."""
    data = json.loads(squad_file.read_text(encoding="utf-8"))
    inferred = inferred or set()
    for article in data["data"]:
        if titles is not None and article["title"] not in titles:
            continue
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            bounds = split_sentences(context)
            qas = []
            for qa in paragraph["qas"]:
                if qa.get("is_impossible"):
                    qas.append(
                        {"id": qa["id"], "question": qa["question"], "answers": [], "sentence": -1, "start": 0,
                         "end": 0, "exact": False, "impossible": True}
                    )  # fmt: skip
                    continue
                first = qa["answers"][0]
                at, end = first["answer_start"], first["answer_start"] + len(first["text"])
                number = next((i for i, (a, b) in enumerate(bounds) if a <= at < b), -1)
                if number >= 0 and end > bounds[number][1]:
                    number = -1  # the answer runs into the next sentence: no single sentence holds it
                offset = bounds[number][0] if number >= 0 else 0
                qas.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "answers": list(dict.fromkeys(a["text"] for a in qa["answers"])),
                        "sentence": number,
                        "start": at - offset,
                        "end": end - offset,
                        "exact": qa["id"] not in inferred,
                    }
                )
            yield {
                "split": split,
                "title": article["title"].replace("_", " "),
                "sentences": [context[a:b] for a, b in bounds],
                "qas": qas,
            }


def tune_titles(dev_file: Path) -> set[str]:
    """The first half of a dev file's titles in file order: the same split `qa eval --half tune` uses."""
    titles = [a["title"] for a in json.loads(dev_file.read_text(encoding="utf-8"))["data"]]
    return set(titles[: (len(titles) + 1) // 2])


def write_training_file(out: Path, squad_dir: Path = SQUAD_DIR) -> dict[str, int]:
    """Write the gzip JSONL described above; returns counts per split."""
    train = squad_dir / "train-v1.1.json"
    dev = squad_dir / "dev-v1.1.json"
    dev2 = squad_dir / "dev-v2.0.json"
    for needed in (train, dev, dev2):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed} is missing (SQuAD lives in ../shared/bench/squad/)")
    inferred = _inferred_ids(squad_dir / "train-v1.1-answer-start-ambiguity.jsonl")
    counts = {f"{split}_{what}": 0 for split in ("train", "tune", "tune-v2") for what in ("paragraphs", "questions")}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        for split, records in (
            ("train", paragraphs(train, "train", inferred=inferred)),
            ("tune", paragraphs(dev, "tune", titles=tune_titles(dev))),
            ("tune-v2", paragraphs(dev2, "tune-v2", titles=tune_titles(dev2))),
        ):
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts[f"{split}_paragraphs"] += 1
                counts[f"{split}_questions"] += len(record["qas"])
    partial.replace(out)
    return counts
