"""Theme layers: the table of themes every place, quote and layer is tagged with."""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import ahocorasick_rs

from kzgeo.gazetteer import fold


class Theme(NamedTuple):
    id: str
    label: str  # shown in the UI
    colour: str  # marker and legend colour (CSS hex)


# Colours: the Okabe-Ito palette (colour-blind safe; kzgeo.layers.OKABE_ITO); "other" is grey.
THEMES: tuple[Theme, ...] = (
    Theme("energy", "Energy", "#D55E00"),  # vermillion
    Theme("security", "Security", "#0072B2"),  # blue
    Theme("diplomacy", "Diplomacy", "#56B4E9"),  # sky blue
    Theme("migration", "Migration", "#CC79A7"),  # reddish purple
    Theme("territory", "Territory", "#009E73"),  # bluish green
    Theme("economy", "Economy", "#F0E442"),  # yellow
    Theme("rights", "Rights & media", "#E69F00"),  # orange
    # no lexicon row: a place none of whose sentences has a theme word (kzgeo.index tags it)
    Theme("other", "Other", "#999999"),
)
OTHER_THEME = "other"

THEME_IDS: tuple[str, ...] = tuple(theme.id for theme in THEMES)


# --------------------------------------------------------------------------- theme lexicon
LEXICON_PATH = Path(__file__).resolve().parent / "data" / "themes.toml"
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # letters; parts joined by single hyphens
_LETTERS_OR_HYPHENS = re.compile(r"(?:[^\W\d_]|-)*")


