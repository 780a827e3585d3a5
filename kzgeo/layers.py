"""Map layers: the registry of every kind of mark, and the geodata/ files it draws.

The files are derived by ``geodata/rebuild.py``; this module reads them, adds each feature's
themes from the registry (:data:`REGISTRY`) and returns one GeoDataFrame (EPSG:4326) per layer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzgeo.config import GEODATA_DIR
from kzgeo.themes import THEME_IDS

if TYPE_CHECKING:  # imported where frames are made: a build's merge reads none
    import geopandas as gpd
    import pandas as pd

# Layer name -> file in geodata/ (adding a layer means adding a row here and a file there).
LAYER_FILES: dict[str, str] = {
    "countries": "countries.geojson",
    "borders": "borders.geojson",
    "pipelines": "pipelines.geojson",
    "sites": "sites.geojson",
    "alliances": "alliances.geojson",
    "routes": "routes.geojson",
}

# --------------------------------------------------------------------------- the layer registry
# One table of every kind of mark the map draws: which layer holds it, how it stacks (points above
# lines above areas), its themes and why, its style, its legend entry and the attributes the panel
# shows with their labels. kzgeo.index (themes, drawing order), kzgeo.mapview (style, stacking,
# legend) and kzgeo.dashboard (attributes) read it; adding a kind of mark means adding a row.

# Colours: Okabe & Ito (2008), "Color Universal Design", the published colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}  # fmt: skip
# Every mark is edged in INK: its edge keeps >= 3:1 against the land and the sea whatever its fill
# (WCAG 2.1 1.4.11 "non-text contrast"; tests/test_mapview.py computes it).
INK = "#1a1a1a"

PIPELINE_ATTRIBUTES = (
    ("fuel", "Fuel"),
    ("status", "Status"),
    ("operator", "Operator"),
    ("length_official_km", "Official length (km)"),
    ("length_measured_km", "Measured length of the drawn route (km)"),
    ("capacity", "Capacity"),
    ("start", "Start"),
    ("end", "End"),
    ("countries", "Countries"),
    ("waypoints", "Waypoints"),
    ("source", "Sources"),
)
SITE_ATTRIBUTES = (
    ("country", "Country"),
    ("operator", "Operator"),
    ("leased_to", "Leased to"),
    ("note", "Note"),
    ("location_note", "Location"),
    ("source", "Source"),
)
ALLIANCE_ATTRIBUTES = (
    ("members", "Members"),
    ("founded", "Founded"),
    ("note", "Note"),
    ("source", "Source"),
)
SITE_STYLE = {"color": INK, "fillColor": "#ffffff", "weight": 2.5, "radius": 7,
              "fill": True, "fillOpacity": 1.0, "opacity": 1.0}  # fmt: skip
PIPELINE_STYLE = {"color": OKABE_ITO["vermillion"], "weight": 4, "opacity": 0.95}
SITE_LEGEND = "Site: cosmodrome, test range, field, terminal, crossing"


@dataclass(frozen=True)
class Mark:
    """One row of the layer registry: a kind of mark (a feature ``category``) on the map."""

    category: str  # the feature's ``category`` (geodata) or its layer for places
    layer: str  # the index layer that holds it (a group in the layer control)
    geometry: str  # "area", "line" or "point": points are drawn above lines above areas
    themes: tuple[str, ...]  # the theme ids a feature of this kind carries
    reason: str  # why it carries them
    legend: str  # its legend entry
    style: Mapping[str, Any] = field(default_factory=dict)  # Leaflet path style
    attributes: tuple[tuple[str, str], ...] = ()  # (property, label) shown in the panel
    interactive: bool = True  # False: drawn for context, selected through search and list


REGISTRY: tuple[Mark, ...] = (
    Mark("country", "countries", "area", ("diplomacy", "territory"),
         "states: the actors of diplomacy and the holders of territory",
         "Country (Kazakhstan outlined in teal)",
         {"fillColor": "#f4f1e8", "fillOpacity": 1.0, "color": "#7a7a7a", "weight": 0.8},
         (("iso_a2", "ISO 3166 code"), ("note", "Note"), ("source", "Source"))),
    # Alliances contain their member countries and the places in them: drawn as outlines that
    # take no click or tap (a click inside Kazakhstan opens Kazakhstan, never the EAEU); they
    # are selected through the search box, the "Most mentioned" list and links (?place=eaeu).
    Mark("military-alliance", "alliances", "area", ("security",),
         "a military alliance: collective defence",
         "Military alliance (CSTO): outline only, select it by name",
         {"color": INK, "weight": 2, "dashArray": "10 5", "fill": False, "opacity": 0.8},
         ALLIANCE_ATTRIBUTES, interactive=False),
    Mark("economic-union", "alliances", "area", ("economy", "diplomacy"),
         "a customs and economic union negotiated between states",
         "Economic union (EAEU): outline only, select it by name",
         {"color": OKABE_ITO["blue"], "weight": 2, "dashArray": "2 5", "fill": False,
          "opacity": 0.9},
         ALLIANCE_ATTRIBUTES, interactive=False),
    Mark("land-border", "borders", "line", ("territory", "security", "migration"),
         "where territory ends: guarded, and crossed by people fleeing or migrating",
         "Land border of Kazakhstan",
         {"color": INK, "weight": 4, "opacity": 0.85},
         (("countries", "Countries"),
          ("length_measured_km", "Measured length (km, geodesic, 1:10m data)"),
          ("length_stated", "Lengths the articles state"), ("length_note", "Why they differ"),
          ("source", "Source"))),
    Mark("oil-pipeline", "pipelines", "line", ("energy",),
         "carries oil to market (energy; economy is trade, customs, markets)",
         "Oil pipeline (schematic route)", PIPELINE_STYLE, PIPELINE_ATTRIBUTES),
    Mark("gas-pipeline", "pipelines", "line", ("energy",),
         "carries gas to market (energy; economy is trade, customs, markets)",
         "Gas pipeline (schematic route)", {**PIPELINE_STYLE, "dashArray": "10 6"},
         PIPELINE_ATTRIBUTES),
    Mark("trade-route", "routes", "line", ("economy", "diplomacy"),
         "a transport corridor for trade, agreed between the states along it",
         "Trade corridor or railway (schematic route)",
         {"color": INK, "weight": 4, "dashArray": "1 9", "lineCap": "round", "opacity": 0.9},
         (("mode", "Mode"), ("length_official_km", "Official length (km)"),
          ("length_source", "Length source"), ("waypoints", "Waypoints"),
          ("route_source", "Route source"))),
    Mark("oil-terminal", "sites", "point", ("energy",),
         "loads oil onto tankers: energy exports", SITE_LEGEND, SITE_STYLE, SITE_ATTRIBUTES),
    Mark("oil-field", "sites", "point", ("energy",),
         "produces the oil and gas the pipelines carry", SITE_LEGEND, SITE_STYLE,
         SITE_ATTRIBUTES),
    Mark("cosmodrome", "sites", "point", ("security", "territory"),
         "a military and space site on land leased to Russia", SITE_LEGEND, SITE_STYLE,
         SITE_ATTRIBUTES),
    Mark("military-test-range", "sites", "point", ("security", "territory"),
         "a weapons test range, some on land leased to Russia", SITE_LEGEND, SITE_STYLE,
         SITE_ATTRIBUTES),
    Mark("border-crossing", "sites", "point", ("migration", "territory", "security"),
         "where people cross the border: migration, and its control", SITE_LEGEND, SITE_STYLE,
         SITE_ATTRIBUTES),
    Mark("place", "places", "point", (),
         "the themes of the sentences that name it; 'other' when none has a theme word",
         "Place the articles name (fill: its main theme; size: mentions)",
         {"color": INK, "weight": 1.2, "fill": True, "fillOpacity": 0.9},
         (("country", "Country"), ("confidence", "Geoparser confidence"))),
    # this session's own articles: drawn last, on top, in a colour no theme uses
    Mark("new", "new", "point", (),
         "the themes of the sentences of the added article that name it",
         "Place in an added article (collection)",
         {"color": INK, "fillColor": "#ff2bd6", "weight": 3, "radius": 10, "fill": True,
          "fillOpacity": 1.0, "opacity": 1.0}),
)  # fmt: skip
MARKS: dict[str, Mark] = {mark.category: mark for mark in REGISTRY}
MARKS_BY_LAYER: dict[str, Mark] = {}  # a layer's first row: its label and stacking
for _mark in REGISTRY:
    MARKS_BY_LAYER.setdefault(_mark.layer, _mark)
GEOMETRY_ORDER: tuple[str, ...] = ("area", "line", "point")  # bottom to top

# Feature category -> theme ids (from the registry; every geodata feature has a category).
CATEGORY_THEMES: dict[str, tuple[str, ...]] = {
    mark.category: mark.themes for mark in REGISTRY if mark.themes
}

# Names and abbreviations a feature is searched by beyond its English and German names and the
# forms the articles use (the abbreviations in English, German and Russian transliteration).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "cpc-pipeline": ("CPC", "KTK", "Caspian Pipeline Consortium", "Tengiz–Novorossiysk"),
    "cpc-marine-terminal": ("CPC", "KTK"),
    "btc-pipeline": ("BTC", "Baku–Tbilisi–Ceyhan", "Baku-Tiflis-Ceyhan"),
    "csto": ("CSTO", "OVKS", "ODKB"),
    "eaeu": ("EAEU", "EAWU", "EEU"),
    "tengiz": ("Tengiz", "Tengis"),
    "kashagan": ("Kashagan", "Kaschagan"),
    "emba": ("Emba", "Emba-5"),
    "sary-shagan": ("Sary-Shagan", "Sary-Schagan", "Saryshagan"),
    "kz-ru-border": ("Russia–Kazakhstan border", "russisch-kasachische Grenze"),
}


def geojson_feature(properties: dict[str, Any], geometry: Any) -> dict[str, Any]:
    """Return a GeoJSON feature whose id is its ``properties["id"]`` (as Leaflet layers and
    links look it up).

    >>> geojson_feature({"id": "almaty"}, None)["id"]
    'almaty'
    """
    return {"type": "Feature", "id": properties["id"], "properties": properties,
            "geometry": geometry}


def mark_of(properties: Mapping[str, Any]) -> Mark:
    """Return the registry row of a feature: by its category, else by its layer.

    >>> mark_of({"category": "oil-field", "layer": "sites"}).legend.startswith("Site")
    True
    >>> mark_of({"layer": "places"}).category, mark_of({}).category
    ('place', 'place')
    """
    category = properties.get("category")
    if category in MARKS:
        return MARKS[category]
    layer = properties.get("layer") or ""
    return MARKS["new"] if layer == "new" else MARKS_BY_LAYER.get(layer, MARKS["place"])


PRECISIONS: tuple[str, ...] = ("exact", "city", "region", "country", "schematic", "approximate")
BASE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "name_de",
    "kind",
    "category",
    "themes",
    "precision",
    "source",
)
CRS = "EPSG:4326"


def theme_ids(category: str | None) -> list[str]:
    """Return the theme ids of a feature category (none for an unknown or missing one).

    >>> theme_ids("border-crossing")
    ['migration', 'territory', 'security']
    >>> theme_ids("no-such-category"), theme_ids(None)
    ([], [])
    """
    return list(CATEGORY_THEMES.get(category or "", ()))


def frame_features(features: list[dict]) -> gpd.GeoDataFrame:
    """Return GeoJSON features as a GeoDataFrame with the base columns first and themes added.

    >>> frame_features([]).columns.tolist()[:3], len(frame_features([]))
    (['id', 'name', 'name_de'], 0)
    >>> point = {"type": "Point", "coordinates": [63.3, 45.9]}
    >>> frame = frame_features([{"properties": {"id": "x", "category": "cosmodrome"},
    ...                          "geometry": point}])
    >>> frame.loc[0, "themes"], frame.loc[0, "name"] is None, frame.crs.to_string()
    (['security', 'territory'], True, 'EPSG:4326')
    """
    import geopandas as gpd

    if not features:
        return gpd.GeoDataFrame(columns=[*BASE_COLUMNS, "geometry"], geometry="geometry", crs=CRS)
    frame = gpd.GeoDataFrame.from_features(features, crs=CRS)
    frame["themes"] = [theme_ids(c) for c in frame.get("category", [None] * len(frame))]
    for column in BASE_COLUMNS:
        if column not in frame:
            frame[column] = None
    extra = [c for c in frame.columns if c not in BASE_COLUMNS and c != "geometry"]
    return frame[[*BASE_COLUMNS, *extra, "geometry"]]


def read_features(path: str | os.PathLike) -> list[dict]:
    """Return the features of a GeoJSON FeatureCollection file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["features"]


