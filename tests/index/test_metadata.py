"""Metadata kept as metadata: every extra scalar field of a JSON record, a field mapping for feeds whose names
differ, Markdown/text front matter and header lines, and HTML bylines and <meta> tags, none of them left as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.ingest.prepare import content_hash, to_article
from index.readers import RawArticle, read_inputs
from index.readers.json_records import parse_field_map
from index.readers.metadata import Metadata, split_byline, split_front_matter
from index.text.dates import normalize_date

BODY = (
    "The harbour ferry strike ended on Tuesday after workers accepted a 4 per cent pay rise, the union said. "
    "Services resume on Wednesday morning with a full timetable."
)


def _read(path: Path, **kwargs: object) -> list[RawArticle]:
    found = list(read_inputs([path], **kwargs))  # type: ignore[arg-type]
    assert all(isinstance(f, RawArticle) for f in found), found
    return found  # type: ignore[return-value]


def test_every_extra_scalar_field_of_a_json_record_is_kept(tmp_path: Path) -> None:
    record = {
        "id": "bbc-001", "title": "Ferry strike ends", "text": BODY, "date": "2022-05-03", "source": "BBC",
        "category": "business", "section": "Transport", "tags": ["ferry", "strike"], "language": "en",
        "word_count": 812, "breaking": False, "editor": {"name": "nested objects are not metadata"}, "empty": "",
    }  # fmt: skip
    feed = tmp_path / "bbc.jsonl"
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (article,) = _read(feed)
    assert article.fields == {
        "category": "business", "section": "Transport", "tags": "ferry, strike", "language": "en",
        "word_count": "812", "breaking": "false",
    }  # fmt: skip
    assert article.title == "Ferry strike ends" and article.source == "BBC" and article.id == "bbc-001"
    assert "business" not in article.text


def test_a_field_mapping_reads_feeds_whose_names_differ(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(
        json.dumps([{"headline_text": "Ferry strike ends", "pub_time": "3 May 2022", "body": BODY, "desk": "x"}]),
        encoding="utf-8",
    )
    (plain,) = _read(feed)
    assert plain.title == "" and plain.date is None and plain.fields["headline_text"] == "Ferry strike ends"
    mapping = parse_field_map(["title=headline_text", "date=pub_time"])
    (mapped,) = _read(feed, field_map=mapping)
    assert mapped.title == "Ferry strike ends" and mapped.date == "2022-05-03"
    assert mapped.fields == {"desk": "x"}  # the renamed fields are not kept twice


@pytest.mark.parametrize("item", ["title", "=headline", "title=", "title:headline"])
def test_a_malformed_field_mapping_says_how_to_write_it(item: str) -> None:
    with pytest.raises(ValueError, match="write FIELD=NAME"):
        parse_field_map([item])


def test_markdown_header_lines_are_metadata_not_text(tmp_path: Path) -> None:
    page = tmp_path / "strike.md"
    page.write_text(
        f"Source: Harbour Gazette\nDate: 3 May 2022\nCategory: business\n\n# Ferry strike ends\n\n{BODY}\n",
        encoding="utf-8",
    )
    (article,) = _read(page)
    assert (article.source, article.date, article.title) == ("Harbour Gazette", "2022-05-03", "Ferry strike ends")
    assert article.fields == {"category": "business"}
    assert article.text.startswith("The harbour ferry strike ended") and "Source:" not in article.text


def test_yaml_front_matter_is_metadata_not_text(tmp_path: Path) -> None:
    page = tmp_path / "strike.md"
    page.write_text(
        '---\ntitle: "Ferry strike ends"\nauthor: Jane Roe\ndate: 2022-05-03\ntags: [ferry, strike]\n'
        f"section:\n  - Transport\n  - Local\n---\n\n{BODY}\n",
        encoding="utf-8",
    )
    (article,) = _read(page)
    assert (article.title, article.author, article.date) == ("Ferry strike ends", "Jane Roe", "2022-05-03")
    assert article.fields == {"tags": "ferry, strike", "section": "Transport, Local"}
    assert article.text == BODY


def test_text_that_only_looks_like_a_header_stays_text() -> None:
    text = "Note: the figures below are provisional.\n\nThe harbour ferry carried 41,200 passengers."
    assert split_front_matter(text) == ({}, text)  # "note" names no known field
    assert split_front_matter("---\nnot: [a\n  bad yaml line\n---\nBody.")[0] == {}


def test_an_html_byline_and_meta_tags_become_metadata(tmp_path: Path) -> None:
    page = tmp_path / "strike.html"
    page.write_text(
        '<html><head><title>Ferry strike ends</title><meta name="keywords" content="ferry, strike">'
        '<meta property="article:section" content="Business"></head><body><article><h1>Ferry strike ends</h1>'
        f"<p>By Jane Roe, Harbour Gazette, 3 May 2022</p><p>{BODY}</p></article></body></html>",
        encoding="utf-8",
    )
    (article,) = _read(page)
    assert (article.author, article.source, article.date) == ("Jane Roe", "Harbour Gazette", "2022-05-03")
    assert article.text.startswith("The harbour ferry strike ended")  # sentence 1 is the story, not the byline
    assert article.fields == {"category": "Business", "tags": "ferry, strike"}


def test_a_text_files_byline_becomes_metadata(tmp_path: Path) -> None:
    page = tmp_path / "strike.txt"
    page.write_text(f"Ferry strike ends\n\nBy Jane Roe | Harbour Gazette | May 3, 2022\n\n{BODY}\n", encoding="utf-8")
    (article,) = _read(page)
    assert (article.author, article.source, article.date) == ("Jane Roe", "Harbour Gazette", "2022-05-03")
    assert article.text == BODY


@pytest.mark.parametrize(
    "line",
    ["By the end of the year the ferry had carried 41,200 passengers.", "By Tuesday, 3,000 had signed.", "By 2019"],
)
def test_a_sentence_starting_with_by_is_not_a_byline(line: str) -> None:
    text = f"{line}\n\n{BODY}"
    assert split_byline(text, normalize_date) == ({}, text)


def test_articles_carry_their_fields_and_metadata_changes_their_hash() -> None:
    raw = RawArticle(title="Ferry strike ends", text=BODY, origin="x.jsonl:1")
    assert to_article(raw).fields == {} and to_article(raw).content_hash == content_hash(raw.title, raw.text)
    tagged = to_article(raw.model_copy(update={"fields": {"category": "business"}}))
    assert tagged.fields == {"category": "business"} and tagged.content_hash != to_article(raw).content_hash
    assert Metadata.from_pairs({"Category": "business", "Published": "2022-05-03"}).date == "2022-05-03"


def test_an_articles_fields_reach_its_citation(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from newsqa.settings import Settings
    from qa.assistant import Assistant

    feed = tmp_path / "bbc.jsonl"
    record = {"id": "bbc-001", "title": "Ferry strike ends", "text": BODY, "category": "business"}
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"), encoder=encoder)
    assistant.ingest([feed], show_progress=False)
    answer = assistant.answer("What pay rise did the ferry workers accept?")
    assert answer.found and answer.sentences[0].citation.fields == {"category": "business"}


def test_a_fields_filter_speaks_the_storage_interface() -> None:
    from index.storage.api import Filter
    from qa.models import SearchFilter

    narrowed = SearchFilter(sources=["BBC"], fields={"section": "Transport", "category": "business"})
    assert narrowed.to_storage_filter() == Filter(
        sources=("BBC",), fields=(("category", "business"), ("section", "Transport"))
    )


def test_a_fields_filter_nothing_matches_answers_nothing_rather_than_ignore_it(seed_assistant, capsys) -> None:  # type: ignore[no-untyped-def]
    from cli import main
    from qa.models import SearchFilter

    question = "how many kilograms were seized in 2019?"
    assert seed_assistant.answer(question).found  # answerable without the filter
    narrowed = seed_assistant.answer(question, search_filter=SearchFilter(fields={"category": "business"}))
    assert not narrowed.found and narrowed.sentences == []
    index = ["--index-dir", str(seed_assistant.index_dir)]
    assert main(["ask", question, "--where", "category=business", *index]) == 3  # not found, not an error
    capsys.readouterr()
    assert main(["ask", question, "--where", "category", *index]) == 2
    assert "--where takes FIELD=VALUE" in capsys.readouterr().err


def test_an_index_that_cannot_filter_on_fields_refuses_such_a_filter(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    from qa.assistant import filters_on_fields
    from qa.models import SearchFilter

    assert filters_on_fields(seed_assistant.store)
    store = seed_assistant.store
    try:
        seed_assistant._store = _WithoutFields(store)
        with pytest.raises(ValueError, match=r"cannot filter on metadata \(category=business\)"):
            seed_assistant.answer(
                "how many kilograms were seized?", search_filter=SearchFilter(fields={"category": "business"})
            )
    finally:
        seed_assistant._store = store


class _WithoutFields:
    """A store view that says it keeps no metadata fields (as an index written before they were stored)."""

    filters_on_fields = False

    def __init__(self, store: object) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_answers_can_be_restricted_to_a_category(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from newsqa.settings import Settings
    from qa.assistant import Assistant
    from qa.models import SearchFilter

    feed = tmp_path / "bbc.jsonl"
    records = [
        {"id": "business-1", "category": "business",
         "text": "The ferry company said 41,200 passengers travelled in February."},
        {"id": "sport-1", "category": "sport",
         "text": "The rowing club said 900 spectators watched the race in February."},
    ]  # fmt: skip
    feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"), encoder=encoder)
    assistant.ingest([feed], show_progress=False)
    answer = assistant.answer(
        "How many people were there in February?", search_filter=SearchFilter(fields={"category": "sport"})
    )
    assert answer.found and {s.citation.article_id for s in answer.sentences} == {"sport-1"}
