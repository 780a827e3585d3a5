"""Collections store (#21), the same tests on SQLite and on a real PostgreSQL server.

PostgreSQL runs when ``KZGEO_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one and sets
it); each test gets its own schema there, dropped afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kzgeo import store as store_module
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.harness import free_port
from kzgeo.store import (
    SCHEMA_VERSION,
    CollectionError,
    Store,
    StoreUnavailable,
    database_url,
    hash_token,
    is_collection_article,
    open_store,
    rate_limit,
)


@pytest.fixture(scope="module")
def corpus_articles():
    """Real articles of the bundled corpus, to store and read back."""
    return load_corpus(DEFAULT_CORPUS_DIR).articles


def with_url(article, url):
    return dataclasses.replace(article, url=url)




@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.engine.dispose()


def raw_rows(store: Store, table: sa.Table) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(table)).mappings()]


# --------------------------------------------------------------------------- round trip
def test_an_article_comes_back_as_the_corpus_loader_gives_it(store, corpus_articles):
    article = with_url(corpus_articles[0], "https://www.ipg-journal.de/artikel/1")
    added = store.add_article(article, places=["astana", "almaty"], name="Meine Sammlung")
    assert added.edit_token and added.collection.article_count == 1
    assert added.collection.name == "Meine Sammlung"
    [back] = store.articles(added.collection.id)
    for field in ("id", "title", "outlet", "author", "date", "language", "text", "url"):
        assert getattr(back, field) == getattr(article, field), field
    assert is_collection_article(back) and not is_collection_article(article)
    assert back == added.article
    [stored] = store.stored_articles(added.collection.id)
    assert stored.places == ("astana", "almaty")
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - stored.added_at < dt.timedelta(minutes=1)
    assert store.schema_version() == SCHEMA_VERSION


def test_ids_are_unguessable_and_the_edit_token_is_kept_only_as_a_hash(store, corpus_articles):
    first = store.add_article(corpus_articles[0])
    second = store.add_article(corpus_articles[0])  # a new collection each time
    ids = {first.collection.id, second.collection.id, first.edit_token, second.edit_token}
    assert len(ids) == 4
    for value in ids:
        assert len(value) * 6 >= 128  # URL-safe base64: 6 bits a character
    rows = raw_rows(store, store_module.collections)
    assert {row["id"] for row in rows} == {first.collection.id, second.collection.id}
    stored_values = {str(value) for row in rows for value in row.values()}
    assert first.edit_token not in stored_values and second.edit_token not in stored_values
    hashes = {row["id"]: row["edit_token_hash"] for row in rows}
    assert hashes[first.collection.id] == hash_token(first.edit_token)


def test_the_view_link_reads_and_only_the_edit_link_changes(store, corpus_articles):
    added = store.add_article(corpus_articles[0], name="Alt")
    cid, token = added.collection.id, added.edit_token
    assert store.collection(cid).name == "Alt"
    assert store.can_edit(cid, token) and not store.can_edit(cid, cid)
    for wrong in (None, "", cid, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(CollectionError, match="edit link"):
            store.rename(cid, wrong, "Neu")
        with pytest.raises(CollectionError, match="edit link"):
            store.remove_article(cid, wrong, added.article.id)
        with pytest.raises(CollectionError, match="edit link"):
            store.add_article(corpus_articles[1], cid, wrong)
    assert store.collection(cid).name == "Alt" and len(store.articles(cid)) == 1
    assert store.rename(cid, token, "  Neu\n Name ").name == "Neu Name"
    store.add_article(corpus_articles[1], cid, token)
    store.remove_article(cid, token, added.article.id)
    assert [a.id for a in store.articles(cid)] == [corpus_articles[1].id]
    with pytest.raises(CollectionError, match="no article"):
        store.remove_article(cid, token, added.article.id)


@pytest.mark.parametrize("bad_id", ["", "nope", "../../etc/passwd", "x" * 500, "' OR 1=1 --"])
def test_an_unknown_or_malformed_id_is_no_collection(store, corpus_articles, bad_id):
    store.add_article(corpus_articles[0])
    with pytest.raises(CollectionError, match="no collection"):
        store.articles(bad_id)
    with pytest.raises(CollectionError, match="no collection"):
        store.add_article(corpus_articles[1], bad_id, check_token=False)
    assert not store.can_edit(bad_id, bad_id)


def test_the_same_url_or_the_same_text_is_not_added_twice(store, corpus_articles):
    one, two, three = corpus_articles[:3]
    added = store.add_article(with_url(one, "https://example.org/a"))
    cid, token = added.collection.id, added.edit_token
    with pytest.raises(CollectionError, match="same address"):
        store.add_article(with_url(two, "https://example.org/a"), cid, token)
    respaced = dataclasses.replace(
        one, id="user-other-id", url="https://example.org/b", text=one.text.upper() + "  "
    )
    with pytest.raises(CollectionError, match="same text"):
        store.add_article(respaced, cid, token)
    store.add_article(with_url(three, "https://example.org/c"), cid, token)
    assert len(store.articles(cid)) == 2
    other = store.add_article(with_url(one, "https://example.org/a"))  # another collection
    assert len(store.articles(other.collection.id)) == 1


def test_a_full_collection_takes_no_more(store, corpus_articles, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_ARTICLES_PER_COLLECTION", 3)
    added = store.add_article(corpus_articles[0])
    for article in corpus_articles[1:3]:
        store.add_article(article, added.collection.id, added.edit_token)
    with pytest.raises(CollectionError, match="full"):
        store.add_article(corpus_articles[3], added.collection.id, added.edit_token)
    assert len(store.articles(added.collection.id)) == 3


def test_a_failed_addition_stores_nothing_not_even_the_new_collection(store, corpus_articles):
    broken = dataclasses.replace(corpus_articles[0], title=None)  # NOT NULL in the database
    with pytest.raises(CollectionError, match="cannot be stored"):
        store.add_article(broken)
    assert raw_rows(store, store_module.collections) == []
    assert raw_rows(store, store_module.articles) == []


def test_concurrent_adders_to_one_collection_all_succeed(db_url, corpus_articles):
    """Four server processes (one engine each) add four articles to one collection at once."""
    stores = [open_store(db_url) for _ in range(4)]
    added = stores[0].add_article(corpus_articles[0])
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def add(store: Store, article) -> None:
        start.wait()
        try:
            store.add_article(article, added.collection.id, added.edit_token)
        except BaseException as error:  # recorded for the assertion below
            errors.append(error)

    threads = [
        threading.Thread(target=add, args=(store, article))
        for store, article in zip(stores, corpus_articles[1:5], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = {a.id for a in stores[0].articles(added.collection.id)}
    assert ids == {a.id for a in corpus_articles[:5]}
    for store in stores:
        store.engine.dispose()


def test_upgrading_the_schema_keeps_stored_articles(db_url, corpus_articles):
    """A database left at schema 1 by an older app is upgraded; its articles stay."""
    old = Store(store_module.make_engine(db_url))
    assert old.migrate(target=1) == 1
    article = with_url(corpus_articles[0], "https://example.org/alt")
    with old.engine.begin() as conn:  # what the schema-1 app wrote
        conn.execute(
            sa.text(
                "INSERT INTO kzgeo_collections (id, name, edit_token_hash, created_at) "
                "VALUES (:id, 'Alt', :hash, :now)"
            ),
            {"id": "A" * 32, "hash": hash_token("B" * 32), "now": dt.datetime.now(dt.UTC)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO kzgeo_articles (collection_id, article_id, title, outlet, author, "
                "date, language, url, text, added_at, content_hash) VALUES (:c, :i, :t, :o, "
                ":a, :d, :l, :u, :x, :now, :h)"
            ),
            {
                "c": "A" * 32, "i": article.id, "t": article.title, "o": article.outlet,
                "a": article.author, "d": article.date, "l": article.language, "u": article.url,
                "x": article.text, "now": dt.datetime.now(dt.UTC), "h": "0" * 40,
            },  # fmt: skip
        )
    old.engine.dispose()
    upgraded = open_store(db_url)
    assert upgraded.schema_version() == SCHEMA_VERSION > 1
    [stored] = upgraded.stored_articles("A" * 32)
    assert stored.places == ()
    assert dataclasses.replace(stored.article, source_file=article.source_file) == article
    assert upgraded.can_edit("A" * 32, "B" * 32)
    assert open_store(db_url).schema_version() == SCHEMA_VERSION  # opening again: no change
    upgraded.engine.dispose()


def test_app_servers_starting_at_once_migrate_an_empty_database_once(db_url):
    """Four processes open the store on an empty database together: all get schema 2."""
    start = threading.Barrier(4)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(open_store(db_url))
        except BaseException as error:  # recorded for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(opened) == 4
    assert {store.schema_version() for store in opened} == {SCHEMA_VERSION}
    assert len(raw_rows(opened[0], store_module.schema_version_table)) == 1
    for store in opened:
        store.engine.dispose()


# --------------------------------------------------------------------------- unavailable
def test_an_unreachable_postgresql_server_gives_one_clear_error():
    url = f"postgresql+psycopg://kzgeo:geheim@127.0.0.1:{free_port()}/kzgeo"
    with pytest.raises(StoreUnavailable, match="cannot be used right now") as caught:
        open_store(url)
    message = str(caught.value)
    assert "127.0.0.1" in message and "geheim" not in message and "***" in message


def test_an_sqlite_file_that_cannot_be_made_gives_the_same_error(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="cannot be made"):
        open_store(f"sqlite:///{blocker / 'data' / 'kzgeo.sqlite3'}")


def test_a_store_whose_database_goes_away_raises_store_unavailable(tmp_path: Path):
    folder = tmp_path / "data"
    opened = open_store(f"sqlite:///{folder / 'kzgeo.sqlite3'}")
    (folder / "kzgeo.sqlite3").unlink()
    folder.rmdir()
    folder.write_text("now a file")  # the database's folder is gone for good
    opened.engine.dispose()
    with pytest.raises(StoreUnavailable, match="cannot be used right now"):
        opened.articles("A" * 32)


def test_a_bad_database_url_gives_store_unavailable():
    with pytest.raises(StoreUnavailable, match="not valid"):
        open_store("not a url at all")
    with pytest.raises(StoreUnavailable, match="cannot be used"):
        open_store("nosuchdialect://x/y")


# --------------------------------------------------------------------------- where and limits
def test_the_database_url_comes_from_env_then_secrets_then_the_data_folder(tmp_path: Path):
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        '[connections.kzgeo]\nurl = "postgresql+psycopg://u:p@db:5432/kz"\n', encoding="utf-8"
    )
    env = {"KZGEO_DATA_DIR": str(tmp_path / "daten")}
    assert database_url(env, (secrets_file,)) == "postgresql+psycopg://u:p@db:5432/kz"
    assert database_url({**env, "KZGEO_DATABASE_URL": "sqlite:///x.db"}, (secrets_file,)) == (
        "sqlite:///x.db"
    )
    default = database_url(env, (tmp_path / "missing.toml",))
    assert default == f"sqlite:///{tmp_path / 'daten' / 'kzgeo.sqlite3'}"
    opened = open_store(default)  # zero configuration: the folder is made
    assert (tmp_path / "daten" / "kzgeo.sqlite3").is_file()
    opened.engine.dispose()
    secrets_file.write_text("[connections.kzgeo\n", encoding="utf-8")
    with pytest.raises(StoreUnavailable, match="cannot be read"):
        database_url(env, (secrets_file,))


def test_the_default_data_folder_is_ignored_by_git_and_not_the_build_folder():
    from kzgeo.config import PROJECT_ROOT, build_dir, data_dir

    assert data_dir({}) == PROJECT_ROOT / "data" != build_dir()
    ignored = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "/data/" in ignored


@pytest.mark.parametrize(
    ("times", "now", "limit", "window", "wait"),
    [
        ([], 0.0, 1, 60.0, 0.0),
        ([0.0], 30.0, 1, 60.0, 30.0),
        ([0.0], 60.0, 1, 60.0, 0.0),
        ([0.0, 50.0, 55.0], 56.0, 3, 60.0, 4.0),
        ([0.0, 50.0, 55.0], 56.0, 4, 60.0, 0.0),
        ([100.0, 0.0, 50.0], 101.0, 2, 60.0, 9.0),  # order does not matter; old ones drop out
    ],
)
def test_the_rate_limit_counts_additions_in_a_sliding_window(times, now, limit, window, wait):
    assert rate_limit(times, now, limit, window) == pytest.approx(wait)


# --------------------------------------------------------------------------- for the app
def test_a_streamlit_sql_connection_engine_serves_as_the_store(db_url, corpus_articles):
    """``st.connection("kzgeo", type="sql")`` (settings from [connections.kzgeo]) works too."""
    from streamlit.connections import SQLConnection

    connection = SQLConnection("kzgeo", url=db_url)
    through_streamlit = store_module.store_from_engine(connection.engine)
    assert through_streamlit.schema_version() == SCHEMA_VERSION
    added = through_streamlit.add_article(corpus_articles[0])
    assert open_store(db_url).articles(added.collection.id) == (added.article,)
    connection.engine.dispose()


def test_viewing_a_collection_never_raises(store, corpus_articles):
    added = store.add_article(corpus_articles[0], name="Sicht")
    view = store_module.view_collection(added.collection.id, lambda: store)
    assert view.notice is None and view.collection.name == "Sicht"
    assert view.articles == (added.article,)
    assert store_module.view_collection("", lambda: store) == (
        store_module.CollectionView(None, (), None)
    )
    unknown = store_module.view_collection("A" * 32, lambda: store)
    assert unknown.articles == () and "no collection" in unknown.notice
    down = f"postgresql+psycopg://kzgeo:geheim@127.0.0.1:{free_port()}/kzgeo"
    unreachable = store_module.view_collection(added.collection.id, lambda: open_store(down))
    assert unreachable.articles == () and "unavailable right now" in unreachable.notice
    assert "geheim" not in unreachable.notice
