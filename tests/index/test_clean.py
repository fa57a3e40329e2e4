"""clean_article / clean_html / clean_body: what survives clean-up is the story, and all of the story."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.text.clean import NoArticleTextError, clean_article, clean_body, clean_html
from newsqa.paths import CORPUS_DIR

DATA = Path(__file__).parent / "data"
SEED = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_seed_article_loses_its_web_furniture_and_keeps_every_paragraph() -> None:
    raw = SEED.read_text(encoding="utf-8")

    cleaned = clean_article(raw)

    assert cleaned.title == "Sar Kheng cautions against freeing suspects in minor drug crimes"
    assert cleaned.author == "Taing Vida"
    assert cleaned.source == "Khmer Times"
    assert cleaned.text.startswith("Interior Minister Sar Kheng has warned")
    assert cleaned.text.endswith("were confiscated during raids in 2019.")
    for furniture in ("cellcard", "Share:", "KT/Chor", "Previous Article", "Next Article", "CHRC marks", "US stance"):
        assert furniture not in cleaned.text
    # Every body paragraph of the source is there, in order: the 13 lines between caption and teasers.
    source_lines = [" ".join(line.split()) for line in raw.splitlines() if line.strip()]
    story = source_lines[source_lines.index("Interior Minister Sar Kheng. KT/Chor Sokunthea") + 1 :]
    story = story[: story.index("Previous Article")]
    assert len(story) == 13
    assert paragraphs(cleaned.text) == story
    assert "  " not in cleaned.text and "\u00a0" not in cleaned.text


def test_boilerplate_rules_are_generic_not_tied_to_the_seed() -> None:
    raw = (
        "ADVERTISEMENT\n\n"
        "dailyplanet dailyplanet\n\n"
        "Floods   hit coastal towns\n\n"
        "By Jane Doe / Daily Planet\n"
        "Residents wade through a flooded street. Photo: Reuters\n\n"
        "Heavy rain flooded three coastal towns overnight, the weather service said on Tuesday.\n\n"
        "Advertisement\n\n"
        "Rescue teams evacuated 40 people from their homes, officials said.\n\n"
        "Next Post: Harbour reopens after storm\n\n"
        "Previous Post\n\n"
        "Council approves budget"
    )

    cleaned = clean_article(raw)

    assert cleaned.title == "Floods hit coastal towns"
    assert (cleaned.author, cleaned.source) == ("Jane Doe", "Daily Planet")
    assert paragraphs(cleaned.text) == [
        "Heavy rain flooded three coastal towns overnight, the weather service said on Tuesday.",
        "Rescue teams evacuated 40 people from their homes, officials said.",
    ]


def test_plain_text_keeps_its_paragraphs_and_only_whitespace_changes() -> None:
    raw = (
        "  The central bank held its key rate at 4.5 percent on Thursday,\u00a0citing  stubborn inflation.\n"
        "Analysts had expected the decision.\r\n\r\n\r\n"
        "Markets barely moved after the announcement.   \n\n"
        "The next meeting is in six weeks.\n"
    )

    cleaned = clean_article(raw)

    assert cleaned.title == ""
    assert cleaned.author is None and cleaned.source is None
    assert cleaned.text == (
        "The central bank held its key rate at 4.5 percent on Thursday, citing stubborn inflation.\n"
        "Analysts had expected the decision.\n\n"
        "Markets barely moved after the announcement.\n\n"
        "The next meeting is in six weeks."
    )


def test_a_short_first_line_on_its_own_is_the_headline() -> None:
    cleaned = clean_article("Rates on hold\n\nThe central bank held its key rate on Thursday.")

    assert cleaned.title == "Rates on hold"
    assert cleaned.text == "The central bank held its key rate on Thursday."


@pytest.mark.parametrize(
    "raw",
    [
        "What happens next?\n\nNobody knows what the bank will do in six weeks.",
        "Just one line without a full stop",
        "Rates on hold\nThe central bank held its key rate on Thursday.",
    ],
)
def test_no_headline_is_invented(raw: str) -> None:
    cleaned = clean_article(raw)

    assert cleaned.title == ""
    assert cleaned.text == raw


def test_story_lines_that_resemble_furniture_are_kept() -> None:
    body = [
        "Previous articles in this series looked at the port, the airport and the new rail link to the capital.",
        "Photo: the minister said the picture circulating online was fake and had been edited.",
        "Sales fell sharply in the quarter, the company told analysts on a call (Reuters).",
        "Next Article in the law, the one on public assemblies, was debated for three full days.",
    ]

    assert clean_article("\n\n".join(body)).text == "\n\n".join(body)
    assert clean_body("\n\n".join(body)) == "\n\n".join(body)


def test_clean_body_only_tidies_whitespace_and_trailing_teasers() -> None:
    raw = "By Jane Doe / Daily Planet\n\nFirst  paragraph of the story.\n\n\nLast one.\n\nNext Article\n\nOther story"

    assert clean_body(raw) == "By Jane Doe / Daily Planet\n\nFirst paragraph of the story.\n\nLast one."


def test_html_page_gives_the_story_without_navigation_ads_or_footer() -> None:
    html = (DATA / "valley-gazette-river-levels.html").read_text(encoding="utf-8")

    cleaned = clean_html(html)

    assert cleaned.title == "River levels rise after week of rain"
    assert cleaned.author == "Maria Lopez"
    assert cleaned.source == "Valley Gazette"
    assert cleaned.date == "2021-03-14"
    assert cleaned.url == "https://valleygazette.example/news/river-levels-rise"
    body = paragraphs(cleaned.text)
    assert body[0].startswith("The river through the old town rose by almost two metres")
    assert body[-1].endswith("four million euros in repairs.")
    assert len(body) == 4
    for furniture in ("Subscribe", "Advertisement", "Lumen phone", "Related stories", "Rovers", "rights reserved"):
        assert furniture not in cleaned.text


def test_html_page_without_a_story_is_a_clear_error() -> None:
    page = "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><footer>© 2021</footer></body></html>"

    with pytest.raises(NoArticleTextError, match="no article text"):
        clean_html(page)


def test_terminal_escape_codes_and_control_characters_are_dropped() -> None:
    body = "Police seized \x1b[31m720 kilogrammes\x1b[0m of drugs\x07 in 2019.\x00\n\nThe \x1b]0;title\x07raid ended."
    assert clean_body(body) == "Police seized 720 kilogrammes of drugs in 2019.\n\nThe raid ended."


_DATED_BODY = (
    "<html><head><title>Market report</title>{meta}</head><body><article><h1>Market report</h1>"
    "<p>The market opened in 1999. Traders said volumes rose sharply this quarter, and the exchange expects "
    "further growth next year as more firms list their shares.</p><p>Analysts in 2019 were cautious about the "
    "outlook, citing weaker demand in several regions and higher costs.</p></article></body></html>"
)


def test_an_html_page_is_dated_by_its_metadata_never_by_a_year_in_its_text() -> None:
    assert clean_html(_DATED_BODY.format(meta="")).date is None  # not 1999-01-01 from "opened in 1999"
    dated = _DATED_BODY.format(meta='<meta property="article:published_time" content="2020-03-05T10:00:00Z">')
    assert clean_html(dated).date == "2020-03-05"
