"""The base map: country outlines offline, a graticule fallback, tiles only on request."""

from __future__ import annotations

import folium
import folium.plugins
import geopandas as gpd
import pytest

from kzgeo import config, layers, mapview, streamlit_adapter
from kzgeo.mapview import MAP_CENTER, build_map, read_geojson, style_country
from kzgeo.themes import THEME_IDS

COUNTRIES = config.GEODATA_DIR / "countries.geojson"


def children_of(m: folium.Map, cls: type) -> list:
    """Return the direct children of ``m`` that are ``cls``."""
    return [c for c in m._children.values() if isinstance(c, cls)]


@pytest.fixture(scope="module")
def countries() -> dict:
    data = read_geojson(COUNTRIES)
    if data is None:
        pytest.skip("geodata/countries.geojson not built")
    return data


def test_map_centres_on_central_asia_without_tiles(countries):
    m = build_map(countries)
    assert m.location == list(MAP_CENTER)
    assert all(not t.show and t.overlay for t in children_of(m, folium.TileLayer))
    (base,) = [g for g in children_of(m, folium.GeoJson) if g.layer_name == "Countries"]
    assert len(base.data["features"]) == len(countries["features"])


def test_map_accepts_a_geodataframe():
    if not COUNTRIES.is_file():
        pytest.skip("geodata/countries.geojson not built")
    frame = gpd.read_file(COUNTRIES)
    (base,) = children_of(build_map(frame), folium.GeoJson)
    assert "Kasachstan" in base.get_root().render()


@pytest.mark.parametrize("empty", [None, {}, {"type": "FeatureCollection", "features": []}])
def test_map_without_countries_draws_a_graticule(empty):
    (base,) = children_of(build_map(empty), folium.GeoJson)
    assert base.layer_name == "Graticule"
    assert len(base.data["features"]) > 10


def test_no_tiles_when_asked_for_none(countries):
    assert children_of(build_map(countries, tiles=()), folium.TileLayer) == []


def test_overlays_are_added_and_use_vendored_assets(countries):
    cluster = folium.plugins.MarkerCluster(name="Places")
    m = build_map(countries, overlays=[cluster], asset_url="/base/app/static/vendor")
    assert cluster in children_of(m, folium.plugins.MarkerCluster)
    assert all(url.startswith("/base/app/static/vendor/") for _, url in cluster.default_js)


def test_kazakhstan_stands_out():
    assert style_country({"properties": {"iso_a2": "KZ"}}) != style_country(
        {"properties": {"iso_a2": "RU"}}
    )


def test_the_map_is_built_at_home_and_carries_the_view_script(countries):
    m = build_map(countries)
    (view,) = children_of(m, mapview.ViewInUrl)
    html = m.get_root().render()
    assert m.location == list(MAP_CENTER) and m.options["zoom"] == mapview.MAP_ZOOM
    assert f"}})({m.get_name()});" in html  # the script runs on this map
    assert '"lat": 48.0, "lon": 68.0, "zoom": 4' in view.home_json
    assert "history.replaceState" in html and "window.parent" in html


def test_every_build_gives_streamlit_folium_the_same_map(countries):
    # streamlit-folium draws a new map (at its home view) when this hash changes
    from streamlit_folium import _get_map_string, generate_js_hash

    def js_hash() -> str:
        m = build_map(countries)
        m.get_root().render()
        return generate_js_hash(_get_map_string(m), "kzgeo_map")

    assert js_hash() == js_hash()


THEMES = [("#D55E00", "Energy"), ("#0072B2", "Security"), ("#56B4E9", "Diplomacy")]
CLUSTERS, SELECTED = mapview.CLUSTER_LEGEND, mapview.SELECTED_LEGEND


def feature(fid: str, layer: str, **properties) -> dict:
    return {"id": fid, "properties": {"layer": layer, **properties}}


LEGENDS = [
    ([], {}, []),
    (
        [feature("a", "places"), feature("b", "places")],
        {"a": "#56B4E9", "b": "#D55E00"},
        ["Energy (main theme)", "Diplomacy (main theme)", CLUSTERS, SELECTED],
    ),
    ([feature("a", "places")], {"a": "#666666"}, [CLUSTERS, SELECTED]),  # no theme's colour
    (
        [feature("btc", "pipelines", category="oil-pipeline")], {},
        ["Oil pipeline (schematic route)", SELECTED],
    ),
    (
        [
            feature("tc", "pipelines", category="gas-pipeline"),
            feature("b", "borders", category="land-border"),
            feature("c", "countries", category="country"),
        ],
        {},
        ["Land border of Kazakhstan", "Gas pipeline (schematic route)", SELECTED],
    ),
    (
        [feature("new:x", "new"), feature("s", "sites", category="cosmodrome")], {},
        [layers.SITE_LEGEND, "Place in an added article (collection)", SELECTED],
    ),
]


