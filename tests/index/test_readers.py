"""read_inputs: every supported format comes out as articles, every broken input as a Problem naming it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.models import Problem, printable
from index.readers import (
    DEFAULT_MAX_BYTES,
    READERS,
    SUPPORTED_SUFFIXES,
    FormatReader,
    RawArticle,
    iter_input_files,
    read_inputs,
    reader_for,
    registry,
)
from index.text.dates import normalize_date
from newsqa.paths import CORPUS_DIR
from newsqa.settings import Settings

DATA = Path(__file__).parent / "data"
SEED = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"

STORY = (
    "The river through the old town rose by almost two metres on Saturday, the water authority said.\n\n"
    "Officials closed the lower bridge to traffic as a precaution."
)


def read(*paths: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[RawArticle], list[Problem]]:
    articles: list[RawArticle] = []
    problems: list[Problem] = []
    for item in read_inputs(list(paths), max_bytes):
        if isinstance(item, Problem):
            problems.append(item)
        else:
            articles.append(item)
    return articles, problems


def only_problem(path: Path) -> Problem:
    items = list(read_inputs([path]))
    assert len(items) == 1 and isinstance(items[0], Problem), items
    return items[0]


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path


def test_default_size_limit_is_the_settings_default() -> None:
    assert DEFAULT_MAX_BYTES == Settings().index.max_file_bytes == 20 * 1024 * 1024


# --- formats -------------------------------------------------------------------------------------


def test_txt_file_is_one_cleaned_article(tmp_path: Path) -> None:
    path = shutil.copy(SEED, tmp_path / SEED.name)

    [article], problems = read(Path(path))

    assert problems == []
    assert article.title == "Sar Kheng cautions against freeing suspects in minor drug crimes"
    assert (article.author, article.source) == ("Taing Vida", "Khmer Times")
    assert article.text.startswith("Interior Minister Sar Kheng has warned")
    assert "Next Article" not in article.text
    assert article.origin == str(path)
    assert article.id is None and article.date is None


def test_txt_without_a_headline_is_titled_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "central-bank_rates.txt"
    path.write_text("The central bank held its key rate on Thursday.\n\nMarkets barely moved.", encoding="utf-8")

    [article], _ = read(path)

    assert article.title == "central bank rates"
    assert article.text == "The central bank held its key rate on Thursday.\n\nMarkets barely moved."


def test_markdown_heading_is_the_title_and_links_become_their_text(tmp_path: Path) -> None:
    path = tmp_path / "floods.md"
    path.write_text(
        "# Floods hit coastal towns?\n"
        "Heavy rain flooded three towns overnight, the [weather service](https://weather.example) said.\n\n"
        "## Rescue\n\n"
        "Teams evacuated 40 people, officials said.\n",
        encoding="utf-8",
    )

    [article], problems = read(path)

    assert problems == []
    assert article.title == "Floods hit coastal towns?"
    assert article.text == (
        "Heavy rain flooded three towns overnight, the weather service said.\n\n"
        "Rescue\n\n"
        "Teams evacuated 40 people, officials said."
    )


def test_html_file_gives_its_story_and_metadata(tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "valley-gazette-river-levels.html", tmp_path / "river.htm"))

    [article], problems = read(path)

    assert problems == []
    assert article.title == "River levels rise after week of rain"
    assert article.author == "Maria Lopez"
    assert article.source == "Valley Gazette"
    assert article.date == "2021-03-14"
    assert article.url == "https://valleygazette.example/news/river-levels-rise"
    assert article.text.startswith("The river through the old town rose")
    assert "Subscribe" not in article.text and "rights reserved" not in article.text
    assert article.origin == str(path)


def test_json_single_object_with_every_field(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "one.json",
        {
            "headline": "  River   levels rise ",
            "body": STORY + "\n\nPrevious Article\n\nCouncil approves budget",
            "published_at": "2021-03-14T08:30:00Z",
            "link": "https://valleygazette.example/river",
            "publisher": {"id": "vg", "name": "Valley Gazette"},
            "authors": ["Maria Lopez", "Tomas Berg"],
            "article_id": 1234,
        },
    )

    [article], problems = read(path)

    assert problems == []
    assert article == RawArticle(
        title="River levels rise",
        text=STORY,
        date="2021-03-14",
        url="https://valleygazette.example/river",
        source="Valley Gazette",
        author="Maria Lopez, Tomas Berg",
        id="1234",
        origin=str(path),
    )


def test_json_body_keeps_bylines_and_short_first_lines(tmp_path: Path) -> None:
    # JSON bodies are already extracted: only whitespace and trailing teasers are touched.
    body = "By Jane Doe / Daily Planet\n\nRates on hold\n\nThe bank held its key rate."
    path = write_json(tmp_path / "one.json", {"title": "Rates", "text": body})

    [article], _ = read(path)

    assert article.text == body


def test_json_list_reads_each_item_and_reports_the_bad_one(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "list.json",
        [
            {"title": "First", "text": "First story body.", "date": "07 Jan 2020", "id": "a1"},
            {"title": "No body", "date": "2020-01-08", "content": "   "},
            {"title": "Third", "content": "Third story body.", "date": "January 9, 2020"},
            "not an object",
        ],
    )

    items = list(read_inputs([path]))

    assert [type(item).__name__ for item in items] == ["RawArticle", "Problem", "RawArticle", "Problem"]
    first, missing, third, wrong = items
    assert isinstance(first, RawArticle) and isinstance(third, RawArticle)
    assert (first.title, first.text, first.date, first.id) == ("First", "First story body.", "2020-01-07", "a1")
    assert (third.title, third.date, third.id) == ("Third", "2020-01-09", None)
    assert first.origin == f"{path}:2" and third.origin == f"{path}:13"
    assert missing == Problem(
        path=str(path),
        line=8,
        reason="item 1 of the list has no text: no non-empty text/body/content/article field "
        "(fields: content, date, title)",
    )
    assert isinstance(wrong, Problem) and wrong.line == 18
    assert "item 3 of the list is a JSON string, expected an object" in wrong.reason


def test_jsonl_reads_one_article_per_line_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [
        {"title": "Reuters style", "body": "Cocoa prices rose.", "date": "26-FEB-1987 15:01:11.79", "doc_id": 5},
        {"title": "Undated", "article": "Second body.", "date": "sometime in spring", "byline": "Ann Lee"},
    ]
    path.write_text(f"{json.dumps(records[0])}\n\n{json.dumps(records[1])}\n", encoding="utf-8")

    articles, problems = read(path)

    assert problems == []
    assert [(a.title, a.text, a.date, a.id, a.author, a.origin) for a in articles] == [
        ("Reuters style", "Cocoa prices rose.", "1987-02-26", "5", None, f"{path}:1"),
        ("Undated", "Second body.", None, None, "Ann Lee", f"{path}:3"),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2020-01-07", "2020-01-07"),
        ("2020-01-07T10:15:00+07:00", "2020-01-07"),
        ("07 Jan 2020", "2020-01-07"),
        ("Tue, 07 Jan 2020 10:15:00 GMT", "2020-01-07"),
        ("26-FEB-1987 15:01:11.79", "1987-02-26"),
        ("January 7, 2020", "2020-01-07"),
        ("Sept. 3, 2021", "2021-09-03"),
        ("07/01/2020", None),  # day-month or month-day: ambiguous
        ("2020-02-30", None),
        ("next Monday", None),
        (1578355200, None),
    ],
)
def test_dates_are_normalised_to_iso(given: object, expected: str | None) -> None:
    assert normalize_date(given) == expected


# --- broken inputs -------------------------------------------------------------------------------


def test_invalid_utf8_names_the_line_and_byte_and_other_files_still_come(tmp_path: Path) -> None:
    bad = tmp_path / "a-latin1.txt"
    bad.write_bytes("First line is fine.\n\nCaf\u00e9 au lait, said the mayor.".encode("latin-1"))
    good = tmp_path / "b-good.txt"
    good.write_text("A good story.", encoding="utf-8")

    articles, problems = read(tmp_path)

    assert [a.origin for a in articles] == [str(good)]
    [problem] = problems
    assert (problem.path, problem.line) == (str(bad), 3)
    assert problem.reason == ("not valid UTF-8 (byte 0xe9 at byte 24 of the file, column 4); save the file as UTF-8")


def test_invalid_utf8_in_jsonl_costs_only_that_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        b'{"title": "one", "text": "First."}\n'
        + '{"title": "two", "text": "Caf\u00e9."}\n'.encode("latin-1")
        + b'{"title": "three", "text": "Third."}\n'
    )

    articles, problems = read(path)

    assert [a.title for a in articles] == ["one", "three"]
    [problem] = problems
    assert problem.line == 2
    data = path.read_bytes()
    at = data.index(b"\xe9")
    column = at - data.rindex(b"\n", 0, at)
    assert problem.reason.startswith(f"not valid UTF-8 (byte 0xe9 at byte {at} of the file, column {column})")


def test_bad_json_line_is_reported_and_the_good_lines_still_come(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"title": "one", "text": "First."}\n'
        '{"title": "two", "text": "Second."\n'
        '{"title": "three", "text": "Third."}\n'
        '{"title": "four"}\n',
        encoding="utf-8",
    )

    articles, problems = read(path)

    assert [a.title for a in articles] == ["one", "three"]
    assert [(p.path, p.line) for p in problems] == [(str(path), 2), (str(path), 4)]
    assert problems[0].reason.startswith("not valid JSON (Expecting ',' delimiter")
    assert "no text" in problems[1].reason


def test_broken_json_file_keeps_the_items_before_the_error(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(
        '[\n  {"title": "one", "text": "First."},\n  {"title": "two" "text": "Second."}\n]\n', encoding="utf-8"
    )

    articles, problems = read(path)

    assert [a.title for a in articles] == ["one"]
    [problem] = problems
    assert problem.line == 3 and problem.reason.startswith("not valid JSON (Expecting ',' delimiter")


def test_json_object_without_text(tmp_path: Path) -> None:
    path = write_json(tmp_path / "one.json", {"title": "Only a title", "url": "https://example.org"})

    problem = only_problem(path)

    assert problem == Problem(
        path=str(path),
        reason="the JSON object has no text: no non-empty text/body/content/article field (fields: title, url)",
    )


@pytest.mark.parametrize("name", ["empty.txt", "empty.json", "empty.jsonl", "empty.html"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(" \n\n", encoding="utf-8")

    assert list(read_inputs([path])) == [Problem(path=str(path), reason="empty file")]


def test_binary_file_with_a_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    problem = only_problem(path)

    assert problem.path == str(path)
    assert "binary file" in problem.reason


def test_file_over_a_small_limit_is_skipped_with_a_fix(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("A sentence of the story. " * 100, encoding="utf-8")  # 2,500 bytes
    small = tmp_path / "small.txt"
    small.write_text("A short story.", encoding="utf-8")

    articles, problems = read(big, small, max_bytes=2048)

    assert [a.origin for a in articles] == [str(small)]
    assert problems == [
        Problem(
            path=str(big),
            reason="2.4 KiB is over the 2 KiB limit; split the file or raise QA_MAX_FILE_BYTES",
        )
    ]


def test_real_50_mib_file_is_over_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    line = json.dumps({"title": "t", "text": "x" * 1000}).encode() + b"\n"
    with path.open("wb") as handle:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    assert path.stat().st_size > 50 * 1024 * 1024

    problem = only_problem(path)

    assert problem.path == str(path)
    assert problem.reason.endswith("is over the 20 MiB limit; split the file or raise QA_MAX_FILE_BYTES")
    assert problem.reason.startswith("50.0 MiB")


def test_missing_path_is_a_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "story.txt"
    good = tmp_path / "good.txt"
    good.write_text("A good story.", encoding="utf-8")

    items = list(read_inputs([missing, good]))

    assert items[0] == Problem(path=str(missing), reason="no such file or folder")
    assert isinstance(items[1], RawArticle) and items[1].origin == str(good)
    assert list(iter_input_files([missing])) == []


def test_dangling_symlink_is_reported_as_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "deleted.txt")

    problem = only_problem(tmp_path)

    assert problem.path == str(link)
    assert problem.reason.startswith("cannot read the file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("A story.", encoding="utf-8")
    path.chmod(0)

    assert list(read_inputs([path])) == [
        Problem(path=str(path), reason="permission denied; check the file's permissions")
    ]


def test_named_file_of_unsupported_type_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "scan.odt"
    path.write_bytes(b"PK\x03\x04")

    problem = only_problem(path)

    assert problem.path == str(path) and "unsupported file type '.odt'" in problem.reason


# --- folders -------------------------------------------------------------------------------------


def test_folder_recursion_is_sorted_and_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    for relative in [
        "b.txt",
        "a.json",
        "sub/c.md",
        "sub/deeper/d.jsonl",
        "sub/page.HTML",
        "notes.odt",
        "image.png",
        ".hidden.txt",
        ".git/config.json",
        "sub/.cache/e.txt",
    ]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")

    files = list(iter_input_files([tmp_path, tmp_path / "b.txt"]))

    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a.json",
        "b.txt",
        "sub/c.md",
        "sub/deeper/d.jsonl",
        "sub/page.HTML",
    ]


def test_a_record_without_a_source_is_credited_to_its_sites_name(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [
        {"title": "Floods", "text": STORY, "url": "https://www.reuters.com/world/floods-2019"},
        {"title": "Floods", "text": STORY + " More.", "url": "https://example.org/a", "source": "Example News"},
        {"title": "Floods", "text": STORY + " Again.", "url": "not a web address"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    articles, problems = read(path)
    assert not problems
    assert [a.source for a in articles] == ["reuters.com", "Example News", None]


def test_json_nested_too_deeply_costs_only_that_file_or_line(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.json").write_text(deep, encoding="utf-8")
    good = {"title": "Floods", "text": STORY}
    (tmp_path / "feed.jsonl").write_text(json.dumps(good) + "\n" + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    articles, problems = read(tmp_path)
    assert len(articles) == 2  # the JSONL's good line and the text file
    assert sorted((Path(p.path).name, p.line) for p in problems) == [("deep.json", None), ("feed.jsonl", 2)]
    assert all("nested too deeply" in p.reason for p in problems)


def test_a_symlink_loop_costs_only_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    articles, problems = read(tmp_path)
    assert len(articles) == 1
    assert sorted(Path(p.path).name for p in problems) == ["a.txt", "b.txt"]


def test_a_file_of_page_furniture_only_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "footer.txt").write_text("Subscribe to our newsletter\n\nFacebook Twitter\n", encoding="utf-8")
    (tmp_path / "feed.jsonl").write_text(
        json.dumps({"title": "x", "text": "Read more | Share"}) + "\n" + json.dumps({"text": "Police seized 720 kg."}),
        encoding="utf-8",
    )
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    articles, problems = read(tmp_path)
    assert sorted(a.text for a in articles) == sorted([STORY, "Police seized 720 kg."])
    assert sorted((Path(p.path).name, p.line) for p in problems) == [("feed.jsonl", 1), ("footer.txt", None)]
    assert all("no sentence of article text" in p.reason for p in problems)


# --- special files, links out of the folder, unlistable folders, names that are not printable ---------------------


def _read_in_thread(*paths: Path, follow_symlinks: bool = False) -> tuple[list[RawArticle], list[Problem]]:
    """`read`, but failing the test (instead of hanging it) if reading blocks for more than 10 s."""
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(list(read_inputs(list(paths), follow_symlinks=follow_symlinks))), daemon=True
    )
    worker.start()
    worker.join(10)
    assert result, "reading blocked"
    items = result[0]
    assert isinstance(items, list)
    return [i for i in items if isinstance(i, RawArticle)], [i for i in items if isinstance(i, Problem)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_or_a_device_with_a_text_suffix_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.txt")  # nobody ever writes to it: opening it for reading would wait forever
    (tmp_path / "null.txt").symlink_to("/dev/null")
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    articles, problems = _read_in_thread(tmp_path, follow_symlinks=True)
    assert [Path(a.origin).name for a in articles] == ["story.txt"]
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert reasons == {
        "null.txt": "a character device, not a file of text",
        "x.txt": "a named pipe (FIFO), not a file of text",
    }
    assert only_problem(tmp_path / "x.txt").reason == "a named pipe (FIFO), not a file of text"  # named directly


def test_links_leading_out_of_the_folder_are_skipped_unless_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nThe password is swordfish, the admin said.", encoding="utf-8")
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    (folder / "story.txt").write_text(STORY, encoding="utf-8")
    (folder / "sub" / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "sub" / "elsewhere").symlink_to(outside)
    (folder / "sub" / "z-same.txt").symlink_to(folder / "story.txt")  # inside the folder: read, once
    (folder / "loop").symlink_to(folder)  # inside too, and entered once

    articles, problems = _read_in_thread(folder)
    assert [Path(a.origin).name for a in articles] == ["story.txt"]
    assert sorted((Path(p.path).name, p.reason) for p in problems) == [
        ("elsewhere", f"a symbolic link to {outside}, outside {folder}; qa ingest --follow-symlinks reads it"),
        (
            "secret.txt",
            f"a symbolic link to {outside / 'secret.txt'}, outside {folder}; qa ingest --follow-symlinks reads it",
        ),
    ]
    articles, problems = _read_in_thread(folder, follow_symlinks=True)
    assert sorted(Path(a.origin).name for a in articles) == ["secret.txt", "story.txt"] and not problems
    assert [p.name for p in iter_input_files([folder])] == ["story.txt"]


def test_a_folder_that_cannot_be_listed_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "story.txt").write_text(STORY, encoding="utf-8")
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self.name == "locked":  # what /proc/1/fd gives a process without the right to trace pid 1
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    articles, problems = read(tmp_path)
    assert len(articles) == 1
    assert [str(p) for p in problems] == [f"{tmp_path / 'locked'}: permission denied; the folder cannot be listed"]


def test_qa_ingest_of_proc_reports_per_file_without_a_traceback(tmp_path: Path) -> None:
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "QA_INDEX_DIR": str(tmp_path / "i")}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", "/proc/self", "/proc/1"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "skipped" in done.stdout


def test_control_characters_in_a_file_name_are_printed_escaped(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b]0;pwned\x07\x1b[31m\nname.txt"
    path.write_text("", encoding="utf-8")
    (problem,) = read(path)[1]
    shown = str(problem)
    assert "\x1b" not in shown and "\n" not in shown and "\x07" not in shown
    assert "bad\\x1b]0;pwned\\x07\\x1b[31m\\nname.txt: empty file" in shown
    assert printable("a\u202eb\tc") == "a\\u202eb\\tc"


def test_an_html_page_with_more_tags_than_any_article_page_is_skipped_quickly(tmp_path: Path) -> None:
    path = tmp_path / "dom.html"
    path.write_text(
        "<html><body><article>" + "<p>lorem ipsum dolor sit amet.</p>" * 30_000 + "</article></body></html>"
    )
    started = time.perf_counter()
    problem = only_problem(path)
    assert time.perf_counter() - started < 2, "refused before the HTML is parsed"
    assert problem.reason.startswith("an HTML page of 60,006 tags, more than an article page has")
    assert problem.reason.endswith("(the limit is 50,000); save the article's text as .txt")


def test_every_supported_suffix_has_the_reader_of_its_format() -> None:
    by_module = {
        ".txt": "plain_text", ".md": "plain_text", ".html": "html_page", ".htm": "html_page",
        ".json": "json_records", ".jsonl": "json_records", ".pdf": "pdf_document", ".docx": "word_document",
    }  # fmt: skip
    assert set(by_module) == SUPPORTED_SUFFIXES == {s for reader in READERS for s in reader.suffixes}
    for suffix, module in by_module.items():
        for name in (f"story{suffix}", f"STORY{suffix.upper()}"):
            reader = reader_for(Path(name))
            assert reader is not None and reader.read.__module__ == f"index.readers.{module}", name
    assert reader_for(Path("story.csv")) is None and reader_for(Path("README")) is None


def test_a_new_format_is_read_once_its_reader_is_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_note(path: Path, data: bytes, field_map: object = None) -> Iterator[RawArticle | Problem]:
        title, _, body = data.decode().partition("\n")
        yield RawArticle(title=title, text=body.strip(), origin=str(path))

    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.note").write_text("Ferry news\n" + STORY, encoding="utf-8")
    (folder / "b.txt").write_text(STORY, encoding="utf-8")
    assert [p.name for p in iter_input_files([folder])] == ["b.txt"]  # not a format yet: left out of folders

    monkeypatch.setitem(registry._BY_SUFFIX, ".note", FormatReader("note", frozenset({".note"}), read_note))
    articles, problems = read(folder)
    assert problems == []
    assert [Path(a.origin).name for a in articles] == ["a.note", "b.txt"]
    assert (articles[0].title, articles[0].text) == ("Ferry news", STORY)
