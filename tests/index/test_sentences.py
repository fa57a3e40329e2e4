"""split_sentences: offsets that always give back the sentence, and the boundaries a reader expects in news prose."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.text.clean import clean_article
from index.text.sentences import MAX_SENTENCE_CHARS, split_sentences
from newsqa.paths import CORPUS_DIR

SEED = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def sentences_of(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def assert_well_formed(text: str) -> None:
    """Offsets give stripped, non-empty sentences in order; only white space lies outside them."""
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert 0 <= previous_end <= start < end <= len(text), (spans, text)
        sentence = text[start:end]
        assert sentence.strip() == sentence != "", (sentence, text)
        assert text[previous_end:start].strip() == "", f"non-space text outside any sentence in {text!r}"
        assert not _BLANK_LINE.search(sentence), f"a paragraph break inside {sentence!r}"
        previous_end = end
    assert text[previous_end:].strip() == "", f"non-space text after the last sentence in {text!r}"
    if text.strip():
        assert spans, f"no sentence found in {text!r}"


# --- properties ----------------------------------------------------------------------------------

_FRAGMENTS = [
    "Mr Kheng said",
    "Mr. Kheng said",
    "Mrs. Smith",
    "Dr. No",
    "the U.S. Embassy",
    "in the U.S.",
    "U.S.",
    "approx.",
    "approx. 5 tonnes",
    "99.97 kilogrammes",
    "1.5 tonnes",
    "9,572 cases",
    "on Jan. 5",
    "No. 10",
    "J. R. Smith",
    "a.m.",
    "“We won.",
    "We won,” he said.",
    "“Go!”",
    "“Why?”",
    "(see above.)",
    "[because of this]?",
    "etc.",
    "...",
    "…",
    "he said.",
    "She left!",
    "Really?",
    "the police",
    "Kandal province",
    "It rose by 19 percent.",
    "'quoted'",
    "‘single’",
    "e.g.",
    "St. Louis",
    "Gen.",
    "",
    ".",
    "?!",
]
_SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", "\n \n", "\n\t\n\n", "\t", "\u00a0", "\u2009", "\r\n\r\n", ""]

news_text = st.lists(st.tuples(st.sampled_from(_FRAGMENTS), st.sampled_from(_SEPARATORS)), min_size=0, max_size=30).map(
    lambda parts: "".join(fragment + separator for fragment, separator in parts)
)


@settings(max_examples=400, deadline=None)
@given(news_text)
def test_news_like_text_is_covered_by_ordered_sentences(text: str) -> None:
    assert_well_formed(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_covered_by_ordered_sentences(text: str) -> None:
    assert_well_formed(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?…“”\"'()[]\n\t\u00a0AB1.")), max_size=200))
def test_punctuation_heavy_text_is_covered_by_ordered_sentences(text: str) -> None:
    assert_well_formed(text)


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\n \u00a0 "])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


# --- examples --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr Kheng said it. He left.", ["Mr Kheng said it.", "He left."]),
        ("Mr. Kheng said it. He left.", ["Mr. Kheng said it.", "He left."]),
        ("Dr. Lim and Mrs. Sok arrived. They spoke.", ["Dr. Lim and Mrs. Sok arrived.", "They spoke."]),
        (
            "Purity was 99.97 percent. Tests confirmed it.",
            ["Purity was 99.97 percent.", "Tests confirmed it."],
        ),
        (
            "The U.S. Embassy said so. Then it closed.",
            ["The U.S. Embassy said so.", "Then it closed."],
        ),
        (
            "He flew to the U.S. The next day he left.",
            ["He flew to the U.S.", "The next day he left."],
        ),
        (
            "It weighed approx. 5 tonnes. Police said so.",
            ["It weighed approx. 5 tonnes.", "Police said so."],
        ),
        (
            "Prices rose 3.5 pct. in Jan. 2019. Analysts said so.",
            ["Prices rose 3.5 pct. in Jan. 2019.", "Analysts said so."],
        ),
        ("J. R. Smith scored. He left.", ["J. R. Smith scored.", "He left."]),
        (
            "“We won. It was hard,” he said. She agreed.",
            ["“We won.", "It was hard,” he said.", "She agreed."],
        ),
        ("He shouted “Stop!” Then he ran.", ["He shouted “Stop!”", "Then he ran."]),
        ("Is it over? Yes! It is.", ["Is it over?", "Yes!", "It is."]),
        (
            "A heading without a full stop\n\nThe story starts here.",
            ["A heading without a full stop", "The story starts here."],
        ),
    ],
)
def test_boundaries_in_news_prose(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected
    assert_well_formed(text)


def test_a_quote_that_spans_sentences_keeps_its_closing_mark_with_its_last_sentence() -> None:
    text = (
        "“They were released just two or three days later since the crimes were not serious,” he said. "
        "“This is not right. Although I acknowledge the issue, they should be taken to court.”\n\n"
        "Him Yun agreed."
    )
    assert sentences_of(text) == [
        "“They were released just two or three days later since the crimes were not serious,” he said.",
        "“This is not right.",
        "Although I acknowledge the issue, they should be taken to court.”",
        "Him Yun agreed.",
    ]


@pytest.fixture(scope="module")
def seed_text() -> str:
    return clean_article(SEED.read_text(encoding="utf-8")).text


def test_seed_article_sentences(seed_text: str) -> None:
    assert_well_formed(seed_text)
    sentences = sentences_of(seed_text)
    for expected in [
        "A total of 720 kilogrammes of illicit drugs and 99.97 kilogrammes of dried marijuana as well as 94,441 "
        "marijuana plants were confiscated during raids in 2019.",
        "It said more than 20,000 suspects were arrested in 9,572 cases last year compared with 8,018 recorded in "
        "2018.",
        "According to a Interior Ministry anti-drug trafficking department report, the number of drug-related crimes "
        "in 2019 rose by 19 percent from the previous year.",
        "Newly-appointed Kandal provincial governor Kong Sorphon said yesterday he will follow Mr Kheng’s advice and "
        "regularly monitor his subordinates in implementing action against drug-related crimes.",
        "As a result, Mr Kheng said many villagers become victims and suspects of drug use and distribution.",
        "“How many people would become victims of drug use in rural areas [because of this]?",
        "This is a problem that we must not underestimate,” Mr Kheng added.",
    ]:
        assert expected in sentences, f"not one sentence of the seed article: {expected!r}"
    # No sentence was cut in the middle: each starts like a sentence and ends with its punctuation.
    for sentence in sentences:
        assert sentence[0].isupper() or sentence[0] == "“", sentence
        assert sentence.rstrip("”’\"')").endswith((".", "?", "!")), sentence


# --- bounded work: no input makes one giant sentence ----------------------------------------------------


def test_a_run_without_punctuation_is_cut_at_white_space_into_bounded_sentences() -> None:
    text = "T\n\n" + "lorem ipsum dolor sit amet " * 4_000  # the upload, at 1/100 of its size
    spans = split_sentences(text)
    assert_well_formed(text)
    assert max(end - start for start, end in spans) <= MAX_SENTENCE_CHARS
    assert len(spans) > len(text) // MAX_SENTENCE_CHARS, "pieces stay long: cuts look back at most half the limit"
    for start, end in spans[1:]:  # cut between words, never inside one
        assert text[start - 1].isspace() and text[end : end + 1] in ("", " "), text[start:end]


def test_an_over_long_sentence_is_cut_after_a_clause_mark_before_plain_white_space() -> None:
    clause = "the committee heard from residents of the northern districts about the water supply"
    text = ", and ".join([clause] * 20) + "."
    pieces = sentences_of(text)
    assert len(pieces) > 1 and all(len(p) <= MAX_SENTENCE_CHARS for p in pieces)
    assert all(p.endswith(",") for p in pieces[:-1]), pieces
    assert "".join(p + " " for p in pieces).split() == text.split(), "nothing lost between the pieces"


def test_a_long_string_without_any_space_is_cut_at_the_limit() -> None:
    text = "x" * (2 * MAX_SENTENCE_CHARS + 5)
    assert split_sentences(text, 100) == [(i, min(i + 100, len(text))) for i in range(0, len(text), 100)]


def test_sentence_ends_of_scripts_written_without_spaces() -> None:
    chinese = "柬埔寨金边港口周一恢复了正常运营。港口管理局表示，所有码头已重新开放！这是否会影响出口？官员说不会。"
    assert sentences_of(chinese) == [
        "柬埔寨金边港口周一恢复了正常运营。",
        "港口管理局表示，所有码头已重新开放！",
        "这是否会影响出口？",
        "官员说不会。",
    ]
    assert sentences_of("他说：「我们赢了。」然后离开了。") == ["他说：「我们赢了。」", "然后离开了。"]
    khmer = "កំពង់ផែបានបើកឡើងវិញនៅថ្ងៃច័ន្ទ។ មន្ត្រីបាននិយាយថា ច្រកទាំងអស់បានបើក។ នេះជាដំណឹងល្អ៕"
    assert sentences_of(khmer) == [
        "កំពង់ផែបានបើកឡើងវិញនៅថ្ងៃច័ន្ទ។",
        "មន្ត្រីបាននិយាយថា ច្រកទាំងអស់បានបើក។",
        "នេះជាដំណឹងល្អ៕",
    ]
    assert_well_formed(chinese * 50)
    assert max(e - s for s, e in split_sentences("无标点的长文本" * 1_000)) <= MAX_SENTENCE_CHARS
