"""Write an evaluation run out for people and for machines: report.md, results.json and three PNG plots.

`write_report(result, folder)` writes, into `folder`:

* ``report.md``: summary table, tune/test halves, per-question-kind and per-answer-type breakdowns, abstention,
  retrieval, the worst failures (question, gold, what came back) and the settings;
* ``results.json``: the whole `EvalResult` (every number and every question's record);
* ``hit_at_k.png`` (sentence hit@k and retrieval recall@k curves), ``latency.png`` (histogram of `answer()`
  times with p50/p95) and ``calibration.png`` (share of hit@1 per bin of the top sentence's score).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from evaluation.results import RETRIEVAL_KS, EvalResult, KindScores, Metrics, QuestionRecord
from newsqa.paths import REPORTS_DIR

__all__ = ["default_report_dir", "render_markdown", "summary_lines", "worst_failures", "write_report"]

WORST_SHOWN = 15
PLOTS = ("hit_at_k.png", "latency.png", "calibration.png")


def default_report_dir(dataset: str) -> Path:
    """reports/<dataset>-<local timestamp>/ under the repository root (the folder is git-ignored)."""
    return REPORTS_DIR / f"{dataset}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def write_report(result: EvalResult, folder: Path) -> Path:
    """Write report.md, results.json and the plots into `folder` (created if needed); returns report.md's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
    plot_hit_at_k(result, folder / "hit_at_k.png")
    plot_latency(result, folder / "latency.png")
    plot_calibration(result, folder / "calibration.png")
    report = folder / "report.md"
    report.write_text(render_markdown(result), encoding="utf-8")
    return report


# --------------------------------------------------------------------------------------------------------
# Terminal summary
# --------------------------------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


_SUBSET_NOTES = {
    "squad": "Split by SQuAD article title in file order (first half: tune, rest: test); every paragraph stays in "
    "the index. Tune weights and thresholds on the tune half only; quote the test half.",
    "dated": "Split by a hash of the question id. Tune on the tune half only; quote the test half.",
    "news": "Split by a hash of the gold article id (off-corpus questions: of their topic article, else of their "
    "id), so no article is on both sides; then the way each question is asked (evaluation/news/README.md). Tune on "
    "the tune half only; quote the test half.",
    "news-small": "Per source; an outside check: tune nothing on it.",
}


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
        f"sentence hit@1/3/5 {' / '.join(_pct(m.hit_at.get(str(k), 0.0)) for k in (1, 3, 5))}"
        f"   EM {_pct(spans.em)}  F1 {_pct(spans.f1)}   (official SQuAD EM {_pct(spans.squad_em)}"
        f"  F1 {_pct(spans.squad_f1)})",
        "retrieval article "
        + (
            f"R@1/5/20 {_pct(article.recall['1'])} / {_pct(article.recall['5'])} / {_pct(article.recall['20'])}"
            f" MRR {article.mrr:.3f} (n={article.n})"
            if article.n
            else "n/a (no gold article ids)"
        )
        + f"   chunk R@5 {_pct(chunk.recall['5'])} MRR {chunk.mrr:.3f} (n={chunk.n})",
        f"abstention P {_pct(m.abstention['precision'])} R {_pct(m.abstention['recall'])}"
        f"   answered {_pct(m.abstention['answered_rate'])} of answerable"
        f"   citation correct {_pct(m.citation.correct)} (n={m.citation.n_scored})"
        f"   latency p50 {m.latency_ms['p50']:.0f} ms, p95 {m.latency_ms['p95']:.0f} ms",
    ]
    if m.given_sentence is not None:
        g = m.given_sentence
        lines.append(f"span given the answer's sentence: EM {_pct(g.em)}  F1 {_pct(g.f1)} (n={g.n})")
    for name, subset in result.subsets.items():
        if not subset.n_questions:
            continue
        refused = subset.abstention
        lines.append(
            f"  {name}{' half' if name in ('tune', 'test') else ''}: {subset.n_questions} questions, "
            f"hit@1 {_pct(subset.hit_at.get('1', 0.0))}"
            f" hit@3 {_pct(subset.hit_at.get('3', 0.0))} EM {_pct(subset.spans['all'].em)}"
            f" F1 {_pct(subset.spans['all'].f1)}"
            f"; refused {_pct(1 - refused['answered_rate']) if subset.n_answerable else '-'} of answerable,"
            f" {_pct(refused['recall']) if subset.n_unanswerable else '-'} of unanswerable"
            + (
                f"; given the sentence EM {_pct(subset.given_sentence.em)} F1 {_pct(subset.given_sentence.f1)}"
                if subset.given_sentence
                else ""
            )
        )
    if m.n_errors:
        lines.append(f"ERRORS: answer() raised on {m.n_errors} questions (listed in the report)")
    return lines


