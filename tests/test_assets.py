"""Vendored web assets: every link folium makes has a local file, with its licence, intact."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from kzgeo.assets import (
    ASSETS,
    PACKAGES,
    UnvendoredAssetError,
    iter_elements,
    localize_assets,
    localize_url,
)
from kzgeo.mapview import build_map

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
# Elements whose links the app uses (the map itself brings Leaflet, jQuery, Bootstrap, icons).
USED_ELEMENTS = (folium.Map, folium.plugins.MarkerCluster, folium.plugins.Fullscreen)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a.name)
def test_every_asset_has_its_vendored_file(asset):
    assert (VENDOR / asset.local_path).is_file()


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.spec)
def test_every_package_keeps_its_licence(package):
    licence = VENDOR / package.spec / Path(package.licence).name
    assert licence.is_file()
    assert re.search(r"licen[cs]e|permission is hereby granted", licence.read_text(), re.I)


@pytest.mark.parametrize("cls", USED_ELEMENTS, ids=lambda c: c.__name__)
def test_every_link_of_the_used_elements_is_vendored(cls):
    for _name, url in [*cls.default_js, *cls.default_css]:
        assert localize_url(url).startswith("/app/static/vendor/")


@pytest.mark.parametrize("css", sorted(VENDOR.rglob("*.css")), ids=lambda p: p.name)
def test_css_references_resolve_to_vendored_files(css):
    refs = [r for r in CSS_URL.findall(css.read_text(encoding="utf-8"))
            if not r.startswith(("data:", "#"))]
    for ref in refs:
        target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
        assert target.is_file(), f"{css.name} refers to missing {ref}"
        assert VENDOR.resolve() in target.parents


def test_vendored_files_match_the_manifest():
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert [entry["package"] for entry in manifest] == [p.spec for p in PACKAGES]
    for entry in manifest:
        for rel, digest in entry["files"].items():
            data = (VENDOR / entry["package"] / rel).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, rel


def test_rendered_map_links_no_remote_script_or_stylesheet():
    cluster = folium.plugins.MarkerCluster(name="Places")
    folium.Marker([43.24, 76.89], icon=folium.Icon(icon="info-sign")).add_to(cluster)
    html = build_map(None, overlays=[cluster]).get_root().render()
    links = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith("/app/static/vendor/") for link in links), links
    remote = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    tiles = {u for u in remote if "{z}" in u}
    attribution_links = {u for u in remote if f'href=\\"{u}' in html or f'href="{u}' in html}
    assert remote - tiles - attribution_links == set()


def test_localize_assets_leaves_folium_class_defaults_alone():
    before = list(folium.Map.default_js)
    m = localize_assets(folium.Map(tiles=None), "/v")
    assert folium.Map.default_js == before
    assert all(url.startswith("/v/") for _, url in m.default_js)


def test_localize_assets_reaches_every_descendant():
    m = folium.Map(tiles=None)
    group = folium.FeatureGroup().add_to(m)
    folium.plugins.MarkerCluster().add_to(group)
    localize_assets(m)
    links = [url for e in iter_elements(m) for _, url in getattr(e, "default_js", [])]
    assert links and not [u for u in links if u.startswith("http")]


def test_unvendored_plugin_fails_loudly():
    m = folium.Map(tiles=None)
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(UnvendoredAssetError, match="Control.MiniMap"):
        localize_assets(m)
