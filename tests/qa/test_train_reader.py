"""The reader's training data: labels from annotated offsets, held-out titles, and token positions of spans."""

from __future__ import annotations

import json
from pathlib import Path

from qa.eval.train_reader import Pair, answer_span, gold_sentences, split_held_out, tokenise
from qa.reader import Reader

CONTEXT = "Prices fell in 1972. The crisis began in October 1973 when the embargo started. It ended in 1974."


def _pair(title: str, qid: int = 0, sentence: str = "x", span: tuple[int, int] | None = None) -> Pair:
    return Pair(qid, title, "When did it begin?", sentence, int(span is not None), span, 0.5, 0, ["1973"])


def test_positives_are_the_sentences_where_the_answer_was_marked(tmp_path: Path) -> None:
    # Only the sentence holding the marked offset is a positive, not every sentence with a year in it.
    at = CONTEXT.index("October 1973")
    squad = {
        "data": [
            {
                "title": "Crisis",
                "paragraphs": [
                    {
                        "context": CONTEXT,
                        "qas": [
                            {
                                "id": "q1",
                                "question": "When?",
                                "answers": [{"text": "October 1973", "answer_start": at}],
                            },
                            {"id": "q2", "question": "Why?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    marked = gold_sentences(path)
    assert marked["q1"] == ["The crisis began in October 1973 when the embargo started."]
    assert marked["q2"] == []


def test_answer_span_finds_the_answer_case_insensitively() -> None:
    sentence = "The crisis began in October 1973."
    assert answer_span(sentence, ["october 1973"]) == (20, 32)
    assert answer_span(sentence, ["1980", "1973"]) == (28, 32)
    assert answer_span(sentence, ["1980"]) is None


def test_held_out_titles_never_reach_training() -> None:
    pairs = [_pair(f"title-{i % 10}", qid=i) for i in range(100)]
    fit, held = split_held_out(pairs)
    assert {p.title for p in fit}.isdisjoint({p.title for p in held})
    assert len({p.title for p in held}) == 2 and len(fit) + len(held) == len(pairs)
    assert split_held_out(pairs)[1] == held  # seeded: the same split every time


def test_span_labels_point_at_the_answers_word_pieces(encoder) -> None:  # type: ignore[no-untyped-def]
    reader = Reader.build(encoder.model[0].auto_model, encoder.model.tokenizer, bottom_layers=4)
    sentence = "The crisis began in October 1973 when the embargo started."
    (example,) = tokenise(reader, [_pair("t", sentence=sentence, span=answer_span(sentence, ["October 1973"]))])
    pieces = reader.tokenizer.convert_ids_to_tokens(example.input_ids[example.start : example.end + 1])
    assert pieces == ["october", "1973"]
    assert all(example.sentence_mask[example.start : example.end + 1])
    (negative,) = tokenise(reader, [_pair("t", sentence=sentence)])
    assert negative.start == negative.end == 0
