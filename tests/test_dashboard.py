"""The dashboard's logic: URL state, filters, search, quote rendering, and the app via AppTest."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from kzgeo import dashboard
from kzgeo.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.dashboard import ViewState
from kzgeo.index import index_corpus
from kzgeo.themes import THEME_IDS


@pytest.fixture(scope="module")
def index():
    return index_corpus(DEFAULT_CORPUS_DIR)


@pytest.fixture(scope="module")
def catalogue(index):
    return dashboard.catalogue_of(index.collection, index.corpus.articles)


def test_a_view_survives_the_round_trip_through_the_url(catalogue):
    state = ViewState(
        place="baikonur",
        themes=("energy", "security"),
        article="ipg-2024-04-vermittler-gesucht",
        date_from=dt.date(2022, 1, 1),
        date_to=dt.date(2024, 12, 31),
        lat=48.0,
        lon=68.0,
        zoom=5,
    )
    parsed, notices = dashboard.parse_query(dashboard.to_query(state), catalogue)
    assert parsed == state
    assert notices == []


BAD_PARAMETERS = [
    ({"place": "atlantis"}, "No place with id 'atlantis'"),
    ({"themes": "energy,wetter"}, "Unknown theme(s) ignored: wetter"),
    ({"article": "nope"}, "No article with id 'nope'"),
    ({"outlet": "Bild"}, "No outlet 'Bild'"),
    ({"from": "2024-02-30"}, "'from' is not a date"),
    ({"lat": "95", "lon": "10", "zoom": "4"}, "Map view (lat, lon, zoom)"),
    ({"zoom": "4"}, "Map view (lat, lon, zoom)"),
    ({"colour": "red"}, "Unknown link parameter 'colour'"),
    ({"place": "x" * 5000}, "'place' is too long"),
    ({"place": ["almaty", "astana"]}, "'place' was given more than once"),
    ({"place": "<script>alert(1)</script>"}, "No place with id '<script>alert(1)</script>'"),
]


@pytest.mark.parametrize(("params", "notice"), BAD_PARAMETERS)
def test_malformed_link_parameters_are_ignored_with_a_notice(catalogue, params, notice):
    state, notices = dashboard.parse_query(params, catalogue)
    assert any(notice in text for text in notices), notices
    assert state.place in (None, "almaty")


def test_theme_filter_hides_layers_without_a_chosen_theme(index, catalogue):
    state = ViewState(themes=("migration",))
    visible = dashboard.filter_features(index.collection["features"], state, catalogue)
    layers = {f["properties"]["layer"] for f in visible}
    assert "pipelines" not in layers
    assert any(f["id"] == "astrakhan-crossing" for f in visible)
    assert all(
        "migration" in f["properties"]["themes"]
        for f in visible
        if f["properties"]["layer"] != "countries"
    )


@pytest.mark.parametrize("theme", THEME_IDS)
def test_each_theme_alone_shows_only_what_carries_it(index, catalogue, theme):
    visible = dashboard.filter_features(
        index.collection["features"], ViewState(themes=(theme,)), catalogue
    )
    pipelines = [f for f in visible if f["properties"]["layer"] == "pipelines"]
    assert len(pipelines) == (6 if theme == "energy" else 0)
    for f in visible:
        properties = f["properties"]
        if properties.get("off_theme"):  # a country drawn as the base map, without quotes
            assert properties["quotes"] == [] and theme not in properties["themes"]
        else:
            assert theme in properties["themes"], f["id"]
        if properties["layer"] == "places":  # its quotes follow the theme, and its count
            assert all(theme in (q["themes"] or ["other"]) for q in properties["quotes"])
            assert properties["mention_count"] == len(properties["quotes"]) > 0
    top = [f["id"] for f in dashboard.most_mentioned(visible)]
    assert ("kazakhstan" in top) == (theme in ("diplomacy", "territory"))


def test_article_filter_keeps_only_its_quotes_and_places(index, catalogue):
    state = ViewState(article="watson-2022-09-kalte-schulter")
    visible = dashboard.filter_features(index.collection["features"], state, catalogue)
    quotes = [q for f in visible for q in f["properties"]["quotes"]]
    assert quotes and {q["article_id"] for q in quotes} == {state.article}
    places = [f for f in visible if f["properties"]["layer"] == "places"]
    assert places and all(f["properties"]["quotes"] for f in places)
    assert "novorossiysk" not in {f["id"] for f in places}  # only RND names it


def test_date_filter_drops_quotes_outside_the_range(index, catalogue):
    state = ViewState(date_from=dt.date(2025, 1, 1))
    visible = dashboard.filter_features(index.collection["features"], state, catalogue)
    dates = {q["date"] for f in visible for q in f["properties"]["quotes"]}
    assert dates and min(dates) >= "2025-01-01"


def test_filters_never_change_the_shared_index(index, catalogue):
    before = sum(len(f["properties"]["quotes"]) for f in index.collection["features"])
    dashboard.filter_features(index.collection["features"], ViewState(themes=()), catalogue)
    dashboard.filter_features(
        index.collection["features"], ViewState(article="karenina-2022-01-risiko"), catalogue
    )
    assert sum(len(f["properties"]["quotes"]) for f in index.collection["features"]) == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Moskau", "moscow"),
        ("moscow", "moscow"),
        ("Noworossijsk", "novorossiysk"),
        ("Tiflis", "btc-pipeline"),
        ("astana", "astana"),
        ("Baikonur", "baikonur"),
    ],
)
def test_search_finds_a_place_by_german_or_english_name(index, query, expected):
    """The search box filters its options by their labels: each names the feature's forms."""
    features = index.collection["features"]
    labels = {f["id"]: dashboard.search_label(f["properties"]) for f in features}
    assert query.casefold() in labels[expected].casefold()


