"""The datasets `qa eval` asks and the indexes it asks them against.

Each dataset is one entry of `REGISTRY` (registry.py): its name, its default file, and the plan (plans.py) that
loads its questions and says which articles to index. `prepare_dataset` (prepare.py) looks the name up and builds
the index through the product's own ingest path; a build is cached in its index folder and reused while nothing
that shapes it changed: data file, model, index code (index_cache.py).
"""

from evaluation.datasets.index_cache import default_index_dir, index_key
from evaluation.datasets.plans import HALVES, Half, Plan, Request
from evaluation.datasets.prepare import PreparedDataset, prepare_dataset
from evaluation.datasets.registry import DATASETS, DEFAULT_PATHS, REGISTRY, Dataset
from evaluation.errors import EvalSetupError
from evaluation.news_set import REUTERS

__all__ = [
    "DATASETS",
    "DEFAULT_PATHS",
    "HALVES",
    "REGISTRY",
    "REUTERS",
    "Dataset",
    "EvalSetupError",
    "Half",
    "Plan",
    "PreparedDataset",
    "Request",
    "default_index_dir",
    "index_key",
    "prepare_dataset",
]
