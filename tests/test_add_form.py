"""The add form's actions over a plain session mapping and a real SQLite store (#18, #21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kzgeo import add_form
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.ingest import LANGUAGES
from kzgeo.store import open_store

PASTED = "Das Öl aus Atyrau fließt nach Aktau. In Aktau liegt der Hafen am Kaspischen Meer."


@pytest.fixture
def store(tmp_path: Path):
    opened = open_store(f"sqlite:///{tmp_path / 'kzgeo.sqlite3'}")
    yield opened
    opened.engine.dispose()


@pytest.fixture(scope="module")
def articles():
    return load_corpus(DEFAULT_CORPUS_DIR).articles[:2]


def session_of(collection: str | None = None, token: str | None = None) -> dict:
    """Return a session as a first run from a link leaves it."""
    session: dict = {}
    add_form.start(session, {"collection": [collection] if collection else [],
                             "edit": token or ""}, first_run=True)  # fmt: skip
    return session


def test_the_form_offers_every_language_the_ingest_reads_in_its_order():
    assert tuple(add_form.LANGUAGE_NAMES) == LANGUAGES
    assert add_form.DEFAULTS["add_language"] == LANGUAGES[0]


def test_the_edit_link_renames_and_removes_and_each_action_redraws_the_map(store, articles):
    added = store.add_article(articles[0], name="Alt")
    store.add_article(articles[1], added.collection.id, added.edit_token)
    session = session_of(added.collection.id, added.edit_token)
    session["add_name"] = "  Häfen am\nKaspischen Meer "
    add_form.rename(session, lambda: store)
    assert store.collection(added.collection.id).name == "Häfen am Kaspischen Meer"
    assert session["add_error"] is None and session.pop(add_form.REDRAW)
    add_form.remove(session, lambda: store, articles[0].id)
    assert [a.id for a in store.articles(added.collection.id)] == [articles[1].id]
    assert session["add_error"] is None and session.pop(add_form.REDRAW)


def test_the_view_link_cannot_edit_and_says_why(store, articles):
    added = store.add_article(articles[0], name="Alt")
    session = session_of(added.collection.id)  # the view link: no edit token
    assert not add_form.can_edit(session, True)
    session["add_name"] = "Neu"
    add_form.rename(session, lambda: store)
    assert "edit link" in session["add_error"]
    add_form.remove(session, lambda: store, articles[0].id)
    assert "edit link" in session["add_error"]
    assert store.collection(added.collection.id).name == "Alt"
    assert len(store.articles(added.collection.id)) == 1


def test_an_unreachable_database_is_a_message_not_an_exception(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unreachable = lambda: open_store(f"sqlite:///{blocker / 'kzgeo.sqlite3'}")  # noqa: E731
    session = session_of("x" * 32, "y" * 32)
    add_form.rename(session, unreachable)
    assert "database folder" in session["add_error"] and "cannot be made" in session["add_error"]
    session = session_of()
    session.update(add_text=PASTED, add_title="Häfen")
    assert not add_form.add(session, unreachable, add_form.shared_gazetteer, now=0.0)
    assert session["add_error"] and session["collection"] is None


def test_pasted_text_starts_a_collection_and_empties_the_form(store):
    session = session_of()
    session.update(add_text=PASTED, add_title="Häfen", add_outlet="Mein Blatt",
                   add_date="2025-03-14")  # fmt: skip
    assert add_form.add(session, lambda: store, add_form.shared_gazetteer, now=100.0)
    assert session["add_error"] is None and "3 place(s) on the map" in session["add_done"]
    [article] = store.articles(session["collection"])
    assert (article.title, article.outlet, article.text) == ("Häfen", "Mein Blatt", PASTED)
    assert store.can_edit(session["collection"], session["edit_token"])
    assert all(session[key] == "" for key in add_form.FIELDS) and session[add_form.REDRAW]


def test_the_rate_limit_refuses_before_the_gazetteer_or_the_store_is_opened():
    def never() -> None:
        raise AssertionError("opened although the rate limit refuses")

    session = session_of()
    session.update(add_text=PASTED, add_title="Häfen", add_times=[100.0] * 50)
    assert not add_form.add(session, never, never, now=101.0)
    assert session["add_error"].startswith("Too many additions")
