"""Your own article in a real browser (#8): paste, upload HTML, click the new markers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kzgeo import dashboard
from tests.test_dashboard_browser import FEATURE_POINT_JS, LAYER_COUNT_JS, panel_heading

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ARTICLE_HTML = Path(__file__).resolve().parent / "data" / "article.html"
PASTED = "Das Öl aus Atyrau fließt nach Aktau. In Aktau liegt der Hafen am Kaspischen Meer."
# Text of the fixture page outside its article: navigation, ads, comments, newsletter, footer.
BOILERPLATE = (
    "Cookies", "Anzeige", "Dubai", "Mehr zum Thema", "Schymkent", "Turkmenbaschi",
    "Newsletter", "Impressum", "Steppenbote Medien GmbH", "Bischkek",
)


TEXT_LABEL = "…or paste the text"
ADD_BUTTON = "Add to the map"
FORM_TITLE = "Add an article"


def open_form(app_page):
    """Open the panel's 'Add an article' expander; return its locator."""
    app_page.wait_for_map(min_paths=20)  # the map's first value reruns the script: let it
    app_page.wait_idle()
    form = app_page.page.locator('[data-testid="stExpander"]').filter(has_text=FORM_TITLE)
    if not form.get_by_label(TEXT_LABEL).is_visible():
        form.get_by_text(FORM_TITLE).first.click()
    form.get_by_label(TEXT_LABEL).wait_for()
    return form


def fill(app_page, side, label: str, value: str) -> None:
    """Type ``value`` into a field of the form and commit it (Tab), then wait for the rerun."""
    box = side.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab" if label != TEXT_LABEL else "Control+Enter")
    # the rerun the commit asks for may start a moment later: let it start, then let it end,
    # so that the next click is not sent into a run that is just beginning
    app_page.page.wait_for_timeout(300)
    app_page.wait_idle()


def new_map_frame(app_page, count: int, timeout: float = 30.0, compare: str = "==="):
    """Return the map's Frame once it draws ``count`` features of the new layer (``compare``
    ">=": at least ``count``).

    The map's iframe is replaced when its content changes, so a detached frame is retried.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            app_page.wait_for_map(min_paths=20)
            frame = app_page.map_iframe.element_handle().content_frame()
            frame.wait_for_function(
                f"() => window.map && ({LAYER_COUNT_JS})('new') {compare} {count}", timeout=5_000
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
    fill(app_page, side, TEXT_LABEL, PASTED)
    fill(app_page, side, "Title", "Öl und Häfen am Kaspischen Meer")
    fill(app_page, side, "Outlet (newspaper or site)", "Mein Blatt")
    fill(app_page, side, "Date (YYYY-MM-DD)", "2025-03-14")
    side.get_by_role("button", name=ADD_BUTTON).click()
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
    page.get_by_text(dashboard.NEW_NOTE).wait_for()
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

    side.get_by_role("button", name="Remove “Öl und Häfen am Kaspischen Meer”").click()
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
    # the fields are filled in one run but drawn one after another: wait for each value
    for label, value in (("Title", "Kasachstans Häfen am Kaspischen Meer wachsen"),
                         ("Outlet (newspaper or site)", "Steppenbote"),
                         ("Date (YYYY-MM-DD)", "2025-03-14")):
        field = side.get_by_label(label, exact=True)
        page.wait_for_function("([el, v]) => el.value === v", arg=[field.element_handle(), value])
        assert field.input_value() == value
    text = side.get_by_label(TEXT_LABEL).input_value()
    assert "Der Hafen von Aktau hat seinen Umschlag" in text
    side.get_by_role("button", name=ADD_BUTTON).click()
    app_page.wait_idle()
    side.get_by_text("place(s) on the map").wait_for()
    # every place found is listed; those with a point or a drawn layer are on the map
    frame = new_map_frame(app_page, min(3, int(frame_count(side))), compare=">=")
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
    fill(app_page, side, "Outlet (newspaper or site)", "Mein Blatt")
    side.get_by_role("button", name=ADD_BUTTON).click()
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
