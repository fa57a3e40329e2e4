"""The evaluation report's plots: hit@k and recall@k curves, the latency histogram and the score calibration."""

from __future__ import annotations

from pathlib import Path

from evaluation.results import RETRIEVAL_KS, EvalResult

PLOTS = ("hit_at_k.png", "latency.png", "calibration.png")


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


def write_plots(result: EvalResult, folder: Path) -> None:
    """The three PNG files of `PLOTS`, written into `folder`."""
    plot_hit_at_k(result, folder / "hit_at_k.png")
    plot_latency(result, folder / "latency.png")
    plot_calibration(result, folder / "calibration.png")
