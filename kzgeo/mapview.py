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
from folium.utilities import JsCode

from kzgeo.assets import STATIC_VENDOR_URL, localize_assets
from kzgeo.dashboard import VIEW_RANGES

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
    ``asset_url`` is where ``static/vendor/`` is served. ``center``/``zoom`` is the home view;
    embedded in a page, the map takes and keeps the page's view (``ViewInUrl``).
    """
    m = new_map(center, zoom)
    base = countries_layer(countries) if _features(countries) else graticule_layer()
    base.add_to(m)
    for layer in [*tile_layers(tiles), *overlays]:
        layer.add_to(m)
    folium.plugins.Fullscreen(title="Full screen", title_cancel="Exit full screen").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    ViewInUrl(center, zoom).add_to(m)
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
    "borders": {"label": "Kazakhstan's borders", "color": "#3f007d", "weight": 4, "opacity": 0.85},
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


# Each feature's own tooltip, its text set as text (never markup): the name, the German name when
# it differs, "new ·" before the places of the user's own articles. Bound per feature, because
# Leaflet.markercluster takes clustered markers out of their GeoJSON layer (and its tooltip).
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
    """Return one index layer as a clickable folium layer (points clustered where dense)."""
    is_point = layer in {"places", "sites", "new"}
    geojson = folium.GeoJson(
        {"type": "FeatureCollection", "features": list(features)},
        name=LAYER_STYLES[layer]["label"],
        style_function=feature_style(layer),
        highlight_function=lambda _feature: {"weight": 5} if not is_point else {"weight": 3},
        on_each_feature=JsCode(FEATURE_TOOLTIP_JS),
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


# Legend rows of lines and markers that are not coloured by theme: (layer, property values a
# feature must have, colour, label). Shown only when such a feature is drawn.
LEGEND_ROWS: tuple[tuple[str, dict[str, str], str, str], ...] = (
    ("pipelines", {"fuel": "oil"}, FUEL_COLOURS["oil"], "Oil pipeline"),
    ("pipelines", {"fuel": "gas"}, FUEL_COLOURS["gas"], "Gas pipeline"),
    ("borders", {}, LAYER_STYLES["borders"]["color"], "Border"),
    ("new", {}, LAYER_STYLES["new"]["fillColor"], "Your article (new)"),
)


def legend_entries(
    features: Sequence[Mapping[str, Any]],
    colours: Mapping[str, str],
    themes: Sequence[tuple[str, str]],
) -> list[tuple[str, str]]:
    """Return the (colour, label) legend rows of what the map draws from ``features``.

    ``themes`` are (colour, label) of every theme in order; a theme is listed when a drawn
    place marker has its colour (``colours`` maps a feature id to its marker colour).

    >>> places = [{"id": "a", "properties": {"layer": "places"}},
    ...           {"id": "p", "properties": {"layer": "pipelines", "fuel": "gas"}}]
    >>> legend_entries(places, {"a": "#e7298a"}, [("#d95f02", "Energy"), ("#e7298a", "Security")])
    [('#e7298a', 'Security (main theme)'), ('#2166ac', 'Gas pipeline')]
    >>> legend_entries([], {}, [("#d95f02", "Energy")])
    []
    """
    marker_colours = {
        colours.get(f["id"]) for f in features if f["properties"]["layer"] == "places"
    }
    rows = [
        (colour, f"{label} (main theme)") for colour, label in themes if colour in marker_colours
    ]
    for layer, values, colour, label in LEGEND_ROWS:
        if any(
            f["properties"]["layer"] == layer
            and all(f["properties"].get(key) == value for key, value in values.items())
            for f in features
        ):
            rows.append((colour, label))
    return rows


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


SHARE_BOX_CSS = """<style>
.kz-share {display: flex; gap: 0.5rem; align-items: center; margin: 0.2rem 0 0.8rem 0;}
.kz-share input {flex: 1; min-width: 0; font-family: monospace; font-size: 0.85rem;
  padding: 0.35rem 0.5rem; border: 1px solid #ccc; border-radius: 0.4rem; background: #f8f9fb;}
.kz-share button {padding: 0.35rem 0.8rem; border: 1px solid #ccc; border-radius: 0.4rem;
  background: #fff; cursor: pointer; white-space: nowrap;}
.kz-share button:hover {border-color: #00799A; color: #00799A;}
.kz-share span {font-size: 0.85rem; color: #2e7d32; min-width: 4rem;}
</style>"""

# Runs in the page after every run of the app. Puts the live map view back into the URL (when
# the app writes URL parameters, Streamlit replaces the whole query); shows the live URL and
# copies it on request.
# When the app is embedded (Streamlit Community Cloud) the host is told the new query, as
# Streamlit itself does, so the address bar follows.
_SHARE_JS = """
(function () {
  /* VIEW_JS */
  function tellHost() {
    if (window.parent !== window) {
      window.parent.postMessage(
        {stCommVersion: 1, type: "SET_QUERY_PARAM", queryParams: location.search}, "*");
    }
  }
  function show() {
    var box = document.getElementById("kz-share-link");
    if (box) { box.value = location.href; }
  }
  if (window.kzgeoView !== undefined
      && replaceSearch(window, withView(location.search, window.kzgeoView))) {
    tellHost();
  }
  show();
  if (!window.kzgeoShareListens) {
    window.kzgeoShareListens = true;
    window.addEventListener(/* VIEW_EVENT */, function () { show(); tellHost(); });
  }
  var button = document.getElementById("kz-share-copy");
  var status = document.getElementById("kz-share-status");
  button.addEventListener("click", function () {
    show();
    var box = document.getElementById("kz-share-link");
    function copied() { status.textContent = "Copied"; }
    function bySelection() {
      box.select();
      status.textContent = document.execCommand("copy") ? "Copied" : "Select and copy";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(location.href).then(copied, bySelection);
    } else {
      bySelection();
    }
  });
})();
"""


def share_box_html(link: str, run: int = 0) -> str:
    """Return the share box: the live link of this view (map position included) and a copy
    button, as HTML with its script (for ``st.html(..., unsafe_allow_javascript=True)``).

    ``link`` is shown until the script runs. ``run`` (the app's run counter) makes the box new
    on every run, so its script runs after every run and puts the map view back into the URL
    after whatever Streamlit wrote there (a write survives an interrupted run, the box may not).

    >>> "value=\\"/?place=a&amp;b\\"" in share_box_html("/?place=a&b")
    True
    """
    script = _SHARE_JS.replace("/* VIEW_JS */", VIEW_JS)
    script = script.replace("/* VIEW_EVENT */", json.dumps(VIEW_EVENT))
    script = script.replace("</", "<\\/")  # nothing in it may close the script element
    return (
        f'{SHARE_BOX_CSS}<div class="kz-share" data-run="{run}">'
        f'<input id="kz-share-link" type="text" readonly value="{escape(link)}" '
        'aria-label="Link to this view">'
        '<button id="kz-share-copy" type="button">Copy link</button>'
        '<span id="kz-share-status" role="status"></span></div>'
        f"<script>{script}</script>"
    )
