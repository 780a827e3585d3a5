"""What keeps the app's reruns cheap: the map rendered once (and sent exactly as st_folium would
send it), quotes shown a page at a time."""

from __future__ import annotations

import re

import streamlit_folium

from kzgeo import config, mapview, streamlit_adapter
from kzgeo.dashboard import QUOTES_PER_PAGE
from kzgeo.index import index_corpus


def real_map():
    """Return the dashboard map of the bundled corpus: outlines, every layer and place."""
    index = index_corpus(config.DEFAULT_CORPUS_DIR)
    features = index.collection["features"]
    countries = {
        "type": "FeatureCollection",
        "features": [f for f in features if f["properties"]["layer"] == "countries"],
    }
    colours = {f["id"]: "#d95f02" for f in features}
    overlays = mapview.index_layers(
        [f for f in features if f["properties"]["layer"] != "countries"], colours
    )
    return mapview.build_map(countries, overlays=overlays)


def without_folium_ids(value):
    """Return ``value`` with folium's random element ids (32 hex digits) made equal."""
    return re.sub(r"[0-9a-f]{32}", "<id>", value) if isinstance(value, str) else value


def test_the_cached_map_arguments_equal_what_st_folium_sends(monkeypatch):
    ours = streamlit_adapter.map_component_args(real_map())
    sent: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))

    streamlit_folium.st_folium(
        real_map(), key=streamlit_adapter.MAP_KEY, height=streamlit_adapter.MAP_HEIGHT,
        use_container_width=True, returned_objects=list(streamlit_adapter.MAP_RETURNS),
    )

    for name in ("script", "header", "html", "id", "css_links", "js_links"):
        assert without_folium_ids(ours[name]) == without_folium_ids(sent[name]), name
    assert ours["hash"] == sent["key"]
    assert "places" in ours["script"] and len(ours["script"]) > 100_000
    assert all(link.startswith("/app/static/") for link in ours["js_links"] + ours["css_links"])


# --- pages of quotes and articles (what keeps a rerun cheap on a large corpus) -------------------
def quote_count(app) -> int:
    return sum(element.value.count('class="kz-quote"') for element in app.markdown)


def test_only_the_adapter_imports_streamlit():
    package = config.PROJECT_ROOT / "kzgeo"
    importers = sorted(
        path.name for path in package.glob("*.py")
        if re.search(r"^\s*(import|from) streamlit", path.read_text(encoding="utf-8"), re.M)
    )
    assert set(importers) <= {"streamlit_adapter.py", "bench.py"}  # bench.py: issue 20 moves it
    assert "streamlit_adapter.py" in importers


def test_the_panel_shows_a_page_of_quotes_and_more_on_demand():
    from streamlit.testing.v1 import AppTest

    index = index_corpus(config.DEFAULT_CORPUS_DIR)
    top = max(index.collection["features"], key=lambda f: len(f["properties"]["quotes"]))
    total = len(top["properties"]["quotes"])
    page = QUOTES_PER_PAGE
    assert total > page, "the bundled corpus needs a feature with more than a page of quotes"
    app = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=120)
    app.query_params["place"] = top["id"]

    app.run()
    assert not app.exception
    assert quote_count(app) == page
    assert f"Showing {page} of {total} quotes." in [c.value for c in app.caption]

    app.button(key=f"more-{top['id']}").click().run()
    assert quote_count(app) == min(total, 2 * page)


def test_an_archive_lists_its_newest_articles_a_page_at_a_time(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from kzgeo import bench
    from kzgeo.corpus import load_corpus
    from kzgeo.dashboard import ARTICLE_CHOICES, ARTICLES_PER_PAGE

    real = load_corpus(config.DEFAULT_CORPUS_DIR).articles
    total = ARTICLE_CHOICES + 7
    folder = bench.write_corpus(real, total, tmp_path / "archive")
    monkeypatch.setenv("KZGEO_CORPUS", str(folder))
    app = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=180).run()

    def listed() -> int:
        return sum(e.value.count("<li") for e in app.markdown if "kz-articles" in e.value)

    assert not app.exception
    assert listed() == ARTICLES_PER_PAGE
    assert f"Showing the newest {ARTICLES_PER_PAGE} of {total} articles." in [
        c.value for c in app.caption]  # fmt: skip
    article = app.selectbox(key="article")  # the filter lists the newest, as the list does
    assert len(article.options) == 1 + ARTICLE_CHOICES
    assert f"of {total:,} articles" in article.help
    app.button(key="articles-more").click().run()
    assert listed() == 2 * ARTICLES_PER_PAGE
    oldest = min(load_corpus(folder).articles, key=lambda a: a.date)
    linked = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=180)
    linked.query_params["article"] = oldest.id  # a link to an article the list does not show
    linked.run()
    assert not linked.exception and linked.selectbox(key="article").value == oldest.id


def test_downloads_too_large_for_the_server_show_as_notes_on_the_page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kzgeo import dashboard

    app = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=120).run()
    notes = [c.value for c in app.caption if "too many to download" in c.value]
    assert not app.exception and notes == []
    monkeypatch.setattr(dashboard, "DOWNLOAD_QUOTES", 10)  # read on each run

    app.run()

    notes = [c.value for c in app.caption if "too many to download" in c.value]
    assert not app.exception and len(notes) == 2
    assert notes[0].startswith("This view holds ") and notes[1].startswith("The whole dataset")