def load_layers(geodata_dir: str | os.PathLike = GEODATA_DIR) -> dict[str, gpd.GeoDataFrame]:
    """Return every map layer keyed by name ("countries", "borders", ...), each in EPSG:4326."""
    folder = Path(geodata_dir)
    return {
        name: frame_features(read_features(folder / file)) for name, file in LAYER_FILES.items()
    }


def get_feature(layers: dict[str, gpd.GeoDataFrame], feature_id: str) -> pd.Series | None:
    """Return the feature with id ``feature_id`` from any layer, or None if there is none.

    >>> layers = {"sites": frame_features([{"properties": {"id": "baikonur"},
    ...           "geometry": {"type": "Point", "coordinates": [63.3, 45.9]}}])}
    >>> get_feature(layers, "baikonur")["geometry"].x
    63.3
    >>> get_feature(layers, "atlantis") is None, get_feature({}, "baikonur") is None
    (True, True)
    """
    for frame in layers.values():
        hits = frame.loc[frame["id"] == feature_id]
        if len(hits):
            return hits.iloc[0]
    return None


def check_layers(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Return what is wrong with the layers (duplicate ids, bad CRS, themes, precision, source).

    >>> check_layers({})
    []
    >>> bad = frame_features([{"properties": {"id": "a", "precision": "vague"},
    ...                        "geometry": {"type": "Point", "coordinates": [0, 0]}}] * 2)
    >>> check_layers({"sites": bad})  # doctest: +NORMALIZE_WHITESPACE
    ["sites/a: precision 'vague' unknown", 'sites/a: no source', 'sites/a: no themes',
     "sites: id 'a' is not unique"]
    """
    problems, seen = [], set()
    for name, frame in layers.items():
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            problems.append(f"{name}: CRS is {frame.crs}, not EPSG:4326")
        for row in frame.itertuples():
            where = f"{name}/{row.id}"
            if row.id in seen:
                problems.append(f"{name}: id {row.id!r} is not unique")
            seen.add(row.id)
            if row.precision not in PRECISIONS:
                problems.append(f"{where}: precision {row.precision!r} unknown")
            if not row.source:
                problems.append(f"{where}: no source")
            if not row.themes or not set(row.themes) <= set(THEME_IDS):
                problems.append(f"{where}: no themes" if not row.themes else f"{where}: bad themes")
    return list(dict.fromkeys(problems))
