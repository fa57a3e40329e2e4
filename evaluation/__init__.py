"""Evaluation: gold questions (``evaluation.gold``) and the metrics that score answers (``evaluation.metrics``)."""
