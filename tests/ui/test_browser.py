"""End to end: the real web chat served on a free port, driven by Debian's headless Chromium.

Asks the seed question, a follow-up and an off-corpus question, opens the cited article in the sources panel,
uploads an article (plus a broken and an oversized file) while checking that the chat still answers during the
ingest, then asks what only the new article can answer. Saves screenshots (paths printed; the main one is also
copied to /tmp/newsqa-chat.png) and checks that the page made no request off this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.server import HARBOUR_QUESTION, free_port, harbour_assistant

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOT_COPY = Path("/tmp/newsqa-chat.png")
SEED_QUESTION = "how many kilograms were seized in 2019?"
SEED_SENTENCE = (
    "A total of 720 kilogrammes of illicit drugs and 99.97 kilogrammes of dried marijuana as well as 94,441 "
    "marijuana plants were confiscated during raids in 2019."
)
SEED_TITLE = "Sar Kheng cautions against freeing suspects in minor drug crimes"
FOLLOW_UP = "and how many marijuana plants?"
OFF_CORPUS = "What is the capital of France?"
UPLOAD_TITLE = "Lighthouse keeper rescues four kayakers off Brannock Point"
UPLOAD_ARTICLE = {
    "title": UPLOAD_TITLE,
    "source": "Harbour Gazette",
    "date": "2021-06-14",
    "url": "https://example.org/harbour-gazette/lighthouse-rescue",
    "text": (
        "The volunteer keeper of the Brannock Point lighthouse rescued four kayakers on Saturday after a sudden "
        "squall capsized their boats.\n\nEdna Marlowe, who has kept the lighthouse for 23 years, rowed out in the "
        "station's dinghy and pulled the kayakers from the water one by one.\n\nThe coastguard said the water "
        "temperature was 11 degrees Celsius and that all four kayakers were treated for mild hypothermia."
    ),
}
UPLOAD_QUESTION = "How long has Edna Marlowe kept the lighthouse?"
UPLOAD_SENTENCE = "Edna Marlowe, who has kept the lighthouse for 23 years"
TIMEOUT_MS = 30_000
UPLOAD_LIMIT = 8192  # bytes per uploaded file; the bundled article (3 KB) is well under it


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    return CHROMIUM


@pytest.fixture
def upload_gate(encoder, settings_factory) -> Iterator[tuple[Any, threading.Event]]:  # type: ignore[no-untyped-def]
    """A fresh assistant over the bundled corpus whose uploads wait at a gate until the test opens it."""
    from qa.assistant import Assistant

    assistant = Assistant(settings_factory(max_file_bytes=UPLOAD_LIMIT), encoder=encoder)
    gate = threading.Event()
    ingest = assistant.ingest

    def gated_ingest(*args: Any, **kwargs: Any) -> Any:
        gate.wait(timeout=60)
        return ingest(*args, **kwargs)

    assistant.ingest = gated_ingest  # type: ignore[method-assign]
    yield assistant, gate
    gate.set()


def _asker(page: Any) -> Callable[[str, int], Any]:
    """ask(question, count): types the question into the chat, sends it, waits for reply `count` and returns it."""
    from playwright.sync_api import expect

    box = page.locator("#qa-question textarea")
    replies = page.locator("#qa-chat .qa-reply")

    def ask(question: str, count: int) -> Any:
        box.fill(question)
        box.press("Enter")
        expect(replies).to_have_count(count)
        return replies.nth(count - 1)

    return ask


def test_chat_in_a_real_browser(chromium_path: Path, upload_gate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    from ui.app import build_app, launch

    assistant, gate = upload_gate
    first = assistant.answer(SEED_QUESTION)
    expected_follow_up = assistant.answer(FOLLOW_UP, history=[first])
    assert first.found and first.sentences[0].text == SEED_SENTENCE
    assert expected_follow_up.found

    app = build_app(assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    base = url.rstrip("/")
    off_machine: list[str] = []
    started = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.on(
                "request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else off_machine.append(r.url)
            )
            page.goto(url)

            # Start screen: corpus facts and example questions drawn from the bundled corpus.
            expect(page.locator("#qa-facts")).to_contain_text("1 article")
            expect(page.locator("#qa-facts")).to_contain_text("Khmer Times")
            expect(page.locator("#qa-chat")).to_contain_text("How many suspects were arrested last year?")

            replies = page.locator("#qa-chat .qa-reply")
            ask = _asker(page)

            # 1. The seed question: the 720 kilogrammes sentence, its span marked, its numbered citation.
            reply = ask(SEED_QUESTION, 1)
            expect(reply.locator(".qa-sentence").first).to_contain_text(SEED_SENTENCE)
            span = first.sentences[0].span
            assert span is not None
            expect(reply.locator(".qa-sentence").first.locator("mark")).to_have_text(span.text)
            expect(reply.locator(".qa-ref").first).to_have_text("[1]")
            expect(reply.locator(".qa-citation").first).to_contain_text(f"[1] {SEED_TITLE} — Khmer Times")
            expect(reply.locator(".qa-citation").first).to_contain_text("sentence 22")
            # The sources panel opened the cited article with the sentence highlighted in context.
            expect(page.locator("#qa-citations")).to_contain_text(f"[1] {SEED_TITLE}")
            expect(page.locator("#qa-article h3")).to_have_text(SEED_TITLE)
            expect(page.locator("#qa-cited-sentence")).to_have_text(SEED_SENTENCE)
            expect(page.locator("#qa-article .qa-text")).to_contain_text("Interior Minister Sar Kheng has warned")
            expect(page.locator("#qa-cited-sentence")).to_be_in_viewport()
            page.wait_for_timeout(300)  # let the highlight scroll settle before the picture
            main_shot = tmp_path / "newsqa-chat.png"
            page.screenshot(path=str(main_shot), full_page=True)
            shutil.copyfile(main_shot, SCREENSHOT_COPY)
            print(f"\nscreenshot: {main_shot} (copied to {SCREENSHOT_COPY})")

            # 2. A follow-up, answered from the chat history; the reply shows the question it answered.
            reply = ask(FOLLOW_UP, 2)
            expect(reply.locator(".qa-sentence").first).to_contain_text(expected_follow_up.sentences[0].text)
            if expected_follow_up.rewritten:
                understood = reply.locator(".qa-understood")
                expect(understood).to_contain_text("Answering:")
                expect(understood.locator("q")).to_have_text(expected_follow_up.understood_question)
            expect(reply.locator(".qa-citation").first).to_contain_text(SEED_TITLE)

            # 3. Off the corpus: a visibly different "not found" box with no sentence in it.
            reply = ask(OFF_CORPUS, 3)
            expect(reply).to_have_class("qa-reply qa-not-found")
            expect(reply).to_contain_text("Not found in the corpus")
            expect(reply.locator(".qa-sentence")).to_have_count(0)
            expect(page.locator("#qa-article")).to_contain_text("This reply cites no article.")

            # Clicking an earlier reply brings its citations back into the sources panel.
            replies.nth(0).click()
            expect(page.locator("#qa-cited-sentence")).to_have_text(SEED_SENTENCE)

            # 4. Upload an article and a broken file; while the upload is held at the gate, the chat still answers.
            upload = tmp_path / "harbour-gazette-lighthouse.json"
            upload.write_text(json.dumps(UPLOAD_ARTICLE), encoding="utf-8")
            broken = tmp_path / "broken.json"
            broken.write_text('{"title": "broken", ', encoding="utf-8")
            too_big = tmp_path / "too-big.txt"
            too_big.write_text("Too big\n\n" + "A sentence that repeats. " * 400, encoding="utf-8")
            page.get_by_role("tab", name="Add articles").click()
            page.locator("#qa-files input[type=file]").set_input_files([str(upload), str(broken), str(too_big)])
            expect(page.locator("#qa-files tbody tr")).to_have_count(3)  # all three uploads arrived
            page.locator("#qa-add").click()
            reply = ask("How many suspects were arrested last year?", 4)
            expect(reply.locator(".qa-sentence").first).to_contain_text("20,000 suspects were arrested")
            assert not gate.is_set(), "the chat must answer while the upload is still ingesting"
            gate.set()
            result = page.locator("#qa-ingest-result")
            expect(result).to_contain_text("1 added", timeout=60_000)
            expect(result).to_contain_text("Skipped broken.json line 1: not valid JSON")
            expect(result).to_contain_text("Refused too-big.txt: 10 KiB is over the 8 KiB limit per file")
            expect(page.locator("#qa-facts")).to_contain_text("2 articles")
            expect(page.locator("#qa-facts")).to_contain_text("Harbour Gazette (1)")
            expect(page.locator("#qa-facts")).to_contain_text("2021-06-14")

            # 5. A question only the uploaded article answers.
            reply = ask(UPLOAD_QUESTION, 5)
            expect(reply.locator(".qa-sentence").first).to_contain_text(UPLOAD_SENTENCE)
            expect(reply.locator(".qa-citation").first).to_contain_text(f"[1] {UPLOAD_TITLE} — Harbour Gazette")
            page.get_by_role("tab", name="Sources").click()
            expect(page.locator("#qa-article h3")).to_have_text(UPLOAD_TITLE)
            expect(page.locator("#qa-cited-sentence")).to_contain_text(UPLOAD_SENTENCE)
            upload_shot = tmp_path / "newsqa-chat-upload.png"
            page.screenshot(path=str(upload_shot), full_page=True)
            print(f"screenshot after upload: {upload_shot}")

            # A new conversation brings back the example questions; clicking one asks it.
            page.locator("#qa-new").click()
            expect(replies).to_have_count(0)
            page.locator("#qa-chat").get_by_text("Which province got a new governor?").click()
            expect(replies).to_have_count(1)
            expect(replies.first).to_have_class("qa-reply qa-found")
            expect(page.locator("#qa-chat .qa-question")).to_have_text(["Which province got a new governor?"])
            browser.close()
    finally:
        gate.set()
        app.close()
    print(f"browser session: {time.perf_counter() - started:.1f} s")
    assert off_machine == [], f"the page fetched from outside this machine: {off_machine}"


@pytest.mark.parametrize(("width", "links"), [(390, ["Settings"]), (1400, ["Use via API", "Settings"])])
def test_footer_has_no_dangling_separator(chromium_path: Path, seed_assistant, width: int, links: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Gradio hides "Use via API" on a phone-wide window but not the "·" after it; the page hides that one too."""
    from playwright.sync_api import expect, sync_playwright

    from ui.app import build_app, launch

    app = build_app(seed_assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 844})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            footer = page.locator("footer")
            expect(footer.get_by_text("Settings")).to_be_visible()
            text = footer.inner_text()  # only what is shown
            parts = [part.strip() for part in text.split("·")]
            assert all(parts), f"dangling separator in the footer at {width} px: {text!r}"
            assert parts == links
            browser.close()
    finally:
        app.close()


