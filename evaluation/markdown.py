"""The evaluation report as Markdown (report.md): summary, subsets, breakdowns, abstention, retrieval, the worst
failures and the settings, one section per function in the order the report shows them."""

from __future__ import annotations

from evaluation.datasets.registry import subsets_note
from evaluation.plots import PLOTS
from evaluation.results import RETRIEVAL_KS, EvalResult, KindScores, Metrics, QuestionRecord

__all__ = ["percent", "render_markdown", "worst_failures"]

WORST_SHOWN = 15


def percent(value: float) -> str:
    """A fraction as a percentage with one decimal ("76.9")."""
    return f"{100 * value:.1f}"


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
    rows = [[f"sentence hit@{k}", percent(v), str(m.n_answerable)] for k, v in m.hit_at.items() if k in ("1", "3", "5")]
    rows += [
        ["EM (number-normalised)", percent(s["all"].em), str(s["all"].n)],
        ["F1 (number-normalised)", percent(s["all"].f1), str(s["all"].n)],
        ["SQuAD EM (official)", percent(s["all"].squad_em), str(s["all"].n)],
        ["SQuAD F1 (official)", percent(s["all"].squad_f1), str(s["all"].n)],
        [
            "EM / F1, answerable only",
            f"{percent(s['answerable'].em)} / {percent(s['answerable'].f1)}",
            str(s["answerable"].n),
        ],
        ["article recall@5 / MRR", _na(a.n) or f"{percent(a.recall['5'])} / {a.mrr:.3f}", str(a.n)],
        ["chunk recall@5 / MRR", _na(c.n) or f"{percent(c.recall['5'])} / {c.mrr:.3f}", str(c.n)],
        ["abstention precision", percent(ab["precision"]), f"{ab['n_abstained']:.0f} abstained"],
        [
            "abstention recall",
            _na(ab["n_unanswerable"]) or percent(ab["recall"]),
            f"{ab['n_unanswerable']:.0f} unanswerable",
        ],
        ["answered (of answerable)", percent(ab["answered_rate"]), f"{ab['n_answerable']:.0f}"],
        ["citation correct", _na(m.citation.n_scored) or percent(m.citation.correct), str(m.citation.n_scored)],
        ["citations verbatim", _na(m.citation.n_checked) or percent(m.citation.verbatim), str(m.citation.n_checked)],
        ["latency p50 / p95 (ms)", f"{m.latency_ms['p50']:.1f} / {m.latency_ms['p95']:.1f}", str(m.n_questions)],
    ]
    if m.given_sentence is not None:
        g = m.given_sentence
        rows.append(["span EM / F1 given the answer's sentence", f"{percent(g.em)} / {percent(g.f1)}", str(g.n)])
    return rows


def _breakdown_table(groups: dict[str, KindScores], label: str) -> list[str]:
    rows = [
        [
            name,
            str(g.n),
            str(g.n_answerable),
            percent(g.hit_at_1),
            percent(g.hit_at_3),
            percent(g.em),
            percent(g.f1),
            percent(g.abstained),
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
    out = _heading(result)
    out += ["## Summary", "", *_table(["metric", "value (%)", "n"], _summary_rows(result.metrics)), ""]
    out += _subsets_section(result)
    out += ["## By question kind", "", *_breakdown_table(result.per_kind, "kind"), ""]
    if result.per_type:
        out += ["## By gold answer type", "", *_breakdown_table(result.per_type, "type"), ""]
    out += _abstention_section(result.metrics)
    out += _retrieval_section(result.metrics)
    worst = worst_failures(result.records)
    out += [f"## Worst failures ({len(worst)} shown)", ""]
    out += [line for r in worst for line in _failure_block(r)] or ["None."]
    out += [""]
    out += _settings_section(result)
    out += ["", "## Plots", "", *[f"![{name[:-4]}]({name})" for name in PLOTS], ""]
    return "\n".join(out)


def _heading(result: EvalResult) -> list[str]:
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
    return out


def _subsets_section(result: EvalResult) -> list[str]:
    """The whole run beside each named subset (tune and test halves, sources, ways of asking)."""
    if not result.subsets:
        return []
    names = ["all", *result.subsets]
    sets = [result.metrics, *result.subsets.values()]
    rows = [
        ["questions", *[str(x.n_questions) for x in sets]],
        *[[f"hit@{k}", *[percent(x.hit_at.get(k, 0.0)) for x in sets]] for k in ("1", "3", "5")],
        ["EM", *[percent(x.spans["all"].em) for x in sets]],
        ["F1", *[percent(x.spans["all"].f1) for x in sets]],
        ["SQuAD EM / F1", *[f"{percent(x.spans['all'].squad_em)} / {percent(x.spans['all'].squad_f1)}" for x in sets]],
        ["article recall@5", *[percent(x.retrieval["article"].recall["5"]) for x in sets]],
        ["answered (of answerable)", *[percent(x.abstention["answered_rate"]) for x in sets]],
        ["refused (of unanswerable)", *[percent(x.abstention["recall"]) for x in sets]],
    ]
    return [
        "## Tune and test halves" if "tune" in result.subsets else "## Subsets",
        "",
        subsets_note(result.settings.dataset),
        "",
        *_table(["metric", *names], rows),
        "",
    ]


def _abstention_section(m: Metrics) -> list[str]:
    ab = m.abstention
    abstention_rows = [
        ["answerable", f"{ab['n_answerable']:.0f}", f"{ab['answered_rate'] * ab['n_answerable']:.0f}",
         f"{ab['n_abstained'] - ab['true_abstentions']:.0f}"],
        ["unanswerable", f"{ab['n_unanswerable']:.0f}", f"{ab['n_unanswerable'] - ab['true_abstentions']:.0f}",
         f"{ab['true_abstentions']:.0f}"],
    ]  # fmt: skip
    return [
        "## Abstention",
        "",
        *_table(["questions", "n", "answered", "abstained"], abstention_rows),
        "",
        f"Precision {percent(ab['precision'])} %, recall {percent(ab['recall'])} %, F1 {percent(ab['f1'])} % "
        "(positive class: should abstain; 0 when nothing to divide by, see the counts).",
        "",
    ]


def _retrieval_section(m: Metrics) -> list[str]:
    article, chunk = m.retrieval["article"], m.retrieval["chunk"]
    return [
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
                    *[_na(r.n) or percent(r.recall[str(k)]) for k in RETRIEVAL_KS],
                    _na(r.n) or f"{r.mrr:.3f}",
                ]
                for name, r in (("article", article), ("chunk", chunk))
            ],
        ),
        "",
    ]


def _settings_section(result: EvalResult) -> list[str]:
    s, index = result.settings, result.index
    out = [
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
    return out
