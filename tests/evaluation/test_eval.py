"""The evaluator end to end: the bundled gold set through the real assistant, the report files, and a broken
assistant that must make the evaluation fail."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from evaluation.gold import load_gold
from evaluation.metrics import QUESTION_KINDS, sentence_hit_at_k
from evaluation.report import render_markdown, worst_failures, write_report
from evaluation.run import (
    EvalResult,
    EvalSetupError,
    QuestionRecord,
    add_eval_arguments,
    evaluate,
    prepare_dataset,
    run_eval_cli,
    summarize,
)
from newsqa.paths import REPO_ROOT, SQUAD_DIR

GOLD = REPO_ROOT / "evaluation" / "goldsets" / "khmer-times.jsonl"
SQUAD_V1 = SQUAD_DIR / "dev-v1.1.json"

needs_squad = pytest.mark.skipif(
    not SQUAD_V1.exists(), reason=f"SQuAD v1.1 dev file not found at {SQUAD_V1} (benchmark data is not shipped)"
)


@pytest.fixture(scope="module")
def gold_result(seed_assistant) -> EvalResult:  # type: ignore[no-untyped-def]
    return evaluate(load_gold(GOLD), seed_assistant, top_k=5, progress=False)


def _cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(list(argv))


# --- the gold set through the real assistant ---


def test_every_gold_question_gets_a_record(gold_result: EvalResult) -> None:
    gold = load_gold(GOLD)
    m = gold_result.metrics
    assert [r.id for r in gold_result.records] == [q.id for q in gold]
    assert m.n_questions == len(gold)
    assert m.n_answerable == sum(q.answerable for q in gold)
    assert m.n_unanswerable == len(gold) - m.n_answerable > 0
    assert m.n_errors == 0
    assert sum(k.n for k in gold_result.per_kind.values()) == len(gold)
    assert set(gold_result.per_kind) <= set(QUESTION_KINDS)


def test_metrics_are_consistent(gold_result: EvalResult) -> None:
    m = gold_result.metrics
    assert 0.0 <= m.hit_at["1"] <= m.hit_at["3"] <= m.hit_at["5"] <= 1.0
    assert m.hit_at["1"] > 0.3, "the seed corpus answers most of its own gold questions"
    for scores in m.spans.values():
        assert 0.0 <= scores.squad_em <= scores.squad_f1 <= 1.0
        assert 0.0 <= scores.em <= scores.f1 <= 1.0
    for name in ("precision", "recall", "f1", "answered_rate"):
        assert 0.0 <= m.abstention[name] <= 1.0
    chunk = m.retrieval["chunk"]
    assert chunk.n == m.n_answerable
    recalls = [chunk.recall[k] for k in ("1", "3", "5", "10", "20")]
    assert recalls == sorted(recalls) and 0.0 < chunk.mrr <= 1.0
    assert 0.0 < m.latency_ms["p50"] <= m.latency_ms["p95"] <= m.latency_ms["max"]


def test_hit_at_1_agrees_with_an_independent_recount(gold_result: EvalResult) -> None:
    answerable = [r for r in gold_result.records if r.answerable]
    recount = [bool(r.returned) and sentence_hit_at_k([r.returned[0].text], r.gold_answers, 1) for r in answerable]
    assert gold_result.metrics.hit_at["1"] == pytest.approx(sum(recount) / len(answerable))


def test_unanswerable_questions_only_score_when_abstained(gold_result: EvalResult) -> None:
    for record in gold_result.records:
        if not record.answerable:
            assert record.em == float(record.abstained)
            assert not record.hit_at_5


def test_cited_sentences_are_verbatim_and_gold_set_citations_are_not_scored(gold_result: EvalResult) -> None:
    m = gold_result.metrics
    assert m.citation.n_checked > 0 and m.citation.verbatim == 1.0
    # The seed gold set names no article ids (one article): citation correctness is n/a, not 0 %.
    assert m.citation.n_scored == 0 and m.retrieval["article"].n == 0


def test_follow_up_questions_are_asked_with_their_history(gold_result: EvalResult) -> None:
    follow_up = next(r for r in gold_result.records if r.history)
    assert follow_up.understood_question != follow_up.question
    assert "2018" in follow_up.understood_question


def test_report_files(gold_result: EvalResult, tmp_path: Path) -> None:
    report = write_report(gold_result, tmp_path / "out")
    folder = report.parent
    text = report.read_text(encoding="utf-8")
    assert "## By question kind" in text and "| how many/much |" in text
    assert "## Worst failures" in text and "gold:" in text
    assert "## Abstention" in text and "| unanswerable |" in text
    assert f"scorer weights: {gold_result.settings.weights_provenance}" in text
    loaded = EvalResult.model_validate(json.loads((folder / "results.json").read_text(encoding="utf-8")))
    assert loaded.metrics == gold_result.metrics and len(loaded.records) == len(gold_result.records)
    for name in ("hit_at_k.png", "latency.png", "calibration.png"):
        data = (folder / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000


def test_worst_failures_are_failures_most_confident_first(gold_result: EvalResult) -> None:
    worst = worst_failures(gold_result.records)
    assert 0 < len(worst) <= 15
    for r in worst:
        assert (r.answerable and not r.hit_at_1) or (not r.answerable and not r.abstained)
    scores = [r.top_score or 0.0 for r in worst]
    assert scores == sorted(scores, reverse=True)


# --- the evaluation can fail ---


def test_an_assistant_that_always_abstains_scores_zero(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant
    from qa.reader import load_reader

    reader = load_reader(seed_assistant.encoder)
    reader.config = dataclasses.replace(reader.config, threshold=1.01)  # the reader's threshold decides abstention
    mute = Assistant(
        seed_assistant.settings,
        encoder=seed_assistant.encoder,
        index_dir=seed_assistant.index_dir,
        auto_ingest=False,
        reader=reader,
    )
    assert mute.threshold == 1.01
    result = evaluate(load_gold(GOLD), mute, progress=False)
    m = result.metrics
    assert m.hit_at["1"] == m.hit_at["5"] == 0.0
    assert m.abstention["answered_rate"] == 0.0 and m.abstention["recall"] == 1.0
    assert m.spans["answerable"].f1 == 0.0
    assert "## Worst failures (15 shown)" in render_markdown(result)


def test_cli_passes_and_fails_on_min_hit1(encoder, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    args = _cli_args("--limit", "12", "--out", str(tmp_path / "good"), "--min-hit1", "0.2", "--quiet")
    good = run_eval_cli(args, encoder=encoder)
    out = capsys.readouterr().out
    assert good == 0
    assert "hit@1/3/5" in out and f"report: {tmp_path / 'good' / 'report.md'}" in out
    assert (tmp_path / "good" / "results.json").is_file()

    # An answerer that never clears its threshold fails the run: a reader that never answers, and without the
    # reader, scorer weights that never answer.
    weights = json.loads((REPO_ROOT / "qa" / "scorer_weights.json").read_text(encoding="utf-8"))
    (tmp_path / "mute.json").write_text(json.dumps(weights | {"threshold": 1.01}), encoding="utf-8")
    mute_reader = tmp_path / "mute-reader"
    shutil.copytree(REPO_ROOT / "qa" / "reader", mute_reader)
    config = json.loads((mute_reader / "reader.json").read_text(encoding="utf-8"))
    (mute_reader / "reader.json").write_text(json.dumps(config | {"threshold": 1.01}), encoding="utf-8")
    for mute in (["--reader", str(mute_reader)], ["--no-reader", "--weights", str(tmp_path / "mute.json")]):
        bad = tmp_path / f"bad-{mute[0].strip('-')}"
        args = _cli_args(*mute, "--min-hit1", "0.2", "--out", str(bad), "-q")
        assert run_eval_cli(args, encoder=encoder) == 1
        assert "below --min-hit1" in capsys.readouterr().err
        saved = json.loads((bad / "results.json").read_text(encoding="utf-8"))
        assert saved["metrics"]["hit_at"]["1"] == 0.0


def test_cli_errors_are_clear(encoder, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    broken_reader = tmp_path / "reader"
    shutil.copytree(REPO_ROOT / "qa" / "reader", broken_reader)
    (broken_reader / "reader.safetensors").unlink()
    assert run_eval_cli(_cli_args("--reader", str(broken_reader), "--quiet"), encoder=encoder) == 2
    assert "reader.safetensors is missing" in capsys.readouterr().err
    assert run_eval_cli(_cli_args("--path", str(tmp_path / "missing.jsonl"), "--quiet"), encoder=encoder) == 2
    assert "missing.jsonl: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "Why?"}\n', encoding="utf-8")
    assert run_eval_cli(_cli_args("--path", str(bad), "--quiet"), encoder=encoder) == 2
    assert "bad.jsonl line 1" in capsys.readouterr().err
    assert run_eval_cli(_cli_args("--half", "tune", "--quiet"), encoder=encoder) == 2
    assert "--half applies to the SQuAD and dated datasets only" in capsys.readouterr().err


def test_the_qa_command_delegates_eval_options() -> None:
    cli = pytest.importorskip("cli")
    args = cli.build_parser().parse_args(["--index-dir", "/tmp/x", "eval", "--dataset", "squad-v1.1", "--limit", "9"])
    assert (args.dataset, args.limit, args.index_dir, args.half) == ("squad-v1.1", 9, Path("/tmp/x"), "all")
    args = cli.build_parser().parse_args(["eval", "--index-dir", "/tmp/y"])
    assert args.index_dir == Path("/tmp/y") and args.dataset == "gold"


# --- aggregates against hand-computed values ---


def _record(id: str, *, answerable: bool = True, hit_rank: int | None = None, **extra: object) -> QuestionRecord:
    fields: dict[str, object] = {
        "id": id, "question": "Who?", "understood_question": "Who?", "kind": "who", "answer_type": "person",
        "gold_answers": ["x"] if answerable else [], "gold_article_id": "a", "answerable": answerable,
        "abstained": False, "prediction": "", "hit_rank": hit_rank, "hit_at_1": hit_rank == 1,
        "hit_at_3": hit_rank is not None and hit_rank <= 3, "hit_at_5": hit_rank is not None,
        "squad_em": 0.0, "squad_f1": 0.0, "em": 0.0, "f1": 0.0, "latency_ms": 10.0,
    }  # fmt: skip
    return QuestionRecord.model_validate(fields | extra)


def test_summarize_by_hand() -> None:
    records = [
        _record("a", hit_rank=1, article_scored=True, article_rank=1, chunk_scored=True, chunk_rank=2,
                top_score=0.95, em=1.0, f1=1.0, latency_ms=10.0),
        _record("b", hit_rank=3, article_scored=True, article_rank=4, chunk_scored=True, chunk_rank=None,
                top_score=0.91, latency_ms=20.0),
        _record("c", abstained=True, article_scored=True, article_rank=None, chunk_scored=False, latency_ms=30.0),
        _record("d", answerable=False, abstained=True, em=1.0, f1=1.0, latency_ms=40.0),
    ]  # fmt: skip
    m = summarize(records, top_k=5)
    assert (m.n_questions, m.n_answerable, m.n_unanswerable) == (4, 3, 1)
    assert m.hit_at["1"] == pytest.approx(1 / 3) and m.hit_at["3"] == pytest.approx(2 / 3)
    assert m.spans["all"].em == pytest.approx(2 / 4) and m.spans["answerable"].f1 == pytest.approx(1 / 3)
    article = m.retrieval["article"]
    assert (
        article.n == 3 and article.recall["1"] == pytest.approx(1 / 3) and article.recall["5"] == pytest.approx(2 / 3)
    )
    assert article.mrr == pytest.approx((1 + 1 / 4 + 0) / 3)
    chunk = m.retrieval["chunk"]
    assert chunk.n == 2 and chunk.recall["1"] == 0.0 and chunk.mrr == pytest.approx(0.25)
    assert m.abstention["precision"] == pytest.approx(0.5) and m.abstention["recall"] == 1.0
    assert m.latency_ms["p50"] == pytest.approx(25.0) and m.latency_ms["max"] == 40.0
    [top_bin] = m.calibration
    assert (top_bin.low, top_bin.n, top_bin.hit_at_1) == (0.9, 2, 0.5)
    assert top_bin.mean_score == pytest.approx(0.93)


# --- SQuAD index preparation and its cache ---


@needs_squad
def test_squad_index_is_built_once_and_reused(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "squad-index"
    first = prepare_dataset(
        "squad-v1.1", SQUAD_V1, encoder=encoder, limit=3, seed=1, asked_paragraphs_only=True, index_dir=folder,
        progress=False,
    )  # fmt: skip
    assert len(first.questions) == 3 and not first.index.reused
    assert first.index.articles == len({q.article_id for q in first.questions})
    assert first.index.build_seconds > 0
    assert set(first.subsets) == {"tune", "test"} and all(first.subsets.values())
    again = prepare_dataset(
        "squad-v1.1", SQUAD_V1, encoder=encoder, limit=3, seed=1, asked_paragraphs_only=True, index_dir=folder,
        progress=False,
    )  # fmt: skip
    assert again.index.reused and again.index.key == first.index.key
    assert again.index.build_seconds == first.index.build_seconds


def test_a_foreign_index_folder_is_left_alone(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mine.txt").write_text("not an evaluation index", encoding="utf-8")
    with pytest.raises(EvalSetupError, match="not built by qa eval"):
        prepare_dataset("gold", GOLD, encoder=encoder, index_dir=tmp_path, progress=False)
    assert (tmp_path / "mine.txt").is_file()