# --------------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------------


def _cell(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _na(n: float) -> str | None:
    """'n/a' for a ratio over no questions (shown instead of a misleading 0)."""
    return "n/a" if n == 0 else None


def _summary_rows(m: Metrics) -> list[list[str]]:
    s, a, c = m.spans, m.retrieval["article"], m.retrieval["chunk"]
    ab = m.abstention
    rows = [[f"sentence hit@{k}", _pct(v), str(m.n_answerable)] for k, v in m.hit_at.items() if k in ("1", "3", "5")]
    rows += [
        ["EM (number-normalised)", _pct(s["all"].em), str(s["all"].n)],
        ["F1 (number-normalised)", _pct(s["all"].f1), str(s["all"].n)],
        ["SQuAD EM (official)", _pct(s["all"].squad_em), str(s["all"].n)],
        ["SQuAD F1 (official)", _pct(s["all"].squad_f1), str(s["all"].n)],
        [
            "EM / F1, answerable only",
            f"{_pct(s['answerable'].em)} / {_pct(s['answerable'].f1)}",
            str(s["answerable"].n),
        ],
        ["article recall@5 / MRR", _na(a.n) or f"{_pct(a.recall['5'])} / {a.mrr:.3f}", str(a.n)],
        ["chunk recall@5 / MRR", _na(c.n) or f"{_pct(c.recall['5'])} / {c.mrr:.3f}", str(c.n)],
        ["abstention precision", _pct(ab["precision"]), f"{ab['n_abstained']:.0f} abstained"],
        [
            "abstention recall",
            _na(ab["n_unanswerable"]) or _pct(ab["recall"]),
            f"{ab['n_unanswerable']:.0f} unanswerable",
        ],
        ["answered (of answerable)", _pct(ab["answered_rate"]), f"{ab['n_answerable']:.0f}"],
        ["citation correct", _na(m.citation.n_scored) or _pct(m.citation.correct), str(m.citation.n_scored)],
        ["citations verbatim", _na(m.citation.n_checked) or _pct(m.citation.verbatim), str(m.citation.n_checked)],
        ["latency p50 / p95 (ms)", f"{m.latency_ms['p50']:.1f} / {m.latency_ms['p95']:.1f}", str(m.n_questions)],
    ]
    if m.given_sentence is not None:
        g = m.given_sentence
        rows.append(["span EM / F1 given the answer's sentence", f"{_pct(g.em)} / {_pct(g.f1)}", str(g.n)])
    return rows


def _breakdown_table(groups: dict[str, KindScores], label: str) -> list[str]:
    rows = [
        [
            name,
            str(g.n),
            str(g.n_answerable),
            _pct(g.hit_at_1),
            _pct(g.hit_at_3),
            _pct(g.em),
            _pct(g.f1),
            _pct(g.abstained),
        ]
        for name, g in groups.items()
    ]
    return _table([label, "n", "answerable", "hit@1", "hit@3", "EM", "F1", "abstained"], rows)


def worst_failures(records: list[QuestionRecord], n: int = WORST_SHOWN) -> list[QuestionRecord]:
    """The `n` worst failures: wrong answers given with the highest confidence first, then wrong abstentions.

    A failure is an answerable question whose top sentence holds no gold answer (or that got no answer), or an
    unanswerable question that was answered. Errors raised by answer() come first of all.
    """
    failed = [
        r for r in records if r.error or (r.answerable and not r.hit_at_1) or (not r.answerable and not r.abstained)
    ]
    return sorted(failed, key=lambda r: (r.error is None, -(r.top_score or 0.0), r.f1, r.id))[:n]


def _failure_block(r: QuestionRecord) -> list[str]:
    asked = r.question if r.understood_question == r.question else f"{r.question} (understood: {r.understood_question})"
    gold = " | ".join(r.gold_answers) if r.gold_answers else "(unanswerable)"
    lines = [f"- **{_cell(asked)}** — `{r.id}`, {r.kind}", f"  - gold: {_cell(gold)}"]
    if r.history:
        lines.insert(1, f"  - after: {_cell(' / '.join(r.history))}")
    if r.error:
        lines.append(f"  - ERROR: {_cell(r.error)}")
    elif r.abstained:
        lines.append(f"  - abstained: {_cell(r.message)}")
    else:
        top = r.returned[0]
        where = (
            ""
            if r.gold_article_id is None
            else (
                " (gold article)"
                if top.article_id == r.gold_article_id
                else f" (from {top.article_id}, gold {r.gold_article_id})"
            )
        )
        lines.append(f"  - returned (score {top.score:.2f}){where}: {_cell(top.marked, 400)}")
        lines.append(
            f"  - span: {_cell(r.span_text) if r.span_text else '(none)'}; F1 {r.f1:.2f}; hit rank {r.hit_rank or '-'}"
        )
    if r.gold_answers:
        article = "-" if r.article_rank is None else str(r.article_rank)
        chunk = "-" if r.chunk_rank is None else str(r.chunk_rank)
        lines.append(f"  - retrieval: gold article rank {article}, gold chunk rank {chunk}")
    return lines


def render_markdown(result: EvalResult) -> str:
    """The human report for `result` as Markdown text."""
    s, m = result.settings, result.metrics
    sample = f"{s.limit} sampled (seed {s.seed})" if s.limit else "all"
    out = [
        f"# Evaluation: {s.dataset}",
        "",
        f"{m.n_questions} questions ({sample}; {m.n_answerable} answerable, {m.n_unanswerable} unanswerable), "
        f"half: {s.half}, top_k {s.top_k}. Run {s.started_at}, commit {s.git_commit or 'unknown'}, "
        f"{result.seconds:.0f} s for the question loop. Metric definitions: docs/metrics.md.",
        "",
    ]
    if m.n_errors:
        out += [f"**answer() raised an exception on {m.n_errors} questions** (they are listed first below).", ""]
    out += ["## Summary", "", *_table(["metric", "value (%)", "n"], _summary_rows(m)), ""]
    if result.subsets:
        names = ["all", *result.subsets]
        sets = [m, *result.subsets.values()]
        rows = [
            ["questions", *[str(x.n_questions) for x in sets]],
            *[[f"hit@{k}", *[_pct(x.hit_at.get(k, 0.0)) for x in sets]] for k in ("1", "3", "5")],
            ["EM", *[_pct(x.spans["all"].em) for x in sets]],
            ["F1", *[_pct(x.spans["all"].f1) for x in sets]],
            ["SQuAD EM / F1", *[f"{_pct(x.spans['all'].squad_em)} / {_pct(x.spans['all'].squad_f1)}" for x in sets]],
            ["article recall@5", *[_pct(x.retrieval["article"].recall["5"]) for x in sets]],
            ["answered (of answerable)", *[_pct(x.abstention["answered_rate"]) for x in sets]],
            ["refused (of unanswerable)", *[_pct(x.abstention["recall"]) for x in sets]],
        ]
        out += [
            "## Tune and test halves" if "tune" in result.subsets else "## Subsets",
            "",
            _SUBSET_NOTES.get(s.dataset, _SUBSET_NOTES["squad"]),
            "",
            *_table(["metric", *names], rows),
            "",
        ]
    out += ["## By question kind", "", *_breakdown_table(result.per_kind, "kind"), ""]
    if result.per_type:
        out += ["## By gold answer type", "", *_breakdown_table(result.per_type, "type"), ""]
    ab = m.abstention
    abstention_rows = [
        ["answerable", f"{ab['n_answerable']:.0f}", f"{ab['answered_rate'] * ab['n_answerable']:.0f}",
         f"{ab['n_abstained'] - ab['true_abstentions']:.0f}"],
        ["unanswerable", f"{ab['n_unanswerable']:.0f}", f"{ab['n_unanswerable'] - ab['true_abstentions']:.0f}",
         f"{ab['true_abstentions']:.0f}"],
    ]  # fmt: skip
    out += [
        "## Abstention",
        "",
        *_table(["questions", "n", "answered", "abstained"], abstention_rows),
        "",
        f"Precision {_pct(ab['precision'])} %, recall {_pct(ab['recall'])} %, F1 {_pct(ab['f1'])} % "
        "(positive class: should abstain; 0 when nothing to divide by, see the counts).",
        "",
    ]
    article, chunk = m.retrieval["article"], m.retrieval["chunk"]
    out += [
        "## Retrieval",
        "",
        "Top 20 chunks of the same hybrid retrieval answer() uses (it reads the top 8). Article: the gold article's "
        "rank among the retrieved chunks' articles; chunk: the first retrieved chunk of the gold article holding a "
        "gold answer.",
        "",
        *_table(
            ["level", "n", *[f"recall@{k}" for k in RETRIEVAL_KS], "MRR"],
            [
                [
                    name,
                    str(r.n),
                    *[_na(r.n) or _pct(r.recall[str(k)]) for k in RETRIEVAL_KS],
                    _na(r.n) or f"{r.mrr:.3f}",
                ]
                for name, r in (("article", article), ("chunk", chunk))
            ],
        ),
        "",
    ]
    worst = worst_failures(result.records)
    out += [f"## Worst failures ({len(worst)} shown)", ""]
    out += [line for r in worst for line in _failure_block(r)] or ["None."]
    out += [""]
    index = result.index
    out += [
        "## Settings",
        "",
        f"- dataset: {s.dataset} ({s.path}); limit {s.limit}, seed {s.seed}, half {s.half}"
        + ("; only the asked paragraphs indexed" if s.asked_paragraphs_only else ""),
        f"- model: {s.model_name}, sha256 {s.model_sha256[:16]}…",
        f"- scorer weights: {s.weights_provenance or 'no provenance given'}; threshold {s.weights_threshold}",
        f"- reader: {s.reader or 'none (answered without the reader)'}",
    ]
    if index is not None:
        out.append(
            f"- index: {index.articles} articles, {index.sentences} sentences, {index.chunks} chunks in "
            f"{index.index_dir}; built in {index.build_seconds:.1f} s ({index.articles_per_second:.1f} articles/s)"
            + ("; reused from an earlier run" if index.reused else "")
            + (f"; {index.problems} inputs skipped" if index.problems else "")
        )
    out += ["", "## Plots", "", *[f"![{name[:-4]}]({name})" for name in PLOTS], ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------------


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def plot_hit_at_k(result: EvalResult, path: Path) -> None:
    """Sentence hit@k (k = 1..top_k) and article/chunk recall@k (k up to 20), in percent."""
    plt = _pyplot()
    m = result.metrics
    fig, ax = plt.subplots(figsize=(6, 4))
    ks = [int(k) for k in m.hit_at]
    ax.plot(ks, [100 * m.hit_at[str(k)] for k in ks], marker="o", label="sentence hit@k (answer())")
    for name, r in m.retrieval.items():
        if r.n:
            ax.plot(list(RETRIEVAL_KS), [100 * r.recall[str(k)] for k in RETRIEVAL_KS], marker=".", ls="--",
                    label=f"{name} recall@k (retrieval)")  # fmt: skip
    ax.set_xlabel("k")
    ax.set_ylabel("% of answerable questions")
    ax.set_ylim(0, 100)
    ax.set_xscale("log")
    ax.set_xticks([1, 2, 3, 5, 10, 20], labels=["1", "2", "3", "5", "10", "20"])
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{result.settings.dataset}: hit@k and recall@k (n={m.n_answerable})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(result: EvalResult, path: Path) -> None:
    """Histogram of answer() wall times with the p50 and p95 marked."""
    plt = _pyplot()
    m = result.metrics
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist([r.latency_ms for r in result.records], bins=40, color="#4c72b0")
    for name, ls in (("p50", "-"), ("p95", "--")):
        ax.axvline(m.latency_ms[name], color="black", ls=ls, label=f"{name} {m.latency_ms[name]:.0f} ms")
    ax.set_xlabel("answer() latency (ms)")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title(f"{result.settings.dataset}: latency per question (n={m.n_questions})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_calibration(result: EvalResult, path: Path) -> None:
    """Reliability diagram: per bin of the top sentence's score, the share of answers whose top sentence hits."""
    plt = _pyplot()
    bins = result.metrics.calibration
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfectly calibrated")
    if bins:
        ax.bar([b.low for b in bins], [b.hit_at_1 for b in bins], width=0.1, align="edge", alpha=0.35,
               color="#4c72b0", edgecolor="#4c72b0")  # fmt: skip
        ax.plot([b.mean_score for b in bins], [b.hit_at_1 for b in bins], marker="o", color="#c44e52",
                label="answered questions")  # fmt: skip
        for b in bins:
            ax.annotate(str(b.n), (b.low + 0.05, b.hit_at_1), ha="center", va="bottom", fontsize=7)
    threshold = result.settings.weights_threshold
    if threshold is not None:
        ax.axvline(threshold, color="black", ls="--", lw=1, label=f"abstention threshold {threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("top sentence score")
    ax.set_ylabel("fraction correct (hit@1)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"{result.settings.dataset}: score calibration (numbers: answers per bin)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
