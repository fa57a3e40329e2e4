"""The chat's HTML: marked spans, numbered citations, the not-found box, the cited article, and escaping."""

from __future__ import annotations

import re
from html import unescape

from index.models import Article, IngestReport, Problem
from qa.assistant import CorpusStats
from qa.models import Answer, AnswerType, Citation, CitedSentence, Span
from ui.render import (
    NOT_FOUND_TITLE,
    citation_choices,
    render_active_filters,
    render_answer,
    render_article,
    render_corpus_facts,
    render_field_list,
    render_ingest_result,
    render_question,
)

ARTICLE_TEXT = (
    "Interior Minister Sar Kheng has warned local authorities.\n\n"
    "A total of 720 kilogrammes of illicit drugs were confiscated during raids in 2019.\n\n"
    "Previous Article"
)
SENTENCE = "A total of 720 kilogrammes of illicit drugs were confiscated during raids in 2019."


def _citation(**overrides: object) -> Citation:
    start = ARTICLE_TEXT.index(SENTENCE)
    fields: dict[str, object] = {
        "article_id": "kt-1", "title": "Sar Kheng cautions against freeing suspects", "source": "Khmer Times",
        "date": "2020-01-07", "url": "https://www.khmertimeskh.com/50678421/", "origin": "corpus/kt.txt",
        "sentence_number": 1, "start": start, "end": start + len(SENTENCE),
    }  # fmt: skip
    fields.update(overrides)
    return Citation.model_validate(fields)


def _sentence(text: str = SENTENCE, span: tuple[int, int] | None = (11, 26), **citation: object) -> CitedSentence:
    marked = None
    if span is not None:
        marked = Span(text=text[span[0] : span[1]], start=span[0], end=span[1], answer_type=AnswerType.QUANTITY)
    return CitedSentence(text=text, score=0.81, span=marked, citation=_citation(**citation))


def _answer(
    *sentences: CitedSentence, question: str = "how many kilograms were seized in 2019?", **kw: object
) -> Answer:
    fields: dict[str, object] = {
        "question": question, "understood_question": question, "answer_type": AnswerType.QUANTITY,
        "found": bool(sentences), "sentences": list(sentences),
        "message": "" if sentences else "Not found in the corpus. No sentence answers this question (closest 0.01).",
    }  # fmt: skip
    fields.update(kw)
    return Answer.model_validate(fields)


def _visible_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_answer_marks_the_span_and_numbers_its_citations() -> None:
    other = _sentence(
        "Interior Minister Sar Kheng has warned local authorities.", None, sentence_number=0, start=0, end=57
    )
    html = render_answer(_answer(_sentence(), other))

    assert "A total of <mark>720 kilogrammes</mark> of illicit drugs" in html
    assert html.index("[1]") < html.index("[2]")
    text = _visible_text(html)
    assert "[1] Sar Kheng cautions against freeing suspects — Khmer Times, 2020-01-07, sentence 2" in text
    assert "[2] Sar Kheng cautions against freeing suspects — Khmer Times, 2020-01-07, sentence 1" in text
    assert "qa-not-found" not in html and NOT_FOUND_TITLE not in html


def test_reply_is_one_line_so_markdown_keeps_it_as_html() -> None:
    sentence = _sentence("A total of 720 kilogrammes\n\nwere seized.", (11, 26))
    html = render_answer(_answer(sentence))
    assert "\n" not in html
    assert "<mark>720 kilogrammes</mark>" in html


def test_corpus_text_is_escaped() -> None:
    evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)> 720 kg'
    sentence = _sentence(evil, (len(evil) - 6, len(evil)), title="<b>Title</b>", source="<i>src</i>", date="x&y")
    html = render_answer(_answer(sentence, question="<img src=x>"))

    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in html
    assert "<mark>720 kg</mark>" in html
    assert render_question("<img src=x onerror=alert(1)>") == (
        '<div class="qa-question">&lt;img src=x onerror=alert(1)&gt;</div>'
    )


