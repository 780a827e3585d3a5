"""The index and the export contract (DESIGN.md) on the real corpus and the real geodata."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from shapely.geometry import shape

from kzgeo.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.index import LAYER_ORDER, PLACES_LAYER, index_corpus
from kzgeo.themes import THEME_IDS

ANCHORS = ["baikonur", "novorossiysk", "almaty", "astana", "astrakhan-crossing"]
LAYER_ANCHORS = ["btc-pipeline", "kz-ru-border"]  # no article names the CPC pipeline
QUOTE_KEYS = {"article_id", "title", "outlet", "date", "text", "start", "end"}
PRECISIONS = {"exact", "city", "region", "country", "schematic", "approximate",
              "sea", "river", "continent", "macro-region"}  # issue 19: seas, continents, ...


@pytest.fixture(scope="module")
def index():
    return index_corpus(DEFAULT_CORPUS_DIR)


@pytest.fixture(scope="module")
def features(index):
    return {feature["id"]: feature for feature in index.collection["features"]}


def test_every_feature_follows_the_export_contract(index):
    ids = [feature["id"] for feature in index.collection["features"]]
    assert len(ids) == len(set(ids))
    for feature in index.collection["features"]:
        properties = feature["properties"]
        assert properties["id"] == feature["id"]
        assert properties["name"]
        assert properties["kind"]
        assert properties["precision"] in PRECISIONS
        assert set(properties["themes"]) <= set(THEME_IDS)
        assert properties["layer"] in (*LAYER_ORDER, PLACES_LAYER)
        assert not shape(feature["geometry"]).is_empty
        for quote in properties["quotes"]:
            assert set(quote) >= QUOTE_KEYS


@pytest.mark.parametrize("feature_id", ANCHORS + LAYER_ANCHORS)
def test_the_mission_anchors_are_exported_with_quotes(features, feature_id):
    assert features[feature_id]["properties"]["quotes"], f"{feature_id} has no quotes"


def test_the_astrakhan_crossing_quote_is_the_draft_office_sentence(features):
    (quote,) = features["astrakhan-crossing"]["properties"]["quotes"]
    assert "Grenzübergang in die kasachische Region Astrachan" in quote["text"]
    assert quote["outlet"] == "watson.ch"


def test_quote_offsets_slice_back_to_the_sentence_in_the_cleaned_article(index):
    articles = {article.id: article.text for article in index.corpus.articles}
    checked = 0
    for feature in index.collection["features"]:
        for quote in feature["properties"]["quotes"]:
            text = articles[quote["article_id"]]
            assert text[quote["start"] : quote["end"]] == quote["text"]
            assert quote["start"] <= quote["mention_start"] < quote["mention_end"] <= quote["end"]
            checked += 1
    assert checked > 400


def test_no_sentence_is_repeated_for_one_place(index):
    for feature in index.collection["features"]:
        keys = [(q["article_id"], q["start"]) for q in feature["properties"]["quotes"]]
        assert len(keys) == len(set(keys)), feature["id"]


def test_every_stable_layer_id_is_in_the_export_even_without_quotes(features):
    assert {"cpc-pipeline", "cpc-marine-terminal", "kz-ru-border", "eaeu", "csto"} <= set(features)


def test_layer_features_merge_layer_and_quote_themes(features):
    btc = features["btc-pipeline"]["properties"]
    assert btc["precision"] == "schematic"
    assert "energy" in btc["themes"]
    assert btc["length_official_km"] > 1000
    border = features["kz-ru-border"]["properties"]
    assert "territory" in border["themes"]
    assert 6000 < border["length_measured_km"] < 7700


def test_cities_are_points_at_their_geonames_coordinates(features):
    novorossiysk = features["novorossiysk"]
    assert novorossiysk["properties"]["layer"] == PLACES_LAYER
    lon, lat = novorossiysk["geometry"]["coordinates"]
    assert 44.6 < lat < 44.8 and 37.7 < lon < 37.9


def test_cli_export_writes_geojson_and_csv_for_a_given_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "neu.txt").write_text(
        "Neue Route\n\nDas Öl aus Atyrau fließt über Aktau nach Baku.\n", encoding="utf-8"
    )
    out, mentions = tmp_path / "out.geojson", tmp_path / "mentions.csv"
    result = subprocess.run(
        [sys.executable, "-m", "kzgeo", "export", str(out), "--corpus", str(corpus)]
        + ["--csv", str(mentions)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    quoted = {f["id"] for f in collection["features"] if f["properties"]["quotes"]}
    assert {"atyrau", "aktau", "baku"} <= quoted
    rows = list(csv.DictReader(mentions.open(encoding="utf-8")))
    assert {row["place_id"] for row in rows} >= {"atyrau", "aktau", "baku"}
    assert all(row["sentence"] == "Das Öl aus Atyrau fließt über Aktau nach Baku." for row in rows)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_mentions_csv_holds_each_mention_row_with_its_article(index):
    from kzgeo.index import MENTION_COLUMNS, mentions_csv

    text = mentions_csv(index.parsed, index.corpus.articles)
    assert text.startswith(",".join(MENTION_COLUMNS) + "\n")
    rows = list(csv.DictReader(text.splitlines(keepends=True)))
    articles = {a.id: a for a in index.corpus.articles}
    assert len(rows) == len(index.parsed.mentions) > 900
    for row, mention in zip(rows, index.parsed.mentions, strict=True):
        article = articles[mention.article_id]
        expected = {
            **mention.to_row(),
            "title": article.title,
            "outlet": article.outlet,
            "date": article.date.isoformat() if article.date else "",
            "url": article.url,
        }
        assert list(row) == list(MENTION_COLUMNS)
        assert float(row.pop("confidence")) == expected.pop("confidence")
        assert row == {c: "" if expected[c] is None else str(expected[c]) for c in row}


# --------------------------------------------------------------------------- from the quote store
@pytest.mark.parametrize("quota", [1, 40, 100_000])  # quotes per group of features
def test_the_export_from_the_quote_store_is_the_in_memory_index_written_out(
    index, tmp_path, quota
):
    from kzgeo.export import write_geojson, write_mentions_csv
    from kzgeo.index import geojson_text, mentions_csv
    from kzgeo.quotestore import build_store

    store, _ = build_store(DEFAULT_CORPUS_DIR, store_dir=tmp_path / "store")
    out = write_geojson(store, tmp_path / "out" / "all.geojson", quota=quota)
    csv_out = write_mentions_csv(store, tmp_path / "out" / "mentions.csv")

    assert out.read_text(encoding="utf-8") == geojson_text(index.collection)
    assert csv_out.read_text(encoding="utf-8") == mentions_csv(index.parsed,
                                                                index.corpus.articles)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["all.geojson",
                                                                    "mentions.csv"]


def test_the_export_of_an_archive_in_many_parts_equals_the_in_memory_index(
    tmp_path, monkeypatch
):
    """Quotes of a place come from many parts of the store; the export puts them back in
    corpus order, and a sentence repeated in a later part is quoted once."""
    from kzgeo.bench import write_corpus
    from kzgeo.config import BUILD_ENV_VAR
    from kzgeo.corpus import load_corpus
    from kzgeo.export import write_geojson
    from kzgeo.index import geojson_text
    from kzgeo.parts import build_parts
    from kzgeo.quotestore import QuoteStore

    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "build"))
    folder = write_corpus(load_corpus(DEFAULT_CORPUS_DIR).articles, 60, tmp_path / "corpus",
                          places=["Aktau", "Atyrau", "Taschkent", "Moskau", "Almaty", "Omsk"])
    done = build_parts(folder, tmp_path / "store", batch_files=8)
    store = QuoteStore.open(done.folder)
    assert len(store._part_names) >= 7  # the quotes of a place span the parts

    written = write_geojson(store, tmp_path / "all.geojson", quota=30)

    expected = geojson_text(index_corpus(folder).collection)
    assert written.read_text(encoding="utf-8") == expected
    almaty = next(f for f in json.loads(expected)["features"] if f["id"] == "almaty")
    assert len({q["article_id"] for q in almaty["properties"]["quotes"]}) > 8


def test_an_export_that_cannot_be_written_is_an_error_message_and_leaves_no_file(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kzgeo", "export", str(blocked / "out.geojson")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert "error: the export could not be written" in result.stderr
    assert "Traceback" not in result.stderr
    assert blocked.read_text(encoding="utf-8") == "not a folder"
