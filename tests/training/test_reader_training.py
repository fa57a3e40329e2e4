"""The cross-encoder's trainer (training/reader.py) on a few real SQuAD-shaped questions: hard negatives never hold
the answer, span labels point at the answer's word pieces, and what it saves is what the product loads and reads."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from index.encoder import packaged_model_dir, sha256_of
from qa.reader import ReaderConfig, load_reader
from training import reader as trainer

SENTENCES = [
    "The crisis began in October 1973 when the embargo started.",
    "Oil prices quadrupled within months.",
    "Rationing was introduced in several countries.",
]
OTHER = [
    "The harvest failed in 1975.", "The river floods every spring.", "A new bridge opened in 1980.",
    "Trade on the river collapsed in October 1973.", "Barges carry grain downstream.", "The port was dredged.",
    "Fishermen protested the new dam.", "The delta is home to rare birds.",
]  # fmt: skip


def _record(title: str, sentences: list[str], qas: list[dict], split: str = "train") -> dict:
    return {"split": split, "title": title, "sentences": sentences, "qas": qas}


def _q(qid: str, question: str, answer: str, sentence: int, sentences: list[str]) -> dict:
    start = sentences[sentence].index(answer)
    return {"id": qid, "question": question, "answers": [answer], "sentence": sentence, "start": start,
            "end": start + len(answer), "exact": True}  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = [
        _record("Oil crisis", SENTENCES, [
            _q("a", "When did the oil crisis begin?", "October 1973", 0, SENTENCES),
            _q("b", "How much did oil prices rise?", "quadrupled", 1, SENTENCES),
        ]),
        _record("Rivers", OTHER, [
            _q("c", "When does the river flood?", "every spring", 1, OTHER),
        ]),
        _record("Oil crisis", SENTENCES, [_q("d", "When did the crisis begin?", "October 1973", 0, SENTENCES)], "tune"),
    ]  # fmt: skip
    path = tmp_path_factory.mktemp("train") / "pairs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    return path


def test_groups_start_with_the_marked_sentence_and_no_negative_holds_the_answer(data: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    model_dir = packaged_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    bert = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    train, tune = trainer.load(data, None)
    assert len(train) == 2 and len(tune) == 1
    groups = trainer.build_groups(train, bert, tokenizer, "cpu", seed=0)
    by_question = {g["question"]: g for g in groups}
    crisis = by_question["When did the oil crisis begin?"]
    assert crisis["candidates"][0] == ("Oil crisis", SENTENCES[0])
    assert len(crisis["candidates"]) == trainer.GROUP
    # Another article's "Trade on the river collapsed in October 1973." holds the answer's text: as a negative it
    # would teach the model that an answering sentence does not answer, so it is never used.
    assert all("October 1973" not in text for _, text in crisis["candidates"][1:])
    assert {text for _, text in crisis["candidates"][1:]} >= set(SENTENCES[1:])  # its own paragraph's others
    (tokens,) = trainer.tokenize_groups(tokenizer, [crisis])
    pieces = tokenizer.convert_ids_to_tokens(tokens["ids"][0][tokens["start"] : tokens["end"] + 1])
    assert tokenizer.convert_tokens_to_string(pieces) == "october 1973"


def test_what_the_trainer_saves_is_what_the_product_loads(data: Path, tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "reader"
    args = trainer.build_parser().parse_args(
        ["--data", str(data), "--model", str(packaged_model_dir()), "--out", str(out), "--steps", "2",
         "--batch", "2", "--eval-questions", "1", "--workers", "0", "--device", "cpu"]
    )  # fmt: skip
    report = trainer.train(args)
    assert report["steps"] == 2 and report["tune"]["questions"] == 1
    weights = out / "reader.safetensors"
    from safetensors.torch import load_file

    saved = load_file(str(weights))
    assert f"bert.{trainer.FROZEN}" not in saved and "head.weight" in saved
    assert all(t.dtype == torch.float16 for t in saved.values())
    ReaderConfig(
        weights_file=weights.name, weights_sha256=sha256_of(weights), base_model_sha256=encoder.weights_sha256
    ).write(out)
    product = load_reader(encoder, out)
    network = trainer.Network(product.bert)
    network.head = product.head
    candidates = [("Oil crisis", s) for s in SENTENCES]
    expected = trainer.read(network, product.tokenizer, "When did the crisis begin?", candidates, "cpu")
    got = product.read("When did the crisis begin?", candidates)
    assert [(r.start, r.end) for r in got] == [(r.start, r.end) for r in expected]
    assert [r.logit for r in got] == pytest.approx([r.logit for r in expected], abs=1e-5)


@pytest.mark.parametrize("module", ["training.reader", "training.reader_refusal"])
def test_the_trainer_imports_only_the_cross_encoder_of_the_product(module: str) -> None:
    """`python -m training.reader` and its refusal stage run from a plain copy of the repository on a machine with
    only torch, transformers and safetensors: of the project they load qa.cross_encoder (and `qa` itself, which
    imports nothing on its own), the evaluation's pure-Python answer scoring and their own modules, nothing else."""
    probe = (
        f"import json, sys, {module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('newsqa', 'index', 'qa', 'ui', 'evaluation', 'training', 'cli'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    loaded = {m for m in json.loads(done.stdout.splitlines()[-1]) if m.split(".")[0] != "training"}
    assert loaded <= {"qa", "qa.cross_encoder", "evaluation", "evaluation.metrics", "evaluation.normalize"}, loaded