def test_not_found_reply_is_a_different_box_and_shows_no_sentence() -> None:
    html = render_answer(_answer(question="What is the capital of France?"))

    assert 'class="qa-reply qa-not-found"' in html
    assert NOT_FOUND_TITLE in html
    assert "No sentence answers this question (closest 0.01)." in html
    assert "Not found in the corpus. No sentence" not in html  # the heading is not repeated in the detail
    assert "qa-sentence" not in html and "<mark>" not in html


def test_an_abstention_never_shows_a_sentence_even_if_one_is_attached() -> None:
    html = render_answer(_answer(_sentence(), found=False, message="Not found in the corpus."))
    assert "qa-not-found" in html
    assert "720 kilogrammes" not in html
    assert citation_choices(_answer(_sentence(), found=False)) == []


def test_rewritten_follow_up_shows_the_question_it_answered() -> None:
    follow_up = _answer(
        _sentence(), question="and in 2019?", understood_question="how many kilograms were seized in 2019?"
    )
    assert "Answering: <q>how many kilograms were seized in 2019?</q>" in render_answer(follow_up)
    assert "Answering:" not in render_answer(_answer(_sentence()))
    not_found = _answer(question="and Paris?", understood_question="what is the capital of France Paris?")
    assert "Answering:" in render_answer(not_found)


def test_citation_choices_are_numbered_like_the_reply() -> None:
    assert citation_choices(_answer(_sentence(), _sentence(sentence_number=0))) == [
        ("[1] Sar Kheng cautions against freeing suspects — Khmer Times, 2020-01-07, sentence 2", "1"),
        ("[2] Sar Kheng cautions against freeing suspects — Khmer Times, 2020-01-07, sentence 1", "2"),
    ]
    undated = citation_choices(_answer(_sentence(source=None, date=None, title="")))
    assert undated[0][0] == "[1] Untitled — unknown source, undated, sentence 2"


def test_article_highlights_the_cited_sentence_at_its_offsets() -> None:
    article = Article(
        id="kt-1", title="Sar Kheng <cautions>", text=ARTICLE_TEXT, source="Khmer Times", date="2020-01-07",
        url="https://www.khmertimeskh.com/50678421/",
    )  # fmt: skip
    html = render_article(article, _sentence())

    assert (
        '\n\n<mark class="qa-cited" id="qa-cited-sentence">A total of <mark>720 kilogrammes</mark> of illicit drugs '
        "were confiscated during raids in 2019.</mark>\n\nPrevious Article"
    ) in html
    assert "Sar Kheng &lt;cautions&gt;" in html
    assert "Khmer Times · 2020-01-07 · sentence 2" in html
    assert 'href="https://www.khmertimeskh.com/50678421/"' in html
    assert "has warned local authorities.\n\n" in html  # the article keeps its paragraphs


def test_article_finds_the_sentence_when_offsets_are_stale_and_refuses_unsafe_links() -> None:
    article = Article(id="kt-1", title="T", text="New lead paragraph.\n\n" + ARTICLE_TEXT, url="javascript:alert(1)")
    html = render_article(article, _sentence())
    assert 'id="qa-cited-sentence"' in html
    assert "javascript:" not in html

    gone = Article(id="kt-1", title="T", text="Only other text now.")
    html = render_article(gone, _sentence())
    assert "qa-cited" not in html and "no longer in this article" in html
    assert "no longer in the index" in render_article(None, _sentence())


