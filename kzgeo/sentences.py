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
# One pass finds paragraph breaks and candidate sentence ends: terminal punctuation, optional
# closing quotes/brackets, then space and a capital letter, a digit or an opening quote.
_BOUNDARY = re.compile(
    r"(?=[\n.!?…])"  # a cheap first-character test before the alternation (twice as fast)
    r"(?:(?P<para>\n[ \t\u00a0]*\n\s*)"
    r"|(?P<end>[.!?…]+[" + re.escape(_CLOSERS) + r"]*)"
    r"(?=\s+[A-ZÄÖÜÀ-ÖØ-ÞĀ-Ž0-9" + re.escape(_OPENERS) + r"]))"
)
_NEXT_WORD = re.compile(r"\s*([\w\-]+)")


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
    for m in _BOUNDARY.finditer(text):
        if m.lastgroup == "para":
            _append(spans, text, start, m.start())
            start = m.end()
        elif _is_boundary(text, m.start(), m.end()):
            _append(spans, text, start, m.end())
            start = m.end()
    _append(spans, text, start, len(text))
    return tuple(spans)


def _append(spans: list[tuple[int, int]], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def _is_boundary(text: str, dot: int, after: int) -> bool:
    """Tell whether the punctuation at ``text[dot:after]`` ends a sentence."""
    if text[dot] != ".":
        return True
    if text.startswith("...", dot):
        return text[after:after + 3].strip()[:1] not in "(["
    before = text[max(0, dot - 40) : dot].rsplit(None, 1)
    word = before[-1].lstrip(_OPENERS) if before else ""
    lowered = word.lower()
    if lowered in ABBREVIATIONS or lowered.rsplit(".", 1)[-1] in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "George W. Bush"
    if word.isdigit():
        nxt = _NEXT_WORD.match(text, after)
        if nxt and nxt.group(1).lower() in ORDINAL_FOLLOWERS:
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
