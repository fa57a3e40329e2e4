"""Time expressions found in text and resolved against a reference date, with exact offsets."""

from __future__ import annotations

from datetime import date

import pytest

from index.text.dates import describe_range, period_range, time_mentions

APRIL_14_1987 = date(1987, 4, 14)


def found(text: str, reference: date | None = APRIL_14_1987, **kwargs: bool) -> list[tuple[str, str, str]]:
    mentions = time_mentions(text, reference, **kwargs)
    for m in mentions:
        assert text[m.start : m.end] == m.text, "offsets must point at the expression"
    return [(m.text, m.first.isoformat(), m.last.isoformat()) for m in mentions]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The surplus rose to 8.14 billion dlrs last month.", [("last month", "1987-03-01", "1987-03-31")]),
        ("It was recorded in 9,572 cases last year.", [("last year", "1986-01-01", "1986-12-31")]),
        ("Arrivals for the week ended February 22 were 155,221 bags.", [("February 22", "1987-02-22", "1987-02-22")]),
        ("Exports rose to 6.93 billion in March from 6.20 billion in January.",
         [("March", "1987-03-01", "1987-03-31"), ("January", "1987-01-01", "1987-01-31")]),
        ("Output fell this week, the ministry said on Monday.",
         [("this week", "1987-04-13", "1987-04-19"), ("Monday", "1987-04-13", "1987-04-13")]),
        ("The plant opened in 1985 and closed on Feb 3, 1986.",
         [("1985", "1985-01-01", "1985-12-31"), ("Feb 3, 1986", "1986-02-03", "1986-02-03")]),
        # A clause dateparser's whole-text search gives up on is searched on its own.
        ("How much wheat did the U.K. export last month, according to the HGCA?",
         [("last month", "1987-03-01", "1987-03-31")]),
    ],
)  # fmt: skip
def test_expressions_are_resolved_against_the_reference_date(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We said the price may rise by 15-20 pct.",  # "we", "may", "15-20": not times
        "The index fell 12 points to 1,234.5.",
        "Five years at a fixed rate of 55 pct.",  # a duration is not a date
        "Officials will march to the ministry.",
    ],
)
def test_words_that_are_not_times_are_left_alone(text: str) -> None:
    assert found(text) == []


def test_without_a_reference_only_expressions_that_name_their_year_are_kept() -> None:
    text = "Cases rose last year, to 9,572 in 2019."
    assert found(text, None) == [("2019", "2019-01-01", "2019-12-31")]


def test_questions_may_write_month_names_in_lower_case() -> None:
    assert found("what was the surplus in march?", lenient=True) == [("march", "1987-03-01", "1987-03-31")]
    assert found("what was the surplus in march?") == []


def test_ranges_and_their_labels() -> None:
    assert period_range(date(2026, 11, 26), "week") == (date(2026, 11, 23), date(2026, 11, 29))
    assert describe_range(date(2026, 11, 23), date(2026, 11, 29)) == "23–29 Nov 2026"
    assert describe_range(*period_range(date(1987, 3, 9), "month")) == "Mar 1987"
    assert describe_range(*period_range(date(1986, 6, 1), "year")) == "1986"
    assert describe_range(date(1987, 4, 13), date(1987, 4, 13)) == "13 Apr 1987"
    assert describe_range(date(1987, 3, 28), date(1987, 4, 3)) == "28 Mar – 3 Apr 1987"


def test_possessives_are_read_as_times() -> None:
    assert found("He blamed March's weak performance on strikes.") == [("March", "1987-03-01", "1987-03-31")]
    assert found("what caused last month's fall?", lenient=True) == [("last month", "1987-03-01", "1987-03-31")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Output rose in the first quarter.", [("first quarter", "1987-01-01", "1987-03-31")]),
        ("Output fell in the fourth quarter.", [("fourth quarter", "1986-10-01", "1986-12-31")]),
        ("It fell 1.5 pct in the fourth quarter of 1985.", [("fourth quarter of 1985", "1985-10-01", "1985-12-31")]),
        ("Profit rose in the first quarter of this year.",
         [("first quarter of this year", "1987-01-01", "1987-03-31")]),
        ("GNP grew last quarter, the agency said yesterday.",
         [("last quarter", "1987-01-01", "1987-03-31"), ("yesterday", "1987-04-13", "1987-04-13")]),
    ],
)  # fmt: skip
def test_quarters(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(text) == expected
