"""The base map: country outlines offline, a graticule fallback, tiles only on request."""

from __future__ import annotations

import folium
import folium.plugins
import geopandas as gpd
import pytest

from kzgeo import config
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
