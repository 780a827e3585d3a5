"""Serve folium's web assets from the app: the vendored packages and the CDN-to-local URL table.

Folium loads Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from CDNs; offline the map
stays blank. ``static/vendor/`` holds copies of exactly those files (rebuilt from the npm
registry and PyPI by ``scripts/vendor_assets.py`` using ``PACKAGES``), and ``localize_assets``
points a built map at them. Streamlit serves ``static/`` at ``/app/static/``
(``server.enableStaticServing``).

Not covered: branca colormaps (streamlit-folium injects d3 from a CDN for them) -- draw legends
as HTML instead. Adding a plugin means adding a ``PACKAGES`` row and its ``ASSETS`` rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import branca.element

STATIC_VENDOR_URL = "/app/static/vendor"
"""Where Streamlit serves ``static/vendor/`` when the app runs at the server root."""


@dataclass(frozen=True)
class VendorPackage:
    """A third-party package copied into ``static/vendor/<name>@<version>/``."""

    name: str
    version: str
    registry: str  # "npm" (npm pack) or "pypi-sdist" (pip download --no-binary)
    files: tuple[str, ...]  # paths inside the package; a folder is copied whole
    licence: str  # the licence file inside the package (or inside ``licence_from``)
    licence_from: str | None = None  # "name@version" on npm to take the licence from
    note: str = ""

    @property
    def spec(self) -> str:
        """Return ``name@version``, also the package's folder under ``static/vendor/``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Asset:
    """One CDN URL folium (or a plugin) links to, and the vendored file that replaces it."""

    name: str  # folium's name for the link
    package: str  # VendorPackage.spec
    path: str  # path inside the package
    cdn_url: str

    @property
    def local_path(self) -> str:
        """Return the file's path relative to ``static/vendor/``."""
        return f"{self.package}/{self.path}"


PACKAGES: tuple[VendorPackage, ...] = (
    VendorPackage("leaflet", "1.9.3", "npm",
                  ("dist/leaflet.js", "dist/leaflet.css", "dist/images"), "LICENSE"),
    VendorPackage("jquery", "3.7.1", "npm", ("dist/jquery.min.js",), "LICENSE.txt"),
    VendorPackage("bootstrap", "5.2.2", "npm",
                  ("dist/js/bootstrap.bundle.min.js", "dist/css/bootstrap.min.css"), "LICENSE"),
    VendorPackage("@neos21/bootstrap3-glyphicons", "1.0.7", "npm",
                  ("dist/css/bootstrap3-glyphicons.min.css", "dist/fonts"), "LICENSE",
                  note="Bootstrap 3 glyphicons only; stands in for bootstrap@3.0.0's "
                       "bootstrap-glyphicons.css, which is not on npm."),
    VendorPackage("@fortawesome/fontawesome-free", "6.2.0", "npm",
                  ("css/all.min.css", "webfonts"), "LICENSE.txt"),
    VendorPackage("drmonty-leaflet-awesome-markers", "2.0.2", "npm",
                  ("js/leaflet.awesome-markers.js", "css/leaflet.awesome-markers.css",
                   "css/images"), "LICENSE", licence_from="leaflet.awesome-markers@2.0.4",
                  note="npm mirror of Leaflet.awesome-markers 2.0.2 (the version folium uses); "
                       "it ships no licence file, so the upstream MIT LICENSE is taken from "
                       "leaflet.awesome-markers@2.0.4."),
    VendorPackage("folium", "0.20.0", "pypi-sdist",
                  ("folium/templates/leaflet.awesome.rotate.css",), "LICENSE.txt",
                  note="Only in folium's source distribution, not in the wheel."),
    VendorPackage("leaflet.markercluster", "1.1.0", "npm",
                  ("dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
                   "dist/MarkerCluster.Default.css"), "MIT-LICENCE.txt"),
    VendorPackage("leaflet.fullscreen", "3.0.0", "npm",
                  ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg"),
                  "LICENSE",
                  note="The CDN's .min.js is minified on the fly by jsDelivr; the package "
                       "ships only the unminified file."),
)

_JSD = "https://cdn.jsdelivr.net"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"

