"""Build the folium map: country outlines as the offline base, optional tiles, vendored assets.

Small functions over data; the app adds layers (markers, pipelines, borders, ...) as folium
elements through ``build_map(..., overlays=...)``. Nothing here needs the internet: the base is
the bundled country GeoJSON, tile layers are opt-in, and every JS/CSS link points at
``static/vendor/`` (see ``kzgeo.assets``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import folium
import folium.plugins
from folium.utilities import JsCode

from kzgeo.assets import STATIC_VENDOR_URL, localize_assets
from kzgeo.config import GEODATA_DIR
from kzgeo.credits import credits_html
from kzgeo.dashboard import VIEW_RANGES
from kzgeo.layers import INK, MARKS, MARKS_BY_LAYER, REGISTRY, geojson_feature, mark_of
from kzgeo.themes import THEMES

THEME_COLOURS: dict[str, str] = {theme.id: theme.colour for theme in THEMES}

MAP_CENTER: tuple[float, float] = (48.0, 68.0)
MAP_ZOOM = 4
MAP_BACKGROUND = "#dfe9ee"  # the sea, where no tiles are drawn

ATTRIBUTION = credits_html()


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

COUNTRY_STYLE: dict[str, Any] = dict(MARKS["country"].style)
# Per-country overrides by ISO 3166-1 alpha-2 code: the focus of the corpus stands out.
COUNTRY_STYLE_BY_ISO: dict[str, dict[str, Any]] = {
    "KZ": {"fillColor": "#d6ecf2", "color": "#00799A", "weight": 1.6},
}
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
    # Half zoom steps for fitting a selection: the EAEU (Belarus to Chukotka) fills the map at
    # 2.5 and would be a small shape in a wide ocean at 2; the buttons still step by 1.
    m.options.update(max_zoom=12, min_zoom=2, zoom_snap=0.5)
    m.get_root().header.add_child(folium.Element(BASE_CSS), name="kzgeo_background")
    return m


BASE_CSS = f"<style>.leaflet-container {{ background: {MAP_BACKGROUND}; }}</style>"


def countries_layer(countries: Any) -> folium.GeoJson:
    """Return the country outlines (GeoJSON mapping or GeoDataFrame) as a styled layer."""
    features = _features(countries)
    field = label_field(features, ("name",))
    return folium.GeoJson(
        countries,
        name="Countries",
        style_function=style_country,
        on_each_feature=JsCode(FEATURE_TOOLTIP_JS) if field else None,
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
    ``asset_url`` is where ``static/vendor/`` is served. ``center``/``zoom`` is the home view;
    embedded in a page, the map takes and keeps the page's view (``ViewInUrl``).
    """
    m = new_map(center, zoom)
    for name, (z_index, pointer_events) in PANES.items():
        folium.map.CustomPane(name, z_index, pointer_events).add_to(m)
    m.get_root().header.add_child(folium.Element(CLUSTER_CSS), name="kzgeo_marks")
    base = countries_layer(countries) if _features(countries) else graticule_layer()
    base.add_to(m)
    for layer in [*tile_layers(tiles), *overlays]:
        layer.add_to(m)
    folium.plugins.Fullscreen(title="Full screen", title_cancel="Exit full screen").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    ViewInUrl(center, zoom).add_to(m)
    MapBehaviour().add_to(m)  # after ViewInUrl: it knows whether the map opened at a view
    return localize_assets(m, asset_url)


# ---------------------------------------------------------------- index layers (dashboard)

# Stacking: every geometry kind in its own Leaflet pane, so points stay above lines above areas
# whatever is highlighted or brought to front (countries stay in Leaflet's overlay pane, 400).
# Alliance outlines lie in a pane that takes no pointer events at all (see kzgeo.layers).
PANES: dict[str, tuple[int, bool]] = {  # pane name -> (z-index, takes pointer events)
    "kz-outlines": (405, False),
    "kz-lines": (420, True),
    "kz-points": (430, True),
}
GEOMETRY_PANES: dict[str, str] = {"area": "kz-outlines", "line": "kz-lines", "point": "kz-points"}

