"""Example questions offered on the empty chat: questions the bundled corpus answers, one per kind of answer.

They are questions of the bundled corpus's gold set (a quantity, a date, a person, a place), kept here so that the
product does not read its evaluation's files; tests/ui/test_api.py checks that each is still a gold question of
its kind and that the assistant answers it. Another corpus gets no canned examples.
"""

from __future__ import annotations

from newsqa.paths import CORPUS_DIR
from newsqa.settings import Settings

BUNDLED_CORPUS_EXAMPLES = (
    "How many suspects were arrested last year?",
    "Since what year have the 1.5 tonnes of drugs been seized?",
    "Who warned local authorities against releasing drug suspects?",
    "Which province got a new governor?",
)


def example_questions(settings: Settings, limit: int = 4) -> list[str]:
    """Up to `limit` questions to offer over `settings`' corpus: the bundled corpus's examples, else none."""
    if settings.index.corpus_dir.resolve() != CORPUS_DIR.resolve():
        return []
    return list(BUNDLED_CORPUS_EXAMPLES[:limit])
