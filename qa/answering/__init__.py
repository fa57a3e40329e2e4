"""The answer path, one component per module: understand.py → retrieval.py → rank.py (with time_prior.py) →
read.py → decide.py, composed by pipeline.py's `AnswerPipeline`."""

from qa.answering.pipeline import AnswerPipeline, Candidates
from qa.answering.understand import Understood, as_asked

__all__ = ["AnswerPipeline", "Candidates", "Understood", "as_asked"]
