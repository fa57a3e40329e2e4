"""HTML for the web chat: replies with marked spans and numbered citations, the cited article, the corpus facts.

Pure functions from the core's typed objects (`Answer`, `Citation`, `Article`, `CorpusStats`, `IngestReport`) to
HTML strings. Every piece of corpus text is untrusted input and is escaped here; nothing in this module searches or
scores. Rendered replies are a single line of HTML so the chat's Markdown renderer passes them through untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from qa.models import Answer, Citation, CitedSentence

if TYPE_CHECKING:
    from index.models import Article, IngestReport
    from qa.assistant import CorpusStats

NOT_FOUND_TITLE = "Not found in the corpus"

# Styles for the classes used below; passed to the page at launch.
CSS = """
.qa-reply { line-height: 1.5; }
.qa-understood { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 0.4em; }
.qa-as-of { font-size: 0.8em; color: var(--body-text-color-subdued); margin-bottom: 0.4em; }
.qa-sentence { margin: 0.25em 0; }
.qa-sentence.qa-best { font-weight: 500; }
.qa-ref { font-size: 0.8em; font-weight: 600; color: var(--color-accent); margin-left: 0.2em; }
.qa-reply mark, .qa-article mark.qa-span { background: #ffe066; color: #1a1a1a; padding: 0 0.15em; border-radius: 3px; }
.qa-citations { margin-top: 0.5em; padding-top: 0.4em; border-top: 1px solid var(--border-color-primary);
  font-size: 0.85em; color: var(--body-text-color-subdued); }
.qa-citation cite { font-style: normal; font-weight: 600; color: var(--body-text-color); }
.qa-not-found { background: #eceff1; color: #37474f; border: 1px dashed #90a4ae; border-radius: 8px;
  padding: 0.6em 0.8em; }
.qa-not-found .qa-icon { font-size: 1.2em; margin-right: 0.35em; }
.qa-not-found .qa-detail { font-size: 0.85em; margin-top: 0.25em; }
.qa-article { padding: 0.5em 0.75em; border: 1px solid var(--border-color-primary); border-radius: 8px; }
.qa-article h3 { margin: 0 0 0.2em 0; }
.qa-article .qa-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 0.4em; }
.qa-article .qa-text { white-space: pre-wrap; line-height: 1.5; max-height: 480px; overflow-y: auto; position: relative;
  padding-right: 0.4em; border-top: 1px solid var(--border-color-primary); padding-top: 0.4em; }
