"""The first screen in a real browser: articles listed, the offline map drawn, nothing external."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# Errors that mean the vendored assets did not load.
ASSET_ERRORS = ("is not defined", "Failed to load resource", "ERR_", "MIME type")


def test_first_screen_lists_articles_and_draws_the_offline_map(streamlit_app, app_page):
    page = app_page.open(streamlit_app).page

    assert page.title().startswith("Kazakhstan in German-language reporting")
    page.get_by_text("Vermittler gesucht", exact=True).wait_for()
    assert page.get_by_text("IPG-Journal · 22 Apr 2024").count() == 1

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


@pytest.fixture(scope="module")
def odd_corpus(tmp_path_factory):
    """A corpus folder with one real article (no manifest) and one empty file."""
    folder = tmp_path_factory.mktemp("odd-corpus")
    source = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))[1]
    (folder / source.name).write_bytes(source.read_bytes())
    (folder / "zz_empty.txt").write_text("", encoding="utf-8")
    return folder


def test_corpus_problems_show_as_warnings_with_the_map_still_drawn(
    start_streamlit, odd_corpus, app_page
):
    url = start_streamlit(corpus=odd_corpus)
    page = app_page.open(url).page

    warning = page.locator('[data-testid="stAlertContentWarning"]')
    warning.wait_for()
    assert "zz_empty.txt" in warning.inner_text()
    assert page.get_by_text("Articles (1)").count() == 1
    assert app_page.wait_for_map(min_paths=11) > 10
    app_page.screenshot("odd-corpus")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_missing_corpus_folder_is_an_error_message_not_a_traceback(
    start_streamlit, tmp_path, app_page
):
    url = start_streamlit(corpus=tmp_path / "no-such-folder")
    page = app_page.open(url).page

    error = page.locator('[data-testid="stAlertContentError"]')
    error.wait_for()
    assert "KZGEO_CORPUS" in error.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Articles (0)").count() == 1
    app_page.wait_for_map(min_paths=11)
    app_page.screenshot("missing-corpus")
    app_page.log.assert_offline()


def test_offline_guard_records_a_tile_request_when_tiles_are_switched_on(streamlit_app, app_page):
    app_page.open(streamlit_app)
    app_page.wait_for_map(min_paths=11)
    app_page.settle()  # not while a rerun redraws the map under the pointer
    frame = app_page.map_frame
    for _ in range(3):  # the control folds up when the pointer leaves it: unfold it again
        frame.locator(".leaflet-control-layers").hover()
        try:
            frame.get_by_text("OpenStreetMap (online)").click(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    frame.locator(".leaflet-tile").first.wait_for(state="attached")
    for _ in range(50):  # the route handler runs as Playwright dispatches events
        if any("tile.openstreetmap.org" in u for u in app_page.log.external):
            break
        app_page.page.wait_for_timeout(100)

    assert any("tile.openstreetmap.org" in u for u in app_page.log.external)
    with pytest.raises(AssertionError, match="left the machine"):
        app_page.log.assert_offline()
