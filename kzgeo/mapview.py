"""Build the folium map: country outlines as the offline base, optional tiles, vendored assets.

Small functions over data; the app adds layers (markers, pipelines, borders, ...) as folium
elements through ``build_map(..., overlays=...)``. Nothing here needs the internet: the base is
the bundled country GeoJSON, tile layers are opt-in, and every JS/CSS link points at
``static/vendor/`` (see ``kzgeo.assets``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import folium
import folium.plugins

from kzgeo.assets import STATIC_VENDOR_URL, localize_assets

MAP_CENTER: tuple[float, float] = (48.0, 68.0)
MAP_ZOOM = 4
MAP_BACKGROUND = "#dfe9ee"  # the sea, where no tiles are drawn

ATTRIBUTION = (
    'Borders: <a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain)'
    ' · Places: <a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)'
)


class TileOption(NamedTuple):
    """An optional tile layer (needs internet): URL template, attribution and label."""

    url: str
    attr: str
    label: str


_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
TILE_OPTIONS: tuple[TileOption, ...] = (
    TileOption(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png", _OSM_ATTR, "OpenStreetMap (online)"
    ),
    TileOption(
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        f'{_OSM_ATTR} &copy; <a href="https://carto.com/attributions">CARTO</a>',
        "CartoDB Positron (online)",
    ),
)

COUNTRY_STYLE: dict[str, Any] = {
    "fillColor": "#f4f1e8",
    "fillOpacity": 1.0,
    "color": "#7a7a7a",
    "weight": 0.8,
}
# Per-country overrides by ISO 3166-1 alpha-2 code: the focus of the corpus stands out.
COUNTRY_STYLE_BY_ISO: dict[str, dict[str, Any]] = {
    "KZ": {"fillColor": "#d6ecf2", "color": "#00799A", "weight": 1.6},
}
COUNTRY_HIGHLIGHT: dict[str, Any] = {"weight": 2.2, "color": "#00566e"}
GRATICULE_STYLE: dict[str, Any] = {"color": "#9fb6c1", "weight": 0.6, "dashArray": "2 4"}


def style_country(feature: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Leaflet path style of a country feature.

    >>> style_country({"properties": {"iso_a2": "KZ"}})["color"]
    '#00799A'
    >>> style_country({"properties": {}}) == COUNTRY_STYLE
    True
    """
    iso = (feature.get("properties") or {}).get("iso_a2")
    return {**COUNTRY_STYLE, **COUNTRY_STYLE_BY_ISO.get(iso, {})}


def label_field(features: Sequence[Mapping[str, Any]], preferred: Sequence[str]) -> str | None:
    """Return the first of ``preferred`` that every feature has as a property, else None.

    >>> label_field([{"properties": {"name": "Kazakhstan", "name_de": "Kasachstan"}}],
    ...             ("name_de", "name"))
    'name_de'
    >>> label_field([{"properties": {"name": "A"}}, {"properties": {}}], ("name",)) is None
    True
    >>> label_field([], ("name",)) is None
    True
    """
    if not features:
        return None
    for key in preferred:
        if all(key in (f.get("properties") or {}) for f in features):
            return key
    return None


def graticule(step: int = 10, bounds: tuple[int, int, int, int] = (20, 0, 80, 150)) -> dict:
    """Return meridians and parallels every ``step`` degrees within (south, west, north, east).

    >>> g = graticule(30, (0, 0, 60, 60))
    >>> [f["properties"]["name"] for f in g["features"]]
    ['0° E', '30° E', '60° E', '0° N', '30° N', '60° N']
    """
    south, west, north, east = bounds
    meridians = [
        _line(f"{lon}° E", [[lon, lat] for lat in range(south, north + 1, step)])
        for lon in range(west, east + 1, step)
    ]
    parallels = [
        _line(f"{lat}° N", [[lon, lat] for lon in range(west, east + 1, step)])
        for lat in range(south, north + 1, step)
    ]
    return {"type": "FeatureCollection", "features": meridians + parallels}


