"""The evaluation users run (`qa eval`): the datasets (``evaluation.datasets``, gold sets in ``evaluation.gold``),
the run that asks them (``evaluation.run``), the metrics that score answers (``evaluation.metrics``) and the report
(``evaluation.report``). Tooling, not product: nothing in qa/ or ui/ imports it (docs/architecture.md)."""
