"""Incremental builds (#22): adding one article to a corpus geoparses that article only, and the
result equals a full rebuild."""

from __future__ import annotations

import logging
import pickle
import shutil
from pathlib import Path

import pytest

from kzgeo import geocache
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import load_gazetteer
from kzgeo.index import build_index, geoparse_parallel, index_code, mentions_csv, served_index
from kzgeo.ingest import add_text_to_corpus
from kzgeo.layers import load_layers

NEW_TEXT = """Neue Liegeplätze in Aktau

Der Hafen von Aktau am Kaspischen Meer bekommt neue Liegeplätze. Die Regierung in Astana will
damit mehr Öl und Getreide über Baku nach Westen schicken, vorbei an Noworossijsk.

Händler in Atyrau rechnen mit mehr Verkehr auf der Schiene.
"""


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a copy of the bundled corpus; builds (and the cache) go to a fresh folder."""
    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "build"))
    return Path(shutil.copytree(DEFAULT_CORPUS_DIR, tmp_path / "corpus"))


def built_counts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kzgeo.geocache"]


def test_a_build_after_one_addition_geoparses_that_article_only_and_equals_a_full_one(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="kzgeo.geocache")
    count = len(load_corpus(corpus).articles)
    first, built = served_index(corpus, index_dir=tmp_path / "index")
    assert built and built_counts(caplog) == [
        f"geoparsed {count} of {count} articles (0 from the cache)"]

    added = add_text_to_corpus(NEW_TEXT, corpus, "Neue Liegeplätze in Aktau", "Testblatt",
                               "2026-12-01", url="https://example.org/aktau")
    caplog.clear()
    second, built = served_index(corpus, index_dir=tmp_path / "index")
    assert built and built_counts(caplog) == [
        f"geoparsed 1 of {count + 1} articles ({count} from the cache)"]
    aktau = next(f for f in second.collection["features"] if f["id"] == "aktau")
    assert added.id in {q["article_id"] for q in aktau["properties"]["quotes"]}

    # the incremental result equals a full geoparse of the same corpus
    articles = load_corpus(corpus).articles
    full = geoparse_parallel(articles)
    assert second.collection == build_index(full, load_layers())
    assert second.mentions_csv() == mentions_csv(full, articles)


def test_geoparse_cached_resolves_only_what_is_missing(corpus: Path, tmp_path: Path):
    articles = load_corpus(corpus).articles
    gazetteer = load_gazetteer()
    path = tmp_path / "cache.pickle"
    parsed, stats = geocache.geoparse_cached(articles[:5], path, gazetteer=gazetteer)
    assert (len(stats.geoparsed), stats.cached) == (5, 0)
    parsed, stats = geocache.geoparse_cached(articles, path, gazetteer=gazetteer)
    assert stats.geoparsed == tuple(a.id for a in articles[5:]) and stats.cached == 5
    assert parsed.to_dict() == geoparse_parallel(articles, gazetteer=gazetteer).to_dict()
    parsed, stats = geocache.geoparse_cached(articles, path, gazetteer=gazetteer)
    assert (stats.geoparsed, stats.cached) == ((), len(articles))

    # another geoparser (code, data or gazetteer changed) starts the cache afresh
    stored = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps({**stored, "key": "an-older-geoparser"}))
    _parsed, stats = geocache.geoparse_cached(articles, path, gazetteer=gazetteer)
    assert len(stats.geoparsed) == len(articles)
    path.write_bytes(b"not a pickle")
    _parsed, stats = geocache.geoparse_cached(articles, path, gazetteer=gazetteer)
    assert len(stats.geoparsed) == len(articles)


def test_the_geoparser_key_covers_every_module_the_geoparse_imports():
    modules = {path.stem for path in index_code(geocache.GEOPARSE_ENTRY) if path.suffix == ".py"}
    assert {"resolve", "recognize", "gazetteer", "sentences", "themes", "ids"} <= modules
    assert "index" not in modules and "watch" not in modules  # a watcher change keeps the cache
