"""The evaluation's setup error (a gold file that cannot be read is `evaluation.gold.GoldFormatError`)."""

from __future__ import annotations

from newsqa.errors import NewsQAError


class EvalSetupError(NewsQAError):
    """The evaluation cannot start (missing file, unusable index folder); the message says what to do. `qa eval`
    catches it itself, to prefix its message with the command's name; anything else sees a product error."""
