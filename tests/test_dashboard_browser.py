"""The dashboard in a real browser: links, clicks on the map, theme toggles, shared links."""

from __future__ import annotations

import re
import time

import pytest

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


def map_handle(app_page, timeout: float = 30.0):
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
    point = frame.evaluate(FEATURE_POINT_JS, feature_id)
    assert point, f"{feature_id} is not drawn on the map"
    box = frame.locator(".leaflet-container").bounding_box()
    app_page.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


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
    assert page.get_by_text("IPG-Journal · Alexandra Sitenko · 2024-04-22").count() == 1
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
    table = page.locator('[data-testid="stTable"]').inner_text()
    for expected in ("Operator", "BP", "Official length (km)", "1768", "Capacity", "Ceyhan"):
        assert expected in table
    assert page.locator(".kz-quote mark").filter(has_text="Baku–Tiflis–Ceyhan").count() >= 1
    app_page.screenshot("dashboard-btc-click")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_switching_a_theme_off_removes_its_layer(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?themes=energy,migration").page
    frame = map_handle(app_page)
    assert frame.evaluate(LAYER_COUNT_JS, "pipelines") == 6
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Energy").click()
    app_page.wait_idle()
    page.wait_for_function("() => location.search.includes('themes=migration')")
    frame = map_handle(app_page)
    frame.wait_for_function(f"() => ({LAYER_COUNT_JS})('pipelines') === 0")
    assert frame.evaluate(LAYER_COUNT_JS, "sites") >= 1  # the Astrakhan crossing (migration)
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
    page.get_by_text("Share this view and export data").click()
    link = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    assert "place=moscow" in link and "themes=security%2Cterritory" in link.replace(",", "%2C")

    fresh = browser.new_context(viewport={"width": 1400, "height": 950}).new_page()
    try:
        fresh.goto(link)
        panel_heading(fresh, "Moscow").wait_for(timeout=30_000)
        fresh.locator(".kz-legend").filter(has_text="main theme").nth(1).wait_for()
        legend = fresh.locator(".kz-legend").filter(has_text="main theme").all_inner_texts()
        assert [entry.split(" (")[0] for entry in legend] == ["Security", "Territory"]
        fresh.screenshot(path="test-artifacts/dashboard-shared-link.png", full_page=True)
    finally:
        fresh.context.close()


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
