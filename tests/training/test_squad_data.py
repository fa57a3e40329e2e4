"""The cross-encoder's training file (training/squad_data.py): labels from annotated offsets, never answer text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from training.squad_data import paragraphs, tune_titles, write_training_file

CONTEXT = "Prices fell in 1972. The crisis began in October 1973 when the embargo started. It ended in 1974."


def _squad(path: Path, titles: list[str], qas: list[dict]) -> Path:
    data = {"data": [{"title": t, "paragraphs": [{"context": CONTEXT, "qas": qas}]} for t in titles]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _qa(qid: str, text: str, at: int) -> dict:
    return {"id": qid, "question": "When?", "answers": [{"text": text, "answer_start": at}]}


def test_the_marked_sentence_is_the_one_holding_the_offset(tmp_path: Path) -> None:
    at = CONTEXT.index("1973")
    (record,) = paragraphs(_squad(tmp_path / "s.json", ["Oil_crisis"], [_qa("q1", "1973", at)]), "train")
    (q,) = record["qas"]
    assert record["title"] == "Oil crisis"
    assert record["sentences"][q["sentence"]] == "The crisis began in October 1973 when the embargo started."
    assert record["sentences"][q["sentence"]][q["start"] : q["end"]] == "1973"
    assert q["exact"] is True


def test_an_answer_across_two_sentences_labels_none(tmp_path: Path) -> None:
    at = CONTEXT.index("1972.")
    (record,) = paragraphs(_squad(tmp_path / "s.json", ["T"], [_qa("q1", "1972. The crisis", at)]), "train")
    assert record["qas"][0]["sentence"] == -1


def test_inferred_offsets_label_the_sentence_but_are_not_exact(tmp_path: Path) -> None:
    at = CONTEXT.index("1974")
    squad = _squad(tmp_path / "s.json", ["T"], [_qa("guessed", "1974", at)])
    (record,) = paragraphs(squad, "train", inferred={"guessed"})
    assert record["qas"][0]["exact"] is False and record["qas"][0]["sentence"] == 2


def test_an_unanswerable_question_is_marked_impossible_with_no_sentence(tmp_path: Path) -> None:
    impossible = {"id": "no", "question": "When did it end for good?", "answers": [], "is_impossible": True}
    (record,) = paragraphs(_squad(tmp_path / "s.json", ["T"], [impossible]), "tune-v2")
    assert record["qas"] == [
        {"id": "no", "question": "When did it end for good?", "answers": [], "sentence": -1, "start": 0, "end": 0,
         "exact": False, "impossible": True}
    ]  # fmt: skip


def test_the_file_holds_train_and_only_the_tune_halves_of_dev(tmp_path: Path) -> None:
    at = CONTEXT.index("1973")
    _squad(tmp_path / "train-v1.1.json", ["A", "B"], [_qa("t", "1973", at)])
    _squad(tmp_path / "dev-v1.1.json", ["C", "D", "E"], [_qa("d", "1973", at)])
    impossible = {"id": "n", "question": "When?", "answers": [], "is_impossible": True}
    _squad(tmp_path / "dev-v2.0.json", ["F", "G"], [_qa("v", "1973", at), impossible])
    assert tune_titles(tmp_path / "dev-v1.1.json") == {"C", "D"}
    out = tmp_path / "out" / "pairs.jsonl.gz"
    counts = write_training_file(out, tmp_path)
    assert counts == {
        "train_paragraphs": 2, "train_questions": 2, "tune_paragraphs": 2, "tune_questions": 2,
        "tune-v2_paragraphs": 1, "tune-v2_questions": 2,
    }  # fmt: skip
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert [(r["split"], r["title"]) for r in records] == [
        ("train", "A"), ("train", "B"), ("tune", "C"), ("tune", "D"), ("tune-v2", "F"),
    ]  # fmt: skip
    assert [q.get("impossible", False) for q in records[-1]["qas"]] == [False, True]
    assert not list(out.parent.glob("*.partial"))
