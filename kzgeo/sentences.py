"""Split text into sentences: (start, end) offsets that survive abbreviations and dates.

German is the default; each article language with a table in ``kzgeo/data/sentences.toml``
(German, English) has its own abbreviations and ordinal rules.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

TABLES_PATH = Path(__file__).resolve().parent / "data" / "sentences.toml"
DEFAULT_LANGUAGE = "de"


class SplitRules(NamedTuple):
    """What a full stop may follow without ending a sentence, in one language."""

    abbreviations: frozenset[str]  # lowercase, without the dot ("z", "st", "u.s")
    ordinal_followers: frozenset[str]  # "<number>." before these is an ordinal ("9. Mai")
    letters_past_abbreviations: int  # a full stop after this many letters ends a sentence


def load_split_rules(path: Path = TABLES_PATH) -> dict[str, SplitRules]:
    """Return the sentence splitting rules per language from ``path``."""
    with path.open("rb") as fh:
        tables = tomllib.load(fh)
    return {
        language: SplitRules(
            frozenset(table["abbreviations"]), frozenset(table["ordinal_followers"]),
            1 + max(map(len, table["abbreviations"]), default=0),
        )
        for language, table in tables.items()
    }


SPLIT_RULES: dict[str, SplitRules] = load_split_rules()
_CLOSERS = "\"'“”»«›‹’)]"
_OPENERS = "\"„“«»‹›‚'(["
# One pass finds paragraph breaks and candidate sentence ends: terminal punctuation, optional
# closing quotes/brackets, then space and a capital letter, a digit or an opening quote.
# The match starts with a plain character class, which lets the regex engine skip to the
# candidates in C (a lookahead there tries the whole pattern at every position: 2.5x slower);
# the lookbehinds then say which branch the first character began.
_BOUNDARY = re.compile(
    r"[\n.!?…]"
    r"(?:(?<=\n)(?P<para>[ \t\u00a0]*\n\s*)"
    r"|(?<=[.!?…])(?P<end>[.!?…]*[" + re.escape(_CLOSERS) + r"]*)"
    r"(?=\s+[A-ZÄÖÜÀ-ÖØ-ÞĀ-Ž0-9" + re.escape(_OPENERS) + r"]))"
)
_BOUNDARY_CHARS = "\n.!?…"  # what a _BOUNDARY match starts with
_NEXT_WORD = re.compile(r"\s*([\w\-]+)")


@lru_cache(maxsize=256)
def split_sentences(text: str | None, language: str | None = None) -> tuple[tuple[int, int], ...]:
    """Return the (start, end) offsets of the sentences of ``text``, whitespace trimmed.

    ``language`` picks the abbreviation table (German when None or without a table).

    >>> t = "Das ist z. B. am 9. Mai in St. Petersburg. Dann kam „Er sagt: Ja.“ Ende."
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['Das ist z. B. am 9. Mai in St. Petersburg.', 'Dann kam „Er sagt: Ja.“', 'Ende.']
    >>> e = "Mr. Tokayev met U.S. envoys in Astana, e.g. Dr. Smith. Then he left."
    >>> [e[a:b] for a, b in split_sentences(e, "en")]
    ['Mr. Tokayev met U.S. envoys in Astana, e.g. Dr. Smith.', 'Then he left.']
    >>> split_sentences(""), split_sentences(None)
    ((), ())
    """
    if not text:
        return ()
    rules = SPLIT_RULES.get(language or DEFAULT_LANGUAGE) or SPLIT_RULES[DEFAULT_LANGUAGE]
    spans: list[tuple[int, int]] = []
    start = resume = 0
    for pos in _boundary_starts(text):
        if pos < resume:  # inside the previous match ("?!", "...", a paragraph break)
            continue
        m = _BOUNDARY.match(text, pos)
        if m is None:
            continue
        resume = m.end()
        if m.lastgroup == "para":
            _append(spans, text, start, pos)
            start = resume
        elif _is_boundary(text, pos, resume, rules):
            _append(spans, text, start, resume)
            start = resume
    _append(spans, text, start, len(text))
    return tuple(spans)


def _boundary_starts(text: str) -> list[int]:
    """Return the positions where a ``_BOUNDARY`` match may start, in order.

    ``str.find`` finds each such character in C, several times faster than the regex engine
    trying every position; the regex then runs at these positions only.

    >>> _boundary_starts("Ja. Nein?!\\nGut")
    [2, 8, 9, 10]
    """
    found = []
    for char in _BOUNDARY_CHARS:
        i = text.find(char)
        while i >= 0:
            found.append(i)
            i = text.find(char, i + 1)
    found.sort()
    return found


def _append(spans: list[tuple[int, int]], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def _is_boundary(text: str, dot: int, after: int, rules: SplitRules) -> bool:
    """Tell whether the punctuation at ``text[dot:after]`` ends a sentence."""
    if text[dot] != ".":
        return True
    if text.startswith("...", dot):
        return text[after:after + 3].strip()[:1] not in "(["
    longer = rules.letters_past_abbreviations
    if dot >= longer and text[dot - longer : dot].isalpha():
        return True  # the word is longer than any abbreviation (most sentence ends)
    before = text[dot - 40 if dot > 40 else 0 : dot].rsplit(None, 1)
    word = before[-1].lstrip(_OPENERS) if before else ""
    lowered = word.lower()
    abbreviations = rules.abbreviations
    if lowered in abbreviations or (
        "." in lowered and lowered.rsplit(".", 1)[-1] in abbreviations
    ):
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "George W. Bush"
    if word.isdigit():
        nxt = _NEXT_WORD.match(text, after)
        if nxt and nxt.group(1).lower() in rules.ordinal_followers:
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
