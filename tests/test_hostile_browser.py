"""Hostile corpus text and links in a real browser: shown as text, never run; exported verbatim.

The corpus (written to a temp folder, served with ``KZGEO_CORPUS``) puts script tags, ``onerror``
and ``onload`` handlers, ``javascript:`` links and unbalanced tags next to real place names, in
the article text and in the manifest's title, outlet and author. Every payload would set the
canary ``window.__pwned`` (and open an alert) if it ran. A second corpus carries Markdown
(images that would load from outside, links, emphasis) where the page renders Markdown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from kzgeo import dashboard
from kzgeo.index import index_corpus

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SCRIPT = "<script>window.__pwned=1;alert('script')</script>"
IMG = "<img src=x onerror=\"window.__pwned=1;alert('img')\">"
LINK = "<a href=\"javascript:window.__pwned=1;alert('link')\">hier klicken</a>"
SVG = "<svg onload=\"window.__pwned=1;alert('svg')\">"
UNBALANCED = "<b><i>Almaty</div>"

# (paragraph, ids of the places whose quotes it is): each names a real place next to a payload.
HOSTILE_PARAGRAPHS = (
    ("Bericht aus Zentralasien", ()),
    (f"In Almaty {SCRIPT} wurde über die Pipeline und den Ölpreis verhandelt.", ("almaty",)),
    (f"Von Astana {IMG} aus fließt das Öl über die neue Pipeline.", ("astana",)),
    (f"Der Start in Baikonur {LINK} wurde wegen der Raketen verschoben.", ("baikonur",)),
    (f"Die Gaspipeline von Astana nach {UNBALANCED} bleibt geschlossen, sagte er.",
     ("astana", "almaty")),  # a name right after a tag is found too
    (f"{SVG} Almaty liegt am Ende der Ölpipeline, hieß es.", ("almaty",)),
)
TITLE = f"{SCRIPT} Öl in Almaty {IMG}"
OUTLET = f"<b>Evil</b> {IMG} Zeitung"
AUTHOR = SVG
ARTICLE_ID = "hostile"

# Markdown where the page renders Markdown: an image from outside would be a request.
MD_IMAGE = "![x](http://evil.example/{}.png)"
MD_LINK = "[klick](javascript:alert(1))"
MD_SENTENCE = f"In Almaty {MD_IMAGE.format('quote')} {MD_LINK} **fett** wurde über Öl gesprochen."
MD_TITLE = f"Öl {MD_IMAGE.format('title')} {MD_LINK} **fett**"
MD_OUTLET = f"Blatt {MD_IMAGE.format('outlet')}"
MD_ID = MD_IMAGE.format("id")

# Everything in a page that a payload would have created, in any frame.
INJECTED_JS = """() => document.querySelectorAll(
  '[onerror], [onload], a[href^="javascript:" i], img[src="x"], img[src*="evil.example"]'
).length"""


def write_corpus(folder: Path, paragraphs: list[str], entries: list[dict]) -> Path:
    """Write one article file per entry (the paragraphs) and the manifest; return ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if entry.get("file") and not entry.get("missing"):
            (folder / entry["file"]).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    rows = [{k: v for k, v in e.items() if k != "missing"} for e in entries]
    (folder / "manifest.toml").write_text(tomli_w.dumps({"article": rows}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory) -> Path:
    entry = {
        "id": ARTICLE_ID,
        "file": "hostile.txt",
        "title": TITLE,
        "outlet": OUTLET,
        "author": AUTHOR,
        "date": dt.date(2024, 5, 1),
        "language": "de",
    }
    paragraphs = [text for text, _ in HOSTILE_PARAGRAPHS]
    return write_corpus(tmp_path_factory.mktemp("hostile-corpus"), paragraphs, [entry])


@pytest.fixture(scope="module")
def markdown_corpus(tmp_path_factory) -> Path:
    entries = [
        {
            "id": "markdown",
            "file": "markdown.txt",
            "title": MD_TITLE,
            "outlet": MD_OUTLET,
            "date": dt.date(2024, 6, 1),
        },
        {"id": MD_ID, "file": "gone.txt", "title": "T", "outlet": "O", "missing": True},
    ]
    paragraphs = ["Markdown-Test", MD_SENTENCE]
    return write_corpus(tmp_path_factory.mktemp("markdown-corpus"), paragraphs, entries)


@pytest.fixture
def dialogs(app_page) -> list[str]:
    """Return the messages of every dialog the page opens (each is dismissed)."""
    opened: list[str] = []

    def dismiss(dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    app_page.page.on("dialog", dismiss)
    return opened


def assert_nothing_ran(app_page, dialogs: list[str]) -> None:
    """Fail if a payload ran or was turned into markup in the page or any of its frames."""
    page = app_page.page
    page.wait_for_timeout(1_000)  # a failing image fires onerror within this
    assert dialogs == []
    assert page.title().startswith("Kazakhstan in German-language reporting")
    frames = [frame for frame in page.frames if not frame.is_detached()]
    assert len(frames) >= 2, "the map's frame is missing"
    for frame in frames:
        assert frame.evaluate("() => window.__pwned") is None, f"payload ran in {frame.url}"
        assert frame.evaluate(INJECTED_JS) == 0, f"markup injected into {frame.url}"
    app_page.log.assert_offline()


def sentences_of(place_id: str) -> list[str]:
    return [text for text, places in HOSTILE_PARAGRAPHS if place_id in places]


def open_page(app_page, url: str, query: str = ""):
    """Open the app and wait until its script and the map are done; return the page."""
    app_page.open(url, query)
    app_page.wait_for_map(min_paths=11)
    app_page.wait_idle()
    return app_page.page


# Returns a point of a drawn feature (also inside marker clusters) in map-container pixels.
FEATURE_POINT_JS = """(id) => {
  let found = null;
  const visit = (layer) => {
    if (found) return;
    if (layer.feature && layer.feature.id === id) { found = layer; return; }
    if (layer.getLayers) layer.getLayers().forEach(visit);
  };
  window.map.eachLayer(visit);
  if (!found || !window.map.hasLayer(found) || !found.getLatLng) return null;
  const p = window.map.latLngToContainerPoint(found.getLatLng());
  return {x: p.x, y: p.y};
}"""


@pytest.mark.parametrize("place_id", ["almaty", "astana", "baikonur"])
def test_hostile_quotes_title_and_byline_show_as_text_in_the_panel(
    start_streamlit, hostile_corpus, app_page, dialogs, place_id
):
    page = open_page(app_page, start_streamlit(corpus=hostile_corpus), f"?place={place_id}")
    article = page.locator(".kz-article")
    article.wait_for()
    text = article.inner_text()
    assert TITLE in text
    assert f"{OUTLET} · {AUTHOR} · 01 May 2024" in text
    for sentence in sentences_of(place_id):
        assert sentence in text
    assert "<script>" in text
    marks = page.locator(".kz-quote mark").all_inner_texts()
    assert marks and all(mark in ("Almaty", "Astana", "Baikonur") for mark in marks)
    assert_nothing_ran(app_page, dialogs)
    app_page.screenshot(f"hostile-{place_id}")
    app_page.log.assert_no_console_errors()


def test_hostile_title_and_outlet_show_as_text_in_the_article_list_and_select_box(
    start_streamlit, hostile_corpus, app_page, dialogs
):
    page = open_page(app_page, start_streamlit(corpus=hostile_corpus))
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Articles (1)" in main
    assert TITLE in main and f"{OUTLET} · 01 May 2024" in main
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_text("Filter by article, outlet or date").click()
    combobox = page.get_by_role("combobox", name="Article", exact=True)
    option = page.get_by_role("option").filter(has_text="Öl in Almaty")
    label = None
    for _ in range(4):  # a late rerun (the map's first value) may close the list: open it again
        app_page.wait_idle()
        app_page.wait_animations()
        if combobox.get_attribute("aria-expanded") != "true":
            combobox.press("ArrowDown")  # opens the list; a click on an open list would close it
        try:
            label = option.inner_text(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    assert label == f"{TITLE} — {OUTLET}, 01 May 2024"
    app_page.screenshot("hostile-article-list")
    assert_nothing_ran(app_page, dialogs)
    app_page.log.assert_no_console_errors()


NAMES = {"almaty": "Almaty", "baikonur": "Baikonur Cosmodrome"}  # tooltip texts


def hover_feature(app_page, feature_id: str, timeout: float = 30.0):
    """Move the mouse onto a drawn feature until its tooltip shows; return frame, tooltip, point.

    The map's first value reruns the script, which may replace the iframe: retried.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            app_page.wait_idle()
            app_page.map_iframe.scroll_into_view_if_needed()
            frame = app_page.map_iframe.element_handle().content_frame()
            frame.wait_for_function("() => window.map !== undefined", timeout=5_000)
            point = frame.evaluate(FEATURE_POINT_JS, feature_id)
            assert point, f"{feature_id} is not drawn on the map"
            box = frame.locator(".leaflet-container").bounding_box()
            app_page.page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 5)
            app_page.page.mouse.move(box["x"] + point["x"], box["y"] + point["y"], steps=4)
            tooltip = frame.locator(".leaflet-tooltip").filter(has_text=NAMES[feature_id])
            tooltip.wait_for(timeout=3_000)
            return frame, tooltip, (box["x"] + point["x"], box["y"] + point["y"])
        except Error:
            if time.monotonic() > deadline:
                raise


def test_map_tooltip_shows_the_site_name_and_the_map_carries_no_corpus_text(
    start_streamlit, hostile_corpus, app_page, dialogs
):
    url = start_streamlit(corpus=hostile_corpus)
    page = open_page(app_page, url, "?lat=45.6&lon=63.3&zoom=6")
    frame, tooltip, (x, y) = hover_feature(app_page, "baikonur")
    assert tooltip.inner_text().splitlines() == ["Baikonur Cosmodrome", "Kosmodrom Baikonur"]
    app_page.screenshot("hostile-map-hover")
    html = frame.content()
    for payload in ("__pwned", "onerror", "javascript:", "Evil"):
        assert payload not in html  # quotes, titles and outlets stay on the server
    page.mouse.click(x, y)
    page.locator('[data-testid="stHeading"]').filter(has_text="Baikonur Cosmodrome").wait_for()
    page.locator(".kz-quote").filter(has_text="javascript:").wait_for()
    assert page.locator(".kz-quote a").count() == 0
    app_page.screenshot("hostile-map-click")
    assert_nothing_ran(app_page, dialogs)


def test_hovering_a_place_marker_shows_its_name(start_streamlit, hostile_corpus, app_page):
    open_page(app_page, start_streamlit(corpus=hostile_corpus), "?lat=43.3&lon=76.9&zoom=6")
    _frame, tooltip, _point = hover_feature(app_page, "almaty", timeout=15.0)
    assert tooltip.inner_text().split() == ["Almaty"]  # the German name only where it differs


# Hostile link parameters, each at most 40 characters so the notice shows it whole.
HOSTILE_PARAMETERS = {
    "place": "<script>alert('place')</script>",
    "themes": "<img src=x onerror=alert(2)>",
    "article": "[k](javascript:alert(3))",
    "outlet": "![x](http://evil.example/q.png)",
    "<svg onload=alert(4)>": "1",
}


def test_hostile_link_parameters_show_as_text_in_the_notices(
    start_streamlit, hostile_corpus, app_page, dialogs
):
    from urllib.parse import urlencode

    query = "?" + urlencode(HOSTILE_PARAMETERS)
    page = open_page(app_page, start_streamlit(corpus=hostile_corpus), query)
    notices = page.locator('[data-testid="stAlertContentInfo"]')
    notices.first.wait_for()
    # an invisible word joiner (U+2060) keeps a web address from becoming a link
    text = "\n".join(notices.all_inner_texts()).replace("\u2060", "")
    for key, value in HOSTILE_PARAMETERS.items():
        assert (key if value == "1" else value) in text
    assert notices.locator("a, img").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    app_page.screenshot("hostile-link-parameters")
    assert_nothing_ran(app_page, dialogs)


def test_markdown_in_a_quote_shows_as_text(start_streamlit, markdown_corpus, app_page, dialogs):
    page = open_page(app_page, start_streamlit(corpus=markdown_corpus), "?place=almaty")
    quote = page.locator(".kz-quote").first
    quote.wait_for()
    assert quote.inner_text() == MD_SENTENCE
    assert page.locator(".kz-article img, .kz-article a, .kz-quote strong").count() == 0
    page.wait_for_timeout(1_000)
    assert not [u for u in app_page.log.external if "quote" in u]
    assert dialogs == []


def test_markdown_in_titles_outlets_and_warnings_shows_as_text(
    start_streamlit, markdown_corpus, app_page, dialogs
):
    page = open_page(app_page, start_streamlit(corpus=markdown_corpus))
    main = page.locator('[data-testid="stMain"]')
    warning = page.locator('[data-testid="stAlertContentWarning"]')
    warning.wait_for()
    assert MD_ID in warning.inner_text().replace("\u2060", "")  # word joiner: never a link
    shown = main.inner_text().replace("\u2060", "")
    assert MD_TITLE in shown and MD_OUTLET in shown
    assert_nothing_ran(app_page, dialogs)


def run_export(corpus: Path, out: Path) -> tuple[dict, list[dict]]:
    """Run ``python -m kzgeo export`` on ``corpus``; return the GeoJSON and the CSV rows."""
    result = subprocess.run(
        [sys.executable, "-m", "kzgeo", "export", str(out / "all.geojson"),
         "--corpus", str(corpus), "--csv", str(out / "mentions.csv")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    collection = json.loads((out / "all.geojson").read_text(encoding="utf-8"))
    with (out / "mentions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return collection, rows


def test_exports_hold_the_hostile_text_verbatim(hostile_corpus, tmp_path):
    collection, rows = run_export(hostile_corpus, tmp_path)
    text = next(
        a.text for a in index_corpus(hostile_corpus).corpus.articles if a.id == ARTICLE_ID
    )
    quotes = [q for f in collection["features"] for q in f["properties"]["quotes"]]
    assert quotes and {q["article_id"] for q in quotes} == {ARTICLE_ID}
    for quote in quotes:
        assert (quote["title"], quote["outlet"], quote["author"]) == (TITLE, OUTLET, AUTHOR)
        assert quote["text"] == text[quote["start"] : quote["end"]]
    for place_id in ("almaty", "astana", "baikonur"):
        feature = next(f for f in collection["features"] if f["id"] == place_id)
        assert sorted(q["text"] for q in feature["properties"]["quotes"]) == sorted(
            sentences_of(place_id)
        )
    assert {row["title"] for row in rows} == {TITLE} and {row["outlet"] for row in rows} == {
        OUTLET
    }
    sentences = {row["sentence"] for row in rows}
    assert {text for text, places in HOSTILE_PARAGRAPHS if places} <= sentences


def test_the_view_quotes_download_holds_the_hostile_text_verbatim(hostile_corpus):
    index = index_corpus(hostile_corpus)
    rows = list(csv.DictReader(io.StringIO(dashboard.quotes_csv(index.collection["features"]))))
    by_place = {}
    for row in rows:
        by_place.setdefault(row["id"], []).append(row["text"])
        assert (row["title"], row["outlet"]) == (TITLE, OUTLET)
    for place_id in ("almaty", "astana", "baikonur"):
        assert sorted(by_place[place_id]) == sorted(sentences_of(place_id))
