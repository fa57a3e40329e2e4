"""Evaluation: gold questions (``qa.eval.gold``) and the metrics that score answers (``qa.eval.metrics``)."""
