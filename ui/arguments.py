"""What visitors and API clients send, read and checked: the question, earlier turns, counts and filters.

Every refusal is a ValueError whose message says what to write instead; the chat shows it as a note under the
conversation, the `/ask` endpoint as its error. Nothing here searches or answers.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date

from index.readers.metadata import DATE_KEYS, SOURCE_KEYS, field_key, scalar_text
from qa.models import Answer, SearchFilter

MAX_TOP_K = 10
# One limit for a question wherever it comes from: the chat's box, the /ask endpoint and the REST API.
MAX_QUESTION_CHARS = 1000
MAX_HISTORY_CHARS = 200_000
MAX_WHERE_CHARS = 1000
MAX_AS_OF_CHARS = 40  # "the last day of the previous month" fits; the box never cuts what was typed shorter

# Metadata conditions are separated by ";" or a new line, or by "," where the next one starts with "FIELD=": a
# value may hold commas itself (a list of tags is stored as "ferry, strike").
_CONDITION_BREAK = re.compile(r"\s*(?:[;\n]|,(?=\s*[^,;=\n]+=))\s*")


def search_filter(
    sources: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
    fields: Mapping[str, str] | None = None,
) -> SearchFilter | None:
    """The filter the user set, or None; raises ValueError with a message for a date that is not YYYY-MM-DD.

    `fields` are metadata conditions as `metadata_conditions` reads them (field → the value it must have).
    """
    start = _iso_date(date_from, "From date")
    end = _iso_date(date_to, "To date")
    if start and end and start > end:
        raise ValueError(f"From date {start} is after To date {end}.")
    names = [s for s in sources or [] if s]
    if not names and not start and not end and not fields:
        return None
    return SearchFilter(sources=names or None, date_from=start, date_to=end, fields=dict(fields or {}) or None)


def metadata_conditions(
    text: str, known: Mapping[str, Sequence[str]], label: str = "Metadata filter"
) -> dict[str, str]:
    """{field: value} from "category=business; section=markets" (conditions separated by ";", new lines, or ","
    before the next FIELD=), read as ingest stores metadata: "Section" is `section`, quotes and extra spaces go.

    `known` is the corpus's fields with some of their values (`CorpusStats.fields`): a field no article has is
    refused with the fields there are, as are a condition without "=" or a value, and one field given two values
    (every condition must hold, and an article has one value per field). Errors are ValueErrors led by `label`.
    """
    conditions: dict[str, str] = {}
    for condition in _CONDITION_BREAK.split(text.strip()):
        if not condition:
            continue
        name, equals, raw_value = condition.partition("=")
        field, value = field_key(name), scalar_text(raw_value)
        if not equals or not field:
            raise ValueError(f"{label} {condition!r}: write FIELD=VALUE, e.g. {_example_condition(known)}.")
        if value is None:
            raise ValueError(f"{label} {condition!r}: give the value after '=', e.g. {_example_condition(known)}.")
        if conditions.get(field, value) != value:
            raise ValueError(
                f"{label}: {field} is given two values ({conditions[field]}, {value}); an article has one value "
                "per field and every condition must hold."
            )
        if field not in known:
            raise ValueError(f"{label}: {_unknown_field(field, known)}")
        conditions[field] = value
    return conditions


def filtered_search_note(conditions: Mapping[str, str], known: Mapping[str, Sequence[str]]) -> str:
    """What a reply that found nothing under metadata `conditions` should add: which articles were searched, and,
    for a value that is not among those listed for its field (`known`), that values match exactly and which are."""
    searched = "; ".join(f"{name}={value}" for name, value in conditions.items())
    note = f"Only articles with {searched} were searched."
    unlisted = [
        f"{name}: {', '.join(known[name])}" for name, value in conditions.items() if value not in known.get(name, ())
    ]
    if unlisted:
        note += f" Values are matched exactly; the values listed are {'; '.join(unlisted)}."
    return note


def _unknown_field(field: str, known: Mapping[str, Sequence[str]]) -> str:
    """Why `field` cannot be filtered on, and what can be."""
    if field in SOURCE_KEYS:
        return f"{field} is not a metadata field; narrow by source with the sources filter."
    if field in DATE_KEYS:
        return f"{field} is not a metadata field; narrow by date with the from and to dates."
    if not known:
        return f"no article has a field {field!r}: the articles in the corpus hold no metadata fields to filter on."
    close = difflib.get_close_matches(field, list(known), n=1)
    guess = f" Did you mean {close[0]}?" if close else ""
    return f"no article has a field {field!r}.{guess} The corpus's fields: {', '.join(known)}."


def _example_condition(known: Mapping[str, Sequence[str]]) -> str:
    """A condition this corpus could use ("category=business" when it has no fields)."""
    for name, values in known.items():
        if values:
            return f"{name}={values[0]}"
    return "category=business"


def text_argument(name: str, value: object, limit: int) -> str:
    """An API text argument: None counts as empty; anything but text, or text over `limit`, is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{name} is {len(value):,} characters long; the limit is {limit:,}")
    return value


def whole_number(name: str, value: object) -> int:
    """An API count: an int, or a float or text that holds a whole number (JSON clients send 3.0 or "3")."""
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(number)


def parse_history(history_json: str) -> list[str | Answer]:
    """Earlier turns from the API: a JSON list of questions (strings) or earlier results (Answer objects)."""
    text = (history_json or "").strip() or "[]"
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"history_json is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise ValueError("history_json is nested too deeply; send a flat list of questions or answers") from None
    if not isinstance(items, list):
        raise ValueError("history_json must be a JSON list of earlier questions or answers")
    history: list[str | Answer] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            history.append(item)
        elif isinstance(item, dict):
            try:
                history.append(Answer.model_validate(item))
            except ValueError as exc:
                raise ValueError(f"history_json item {number} is not an answer: {exc}") from None
        else:
            raise ValueError(f"history_json item {number} must be a question (string) or an answer (object)")
    return history


def _iso_date(value: str | None, label: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{label} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2019-12-31.") from None
