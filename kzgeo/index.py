"""Join resolved places and geodata layers into one index: the GeoJSON the map and export share.

Every layer feature (country, alliance, border, pipeline, site) keeps its geometry and
attributes and takes the quotes of the place with the same id; every other resolved place
becomes a point. Properties follow the export contract in DESIGN.md: id, name, kind, themes,
precision and quotes ({article_id, title, outlet, date, text, start, end, ...}).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from kzgeo import __version__
from kzgeo.corpus import Article, CorpusLoad, load_corpus
from kzgeo.files import write_atomic
from kzgeo.gazetteer import load_gazetteer
from kzgeo.layers import load_layers
from kzgeo.resolve import Geoparse, Place, geoparse
from kzgeo.themes import THEME_IDS

# Drawing order, bottom to top; resolved places without a layer go into "places".
LAYER_ORDER: tuple[str, ...] = ("countries", "alliances", "borders", "pipelines", "sites")
PLACES_LAYER = "places"

ATTRIBUTION = (
    "Places: GeoNames (CC BY 4.0, geonames.org). Country outlines: Natural Earth 1:10m "
    "(public domain) via world-atlas. Pipelines and sites: schematic, see geodata/README.md."
)

MENTION_COLUMNS: tuple[str, ...] = (
    "article_id",
    "title",
    "outlet",
    "date",
    "surface",
    "start",
    "end",
    "place_id",
    "kind",
    "precision",
    "confidence",
    "sentence",
    "sentence_start",
    "sentence_end",
    "reason",
    "rejected",
)


def ordered_themes(*theme_lists: list[str] | tuple[str, ...] | None) -> list[str]:
    """Return the union of theme lists in the order of the theme table.

    >>> ordered_themes(["security", "energy"], ("energy", "migration"), None)
    ['energy', 'security', 'migration']
    >>> ordered_themes()
    []
    """
    wanted = {theme for themes in theme_lists for theme in themes or ()}
    return [theme for theme in THEME_IDS if theme in wanted]


def place_properties(place: Place) -> dict[str, Any]:
    """Return what a resolved place adds to a feature: its quotes, names and evidence."""
    return {
        "names": list(place.names),
        "mention_count": place.mention_count,
        "confidence": round(place.confidence, 3),
        "quotes": [quote.to_dict() for quote in place.quotes],
        "rejected": list(place.rejected),
    }


def layer_feature(layer: str, feature: dict, place: Place | None) -> dict:
    """Return one layer feature with the quotes of the place that shares its id."""
    properties = {key: value for key, value in feature["properties"].items() if value is not None}
    properties["layer"] = layer
    properties.update(place_properties(place) if place else {"mention_count": 0, "quotes": []})
    properties["themes"] = ordered_themes(properties.get("themes"), place and place.themes)
    return {
        "type": "Feature",
        "id": properties["id"],
        "properties": properties,
        "geometry": feature["geometry"],
    }


def point_feature(place: Place) -> dict:
    """Return a resolved place that no layer draws as a GeoJSON point."""
    properties = {
        "id": place.id,
        "name": place.name,
        "name_de": place.name_de,
        "kind": place.kind,
        "layer": PLACES_LAYER,
        "precision": place.precision,
        "country": place.country,
        "themes": ordered_themes(place.themes),
        **place_properties(place),
    }
    return {
        "type": "Feature",
        "id": place.id,
        "properties": properties,
        "geometry": {"type": "Point", "coordinates": [round(place.lon, 5), round(place.lat, 5)]},
    }


def frame_to_features(frame: gpd.GeoDataFrame) -> list[dict]:
    """Return a GeoDataFrame's rows as plain GeoJSON feature dicts."""
    return json.loads(frame.to_json(drop_id=True, to_wgs84=True))["features"]


def build_index(parsed: Geoparse, layers: dict[str, gpd.GeoDataFrame]) -> dict:
    """Return the FeatureCollection of everything the map can show: layers, then places."""
    places = {place.id: place for place in parsed.places}
    features: list[dict] = []
    drawn: set[str] = set()
    unplaced: list[str] = []
    for layer in LAYER_ORDER:
        for feature in frame_to_features(layers[layer]):
            feature_id = feature["properties"]["id"]
            if feature["geometry"] is None:  # too small to survive simplification
                unplaced.append(feature_id)
                continue
            features.append(layer_feature(layer, feature, places.get(feature_id)))
            drawn.add(feature_id)
    for place in sorted(parsed.places, key=lambda p: (-p.mention_count, p.id)):
        if place.id in drawn:
            continue
        if place.lat is None or place.lon is None:
            unplaced.append(place.id)
            continue
        features.append(point_feature(place))
    return {
        "type": "FeatureCollection",
        "features": features,
        "metadata": {
            "generator": f"kzgeo {__version__}",
            "crs": "EPSG:4326",
            "attribution": ATTRIBUTION,
            "unplaced": unplaced,
        },
    }


def mention_rows(parsed: Geoparse, articles: tuple[Article, ...]) -> list[dict[str, Any]]:
    """Return one flat row per resolved mention, with its article's metadata."""
    by_id = {article.id: article for article in articles}
    rows = []
    for mention in parsed.mentions:
        row = mention.to_row()
        article = by_id.get(mention.article_id or "")
        row["title"] = article.title if article else ""
        row["outlet"] = article.outlet if article else ""
        row["date"] = article.date.isoformat() if article and article.date else ""
        rows.append({column: row.get(column, "") for column in MENTION_COLUMNS})
    return rows


def mentions_csv(rows: list[dict[str, Any]]) -> str:
    """Return mention rows as CSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MENTION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def geojson_text(collection: dict) -> str:
    """Return a FeatureCollection as compact UTF-8 JSON text."""
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class CorpusIndex:
    """Everything built from one corpus folder: articles, geoparse, layers and the index."""

    corpus: CorpusLoad
    parsed: Geoparse
    layers: dict[str, gpd.GeoDataFrame]
    collection: dict

    def feature(self, feature_id: str) -> dict | None:
        """Return the feature with ``feature_id``, or None."""
        return next((f for f in self.collection["features"] if f["id"] == feature_id), None)


def index_corpus(folder: Path) -> CorpusIndex:
    """Load, geoparse and index the corpus in ``folder`` (raises CorpusError if it is missing)."""
    corpus = load_corpus(folder)
    parsed = geoparse(corpus.articles, load_gazetteer())
    layers = load_layers()
    return CorpusIndex(corpus, parsed, layers, build_index(parsed, layers))


def export_files(index: CorpusIndex, geojson_path: Path, csv_path: Path | None = None) -> None:
    """Write the index as GeoJSON (and the mentions as CSV), each atomically."""
    write_atomic(geojson_path, geojson_text(index.collection))
    if csv_path is not None:
        write_atomic(csv_path, mentions_csv(mention_rows(index.parsed, index.corpus.articles)))
