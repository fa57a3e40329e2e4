"""PDF and Word articles (index/readers/pdf_document.py, word_document.py): their text and metadata read, a PDF's
pages named in citations, and files without text refused with a reason."""

from __future__ import annotations

from pathlib import Path

from index.models import Problem
from index.readers import RawArticle, read_inputs
from index.readers.pdf_document import page_at

PAGE_ONE = [
    "Harbour City police seized 310 kilogrammes of heroin in 2018, the force said in its annual report.",
    "The haul was the largest in a decade.",
]
PAGE_TWO = [
    "Officers arrested 212 suspects during the year.",
    "Chief Inspector Dana Whitfield said most of the drugs arrived by sea.",
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str = "", author: str = "", created: str = "") -> bytes:
    """A minimal PDF: one Helvetica text line per string, one page per list (an empty list: a page with no text,
    as a scanned page has none), with the given document info."""
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # filled in below, once the page tree's number is known
    tree = add("")
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        for line in lines:
            ops += [f"({_escape(line)}) Tj", "T*"]
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1") if lines else b""
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                f"/Resources << /Font << /F1 {font} 0 R >> >> >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()
    objects[tree - 1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    info = add(f"<< /Title ({_escape(title)}) /Author ({_escape(author)}) /CreationDate ({created}) >>")
    out = bytearray(b"%PDF-1.4\n%\x00\xe2\xe3\xcf\xd3\n")  # binary marker line, as real PDFs have
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, info, xref,
    )  # fmt: skip
    return bytes(out)


def _one(path: Path) -> RawArticle | Problem:
    (found,) = list(read_inputs([path]))
    return found


def test_a_pdf_is_read_with_its_metadata_and_page_breaks(tmp_path: Path) -> None:
    pdf = tmp_path / "harbour-report.pdf"
    pdf.write_bytes(make_pdf([PAGE_ONE, PAGE_TWO], "Harbour City annual report", "Dana Whitfield", "D:20190115"))
    article = _one(pdf)
    assert isinstance(article, RawArticle), article
    assert (article.title, article.author, article.date) == (
        "Harbour City annual report",
        "Dana Whitfield",
        "2019-01-15",
    )
    assert "212 suspects" in article.text and "\f" in article.text
    assert page_at(article.text, article.text.index("310 kilogrammes")) == 1
    assert page_at(article.text, article.text.index("212 suspects")) == 2


def test_a_scanned_pdf_without_text_is_refused_with_a_reason(tmp_path: Path) -> None:
    scanned = tmp_path / "scan.pdf"
    scanned.write_bytes(make_pdf([[], []], "Scanned"))
    problem = _one(scanned)
    assert isinstance(problem, Problem)
    assert "no text in its 2 pages" in problem.reason and "OCR" in problem.reason


def test_a_file_that_is_not_a_pdf_is_refused_with_a_reason(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"this is a text file with the wrong suffix")
    problem = _one(fake)
    assert isinstance(problem, Problem) and "not a readable PDF" in problem.reason


def test_a_word_document_is_read_with_its_title_and_author(tmp_path: Path) -> None:
    from datetime import datetime

    from docx import Document

    document = Document()
    document.add_heading("Harbour City police report record heroin haul", level=1)
    for line in [*PAGE_ONE, *PAGE_TWO]:
        document.add_paragraph(line)
    document.core_properties.author = "Harbour Gazette desk"
    document.core_properties.created = datetime(2019, 1, 15, 9, 30)
    path = tmp_path / "haul.docx"
    document.save(str(path))
    article = _one(path)
    assert isinstance(article, RawArticle), article
    assert article.title == "Harbour City police report record heroin haul"
    assert (article.author, article.date) == ("Harbour Gazette desk", "2019-01-15")
    assert article.text.split("\n\n") == [*PAGE_ONE, *PAGE_TWO]
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    problem = _one(broken)
    assert isinstance(problem, Problem) and "not a readable Word document" in problem.reason


def test_a_pdf_citation_names_its_page(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from newsqa.settings import Settings
    from qa.assistant import Assistant
    from ui.render import citation_text

    pdf = tmp_path / "harbour-report.pdf"
    pdf.write_bytes(make_pdf([PAGE_ONE, PAGE_TWO], "Harbour City annual report", "", "D:20190115"))
    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"), encoder=encoder)
    report = assistant.ingest([pdf], show_progress=False)
    assert len(report.added) == 1, report
    answer = assistant.answer("How many suspects did Harbour City officers arrest?")
    assert answer.found and "212 suspects" in answer.sentences[0].text
    citation = answer.sentences[0].citation
    assert citation.page == 2
    assert "2019-01-15, page 2, sentence" in citation_text(citation)
    article = assistant.article(citation.article_id)
    assert article is not None and article.text[citation.start : citation.end] == answer.sentences[0].text
    first_page = assistant.answer("How many kilogrammes of heroin did Harbour City police seize in 2018?")
    assert first_page.found and first_page.sentences[0].citation.page == 1
