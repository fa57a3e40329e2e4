"""Time-aware answering: the question's as-of date, the range its time expression stands for, and a prior
over candidate sentences that prefers what was reported for that time.

News questions are about time: "what was the trade surplus last month?" asked on 30 April 1987 means March
1987, and the article that answers it is the one that reports March (usually published in April), not the
February report of a month earlier. `read_time` resolves the question's expression against the as-of date
(index.text.dates, dateparser underneath); `time_prior` scores a candidate sentence by what its own time expressions
say (resolved at ingest against its article's date, so "last year" in a January 2020 article is 2019), by what
its article says elsewhere and in its title, by its article's date, and against articles dated after the as-of
date. It is a preference added to the sentence's log-odds, never a filter: undated articles still answer.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from index.text.dates import EARLIEST_DATE, LATEST_DATE, TimeMention, describe_range, says_its_year, time_mentions
from qa.models import QuestionTime

# Words that ask for the newest figure; "recently" also stands for the last 30 days.
_LATEST = re.compile(
    r"\b(?:latest|current(?:ly)?|now|newest|most recent|recent(?:ly)?|at present|presently|so far|to date|"
    r"new(?!\s+(?:york|zealand|jersey|england|delhi|hampshire|mexico|south|guinea|orleans|caledonia)\b))\b",
    re.IGNORECASE,
)
RECENT_DAYS = 30
# How long after a period ends its figures are still being reported (monthly data come out the next month).
_REPORTING_LAG = {"day": 7, "week": 14, "month": 45, "quarter": 75, "year": 120}


@dataclass(frozen=True)
class TimeWeights:
    """Log-odds added to a candidate sentence. Chosen on the dated set's tune half (evaluation/dated/) from a small
    grid (sentence 1.5/2/3 × article 1/1.5 × latest 1.5/3 × 7/14 days): what counted was a sentence naming the
    time 0.5 above its article naming it; the latest weight and fading made no difference there."""

    sentence_names_the_time: float = 1.5  # the sentence's own time expression overlaps the question's range
    article_names_the_time: float = 1.0  # another sentence or the title of its article does
    dated_in_window: float = 0.5  # the article is dated within the range (plus its reporting lag)
    # Fresher first, times exp(-days older than the newest candidate / days): strongly when the question asks
    # for the latest figure, mildly when it names a time.
    latest: float = 1.5
    latest_days: float = 7.0
    newer: float = 0.5
    newer_days: float = 30.0
    after_as_of: float = -4.0  # the article was published after the as-of date


DEFAULT_TIME_WEIGHTS = TimeWeights()


def as_of_date(value: date | str | None) -> date:
    """The as-of date of a question: a date, an ISO date string, or None for today."""
    if value is None:
        return date.today()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"as_of must be a date written YYYY-MM-DD, not {value!r}") from None
    if not isinstance(value, date):
        raise TypeError(f"as_of must be a date or a YYYY-MM-DD string, got {type(value).__name__}")
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(
            f"as_of {day.isoformat()} is outside the dates questions can be asked as of "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return day


_NEWEST_WORDS = frozenset({"latest", "newest", "latest article", "newest article", "end of the archive"})
AS_OF_HINT = 'write a day (2019-12-31), a month ("2019-03"), "last tuesday", "today" or "latest"'


def read_as_of(text: str | None, today: date, newest: Callable[[], str | None] | None = None) -> date | None:
    """The as-of day a person typed, or None for an empty box (today). Takes what the question box takes: an ISO
    date, a month or year ("2019-03", "March 2019": its last day), a relative day ("last tuesday", "yesterday",
    counted from `today`), or "latest" (the newest article's date, from `newest`; today when nothing is dated).
    Raises ValueError saying what to write instead for anything else."""
    typed = " ".join((text or "").split())
    if not typed:
        return None
    if typed.lower() in _NEWEST_WORDS:
        found = newest() if newest is not None else None
        return date.fromisoformat(found) if found else today
    with contextlib.suppress(ValueError):
        return date.fromisoformat(typed)
    mentions = time_mentions(typed, today, lenient=True)
    if len(mentions) == 1 and mentions[0].start == 0 and mentions[0].end == len(typed):
        return mentions[0].last
    raise ValueError(f"{typed!r} is not a date the assistant can read; {AS_OF_HINT}")


def read_time(question: str, as_of: date) -> QuestionTime:
    """The time `question` asks about, resolved against `as_of`: the first time expression it names (a range),
    and whether it asks for the latest figure."""
    mentions = time_mentions(question, as_of, lenient=True)
    latest = _LATEST.search(question)
    if mentions:
        m = mentions[0]
        return QuestionTime(
            as_of=as_of, expression=m.text, start=m.start, end=m.end, first=m.first, last=m.last,
            label=describe_range(m.first, m.last), latest=latest is not None,
        )  # fmt: skip
    if latest is not None:
        recent = latest.group(0).lower().startswith("recent")
        first = as_of - timedelta(days=RECENT_DAYS) if recent else None
        label = describe_range(first, as_of) if first else f"as of {describe_range(as_of, as_of)}"
        return QuestionTime(
            as_of=as_of, expression=latest.group(0), start=latest.start(), end=latest.end(),
            first=first, last=as_of if first else None, label=label, latest=True,
        )  # fmt: skip
    return QuestionTime(as_of=as_of)


def asks_about_time(when: QuestionTime) -> bool:
    return when.first is not None or when.latest


def dated_window(when: QuestionTime) -> tuple[date, date] | None:
    """Publication dates of the articles likely to report the question's range: from just before it starts to
    its reporting lag after it ends (never past the as-of date). For "latest" questions, the last 45 days."""
    if when.first is not None and when.last is not None:
        lag = _REPORTING_LAG.get(_period(when.first, when.last), 45)
        return when.first - timedelta(days=3), min(when.last + timedelta(days=lag), when.as_of)
    if when.latest:
        return when.as_of - timedelta(days=45), when.as_of
    return None


def _period(first: date, last: date) -> str:
    days = (last - first).days + 1
    return next((name for name, most in _PERIOD_DAYS if days <= most), "year")


_PERIOD_DAYS = (("day", 1), ("week", 7), ("month", 31), ("quarter", 92))
_GRAIN = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}


def newest_date(when: QuestionTime, article_dates: Iterable[str | None]) -> date | None:
    """The newest publication date among candidate articles that is not after the as-of date."""
    dates = [d for d in map(_parse, article_dates) if d is not None and d <= when.as_of]
    return max(dates, default=None)


def time_prior(
    when: QuestionTime,
    article_date: str | None,
    sentence_times: Sequence[TimeMention],
    article_times: Mapping[int, Sequence[TimeMention]],
    newest: date | None = None,
    weights: TimeWeights = DEFAULT_TIME_WEIGHTS,
) -> float:
    """Log-odds to add to a candidate sentence's score (see the module docstring and `TimeWeights`); `newest`
    is `newest_date` of all the candidates."""
    published = _parse(article_date)
    prior = 0.0
    if published is not None and published > when.as_of:
        prior += weights.after_as_of
    if when.first is not None and when.last is not None:
        first, last = when.first, when.last
        # What words cannot match: a relative expression on either side ("last month" asked, "in March" written;
        # "in 2019" asked, "last year" written). "In 2019" against "in 2019" is the scorer's and reader's business.
        literal = says_its_year(when.expression, when.first)
        grain = _GRAIN[_period(first, last)]

        def fits(m: TimeMention) -> bool:
            return m.overlaps(first, last) and not (literal and m.says_its_year)

        def coarse(m: TimeMention) -> bool:  # as coarse as the question's range: a period, not a passing day
            return _GRAIN.get(m.period, 0) >= grain

        def telling(m: TimeMention) -> bool:  # elsewhere in the article: a day says little about a month or year
            return m.period != "day" or grain <= _GRAIN["week"]

        # A sentence about another period of the same grain ("in 2018" when 2019 is asked) does not count for
        # naming a day inside the range ("on Tuesday", the day the 2018 figures came out in January 2019).
        other_period = any(coarse(m) and not m.overlaps(first, last) for m in sentence_times) and not any(
            coarse(m) and m.overlaps(first, last) for m in sentence_times
        )
        if any(fits(m) for m in sentence_times) and not other_period:
            prior += weights.sentence_names_the_time
        elif any(telling(m) and fits(m) for times in article_times.values() for m in times):
            prior += weights.article_names_the_time
        window = dated_window(when)
        if published is not None and window is not None and window[0] <= published <= window[1]:
            prior += weights.dated_in_window
    if asks_about_time(when) and published is not None and newest is not None and published <= when.as_of:
        older = max((newest - published).days, 0)
        if when.latest:
            prior += weights.latest * math.exp(-older / weights.latest_days)
        else:
            prior += weights.newer * math.exp(-older / weights.newer_days)
    return prior


def fact_dates(times: Sequence[TimeMention]) -> list[str]:
    """'last month = Mar 1987' for each time expression of a sentence whose words do not already say the date
    (a relative one, or one without its year)."""
    return [f"{m.text} = {describe_range(m.first, m.last)}" for m in times if not m.says_its_year]


def _parse(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


__all__ = [
    "DEFAULT_TIME_WEIGHTS",
    "TimeWeights",
    "as_of_date",
    "asks_about_time",
    "dated_window",
    "fact_dates",
    "newest_date",
    "read_time",
    "time_prior",
]