# How a selected, hovered or focused feature is drawn, per geometry kind (added to its style;
# "radius" is added to a point's radius).
SELECTED_STYLE: dict[str, dict[str, Any]] = {
    "point": {"color": "#000000", "weight": 4, "radius": 5, "opacity": 1},
    "line": {"weight": 9, "opacity": 1},
    "area": {"color": "#000000", "weight": 3.5, "fillColor": "#fff3b0", "opacity": 1},
}
HOVER_STYLE: dict[str, dict[str, Any]] = {
    "point": {"weight": 3, "radius": 2},
    "line": {"weight": 7},
    "area": {"weight": 2.2, "color": "#00566e"},
}
NEW_TOOLTIP_ALIAS = "new ·"  # what the tooltip of a new feature says before its name
MAP_PROPERTIES = (
    "id", "name", "name_de", "kind", "layer", "category", "mention_count", "iso_a2", "confidence",
    "precision",
)  # fmt: skip
# A place the geoparser is unsure of (confidence below this) is drawn with a dashed, paler edge
# and its panel says so: calibrated on the held-out set (docs/geoparser-quality.md), mentions
# at 0.9 or more were right 99 % of the time.
LOW_CONFIDENCE = 0.8
UNSURE_STYLE = {"dashArray": "3 3", "fillOpacity": 0.45}
UNSURE_LEGEND = "Uncertain place (geoparser confidence below 0.8): dashed edge"
# A continent or macro-region (Europe, Central Asia) is a label point, not a place: drawn as a
# small hollow ring whatever its mentions, so it never buries the places inside it.
BROAD_PRECISIONS = frozenset({"continent", "macro-region"})
BROAD_STYLE = {"radius": 7, "fillOpacity": 0.0, "weight": 2.5, "dashArray": "1 3",
               "lineCap": "round"}  # a dotted ring: unlike a site's solid one
BROAD_LEGEND = "Continent or macro-region (a label point, not sized by mentions)"


def is_unsure(properties: Mapping[str, Any]) -> bool:
    """Tell whether a place's geoparser confidence is below LOW_CONFIDENCE (None: not a place).

    >>> is_unsure({"confidence": 0.45}), is_unsure({"confidence": 0.95}), is_unsure({})
    (True, False, False)
    """
    confidence = properties.get("confidence")
    return confidence is not None and confidence < LOW_CONFIDENCE


def _layer_styles() -> dict[str, dict[str, Any]]:
    """Return each index layer's label and first style (for the layer control and old callers)."""
    styles: dict[str, dict[str, Any]] = {}
    for layer in dict.fromkeys(m.layer for m in REGISTRY if m.layer != "countries"):
        mark = MARKS_BY_LAYER[layer]
        styles[layer] = {"label": LAYER_LABELS[layer], **mark.style}
    return styles


LAYER_LABELS: dict[str, str] = {
    "alliances": "Alliances (EAEU, CSTO)",
    "borders": "Kazakhstan's borders",
    "pipelines": "Pipelines (schematic)",
    "routes": "Trade corridors (schematic)",
    "sites": "Sites",
    "places": "Places in the articles",
    "new": "Added articles (collection)",
}
LAYER_STYLES: dict[str, dict[str, Any]] = _layer_styles()  # bottom to top


def marker_radius(mention_count: int) -> float:
    """Return a circle radius in pixels: area in proportion to the mentions up to 100 (19 px),
    then 4 px more per tenfold, at most ``MAX_RADIUS``, so that an archive's most named places
    (hundreds of thousands of mentions) do not cover the map.

    >>> marker_radius(1), marker_radius(100), marker_radius(0)
    (5.5, 19.0, 4.0)
    >>> marker_radius(1_000), marker_radius(10_000), marker_radius(915_000)
    (23.0, 27.0, 32.0)
    """
    count = max(mention_count, 0)
    if count <= 100:
        return round(4.0 + 1.5 * count**0.5, 1)
    return round(min(MAX_RADIUS, 19.0 + 4.0 * math.log10(count / 100)), 1)


