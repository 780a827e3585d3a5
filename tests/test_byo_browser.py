"""Your own article in a real browser (#8): paste, upload HTML, click the new markers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_dashboard_browser import FEATURE_POINT_JS, LAYER_COUNT_JS, panel_heading

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ARTICLE_HTML = Path(__file__).resolve().parent / "data" / "article.html"
PASTED = "Das Öl aus Atyrau fließt nach Aktau. In Aktau liegt der Hafen am Kaspischen Meer."
# Text of the fixture page outside its article: navigation, ads, comments, newsletter, footer.
BOILERPLATE = (
    "Cookies", "Anzeige", "Dubai", "Mehr zum Thema", "Schymkent", "Turkmenbaschi",
    "Newsletter", "Impressum", "Steppenbote Medien GmbH", "Bischkek",
)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def open_form(app_page):
    """Open the sidebar's 'Add your own article' expander; return the sidebar locator."""
    app_page.wait_for_map(min_paths=20)  # the map's first value reruns the script: let it
    app_page.wait_idle()
    side = sidebar(app_page.page)
    if not side.get_by_text("Add your own article").is_visible():  # the sidebar starts closed
        app_page.page.locator('[data-testid="stExpandSidebarButton"]').click()
    side.get_by_text("Add your own article").click()
    side.get_by_label("Article text").wait_for()
    return side


def fill(app_page, side, label: str, value: str) -> None:
    """Type ``value`` into a sidebar field and commit it (Tab), then wait for the rerun."""
    box = side.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab" if label != "Article text" else "Control+Enter")
    app_page.wait_idle()


