"""Map layers: countries, borders, pipelines, sites and alliances from the files in geodata/.

The files are derived by ``geodata/rebuild.py``; this module only reads them, adds each feature's
themes from :data:`CATEGORY_THEMES` and returns one GeoDataFrame (EPSG:4326) per layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from kzgeo.config import GEODATA_DIR
from kzgeo.themes import THEME_IDS

# Layer name -> file in geodata/ (adding a layer means adding a row here and a file there).
LAYER_FILES: dict[str, str] = {
    "countries": "countries.geojson",
    "borders": "borders.geojson",
    "pipelines": "pipelines.geojson",
    "sites": "sites.geojson",
    "alliances": "alliances.geojson",
}

# Feature category -> theme ids (a finer type than `kind`; every feature has one).
CATEGORY_THEMES: dict[str, tuple[str, ...]] = {
    "country": ("diplomacy", "territory"),
    "land-border": ("territory", "security"),
    "oil-pipeline": ("energy", "economy"),
    "gas-pipeline": ("energy", "economy"),
    "oil-terminal": ("energy", "economy"),
    "oil-field": ("energy", "economy"),
    "cosmodrome": ("security", "territory"),
    "military-test-range": ("security", "territory"),
    "border-crossing": ("migration", "territory", "security"),
    "military-alliance": ("security",),
    "economic-union": ("economy", "diplomacy"),
}

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
