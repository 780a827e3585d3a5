"""Theme layers: the table of themes every place, quote and layer is tagged with."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from kzgeo.gazetteer import fold


class Theme(NamedTuple):
    id: str
    label: str  # shown in the UI
    colour: str  # marker and legend colour (CSS hex)


THEMES: tuple[Theme, ...] = (
    Theme("energy", "Energy", "#d95f02"),
    Theme("security", "Security", "#b2182b"),
    Theme("diplomacy", "Diplomacy", "#1b9e77"),
    Theme("migration", "Migration", "#7570b3"),
    Theme("territory", "Territory", "#66a61e"),
    Theme("economy", "Economy", "#e6ab02"),
    Theme("rights", "Rights & media", "#a6761d"),
    # no lexicon row: a place none of whose sentences has a theme word (kzgeo.index tags it)
    Theme("other", "Other", "#737373"),
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


@lru_cache(maxsize=2)
def keyword_automaton(path: Path = LEXICON_PATH) -> ahocorasick.Automaton:
    """Return one Aho-Corasick automaton over every keyword of the lexicon at ``path``.

    A key maps to (length, hyphenated, masks, by_end): ``masks[2 * starts + ends]`` is the bit
    set of the themes its hit gives when it starts and/or ends a word, ``by_end[ends]`` those it
    may give however it starts (most hits are a short keyword inside a longer word). Keywords
    with a character no token has (a space: "land grab") can never match and are left out.
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
    automaton = ahocorasick.Automaton()
    for key, row in masks.items():
        by_end = (row[0] | row[2], row[1] | row[3])
        automaton.add_word(key, (len(key), "-" in key, tuple(row), by_end))
    automaton.make_automaton()
    return automaton


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


def match_themes(text: str, automaton: ahocorasick.Automaton) -> tuple[str, ...]:
    """Return the themes of ``text`` with a ``keyword_automaton``, in THEMES order.

    One automaton pass over the folded text (``kzgeo.gazetteer.fold``: lower case, one kind of
    dash and apostrophe); a hit counts when it starts and/or ends a word part as its rule asks
    (a letter-run boundary; for a hyphenated keyword a whole-token boundary). The same as the
    union of ``chunk_themes`` over the folded text's chunks.
    """
    return padded_themes(f" {fold(text)} ", automaton)


def padded_themes(padded: str, automaton: ahocorasick.Automaton) -> tuple[str, ...]:
    """Return the themes of a folded text with a white-space character at each end, as
    ``match_themes`` finds them: a padded text, or a sentence of a folded article cut out with
    its neighbours (one article is folded once for all its sentences).
    """
    bits = 0
    for last, (size, hyphenated, masks, by_end) in automaton.iter(padded):
        after = padded[last + 1]
        ends = not (after.isalpha() or (after.isnumeric() and not after.isdecimal()))
        if not by_end[ends]:
            continue
        before = padded[last - size]
        starts = not (before.isalpha() or (before.isnumeric() and not before.isdecimal()))
        if hyphenated:  # a hyphen joins parts: the keyword must start and end a whole token
            starts = starts and not (before == "-" and _is_letter(padded[last - size - 1]))
            ends = ends and not (after == "-" and _is_letter(padded[last + 2]))
        bits |= masks[2 * starts + ends]
    return _theme_ids(bits)


def clear_chunk_cache() -> None:
    """Forget the cached themes of texts (for cold-start measurements)."""
    themes_of.cache_clear()
