"""Incremental builds (#22): adding one article to a corpus geoparses that article only, and the
result equals a full rebuild. The shipped geoparse (#23): a fresh clone builds the bundled
corpus' index from ``prebuilt/geoparse.jsonl`` without a gazetteer, and that file is current."""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kzgeo import geocache
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import load_gazetteer
from kzgeo.index import build_index, geoparse_parallel, index_code, index_corpus, mentions_csv
from kzgeo.ingest import add_text_to_corpus
from kzgeo.layers import load_layers

NEW_TEXT = """Neue Liegeplätze in Aktau

Der Hafen von Aktau am Kaspischen Meer bekommt neue Liegeplätze. Die Regierung in Astana will
damit mehr Öl und Getreide über Baku nach Westen schicken, vorbei an Noworossijsk.

Händler in Atyrau rechnen mit mehr Verkehr auf der Schiene.
"""


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a copy of the bundled corpus; builds (and the cache) go to a fresh folder, and the
    shipped geoparse is left out (these tests are about the build folder's cache)."""
    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "build"))
    monkeypatch.setattr(geocache, "SHIPPED_PATH", None)
    return Path(shutil.copytree(DEFAULT_CORPUS_DIR, tmp_path / "corpus"))


def built_counts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kzgeo.geocache"]


def test_a_build_after_one_addition_geoparses_that_article_only_and_equals_a_full_one(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="kzgeo.geocache")
    count = len(load_corpus(corpus).articles)
    index_corpus(corpus)
    assert built_counts(caplog) == [
        f"geoparsed {count} of {count} articles (0 from the cache)"]

    added = add_text_to_corpus(NEW_TEXT, corpus, "Neue Liegeplätze in Aktau", "Testblatt",
                               "2026-12-01", url="https://example.org/aktau")
    caplog.clear()
    second = index_corpus(corpus)
    assert built_counts(caplog) == [
        f"geoparsed 1 of {count + 1} articles ({count} from the cache)"]
    aktau = next(f for f in second.collection["features"] if f["id"] == "aktau")
    assert added.id in {q["article_id"] for q in aktau["properties"]["quotes"]}

    # the incremental result equals a full geoparse of the same corpus
    articles = load_corpus(corpus).articles
    full = geoparse_parallel(articles)
    assert second.collection == build_index(full, load_layers())
    assert mentions_csv(second.parsed, second.corpus.articles) == mentions_csv(full, articles)


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


def test_the_shipped_geoparse_is_current():
    """Fails when the geoparser (code, data, gazetteer inputs) or the bundled corpus changed
    since ``prebuilt/geoparse.jsonl`` was written: run ``python -m kzgeo build --ship``."""
    assert geocache.SHIPPED_PATH is not None and geocache.SHIPPED_PATH.is_file()
    shipped = geocache.SHIPPED_PATH.read_text(encoding="utf-8").splitlines()
    stale = "prebuilt/geoparse.jsonl is stale: run python -m kzgeo build --ship and commit it"
    assert json.loads(shipped[0])["geoparser"] == geocache.geoparser_key(), stale
    current = geocache.shipped_lines(load_corpus(DEFAULT_CORPUS_DIR).articles, load_gazetteer())
    assert shipped == current, stale


FRESH_BUILD = """
import json, logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from kzgeo.index import index_corpus
print(json.dumps(index_corpus(Path(sys.argv[1])).collection, ensure_ascii=False))
"""


def test_a_fresh_build_folder_takes_the_shipped_geoparse_and_builds_no_gazetteer(tmp_path: Path):
    build = tmp_path / "build"
    env = {**os.environ, BUILD_ENV_VAR: str(build)}
    done = subprocess.run([sys.executable, "-c", FRESH_BUILD, str(DEFAULT_CORPUS_DIR)],
                          capture_output=True, text=True, env=env, check=True, timeout=300)
    articles = load_corpus(DEFAULT_CORPUS_DIR).articles
    count = len(articles)
    assert f"geoparsed 0 of {count} articles (0 from the cache, {count} shipped)" in done.stderr
    assert not (build / "gazetteer.pickle").exists()  # the first map waits for no gazetteer
    collection = json.loads(done.stdout.splitlines()[-1])
    full = geoparse_parallel(articles, gazetteer=load_gazetteer())
    assert collection == json.loads(json.dumps(build_index(full, load_layers()),
                                               ensure_ascii=False))


def test_a_shipped_geoparse_of_another_geoparser_is_ignored(corpus: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    articles = load_corpus(corpus).articles
    gazetteer = load_gazetteer()
    shipped = geocache.write_shipped(articles[:3], gazetteer, tmp_path / "shipped.jsonl")
    monkeypatch.setattr(geocache, "SHIPPED_PATH", shipped)
    parsed, stats = geocache.geoparse_cached(articles, None, gazetteer=gazetteer)
    assert (len(stats.geoparsed), stats.shipped) == (len(articles) - 3, 3)
    assert parsed.to_dict() == geoparse_parallel(articles, gazetteer=gazetteer).to_dict()
    lines = shipped.read_text(encoding="utf-8").splitlines()
    header = {**json.loads(lines[0]), "geoparser": "an-older-geoparser"}
    shipped.write_text("\n".join([json.dumps(header), *lines[1:]]), encoding="utf-8")
    _parsed, stats = geocache.geoparse_cached(articles, None, gazetteer=gazetteer)
    assert (len(stats.geoparsed), stats.shipped) == (len(articles), 0)


def test_a_load_after_one_addition_reads_that_file_only_and_equals_a_full_load(
    corpus: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="kzgeo.geocache.files")
    files = len(list(corpus.glob("*.txt")))

    def reads() -> list[str]:
        found = [r.getMessage() for r in caplog.records if r.name == "kzgeo.geocache.files"]
        caplog.clear()
        return found

    assert geocache.load_corpus_cached(corpus) == load_corpus(corpus)
    assert reads() == [f"read {files} of {files} files (0 from the cache)"]
    add_text_to_corpus(NEW_TEXT, corpus, "Neue Liegeplätze in Aktau", "Testblatt", "2026-12-01")
    assert geocache.load_corpus_cached(corpus) == load_corpus(corpus)
    assert reads() == [f"read 1 of {files + 1} files ({files} from the cache)"]

    # a file rewritten in place, or its manifest entry changed, is read again
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nNachtrag aus Almaty.\n",
                     encoding="utf-8")
    manifest = corpus / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'outlet = "Testblatt"', 'outlet = "Testblatt am Sonntag"'), encoding="utf-8")
    loaded = geocache.load_corpus_cached(corpus)
    assert loaded == load_corpus(corpus)
    assert reads() == [f"read 2 of {files + 1} files ({files - 1} from the cache)"]
    assert "Testblatt am Sonntag" in {a.outlet for a in loaded.articles}