class Lexicon(NamedTuple):
    """One theme's keywords: whole words, word prefixes and compound heads (suffixes)."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]


@lru_cache(maxsize=2)
def load_lexicon(path: Path = LEXICON_PATH) -> dict[str, Lexicon]:
    """Return the theme lexicon (theme id -> Lexicon) from ``kzgeo/data/themes.toml``."""
    with path.open("rb") as fh:
        table = tomllib.load(fh)
    unknown = set(table) - set(THEME_IDS)
    if unknown:
        raise ValueError(f"theme lexicon has unknown theme ids: {sorted(unknown)}")
    return {
        theme: Lexicon(
            frozenset(w.lower() for w in row.get("words", ())),
            tuple(p.lower() for p in row.get("prefixes", ())),
            tuple(s.lower() for s in row.get("suffixes", ())),
        )
        for theme, row in table.items()
    }


def chunk_themes(chunk: str, lexicon: dict[str, Lexicon] | None = None) -> frozenset[str]:
    """Return the themes with a keyword hit in one lower-cased, white-space-free chunk of text.

    This is the matching rule spelled out: the chunk's tokens (letters, parts joined by single
    hyphens) and their parts are compared with each theme's words, prefixes and suffixes.
    ``themes_of`` gives the same answer with one automaton pass (and is what the geoparser uses).

    >>> sorted(chunk_themes("„gas-grenze“,"))
    ['energy', 'territory']
    >>> chunk_themes("2024")
    frozenset()
    """
    tokens = set()
    for tok in _TOKEN.findall(chunk):
        tokens.add(tok)
        tokens.update(tok.split("-"))
    return frozenset(
        theme
        for theme, lex in (lexicon or load_lexicon()).items()
        if tokens & lex.words
        or any(t.startswith(lex.prefixes) or t.endswith(lex.suffixes) for t in tokens)
    )


# A keyword hit counts by where it starts and ends: _MASK_SLOT[rule] lists the slots
# (2 * starts-a-word + ends-a-word) in which a rule's keyword gives its theme.
_MASK_SLOT = {"words": (3,), "prefixes": (2, 3), "suffixes": (1, 3)}
_THEME_BIT = {theme: 1 << i for i, theme in enumerate(THEME_IDS)}


class KeywordAutomaton(NamedTuple):
    """The lexicon's keywords in one Aho-Corasick automaton, and what a hit of each gives.

    ``rules[i]`` belongs to pattern ``i``: (hyphenated, masks, by_end). ``masks[2 * starts +
    ends]`` is the bit set of the themes a hit gives when it starts and/or ends a word,
    ``by_end[ends]`` those it may give however it starts (many hits are a short keyword inside
    a longer word: "öl" in "völlig").
    """

    matcher: ahocorasick_rs.AhoCorasick
    rules: tuple[tuple[bool, tuple[int, int, int, int], tuple[int, int]], ...]
    short_words: re.Pattern[str] | None  # the whole-word keywords too short for the automaton
    short_word_themes: dict[str, int]  # and the bit set of each one's themes


# Whole-word keywords this short are matched by a regex: as automaton keys they would hit
# inside countless words ("un" in "und", "unter", "Stimmung"), each hit a step in Python.
SHORT_WORD_LENGTH = 2


@lru_cache(maxsize=2)
def keyword_automaton(path: Path = LEXICON_PATH) -> KeywordAutomaton:
    """Return the ``KeywordAutomaton`` of every keyword of the lexicon at ``path``.

    A DFA of ahocorasick_rs: a few hundred keywords make it small, and it scans two to three
    times faster than pyahocorasick. Whole-word keywords of up to SHORT_WORD_LENGTH letters are
    left to a regex. Keywords with a character no token has (a space: "land grab") can never
    match and are left out.
    """
    masks: dict[str, list[int]] = {}
    for theme, lexicon in load_lexicon(path).items():
        for rule, slots in _MASK_SLOT.items():
            for key in getattr(lexicon, rule):
                if not _TOKEN.fullmatch(key):
                    if _LETTERS_OR_HYPHENS.fullmatch(key):  # "gas-", "-gas", "": ambiguous
                        raise ValueError(f"theme keyword {key!r}: join letters by single hyphens")
                    continue
                row = masks.setdefault(key, [0, 0, 0, 0])
                for slot in slots:
                    row[slot] |= _THEME_BIT[theme]
    short = {
        key: row[3] for key, row in masks.items()
        if len(key) <= SHORT_WORD_LENGTH and "-" not in key and not any(row[:3])
    }  # fmt: skip
    for key in short:
        del masks[key]
    matcher = ahocorasick_rs.AhoCorasick(
        list(masks), implementation=ahocorasick_rs.Implementation.DFA)
    rules = tuple(
        ("-" in key, tuple(row), (row[0] | row[2], row[1] | row[3]))
        for key, row in masks.items()
    )
    # a short word, then no letter (the letter before is looked at per match: few get so far)
    words = "|".join(map(re.escape, sorted(short, key=len, reverse=True)))
    short_words = re.compile(f"(?:{words})(?![^\\W\\d_])") if short else None
    return KeywordAutomaton(matcher, rules, short_words, short)


def _is_letter(char: str) -> bool:
    """Tell whether ``char`` is a letter as ``[^\\W\\d_]`` means it (a numeric non-digit is one).

    >>> _is_letter("ß"), _is_letter("²"), _is_letter("2"), _is_letter("_"), _is_letter("-")
    (True, True, False, False, False)
    """
    return char.isalpha() or (char.isnumeric() and not char.isdecimal())


@lru_cache(maxsize=128)
def _theme_ids(bits: int) -> tuple[str, ...]:
    return tuple(theme for theme in THEME_IDS if _THEME_BIT[theme] & bits)


@lru_cache(maxsize=4096)
def themes_of(text: str | None) -> tuple[str, ...]:
    """Return the theme ids whose keywords occur in ``text``, in THEMES order.

    >>> themes_of("Die Pipeline Baku–Tiflis–Ceyhan und OVKS-Truppen an der Grenze.")
    ('energy', 'security', 'territory')
    >>> themes_of(""), themes_of(None)
    ((), ())
    """
    return match_themes(text, keyword_automaton()) if text else ()


def match_themes(text: str, automaton: KeywordAutomaton) -> tuple[str, ...]:
    """Return the themes of ``text`` with a ``keyword_automaton``, in THEMES order.

    One automaton pass over the folded text (``kzgeo.gazetteer.fold``: lower case, one kind of
    dash and apostrophe); a hit counts when it starts and/or ends a word part as its rule asks
    (a letter-run boundary; for a hyphenated keyword a whole-token boundary). The same as the
    union of ``chunk_themes`` over the folded text's chunks.
    """
    return span_themes(f" {fold(text)} ", ((0, len(text)),), automaton)[0]


def span_themes(
    padded: str, spans: Sequence[tuple[int, int]], automaton: KeywordAutomaton
) -> list[tuple[str, ...]]:
    """Return the themes of each span of a folded text, as ``match_themes`` finds them in the
    span's text alone. One automaton pass serves every span (an article's sentences).

    ``padded`` is the folded text with a space at each end; ``spans`` are (start, end) offsets
    in the text without them, in order and not overlapping, each with a white-space character
    or the text's end on either side (sentences are).

    >>> t = "Gas aus Baku. Die Grenze bleibt zu. Nichts."
    >>> span_themes(f" {t.lower()} ", [(0, 13), (14, 35), (36, 43)], keyword_automaton())
    [('energy',), ('territory',), ()]
    """
    hits: list[tuple[int, int, int]] = []  # (start, end, theme bits) in ``padded``, that count
    rules = automaton.rules
    for index, start, end in automaton.matcher.find_matches_as_indexes(padded, overlapping=True):
        hyphenated, masks, by_end = rules[index]
        after = padded[end]
        ends = not (after.isalpha() or (after.isnumeric() and not after.isdecimal()))
        if not by_end[ends]:
            continue
        before = padded[start - 1]
        starts = not (before.isalpha() or (before.isnumeric() and not before.isdecimal()))
        if hyphenated:  # a hyphen joins parts: the keyword must start and end a whole token
            starts = starts and not (before == "-" and _is_letter(padded[start - 2]))
            ends = ends and not (after == "-" and _is_letter(padded[end + 1]))
        theme_bits = masks[2 * starts + ends]
        if theme_bits:
            hits.append((start, end, theme_bits))
    if automaton.short_words is not None:  # each match ends a word; it must start one too
        for match in automaton.short_words.finditer(padded):
            if not _is_letter(padded[match.start() - 1]):
                hits.append((*match.span(), automaton.short_word_themes[match.group()]))
    bits = [0] * len(spans)
    span_ends = list(map(itemgetter(1), spans))
    for start, end, theme_bits in hits:
        k = bisect_left(span_ends, end - 1)  # the first span that ends at or after the hit
        if k < len(spans) and spans[k][0] < start:  # else the hit lies in none of the spans
            bits[k] |= theme_bits
    return [_theme_ids(b) for b in bits]


def clear_chunk_cache() -> None:
    """Forget the cached themes of texts (for cold-start measurements)."""
    themes_of.cache_clear()
