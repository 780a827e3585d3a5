"""Your own article in the app (#8): the pure dashboard functions and the app via AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kzgeo import dashboard, mapview
from kzgeo.gazetteer import load_gazetteer
from kzgeo.ingest import IngestError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTICLE_HTML = PROJECT_ROOT / "tests" / "data" / "article.html"
PASTED = "Das Öl aus Atyrau fließt nach Aktau. In Aktau liegt der Hafen am Kaspischen Meer."


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def test_pasted_text_becomes_new_features_with_its_sentences(gazetteer):
    article, features = dashboard.user_article_features(
        PASTED, "Häfen", "Mein Blatt", "2025-03-14", None, gazetteer
    )
    assert article.language == "de"
    by_id = {f["id"]: f for f in features}
    # the Caspian Sea is a place since issue 19 (seas are gazetteer entries)
    assert set(by_id) == {"new:aktau", "new:atyrau", "new:caspian-sea"}
    for feature in features:
        properties = feature["properties"]
        assert properties["id"] == feature["id"]
        assert properties["layer"] == dashboard.NEW_LAYER and properties["new"] is True
        assert properties["base_layer"] == "places"
        quotes = properties["quotes"]
        assert all(q["text"] in PASTED and q["outlet"] == "Mein Blatt" for q in quotes)
    aktau = by_id["new:aktau"]["properties"]["quotes"]
    assert [q["text"] for q in aktau] == [
        "Das Öl aus Atyrau fließt nach Aktau.",
        "In Aktau liegt der Hafen am Kaspischen Meer.",
    ]
    html = dashboard.quote_html(aktau[1])
    assert "<mark>Aktau</mark>" in html


@pytest.mark.parametrize(
    ("text", "title", "date", "message"),
    [
        ("   ", "T", "", "The text is empty"),
        ("x" * 200_001, "T", "", "too long"),
        (PASTED, "", "", "Give the article a title"),
        (PASTED, "T", "14.03.2025", "Invalid date"),
    ],
)
def test_unusable_input_raises_a_clear_message(gazetteer, text, title, date, message):
    with pytest.raises(IngestError, match=message):
        dashboard.user_article_features(text, title, "", date, None, gazetteer)


def test_an_uploaded_html_page_is_reduced_to_its_article_text():
    text, meta = dashboard.read_upload(ARTICLE_HTML.read_bytes(), "article.html")
    assert "Der Hafen von Aktau hat seinen Umschlag" in text
    for boilerplate in ("Cookies", "Anzeige", "Newsletter", "Impressum", "Schymkent", "Bischkek"):
        assert boilerplate not in text
    assert meta["title"] == "Kasachstans Häfen am Kaspischen Meer wachsen"
    assert meta["outlet"] == "Steppenbote" and meta["date"].isoformat() == "2025-03-14"
    with pytest.raises(IngestError, match="Unsupported file type '.pdf'"):
        dashboard.read_upload(b"%PDF-1.7", "bericht.pdf")


def test_merging_keeps_the_session_list_and_corpus_untouched(gazetteer):
    _, first = dashboard.user_article_features(PASTED, "A", "", "", None, gazetteer)
    _, second = dashboard.user_article_features(
        "Aktau wächst schnell.", "B", "", "", None, gazetteer
    )
    once = dashboard.merge_new_features([], first)
    twice = dashboard.merge_new_features(once, second)
    aktau = next(f for f in twice if f["id"] == "new:aktau")["properties"]
    assert len(aktau["quotes"]) == 3 and aktau["mention_count"] == 3
    assert len(next(f for f in once if f["id"] == "new:aktau")["properties"]["quotes"]) == 2
    assert dashboard.merge_new_features(twice, second) == twice  # no quote twice


def test_find_feature_prefers_visible_then_new_then_hidden_corpus():
    corpus = [{"id": "aktau"}]
    new = [{"id": "new:aktau"}]
    assert dashboard.find_feature("new:aktau", [], corpus, new) == ({"id": "new:aktau"}, False)
    assert dashboard.find_feature("aktau", corpus, corpus, new) == ({"id": "aktau"}, False)
    assert dashboard.find_feature("aktau", [], corpus, new) == ({"id": "aktau"}, True)
    assert dashboard.find_feature("new:x", [], corpus, new) == (None, False)


def test_new_features_get_their_own_top_layer(gazetteer):
    _, features = dashboard.user_article_features(PASTED, "A", "", "", None, gazetteer)
    layers = mapview.index_layers(features, {})
    assert [layer.layer_name for layer in layers] == [mapview.LAYER_STYLES["new"]["label"]]
    assert list(mapview.LAYER_STYLES)[-1] == "new"  # drawn last: on top of the corpus
    style = mapview.feature_style("new")({"properties": {}})
    assert style["fillColor"] == mapview.LAYER_STYLES["new"]["fillColor"]


# --- through Streamlit's AppTest ---------------------------------------------------------------


def test_app_keeps_pasted_text_in_a_collection_and_selects_a_new_place():
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180).run()
    assert not app.exception
    app.text_area(key="add_text").set_value(PASTED).run()
    app.text_input(key="add_title").set_value("Häfen").run()
    app.text_input(key="add_outlet").set_value("Mein Blatt").run()
    app.text_input(key="add_date").set_value("2025-03-14").run()
    app.button(key="add_go").click().run()
    assert not app.exception
    collection = app.session_state["collection"]
    assert app.query_params["collection"] == collection and app.session_state["edit_token"]
    assert "3 place(s) on the map" in app.success[0].value  # the sea is a place (issue 19)
    app.session_state["place"] = "new:atyrau"
    app.run()
    assert [h.value for h in app.subheader][0] == "Atyrau"
    assert any(dashboard.NEW_NOTE in m.value for m in app.markdown)
    assert any("<mark>Atyrau</mark> fließt nach Aktau." in m.value for m in app.markdown)

    viewer = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
    viewer.query_params["collection"] = collection  # the view link, in another session
    viewer.query_params["place"] = "new:atyrau"
    viewer.run()
    assert not viewer.exception and [h.value for h in viewer.subheader][0] == "Atyrau"
    assert not [b for b in viewer.button if b.key.startswith("remove-")]  # viewing only

    [remove] = [b for b in app.button if b.key.startswith("remove-")]
    remove.click().run()
    assert not app.exception and app.session_state["collection"] == collection
    app.run()
    assert "Sources" in [h.value for h in app.subheader]  # its places went with the article


def test_app_shows_a_clear_error_for_an_empty_text_and_still_renders():
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180).run()
    app.text_input(key="add_title").set_value("Leer").run()
    app.text_input(key="add_outlet").set_value("Mein Blatt").run()
    app.button(key="add_go").click().run()
    assert not app.exception
    assert "The text is empty" in app.error[0].value
    assert "Sources" in [h.value for h in app.subheader]