.qa-sentence + .qa-sentence { font-size: 0.95em; color: var(--body-text-color-subdued); }
.qa-article mark.qa-cited { background: #fff3bf; color: #1a1a1a; outline: 2px solid #fab005; border-radius: 3px; }
.qa-empty { color: var(--body-text-color-subdued); font-style: italic; }
.qa-facts { font-size: 0.9em; color: var(--body-text-color-subdued); }
.qa-warning { color: var(--error-text-color, #b91c1c); margin-top: 0.3em; }
.qa-ingest-ok { color: #2b8a3e; }
.qa-ingest-problem { color: #c92a2a; }
.qa-notice { color: #8a4b00; background: #fff4e0; border: 1px solid #f0b866; border-radius: 8px; padding: 0.5em 0.8em; }
.qa-field-list { font-size: 0.85em; color: var(--body-text-color-subdued); }
.qa-field-list ul { margin: 0.2em 0 0 0; padding-left: 1.2em; }
.qa-field-list code { color: var(--body-text-color); }
.qa-active-filters { font-size: 0.85em; color: var(--body-text-color-subdued); }
#qa-as-of-row { align-items: flex-end; }
#qa-as-of-row > button { flex-grow: 0; align-self: flex-end; margin-bottom: 2px; }
#qa-conversation-row > button { flex-grow: 0; }
"""

# Put in the page's <head> at launch: gradio scopes the @media rules of `css` to the app's body, not its footer.
# Gradio hides "Use via API" on narrow screens (<= 640px) but not the "·" after it, which left "· Settings".
# On a phone the question box must show without scrolling: a shorter chat, the title and corpus facts stacked and
# small above it.
HEAD = """<style>
@media (width <= 640px) { footer .show-api + .record.hidden + .divider { display: none; } }
@media (width <= 640px) {
  #qa-header { flex-direction: column; gap: 0.25em; }
  #qa-header h2 { font-size: 1.2em; margin: 0; }
  #qa-header .qa-facts { font-size: 0.8em; }
  #qa-title p { display: none; }
  #qa-chat { height: min(560px, 48vh) !important; max-height: 48vh; }
}
</style>"""


def render_question(question: str) -> str:
    """The user's turn, shown literally (no Markdown or HTML from the user is interpreted)."""
    return f'<div class="qa-question">{_text(question)}</div>'


def render_notice(message: str) -> str:
    """A note from the chat itself (a date it cannot read, say): not an answer, nothing from the corpus."""
    return f'<div class="qa-notice" role="alert">{_text(message)}</div>'


def render_answer(answer: Answer) -> str:
    """One reply: the sentences (best first) with the span marked and [n] references, then the numbered sources.

    A reply that found nothing is a grey box headed "Not found in the corpus" and shows no sentence at all.
    """
    understood = ""
    shown = answer.shown_question()
    if shown != answer.question:
        understood = f'<div class="qa-understood">Answering: <q>{_text(shown)}</q></div>'
    understood += as_of_html(answer)
    if not answer.found or not answer.sentences:
        return (
            f'<div class="qa-reply qa-not-found" role="status">{understood}'
            f'<span class="qa-icon" aria-hidden="true">&#8856;</span><strong>{NOT_FOUND_TITLE}</strong>'
            f'<div class="qa-detail">{_text(_not_found_detail(answer.message))}</div></div>'
        )
    sentences = "".join(
        f'<div class="qa-sentence{" qa-best" if n == 1 else ""}">{marked_sentence(s)}'
        f'<sup class="qa-ref">[{n}]</sup></div>'
        for n, s in enumerate(answer.sentences, start=1)
    )
    citations = "".join(
        f'<div class="qa-citation">[{n}] {citation_html(s.citation)}{fact_dates_html(s.citation)}, '
        f"{confidence_html(s.score)}</div>"
        for n, s in enumerate(answer.sentences, start=1)
    )
    return f'<div class="qa-reply qa-found">{understood}{sentences}<div class="qa-citations">{citations}</div></div>'


def as_of_html(answer: Answer) -> str:
    """The date the reply was answered as of (relative dates in the question count from it)."""
    if answer.time is None:
        return ""
    day = answer.time.as_of
    return f'<div class="qa-as-of">as of {day.day} {day:%b %Y}</div>'


def fact_dates_html(citation: Citation) -> str:
    """' · "last month" = Mar 1987' for each relative date in the cited sentence, resolved against its article."""
    return "".join(f" · {_text(fact)}" for fact in citation.fact_dates)


def confidence_label(score: float) -> str:
    """Words for a sentence's score, the calibrated probability that it answers the question."""
    return "likely answer" if score >= 0.7 else "possible answer" if score >= 0.4 else "uncertain: check the source"


def confidence_html(score: float) -> str:
    title = f"The assistant's estimate that this sentence answers the question: {score:.0%}"
    return f'<span class="qa-confidence" title="{title}">{confidence_label(score)} ({score:.0%})</span>'


def marked_sentence(sentence: CitedSentence) -> str:
    """The sentence, escaped, with its answer span wrapped in <mark>."""
    text = sentence.text
    span = sentence.span
    if span is None or not 0 <= span.start < span.end <= len(text):
        return _text(text)
    return f"{_text(text[: span.start])}<mark>{_text(text[span.start : span.end])}</mark>{_text(text[span.end :])}"


def citation_text(citation: Citation) -> str:
    """Plain text naming where a sentence stands: title — source, date, sentence N (1-based for people)."""
    return f"{citation.title or 'Untitled'} — {_where(citation)}"


def citation_html(citation: Citation) -> str:
    return (
        f"<cite>{_text(citation.title or 'Untitled')}</cite> — {_text(_where(citation))}{fields_html(citation.fields)}"
    )


def fields_html(fields: dict[str, str]) -> str:
    """' · category: business · tags: ferry, strike': the article's other metadata, in a span of its own."""
    if not fields:
        return ""
    shown = " · ".join(f"{name.replace('_', ' ')}: {value}" for name, value in fields.items())
    return f' <span class="qa-fields">· {_text(shown)}</span>'


def citation_choices(answer: Answer) -> list[tuple[str, str]]:
    """(label, value) pairs for the sources panel; the value is the 1-based citation number as text."""
    if not answer.found:
        return []
    return [(f"[{n}] {citation_text(s.citation)}", str(n)) for n, s in enumerate(answer.sentences, start=1)]


def render_article(article: Article | None, sentence: CitedSentence | None) -> str:
    """The cited article in full, with the cited sentence (and its span) highlighted in place.

    The sentence is located by the citation's offsets into `article.text`; if the text there differs (the
    article changed since the answer was given), the sentence is searched for, else shown without highlight.
    """
    if sentence is None:
        return empty_article("Ask a question; the article behind each citation shows here.")
    if article is None:
        return empty_article(f"The article {sentence.citation.article_id!r} is no longer in the index.")
    citation = sentence.citation
    text = article.text
    start, end = citation.start, citation.end
    if text[start:end] != sentence.text:
        found_at = text.find(sentence.text)
        start, end = (found_at, found_at + len(sentence.text)) if found_at >= 0 else (-1, -1)
    if start < 0:
        body = _escape_keep_lines(text)
        note = '<div class="qa-empty">The cited sentence is no longer in this article.</div>'
    else:
        body = (
            f"{_escape_keep_lines(text[:start])}"
            f'<mark class="qa-cited" id="qa-cited-sentence">{marked_sentence(sentence)}</mark>'
            f"{_escape_keep_lines(text[end:])}"
        )
        note = ""
    meta = [article.source or "unknown source", article.date or "undated", f"sentence {citation.sentence_number + 1}"]
    if article.author:
        meta.insert(0, f"by {article.author}")
    meta += [f"{name.replace('_', ' ')}: {value}" for name, value in article.fields.items()]
    url = ""
    if article.url and article.url.lower().startswith(("http://", "https://")):
        link = escape(article.url, quote=True)
        url = f' · <a href="{link}" target="_blank" rel="noopener noreferrer">{_text(article.url)}</a>'
    return (
        f'<div class="qa-article"><h3>{_text(article.title or "Untitled")}</h3>'
        f'<div class="qa-meta">{_text(" · ".join(meta))}{url}</div>{note}'
        f'<div class="qa-text">{body}</div></div>'
    )


def empty_article(message: str) -> str:
    return f'<div class="qa-article qa-empty">{_text(message)}</div>'


def render_corpus_facts(stats: CorpusStats) -> str:
    """One line of what the index holds: articles, sentences, sources with counts, date range."""
    if stats.articles == 0:
        return '<div class="qa-facts">The corpus is empty: add articles in the “Add articles” tab.</div>'
    sources = ", ".join(f"{name or '(no source)'} ({count})" for name, count in stats.sources) or "no source named"
    if stats.date_from and stats.date_to and stats.date_from != stats.date_to:
        dates = f"{stats.date_from} to {stats.date_to}"
    else:
        dates = stats.date_from or stats.date_to or "no dates given"
    # A damaged index is the server's business: say what it means for answers, not which file on disk broke.
    damaged = (
        '<div class="qa-warning">The newest index snapshot is damaged, so answers come from the one before it '
        f"(updated {_text(stats.updated_at or '?')}); run <code>qa repair</code> on the server.</div>"
        if stats.warning
        else ""
    )
    return (
        f'<div class="qa-facts"><strong>{stats.articles:,}</strong> {_plural(stats.articles, "article")}, '
        f"<strong>{stats.sentences:,}</strong> {_plural(stats.sentences, 'sentence')} · "
        f"sources: {_text(sources)} · dates: {_text(dates)}{damaged}</div>"
    )


def render_field_list(fields: dict[str, list[str]], shown_per_field: int = 5) -> str:
    """The metadata fields the articles hold, each with the few values the index listed (most common first),
    for the metadata filter; "…" where the index may hold more values than it listed."""
    if not fields:
        return (
            '<div class="qa-field-list qa-empty">The articles hold no metadata fields to filter on. Fields such as '
            "category or section come with JSON/JSONL records and front matter.</div>"
        )
    items = "".join(
        f"<li><code>{_text(name)}</code>: {_text(', '.join(values))}{', …' if len(values) >= shown_per_field else ''}"
        "</li>"
        for name, values in fields.items()
    )
    return f'<div class="qa-field-list">Fields in the corpus, with some of their values:<ul>{items}</ul></div>'


def render_active_filters(sources: Sequence[str], date_from: str, date_to: str, where: str) -> str:
    """One line under the question box naming the filters every question is searched with (empty: none)."""
    parts = [", ".join(sources)] if sources else []
    if date_from.strip():
        parts.append(f"from {date_from.strip()}")
    if date_to.strip():
        parts.append(f"to {date_to.strip()}")
    if where.strip():
        parts.append(" ".join(where.split()))
    if not parts:
        return ""
    return f'<div class="qa-active-filters">Searching only: {_text(" · ".join(parts))} (set in Filters)</div>'


def render_ingest_result(
    report: IngestReport | None, rejected: Sequence[str], names: dict[str, str] | None = None
) -> str:
    """What an upload did: the ingest summary, then one line per file that was refused or skipped.

    `rejected` holds messages for files refused before ingest (type, size); `names` maps the server-side paths
    that appear in the report's problems back to the names the user uploaded.
    """
    names = names or {}
    lines: list[str] = []
    if report is not None:
        lines.append(
            f'<div class="qa-ingest-ok">{len(report.added)} added, {len(report.updated)} updated, '
            f"{len(report.unchanged)} unchanged, {len(report.problems)} skipped ({report.seconds:.1f} s)</div>"
        )
        for problem in report.problems:
            message = str(problem)
            for path, name in names.items():
                message = message.replace(path, name)
            lines.append(f'<div class="qa-ingest-problem">Skipped {_text(message)}</div>')
    lines.extend(f'<div class="qa-ingest-problem">Refused {_text(message)}</div>' for message in rejected)
    if not lines:
        lines.append('<div class="qa-empty">Choose one or more files first.</div>')
    return f'<div class="qa-ingest">{"".join(lines)}</div>'


def _where(citation: Citation) -> str:
    page = f", page {citation.page}" if citation.page is not None else ""
    return (
        f"{citation.source or 'unknown source'}, {citation.date or 'undated'}{page}, "
        f"sentence {citation.sentence_number + 1}"
    )


def _not_found_detail(message: str) -> str:
    detail = message.strip()
    for prefix in (NOT_FOUND_TITLE + ".", NOT_FOUND_TITLE):
        if detail.startswith(prefix):
            detail = detail[len(prefix) :].strip()
            break
    return detail or "No sentence in the articles answers this question."


def _text(text: str) -> str:
    """Escaped text on one line: a newline in a reply would let the Markdown renderer end the HTML block."""
    return escape(" ".join(text.split()) if "\n" in text or "\r" in text else text, quote=True)


def _escape_keep_lines(text: str) -> str:
    # Only used inside the article panel (plain HTML, white-space: pre-wrap), where line breaks are wanted.
    return escape(text, quote=True)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
