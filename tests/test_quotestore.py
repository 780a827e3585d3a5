"""The quote store (Parquet quotes, aggregates in memory) gives the same places and quotes as
the in-memory index on the bundled corpus, with the app's filters."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import numpy as np
import pytest

from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.dashboard import ViewState, quote_matches
from kzgeo.index import index_corpus
from kzgeo.quotestore import QuoteFilter, QuoteStore, StoreError, build_store, write_store


@pytest.fixture(scope="module")
def index():
    return index_corpus(DEFAULT_CORPUS_DIR)


@pytest.fixture(scope="module")
def store(index, tmp_path_factory):
    return QuoteStore.open(write_store(index.collection, tmp_path_factory.mktemp("s") / "store"))


def quoted(index):
    return [f for f in index.collection["features"] if f["properties"]["quotes"]]


def test_every_feature_and_quote_comes_back_in_order(index, store):
    assert len(quoted(index)) > 50
    assert [f["id"] for f in store.features] == [f["id"] for f in index.collection["features"]]
    for original, light in zip(index.collection["features"], store.features, strict=True):
        quotes = original["properties"]["quotes"]
        assert store.quotes_of(original["id"]) == quotes
        assert light["properties"]["quote_count"] == len(quotes)
        assert "quotes" not in light["properties"]
        assert light["geometry"] == original["geometry"]
        rest = {k: v for k, v in original["properties"].items() if k != "quotes"}
        assert {k: v for k, v in light["properties"].items() if k != "quote_count"} == rest
    assert store.quotes_of("no-such-place") == []


def some_filters(index):
    quotes = [q for f in quoted(index) for q in f["properties"]["quotes"]]
    article = Counter(q["article_id"] for q in quotes).most_common(2)[1][0]
    outlet = Counter(q["outlet"] for q in quotes).most_common(1)[0][0]
    dates = sorted({q["date"] for q in quotes if q["date"]})
    middle = dt.date.fromisoformat(dates[len(dates) // 2])
    assert len(dates) > 3
    return [
        QuoteFilter(article=article),
        QuoteFilter(outlet=outlet),
        QuoteFilter(date_from=middle),
        QuoteFilter(date_to=middle),
        QuoteFilter(outlet=outlet, date_from=dt.date.fromisoformat(dates[0]), date_to=middle),
        QuoteFilter(article="no-such-article"),
    ]


def test_filters_give_the_quotes_the_app_keeps(index, store):
    for filters in some_filters(index):
        state = ViewState(article=filters.article, outlet=filters.outlet,
                          date_from=filters.date_from, date_to=filters.date_to)
        counts = store.quote_counts(filters)
        for feature in quoted(index):
            quotes = feature["properties"]["quotes"]
            outlet_articles = frozenset(q["article_id"] for q in quotes
                                        if q["outlet"] == filters.outlet)
            kept = [q for q in quotes if quote_matches(q, state, outlet_articles)]
            assert store.quotes_of(feature["id"], filters) == kept
            assert counts.get(feature["id"], 0) == len(kept)
            assert store.quotes_of(feature["id"], filters, limit=2) == kept[:2]


def test_aggregates_count_quotes_by_theme_outlet_article_and_month(index, store):
    for feature in quoted(index):
        quotes = feature["properties"]["quotes"]
        found = store.aggregates(feature["id"])
        assert found["quotes"] == len(quotes)
        assert found["by_theme"] == dict(Counter(t for q in quotes for t in q["themes"]))
        assert found["by_outlet"] == dict(Counter(q["outlet"] for q in quotes))
        assert found["by_article"] == dict(Counter(q["article_id"] for q in quotes))
        assert found["by_month"] == dict(Counter(q["date"][:7] for q in quotes if q["date"]))
    assert store.aggregates("no-such-place")["quotes"] == 0


def test_build_store_is_reused_until_rebuilt_and_a_broken_store_is_refused(tmp_path, index):
    built, fresh = build_store(DEFAULT_CORPUS_DIR, store_dir=tmp_path)
    again, fresh_again = build_store(DEFAULT_CORPUS_DIR, store_dir=tmp_path)

    assert fresh and not fresh_again and again.key == built.key
    assert again.quote_counts() == built.quote_counts()
    assert again.quote_counts() == {f["id"]: len(f["properties"]["quotes"]) for f in quoted(index)}
    merged = again.folder / json.loads((again.folder / "store.json").read_text())["merged"]
    facets = [merged / name for name in ("facets/key.npy", "facets.parquet")]
    broken = next(path for path in facets if path.is_file())
    kept = broken.read_bytes()
    broken.write_bytes(b"not facets")
    with pytest.raises(StoreError, match="cannot read"):
        QuoteStore.open(again.folder)
    if broken.name == "key.npy":  # arrays ready to serve: one of another length is refused too
        broken.write_bytes(kept)
        np.save(merged / "facets" / "quotes.npy", np.ones(3, np.int32))
        with pytest.raises(StoreError, match="differ in length"):
            QuoteStore.open(again.folder)


def test_a_page_of_quotes_reads_across_row_groups(index, store, tmp_path, monkeypatch):
    import kzgeo.quotestore as quotestore

    monkeypatch.setattr(quotestore, "ROW_GROUP_ROWS", 7)  # many row groups on a small corpus
    small = QuoteStore.open(write_store(index.collection, tmp_path / "small-groups"))
    assert len(small._groups) > 50  # row groups of all its quotes files
    for feature in quoted(index):
        quotes = feature["properties"]["quotes"]
        assert small.quotes_of(feature["id"]) == quotes
        for limit in (0, 1, 8, 15):
            assert small.quotes_of(feature["id"], limit=limit) == quotes[:limit]
    for filters in some_filters(index):
        for feature in quoted(index):
            assert small.quotes_of(feature["id"], filters, limit=3) == (
                store.quotes_of(feature["id"], filters)[:3])