FERRY_REPORTS = [
    {"id": "ferry-feb", "date": "2021-03-04", "title": "Harbour ferry traffic rises in February",
     "text": "The harbour ferry carried 41,200 passengers in February, the port authority said on Thursday."},
    {"id": "ferry-mar", "date": "2021-04-06", "title": "Harbour ferry traffic rises again in March",
     "text": "The harbour ferry carried 47,900 passengers in March, the port authority said on Tuesday."},
]  # fmt: skip
FERRY_QUESTION = "How many passengers did the harbour ferry carry last month?"


def _ferry_chat(encoder, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A chat over the dated ferry reports alone (no default corpus), served on a free port: (app, url)."""
    from newsqa.settings import Settings
    from qa.assistant import Assistant
    from ui.app import build_app, launch

    feed = tmp_path / "ferry.jsonl"
    feed.write_text("".join(json.dumps(r | {"source": "Port News"}) + "\n" for r in FERRY_REPORTS), encoding="utf-8")
    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"), encoder=encoder)
    assistant.ingest([feed], show_progress=False)
    assistant.reader  # noqa: B018 - loaded now, as `serve` does, not while the first question waits
    app = build_app(assistant)
    return app, launch(app, "127.0.0.1", free_port(), block=False, quiet=True)


def test_the_as_of_date_is_shown_and_changes_the_answer(chromium_path: Path, encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The chat shows the date it answers as of (today), "Latest article" moves it to the newest article's date,
    a typed date moves it anywhere, and "last month" follows it."""
    from datetime import date

    from playwright.sync_api import expect, sync_playwright

    app, url = _ferry_chat(encoder, tmp_path)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            as_of = page.locator("#qa-as-of").get_by_role("textbox")
            expect(as_of).to_have_value(date.today().isoformat())  # filled in as the page loads
            replies = page.locator("#qa-chat .qa-reply")
            box = page.locator("#qa-question textarea")

            page.locator("#qa-as-of-latest").click()
            expect(as_of).to_have_value("2021-04-06")
            box.fill(FERRY_QUESTION)
            box.press("Enter")
            expect(replies).to_have_count(1)
            reply = replies.nth(0)
            expect(reply.locator(".qa-as-of")).to_have_text("as of 6 Apr 2021")
            expect(reply.locator(".qa-understood q")).to_have_text(
                FERRY_QUESTION.replace("last month", "last month (Mar 2021)")
            )
            expect(reply.locator(".qa-sentence").first).to_contain_text("47,900 passengers in March")
            expect(reply.locator(".qa-citation").first).to_contain_text("Port News, 2021-04-06")

            as_of.fill("2021-03-20")
            box.fill(FERRY_QUESTION)
            box.press("Enter")
            expect(replies).to_have_count(2)
            reply = replies.nth(1)
            expect(reply.locator(".qa-as-of")).to_have_text("as of 20 Mar 2021")
            expect(reply.locator(".qa-sentence").first).to_contain_text("41,200 passengers in February")

            as_of.fill("someday soon")
            box.fill(FERRY_QUESTION)
            box.press("Enter")
            expect(page.locator("#qa-chat .qa-notice")).to_contain_text("'someday soon' is not a date")
            expect(replies).to_have_count(2)
            page.locator("#qa-as-of-today").click()
            expect(as_of).to_have_value(date.today().isoformat())
            browser.close()
    finally:
        app.close()


ARTIFACTS = Path(os.environ.get("QA_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1400, 1000)])
def test_dates_layout_and_export_at_phone_and_desktop_width(  # type: ignore[no-untyped-def]
    chromium_path: Path, encoder, tmp_path: Path, capfd: pytest.CaptureFixture[str], width: int, height: int
) -> None:
    """The question box shows without scrolling, the Today/Latest buttons keep their own height, an As-of date
    the chat cannot read is a note in the chat (the conversation and what was typed kept, no traceback in the
    server's log), "2021-03", "last tuesday" and "latest" are read, and Export gives the conversation with its
    citations as Markdown and JSON. Screenshots go to test-artifacts/ ($QA_TEST_ARTIFACTS)."""
    from datetime import date

    from playwright.sync_api import expect, sync_playwright

    from qa.when import read_as_of

    app, url = _ferry_chat(encoder, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    capfd.readouterr()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            box = page.locator("#qa-question textarea")
            as_of = page.locator("#qa-as-of").get_by_role("textbox")
            expect(as_of).to_have_value(date.today().isoformat())
            page.wait_for_timeout(500)  # fonts and layout settle
            page.screenshot(path=str(ARTIFACTS / f"chat-start-{width}.png"))

            # Nothing in the header lies over the title (the corpus facts once did on a phone).
            title, facts = page.locator("#qa-title h2").bounding_box(), page.locator("#qa-facts").bounding_box()
            assert title is not None and facts is not None
            apart = (
                facts["y"] >= title["y"] + title["height"] or facts["x"] >= title["x"] + title["width"]
            )  # below it, or beside it
            assert apart, (title, facts)
            # Visible without scrolling, whatever the width.
            question_box = box.bounding_box()
            assert question_box is not None and question_box["y"] + question_box["height"] <= height, question_box
            # The buttons beside the As-of box keep a button's height instead of stretching to the box's.
            field = page.locator("#qa-as-of").bounding_box()
            for button in ("#qa-as-of-today", "#qa-as-of-latest"):
                shape = page.locator(button).bounding_box()
                assert shape is not None and field is not None
                assert shape["height"] <= 44 and shape["height"] < field["height"] / 2, (button, shape, field)

            replies = page.locator("#qa-chat .qa-reply")

            def ask(count: int) -> Any:
                box.fill(FERRY_QUESTION)
                box.press("Enter")
                expect(replies).to_have_count(count, timeout=TIMEOUT_MS)  # the first loads the reader
                return replies.nth(count - 1)

            page.locator("#qa-as-of-latest").click()
            expect(as_of).to_have_value("2021-04-06")
            expect(ask(1).locator(".qa-as-of")).to_have_text("as of 6 Apr 2021")

            typed = "someday soon after the harbour reopens"  # longer than a date: kept whole
            as_of.fill(typed)
            box.fill(FERRY_QUESTION)
            box.press("Enter")
            notice = page.locator("#qa-chat .qa-notice")
            expect(notice).to_contain_text(f"As of: '{typed}' is not a date the assistant can read")
            expect(replies).to_have_count(1)  # the conversation so far is still there
            expect(replies.first).to_contain_text("47,900 passengers")
            expect(as_of).to_have_value(typed)
            expect(box).to_have_value(FERRY_QUESTION)  # ready to ask again once the date is fixed

            as_of.fill("2021-03")
            reply = ask(2)
            expect(reply.locator(".qa-as-of")).to_have_text("as of 31 Mar 2021")
            expect(reply.locator(".qa-sentence").first).to_contain_text("41,200 passengers in February")
            expect(notice).to_have_count(0)  # the note was about the earlier try

            tuesday = read_as_of("last tuesday", date.today())
            assert tuesday is not None
            as_of.fill("last tuesday")
            expect(ask(3).locator(".qa-as-of")).to_have_text(f"as of {tuesday.day} {tuesday:%b %Y}")
            as_of.fill("latest")
            expect(ask(4).locator(".qa-as-of")).to_have_text("as of 6 Apr 2021")

            page.locator("#qa-export").click()
            exported = page.locator("#qa-exported")
            expect(exported).to_be_visible()
            files = {}
            for name in ("conversation.md", "conversation.json"):
                link = exported.locator(f'a[download="{name}"]')
                with page.expect_download() as download:
                    link.click()
                files[name] = Path(download.value.path()).read_text(encoding="utf-8")
            markdown = files["conversation.md"]
            assert markdown.count(f". {FERRY_QUESTION}") == 4
            assert "**47,900**" in markdown or "**47,900 passengers**" in markdown
            assert "*Harbour ferry traffic rises again in March* — Port News, 2021-04-06, sentence 1" in markdown
            data = json.loads(files["conversation.json"])
            assert [a["time"]["as_of"] for a in data["answers"]] == [
                "2021-04-06", "2021-03-31", tuesday.isoformat(), "2021-04-06",
            ]  # fmt: skip
            assert data["answers"][1]["sentences"][0]["citation"]["article_id"] == "ferry-feb"
            page.screenshot(path=str(ARTIFACTS / f"chat-dates-export-{width}.png"), full_page=True)
            browser.close()
    finally:
        app.close()
    _assert_no_traceback(capfd)
    print(f"screenshots: {ARTIFACTS}/chat-start-{width}.png, {ARTIFACTS}/chat-dates-export-{width}.png")


def _assert_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    """The server's output since the last read shows no traceback (a refused input is not a crash)."""
    log = capfd.readouterr()
    assert "Traceback" not in log.err and "Traceback" not in log.out, log.err[-2000:]


WEATHER_REPORT = {
    "id": "harbour-fog", "date": "2021-05-06", "source": "Port News", "desk": "weather",
    "title": "Fog closes the harbour mouth",
    "text": "Thick fog closed the harbour mouth for nine hours on Wednesday, the harbour master said.",
}  # fmt: skip


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1400, 1000)])
def test_metadata_filter_box_at_phone_and_desktop_width(  # type: ignore[no-untyped-def]
    chromium_path: Path, encoder, tmp_path: Path, capfd: pytest.CaptureFixture[str], width: int, height: int
) -> None:
    """The Filters tab lists the corpus's metadata fields with some of their values; category=sport restricts the
    answer and its follow-up (named under the question box, which still shows without scrolling), the date filter
    still applies beside it, a misspelt field is a note in the chat (the conversation and the question kept, no
    error pop-up, no traceback in the server's output), and an upload that brings a new field lists it and can be
    filtered on. Screenshots go to test-artifacts/ ($QA_TEST_ARTIFACTS)."""
    from datetime import date

    from playwright.sync_api import expect, sync_playwright

    from ui.app import build_app, launch

    assistant = harbour_assistant(encoder, tmp_path)
    app = build_app(assistant)
    url = launch(app, "127.0.0.1", free_port(), block=False, quiet=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    capfd.readouterr()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            box = page.locator("#qa-question textarea")
            replies = page.locator("#qa-chat .qa-reply")
            ask = _asker(page)

            def question_box_in_view() -> None:
                page.evaluate("window.scrollTo(0, 0)")
                shape = box.bounding_box()
                assert shape is not None and shape["y"] + shape["height"] <= height, (width, shape)

            as_of = page.locator("#qa-as-of").get_by_role("textbox")
            expect(as_of).to_have_value(date.today().isoformat())  # the page has loaded (and filled it in)
            question_box_in_view()
            page.locator("#qa-as-of-latest").click()  # "in March" is March 2021, the archive's last spring
            expect(as_of).to_have_value("2021-05-04")
            page.get_by_role("tab", name="Filters").click()
            fields = page.locator("#qa-field-list")
            expect(fields).to_contain_text("category: business, sport")
            expect(fields).to_contain_text("section: sailing, shipping")
            where = page.locator("#qa-where").get_by_role("textbox")
            where.fill("category=sport")
            active = page.locator("#qa-active-filters")
            expect(active).to_contain_text("Searching only: category=sport")
            question_box_in_view()

            # The sports desk's figure, not the business desk's that wins without the filter; the follow-up too.
            reply = ask(HARBOUR_QUESTION, 1)
            expect(reply.locator(".qa-sentence").first).to_contain_text("The harbour regatta drew")
            expect(reply.locator(".qa-citation").first).to_contain_text("Regatta draws a record field")
            expect(reply.locator(".qa-citation").first).to_contain_text("category: sport")
            expect(reply).not_to_contain_text("containers")
            reply = ask("and in April?", 2)
            expect(reply.locator(".qa-citation").first).to_contain_text("Regatta grows again")
            expect(reply).not_to_contain_text("containers")
            page.get_by_role("tab", name="Filters").click()
            page.wait_for_timeout(300)  # layout settles before the picture
            page.screenshot(path=str(ARTIFACTS / f"chat-filter-{width}.png"), full_page=True)

            # A date filter beside the metadata one: the business desk, from May on.
            where.fill("category=business")
            page.locator("#qa-from").get_by_role("textbox").fill("2021-05-01")
            expect(active).to_contain_text("Searching only: from 2021-05-01 · category=business")
            reply = ask("How many containers did the harbour handle?", 3)
            expect(reply.locator(".qa-citation").first).to_contain_text("Harbour cargo grows again in April")
            expect(reply.locator(".qa-citation")).to_have_count(1)

            # A misspelt field: a note under the conversation, which stays; the question stays in its box.
            where.fill("categry=sport")
            box.fill("and in May?")
            box.press("Enter")
            notice = page.locator("#qa-chat .qa-notice")
            expect(notice).to_contain_text("no article has a field 'categry'. Did you mean category?")
            expect(notice).to_contain_text("The corpus's fields: category, section.")
            expect(replies).to_have_count(3)
            expect(box).to_have_value("and in May?")
            expect(page.locator(".toast-body")).to_have_count(0)  # no error pop-up

            # An upload that brings a new field: listed once ingested, and a filter on it answers from it.
            upload = tmp_path / "harbour-weather.jsonl"
            upload.write_text(json.dumps(WEATHER_REPORT) + "\n", encoding="utf-8")
            page.get_by_role("tab", name="Add articles").click()
            page.locator("#qa-files input[type=file]").set_input_files([str(upload)])
            expect(page.locator("#qa-files tbody tr")).to_have_count(1)
            page.locator("#qa-add").click()
            expect(page.locator("#qa-ingest-result")).to_contain_text("1 added", timeout=60_000)
            page.get_by_role("tab", name="Filters").click()
            expect(fields).to_contain_text("desk: weather")
            where.fill("desk=weather")
            page.locator("#qa-from").get_by_role("textbox").fill("")
            reply = ask("How long was the harbour mouth closed?", 4)
            expect(reply.locator(".qa-sentence").first).to_contain_text("Thick fog closed the harbour mouth")
            expect(notice).to_have_count(0)  # the note was about the earlier try
            page.screenshot(path=str(ARTIFACTS / f"chat-filter-upload-{width}.png"), full_page=True)
            browser.close()
    finally:
        app.close()
    _assert_no_traceback(capfd)
    print(f"screenshots: {ARTIFACTS}/chat-filter-{width}.png, {ARTIFACTS}/chat-filter-upload-{width}.png")
