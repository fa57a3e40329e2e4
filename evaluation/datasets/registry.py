"""The datasets `qa eval --dataset NAME` can ask, each one entry of `REGISTRY`: its name, the file it reads by
default, the plan that loads its questions and says what to index (plans.py), and how its report explains its
subsets. A new dataset is a new entry (with a new plan function when no existing one reads its files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation.datasets.plans import Plan, Request, plan_dated, plan_gold, plan_news, plan_news_small, plan_squad
from evaluation.gold import BUNDLED_GOLD, DATED
from evaluation.news_set import NEWS, NEWS_SMALL
from newsqa.paths import SQUAD_DIR

_SQUAD_NOTE = (
    "Split by SQuAD article title in file order (first half: tune, rest: test); every paragraph stays in the "
    "index. Tune weights and thresholds on the tune half only; quote the test half."
)


@dataclass(frozen=True)
class Dataset:
    """One dataset of `qa eval`."""

    name: str
    default_path: Path  # the questions' file when --path is not given
    plan: Callable[[Request], Plan]
    subsets_note: str = _SQUAD_NOTE  # the report's note above its tune/test (or per-source) table
    missing_hint: str = ""  # added to "no such file" when the default file is absent
    temporary_index: bool = False  # without --index-dir: a temporary index (else cached in the user cache)


_SQUAD_HINT = " (the SQuAD dev files live in ../shared/bench/squad/ next to the repository)"

REGISTRY: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset("gold", BUNDLED_GOLD, plan_gold, temporary_index=True),
        Dataset(
            "dated",
            DATED / "questions.jsonl",
            plan_dated,
            subsets_note="Split by a hash of the question id. Tune on the tune half only; quote the test half.",
        ),
        Dataset(
            "news",
            NEWS / "questions.jsonl",
            plan_news,
            subsets_note="Split by a hash of the gold article id (off-corpus questions: of their topic article, "
            "else of their id), so no article is on both sides; then the way each question is asked "
            "(evaluation/news/README.md). Tune on the tune half only; quote the test half.",
        ),
        Dataset(
            "news-small", NEWS_SMALL, plan_news_small, subsets_note="Per source; an outside check: tune nothing on it."
        ),
        Dataset("squad-v1.1", SQUAD_DIR / "dev-v1.1.json", plan_squad, missing_hint=_SQUAD_HINT),
        Dataset("squad-v2.0", SQUAD_DIR / "dev-v2.0.json", plan_squad, missing_hint=_SQUAD_HINT),
    )
}
DATASETS = tuple(REGISTRY)
DEFAULT_PATHS = {name: dataset.default_path for name, dataset in REGISTRY.items()}


def subsets_note(dataset: str) -> str:
    """The report's note on how `dataset`'s subsets were drawn (SQuAD's for a dataset not registered here)."""
    return REGISTRY[dataset].subsets_note if dataset in REGISTRY else _SQUAD_NOTE
