"""The dashboard in a real browser: links, clicks on the map, theme toggles, shared links."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import fresh_app_page

from kzgeo import dashboard, mapview
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.index import MENTION_COLUMNS, index_corpus
from kzgeo.layers import REGISTRY
from kzgeo.themes import THEMES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# Finds a drawn feature by id in the Leaflet map (also inside marker clusters) and returns a
# point of it in page pixels: the marker's centre, or a vertex in the middle of a line.
FEATURE_POINT_JS = """(id) => {
  const map = window.map;
  let found = null;
  const visit = (layer) => {
    if (found) return;
    if (layer.feature && layer.feature.id === id) { found = layer; return; }
    if (layer.getLayers) layer.getLayers().forEach(visit);
  };
  map.eachLayer(visit);
  if (!found || !map.hasLayer(found)) return null;
  let latlng;
  if (found.getLatLng) { latlng = found.getLatLng(); }
  else {
    let latlngs = found.getLatLngs();
    while (Array.isArray(latlngs[0])) latlngs = latlngs[0];
    latlng = latlngs[Math.floor(latlngs.length / 2)];
  }
  const p = map.latLngToContainerPoint(latlng);
  return {x: p.x, y: p.y};
}"""

# Counts the distinct drawn features of one index layer.
LAYER_COUNT_JS = """(layer) => {
  const ids = new Set();
  const visit = (l) => {
    if (l.feature && l.feature.properties && l.feature.properties.layer === layer) {
      ids.add(l.feature.id);
    } else if (l.getLayers) l.getLayers().forEach(visit);
  };
  window.map.eachLayer(visit);
  return ids.size;
}"""


# The ids of everything the map draws (clustered markers included), and which kinds of things
# it draws: each layer, and each pipeline layer with its fuel ("pipelines:oil").
DRAWN_JS = """() => {
  const ids = new Set(), kinds = new Set(), colours = new Set();
  const visit = (l) => {
    if (l.feature && l.feature.properties) {
      const p = l.feature.properties;
      ids.add(l.feature.id);
      kinds.add(p.layer);
      if (p.category) kinds.add(p.category);
      if (p.layer === 'places') colours.add(l.options.fillColor);
      if (['places', 'new'].includes(p.layer) && p.confidence != null && p.confidence < 0.8) {
        kinds.add('unsure');
      }
      if (['continent', 'macro-region'].includes(p.precision)) kinds.add('broad');
    } else if (l.getLayers) l.getLayers().forEach(visit);
  };
  window.map.eachLayer(visit);
  return {ids: [...ids], kinds: [...kinds], colours: [...colours]};
}"""

# The map's view: its centre (longitude wrapped into -180..180) and zoom.
MAP_VIEW_JS = """() => {
  const centre = window.map.wrapLatLng(window.map.getCenter());
  return {lat: centre.lat, lon: centre.lng, zoom: window.map.getZoom()};
}"""

# How many pixels a point is from the centre of the map.
PIXELS_FROM_CENTRE_JS = """([lat, lon]) => {
  const point = window.map.latLngToContainerPoint([lat, lon]), size = window.map.getSize();
  return Math.hypot(point.x - size.x / 2, point.y - size.y / 2);
}"""

# Counts the script runs that start from now on.
WATCH_RUNS_JS = """() => {
  window.kzRuns = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.kzRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def map_handle(app_page, timeout: float = 60.0):
    """Return the map iframe's Frame once Leaflet has drawn the layers and the script is idle.

    The map's first value reruns the script, which may replace the iframe: a replaced
    (detached or doubled) iframe is retried.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            app_page.wait_idle()
            app_page.wait_for_map(min_paths=20)
            app_page.wait_idle()
            frame = app_page.map_iframe.element_handle().content_frame()
            frame.wait_for_function(
                "() => window.map && Object.keys(window.map._layers).length > 20", timeout=5_000
            )
            return frame
        except Error:
            if time.monotonic() > deadline:
                raise


def click_feature(app_page, feature_id: str) -> None:
    """Click a map feature with a real mouse click at one of its points."""
    frame = map_handle(app_page)
    app_page.map_iframe.scroll_into_view_if_needed()
    app_page.settle()  # click once the page has settled, as a person does, not mid-rerun
    point = frame.evaluate(FEATURE_POINT_JS, feature_id)
    assert point, f"{feature_id} is not drawn on the map"
    box = frame.locator(".leaflet-container").bounding_box()
    app_page.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def url_view(url: str) -> dict | None:
    """Return the map view (lat, lon, zoom) a URL holds, or None."""
    params = parse_qs(urlparse(url).query)
    if not all(key in params for key in ("lat", "lon", "zoom")):
        return None
    return {
        "lat": float(params["lat"][0]),
        "lon": float(params["lon"][0]),
        "zoom": int(params["zoom"][0]),
    }


def wait_for_view_in_url(app_page, timeout: float = 20.0) -> dict:
    """Wait until the map has stopped and the page URL holds its view; return that view."""
    deadline = time.monotonic() + timeout
    frame = map_handle(app_page)
    while True:
        shown = frame.evaluate(MAP_VIEW_JS)
        in_url = url_view(app_page.page.url)
        if (
            in_url
            and in_url["zoom"] == shown["zoom"]
            and all(abs(in_url[key] - shown[key]) <= 0.0001 for key in ("lat", "lon"))
        ):
            return in_url
        assert time.monotonic() < deadline, f"URL {app_page.page.url} never showed {shown}"
        app_page.page.wait_for_timeout(200)


def wait_for_url_to_hold(page, view: dict) -> None:
    """Wait until the page URL holds ``view`` (after the script wrote the URL, the page puts
    the map view back as soon as the script's output is drawn)."""
    page.wait_for_function(
        "(view) => ['lat', 'lon', 'zoom'].every((key) => location.search.includes(view[key]))",
        arg={
            "lat": f"lat={view['lat']:.4f}",
            "lon": f"lon={view['lon']:.4f}",
            "zoom": f"zoom={view['zoom']}",
        },
    )
    assert url_view(page.url) == view


def assert_map_shows(app_page, view: dict) -> None:
    """Assert the map shows ``view``: the same zoom, its centre within a pixel."""
    frame = map_handle(app_page)
    assert frame.evaluate(MAP_VIEW_JS)["zoom"] == view["zoom"]
    assert frame.evaluate(PIXELS_FROM_CENTRE_JS, [view["lat"], view["lon"]]) <= 1.0


def drag_and_zoom(app_page, point: dict, wheel: int) -> None:
    """Drag the map with the mouse so ``point`` (map pixels) comes to the centre, then turn
    the mouse wheel there (negative: zoom in)."""
    frame = map_handle(app_page)
    app_page.map_iframe.scroll_into_view_if_needed()
    box = frame.locator(".leaflet-container").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    dx, dy = box["width"] / 2 - point["x"], box["height"] / 2 - point["y"]
    mouse = app_page.page.mouse
    mouse.move(cx - dx / 2, cy - dy / 2)
    mouse.down()
    mouse.move(cx + dx / 2, cy + dy / 2, steps=20)
    mouse.up()
    app_page.page.wait_for_timeout(600)  # let the drag's inertia end before the wheel turns
    mouse.move(cx, cy)
    mouse.wheel(0, wheel)


def share_link(page) -> str:
    """Open "Share this view" if it is closed; return the link its box shows."""
    box = page.locator("#kz-share-link")
    if not box.is_visible():
        page.get_by_text("Share this view and export data").click()
    box.wait_for(state="visible")
    return box.input_value()


def assert_legend_matches_the_map(app_page) -> None:
    """Assert the legend lists exactly the marker colours and kinds of mark the map draws."""
    drawn = map_handle(app_page).evaluate(DRAWN_JS)
    kinds = set(drawn["kinds"])
    expected = [f"{t.label} (main theme)" for t in THEMES if t.colour in drawn["colours"]]
    for mark in REGISTRY:
        if mark.category in kinds and mark.category not in ("place", "country"):
            expected += [mark.legend] if mark.legend not in expected else []
    expected += [mapview.BROAD_LEGEND] if "broad" in kinds else []
    expected += [mapview.UNSURE_LEGEND] if "unsure" in kinds else []
    expected += [mapview.CLUSTER_LEGEND] if "places" in kinds else []
    expected.append(mapview.SELECTED_LEGEND)
    assert app_page.page.locator("li.kz-legend > span").all_inner_texts() == expected




def panel_heading(page, text: str):
    """Return the locator of the quote panel's heading with ``text``."""
    return page.locator('[data-testid="stHeading"]').filter(has_text=text)


def test_a_link_with_a_place_opens_its_quotes(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?place=baikonur").page
    panel_heading(page, "Baikonur Cosmodrome").wait_for()
    mark = page.locator(".kz-quote mark").filter(has_text="Baikonur").first
    mark.wait_for()
    quote = page.locator(".kz-quote").filter(has_text="Weltraumbahnhof").first
    assert "Weltraumbahnhof" in quote.inner_text()
    assert page.get_by_text("IPG-Journal · Alexandra Sitenko · 22 Apr 2024").count() == 1
    app_page.wait_for_map(min_paths=20)
    app_page.screenshot("dashboard-baikonur")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_clicking_the_novorossiysk_marker_shows_its_source_every_time(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?lat=44.72&lon=37.77&zoom=7").page
    click_feature(app_page, "novorossiysk")
    panel_heading(page, "Novorossiysk").wait_for()
    quote = page.locator(".kz-quote").filter(has_text="Schwarzmeer-Hafenstadt")
    quote.wait_for()
    assert quote.locator("mark").inner_text() == "Noworossijsk"
    assert "place=novorossiysk" in page.url
    app_page.screenshot("dashboard-novorossiysk-click")

    page.get_by_role("button", name="Clear selection").click()
    app_page.wait_idle()
    panel_heading(page, "Sources").wait_for()
    click_feature(app_page, "novorossiysk")  # the same marker again
    panel_heading(page, "Novorossiysk").wait_for()
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_clicking_the_btc_pipeline_shows_its_attributes(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?lat=41.0&lon=40.0&zoom=5").page
    click_feature(app_page, "btc-pipeline")
    panel_heading(page, "Baku–Tbilisi–Ceyhan pipeline").wait_for()
    table = page.locator("table.kz-attrs").inner_text()
    for expected in ("Operator", "BP", "Official length (km)", "1,768", "Capacity", "Ceyhan"):
        assert expected in table
    page.locator(".kz-quote mark").filter(has_text="Baku–Tiflis–Ceyhan").first.wait_for()
    app_page.screenshot("dashboard-btc-click")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_switching_a_theme_off_removes_its_layer(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?themes=energy,migration").page
    frame = map_handle(app_page)
    assert frame.evaluate(LAYER_COUNT_JS, "pipelines") == 6
    page.get_by_role("button", name="Energy", exact=True).click()
    app_page.wait_idle()
    page.wait_for_function("() => location.search.includes('themes=migration')")
    frame = map_handle(app_page)
    frame.wait_for_function(f"() => ({LAYER_COUNT_JS})('pipelines') === 0")
    assert frame.evaluate(LAYER_COUNT_JS, "sites") >= 1  # the Astrakhan crossing (migration)
    assert_legend_matches_the_map(app_page)  # no pipeline colours any more
    app_page.screenshot("dashboard-energy-off")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_a_copied_link_reopens_the_same_view_in_a_fresh_page(streamlit_app, app_page, browser):
    page = app_page.open(streamlit_app, "?themes=security,territory").page
    app_page.wait_for_map(min_paths=20)  # the map's first value reruns the script: let it
    app_page.wait_idle()
    page.get_by_role("button", name=re.compile(r"^Moscow · \d+")).click()
    app_page.wait_idle()
    panel_heading(page, "Moscow").wait_for()
    app_page.wait_idle()
    link = share_link(page)
    assert "place=moscow" in link and "themes=security%2Cterritory" in link.replace(",", "%2C")

    with fresh_app_page(browser) as fresh:
        fresh.page.goto(link)
        panel_heading(fresh.page, "Moscow").wait_for(timeout=30_000)
        frame = map_handle(fresh)
        assert frame.evaluate(LAYER_COUNT_JS, "pipelines") == 0  # energy stays off
        assert frame.evaluate(LAYER_COUNT_JS, "places") > 0
        assert_legend_matches_the_map(fresh)
        fresh.screenshot("dashboard-shared-link")
        fresh.log.assert_offline()


def test_unknown_link_parameters_are_ignored_with_a_notice(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?place=atlantis&colour=red&from=gestern").page
    notices = page.locator('[data-testid="stAlertContentInfo"]')
    notices.first.wait_for()
    text = " ".join(notices.all_inner_texts())
    assert "No place with id 'atlantis'" in text
    assert "Unknown link parameter 'colour'" in text
    assert "'from' is not a date" in text
    panel_heading(page, "Sources").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    app_page.log.assert_no_console_errors()


CROSSING = "Karaozek–Kurmangazy border crossing (Astrakhan)"


def test_the_map_view_is_in_the_url_kept_across_reruns_and_shared(streamlit_app, app_page, browser):
    page = app_page.open(streamlit_app, "?themes=energy,migration").page
    frame = map_handle(app_page)
    assert url_view(page.url) is None  # the home view needs no parameters
    page.wait_for_timeout(1500)  # on a busy machine the map's first value (a rerun) comes late
    app_page.wait_idle()
    frame = map_handle(app_page)
    page.evaluate(WATCH_RUNS_JS)

    # pan and zoom with the mouse: the Astrakhan crossing to the centre, one wheel turn in
    drag_and_zoom(app_page, frame.evaluate(FEATURE_POINT_JS, "astrakhan-crossing"), -300)
    frame.wait_for_function(f"() => window.map.getZoom() > {mapview.MAP_ZOOM}")
    view = wait_for_view_in_url(app_page)
    assert abs(view["lat"] - 46.687) < 3 and abs(view["lon"] - 48.795) < 3
    page.wait_for_timeout(1000)  # a rerun the map asked for would have started by now
    assert page.evaluate("window.kzRuns") == 0, "panning reran the script"
    assert share_link(page) == page.url
    app_page.screenshot("dashboard-view-panned")

    # a click reruns the script: the same map keeps its view, the URL gains the place
    click_feature(app_page, "astrakhan-crossing")
    panel_heading(page, CROSSING).wait_for()
    app_page.wait_idle()
    wait_for_url_to_hold(page, view)
    assert "place=astrakhan-crossing" in page.url
    assert_map_shows(app_page, view)

    # a filter change draws a new map: it opens at the same view, which stays in the URL
    page.get_by_role("button", name="Energy", exact=True).click()
    app_page.wait_idle()
    page.wait_for_function("() => location.search.includes('themes=migration')")
    assert map_handle(app_page).evaluate(LAYER_COUNT_JS, "pipelines") == 0  # the new map
    assert_map_shows(app_page, view)
    wait_for_url_to_hold(page, view)
    link = share_link(page)
    assert link == page.url
    panel_heading(page, CROSSING).wait_for()
    app_page.screenshot("dashboard-view-after-filter")

    # the copy button copies that link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=streamlit_app)
    page.get_by_role("button", name="Copy link").click()
    page.locator("#kz-share-status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link

    # the link opens the same view in a new browser context
    with fresh_app_page(browser) as fresh:
        fresh.page.goto(link)
        panel_heading(fresh.page, CROSSING).wait_for(timeout=30_000)
        assert_map_shows(fresh, view)
        assert map_handle(fresh).evaluate(LAYER_COUNT_JS, "pipelines") == 0
        wait_for_url_to_hold(fresh.page, view)
        fresh.screenshot("dashboard-view-shared")
        fresh.log.assert_offline()
        fresh.log.assert_no_console_errors()
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_back_at_the_home_view_the_link_has_no_view(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?place=baikonur&lat=46.5&lon=48.0&zoom=6").page
    frame = map_handle(app_page)
    assert_map_shows(app_page, {"lat": 46.5, "lon": 48.0, "zoom": 6})
    lat, lon = mapview.MAP_CENTER
    frame.evaluate(f"() => window.map.setView([{lat}, {lon}], {mapview.MAP_ZOOM})")
    page.wait_for_function("() => !location.search.includes('lat=')")
    assert "place=baikonur" in page.url and url_view(share_link(page)) is None


def test_a_link_with_a_bad_map_view_opens_the_home_view(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?lat=95&lon=48&zoom=6").page
    page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Map view").wait_for()
    assert_map_shows(
        app_page,
        {"lat": mapview.MAP_CENTER[0], "lon": mapview.MAP_CENTER[1], "zoom": mapview.MAP_ZOOM},
    )
    page.wait_for_function("() => !location.search.includes('lat=')")


def test_a_link_with_a_bad_map_view_and_a_place_brings_the_place_into_view(
    streamlit_app, app_page
):
    page = app_page.open(streamlit_app, "?lat=95&lon=48&zoom=6&place=almaty").page
    page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Map view").wait_for()
    frame = map_handle(app_page)  # no valid view in the link: the place is brought into view
    frame.wait_for_function(
        "() => window.map.getBounds().contains([43.25, 76.92]) && window.map.getZoom() >= 4"
    )
    page.wait_for_function("() => !location.search.includes('lat=95')")
    assert "place=almaty" in page.url


def test_the_exported_map_works_without_a_page_around_it(streamlit_app, page, browser_log):
    countries = mapview.read_geojson(DEFAULT_CORPUS_DIR.parent / "geodata" / "countries.geojson")
    m = mapview.build_map(countries, asset_url=f"{streamlit_app}/app/static/vendor")
    page.set_content(m.get_root().render())
    page.wait_for_function("() => Object.keys(window).some((k) => k.startsWith('map_'))")
    name = page.evaluate("() => Object.keys(window).find((k) => k.startsWith('map_'))")
    page.evaluate(f"() => window['{name}'].setView([46.5, 48.0], 6)")
    assert page.evaluate(f"() => window['{name}'].getZoom()") == 6
    assert page.url == "about:blank" and page.evaluate("window.kzgeoView") is None
    browser_log.assert_offline()
    browser_log.assert_no_console_errors()


def call_view_js(page, function: str, *args):
    """Call a function of the map's view script (``mapview.VIEW_JS``) in the browser."""
    return page.evaluate(
        "([js, name, args]) => new Function('args', `${js}; return ${name}(...args);`)(args)",
        [mapview.VIEW_JS, function, list(args)],
    )


# The same URL values as the app parses them: (query, what the map reads as its view).
VIEW_QUERIES = [
    ("?place=baikonur&lat=46.5&lon=48&zoom=5", {"lat": 46.5, "lon": 48.0, "zoom": 5}),
    ("?lat=46.5&lon=48&zoom=5.7", {"lat": 46.5, "lon": 48.0, "zoom": 5}),
    ("?lat=-90&lon=180&zoom=18", {"lat": -90.0, "lon": 180.0, "zoom": 18}),
    ("?lat=95&lon=48&zoom=5", None),
    ("?lat=46.5&lon=-181&zoom=5", None),
    ("?lat=46.5&lon=48&zoom=0", None),
    ("?lat=46.5&lon=48", None),
    ("?lat=&lon=48&zoom=5", None),
    ("?lat=46.5x&lon=48&zoom=5", None),
    ("?lat=nan&lon=48&zoom=5", None),
    ("", None),
]


@pytest.mark.parametrize(("query", "expected"), VIEW_QUERIES)
def test_the_map_reads_a_view_from_the_url_as_the_app_does(page, query, expected):
    read = call_view_js(page, "readView", query)
    assert read == expected
    catalogue = dashboard.Catalogue(frozenset({"baikonur"}), frozenset(), frozenset())
    state, _ = dashboard.parse_query(parse_qs(query.lstrip("?")), catalogue)
    parsed = None if state.lat is None else {"lat": state.lat, "lon": state.lon, "zoom": state.zoom}
    assert parsed == expected


# (query, view, what the map writes): the view parameters replaced, the others kept as they are.
WITH_VIEW = [
    (
        "?themes=energy,security&lat=1&lon=2&zoom=3&place=x",
        {"lat": 46.5, "lon": 48.25, "zoom": 6},
        "?themes=energy,security&place=x&lat=46.5000&lon=48.2500&zoom=6",
    ),
    ("?place=x&zoom=3", None, "?place=x"),
    ("?lat=1&lon=2&zoom=3", None, ""),
    ("", {"lat": -1.5, "lon": -170.0, "zoom": 2}, "?lat=-1.5000&lon=-170.0000&zoom=2"),
    ("?toString=1&outlet=Die%20Zeit", None, "?toString=1&outlet=Die%20Zeit"),
]


@pytest.mark.parametrize(("query", "view", "expected"), WITH_VIEW)
def test_the_map_writes_its_view_into_the_url_keeping_the_rest(page, query, view, expected):
    written = call_view_js(page, "withView", query, view)
    assert written == expected


@pytest.fixture(scope="module")
def whole_index():
    return index_corpus(DEFAULT_CORPUS_DIR)


def test_downloads_hold_the_view_and_the_whole_dataset(streamlit_app, app_page, whole_index):
    page = app_page.open(streamlit_app, "?themes=migration,territory&outlet=IPG-Journal").page
    drawn = set(map_handle(app_page).evaluate(DRAWN_JS)["ids"])
    page.get_by_text("Share this view and export data").click()
    files = {}
    for label in (
        "This view (GeoJSON)",
        "This view's quotes (CSV)",
        "Whole dataset (GeoJSON)",
        "All mentions (CSV)",
    ):
        with page.expect_download(timeout=60_000) as download:  # made on the click: give a
            page.get_by_role("button", name=label).click()  # busy machine time
        path = Path(download.value.path())
        files[download.value.suggested_filename] = path.read_text(encoding="utf-8")

    view = json.loads(files["kzgeo-view.geojson"])
    whole = json.loads(files["kzgeo.geojson"])
    assert view["type"] == whole["type"] == "FeatureCollection"
    assert {f["id"] for f in view["features"]} == drawn  # exactly what the map shows
    assert [f["id"] for f in whole["features"]] == [
        f["id"] for f in whole_index.collection["features"]
    ]
    assert len(view["features"]) < len(whole["features"])

    quotes = list(csv.reader(io.StringIO(files["kzgeo-view-quotes.csv"])))
    assert quotes[0] == list(dashboard.QUOTE_COLUMNS)
    text = dashboard.QUOTE_COLUMNS.index("text")
    outlet = dashboard.QUOTE_COLUMNS.index("outlet")
    expected = sorted(
        (f["id"], q["text"]) for f in view["features"] for q in f["properties"]["quotes"]
    )
    assert expected and sorted((row[0], row[text]) for row in quotes[1:]) == expected
    assert {row[outlet] for row in quotes[1:]} == {"IPG-Journal"}

    mentions = list(csv.DictReader(io.StringIO(files["kzgeo-mentions.csv"])))
    assert list(mentions[0]) == list(MENTION_COLUMNS)
    sentences = {row["sentence"] for row in mentions}
    every_quote = {q["text"] for f in whole["features"] for q in f["properties"]["quotes"]}
    assert every_quote and every_quote <= sentences
    assert {row["outlet"] for row in mentions} > {"IPG-Journal"}
    app_page.log.assert_offline()


# A page that embeds the app the way Streamlit Community Cloud does, and records the query
# strings the app asks it to show in its address bar.
HOST_PAGE = """<!doctype html><body style="margin:0">
<iframe src="{url}" style="width:1400px;height:950px;border:0"></iframe>
<script>
window.queries = [];
addEventListener("message", (event) => {{
  if (event.data && event.data.type === "SET_QUERY_PARAM") queries.push(event.data.queryParams);
}});
</script></body>"""


def test_an_embedding_page_is_told_the_map_view(streamlit_app, page, browser_log):
    page.set_content(HOST_PAGE.format(url=f"{streamlit_app}/?place=baikonur"))
    app = page.frame_locator("iframe").first
    app.locator('[data-testid="stHeading"]').filter(has_text="Baikonur").wait_for(timeout=60_000)
    map_frame = None
    deadline = time.monotonic() + 30
    while map_frame is None:
        map_frame = next((f for f in page.frames if "st_folium" in f.url), None)
        assert time.monotonic() < deadline, "no map"
        page.wait_for_timeout(200)
    map_frame.wait_for_function("() => window.map && Object.keys(window.map._layers).length > 20")
    map_frame.evaluate("() => window.map.setView([46.5, 48.25], 6)")
    page.wait_for_function("() => queries.some((q) => q.includes('lat=46.5000'))")
    told = [q for q in page.evaluate("queries") if "lat=" in q][-1]
    assert told == "?place=baikonur&lat=46.5000&lon=48.2500&zoom=6"
    browser_log.assert_offline()
