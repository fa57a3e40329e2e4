"""The reader's refusal stage (training/reader_refusal.py) on a few real SQuAD-shaped questions: its "no" groups
never hold an answer, a "no" group teaches only "this does not answer", and what it saves is what the product
loads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from index.encoder import packaged_model_dir, sha256_of
from qa.reader import ReaderConfig, load_reader
from training import reader as trainer
from training import reader_refusal as refusal
from training.reader_groups import load_split

CRISIS = [
    "The crisis began in October 1973 when the embargo started.",
    "Oil prices quadrupled within months.",
    "Rationing was introduced in several countries.",
]
RIVERS = [
    "The harvest failed in 1975.", "The river floods every spring.", "A new bridge opened in 1980.",
    "Trade on the river collapsed in October 1973.", "Barges carry grain downstream.", "The port was dredged.",
    "Fishermen protested the new dam.", "The delta is home to rare birds.",
]  # fmt: skip
HARBOUR = [
    "The harbour wall was raised in 1930.", "Ferries leave every hour.", "The lighthouse is automated.",
    "Cargo volumes doubled last decade.", "A marina was added in 1995.", "Seals rest on the breakwater.",
    "The fish market starts at dawn.", "Storms closed the port twice.",
]  # fmt: skip
VILLAGE = [
    "The village church dates from 1200.", "Its pub serves local ale.", "A bus stops twice a day.",
    "The green hosts a summer fair.", "Farmers grow barley nearby.", "The post office shut in 2010.",
    "A stream runs past the mill.", "The population is about 600.",
]  # fmt: skip
TOWNS = [
    "The town hall was built in 1820.", "Its market opens on Tuesdays.", "The mayor is elected every four years.",
    "A fire destroyed the mill in 1901.", "The school has 400 pupils.", "The railway arrived in 1850.",
    "Tourists visit the old castle.", "The brewery closed in 1999.", "The bypass opened in 2004.",
]  # fmt: skip


def _q(qid: str, question: str, answer: str, sentence: int, sentences: list[str]) -> dict:
    start = sentences[sentence].index(answer)
    return {"id": qid, "question": question, "answers": [answer], "sentence": sentence, "start": start,
            "end": start + len(answer), "exact": True}  # fmt: skip


def _no(qid: str, question: str) -> dict:
    return {"id": qid, "question": question, "answers": [], "sentence": -1, "start": 0, "end": 0, "exact": False,
            "impossible": True}  # fmt: skip


@pytest.fixture(scope="module")
def models() -> tuple:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_model_dir()))
    bert = AutoModel.from_pretrained(str(packaged_model_dir()), add_pooling_layer=False).eval()
    return bert, tokenizer


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = [
        {"split": "train", "title": "Oil crisis", "sentences": CRISIS, "qas": [
            _q("a", "When did the oil crisis begin?", "October 1973", 0, CRISIS),
            _q("b", "How much did oil prices rise?", "quadrupled", 1, CRISIS),
        ]},
        {"split": "train", "title": "Rivers", "sentences": RIVERS, "qas": [
            _q("c", "When does the river flood?", "every spring", 1, RIVERS),
            _q("d", "When did river trade collapse?", "October 1973", 3, RIVERS),
        ]},
        {"split": "train", "title": "Towns", "sentences": TOWNS, "qas": [
            _q("e", "When was the town hall built?", "1820", 0, TOWNS),
        ]},
        {"split": "train", "title": "Harbour", "sentences": HARBOUR, "qas": [
            _q("k", "When was the harbour wall raised?", "1930", 0, HARBOUR),
        ]},
        {"split": "train", "title": "Village", "sentences": VILLAGE, "qas": [
            _q("l", "How many people live in the village?", "about 600", 7, VILLAGE),
        ]},
        {"split": "tune-v2", "title": "Towns", "sentences": TOWNS[:4], "qas": [
            _q("f", "When was the town hall built?", "1820", 0, TOWNS),
            _no("g", "When was the town hall demolished?"),
        ]},
        {"split": "tune-v2", "title": "Towns", "sentences": TOWNS[4:], "qas": [_no("h", "How many pupils left?")]},
        {"split": "tune-v2", "title": "Rivers", "sentences": RIVERS[:3], "qas": [
            _q("i", "When did the harvest fail?", "1975", 0, RIVERS), _no("j", "When did the harvest recover?"),
        ]},
    ]  # fmt: skip
    path = tmp_path_factory.mktemp("refusal") / "pairs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    return path


def test_an_article_less_question_is_read_against_other_articles_and_never_an_answer(models: tuple) -> None:
    bert, tokenizer = models
    archive = [("Rivers", s) for s in RIVERS] + [("Towns", s) for s in TOWNS]
    vectors = trainer.embed(bert, tokenizer, [s for _, s in archive], "cpu")
    question = {"question": "When did the oil crisis begin?", "answers": ["October 1973"]}
    (group,) = refusal.no_answer_groups([question], archive, vectors, bert, tokenizer, "cpu")
    assert group["negative"] is True and group["span"] is None
    assert len(group["candidates"]) == trainer.GROUP
    # "Trade on the river collapsed in October 1973." is among the nearest, but it holds the answer's text: a
    # sentence that answers must never be taught as one that does not.
    assert all("October 1973" not in text for _, text in group["candidates"])


def test_an_unanswerable_question_reads_its_paragraph_first_then_its_article(models: tuple, data: Path) -> None:
    bert, tokenizer = models
    towns = [r for r in load_split(data, "tune-v2") if r["title"] == "Towns"]
    groups = {g["question"]: g for g in refusal.unanswerable_groups(towns, bert, tokenizer, "cpu")}
    assert set(groups) == {"When was the town hall demolished?", "How many pupils left?"}
    demolished = [text for _, text in groups["When was the town hall demolished?"]["candidates"]]
    assert len(demolished) == trainer.GROUP and set(demolished[:4]) == set(TOWNS[:4])
    assert set(demolished[4:]) <= set(TOWNS[4:])
    assert all(g["negative"] for g in groups.values())


def test_a_no_answer_group_teaches_only_that_no_sentence_answers(models: tuple) -> None:
    bert, tokenizer = models
    network = trainer.Network(bert)
    groups = [
        {"question": "When did the oil crisis begin?", "candidates": [("Oil crisis", s) for s in CRISIS]
         + [("Rivers", s) for s in RIVERS[:5]], "span": (20, 32)},
        {"question": "When did the oil crisis end?", "candidates": [("Rivers", s) for s in RIVERS], "span": None},
    ]  # fmt: skip
    batch = trainer.collate(trainer.tokenize_groups(tokenizer, groups))
    with torch.no_grad():
        logits = network(batch["ids"], batch["types"], batch["mask"])[0].view(2, trainer.GROUP)
        only_negative = dict(
            trainer.collate(trainer.tokenize_groups(tokenizer, groups[1:])), negative=torch.tensor([True])
        )
        _, parts = trainer.group_loss(network, only_negative)
    assert parts["listwise"] == 0.0 and parts["span"] == 0.0
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[1], torch.zeros(trainer.GROUP))
    assert parts["pointwise"] == pytest.approx(float(expected), abs=1e-4)
    with torch.no_grad():
        _, mixed = trainer.group_loss(network, dict(batch, negative=torch.tensor([False, True])))
        _, unflagged = trainer.group_loss(network, batch)
    # Flagged, the second group no longer counts as one whose first sentence answers.
    labels = torch.zeros(2, trainer.GROUP)
    labels[0, 0] = 1.0
    assert mixed["pointwise"] == pytest.approx(
        float(torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)), abs=1e-4
    )
    assert mixed["listwise"] != pytest.approx(unflagged["listwise"], abs=1e-6)


def test_the_stage_runs_end_to_end_and_saves_what_the_product_loads(data: Path, tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    from qa.reader import READER_DIR

    out = tmp_path / "refused"
    args = refusal.build_parser().parse_args(
        ["--data", str(data), "--model", str(packaged_model_dir()), "--init", str(READER_DIR / "reader.safetensors"),
         "--out", str(out), "--steps", "2", "--batch", "2", "--device", "cpu", "--article-less", "1",
         "--judge-article-less", "1", "--positives", "10", "--archive", "10"]
    )  # fmt: skip
    report = refusal.run(args)
    assert report["steps"] == 2 and len(report["log"]) == 1
    assert report["groups"]["v2_unanswerable"] >= 1 and report["groups"]["positive"] >= 1
    assert set(report["judged_after"]) == set(report["judged_before"])
    assert report["judged_before"]["v2_answerable"] + report["judged_before"]["v2_unanswerable"] >= 1
    weights = out / "reader.safetensors"
    ReaderConfig(
        weights_file=weights.name, weights_sha256=sha256_of(weights), base_model_sha256=encoder.weights_sha256
    ).write(out)
    product = load_reader(encoder, out)
    readings = product.read("When did the crisis begin?", [("Oil crisis", s) for s in CRISIS])
    assert len(readings) == 3 and CRISIS[0][readings[0].start : readings[0].end]
