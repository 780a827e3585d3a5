"""The map-first dashboard in a real browser (issue 18): every feature answers a click, a tap and
the keyboard, a selection shows on the map and comes into view, theme layers filter every layer,
the search finds every feature; on a 1440x900 desktop and a 390x844 touch phone."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from conftest import ARTIFACTS_DIR, AppPage, fresh_app_page

from tests.test_dashboard_browser import (
    DRAWN_JS,
    FEATURE_POINT_JS,
    LAYER_COUNT_JS,
    MAP_VIEW_JS,
    map_handle,
    panel_heading,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

# Whether the topmost element at (lat, lon) is the drawn path of feature ``id`` (nothing above).
TOPMOST_JS = """([id, lat, lon]) => {
  let found = null;
  window.map.eachLayer((l) => { if (l.feature && l.feature.properties.id === id) found = l; });
  const p = window.map.latLngToContainerPoint([lat, lon]);
  const r = window.map.getContainer().getBoundingClientRect();
  const el = document.elementFromPoint(p.x + r.left, p.y + r.top);
  return {topmost: !!found && el === found.getElement(), x: p.x + r.left, y: p.y + r.top};
}"""

# Whether every drawn layer of feature ``id`` lies inside the map's bounds.
IN_VIEW_JS = """(id) => {
  const layers = [];
  const visit = (l) => {
    if (l.feature && l.feature.properties && l.feature.properties.id === id) layers.push(l);
    else if (l.getLayers) l.getLayers().forEach(visit);
  };
  window.map.eachLayer(visit);
  if (!layers.length) return false;
  const bounds = L.latLngBounds([]);
  layers.forEach((l) => bounds.extend(l.getBounds ? l.getBounds() : l.getLatLng()));
  return window.map.getBounds().contains(bounds);
}"""

# The style a feature is drawn in (its first drawn layer).
STYLE_JS = """(id) => {
  let found = null;
  const visit = (l) => {
    if (found) return;
    if (l.feature && l.feature.properties && l.feature.properties.id === id) found = l;
    else if (l.getLayers) l.getLayers().forEach(visit);
  };
  window.map.eachLayer(visit);
  if (!found) return null;
  const o = found.options;
  return {color: o.color, weight: o.weight, radius: o.radius || null,
          pressed: found.getElement() ? found.getElement().getAttribute('aria-pressed') : null};
}"""

# Points inside Kazakhstan, away from every marker and line at the home view.
KAZAKHSTAN_POINTS = [(48.5, 67.0), (50.5, 78.0), (46.0, 59.5), (44.5, 55.0), (47.5, 75.0)]


def context_page(browser, viewport: dict, touch: bool = False):
    """Return the app helper's context manager for a new context of ``viewport``."""
    return fresh_app_page(browser, 30_000, viewport=viewport, has_touch=touch, is_mobile=touch)


@pytest.fixture
def desktop(browser) -> Iterator[AppPage]:
    with context_page(browser, DESKTOP) as app:
        yield app


@pytest.fixture
def phone(browser) -> Iterator[AppPage]:
    with context_page(browser, PHONE, touch=True) as app:
        yield app


