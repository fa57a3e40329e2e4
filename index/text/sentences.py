"""Split cleaned article text into sentences, each with character offsets into that text.

Rule-based and tuned for news prose: a sentence ends at `.`, `!` or `?` (with any closing quotes or
brackets) followed by white space and a plausible sentence start, unless the word before the full stop is
an abbreviation ("Mr", "U.S.", "approx.", "Jan."), an initial ("J. Smith") or the dot sits inside a number
("99.97"). Chinese and Japanese `。！？` and Khmer `។ ៕` end a sentence wherever they stand (those scripts put
no space after them). A blank line (a paragraph break) always ends a sentence. A run longer than
`MAX_SENTENCE_CHARS` (a file without punctuation, a table flattened into one line) is cut into pieces at the last
clause mark (`; : ,` and the like) or else the last space before the limit, so no input makes one giant
sentence. Offsets travel with every sentence so an answer maps back to the article for free.
"""

from __future__ import annotations

import re

# Titles and abbreviations that are followed by a full stop but rarely end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt gen col lt sgt capt cpt maj adm gov sen rep rev hon pres supt insp
    cmdr messrs mme mlle fr bros co corp inc ltd plc llc dept univ assn est approx appr ca cf eg ie etc
    vs viz al no nos vol pp op fig figs art sec ch ed eds jan feb mar apr jun jul aug sep sept oct nov
    dec mon tue tues wed thu thur thurs fri sat sun ave blvd rd hwy ft km kg lb lbs oz min max mln bln
    pct yr yrs
    """.split()
)
# After these, a capitalised word usually continues the sentence ("Jan. 5", "No. 10", "Gen. Smith").
_NEVER_END = frozenset(
    """
    mr mrs ms dr prof sr st mt gen col lt sgt capt cpt maj adm gov sen rep rev hon pres supt insp cmdr
    messrs mme mlle fr no nos vol pp fig figs art sec ch approx appr ca cf vs viz
    """.split()
)

# The longest sentence kept whole: 8 of 69,000 news and SQuAD sentences are longer, none of them prose a reader
# would quote at that length; it keeps a sentence inside one chunk of the encoder's window (about 170 word pieces).
MAX_SENTENCE_CHARS = 800

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then white space; or a full stop
# of a script written without spaces (CJK 。！？, Khmer ។ ៕), which needs none after it.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)|[。！？]+[」』”’）)\]]*|[។៕]+""")
_UNSPACED_ENDS = "。！？។៕"
# Where an over-long run may be cut, best first: after a clause mark, else after white space.
_CLAUSE_CUT = re.compile(r"""[;:,、，；：—–)]["'”’)\]]*\s*|\s+-{1,2}\s+""")
_SPACE_CUT = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_WORD_BEFORE = re.compile(r"""([A-Za-z][A-Za-z.'’-]*)\.$""")
_OPENERS = "\"'“‘([¿¡"


def _starts_sentence(text: str, pos: int) -> bool:
    """True when the text from `pos` (after white space) looks like the start of a new sentence."""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    if pos >= n:
        return True
    ch = text[pos]
    while ch in _OPENERS and pos + 1 < n:
        pos += 1
        ch = text[pos]
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘([" or not ch.isalpha()


def _is_abbreviation(text: str, dot: int, next_start: int) -> bool:
    """Decide whether the full stop at `dot` belongs to an abbreviation rather than ending a sentence."""
    match = _WORD_BEFORE.search(text, max(0, dot - 40), dot + 1)
    if match is None:
        return False
    word = match.group(1)
    bare = word.replace(".", "").lower()
    if len(word) == 1 and word.isupper():
        return True  # an initial: "J. Smith", "George W. Bush"
    if "." in word.rstrip("."):
        # "U.S." or "a.m.": ends a sentence only when a clear sentence start follows and the dotted word is
        # a short acronym of capitals (the U.S. is the usual case at a sentence end).
        nxt = text[next_start : next_start + 20].lstrip()
        first = nxt.split(" ", 1)[0] if nxt else ""
        return not (first[:1].isupper() and first.lower() in _SENTENCE_OPENERS)
    if bare in _NEVER_END:
        return True
    if bare in ABBREVIATIONS:
        nxt = text[next_start : next_start + 3].lstrip()
        return not nxt[:1].isupper()
    return False


# Words that, after a dotted acronym such as "U.S.", show that a new sentence started.
_SENTENCE_OPENERS = frozenset(
    """
    the a an he she it they we i in on at but and this that these those there his her its their our
    after before when while however meanwhile yet so
    """.split()
)


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Return `(start, end)` character offsets of each sentence of `text`.

    `text[start:end]` is the sentence with surrounding white space removed; sentences are in order, never
    overlap and are at most `max_chars` long. Empty or white-space-only text gives an empty list.
    """
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text):
        start = para_start
        for match in _BOUNDARY.finditer(text, para_start, para_end):
            end = match.end()
            punct = text[match.start()]
            if punct in _UNSPACED_ENDS:
                _append(text, spans, start, end, max_chars)
                start = end
                continue
            if not _starts_sentence(text, end):
                continue
            if punct == "." and match.group().rstrip("\"'”’)]") == "." and _is_abbreviation(text, match.start(), end):
                continue
            _append(text, spans, start, end, max_chars)
            start = end
        _append(text, spans, start, para_end, max_chars)
    return spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _append(text: str, spans: list[tuple[int, int]], start: int, end: int, max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        _append(text, spans, start, cut, max_chars)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to end a piece of an over-long run that starts at `start`: after the last clause mark before
    `limit`, else after the last white space, looking back at most half the limit (so pieces stay long); a run
    with neither (a long string of one word) is cut at `limit` itself."""
    floor = start + max((limit - start) // 2, 1)
    for pattern in (_CLAUSE_CUT, _SPACE_CUT):
        last = None
        for match in pattern.finditer(text, floor, limit):
            last = match
        if last is not None:
            return last.end() if last.end() <= limit else last.start() + 1
    return limit