MAX_RADIUS = 32.0  # pixels: the largest place marker


def slim_feature(feature: Mapping[str, Any], colour: str | None) -> dict[str, Any]:
    """Return a feature with only what the map needs (quotes stay on the server)."""
    properties = {key: feature["properties"].get(key) for key in MAP_PROPERTIES}
    properties["name_de"] = properties["name_de"] or properties["name"]
    properties["colour"] = colour
    return geojson_feature(properties, feature["geometry"])


def feature_style(layer: str) -> Any:
    """Return a style function for one index layer: its kind's style from the layer registry,
    the main theme's colour and a size by mentions for places, and its stacking pane."""

    def style(feature: Mapping[str, Any]) -> dict[str, Any]:
        properties = {"layer": layer, **feature["properties"]}
        mark = mark_of(properties)
        extra: dict[str, Any] = {"pane": GEOMETRY_PANES[mark.geometry]}
        if layer == "places":
            extra.update(
                fillColor=properties.get("colour") or THEME_COLOURS["other"],
                radius=marker_radius(properties.get("mention_count") or 0),
            )
        if layer in ("places", "new") and is_unsure(properties):
            extra.update(UNSURE_STYLE)
        if properties.get("precision") in BROAD_PRECISIONS:
            extra.update(BROAD_STYLE)
        return {**mark.style, **extra}

    return style


# Each feature's own tooltip, its text set as text (never markup): the name, the German name when
# it differs, "new ·" before the places of the user's own articles -- the same names the panel
# shows. Bound per feature, because Leaflet.markercluster takes clustered markers out of their
# GeoJSON layer (and its tooltip).
FEATURE_TOOLTIP_JS = """function (feature, layer) {
  var p = feature.properties || {}, box = document.createElement("div");
  var lines = p.layer === "new" ? [NEW_ALIAS + " " + p.name] : [p.name];
  if (p.layer !== "new" && p.name_de && p.name_de !== p.name) { lines.push(p.name_de); }
  lines.forEach(function (text) {
    var line = document.createElement("div");
    line.textContent = text;
    box.appendChild(line);
  });
  layer.bindTooltip(box, {sticky: false});
}""".replace("NEW_ALIAS", json.dumps(NEW_TOOLTIP_ALIAS))


def index_layer(layer: str, features: Sequence[Mapping[str, Any]]) -> folium.map.Layer:
    """Return one index layer as a folium layer (points clustered where dense); alliances are
    outlines that take no clicks (``kzgeo.layers.REGISTRY``)."""
    mark = MARKS_BY_LAYER[layer]
    is_point = mark.geometry == "point"
    geojson = folium.GeoJson(
        {"type": "FeatureCollection", "features": list(features)},
        name=LAYER_LABELS[layer],
        style_function=feature_style(layer),
        on_each_feature=JsCode(FEATURE_TOOLTIP_JS),
        marker=folium.CircleMarker() if is_point else None,
        smooth_factor=1.0,
        pane=GEOMETRY_PANES[mark.geometry],
        interactive=mark.interactive,
    )
    if layer != "places":
        return geojson
    cluster = folium.plugins.MarkerCluster(
        name=LAYER_LABELS[layer],
        options={
            "maxClusterRadius": 25,
            "disableClusteringAtZoom": 6,
            "showCoverageOnHover": False,
            "clusterPane": GEOMETRY_PANES["point"],
        },
    )
    geojson.control = False
    geojson.add_to(cluster)
    return cluster


