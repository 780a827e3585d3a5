"""Theme layers: the table of themes every place, quote and layer is tagged with."""

from __future__ import annotations

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
