"""Who the map's data comes from: one table, written out as text (exports), HTML (the map's
attribution) and Markdown (the page's caption)."""

from __future__ import annotations

from html import escape
from typing import NamedTuple


class Credit(NamedTuple):
    """One data source: what it gives, its name, its address and its licence."""

    gives: str
    name: str
    url: str
    licence: str


CREDITS: tuple[Credit, ...] = (
    Credit("Places", "GeoNames", "https://www.geonames.org/", "CC BY 4.0"),
    Credit("Borders, seas, rivers, ranges", "Natural Earth", "https://www.naturalearthdata.com/",
           "public domain"),
)
SCHEMATIC_NOTE = "Pipelines, corridors and sites are schematic (sources in geodata/)."


def credits_text() -> str:
    """Return the credits as plain text (for exports).

    >>> credits_text().startswith("Places: GeoNames (CC BY 4.0, https://www.geonames.org/).")
    True
    """
    parts = [f"{c.gives}: {c.name} ({c.licence}, {c.url})." for c in CREDITS]
    return " ".join([*parts, SCHEMATIC_NOTE])


def credits_html() -> str:
    """Return the credits as HTML links, short enough for a phone's map corner (the map's
    attribution control).

    >>> credits_html().startswith('<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)')
    True
    """
    return " · ".join(
        f'<a href="{escape(c.url, quote=True)}">{escape(c.name)}</a> ({escape(c.licence)})'
        for c in CREDITS
    )


def credits_markdown() -> str:
    """Return the credits as Markdown links (the page's caption).

    >>> credits_markdown().startswith("Places: [GeoNames](https://www.geonames.org/) (CC BY 4.0).")
    True
    """
    parts = [f"{c.gives}: [{c.name}]({c.url}) ({c.licence})." for c in CREDITS]
    return " ".join([*parts, SCHEMATIC_NOTE])