def test_corpus_facts_name_counts_sources_and_dates() -> None:
    stats = CorpusStats(
        articles=2, sentences=1234, chunks=9, sources=[("Harbour Gazette", 1), ("Khmer Times", 1)],
        date_from="2019-05-01", date_to="2021-06-14", index_dir="/x", snapshot="snap-1", updated_at="",
        dense_index={},
    )  # fmt: skip
    text = _visible_text(render_corpus_facts(stats))
    assert text == (
        "2 articles, 1,234 sentences · sources: Harbour Gazette (1), Khmer Times (1) · dates: 2019-05-01 to 2021-06-14"
    )
    empty = stats.model_copy(update={"articles": 0, "sentences": 0, "sources": []})
    assert "The corpus is empty" in render_corpus_facts(empty)
    unnamed = stats.model_copy(update={"sources": [("Khmer Times", 1), ("", 53)]})
    assert "sources: Khmer Times (1), (no source) (53) ·" in _visible_text(render_corpus_facts(unnamed))
    damaged = stats.model_copy(
        update={
            "warning": "snap-000002/chunks.faiss is 10 bytes, the manifest recorded 20; …",
            "updated_at": "2021-06-14",
        }
    )
    shown = _visible_text(render_corpus_facts(damaged))
    assert "newest index snapshot is damaged" in shown and "qa repair" in shown and "(updated 2021-06-14)" in shown
    assert "chunks.faiss" not in shown, "no file on the server is named to visitors"


def test_ingest_result_names_each_problem_by_the_uploaded_file() -> None:
    report = IngestReport(
        added=["a1"], problems=[Problem(path="/tmp/gradio/3f9a/broken.json", line=2, reason="not valid JSON")]
    )
    html = render_ingest_result(
        report, ["notes.pdf: '.pdf' files are not supported"], {"/tmp/gradio/3f9a/broken.json": "broken.json"}
    )
    text = _visible_text(html)
    assert "1 added, 0 updated, 0 unchanged, 1 skipped" in text
    assert "Skipped broken.json line 2: not valid JSON" in text
    assert "/tmp/gradio" not in text
    assert "Refused notes.pdf: '.pdf' files are not supported" in text
    assert "Choose one or more files" in render_ingest_result(None, [])


def test_each_citation_says_in_words_how_sure_the_answer_is() -> None:
    for score, words in ((0.81, "likely answer (81%)"), (0.55, "possible answer (55%)"), (0.19, "uncertain")):
        reply = render_answer(_answer(_sentence().model_copy(update={"score": score})))
        assert words in _visible_text(reply)
        assert "estimate that this sentence answers the question" in reply


def test_citations_and_the_sources_panel_show_the_articles_metadata() -> None:
    from index.models import Article
    from qa.models import Answer, AnswerType, Citation, CitedSentence
    from ui.render import render_answer, render_article

    text = "The harbour ferry strike ended on Tuesday. Services resume on Wednesday."
    citation = Citation(
        article_id="a1", title="Ferry strike ends", source="Harbour Gazette", date="2022-05-03", sentence_number=0,
        start=0, end=42, fields={"category": "business", "tags": "ferry, strike"},
    )  # fmt: skip
    sentence = CitedSentence(text=text[:42], score=0.9, citation=citation)
    answer = Answer(
        question="when did the strike end?", understood_question="when did the strike end?",
        answer_type=AnswerType.DATE, found=True, sentences=[sentence],
    )  # fmt: skip
    assert "· category: business · tags: ferry, strike" in render_answer(answer)
    article = Article(
        id="a1", title="Ferry strike ends", text=text, source="Harbour Gazette", date="2022-05-03",
        author="Jane Roe", fields={"category": "business"},
    )  # fmt: skip
    panel = render_article(article, sentence)
    assert "by Jane Roe · Harbour Gazette · 2022-05-03 · sentence 1 · category: business" in panel


def test_field_list_names_each_field_with_its_values_escaped() -> None:
    listed = render_field_list({"category": ["business", "sport"], "desk": ["<b>x</b>", "a", "b", "c", "d"]})
    assert _visible_text(listed) == (
        "Fields in the corpus, with some of their values:category: business, sportdesk: <b>x</b>, a, b, c, d, …"
    )
    assert "<b>x</b>" not in listed  # values are corpus text: escaped
    assert "no metadata fields to filter on" in render_field_list({})


def test_active_filters_line_names_what_every_question_is_searched_with() -> None:
    line = render_active_filters(["Port News", "Khmer Times"], " 2021-04-01", "", "category=sport;\n section=x")
    assert _visible_text(line) == (
        "Searching only: Port News, Khmer Times · from 2021-04-01 · category=sport; section=x (set in Filters)"
    )
    assert render_active_filters([], " ", "", "") == ""
