"""A collection travels with its link (#21): add in one browser, open the link in another, after a
restart of the server too; the view link offers no removal, the edit link does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import ARTIFACTS_DIR, DEFAULT_CORPUS, AppPage, BrowserLog, new_guarded_page

from kzgeo import harness
from tests.test_byo_browser import ADD_BUTTON, PASTED, TEXT_LABEL, fill, new_map_frame, open_form
from tests.test_dashboard_browser import panel_heading

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

TITLE = "Öl und Häfen am Kaspischen Meer"


def fresh_app_page(browser) -> AppPage:
    """Return the app helper on a page of a new browser context (another person's browser)."""
    log = BrowserLog()
    return AppPage(new_guarded_page(browser, log), log)


def collection_in(url: str) -> str | None:
    """Return the ``collection`` parameter of a page URL."""
    return (parse_qs(urlparse(url).query).get("collection") or [None])[0]


def shows_added_article(app_page: AppPage, base: str, query: str) -> None:
    """Open ``base + query`` and check the added article's markers and quote are there."""
    page = app_page.open(base, query).page
    new_map_frame(app_page, 3)
    panel_heading(page, "Atyrau").wait_for()
    page.locator(".kz-quote").filter(has_text="Das Öl aus Atyrau fließt nach Aktau.").wait_for()
    assert page.get_by_text("Mein Blatt · 14 Mar 2025").count() == 1


def test_a_collection_link_shows_the_added_article_in_another_browser_and_after_a_restart(
    browser, tmp_path
):
    env = {"KZGEO_DATA_DIR": str(tmp_path / "data")}
    server = harness.start_streamlit(DEFAULT_CORPUS, ARTIFACTS_DIR, env)
    try:
        author = fresh_app_page(browser)
        author.open(server.url, "?lat=45.5&lon=51.5&zoom=6")
        side = open_form(author)
        fill(author, side, TEXT_LABEL, PASTED)
        fill(author, side, "Title", TITLE)
        fill(author, side, "Outlet (newspaper or site)", "Mein Blatt")
        fill(author, side, "Date (YYYY-MM-DD)", "2025-03-14")
        side.get_by_role("button", name=ADD_BUTTON).click()
        author.wait_idle()
        side.get_by_text("3 place(s) on the map").wait_for()
        author.page.wait_for_function("() => location.search.includes('collection=')")
        collection = collection_in(author.page.url)
        assert collection and len(collection) >= 22  # >= 128 bits, URL-safe base64
        share = author.page.get_by_text("Share this view and export data")
        edit_link = author.page.locator('[data-testid="stCode"]').filter(has_text="edit=")
        author.settle()  # the add's reruns opened the expander: a click now would close it
        author.wait_animations()
        if not edit_link.is_visible():
            share.click()
        edit_link.wait_for()
        edit_query = "?" + edit_link.inner_text().strip().split("?", 1)[1]
        assert "edit=" not in author.page.url  # the address bar holds the view link only
        author.screenshot("collection-added")

        reader = fresh_app_page(browser)
        shows_added_article(reader, server.url, f"?collection={collection}&place=new:atyrau")
        assert reader.page.get_by_role("button", name=f"Remove “{TITLE}”").count() == 0
        reader.screenshot("collection-view-link")
        reader.log.assert_offline()
        reader.log.assert_no_console_errors()
        for app_page in (author, reader):
            app_page.page.context.close()

        server.stop()
        server = harness.start_streamlit(DEFAULT_CORPUS, ARTIFACTS_DIR, env)
        after = fresh_app_page(browser)
        shows_added_article(after, server.url, f"?collection={collection}&place=new:atyrau")
        after.page.context.close()

        editor = fresh_app_page(browser)
        editor.open(server.url, edit_query)
        side = open_form(editor)
        side.get_by_role("button", name=f"Remove “{TITLE}”").wait_for()
        editor.page.wait_for_function("() => !location.search.includes('edit=')")
        assert collection_in(editor.page.url) == collection
        editor.screenshot("collection-edit-link")
        editor.page.context.close()
    finally:
        server.stop()


def test_an_unreachable_database_gives_a_notice_and_the_corpus_still_shows(browser, tmp_path):
    down = f"postgresql+psycopg://kzgeo:secret@127.0.0.1:{harness.free_port()}/kzgeo"
    env = {"KZGEO_DATABASE_URL": down, "KZGEO_DATA_DIR": str(tmp_path / "data")}
    server = harness.start_streamlit(DEFAULT_CORPUS, ARTIFACTS_DIR, env)
    try:
        reader = fresh_app_page(browser)
        page = reader.open(server.url, f"?collection={'A' * 32}&place=almaty").page
        notice = page.locator('[data-testid="stAlertContentInfo"]').filter(
            has_text="Collections are unavailable right now")
        notice.wait_for()
        assert "secret" not in notice.inner_text()  # the password is never shown
        reader.wait_for_map(min_paths=20)
        panel_heading(page, "Almaty").wait_for()  # the bundled corpus keeps working
        page.locator(".kz-quote").first.wait_for()
        reader.screenshot("collection-database-down")
        page.context.close()
    finally:
        server.stop()
