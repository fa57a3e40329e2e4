"""Write an evaluation run out for people and for machines: report.md, results.json and three PNG plots.

`write_report(result, folder)` writes, into `folder`:

* ``report.md`` (evaluation/markdown.py): summary table, tune/test halves, per-question-kind and per-answer-type
  breakdowns, abstention, retrieval, the worst failures (question, gold, what came back) and the settings;
* ``results.json``: the whole `EvalResult` (every number and every question's record);
* ``hit_at_k.png`` (sentence hit@k and retrieval recall@k curves), ``latency.png`` (histogram of `answer()`
  times with p50/p95) and ``calibration.png`` (share of hit@1 per bin of the top sentence's score), drawn by
  evaluation/plots.py.

`summary_lines` gives the headline numbers for the terminal.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from evaluation.markdown import percent, render_markdown, worst_failures
from evaluation.plots import write_plots
from evaluation.results import EvalResult
from newsqa.paths import REPORTS_DIR

__all__ = ["default_report_dir", "render_markdown", "summary_lines", "worst_failures", "write_report"]


def default_report_dir(dataset: str) -> Path:
    """reports/<dataset>-<local timestamp>/ under the repository root (the folder is git-ignored)."""
    return REPORTS_DIR / f"{dataset}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def write_report(result: EvalResult, folder: Path) -> Path:
    """Write report.md, results.json and the plots into `folder` (created if needed); returns report.md's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
    write_plots(result, folder)
    report = folder / "report.md"
    report.write_text(render_markdown(result), encoding="utf-8")
    return report


def summary_lines(result: EvalResult) -> list[str]:
    """A few lines for the terminal: the headline numbers of `result` (percentages)."""
    m = result.metrics
    spans, article, chunk = m.spans["all"], m.retrieval["article"], m.retrieval["chunk"]
    built = ""
    if result.index:
        how = "reused" if result.index.reused else "built"
        built = f", index of {result.index.articles} articles ({how}; build {result.index.build_seconds:.1f} s)"
    lines = [
        f"{result.settings.dataset}: {m.n_questions} questions ({m.n_answerable} answerable, "
        f"{m.n_unanswerable} unanswerable){built}",
        f"sentence hit@1/3/5 {' / '.join(percent(m.hit_at.get(str(k), 0.0)) for k in (1, 3, 5))}"
        f"   EM {percent(spans.em)}  F1 {percent(spans.f1)}   (official SQuAD EM {percent(spans.squad_em)}"
        f"  F1 {percent(spans.squad_f1)})",
        "retrieval article "
        + (
            f"R@1/5/20 {percent(article.recall['1'])} / {percent(article.recall['5'])}"
            f" / {percent(article.recall['20'])}"
            f" MRR {article.mrr:.3f} (n={article.n})"
            if article.n
            else "n/a (no gold article ids)"
        )
        + f"   chunk R@5 {percent(chunk.recall['5'])} MRR {chunk.mrr:.3f} (n={chunk.n})",
        f"abstention P {percent(m.abstention['precision'])} R {percent(m.abstention['recall'])}"
        f"   answered {percent(m.abstention['answered_rate'])} of answerable"
        f"   citation correct {percent(m.citation.correct)} (n={m.citation.n_scored})"
        f"   latency p50 {m.latency_ms['p50']:.0f} ms, p95 {m.latency_ms['p95']:.0f} ms",
    ]
    if m.given_sentence is not None:
        g = m.given_sentence
        lines.append(f"span given the answer's sentence: EM {percent(g.em)}  F1 {percent(g.f1)} (n={g.n})")
    for name, subset in result.subsets.items():
        if not subset.n_questions:
            continue
        refused = subset.abstention
        lines.append(
            f"  {name}{' half' if name in ('tune', 'test') else ''}: {subset.n_questions} questions, "
            f"hit@1 {percent(subset.hit_at.get('1', 0.0))}"
            f" hit@3 {percent(subset.hit_at.get('3', 0.0))} EM {percent(subset.spans['all'].em)}"
            f" F1 {percent(subset.spans['all'].f1)}"
            f"; refused {percent(1 - refused['answered_rate']) if subset.n_answerable else '-'} of answerable,"
            f" {percent(refused['recall']) if subset.n_unanswerable else '-'} of unanswerable"
            + (
                f"; given the sentence EM {percent(subset.given_sentence.em)} F1 {percent(subset.given_sentence.f1)}"
                if subset.given_sentence
                else ""
            )
        )
    if m.n_errors:
        lines.append(f"ERRORS: answer() raised on {m.n_errors} questions (listed in the report)")
    return lines