def test_search_with_no_match_finds_nothing(index):
    labels = [dashboard.search_label(f["properties"]) for f in index.collection["features"]]
    assert not [label for label in labels if "atlantis" in label.casefold()]


def test_quote_html_escapes_the_sentence_and_marks_the_name():
    quote = {
        "text": "<b>In</b> Almaty & mehr",
        "start": 100,
        "mention_start": 110,
        "mention_end": 116,
    }
    assert dashboard.quote_html(quote) == "&lt;b&gt;In&lt;/b&gt; <mark>Almaty</mark> &amp; mehr"


def test_pipeline_attributes_are_shown_with_labels(index):
    names = dashboard.country_names(index.collection["features"])
    rows = dict(dashboard.attribute_rows(index.feature("btc-pipeline")["properties"], names))
    assert rows["Operator"].startswith("BP")
    assert rows["Official length (km)"] == "1,768"  # the page's one number format
    assert rows["Countries"] == "Azerbaijan, Georgia, Turkey"  # names, not ids
    assert rows["End"] == "Ceyhan Marine Terminal"
    assert "Erzurum" in rows["Waypoints"]


def test_timeline_counts_quotes_per_month(index):
    months = dict(dashboard.mentions_by_month(index.collection["features"]))
    assert months["2022-09"] > 0 and months["2025-04"] > 0
    assert months["2023-06"] == 0  # no article from that month
    total = sum(len(f["properties"]["quotes"]) for f in index.collection["features"])
    assert sum(months.values()) == total


# --- the app's logic paths through Streamlit's AppTest -----------------------------------------


def run_app(**params: str) -> AppTest:
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


def test_the_app_keeps_the_index_it_reads_out_of_the_cycle_collector():
    import gc

    import streamlit as st

    st.cache_resource.clear()
    before = gc.get_freeze_count()
    app = run_app()
    assert not app.exception
    # the bundled corpus' index is tens of thousands of objects: a dict per quote and feature
    assert gc.get_freeze_count() - before > 10_000


def test_app_opens_a_place_from_the_url():
    app = run_app(place="novorossiysk")
    assert not app.exception
    assert [h.value for h in app.subheader][0] == "Novorossiysk"
    assert any("Schwarzmeer-Hafenstadt" in m.value for m in app.markdown)


def test_app_reports_bad_parameters_and_still_renders():
    app = run_app(place="atlantis", themes="energy,nonsense")
    assert not app.exception
    notices = " ".join(info.value for info in app.info)
    assert "No place with id 'atlantis'" in notices and "nonsense" in notices
    assert app.session_state["themes"] == ["energy"]
    assert "Sources" in [h.value for h in app.subheader]


def test_app_with_every_theme_off_says_so_and_offers_the_way_back(index):
    app = run_app()
    app.session_state["themes"] = []
    app.run()
    assert not app.exception
    assert "Every theme is switched off." in [w.value for w in app.warning]
    assert "Most mentioned" not in " ".join(m.value for m in app.markdown)
    app.button(key="clear-themes").click().run()
    assert app.session_state["themes"] == list(THEME_IDS)
    assert "Most mentioned" in " ".join(m.value for m in app.markdown)


def test_app_with_excluding_filters_explains_and_clears_the_outlet(index):
    article = next(a for a in index.corpus.articles if a.outlet != "IPG-Journal")
    app = run_app(article=article.id, outlet="IPG-Journal")
    assert not app.exception
    (warning,) = [w.value for w in app.warning]
    assert warning.startswith("No place matches the article") and "IPG-Journal" in warning
    app.button(key="clear-outlet").click().run()
    assert not app.warning and app.session_state["outlet"] == ""


def test_app_theme_widget_drives_the_url():
    app = run_app()
    app.session_state["themes"] = ["security"]
    app.run()
    assert app.query_params["themes"] in ("security", ["security"])
