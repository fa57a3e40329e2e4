"""Time expressions in text, resolved to date ranges: "last month" in an article of 14 April 1987 is March 1987.

`time_mentions(text, reference)` finds the expressions with dateparser's search, keeps those that name a
time (a month, a weekday, a year, "yesterday", "last week", ...; dateparser also matches stray numbers and words
like "we"), resolves each against `reference` (the article's date, or the question's as-of date) into an
inclusive range at the granularity dateparser reports (day, week, month, year) and returns it with its exact
character offsets in `text`. Relative expressions need a reference; without one only those that name their
year are kept. Ingest stores the mentions of every sentence; answering matches them against the question's.

`normalize_date(value)` reads the date an input's metadata gives ("2020-01-07", "07 Jan 2020", …) as an ISO day.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

Period = str  # "day" | "week" | "month" | "quarter" | "year"

# The days an article's date or a question's as-of date may be. Date arithmetic near the ends of Python's
# calendar (years 1 and 9999) overflows ("this year" as of 9999-12-31 runs into year 10000); any archive's dates
# and any sensible "as of" lie well inside these.
EARLIEST_DATE = date(1500, 1, 1)
LATEST_DATE = date(2500, 12, 31)

# The month names, in order, and their abbreviations: the one list that reading dates (in text and in
# metadata) and marking them in answers (qa.spans) go by.
MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_MONTHS = [*MONTH_NAMES, *MONTH_ABBREVIATIONS]
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DEICTIC = {"yesterday", "today", "tomorrow", "tonight"}
_UNITS = {"week", "month", "year", "weekend"}
_MODIFIERS = {"last", "this", "next", "previous", "past", "coming"}
# Month names that are also everyday words count only when capitalised ("May", "March"), unless the phrase
# around them makes them a date ("in may 2020").
_AMBIGUOUS = {"may", "march", "sat", "sun", "wed", "mar", "jan"}
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")
_TOKEN = re.compile(r"[A-Za-z]+|\d+")
# Words dateparser lets into a match that are not part of the time: trimmed from either end.
_EDGE_WORDS = {"on", "in", "at", "of", "and", "or", "the", "by", "since", "from", "to", "until", "after", "before"}
_EDGE_WORDS |= {"during", "for", "a", "an", "as", "than", "between", "through"}
_JOINING = _EDGE_WORDS - {"of"}  # words that end an expression when they follow its first word
_PUNCTUATION = " \t\n,.;:()\"'"
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T\s])")
_SLASHED_ISO_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:$|[T\s])")
# "07 Jan 2020", "Tue, 07 Jan 2020 10:00 GMT", "26-FEB-1987 15:01:11.79" (Reuters-21578).
_DAY_MONTH_YEAR = re.compile(r"^(?:[A-Za-z]+\.?,?\s+)?(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{4})\b")
# "January 7, 2020", "Tuesday, Jan. 7th 2020".
_MONTH_DAY_YEAR = re.compile(r"^(?:[A-Za-z]+,?\s+)?([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


@dataclass(frozen=True)
class TimeMention:
    """A time expression in a text: its exact offsets and the inclusive date range it stands for."""

    start: int
    end: int
    text: str
    first: date
    last: date
    period: Period

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last

    @property
    def says_its_year(self) -> bool:
        return says_its_year(self.text, self.first)


def says_its_year(text: str | None, first: date | None) -> bool:
    """An expression that says the year of the range it stands for ("in 2019", "February 1987"): plain words a
    scorer can match, where "last year" or "in March" needs the date it was written on. (The local
    store's `chunk_rows_in_time` applies the same rule in SQL.)"""
    return text is not None and first is not None and str(first.year) in text


def period_range(day: date, period: Period) -> tuple[date, date]:
    """The inclusive range of `period` ("day", "week" Monday to Sunday, "month", "year") around `day`."""
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


def describe_range(first: date, last: date) -> str:
    """A short label: "13 Apr 1987", "6–12 Apr 1987", "Mar 1987", "1986", "28 Mar – 3 Apr 1987"."""
    if first == last:
        return f"{first.day} {first:%b %Y}"
    if first == date(first.year, 1, 1) and last == date(first.year, 12, 31):
        return str(first.year)
    if (first, last) == period_range(first, "month"):
        return f"{first:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.day == 1 and last == period_range(last, "month")[1]:  # whole months: "Jan – Mar 2026"
        return f"{first:%b} – {last:%b %Y}" if first.year == last.year else f"{first:%b %Y} – {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


@lru_cache(maxsize=8)
def _parser(reference: date | None) -> DateDataParser:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"], settings=_settings(reference))


def _settings(reference: date | None) -> dict:
    settings: dict = {"PREFER_DATES_FROM": "past", "REQUIRE_PARTS": [], "STRICT_PARSING": False}
    if reference is not None:
        settings["RELATIVE_BASE"] = datetime(reference.year, reference.month, reference.day)
    return settings


def _names_a_time(tokens: list[str], lenient: bool) -> tuple[bool, bool]:
    """(the tokens name a time, they name their year): a month, weekday, deictic word, a modified unit ("last
    week") or a year; not a bare number, "we" or "a year" (a duration)."""
    lowered = [t.lower() for t in tokens]
    has_year = any(_YEAR.match(t) for t in tokens)
    for i, word in enumerate(lowered):
        if word in _MONTHS or word in _WEEKDAYS:
            capitalised = tokens[i][0].isupper()
            if word in _AMBIGUOUS and not capitalised and not (lenient and word != "may") and not has_year:
                continue
            return True, has_year
        if word in _DEICTIC:
            return True, has_year
        if word.rstrip("s") in _UNITS and i > 0 and lowered[i - 1] in _MODIFIERS:
            return True, has_year
    return has_year, has_year


def time_mentions(text: str, reference: date | None, *, lenient: bool = False) -> list[TimeMention]:
    """The time expressions of `text` resolved against `reference` (see the module docstring).

    `lenient` accepts lower-case month names ("in march"), as people type questions.
    """
    if not _might_name_a_time(text):
        return []
    # "last month's", "March's": dateparser reads neither, so possessives are blanked (same length, so the
    # offsets still point into `text`).
    text = _POSSESSIVE.sub("  ", text)
    quarters = _quarter_mentions(text, reference)
    # dateparser is searched around each time word (a few words either side), not over the whole text: its cost
    # grows with the text it is given, and a time expression is never longer than that.
    found = [m for begin, stop in _windows(text) for m in _clause_mentions(text, begin, stop, reference, lenient)]
    mentions = [m for m in found if not any(m.start < q.end and q.start < m.end for q in quarters)]
    mentions += quarters
    # dateparser's search gives up on some texts whose clauses it parses alone ("last month, according to the
    # HGCA" finds nothing), so a clause with a time word the whole-text search missed is searched on its own.
    for clause in _CLAUSE.finditer(text):
        missed = [
            m for m in _CANDIDATE.finditer(text, clause.start(), clause.end())
            if not any(t.start <= m.start() < t.end for t in mentions)
        ]  # fmt: skip
        if missed:
            extra = _clause_mentions(text, clause.start(), clause.end(), reference, lenient)
            mentions += [e for e in extra if not any(e.start < t.end and t.start < e.end for t in mentions)]
    return sorted(mentions, key=lambda m: m.start)


def _quarter_mentions(text: str, reference: date | None) -> list[TimeMention]:
    """Quarters, which dateparser does not read: "the first quarter", "fourth quarter of 1986", "1986 fourth
    quarter", "last quarter". Without a year, the latest such quarter that began by `reference`."""
    mentions = []
    for match in _QUARTER.finditer(text):
        words = match.group().lower()
        year_match = re.search(r"(1[89]|20)\d\d", words)
        number = next((n for word, n in _QUARTER_NUMBERS.items() if word in words.split()), None)
        if reference is not None:
            ref = reference
        elif year_match is not None:
            ref = date(int(year_match.group()), 12, 31)
        else:
            continue
        if number is None:  # last / this / previous quarter
            current = date(ref.year, 3 * ((ref.month - 1) // 3) + 1, 1)
            back = 0 if "this" in words else 1
            month = current.month - 3 * back
            year = current.year + (month - 1) // 12
            first = date(year, (month - 1) % 12 + 1, 1)
        else:
            if year_match is not None:
                year = int(year_match.group())
            elif "last year" in words:
                year = ref.year - 1
            else:
                year = ref.year
                if "this year" not in words and date(year, 3 * number - 2, 1) > ref:
                    year -= 1
            first = date(year, 3 * number - 2, 1)
        last = period_range(date(first.year, first.month + 2, 1), "month")[1]
        start, end = _trim(text, match.start(), match.end())
        mentions.append(TimeMention(start, end, text[start:end], first, last, "quarter"))
    return mentions


_QUARTER_NUMBERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_QUARTER_NUMBERS |= {"final": 4}
_QUARTER = re.compile(
    r"\b(?:(?:1[89]|20)\d\d\s+)?(?:first|second|third|fourth|final|1st|2nd|3rd|4th)[- ]quarter"
    r"(?:\s+(?:of\s+)?(?:(?:1[89]|20)\d\d|this year|last year)\b|,\s*(?:1[89]|20)\d\d\b)?"
    r"|\b(?:last|this|previous|past) quarter\b",
    re.IGNORECASE,
)


def _clause_mentions(text: str, begin: int, stop: int, reference: date | None, lenient: bool) -> list[TimeMention]:
    from dateparser.search import search_dates

    try:
        found = search_dates(text[begin:stop], languages=["en"], settings=_settings(reference)) or []
    except (ValueError, OverflowError, TypeError):
        return []
    mentions: list[TimeMention] = []
    cursor = begin
    for phrase, _ in found:
        at = text.find(phrase, cursor, stop)
        if at < 0:
            continue
        cursor = at + len(phrase)
        start, end = _trim(text, at, at + len(phrase))
        if end <= start:
            continue
        tokens = _TOKEN.findall(text[start:end])
        names, absolute = _names_a_time(tokens, lenient)
        if not names or (reference is None and not absolute):
            continue
        data = _parser(reference).get_date_data(text[start:end])
        if data is None or data.date_obj is None:
            continue
        period = data.period if data.period in {"day", "week", "month", "year"} else "day"
        if period == "day" and all(_YEAR.match(t) or t.lower() in _EDGE_WORDS for t in tokens):
            period = "year"  # a bare "1986" is the whole year, not its 14 April
        first, last = period_range(data.date_obj.date(), period)
        mentions.append(TimeMention(start, end, text[start:end], first, last, period))
    return mentions


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to the time words: no surrounding space or punctuation, no leading "on", "in", and
    nothing from a joining word on ("March from 6" of "in March from 6.20 billion" is "March")."""
    while True:
        piece = text[start:end]
        start += len(piece) - len(piece.lstrip(_PUNCTUATION))
        end = start + len(piece.strip(_PUNCTUATION))
        words = [(m.start() + start, m.group()) for m in re.finditer(r"\S+", text[start:end])]
        if len(words) > 1 and words[0][1].lower() in _EDGE_WORDS:
            start = words[1][0]
            continue
        cut = next((at for at, word in words[1:] if word.lower().strip(",") in _JOINING), None)
        if cut is not None:
            end = cut
            continue
        return start, end


# A clause: text between , ; : ( ) [ ], except that a comma before a year stays inside ("Oct 6, 1981").
_CLAUSE = re.compile(r"(?:[^,;:()\[\]]|,(?=\s*(?:1[89]|20)\d\d\b))+")
_CANDIDATE = re.compile(
    r"\b(?:" + "|".join(sorted({*_MONTHS, *_WEEKDAYS, *_DEICTIC}, key=len, reverse=True)) + r")\b"
    r"|\b(?:last|this|next|previous|past|coming) (?:week|month|year|weekend)s?\b|\b(?:1[89]\d\d|20\d\d)\b"
    r"|\bquarter\b",
    re.IGNORECASE,
)


_WORD = re.compile(r"\S+")
_WINDOW_WORDS = 5


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans of `text` around its time words, `_WINDOW_WORDS` words either side, overlapping ones merged."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    starts = [w[0] for w in words]
    spans: list[tuple[int, int]] = []
    for match in _CANDIDATE.finditer(text):
        first = max(bisect.bisect_right(starts, match.start()) - 1 - _WINDOW_WORDS, 0)
        last = min(bisect.bisect_left(starts, match.end()) - 1 + _WINDOW_WORDS, len(words) - 1)
        begin, stop = words[first][0], words[max(last, first)][1]
        if spans and begin <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(stop, spans[-1][1]))
        else:
            spans.append((begin, stop))
    return spans


def _might_name_a_time(text: str) -> bool:
    """A cheap screen before dateparser (which costs ~2 ms a sentence): most sentences name no time."""
    return _CANDIDATE.search(text) is not None


def normalize_date(value: object) -> str | None:
    """Return `value` as an ISO date (YYYY-MM-DD), or None when it is not a date this function knows.

    Accepts "2020-01-07", "2020-01-07T10:00:00Z", "2020/01/07", "07 Jan 2020",
    "Tue, 07 Jan 2020 10:00:00 GMT", "26-FEB-1987 15:01:11.79" and "January 7, 2020". Numeric day/month
    orders such as "07/01/2020" are ambiguous and give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern in (_ISO_DATE, _SLASHED_ISO_DATE):
        if match := pattern.match(text):
            return _iso(int(match[1]), int(match[2]), int(match[3]))
    if match := _DAY_MONTH_YEAR.match(text):
        month = _month_number(match[2])
        return _iso(int(match[3]), month, int(match[1])) if month else None
    if match := _MONTH_DAY_YEAR.match(text):
        month = _month_number(match[1])
        return _iso(int(match[3]), month, int(match[2])) if month else None
    return None


def _month_number(name: str) -> int | None:
    name = name.lower()
    # "Jan", "Sept" and "January" name a month; "Ma", "Monday" or "Janx" do not.
    if len(name) < 3:
        return None
    return next((number for number, month in enumerate(MONTH_NAMES, start=1) if month.startswith(name)), None)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        day_of = date(year, month, day)
    except ValueError:
        return None
    # A date outside any archive's range ("0001-01-01" as a placeholder, "9999-12-31" as "never") is no date.
    return day_of.isoformat() if EARLIEST_DATE <= day_of <= LATEST_DATE else None
