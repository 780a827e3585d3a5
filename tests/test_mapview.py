"""The base map: country outlines offline, a graticule fallback, tiles only on request."""

from __future__ import annotations

import folium
import folium.plugins
import geopandas as gpd
import pytest

from kzgeo import config, mapview
from kzgeo.mapview import MAP_CENTER, build_map, read_geojson, style_country

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


THEMES = [("#d95f02", "Energy"), ("#b2182b", "Security"), ("#1b9e77", "Diplomacy")]


def feature(fid: str, layer: str, **properties) -> dict:
    return {"id": fid, "properties": {"layer": layer, **properties}}


LEGENDS = [
    ([], {}, []),
    (
        [feature("a", "places"), feature("b", "places")],
        {"a": "#1b9e77", "b": "#d95f02"},
        ["Energy (main theme)", "Diplomacy (main theme)"],
    ),
    ([feature("a", "places")], {"a": "#666666"}, []),  # a colour of no theme: no row
    ([feature("btc", "pipelines", fuel="oil")], {}, ["Oil pipeline"]),
    (
        [
            feature("tc", "pipelines", fuel="gas"),
            feature("b", "borders"),
            feature("c", "countries"),
        ],
        {},
        ["Gas pipeline", "Border"],
    ),
    ([feature("new:x", "new"), feature("s", "sites")], {}, ["Your article (new)"]),
]


@pytest.mark.parametrize(("features", "colours", "labels"), LEGENDS)
def test_the_legend_lists_only_what_is_drawn(features, colours, labels):
    rows = mapview.legend_entries(features, colours, THEMES)
    assert [label for _, label in rows] == labels


def test_the_share_box_escapes_the_link_and_keeps_its_script_closed():
    html = mapview.share_box_html('/?q="><script>alert(1)</script>')
    assert "&quot;&gt;&lt;script&gt;alert(1)" in html
    script = html.split("<script>", 1)[1]
    assert script.count("</") == 1 and script.endswith("</script>")
    assert 'id="kz-share-link"' in html and ">Copy link</button>" in html
