"""Time-aware answering: the question's as-of date and time expression, the prior over candidates, and the
assistant over a small dated corpus where reports of different months give different figures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from index.text.dates import TimeMention
from qa.models import QuestionTime
from qa.when import as_of_date, read_time, time_prior

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("question", "expression", "label", "latest"),
    [
        ("What happened this week?", "this week", "23–29 Nov 2026", False),
        ("How many were arrested yesterday?", "yesterday", "25 Nov 2026", False),
        ("What was the trade surplus last month?", "last month", "Oct 2026", False),
        ("What did the council decide on Monday?", "Monday", "23 Nov 2026", False),
        ("How much was exported in march?", "march", "Mar 2026", False),
        ("How many cases were there last year?", "last year", "2025", False),
        ("What was the deficit in the first quarter of this year?", "first quarter of this year", "Jan – Mar 2026",
         False),
        ("Who was elected recently?", "recently", "27 Oct – 26 Nov 2026", True),
        ("What is the latest unemployment figure?", "latest", "as of 26 Nov 2026", True),
        ("Who is the new governor?", "new", "as of 26 Nov 2026", True),
        ("What is the current prime rate?", "current", "as of 26 Nov 2026", True),
    ],
)  # fmt: skip
def test_the_question_time_is_read_against_the_as_of_date(
    question: str, expression: str, label: str, latest: bool
) -> None:
    when = read_time(question, THURSDAY)
    assert (when.expression, when.label, when.latest) == (expression, label, latest)
    assert when.start is not None and question[when.start : when.end] == expression


def test_a_question_without_time_words_has_none() -> None:
    when = read_time("Who is the governor of New York?", THURSDAY)
    assert (when.expression, when.first, when.latest) == (None, None, False)


def test_as_of_accepts_dates_and_iso_text_and_refuses_anything_else() -> None:
    assert as_of_date("1987-04-30") == date(1987, 4, 30)
    assert as_of_date(THURSDAY) == THURSDAY
    assert as_of_date(None) == date.today()
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        as_of_date("30/04/1987")
    with pytest.raises(TypeError, match="as_of"):
        as_of_date(1987)  # type: ignore[arg-type]


def mention(first: date, last: date) -> TimeMention:
    return TimeMention(0, 5, "March", first, last, "month")


def test_the_prior_prefers_the_sentence_that_names_the_time_then_its_article_then_its_date() -> None:
    when = read_time("What was the surplus last month?", date(1987, 4, 30))  # March 1987
    march, february = mention(date(1987, 3, 1), date(1987, 3, 31)), mention(date(1987, 2, 1), date(1987, 2, 28))
    names_it = time_prior(when, "1987-04-20", [march], {}, date(1987, 4, 20))
    article_names_it = time_prior(when, "1987-04-20", [february], {3: [march]}, date(1987, 4, 20))
    only_dated = time_prior(when, "1987-04-20", [february], {}, date(1987, 4, 20))
    older_report = time_prior(when, "1987-03-20", [february], {}, date(1987, 4, 20))
    undated = time_prior(when, None, [], {}, date(1987, 4, 20))
    after = time_prior(when, "1987-05-20", [march], {}, date(1987, 4, 20))
    assert names_it > article_names_it > only_dated > older_report > undated
    assert after < undated, "an article published after the as-of date ranks below an undated one"


def test_without_time_words_only_articles_after_the_as_of_date_are_marked_down() -> None:
    when = QuestionTime(as_of=date(1987, 4, 30))
    assert time_prior(when, "1987-04-01", [], {}, date(1987, 4, 1)) == 0.0
    assert time_prior(when, None, [], {}, None) == 0.0
    assert time_prior(when, "1987-05-01", [], {}, date(1987, 4, 1)) < 0.0


# --- the assistant over a dated corpus ------------------------------------------------------------------

REPORTS = [
    ("ferry-feb", "2021-03-04", "Harbour ferry traffic rises in February",
     "The harbour ferry carried 41,200 passengers in February, the port authority said on Thursday. "
     "Officials said the new timetable helped."),
    ("ferry-mar", "2021-04-06", "Harbour ferry traffic rises again in March",
     "The harbour ferry carried 47,900 passengers in March, the port authority said on Tuesday. "
     "Officials said the Easter holidays helped."),
    ("ferry-apr", "2021-05-05", "Harbour ferry traffic dips in April",
     "The harbour ferry carried 39,300 passengers in April, the port authority said on Wednesday. "
     "Officials blamed the storms."),
    ("drugs-2020", "2020-01-10", "Police report drug case numbers",
     "Police recorded 9,572 drug cases last year compared with 8,018 in 2018, the ministry said. "
     "The ministry said more raids are planned."),
]  # fmt: skip


@pytest.fixture(scope="module")
def dated_assistant(encoder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from newsqa.settings import Settings
    from qa.assistant import Assistant

    folder = tmp_path_factory.mktemp("dated")
    feed = folder / "reports.jsonl"
    with feed.open("w", encoding="utf-8") as out:
        for article_id, day, title, text in REPORTS:
            record = {"id": article_id, "date": day, "title": title, "text": text, "source": "Port News"}
            out.write(json.dumps(record) + "\n")
    settings = Settings(index_dir=folder / "index", corpus_dir=folder / "no-corpus")
    assistant = Assistant(settings, encoder=encoder)
    assistant.ingest([feed], show_progress=False)
    return assistant


QUESTION = "How many passengers did the harbour ferry carry last month?"


@pytest.mark.parametrize(
    ("as_of", "figure", "label"),
    [("2021-04-20", "47,900", "Mar 2021"), ("2021-03-15", "41,200", "Feb 2021"), ("2021-05-31", "39,300", "Apr 2021")],
)
def test_last_month_is_the_report_of_the_month_before_the_as_of_date(
    dated_assistant, as_of: str, figure: str, label: str
) -> None:  # type: ignore[no-untyped-def]
    answer = dated_assistant.answer(QUESTION, as_of=as_of)
    assert answer.found, answer.message
    assert figure in answer.sentences[0].text
    assert answer.time is not None and answer.time.as_of == date.fromisoformat(as_of)
    assert answer.time.label == label
    assert answer.shown_question() == QUESTION.replace("last month", f"last month ({label})")


def test_the_latest_figure_is_the_newest_report_before_the_as_of_date(dated_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = dated_assistant.answer("How many passengers does the harbour ferry carry now?", as_of="2021-04-30")
    assert answer.found and "47,900" in answer.sentences[0].text  # April's report comes out in May
    shown = " ".join(s.text for s in answer.sentences)
    assert "39,300" not in shown, "April's report was published after the as-of date"
    dates = [s.citation.date for s in answer.sentences]
    assert all(dates) and dates == sorted(dates, reverse=True), f"newest first, each with its date: {dates}"


def test_a_relative_date_in_an_article_answers_an_absolute_question(dated_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = dated_assistant.answer("How many drug cases were recorded in 2019?", as_of="2021-06-01")
    assert answer.found and "9,572" in answer.sentences[0].text
    assert "last year = 2019" in answer.sentences[0].citation.fact_dates


def test_without_time_features_the_as_of_date_is_still_reported(dated_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import Assistant

    plain = Assistant(
        dated_assistant.settings, encoder=dated_assistant.encoder, reader=dated_assistant.reader, time_aware=False
    )
    answer = plain.answer(QUESTION, as_of="2021-04-20")
    assert answer.time is not None and answer.time.as_of == date(2021, 4, 20) and answer.time.expression is None


def test_a_bad_as_of_is_refused_with_a_message(dated_assistant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        dated_assistant.answer(QUESTION, as_of="last Tuesday")


@pytest.mark.parametrize(
    ("as_of", "question"),
    [
        ("9999-12-31", "How many passengers did the ferry carry this year?"),
        ("0001-01-01", "What is the latest passenger figure?"),
        ("0001-01-01", "How many passengers last month?"),
        ("2501-01-01", "How many passengers next year?"),
    ],
)
def test_an_as_of_at_the_ends_of_the_calendar_is_refused_with_the_range_not_an_overflow(
    dated_assistant,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    as_of: str,
    question: str,
) -> None:
    from cli import main

    with pytest.raises(ValueError, match=rf"as_of {as_of} is outside .*\(1500-01-01 to 2500-12-31\)"):
        dated_assistant.answer(question, as_of=as_of)
    assert main(["--index-dir", str(dated_assistant.index_dir), "ask", question, "--as-of", as_of]) == 2
    err = capsys.readouterr().err
    assert "outside the dates" in err and "Traceback" not in err
    # The ends of the range itself are answered (or abstained on) without an error.
    for edge in ("1500-01-01", "2500-12-31"):
        assert dated_assistant.answer(question, as_of=edge).time.as_of.isoformat() == edge


def test_an_article_date_outside_any_archive_is_no_date(tmp_path: Path) -> None:
    from index.text.dates import normalize_date

    assert normalize_date("9999-12-31") is None and normalize_date("0001-01-01") is None
    assert normalize_date("1987-04-30") == "1987-04-30"


def test_qa_ask_takes_as_of(dated_assistant, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from cli import main

    index = ["--index-dir", str(dated_assistant.index_dir)]
    assert main([*index, "ask", QUESTION, "--as-of", "2021-04-20"]) == 0
    out = capsys.readouterr().out
    assert "last month (Mar 2021)" in out and "47,900" in out.splitlines()[2]
    assert main([*index, "ask", QUESTION, "--as-of", "latest"]) == 0
    assert "last month (Apr 2021)" in capsys.readouterr().out  # the newest article is of 5 May 2021
    assert main([*index, "ask", QUESTION, "--as-of", "20/04/2021"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_the_evaluation_can_run_without_time_features(tmp_path: Path) -> None:
    import argparse

    from evaluation.run import add_eval_arguments

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    args = parser.parse_args(["--dataset", "dated", "--no-time", "--half", "tune"])
    assert (args.dataset, args.no_time, args.half) == ("dated", True, "tune")


def test_the_shown_question_adds_the_range_only_where_the_words_do_not_say_it(dated_assistant) -> None:  # type: ignore[no-untyped-def]
    asked = "How many drug cases were recorded in 2019?"
    assert dated_assistant.answer(asked, as_of="2021-06-01").shown_question() == asked
    now = dated_assistant.answer("How many passengers does the harbour ferry carry now?", as_of="2021-04-30")
    assert now.shown_question() == "How many passengers does the harbour ferry carry now (as of 30 Apr 2021)?"


def test_a_day_inside_the_year_does_not_make_a_report_of_another_year_count() -> None:
    when = read_time("How much heroin was seized in 2019?", THURSDAY)
    tuesday = TimeMention(0, 7, "Tuesday", date(2019, 1, 8), date(2019, 1, 8), "day")
    in_2018 = TimeMention(10, 17, "in 2018", date(2018, 1, 1), date(2018, 12, 31), "year")
    last_year = TimeMention(20, 29, "last year", date(2019, 1, 1), date(2019, 12, 31), "year")
    in_2019 = TimeMention(30, 34, "2019", date(2019, 1, 1), date(2019, 12, 31), "year")
    # The 2018 figures, published on a Tuesday of January 2019, are not about 2019.
    assert time_prior(when, None, [tuesday, in_2018], {}) == 0.0
    # "last year" in a 2020 article is 2019, which no word of the question matches: that is the prior's job.
    assert time_prior(when, None, [last_year], {}) > 0.0
    # "2019" against "in 2019" is a plain word match, left to the scorer and the reader.
    assert time_prior(when, None, [in_2019], {}) == 0.0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        ("  ", None),
        ("2019-03-05", date(2019, 3, 5)),
        ("2019-03", date(2019, 3, 31)),  # a month: its last day
        ("March 2019", date(2019, 3, 31)),
        ("2019", date(2019, 12, 31)),
        ("last tuesday", date(2026, 12, 1)),  # counted from today, a Sunday
        ("yesterday", date(2026, 12, 5)),
        ("today", date(2026, 12, 6)),
        ("latest", date(2021, 4, 6)),  # the newest article's date
        ("Latest article", date(2021, 4, 6)),
    ],
)
def test_read_as_of_takes_what_the_question_box_takes(typed: str, expected: date | None) -> None:
    from qa.when import read_as_of

    assert read_as_of(typed, date(2026, 12, 6), lambda: "2021-04-06") == expected


@pytest.mark.parametrize("typed", ["someday", "2019-02-30", "last tuesday and friday", "13/13/2019"])
def test_read_as_of_says_what_to_write_instead(typed: str) -> None:
    from qa.when import read_as_of

    with pytest.raises(ValueError, match=r"is not a date the assistant can read; write a day \(2019-12-31\)"):
        read_as_of(typed, date(2026, 12, 6))


def test_latest_without_dated_articles_is_today() -> None:
    from qa.when import read_as_of

    assert read_as_of("latest", date(2026, 12, 6), lambda: None) == date(2026, 12, 6)
