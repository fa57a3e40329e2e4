"""Milvus filter expressions: string literals and `in` lists, a `Filter` over the article scope that chunk and
sentence rows carry (`index.storage.milvus.schema`), and a `TimePreference` over articles' days and the times
collection."""

from __future__ import annotations

import re
from collections.abc import Iterable

from index.models import IndexStoreError
from index.storage.api import Filter, TimePreference
from index.storage.milvus.schema import day_number

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def literal(value: str) -> str:
    """`value` as a double-quoted string literal of a Milvus filter expression."""
    if _CONTROL.search(value):
        raise IndexStoreError(f"{value[:60]!r} holds control characters that a Milvus filter cannot express")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


def one_of(field: str, values: Iterable[str]) -> str:
    """`field in [...]` for strings."""
    return f"{field} in [{', '.join(literal(v) for v in values)}]"


def filter_expression(where: Filter | None) -> str | None:
    """The Milvus expression for `where` over rows that carry the article's scope (chunks, sentences)."""
    if where is None or where.is_empty():
        return None
    clauses = []
    if where.sources:
        clauses.append(one_of("source", where.sources))
    if where.date_from:
        clauses.append(f"day >= {day_number(where.date_from)}")
    if where.date_to:
        clauses.append(f"day <= {day_number(where.date_to)}")
    if where.date_from or where.date_to:
        clauses.append("day > 0")  # undated articles are left out of a date range
    for name, value in where.fields:
        clauses.append(f"fields[{literal(name)}] == {literal(value)}")
    return " and ".join(f"({c})" for c in clauses)


def dated_expression(prefer: TimePreference) -> str:
    return f"(day >= {day_number(prefer.dated[0])} and day <= {day_number(prefer.dated[1])})"


def told_expression(prefer: TimePreference) -> str | None:
    """The expression over the times collection for mentions overlapping `prefer.told` (None when not asked)."""
    if prefer.told is None:
        return None
    expression = f"first <= {day_number(prefer.told[1])} and last >= {day_number(prefer.told[0])}"
    return expression + (" and says_year == false" if prefer.relative_only else "")


def both(*expressions: str | None) -> str:
    """The conjunction of the given expressions ("" when none)."""
    given = [e for e in expressions if e]
    return " and ".join(f"({e})" for e in given) if len(given) > 1 else (given[0] if given else "")