def index_layers(
    features: Sequence[Mapping[str, Any]], colours: Mapping[str, str]
) -> list[folium.map.Layer]:
    """Return the folium layers of the visible index features, bottom to top.

    ``colours`` maps a place's id to its marker colour (its main theme's colour).
    """
    by_layer: dict[str, list[dict]] = {layer: [] for layer in LAYER_STYLES}
    for feature in features:
        layer = feature["properties"]["layer"]
        if layer in by_layer:
            by_layer[layer].append(slim_feature(feature, colours.get(feature["id"])))
    return [index_layer(layer, rows) for layer, rows in by_layer.items() if rows]


def marker_colours(features: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return each feature's marker colour: the colour of its main theme (grey: other)."""
    from kzgeo.dashboard import main_theme

    return {
        f["id"]: THEME_COLOURS.get(main_theme(f["properties"]) or "other", THEME_COLOURS["other"])
        for f in features
    }


def dashboard_map(
    visible: Sequence[Mapping[str, Any]],
    colours: Mapping[str, str],
    new: Sequence[Mapping[str, Any]] = (),
    asset_url: str = STATIC_VENDOR_URL,
) -> folium.Map:
    """Return the dashboard's map: the visible countries as its base, the other visible
    features and the session's ``new`` ones as layers (built at the home view)."""
    countries = {"type": "FeatureCollection", "features": [
        slim_feature(f, None) for f in visible if f["properties"]["layer"] == "countries"
    ]}  # fmt: skip
    others = [f for f in visible if f["properties"]["layer"] != "countries"]
    overlays = index_layers([*others, *new], colours)
    return build_map(countries, overlays=overlays, asset_url=asset_url)


def countries_map(asset_url: str = STATIC_VENDOR_URL) -> folium.Map:
    """Return the bare map of the bundled country outlines (when the corpus cannot be read)."""
    return build_map(read_geojson(GEODATA_DIR / "countries.geojson"), asset_url=asset_url)


class LegendRow(NamedTuple):
    """One legend entry: the geometry of its swatch, the swatch's style and the label."""

    geometry: str  # "point", "line", "area" or "cluster"
    style: Mapping[str, Any]
    label: str


CLUSTER_LEGEND = "Nearby places grouped (number of places; click to zoom in)"
SELECTED_LEGEND = "Selected: a thick black edge"


def legend_entries(
    features: Sequence[Mapping[str, Any]],
    colours: Mapping[str, str],
    themes: Sequence[tuple[str, str]] | None = None,
) -> list[LegendRow]:
    """Return the legend rows of every kind of mark the map draws from ``features``.

    ``themes`` are (colour, label) of every theme in order (default: ``kzgeo.themes.THEMES``);
    a theme is listed when a drawn place marker has its colour (``colours`` maps a feature id
    to its marker colour). Then one row per legend entry of the layer registry that a drawn
    feature has, the clusters when places are drawn, and how a selection looks.

    >>> places = [{"id": "a", "properties": {"layer": "places"}},
    ...           {"id": "p", "properties": {"layer": "pipelines", "category": "gas-pipeline"}}]
    >>> [row.label for row in legend_entries(places, {"a": "#0072B2"},
    ...     [("#D55E00", "Energy"), ("#0072B2", "Security")])]  # doctest: +NORMALIZE_WHITESPACE
    ['Security (main theme)', 'Gas pipeline (schematic route)',
     'Nearby places grouped (number of places; click to zoom in)',
     'Selected: a thick black edge']
    >>> legend_entries([], {}, [("#D55E00", "Energy")])
    []
    """
    themes = [(t.colour, t.label) for t in THEMES] if themes is None else themes
    if not features:
        return []
    place_style = MARKS["place"].style
    marker_colours = {
        colours.get(f["id"]) for f in features if f["properties"]["layer"] == "places"
    }
    rows = [
        LegendRow("point", {**place_style, "fillColor": colour}, f"{label} (main theme)")
        for colour, label in themes
        if colour in marker_colours
    ]
    drawn = {mark_of(f["properties"]).category for f in features}
    seen: set[str] = set()
    for mark in REGISTRY:
        wanted = mark.category in drawn and mark.category not in ("place", "country")
        if wanted and mark.legend not in seen:
            seen.add(mark.legend)
            rows.append(LegendRow(mark.geometry, mark.style, mark.legend))
    points = [f for f in features if f["properties"]["layer"] in ("places", "new")]
    if any(f["properties"].get("precision") in BROAD_PRECISIONS for f in points):
        rows.append(LegendRow("point", {**place_style, **BROAD_STYLE}, BROAD_LEGEND))
    if any(is_unsure(f["properties"]) for f in points):
        rows.append(LegendRow("point", {**place_style, "fillColor": "#bbbbbb", **UNSURE_STYLE},
                              UNSURE_LEGEND))
    if any(f["properties"]["layer"] == "places" for f in features):
        rows.append(LegendRow("cluster", {}, CLUSTER_LEGEND))
    rows.append(LegendRow("point", {**SELECTED_STYLE["point"], "fillColor": "#bbbbbb"},
                          SELECTED_LEGEND))
    return rows


def _swatch(row: LegendRow) -> str:
    """Return an inline SVG drawing of a legend row's mark (a circle, a line or an outline)."""
    style = row.style
    colour = escape(str(style.get("color", INK)))
    fill = escape(str(style.get("fillColor", "none"))) if style.get("fill", True) else "none"
    dash = escape(str(style.get("dashArray", "")))
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    if row.geometry == "point":
        body = (f'<circle cx="9" cy="9" r="6" fill="{fill}" stroke="{colour}" '
                f'stroke-width="{min(float(style.get("weight", 1)), 4)}"/>')
    elif row.geometry == "line":
        body = (f'<line x1="1" y1="9" x2="25" y2="9" stroke="{colour}" '
                f'stroke-width="{min(float(style.get("weight", 3)), 5)}"{dash_attr}/>')
    elif row.geometry == "area":
        body = (f'<rect x="2" y="3" width="22" height="12" fill="{fill}" stroke="{colour}" '
                f'stroke-width="2"{dash_attr}/>')
    else:  # a cluster bubble as CLUSTER_CSS draws it
        body = (f'<circle cx="10" cy="9" r="8" fill="{INK}" opacity="0.35"/>'
                f'<circle cx="10" cy="9" r="6" fill="{INK}"/>'
                '<text x="10" y="12" font-size="8" fill="#fff" text-anchor="middle">3</text>')
    return f'<svg width="26" height="18" aria-hidden="true" focusable="false">{body}</svg>'


def legend_html(entries: Sequence[LegendRow]) -> str:
    """Return an HTML legend of rows, each with a drawing of its mark (labels escaped).

    >>> legend_html([LegendRow("line", {"color": "#D55E00"}, "Oil <b>")])[:25]
    '<ul class="kz-legend-list'
    >>> "Oil &lt;b&gt;" in legend_html([LegendRow("line", {"color": "#D55E00"}, "Oil <b>")])
    True
    """
    items = "".join(
        f'<li class="kz-legend">{_swatch(row)}<span>{escape(row.label)}</span></li>'
        for row in entries
    )
    return f'<ul class="kz-legend-list" aria-label="Map legend">{items}</ul>'


# Marker clusters in ink, not markercluster's default green-yellow-orange (which the legend
# would have to explain as three colours meaning nothing but size).
CLUSTER_CSS = f"""<style>
.marker-cluster-small, .marker-cluster-medium, .marker-cluster-large
  {{ background-color: rgba(26, 26, 26, 0.35); }}
.marker-cluster-small div, .marker-cluster-medium div, .marker-cluster-large div
  {{ background-color: {INK}; color: #ffffff; font-weight: 600; }}
.leaflet-interactive:focus {{ outline: none; }}
.leaflet-control-scale {{ margin-bottom: 22px !important; }}
@media (max-width: 560px) {{  /* the attribution wraps to two lines: kilometres only, above it */
  .leaflet-control-scale {{ margin-bottom: 40px !important; }}
  .leaflet-control-scale-line + .leaflet-control-scale-line {{ display: none; }}
}}
#map_div, #map_div2 {{ height: 100vh !important; width: 100% !important; }}
html, body {{ height: 100%; margin: 0; }}
</style>"""


# ---------------------------------------------------------------- selection, hover, keyboard

# Runs in the map. The selection is the ``place`` of the page URL (the app writes it there after
# every run): the selected feature is drawn in SELECTED_STYLE and, unless the map opened at an
# explicit view, brought into view when it is not in view. Hover and keyboard focus draw
# HOVER_STYLE. Every clickable feature is a button for the keyboard (Tab, Enter or Space selects,
# as a click does) named after the feature.
BEHAVIOUR_JS = """
(function (map) {
  var SELECTED = /* SELECTED */, HOVER = /* HOVER */;
  var STYLE_KEYS = ["color", "weight", "opacity", "fillColor", "fillOpacity", "dashArray"];
  var byId = {}, selectedId = null;
  function geometryOf(layer) {
    if (layer.getLatLng) { return "point"; }
    var type = (layer.feature.geometry || {}).type || "";
    return type.indexOf("Polygon") >= 0 ? "area" : "line";
  }
  function base(layer) {
    if (!layer._kzBase) {
      var o = layer.options, b = {};
      STYLE_KEYS.forEach(function (k) { if (o[k] !== undefined) { b[k] = o[k]; } });
      b.radius = o.radius;
      layer._kzBase = b;
    }
    return layer._kzBase;
  }
  function paint(layer) {
    if (!layer.setStyle) { return; }
    var b = base(layer), g = geometryOf(layer), style = Object.assign({}, b);
    var extra = [];
    if (layer._kzHover || layer._kzFocus) { extra.push(HOVER[g]); }
    var selected = layer.feature.properties.id === selectedId;
    if (selected) { extra.push(SELECTED[g]); }
    extra.forEach(function (e) {
      for (var k in e) { style[k] = k === "radius" || (k === "weight" && g !== "area")
                                   ? Math.max(style[k] || 0, (b[k] || 0) + e[k]) : e[k]; }
    });
    if (layer._kzFocus) { style.dashArray = "4 3"; }
    layer.setStyle(style);
    if (layer.setRadius && b.radius) { layer.setRadius(style.radius); }
    var el = layer.getElement && layer.getElement();
    if (el) { el.setAttribute("aria-pressed", selected ? "true" : "false"); }
    if (selected && layer.bringToFront && layer._map) { layer.bringToFront(); }
  }
  function centre(layer) {
    return layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
  }
  function decorate(layer) {
    var p = layer.feature && layer.feature.properties;
    if (!p || !p.id || layer.options.interactive === false) { return; }
    if (!layer._kzBound) {
      layer._kzBound = true;
      layer.on("mouseover", function () { layer._kzHover = true; paint(layer); });
      layer.on("mouseout", function () { layer._kzHover = false; paint(layer); });
    }
    var el = layer.getElement && layer.getElement();
    if (!el || el._kzDone) { if (el) { paint(layer); } return; }
    el._kzDone = true;
    var quoted = (p.mention_count || 0) > 0 || p.layer !== "countries";
    el.setAttribute("tabindex", quoted ? "0" : "-1");
    el.setAttribute("role", "button");
    el.setAttribute("aria-label", p.name + (p.kind ? " (" + p.kind + ")" : "")
                    + (p.mention_count ? ", " + p.mention_count + " mentions" : ""));
    el.addEventListener("focus", function () { layer._kzFocus = true; paint(layer); });
    el.addEventListener("blur", function () { layer._kzFocus = false; paint(layer); });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        layer.fire("click", {latlng: centre(layer), originalEvent: event}, true);
      }
    });
    paint(layer);
  }
  function visit(layer) {
    if (layer.feature && layer.feature.properties && layer.feature.properties.id) {
      var id = layer.feature.properties.id;
      (byId[id] = byId[id] || []).indexOf(layer) < 0 && byId[id].push(layer);
    }
    if (layer.getLayers) { layer.getLayers().forEach(visit); }
  }
  map.eachLayer(visit);
  map.eachLayer(decorate);
  map.on("layeradd", function (e) { visit(e.layer); decorate(e.layer); });

  function clusterOf(layer) {
    var cluster = null;
    map.eachLayer(function (l) { if (l.getVisibleParent && l.hasLayer(layer)) { cluster = l; } });
    return cluster;
  }
  // A feature's bounds; one with parts on both sides of 180° (Russia's Chukotka, so the EAEU
  // and the CSTO; Alaska's Aleutians) is fitted to the side that holds most of it, not to the
  // whole world: the sliver beyond 180° is drawn at the far edge of the map anyway.
  function boundsOf(layer) {
    if (layer.getLatLng) { return L.latLngBounds([layer.getLatLng(), layer.getLatLng()]); }
    var points = [];
    (function walk(list) {
      list.forEach(function (x) { if (Array.isArray(x)) { walk(x); } else { points.push(x); } });
    })(layer.getLatLngs());
    var west = points.filter(function (p) { return p.lng < -90; }).length;
    var east = points.filter(function (p) { return p.lng > 90; }).length;
    if (!west || !east) { return L.latLngBounds(points); }
    return L.latLngBounds(points.filter(function (p) { return (p.lng < 0) === (west > east); }));
  }
  function bringIntoView(layers) {
    var layer = layers[0], cluster = layer.getLatLng ? clusterOf(layer) : null;
    if (cluster && cluster.getVisibleParent(layer) !== layer) {
      cluster.zoomToShowLayer(layer, function () { paint(layer); });
      return;
    }
    var bounds = L.latLngBounds([]);
    layers.forEach(function (l) { bounds.extend(boundsOf(l)); });
    if (map.getBounds().pad(-0.05).contains(bounds)) { return; }
    if (layer.getLatLng) {
      map.flyTo(layer.getLatLng(), Math.max(map.getZoom(), 5), {duration: 0.6});
    } else {
      map.flyToBounds(bounds, {padding: [40, 40], maxZoom: 6, duration: 0.6});
    }
  }
  var host = null;
  try {
    if (window.parent !== window && window.parent.location.pathname) { host = window.parent; }
  } catch (e) { host = null; }
  if (!host) { return; }
  var explicitView = !!host.kzgeoView, first = true;  // ViewInUrl ran: the view it opened at
  function select(id) {
    var old = selectedId;
    selectedId = id;
    (byId[old] || []).forEach(paint);
    var layers = (byId[id] || []).filter(function (l) { return l.options.interactive !== false
                                                              || !l.getElement; });
    (byId[id] || []).forEach(paint);
    if ((byId[id] || []).length && !(first && explicitView)) { bringIntoView(byId[id]); }
    first = false;
    return layers;
  }
  function tick() {
    var id;
    try { id = new URLSearchParams(host.location.search).get("place"); } catch (e) { return; }
    if (id !== selectedId || first) { select(id); }
  }
  map.whenReady(function () { tick(); setInterval(tick, 250); });
})(/* MAP */);
"""


class MapBehaviour(folium.MacroElement):
    """Selection from the page URL, hover and keyboard for every feature (``BEHAVIOUR_JS``)."""

    _template = folium.template.Template(
        """
{% macro script(this, kwargs) %}
{{ this.script }}
{% endmacro %}
"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MapBehaviour"
        self.script = ""

    def render(self, **kwargs: Any) -> None:
        """Fill in the map's name, then render."""
        self.script = (
            BEHAVIOUR_JS.replace("/* SELECTED */", json.dumps(SELECTED_STYLE))
            .replace("/* HOVER */", json.dumps(HOVER_STYLE))
            .replace("/* MAP */", self._parent.get_name())
        )
        super().render(**kwargs)


# ---------------------------------------------------------------- the map view in the page URL

# The map view is kept in the page's URL as ``lat``/``lon``/``zoom`` by the browser, not by the
# script: panning must not rerun it, and Streamlit's rerun requests carry the query string the
# script last wrote, not the live URL. So the map itself writes its view into the page URL on
# every move (``ViewInUrl``) and keeps it in ``window.kzgeoView`` of the page; the share box
# (``share_box_html``) puts that view back after the script wrote new parameters.
VIEW_EVENT = "kzgeo:view"  # dispatched on the page whenever the map reports its view

# Shared by the map (inside its iframe) and the share box (in the page): read a view from a
# query string, and return a query string with the view parameters replaced (others verbatim).
VIEW_JS = (
    f"var VIEW_RANGES = {json.dumps(VIEW_RANGES)};"
    + """
function readView(search) {
  var params = new URLSearchParams(search), view = {};
  for (var key in VIEW_RANGES) {
    var text = (params.get(key) || "").trim(), value = Number(text);
    if (text === "" || !(value >= VIEW_RANGES[key][0] && value <= VIEW_RANGES[key][1])) {
      return null;
    }
    view[key] = value;
  }
  view.zoom = Math.floor(view.zoom);
  return view;
}
function withView(search, view) {
  var parts = search.replace(/^\\?/, "").split("&").filter(function (part) {
    return part && !VIEW_RANGES.hasOwnProperty(part.split("=")[0]);
  });
  if (view) {
    parts.push("lat=" + view.lat.toFixed(4), "lon=" + view.lon.toFixed(4), "zoom=" + view.zoom);
  }
  return parts.length ? "?" + parts.join("&") : "";
}
function replaceSearch(win, search) {
  if (search !== win.location.search) {
    win.history.replaceState(win.history.state, "", win.location.pathname + search
                             + win.location.hash);
    return true;
  }
  return false;
}
"""
)


class ViewInUrl(folium.MacroElement):
    """Keep the map view in the URL of the page that embeds the map (no parent: do nothing).

    On load the map takes the page's last view (``window.kzgeoView``, set when an earlier map
    of this page moved) or else ``lat``/``lon``/``zoom`` from the page URL; after every move it
    writes the view back with ``history.replaceState`` (no reload, no script rerun), leaves the
    parameters out at the home view and tells the page (``kzgeo:view`` event).
    """

    _template = folium.template.Template(
        """
{% macro script(this, kwargs) %}
(function (map) {
  var host = null;
  try {
    if (window.parent !== window && window.parent.location.pathname) { host = window.parent; }
  } catch (e) { host = null; }  // no page around the map, or one of another origin
  if (!host) { return; }
  {{ this.view_js }}
  var home = {{ this.home_json }};
  var start = host.kzgeoView !== undefined ? host.kzgeoView : readView(host.location.search);
  if (start) { map.setView([start.lat, start.lon], start.zoom, {animate: false}); }
  function round(x) { return Math.round(x * 1e4) / 1e4; }
  function report() {
    try {
      var centre = map.wrapLatLng(map.getCenter());
      var view = {lat: round(centre.lat), lon: round(centre.lng), zoom: map.getZoom()};
      var atHome = view.lat === home.lat && view.lon === home.lon && view.zoom === home.zoom;
      host.kzgeoView = atHome ? null : view;
      replaceSearch(host, withView(host.location.search, host.kzgeoView));
      host.dispatchEvent(new host.CustomEvent("{{ this.event }}"));
    } catch (e) { /* the page went away */ }
  }
  map.on("moveend", report);
  report();
})({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, home: tuple[float, float] = MAP_CENTER, zoom: int = MAP_ZOOM) -> None:
        super().__init__()
        self._name = "ViewInUrl"
        self.view_js = VIEW_JS
        self.home_json = json.dumps({"lat": home[0], "lon": home[1], "zoom": zoom})
        self.event = VIEW_EVENT