def new_map_frame(app_page, count: int, timeout: float = 30.0):
    """Return the map's Frame once it draws ``count`` features of the new layer.

    The map's iframe is replaced when its content changes, so a detached frame is retried.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            app_page.wait_for_map(min_paths=20)
            frame = app_page.map_iframe.element_handle().content_frame()
            frame.wait_for_function(
                f"() => window.map && ({LAYER_COUNT_JS})('new') === {count}", timeout=5_000
            )
            return frame
        except Error:
            if time.monotonic() > deadline:
                raise


def click_new(app_page, frame, feature_id: str) -> None:
    """Click a new feature with a real mouse click at its centre."""
    point = frame.evaluate(FEATURE_POINT_JS, feature_id)
    assert point, f"{feature_id} is not drawn"
    box = frame.locator(".leaflet-container").bounding_box()
    app_page.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_pasted_text_shows_two_new_markers_quoting_it(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?lat=45.5&lon=51.5&zoom=6").page
    side = open_form(app_page)
    fill(app_page, side, "Article text", PASTED)
    fill(app_page, side, "Title", "Öl und Häfen am Kaspischen Meer")
    fill(app_page, side, "Outlet (newspaper or site)", "Mein Blatt")
    fill(app_page, side, "Date (YYYY-MM-DD)", "2025-03-14")
    side.get_by_role("button", name="Map this article").click()
    app_page.wait_idle()
    side.get_by_text("3 place(s) on the map").wait_for()  # the sea is a place (issue 19)

    frame = new_map_frame(app_page, 3)
    ids = frame.evaluate(
        """() => { const ids = new Set(); const visit = (l) => {
             if (l.feature && l.feature.properties.layer === 'new') ids.add(l.feature.id);
             else if (l.getLayers) l.getLayers().forEach(visit); };
           window.map.eachLayer(visit); return [...ids].sort(); }"""
    )
    assert ids == ["new:aktau", "new:atyrau", "new:caspian-sea"]
    app_page.screenshot("byo-pasted-new-markers")

    click_new(app_page, frame, "new:atyrau")
    panel_heading(page, "Atyrau").wait_for()
    page.get_by_text("new (your article, this session only)").wait_for()
    quote = page.locator(".kz-quote").filter(has_text="fließt nach Aktau")
    quote.wait_for()
    assert quote.inner_text().strip() == "Das Öl aus Atyrau fließt nach Aktau."
    assert quote.locator("mark").inner_text() == "Atyrau"
    assert page.get_by_text("Mein Blatt · 14 Mar 2025").count() == 1
    assert "place=new%3Aatyrau" in page.url or "place=new:atyrau" in page.url
    app_page.wait_idle()
    assert "Geoparser confidence" in page.locator("table.kz-attrs").inner_text()
    assert page.get_by_text("Most mentioned").count() == 0
    app_page.screenshot("byo-pasted-atyrau-click")

    frame = new_map_frame(app_page, 3)
    click_new(app_page, frame, "new:aktau")
    panel_heading(page, "Aktau").wait_for()
    app_page.wait_idle()
    quote = page.locator(".kz-quote").filter(has_text="In Aktau liegt")
    quote.wait_for()
    quotes = page.locator(".kz-quote").all_inner_texts()
    assert "In Aktau liegt der Hafen am Kaspischen Meer." in quotes
    assert all(q.strip() in PASTED for q in quotes)  # only the pasted sentences, no corpus ones

    side.get_by_role("button", name="Remove my articles").click()
    app_page.wait_idle()
    panel_heading(page, "Sources").wait_for()
    new_map_frame(app_page, 0)
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def test_an_uploaded_html_page_is_quoted_only_from_its_article_text(streamlit_app, app_page):
    page = app_page.open(streamlit_app, "?lat=45.5&lon=51.5&zoom=6").page
    side = open_form(app_page)
    side.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        str(ARTICLE_HTML)
    )
    app_page.wait_idle()
    title = side.get_by_label("Title", exact=True)
    page.wait_for_function(
        "(el) => el.value === 'Kasachstans Häfen am Kaspischen Meer wachsen'",
        arg=title.element_handle(),
    )
    outlet = side.get_by_label("Outlet (newspaper or site)", exact=True)
    assert outlet.input_value() == "Steppenbote"
    assert side.get_by_label("Date (YYYY-MM-DD)", exact=True).input_value() == "2025-03-14"
    text = side.get_by_label("Article text").input_value()
    assert "Der Hafen von Aktau hat seinen Umschlag" in text
    side.get_by_role("button", name="Map this article").click()
    app_page.wait_idle()
    side.get_by_text("place(s) on the map").wait_for()
    frame = new_map_frame(app_page, int(frame_count(side)))
    click_new(app_page, frame, "new:aktau")
    panel_heading(page, "Aktau").wait_for()
    app_page.wait_idle()
    page.locator(".kz-quote").filter(has_text="Der Hafen von Aktau hat").wait_for()
    panel = page.locator('[data-testid="stVerticalBlock"]').filter(
        has=page.locator(".kz-quote")
    ).last
    quotes = page.locator(".kz-quote").all_inner_texts()
    assert any("Der Hafen von Aktau hat seinen Umschlag" in q for q in quotes)
    assert all(q.strip() in text for q in quotes)
    panel_text = panel.inner_text()
    assert "Steppenbote" in panel_text
    for boilerplate in BOILERPLATE:
        assert boilerplate not in panel_text
        assert boilerplate not in text
    ids = frame.evaluate(
        """() => { const ids = []; const visit = (l) => {
             if (l.feature && l.feature.properties.layer === 'new') ids.push(l.feature.id);
             else if (l.getLayers) l.getLayers().forEach(visit); };
           window.map.eachLayer(visit); return ids; }"""
    )
    for nav_place in ("new:almaty", "new:bishkek", "new:shymkent", "new:tashkent", "new:osh"):
        assert nav_place not in ids
    app_page.wait_idle()
    app_page.screenshot("byo-uploaded-html")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


def frame_count(side) -> str:
    """Return how many places the success message says were mapped."""
    message = side.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    return message.split(": ", 1)[1].split(" place(s)")[0]


def test_empty_text_and_unsupported_files_give_clear_errors(streamlit_app, app_page, tmp_path):
    page = app_page.open(streamlit_app).page
    side = open_form(app_page)
    fill(app_page, side, "Title", "Leer")
    side.get_by_role("button", name="Map this article").click()
    app_page.wait_idle()
    error = side.locator('[data-testid="stAlertContentError"]')
    error.wait_for()
    assert "The text is empty" in error.inner_text()

    pdf = tmp_path / "bericht.pdf"
    pdf.write_bytes(b"%PDF-1.7 binary")
    side.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(pdf))
    app_page.wait_idle()
    side.locator('[data-testid="stAlertContentError"]').filter(
        has_text="Unsupported file type '.pdf'"
    ).wait_for()
    panel_heading(page, "Sources").wait_for()  # the rest of the page still renders
    app_page.wait_for_map(min_paths=20)
    assert page.locator('[data-testid="stException"]').count() == 0
    app_page.screenshot("byo-errors")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()