ASSETS: tuple[Asset, ...] = (
    Asset("leaflet", "leaflet@1.9.3", "dist/leaflet.js",
          f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.js"),
    Asset("leaflet_css", "leaflet@1.9.3", "dist/leaflet.css",
          f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.css"),
    Asset("jquery", "jquery@3.7.1", "dist/jquery.min.js",
          "https://code.jquery.com/jquery-3.7.1.min.js"),
    Asset("bootstrap", "bootstrap@5.2.2", "dist/js/bootstrap.bundle.min.js",
          f"{_JSD}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js"),
    Asset("bootstrap_css", "bootstrap@5.2.2", "dist/css/bootstrap.min.css",
          f"{_JSD}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css"),
    Asset("glyphicons_css", "@neos21/bootstrap3-glyphicons@1.0.7",
          "dist/css/bootstrap3-glyphicons.min.css",
          "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css"),
    Asset("awesome_markers_font_css", "@fortawesome/fontawesome-free@6.2.0", "css/all.min.css",
          f"{_JSD}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css"),
    Asset("awesome_markers", "drmonty-leaflet-awesome-markers@2.0.2",
          "js/leaflet.awesome-markers.js",
          f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js"),
    Asset("awesome_markers_css", "drmonty-leaflet-awesome-markers@2.0.2",
          "css/leaflet.awesome-markers.css",
          f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css"),
    Asset("awesome_rotate_css", "folium@0.20.0", "folium/templates/leaflet.awesome.rotate.css",
          f"{_JSD}/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css"),
    Asset("markerclusterjs", "leaflet.markercluster@1.1.0", "dist/leaflet.markercluster.js",
          f"{_CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js"),
    Asset("markerclustercss", "leaflet.markercluster@1.1.0", "dist/MarkerCluster.css",
          f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css"),
    Asset("markerclusterdefaultcss", "leaflet.markercluster@1.1.0",
          "dist/MarkerCluster.Default.css",
          f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
    Asset("Control.Fullscreen.js", "leaflet.fullscreen@3.0.0", "Control.FullScreen.js",
          f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js"),
    Asset("Control.FullScreen.css", "leaflet.fullscreen@3.0.0", "Control.FullScreen.css",
          f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css"),
)

_LOCAL_BY_CDN: dict[str, str] = {a.cdn_url: a.local_path for a in ASSETS}


class UnvendoredAssetError(LookupError):
    """A map links to a CDN file that ``static/vendor/`` does not hold."""


def localize_url(url: str, base_url: str = STATIC_VENDOR_URL) -> str:
    """Return the vendored URL for a CDN ``url``; leave URLs already under ``base_url`` alone.

    >>> localize_url("https://code.jquery.com/jquery-3.7.1.min.js")
    '/app/static/vendor/jquery@3.7.1/dist/jquery.min.js'
    >>> localize_url("/app/static/vendor/jquery@3.7.1/dist/jquery.min.js")
    '/app/static/vendor/jquery@3.7.1/dist/jquery.min.js'
    >>> localize_url("https://example.org/x.js")
    Traceback (most recent call last):
    ...
    kzgeo.assets.UnvendoredAssetError: not vendored: https://example.org/x.js
    """
    base = base_url.rstrip("/")
    if url.startswith(base + "/"):
        return url
    try:
        return f"{base}/{_LOCAL_BY_CDN[url]}"
    except KeyError:
        raise UnvendoredAssetError(f"not vendored: {url}") from None


def localize_links(
    links: Iterable[tuple[str, str]], base_url: str = STATIC_VENDOR_URL
) -> list[tuple[str, str]]:
    """Return folium ``(name, url)`` link pairs with every URL pointed at the vendored copy.

    >>> localize_links([])
    []
    >>> localize_links([("jquery", "https://code.jquery.com/jquery-3.7.1.min.js")], "/v")
    [('jquery', '/v/jquery@3.7.1/dist/jquery.min.js')]
    """
    return [(name, localize_url(url, base_url)) for name, url in links]


def iter_elements(root: branca.element.Element) -> Iterator[branca.element.Element]:
    """Yield ``root`` and all its descendants, depth first."""
    yield root
    for child in root._children.values():
        yield from iter_elements(child)


def localize_assets(
    m: branca.element.Element, base_url: str = STATIC_VENDOR_URL
) -> branca.element.Element:
    """Point the JS/CSS links of ``m`` and its descendants at the vendored files; return ``m``.

    Call it on the finished map (children added later keep their CDN links). It sets the links
    per element, so folium's class-level defaults stay untouched. Raises
    ``UnvendoredAssetError`` for a link the table does not know, so a new plugin fails loudly.
    """
    for element in iter_elements(m):
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if links:
                setattr(element, attr, localize_links(links, base_url))
    return m


def vendor_url_for(base_url_path: str | None) -> str:
    """Return the vendored-assets URL for a Streamlit ``server.baseUrlPath``.

    >>> vendor_url_for("")
    '/app/static/vendor'
    >>> vendor_url_for(None)
    '/app/static/vendor'
    >>> vendor_url_for("/kzgeo/")
    '/kzgeo/app/static/vendor'
    """
    prefix = (base_url_path or "").strip("/")
    return f"/{prefix}{STATIC_VENDOR_URL}" if prefix else STATIC_VENDOR_URL
