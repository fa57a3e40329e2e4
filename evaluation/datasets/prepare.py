"""Prepare a dataset for `qa eval`: load its questions and build (or reuse) the index they are asked against."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.datasets.index_cache import cached_or_built, default_index_dir, has_index, index_info
from evaluation.datasets.plans import HALVES, Half, Plan, Request
from evaluation.datasets.registry import DATASETS, REGISTRY, Dataset
from evaluation.errors import EvalSetupError
from evaluation.gold import GoldQuestion
from evaluation.results import EvalSettings, IndexInfo

if TYPE_CHECKING:
    from index.encoder import TextEncoder
    from newsqa.settings import Settings


@dataclass
class PreparedDataset:
    """Questions to ask and the built index to ask them against."""

    questions: list[GoldQuestion]
    index_dir: Path
    index: IndexInfo
    settings: EvalSettings
    subsets: dict[str, set[str]] = field(default_factory=dict)
    temporary: bool = False  # index_dir is a temporary folder, removed after the run


def prepare_dataset(
    dataset: str = "gold",
    path: Path | None = None,
    *,
    encoder: TextEncoder,
    settings: Settings | None = None,
    limit: int | None = None,
    seed: int = 0,
    half: Half = "all",
    asked_paragraphs_only: bool = False,
    index_dir: Path | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> PreparedDataset:
    """Load a dataset's questions and build (or reuse) the index they are asked against.

    Args:
        dataset: a name in `REGISTRY` (registry.py): "gold" (by default the bundled gold set over the corpus
            folder of `settings`), "dated", "news", "news-small", "squad-v1.1" or "squad-v2.0".
        path: the gold JSONL or SQuAD JSON; None for the dataset's default (SQuAD: ../shared/bench/squad/).
        encoder: the loaded encoder (it embeds the index).
        limit, seed: a seeded random sample of the questions, in file order (None: all).
        half: SQuAD only: "tune" (first half of the titles), "test" (the rest) or "all". Questions come from
            the half, but every paragraph of the dev file is indexed: the whole dev set is the open corpus.
            With "all", the result's subsets name the tune and test question ids. Dated: halves by question id;
            news: the half each question records (by its article); news-small has none.
        asked_paragraphs_only: SQuAD only: index just the paragraphs the sampled questions were written on
            (a small, fast index for regression tests; retrieval is then much easier than in the open setting).
        index_dir: where to build the index; a folder built earlier by the evaluation with the same data, model
            and index code is reused. None: a temporary folder for the gold set, the user cache for SQuAD.
        rebuild: ingest again even when a matching build exists.
        progress: show the ingest's progress bars.

    Raises:
        EvalSetupError: unknown dataset, missing file, or an `index_dir` holding some other index.
        GoldFormatError: a malformed gold or SQuAD file.
    """
    from index.ingest import Ingestor
    from newsqa.settings import Settings

    entry = _entry(dataset, half)
    settings = settings or Settings()
    path = Path(path) if path is not None else entry.default_path
    if not path.is_file():
        raise EvalSetupError(f"{path}: no such file{entry.missing_hint}")
    eval_settings = EvalSettings(
        dataset=dataset, path=str(path), limit=limit, seed=seed, half=half, asked_paragraphs_only=asked_paragraphs_only
    )
    request = Request(
        path, encoder, settings, Ingestor(encoder, settings), limit, seed, half, asked_paragraphs_only, progress
    )
    plan = entry.plan(request)
    temporary = index_dir is None and entry.temporary_index
    if temporary:
        index_dir = Path(tempfile.mkdtemp(prefix="qa-eval-"))
    folder = Path(index_dir or default_index_dir(dataset, plan.key))
    try:
        info = _built_index(folder, plan, request, rebuild)
    except BaseException:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return PreparedDataset(plan.questions, folder, info, eval_settings, plan.subsets, temporary)


def _entry(dataset: str, half: str) -> Dataset:
    """The registry's entry for `dataset`, once the dataset and the half asked for are known ones."""
    if dataset not in DATASETS:
        raise EvalSetupError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    if half not in HALVES:
        raise EvalSetupError(f"unknown half {half!r}; choose one of: {', '.join(HALVES)}")
    return REGISTRY[dataset]


def _built_index(index_dir: Path, plan: Plan, request: Request, rebuild: bool) -> IndexInfo:
    """Build the plan's index in `index_dir`, or reuse a matching build; a cached build the current store code
    cannot read (its format changed) is built again."""
    from index.models import IndexStoreError

    encoder, settings = request.encoder, request.settings

    def found(folder: Path) -> bool:
        return has_index(folder, encoder, settings)

    stored = cached_or_built(index_dir, plan.key, plan.build, rebuild, found)
    try:
        return index_info(index_dir, encoder, settings, stored)
    except IndexStoreError:
        if not stored["reused"]:
            raise
        stored = cached_or_built(index_dir, plan.key, plan.build, True, found)
        return index_info(index_dir, encoder, settings, stored)
