"""Stable ids: lowercase ASCII slugs of English names, and one id per country."""

from __future__ import annotations

import re
import unicodedata

from babel import Locale

# English short names whose CLDR form is not the slug users expect.
COUNTRY_ID_OVERRIDES: dict[str, str] = {
    "TR": "turkey",
    "US": "united-states",
    "GB": "united-kingdom",
    "CZ": "czechia",
    "KP": "north-korea",
    "KR": "south-korea",
}


def slugify(name: str) -> str:
    """Return a lowercase ASCII slug of ``name``.

    >>> slugify("Baku–Tbilisi–Ceyhan pipeline")
    'baku-tbilisi-ceyhan-pipeline'
    >>> slugify("Türkiye")
    'turkiye'
    >>> slugify("")
    ''
    """
    dashed = re.sub(r"[\W_]+", "-", name.replace("ß", "ss"))
    ascii_name = unicodedata.normalize("NFKD", dashed).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def country_id(iso2: str) -> str:
    """Return the stable id of the country with ISO 3166-1 alpha-2 code ``iso2``.

    >>> country_id("KZ"), country_id("ru"), country_id("TR")
    ('kazakhstan', 'russia', 'turkey')
    """
    code = iso2.upper()
    if code in COUNTRY_ID_OVERRIDES:
        return COUNTRY_ID_OVERRIDES[code]
    name = Locale("en").territories.get(code)
    if name is None:
        raise KeyError(f"unknown country code {iso2!r}")
    return slugify(name)