def shot(app: AppPage, name: str) -> None:
    """Save the viewport as ``test-artifacts/<name>.png`` (what a user sees without scrolling)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    app.page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"))


def test_clicks_anywhere_inside_kazakhstan_open_kazakhstan(streamlit_app, desktop):
    page = desktop.open(streamlit_app).page
    for lat, lon in KAZAKHSTAN_POINTS:
        frame = map_handle(desktop)
        where = frame.evaluate(TOPMOST_JS, ["kazakhstan", lat, lon])
        assert where["topmost"], f"({lat}, {lon}) is not on Kazakhstan alone"
        box = desktop.map_iframe.bounding_box()
        page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])
        panel_heading(page, "Kazakhstan").wait_for()
        desktop.wait_idle()
        assert "place=kazakhstan" in page.url
        page.get_by_role("button", name="Clear selection").click()
        desktop.wait_idle()
        panel_heading(page, "Sources").wait_for()
    # the alliances that contain Kazakhstan take no click, but a link selects them
    assert frame.evaluate("() => document.querySelectorAll('.leaflet-kz-outlines-pane "
                          ".leaflet-interactive').length") == 0  # fmt: skip
    desktop.open(streamlit_app, "?place=eaeu")
    panel_heading(page, "Eurasian Economic Union").wait_for()
    map_handle(desktop).wait_for_function(  # its members in view: Kazakhstan, Belarus, Armenia
        "() => [[48, 67], [53.9, 27.6], [40.2, 44.5], [66, 175]].every((p) => "  # and Chukotka
        "window.map.getBounds().contains(p)) && window.map.getZoom() > 2"  # not a world view
    )
    page.wait_for_timeout(1500)  # the flight ends and the shapes are drawn for the new view
    shot(desktop, "map-desktop-eaeu")
    desktop.log.assert_offline()
    desktop.log.assert_no_console_errors()


@pytest.mark.parametrize("place", ["moscow", "berlin", "btc-pipeline", "novorossiysk"])
def test_a_place_link_brings_the_feature_into_view_and_highlights_it(
    streamlit_app, desktop, place
):
    desktop.open(streamlit_app, f"?place={place}")
    frame = map_handle(desktop)
    frame.wait_for_function(f"() => ({IN_VIEW_JS})('{place}')", timeout=15_000)
    style = frame.evaluate(STYLE_JS, place)
    assert style["pressed"] == "true" and style["weight"] >= 4, style
    shot(desktop, f"map-desktop-place-{place}")
    desktop.log.assert_no_console_errors()


def map_crop(app: AppPage, feature_id: str) -> bytes:
    """Return a PNG of the 80x80 pixels of the map around a feature."""
    frame = map_handle(app)
    app.page.wait_for_timeout(800)  # let a highlight be painted
    point = frame.evaluate(FEATURE_POINT_JS, feature_id)
    box = app.map_iframe.bounding_box()
    clip = {"x": box["x"] + point["x"] - 40, "y": box["y"] + point["y"] - 40,
            "width": 80, "height": 80}  # fmt: skip
    return app.page.screenshot(clip=clip)


def test_an_explicit_view_stays_and_shows_the_selection(streamlit_app, desktop):
    from PIL import Image, ImageChops

    view = "lat=44.7200&lon=37.7700&zoom=7"
    desktop.open(streamlit_app, f"?{view}")
    plain = map_crop(desktop, "novorossiysk")
    desktop.open(streamlit_app, f"?place=novorossiysk&{view}")
    selected = map_crop(desktop, "novorossiysk")
    shown = map_handle(desktop).evaluate(MAP_VIEW_JS)
    assert shown["zoom"] == 7 and abs(shown["lat"] - 44.72) < 0.01  # the link's view kept
    (ARTIFACTS_DIR / "map-crop-plain.png").write_bytes(plain)
    (ARTIFACTS_DIR / "map-crop-selected.png").write_bytes(selected)
    before, after = (Image.open(io.BytesIO(png)).convert("RGB") for png in (plain, selected))
    difference = ImageChops.difference(before, after)
    changed = sum(difference.convert("L").histogram()[41:])
    assert changed > 100, f"the selection changes only {changed} pixels around the feature"

    desktop.page.get_by_role("button", name="Clear selection").click()
    desktop.wait_idle()
    frame = map_handle(desktop)
    frame.wait_for_function(f"() => ({STYLE_JS})('novorossiysk').pressed === 'false'")
    assert frame.evaluate(STYLE_JS, "novorossiysk")["weight"] < 4  # the normal style again


def test_a_tap_on_a_phone_selects_a_circle(streamlit_app, phone):
    page = phone.open(streamlit_app, "?lat=44.7200&lon=37.7700&zoom=7").page
    frame = map_handle(phone)
    phone.map_iframe.scroll_into_view_if_needed()
    point = frame.evaluate(FEATURE_POINT_JS, "novorossiysk")
    box = phone.map_iframe.bounding_box()
    assert box["width"] >= PHONE["width"] - 40, f"the map is not the screen's width: {box}"
    page.touchscreen.tap(box["x"] + point["x"], box["y"] + point["y"])
    panel_heading(page, "Novorossiysk").wait_for()
    phone.wait_idle()
    shot(phone, "map-phone-tap-novorossiysk")
    page.screenshot(path=str(ARTIFACTS_DIR / "map-phone-full.png"), full_page=True)
    phone.log.assert_offline()


@pytest.mark.parametrize(("themes", "pipelines"), [("energy", 6), ("economy", 0),
                                                    ("security,migration,rights", 0)])  # fmt: skip
def test_only_the_energy_theme_draws_the_pipelines(streamlit_app, desktop, themes, pipelines):
    desktop.open(streamlit_app, f"?themes={themes}")
    assert map_handle(desktop).evaluate(LAYER_COUNT_JS, "pipelines") == pipelines


def test_an_unknown_theme_leaves_the_default_map(streamlit_app, desktop):
    desktop.open(streamlit_app)
    default = map_handle(desktop).evaluate(DRAWN_JS)
    page = desktop.open(streamlit_app, "?themes=foo").page
    notice = page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="foo")
    assert "default themes stay on" in notice.inner_text()
    drawn = map_handle(desktop).evaluate(DRAWN_JS)
    assert sorted(drawn["ids"]) == sorted(default["ids"]) and len(drawn["ids"]) > 100


@pytest.mark.parametrize(("typed", "offered"), [
    ("Tengiz", "Tengiz oil field"), ("Tengis", "Tengiz oil field"),
    ("CPC", "Caspian Pipeline Consortium pipeline"), ("KTK", "Caspian Pipeline Consortium"),
    ("Kashagan", "Kashagan oil field"), ("Emba", "Emba test range"),
    ("Sary-Shagan", "Sary-Shagan test range"), ("BTC", "Baku–Tbilisi–Ceyhan pipeline"),
])  # fmt: skip
def test_the_search_offers_every_feature_by_any_name(streamlit_app, desktop, typed, offered):
    page = desktop.open(streamlit_app).page
    box = page.get_by_role("combobox", name="Find anything on the map")
    box.click()
    page.keyboard.type(typed)
    page.get_by_role("option").first.wait_for()
    options = page.get_by_role("option").all_inner_texts()
    assert any(option.startswith(offered) for option in options[:3]), options


def test_a_feature_no_article_names_says_why_it_is_drawn(streamlit_app, desktop):
    page = desktop.open(streamlit_app, "?place=tengiz").page
    panel_heading(page, "Tengiz oil field").wait_for()
    note = page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="Context layer")
    assert "no article in this corpus names it" in note.inner_text()
    table = page.locator("table.kz-attrs").inner_text()
    assert "Country\tKazakhstan" in table and "kazakhstan" not in table


def test_tab_and_enter_select_a_feature(streamlit_app, desktop):
    page = desktop.open(streamlit_app, "?lat=44.7200&lon=37.7700&zoom=7").page
    frame = map_handle(desktop)
    desktop.map_iframe.scroll_into_view_if_needed()
    frame.locator(".leaflet-container").focus()
    name = None
    for _ in range(60):
        page.keyboard.press("Tab")
        name = frame.evaluate("() => document.activeElement.getAttribute('aria-label')")
        if name and name.startswith("Novorossiysk"):
            break
    assert name and name.startswith("Novorossiysk"), name
    focused = frame.evaluate(STYLE_JS, "novorossiysk")
    shot(desktop, "map-desktop-keyboard-focus")
    page.keyboard.press("Enter")
    panel_heading(page, "Novorossiysk").wait_for()
    assert focused["weight"] >= 3  # focus is drawn on the marker itself


def test_the_map_comes_first_and_the_legend_is_in_view_on_a_desktop(streamlit_app, desktop):
    page = desktop.open(streamlit_app, "?place=baikonur").page
    map_handle(desktop)
    box = desktop.map_iframe.bounding_box()
    assert box["width"] >= 0.6 * DESKTOP["width"], box  # most of the width
    assert box["height"] >= 0.75 * DESKTOP["height"], box  # and of the viewport's height
    assert box["y"] + box["height"] <= DESKTOP["height"], box  # all of it without scrolling
    legend = page.locator("li.kz-legend")
    assert legend.count() >= 10
    last = legend.last.bounding_box()
    assert last["y"] + last["height"] <= DESKTOP["height"], "the legend runs below the fold"
    assert page.title().startswith("Kazakhstan in German-language reporting")
    assert page.locator('.kz-quote[lang="de"]').count() >= 1  # German quotes say so
    shot(desktop, "map-desktop-baikonur")
    desktop.log.assert_offline()
    desktop.log.assert_no_console_errors()
