"""The app's articles kept as columns (``quotestore.ArticleTable``) and the facets counted a
chunk at a time serve what the article objects and the whole-array counts did."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kzgeo import bench, dashboard, freshness, quotestore
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.corpus import Article, load_corpus
from kzgeo.quotestore import (
    ArticleLanguages,
    ArticleTable,
    QuoteFilter,
    articles_table,
    build_store,
)
from kzgeo.served import ServedCorpus


def made_articles(count: int, seed: int = 7) -> list[Article]:
    """Return ``count`` articles with shared dates, undated ones and a few outlets."""
    rng = random.Random(seed)
    days = [None, *(dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(40)) for _ in range(9))]
    return [Article(id=f"a-{rng.randrange(10**6):06d}-{i}", title=f"Title <{i}>",
                    outlet=rng.choice(["RND", "taz", "IPG", "Der Standard"]), author=None,
                    date=rng.choice(days), language=rng.choice(["de", "en"]),
                    source_file=f"f{i}.txt", text="", url=None if i % 3 else f"https://x/{i}")
            for i in range(count)]  # fmt: skip


@pytest.mark.parametrize("count", [0, 1, 700])
def test_an_article_table_gives_the_articles_it_was_made_of(count):
    articles = made_articles(count)
    table = ArticleTable(articles_table(articles))

    assert len(table) == count and list(table) == articles and table == tuple(articles)
    assert table[:5] == articles[:5] and table[count // 2:] == articles[count // 2:]
    if articles:
        assert table[-1] == articles[-1] and table[count // 2] == articles[count // 2]
        assert table.get(articles[3 % count].id) == articles[3 % count]
    with pytest.raises(IndexError):
        table[count]
    assert table.get("no-such-article") is None
    newest = table.ordered(table.newest_order())
    assert list(newest) == freshness.newest_first(articles)
    languages = ArticleLanguages(table) | {"added": "en"}
    assert dict(languages) == {**{a.id: a.language for a in articles}, "added": "en"}
    assert languages.get("no-such-article") is None


@pytest.fixture(scope="module", params=["bundled", "archive"])
def served(request, tmp_path_factory) -> ServedCorpus:
    folder = DEFAULT_CORPUS_DIR
    if request.param == "archive":  # more articles than the Article filter lists
        real = load_corpus(DEFAULT_CORPUS_DIR).articles
        folder = bench.write_corpus(real, dashboard.ARTICLE_CHOICES + 40,
                                    tmp_path_factory.mktemp("archive") / "corpus")
    store = build_store(folder, store_dir=tmp_path_factory.mktemp("store"))[0]
    return ServedCorpus(store)


def test_columns_give_the_catalogue_choices_and_list_of_the_article_objects(served):
    objects = list(served.store.articles)
    assert len(objects) == served.article_count() and objects
    assert served.catalogue == dashboard.catalogue_of(served.store.collection, objects)
    newest = freshness.newest_first(objects)
    assert list(served.newest) == newest
    oldest, latest = newest[-1].id, newest[0].id
    for outlet in [None, *sorted({a.outlet for a in objects}), "no-such-outlet"]:
        for selected in [None, oldest, latest, "no-such-article"]:
            assert served.article_choices((), selected, outlet) == dashboard.article_choices(
                newest, selected, outlet), (outlet, selected)
    assert served.article(oldest) == next(a for a in objects if a.id == oldest)
    added = made_articles(3, seed=11)
    assert served.article(added[1].id, added) == added[1]
    assert served.article_choices(added, oldest, None) == dashboard.article_choices(
        freshness.newest_first([*objects, *added]), oldest, None)
    now = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    arrivals = {oldest: now, added[0].id: now - dt.timedelta(hours=1), "gone": now}
    assert list(served.newest_first(added, arrivals)) == freshness.newest_first(
        [*objects, *added], arrivals)
    assert served.languages == {a.id: a.language for a in objects}


def test_counts_a_chunk_at_a_time_equal_those_of_all_rows_at_once(served, monkeypatch):
    store = served.store
    ids = [f["id"] for f in store.features]
    some = sorted(store.offsets)[:3]
    article = next(iter(served.newest)).id
    filters = [None, QuoteFilter(themes=("energy", "security")), QuoteFilter(article=article),
               QuoteFilter(date_from=dt.date(2023, 1, 1), themes=("other",))]  # fmt: skip
    themed = served.themed

    def counts() -> list:
        return [(store.tallies(f, themed), store.months(ids, f, themed), store.months(some, f))
                for f in filters]  # fmt: skip

    whole = counts()
    assert any(t for t, _, _ in whole) and any(m for _, m, _ in whole)
    monkeypatch.setattr(quotestore, "CHUNK_ROWS", 5)
    assert counts() == whole


def test_one_listing_gives_the_signature_and_the_newest_change(tmp_path):
    assert dashboard.folder_listing(tmp_path / "missing") == ("", None)
    empty = dashboard.folder_listing(tmp_path)  # no files: what both said
    assert empty == (dashboard.folder_signature(tmp_path), None)
    assert freshness.corpus_changed_at(tmp_path) is None
    for name in ("a.txt", "b.md"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    signature, changed = dashboard.folder_listing(tmp_path)
    assert signature == dashboard.folder_signature(tmp_path)
    assert changed == freshness.corpus_changed_at(tmp_path)


def test_downloads_too_large_for_the_server_are_notes_naming_the_export_command(served):
    state = dashboard.ViewState()
    visible, _ = served.visible(dashboard.filter_key(state))
    in_view = sum(dashboard.quote_count(f["properties"]) for f in visible
                  if not f["properties"].get("off_theme"))  # fmt: skip
    offered = served.downloads(state, visible, ())
    assert [d.label for d in offered] == ["This view (GeoJSON)", "This view's quotes (CSV)",
                                          "Whole dataset (GeoJSON)", "All mentions (CSV)"]
    assert all(d.data is not None for d in offered)

    held = served.downloads(state, visible, (), limit=in_view - 1)

    assert [(d.data, d.column) for d in held] == [(None, 0), (None, 1)]
    assert f"This view holds {in_view:,} quotes" in held[0].label
    assert f"The whole dataset holds {served.quotes:,} quotes" in held[1].label
    assert all("python -m kzgeo export" in d.label for d in held)
    one = next(f for f in visible if 0 < dashboard.quote_count(f["properties"]) < in_view)
    narrowed = served.downloads(state, [one], (), limit=in_view - 1)  # a narrower view fits
    assert [d.label for d in narrowed][:2] == ["This view (GeoJSON)", "This view's quotes (CSV)"]
    assert narrowed[2].data is None
