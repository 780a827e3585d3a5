"""Theme layers: the table of themes every place, quote and layer is tagged with."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple


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
)

THEME_IDS: tuple[str, ...] = tuple(theme.id for theme in THEMES)


# --------------------------------------------------------------------------- theme lexicon
LEXICON_PATH = Path(__file__).resolve().parent / "data" / "themes.toml"
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


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


_CHUNK_THEMES: dict[str, frozenset[str]] = {}  # chunk -> themes, filled by themes_of
MAX_CACHED_CHUNKS = 200_000


def clear_chunk_cache() -> None:
    """Forget the cached themes of text chunks (for cold-start measurements)."""
    _CHUNK_THEMES.clear()


def chunk_themes(chunk: str) -> frozenset[str]:
    """Return the themes with a keyword hit in one lower-cased, white-space-free chunk of text.

    Tokens never span white space, so a text's themes are the union of its chunks' themes;
    chunks repeat far more than sentences do, so ``themes_of`` caches them per chunk.

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
        for theme, lex in load_lexicon().items()
        if tokens & lex.words
        or any(t.startswith(lex.prefixes) or t.endswith(lex.suffixes) for t in tokens)
    )


@lru_cache(maxsize=4096)
def themes_of(text: str | None) -> tuple[str, ...]:
    """Return the theme ids whose keywords occur in ``text``, in THEMES order.

    >>> themes_of("Die Pipeline Baku–Tiflis–Ceyhan und OVKS-Truppen an der Grenze.")
    ('energy', 'security', 'territory')
    >>> themes_of(""), themes_of(None)
    ((), ())
    """
    if not text:
        return ()
    chunks = text.lower().split()
    found = list(map(_CHUNK_THEMES.get, chunks))  # a dict lookup per chunk, in C
    if None in found:
        if len(_CHUNK_THEMES) > MAX_CACHED_CHUNKS:
            _CHUNK_THEMES.clear()
        for i, (chunk, themes) in enumerate(zip(chunks, found, strict=True)):
            if themes is None:
                found[i] = _CHUNK_THEMES[chunk] = chunk_themes(chunk)
    union = frozenset().union(*found)
    return tuple(t for t in THEME_IDS if t in union)
