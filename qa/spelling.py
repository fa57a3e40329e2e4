"""Ask in the archive's spelling: a question word the collection never uses is replaced by its British or American
spelling variant when the collection uses that one ("kilograms" → "kilogrammes", "color" → "colour",
"defense" → "defence").

A news archive is written in one house style and asked in another: the BBC writes "kilogrammes", "programme" and
"defence", a reader types "kilograms", "program" and "defense". Retrieval then misses the word, and the reader,
which sees "kilograms" against "kilogrammes" as different word pieces, doubts a sentence that answers. Only words
the collection does not hold are touched, and only towards a variant it does hold, so a question already in the
archive's spelling (and every name, typo or rare word without such a variant) is left as it is. The rewrite is
shown to the user as the understood question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from index.text.tokenize import tokenize

# (American ending, British ending): each is tried in both directions on a word's end.
_ENDINGS: tuple[tuple[str, str], ...] = (
    ("gram", "gramme"),
    ("grams", "grammes"),
    ("or", "our"),
    ("ors", "ours"),
    ("ored", "oured"),
    ("oring", "ouring"),
    ("orable", "ourable"),
    ("ize", "ise"),
    ("izes", "ises"),
    ("ized", "ised"),
    ("izing", "ising"),
    ("ization", "isation"),
    ("izations", "isations"),
    ("yze", "yse"),
    ("yzed", "ysed"),
    ("er", "re"),
    ("ers", "res"),
    ("ense", "ence"),
    ("enses", "ences"),
    ("og", "ogue"),
    ("ogs", "ogues"),
    ("eled", "elled"),
    ("eling", "elling"),
    ("eler", "eller"),
    ("elers", "ellers"),
    ("aled", "alled"),
    ("aling", "alling"),
)
# Whole words whose variants no ending rule gives.
_WORDS: tuple[tuple[str, str], ...] = (
    ("ton", "tonne"),
    ("tons", "tonnes"),
    ("aluminum", "aluminium"),
    ("gray", "grey"),
    ("jewelry", "jewellery"),
    ("tire", "tyre"),
    ("tires", "tyres"),
    ("plow", "plough"),
    ("mold", "mould"),
    ("cozy", "cosy"),
    ("pajamas", "pyjamas"),
    ("airplane", "aeroplane"),
    ("airplanes", "aeroplanes"),
    ("judgment", "judgement"),
    ("maneuver", "manoeuvre"),
    ("fetus", "foetus"),
    ("esthetic", "aesthetic"),
    ("analog", "analogue"),
)
_WORD = re.compile(r"[A-Za-z]+")
_MIN_STEM = 3  # what is left before the ending must be a word's stem, not "or" of "for"


def variants(word: str) -> list[str]:
    """The other spellings of a lower-case `word` under the British/American rules, most specific first."""
    out = [b if word == a else a for a, b in _WORDS if word in (a, b)]
    for american, british in sorted(_ENDINGS, key=lambda pair: -max(len(pair[0]), len(pair[1]))):
        for ending, other in ((american, british), (british, american)):
            if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
                out.append(word[: len(word) - len(ending)] + other)
    return list(dict.fromkeys(v for v in out if v != word))


def _match_case(template: str, word: str) -> str:
    if template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def align_spelling(question: str, holds: Callable[[Iterable[str]], set[str]]) -> str:
    """`question` with each word the collection lacks replaced by a spelling variant it holds.

    `holds(terms)` answers which of the given index terms (`tokenize`'s output) occur in the collection.
    """
    words = {m.group().lower() for m in _WORD.finditer(question)}
    terms = {w: tokenize(w) for w in words}
    candidates = {w: [(v, tokenize(v)) for v in variants(w)] for w in words if terms[w]}
    asked = {t for ts in terms.values() for t in ts} | {
        t for options in candidates.values() for _, ts in options for t in ts
    }
    present = holds(asked) if asked else set()
    replace: dict[str, str] = {}
    for word, options in candidates.items():
        if all(t in present for t in terms[word]):
            continue
        found = next((v for v, ts in options if ts and all(t in present for t in ts)), None)
        if found is not None:
            replace[word] = found
    if not replace:
        return question
    return _WORD.sub(lambda m: _match_case(m.group(), replace.get(m.group().lower(), m.group())), question)