@pytest.mark.parametrize(("features", "colours", "labels"), LEGENDS)
def test_the_legend_lists_every_kind_of_mark_drawn(features, colours, labels):
    rows = mapview.legend_entries(features, colours, THEMES)
    assert [row.label for row in rows] == labels


def relative_luminance(colour: str) -> float:
    """Return the WCAG 2.1 relative luminance of a #rrggbb colour."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two colours."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# What marks are drawn on: the land, Kazakhstan and the sea.
BASE_COLOURS = [
    mapview.COUNTRY_STYLE["fillColor"],
    mapview.COUNTRY_STYLE_BY_ISO["KZ"]["fillColor"],
    mapview.MAP_BACKGROUND,
]


@pytest.mark.parametrize("mark", [m for m in layers.REGISTRY if m.category != "country"],
                         ids=lambda m: m.category)  # fmt: skip
def test_every_mark_has_an_edge_of_at_least_3_to_1_against_the_base_map(mark):
    edge = mark.style["color"]
    for base in BASE_COLOURS:
        assert contrast(edge, base) >= 3.0, (mark.category, edge, base, contrast(edge, base))


def test_selection_and_clusters_stand_out_against_the_base_map():
    for style in mapview.SELECTED_STYLE.values():
        assert all(contrast(style.get("color", "#000000"), base) >= 3 for base in BASE_COLOURS)
    assert all(contrast(layers.INK, base) >= 3 for base in BASE_COLOURS)


def test_theme_colours_are_the_okabe_ito_palette():
    from kzgeo.themes import THEMES as ALL_THEMES

    colours = [t.colour.upper() for t in ALL_THEMES if t.id != "other"]
    assert len(set(colours)) == len(colours) == 7
    assert set(colours) <= {c.upper() for c in layers.OKABE_ITO.values()}
    # the old palette's complaints: no two marks of the legend share a colour and a shape
    line_colours = {m.style["color"] for m in layers.REGISTRY if m.geometry == "line"}
    assert len(line_colours) == 2  # borders in ink, pipelines in vermillion (oil solid, gas dashed)


def test_every_registry_row_has_themes_or_takes_them_from_its_quotes():
    for mark in layers.REGISTRY:
        assert mark.reason and mark.legend, mark.category
        assert set(mark.themes) <= set(THEME_IDS), mark.category
        assert mark.themes or mark.layer in ("places", "new"), mark.category
        assert mark.geometry in layers.GEOMETRY_ORDER, mark.category


def test_alliances_take_no_clicks_and_lie_in_a_pane_without_pointer_events():
    (alliances,) = [m for m in layers.REGISTRY if m.category == "economic-union"]
    assert not alliances.interactive
    pane = mapview.GEOMETRY_PANES[alliances.geometry]
    assert mapview.PANES[pane][1] is False
    # points above lines above areas
    z = [mapview.PANES[mapview.GEOMETRY_PANES[g]][0] for g in layers.GEOMETRY_ORDER]
    assert z == sorted(z) and len(set(z)) == 3


def test_the_share_box_escapes_the_link_and_keeps_its_script_closed():
    html = streamlit_adapter.share_box_html('/?q="><script>alert(1)</script>')
    assert "&quot;&gt;&lt;script&gt;alert(1)" in html
    script = html.split("<script>", 1)[1]
    assert script.count("</") == 1 and script.endswith("</script>")
    assert 'id="kz-share-link"' in html and ">Copy link</button>" in html


def test_an_unsure_place_is_drawn_dashed_and_the_legend_says_why():
    sure = {"id": "almaty", "properties": {"layer": "places", "confidence": 0.97}}
    unsure = {"id": "geneva", "properties": {"layer": "places", "confidence": 0.66}}
    style = mapview.feature_style("places")
    assert "dashArray" not in style(sure) and style(unsure)["dashArray"]
    assert mapview.feature_style("new")(unsure)["dashArray"]  # added places too
    labels = [row.label for row in mapview.legend_entries([sure], {}, [])]
    assert mapview.UNSURE_LEGEND not in labels
    labels = [row.label for row in mapview.legend_entries([sure, unsure], {}, [])]
    assert mapview.UNSURE_LEGEND in labels


def test_a_continent_is_a_small_hollow_ring_whatever_its_mentions():
    europe = {"id": "europe", "properties": {"layer": "places", "precision": "continent",
                                             "mention_count": 400}}
    city = {"id": "almaty", "properties": {"layer": "places", "precision": "city",
                                           "mention_count": 400}}
    style = mapview.feature_style("places")
    assert style(europe)["radius"] < style(city)["radius"] and style(europe)["fillOpacity"] == 0
    labels = [row.label for row in mapview.legend_entries([city, europe], {}, [])]
    assert mapview.BROAD_LEGEND in labels
