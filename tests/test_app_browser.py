"""The first screen in a real browser: articles listed, the offline map drawn, nothing external."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# Errors that mean the vendored assets did not load.
ASSET_ERRORS = ("is not defined", "Failed to load resource", "ERR_", "MIME type")


def test_first_screen_lists_articles_and_draws_the_offline_map(streamlit_app, app_page):
    page = app_page.open(streamlit_app).page

    assert page.title() == "kzgeo"
    page.get_by_text("Vermittler gesucht", exact=True).wait_for()
    assert page.get_by_text("IPG-Journal · 22.04.2024").count() == 1

    app_page.map_iframe.wait_for(state="visible")
    box = app_page.map_iframe.bounding_box()
    assert box and box["height"] > 300, f"map iframe collapsed: {box}"
    frame = app_page.map_frame
    frame.locator(".leaflet-container").wait_for()
    drawn = app_page.wait_for_map(min_paths=11)
    filled = frame.locator('.leaflet-overlay-pane path[fill]:not([fill="none"])').count()
    shot = app_page.screenshot("first-screen")

    assert drawn > 10 and filled > 10, f"{drawn} paths, {filled} filled (see {shot})"
    assert frame.get_by_text("Natural Earth").count() >= 1, "map attribution missing"
    page.get_by_text("GeoNames").first.wait_for()

    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()
    vendored = [u for u in app_page.log.requests if "/app/static/vendor/" in u]
    assert any(u.endswith("/leaflet.js") for u in vendored), vendored
    assert not app_page.log.failed, f"failed requests: {app_page.log.failed}"
