"""Split German text into sentences: (start, end) offsets that survive abbreviations and dates."""

from __future__ import annotations

import bisect
import re
import tomllib
from functools import lru_cache
from pathlib import Path

TABLES_PATH = Path(__file__).resolve().parent / "data" / "sentences.toml"
with TABLES_PATH.open("rb") as _fh:
    _TABLES = tomllib.load(_fh)
# Abbreviations that end in a full stop without ending the sentence (lowercase, without the dot).
ABBREVIATIONS: frozenset[str] = frozenset(_TABLES["abbreviations"])
# Words after "<number>." that make the number an ordinal, not a sentence end.
ORDINAL_FOLLOWERS: frozenset[str] = frozenset(_TABLES["ordinal_followers"])
_CLOSERS = "\"'“”»«›‹’)]"
_OPENERS = "\"„“«»‹›‚'(["
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space.
_CANDIDATE = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_PARAGRAPH = re.compile(r"\n[ \t\u00a0]*\n\s*")
_WORD_BEFORE = re.compile(r"([\w.\-]+)$")


@lru_cache(maxsize=256)
def split_sentences(text: str | None) -> tuple[tuple[int, int], ...]:
    """Return the (start, end) offsets of the sentences of ``text``, whitespace trimmed.

    >>> t = "Das ist z. B. am 9. Mai in St. Petersburg. Dann kam „Er sagt: Ja.“ Ende."
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['Das ist z. B. am 9. Mai in St. Petersburg.', 'Dann kam „Er sagt: Ja.“', 'Ende.']
    >>> split_sentences(""), split_sentences(None)
    ((), ())
    """
    if not text:
        return ()
    spans: list[tuple[int, int]] = []
    start = 0
    for block_end, next_start in _blocks(text):
        for cut in _cuts(text, start, block_end):
            _append(spans, text, start, cut)
            start = cut
        _append(spans, text, start, block_end)
        start = next_start
    return tuple(spans)


def _blocks(text: str):
    """Yield (end of paragraph, start of next) for each paragraph break, then the text end."""
    for m in _PARAGRAPH.finditer(text):
        yield m.start(), m.end()
    yield len(text), len(text)


def _append(spans: list[tuple[int, int]], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def _cuts(text: str, start: int, end: int):
    """Yield the offsets inside ``text[start:end]`` where a sentence ends."""
    for m in _CANDIDATE.finditer(text, start, end):
        if _is_boundary(text, m.start(), m.end(), end):
            yield m.end()


def _is_boundary(text: str, dot: int, after: int, end: int) -> bool:
    nxt = after
    while nxt < end and text[nxt].isspace():
        nxt += 1
    if nxt >= end:
        return False  # the paragraph end closes the sentence anyway
    following = text[nxt]
    if not (following.isupper() or following.isdigit() or following in _OPENERS):
        return False
    if text[dot] != ".":
        return True
    if text[dot:after].startswith("..."):
        return following not in "(["
    m = _WORD_BEFORE.search(text, max(0, dot - 40), dot)
    word = m.group(1) if m else ""
    bare = word.lower().rsplit(".", 1)[-1] if word else ""
    if word.lower() in ABBREVIATIONS or bare in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "George W. Bush"
    if word.isdigit():
        nxt_word = re.match(r"[\wäöüÄÖÜß\-]+", text[nxt:nxt + 40])
        if nxt_word and nxt_word.group(0).lower() in ORDINAL_FOLLOWERS:
            return False
    return True


def sentence_at(spans: tuple[tuple[int, int], ...], offset: int) -> tuple[int, int]:
    """Return the sentence span containing ``offset`` (or the nearest one before it).

    >>> sentence_at(((0, 5), (7, 12)), 8), sentence_at(((0, 5), (7, 12)), 6), sentence_at((), 3)
    ((7, 12), (0, 5), (3, 3))
    """
    if not spans:
        return (offset, offset)
    k = bisect.bisect_right(spans, (offset, float("inf"))) - 1
    return spans[max(k, 0)]