def _line(name: str, coords: list[list[int]]) -> dict:
    """Return a graticule LineString feature."""
    return {
        "type": "Feature",
        "properties": {"id": f"graticule-{name}", "name": name, "kind": "graticule"},
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def read_geojson(path: Path) -> dict | None:
    """Read a GeoJSON file; return None when it does not exist."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def new_map(center: tuple[float, float] = MAP_CENTER, zoom: int = MAP_ZOOM) -> folium.Map:
    """Return an empty map (no tiles) centred on Central Asia, with a sea-coloured background."""
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        min_zoom=2,
        max_zoom=12,
        control_scale=True,
        world_copy_jump=True,
    )
    # Without tiles folium sets no zoom limits on the map itself; marker clustering needs them.
    m.options.update(max_zoom=12, min_zoom=2)
    m.get_root().header.add_child(
        folium.Element(f"<style>.leaflet-container {{ background: {MAP_BACKGROUND}; }}</style>"),
        name="kzgeo_background",
    )
    return m


def countries_layer(countries: Any) -> folium.GeoJson:
    """Return the country outlines (GeoJSON mapping or GeoDataFrame) as a styled layer."""
    features = _features(countries)
    field = label_field(features, ("name_de", "name"))
    return folium.GeoJson(
        countries,
        name="Countries",
        style_function=style_country,
        highlight_function=lambda _feature: COUNTRY_HIGHLIGHT,
        tooltip=folium.GeoJsonTooltip(fields=[field], labels=False) if field else None,
        control=False,
        attribution=ATTRIBUTION,
    )


def graticule_layer() -> folium.GeoJson:
    """Return the fallback base: a graticule, drawn when no country data is available."""
    return folium.GeoJson(
        graticule(),
        name="Graticule",
        style_function=lambda _feature: GRATICULE_STYLE,
        control=False,
        attribution=ATTRIBUTION,
    )


def tile_layers(options: Iterable[TileOption] = TILE_OPTIONS) -> list[folium.TileLayer]:
    """Return the optional tile layers, each hidden until switched on in the layer control."""
    return [
        folium.TileLayer(
            o.url,
            attr=o.attr,
            name=o.label,
            overlay=True,
            show=False,
            control=True,
            subdomains="abcd",
            max_zoom=19,
        )
        for o in options
    ]


def _features(data: Any) -> list[Mapping[str, Any]]:
    """Return the features of a GeoJSON mapping or of anything with ``__geo_interface__``."""
    geo = data.__geo_interface__ if hasattr(data, "__geo_interface__") else data
    return list((geo or {}).get("features", []))


def build_map(
    countries: Any = None,
    *,
    overlays: Sequence[folium.map.Layer] = (),
    tiles: Iterable[TileOption] = TILE_OPTIONS,
    center: tuple[float, float] = MAP_CENTER,
    zoom: int = MAP_ZOOM,
    asset_url: str = STATIC_VENDOR_URL,
) -> folium.Map:
    """Build the map: country outlines (else a graticule), overlays, opt-in tiles, local assets.

    ``countries`` is a GeoJSON FeatureCollection mapping or a GeoDataFrame (EPSG:4326);
    ``asset_url`` is where ``static/vendor/`` is served.
    """
    m = new_map(center, zoom)
    base = countries_layer(countries) if _features(countries) else graticule_layer()
    base.add_to(m)
    for layer in [*tile_layers(tiles), *overlays]:
        layer.add_to(m)
    folium.plugins.Fullscreen(title="Full screen", title_cancel="Exit full screen").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m, asset_url)


# ---------------------------------------------------------------- index layers (dashboard)

# How each index layer is drawn: name in the layer control and Leaflet path style.
# Adding a layer means adding a row here (and to kzgeo.index.LAYER_ORDER).
LAYER_STYLES: dict[str, dict[str, Any]] = {
    "alliances": {
        "label": "Alliances (EAEU, CSTO)",
        "color": "#6a51a3",
        "weight": 1.5,
        "fillOpacity": 0.08,
        "dashArray": "6 4",
    },
    "borders": {"label": "Kazakhstan's borders", "color": "#b2182b", "weight": 4, "opacity": 0.85},
    "pipelines": {
        "label": "Pipelines (schematic)",
        "color": "#8c510a",
        "weight": 4,
        "opacity": 0.9,
    },
    "sites": {
        "label": "Sites",
        "color": "#252525",
        "fillColor": "#ffffff",
        "weight": 2.5,
        "radius": 7,
        "fill": True,
        "fillOpacity": 1.0,
    },
    "places": {
        "label": "Places in the articles",
        "color": "#ffffff",
        "weight": 1,
        "fill": True,
        "fillOpacity": 0.85,
    },
    # this session's own articles (issue #8): drawn last, on top, in a colour no theme uses
    "new": {
        "label": "Your article (new)",
        "color": "#111111",
        "fillColor": "#ff2bd6",
        "weight": 3,
        "radius": 10,
        "fill": True,
        "fillOpacity": 1.0,
        "opacity": 1.0,
    },
}
NEW_TOOLTIP_ALIAS = "new ·"  # what the tooltip of a new feature says before its name
FUEL_COLOURS: dict[str, str] = {"oil": "#8c510a", "gas": "#2166ac"}
MAP_PROPERTIES = ("id", "name", "name_de", "kind", "layer", "mention_count", "iso_a2")


def marker_radius(mention_count: int) -> float:
    """Return a circle radius in pixels growing with the square root of the mentions.

    >>> marker_radius(1), marker_radius(100), marker_radius(0)
    (5.5, 19.0, 4.0)
    """
    return round(4.0 + 1.5 * max(mention_count, 0) ** 0.5, 1)


def slim_feature(feature: Mapping[str, Any], colour: str | None) -> dict[str, Any]:
    """Return a feature with only what the map needs (quotes stay on the server)."""
    properties = {key: feature["properties"].get(key) for key in MAP_PROPERTIES}
    properties["name_de"] = properties["name_de"] or properties["name"]
    properties["colour"] = colour
    return {
        "type": "Feature",
        "id": feature["id"],
        "properties": properties,
        "geometry": feature["geometry"],
    }


def feature_style(layer: str) -> Any:
    """Return a style function for one index layer (colour and size from the properties)."""
    base = {key: value for key, value in LAYER_STYLES[layer].items() if key != "label"}

    def style(feature: Mapping[str, Any]) -> dict[str, Any]:
        properties = feature["properties"]
        extra: dict[str, Any] = {}
        if layer == "places":
            extra = {
                "fillColor": properties["colour"],
                "radius": marker_radius(properties["mention_count"] or 0),
            }
        elif layer == "pipelines" and properties.get("colour"):
            extra = {"color": properties["colour"]}
        return {**base, **extra}

    return style


def index_layer(layer: str, features: Sequence[Mapping[str, Any]]) -> folium.map.Layer:
    """Return one index layer as a clickable folium layer (points clustered where dense)."""
    # sticky tooltips follow the mouse and break on clustered markers (Leaflet.markercluster)
    tooltip = folium.GeoJsonTooltip(fields=["name", "name_de"], labels=False, sticky=False)
    if layer == "new":
        tooltip = folium.GeoJsonTooltip(
            fields=["name"], aliases=[NEW_TOOLTIP_ALIAS], labels=True, sticky=False
        )
    is_point = layer in {"places", "sites", "new"}
    geojson = folium.GeoJson(
        {"type": "FeatureCollection", "features": list(features)},
        name=LAYER_STYLES[layer]["label"],
        style_function=feature_style(layer),
        highlight_function=lambda _feature: {"weight": 5} if not is_point else {"weight": 3},
        tooltip=tooltip,
        marker=folium.CircleMarker() if is_point else None,
        smooth_factor=1.0,
    )
    if layer != "places":
        return geojson
    cluster = folium.plugins.MarkerCluster(
        name=LAYER_STYLES[layer]["label"],
        options={
            "maxClusterRadius": 25,
            "disableClusteringAtZoom": 6,
            "showCoverageOnHover": False,
        },
    )
    geojson.control = False
    geojson.add_to(cluster)
    return cluster


def index_layers(
    features: Sequence[Mapping[str, Any]], colours: Mapping[str, str]
) -> list[folium.map.Layer]:
    """Return the folium layers of the visible index features, bottom to top.

    ``colours`` maps a feature id to its marker colour (its main theme's colour).
    """
    by_layer: dict[str, list[dict]] = {layer: [] for layer in LAYER_STYLES}
    for feature in features:
        layer = feature["properties"]["layer"]
        if layer in by_layer:
            colour = colours.get(feature["id"])
            if layer == "pipelines":
                colour = FUEL_COLOURS.get(feature["properties"].get("fuel", ""), colour)
            by_layer[layer].append(slim_feature(feature, colour))
    return [index_layer(layer, rows) for layer, rows in by_layer.items() if rows]


def legend_html(entries: Sequence[tuple[str, str]]) -> str:
    """Return an HTML legend of (colour, label) rows (labels escaped).

    >>> legend_html([("#d95f02", "Energy <b>")])
    '<div class="kz-legend"><span style="background:#d95f02"></span>Energy &lt;b&gt;</div>'
    """
    return "".join(
        f'<div class="kz-legend"><span style="background:{escape(colour)}"></span>'
        f"{escape(label)}</div>"
        for colour, label in entries
    )
