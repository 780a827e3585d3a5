"""The app's views computed from the quote store (counts, colours, lists, timeline, the panel's
pages and the downloads) equal those computed from the in-memory index on the bundled corpus."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections import Counter

import pytest

from kzgeo import dashboard, mapview
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.dashboard import ViewState
from kzgeo.index import geojson_text, index_corpus, mentions_csv
from kzgeo.quotestore import (
    QUICK_FILE,
    build_store,
    geojson_with_quotes,
    quick_signature,
    serve_store,
)
from kzgeo.themes import THEME_IDS


@pytest.fixture(scope="module")
def index():
    return index_corpus(DEFAULT_CORPUS_DIR)


@pytest.fixture(scope="module")
def store(index, tmp_path_factory):
    return build_store(DEFAULT_CORPUS_DIR, store_dir=tmp_path_factory.mktemp("s"))[0]


@pytest.fixture(scope="module")
def catalogue(index):
    return dashboard.catalogue_of(index.collection, index.corpus.articles)


def states(index):
    """View states that exercise every filter, alone and together."""
    quotes = [q for f in index.collection["features"] for q in f["properties"]["quotes"]]
    article = Counter(q["article_id"] for q in quotes).most_common(3)[2][0]
    outlet = Counter(q["outlet"] for q in quotes).most_common(1)[0][0]
    dates = sorted({q["date"] for q in quotes if q["date"]})
    middle = dt.date.fromisoformat(dates[len(dates) // 2])
    return [
        ViewState(),
        ViewState(themes=("energy",)),
        ViewState(themes=("security", "diplomacy")),
        ViewState(themes=("other",)),
        ViewState(themes=()),
        ViewState(article=article),
        ViewState(outlet=outlet),
        ViewState(date_from=middle),
        ViewState(date_to=middle, themes=("energy", "territory")),
        ViewState(outlet=outlet, date_from=dt.date.fromisoformat(dates[0]), date_to=middle),
        ViewState(article=article, themes=("migration", "economy")),
    ]


def counted(store, state):
    tallies = store.tallies(dashboard.quote_filter(state), dashboard.themed_ids(store.features))
    return dashboard.filter_counted(store.features, state, tallies)


def test_the_map_counts_colours_lists_and_timeline_equal_the_in_memory_index(
    index, store, catalogue
):
    themed = dashboard.themed_ids(store.features)
    for state in states(index):
        memory = dashboard.filter_features(index.collection["features"], state, catalogue)
        stored = counted(store, state)
        assert [f["id"] for f in stored] == [f["id"] for f in memory], state
        for a, b in zip(memory, stored, strict=True):
            assert dashboard.quote_count(b["properties"]) == len(a["properties"]["quotes"])
            assert b["properties"].get("mention_count") == a["properties"].get("mention_count")
            assert b["properties"].get("off_theme") == a["properties"].get("off_theme")
        assert mapview.marker_colours(stored) == mapview.marker_colours(memory)
        assert ([f["id"] for f in dashboard.most_mentioned(stored)]
                == [f["id"] for f in dashboard.most_mentioned(memory)])  # fmt: skip
        shown = [f["id"] for f in stored if not f["properties"].get("off_theme")]
        months = store.months(shown, dashboard.quote_filter(state), themed)
        assert dashboard.month_series(months) == dashboard.mentions_by_month(memory)
        top = dashboard.most_mentioned(memory)
        if top:
            one = store.months([top[0]["id"]], dashboard.quote_filter(state), themed)
            assert dashboard.month_series(one) == dashboard.mentions_by_month(top[:1])
        stream = store.filtered_quotes(shown, dashboard.quote_filter(state), themed)
        assert dashboard.quotes_csv(stored, stream) == dashboard.quotes_csv(memory)
        stream = store.filtered_quotes(shown, dashboard.quote_filter(state), themed)
        view = {"type": "FeatureCollection"}
        assert geojson_with_quotes(view, stored, stream) == geojson_text(
            {**view, "features": memory})
    assert len(counted(store, ViewState(themes=("energy",)))) < len(counted(store, ViewState()))


def test_the_panel_pages_equal_the_in_memory_grouping(index, store, catalogue):
    for state in states(index):
        memory = dashboard.filter_features(index.collection["features"], state, catalogue)
        for feature in memory:
            if feature["properties"].get("off_theme"):  # the panel shows all its quotes
                continue
            quotes = feature["properties"]["quotes"]
            layer = feature["properties"]["layer"]
            filters = dashboard.quote_filter(state)
            if layer != "places":
                filters = dataclasses.replace(filters, themes=None)
            for limit in (1, 3, dashboard.QUOTES_PER_PAGE, None):
                total, page = store.page(feature["id"], filters, limit)
                grouped = dashboard.group_quotes(quotes)
                expected = [q for _, group in dashboard.first_quotes(
                    grouped, len(quotes) if limit is None else limit) for q in group]
                assert total == len(quotes)
                assert page == expected, (state, feature["id"], limit)
                assert dashboard.first_quotes(dashboard.group_quotes(page), len(page)) == (
                    dashboard.first_quotes(grouped, len(page)))
    assert store.page("no-such-place") == (0, [])


def test_downloads_articles_and_warnings_come_from_the_store(index, store):
    assert store.geojson_text() == geojson_text(index.collection)
    extra = {"type": "Feature", "id": "new:x", "geometry": None,
             "properties": {"id": "new:x", "quotes": []}}  # fmt: skip
    everything = {**index.collection, "features": [*index.collection["features"], extra]}
    assert store.geojson_text([extra]) == geojson_text(everything)
    csv = b"".join(store.mentions_csv_parts()).decode("utf-8")
    assert csv == mentions_csv(index.parsed, index.corpus.articles)
    assert store.articles == tuple(
        dataclasses.replace(a, text="") for a in index.corpus.articles)
    assert store.warnings == index.corpus.warnings
    assert set(THEME_IDS) >= {t for f in store.features for t in f["properties"]["themes"]}


def test_a_build_folder_that_cannot_be_written_serves_from_a_temporary_store(tmp_path, index):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the store folder should be")
    store = serve_store(DEFAULT_CORPUS_DIR, store_dir=blocked / "store")
    assert "could not be saved" in store.warnings[-1]
    assert store.quote_counts() == {f["id"]: len(f["properties"]["quotes"])
                                    for f in index.collection["features"]
                                    if f["properties"]["quotes"]}  # fmt: skip


def test_a_served_store_is_reopened_until_a_corpus_file_changes(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS_DIR, corpus)
    first = serve_store(corpus, tmp_path / "store")
    seen = json.loads((first.folder / QUICK_FILE).read_text(encoding="utf-8"))
    assert seen == {"signature": quick_signature(corpus), "key": first.key}
    assert serve_store(corpus, tmp_path / "store").key == first.key
    article = sorted(corpus.glob("*.txt"))[0]
    article.write_text(article.read_text(encoding="utf-8") + "\n\nAstana wächst weiter.\n",
                       encoding="utf-8")
    changed = serve_store(corpus, tmp_path / "store")
    assert changed.key != first.key
    assert changed.quote_counts()["astana"] == first.quote_counts()["astana"] + 1
