"""Collections: the articles users add, kept in a database (SQLAlchemy 2).

Where: ``KZGEO_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://…``), else
``url`` under ``[connections.kzgeo]`` in ``.streamlit/secrets.toml`` (Streamlit's convention for
``st.connection``), else an SQLite file ``kzgeo.sqlite3`` in the data folder (``$KZGEO_DATA_DIR``,
default ``data/``: no rebuild or cache clean-up touches it; git ignores it).

What: a collection has an unguessable id (192 bits from ``secrets``: whoever has it can read)
and a separate edit token (stored only as its SHA-256; whoever has it can add, rename and
remove). There is no way to list collections. Each stored article keeps title, outlet, author,
date, language, URL, cleaned text, when it was added, a hash of its words (the same URL or the
same text is not added twice to one collection) and the ids of the places the geoparse found.

How: ``open_store()`` (or ``store_from_engine(st.connection(...).engine)``) returns a ``Store``
whose schema is brought up to ``SCHEMA_VERSION`` by the migrations in ``MIGRATIONS``, each in a
transaction, so upgrading never drops stored articles. Every write is one transaction. Any
failure to reach or use the database raises ``StoreUnavailable`` (one type the app shows as a
notice while the bundled corpus keeps working); what a user did wrong raises
``CollectionError``. Nothing here imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import tomllib
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from kzgeo.config import PROJECT_ROOT, data_dir
from kzgeo.corpus import Article, body_fingerprint

DATABASE_ENV_VAR = "KZGEO_DATABASE_URL"
CONNECTION_NAME = "kzgeo"  # st.connection("kzgeo") / [connections.kzgeo] in secrets.toml
SECRETS_PATHS: tuple[Path, ...] = (
    PROJECT_ROOT / ".streamlit" / "secrets.toml",
    Path("~/.streamlit/secrets.toml"),
)
SQLITE_FILE = "kzgeo.sqlite3"

ID_BYTES = 24  # 192 bits: collection ids and edit tokens (32 URL-safe characters)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")
MAX_ARTICLES_PER_COLLECTION = 200
MAX_NAME_CHARS = 300
CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_S = 30
COLLECTION_SOURCE = "collection:"  # Article.source_file of a stored article starts with this


class StoreUnavailable(Exception):
    """The collections database cannot be reached or used; the message says which and why."""


class CollectionError(ValueError):
    """A collection request cannot be done (unknown id, wrong edit token, full, duplicate)."""


@dataclass(frozen=True)
class Collection:
    """A collection as anyone with its id sees it."""

    id: str
    name: str
    created_at: dt.datetime
    article_count: int


@dataclass(frozen=True)
class StoredArticle:
    """An article of a collection with what the store keeps beside it."""

    article: Article
    collection_id: str
    added_at: dt.datetime
    content_hash: str
    places: tuple[str, ...]


@dataclass(frozen=True)
class Added:
    """The result of an addition: the article, its collection and, for a new one, its token."""

    article: Article
    collection: Collection
    edit_token: str | None  # only when this addition created the collection: show it once
    places: tuple[str, ...] = ()  # the ids of the places the geoparse found in the article


# --------------------------------------------------------------------------- pure helpers
def new_token() -> str:
    """Return a fresh unguessable token (collection id or edit token), URL-safe and never
    starting with "-" (a command line would read ``--collection -x…`` as an option).

    >>> len(new_token()), new_token() == new_token()
    (32, False)
    >>> any(new_token().startswith("-") for _ in range(2000))
    False
    """
    while (token := secrets.token_urlsafe(ID_BYTES)).startswith("-"):
        pass  # one in 64 does: draw again (still 192 random bits, less a sliver)
    return token


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest of ``token`` (what the store keeps of an edit token).

    >>> hash_token("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Tell whether ``token`` hashes to ``stored_hash``, comparing in constant time.

    >>> token_matches("abc", hash_token("abc")), token_matches("abd", hash_token("abc"))
    (True, False)
    >>> token_matches(None, hash_token("abc")), token_matches("", hash_token(""))
    (False, False)
    """
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def is_token(value: object) -> bool:
    """Tell whether ``value`` looks like a collection id or edit token (before any query).

    >>> is_token(new_token()), is_token("../etc"), is_token(""), is_token(None)
    (True, False, False, False)
    """
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None


def content_hash(text: str) -> str:
    """Return the hash that spots the same text again (case, spacing, punctuation ignored).

    >>> content_hash("Aktau wächst.") == content_hash("aktau  WÄCHST")
    True
    """
    return body_fingerprint(text)


def rate_limit(
    times: Sequence[float], now: float, limit: int = 10, window_s: float = 600.0
) -> float:
    """Return how many seconds to wait before one more addition (0.0: go ahead).

    ``times`` are when this session added before (seconds, any clock ``now`` is on); at most
    ``limit`` additions fit in any ``window_s`` seconds.

    >>> rate_limit([], 100.0)
    0.0
    >>> rate_limit([0.0, 10.0], 20.0, limit=2, window_s=60.0)
    40.0
    >>> rate_limit([0.0, 10.0], 70.0, limit=2, window_s=60.0)
    0.0
    """
    recent = sorted(t for t in times if now - window_s < t <= now)
    if len(recent) < limit:
        return 0.0
    return float(recent[len(recent) - limit] + window_s - now)


def clean_name(name: str | None) -> str:
    """Return a collection name on one line, cut to MAX_NAME_CHARS.

    >>> clean_name("  Meine\\n Sammlung "), clean_name(None), len(clean_name("x" * 999))
    ('Meine Sammlung', '', 300)
    """
    return " ".join((name or "").split())[:MAX_NAME_CHARS]


# --------------------------------------------------------------------------- where
def secrets_url(paths: Sequence[Path] = SECRETS_PATHS) -> str | None:
    """Return ``[connections.kzgeo] url`` of the first Streamlit secrets file that has it."""
    for path in paths:
        path = path.expanduser()
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise StoreUnavailable(f"{path} cannot be read: {error}") from error
        url = table.get("connections", {}).get(CONNECTION_NAME, {}).get("url")
        if isinstance(url, str) and url.strip():
            return url.strip()
    return None


def database_url(
    env: Mapping[str, str] | None = None, secrets_paths: Sequence[Path] = SECRETS_PATHS
) -> str:
    """Return the database URL: ``$KZGEO_DATABASE_URL``, else the secrets file, else SQLite.

    >>> database_url({"KZGEO_DATABASE_URL": "sqlite:///x.db"})
    'sqlite:///x.db'
    >>> database_url({"KZGEO_DATA_DIR": "/srv/kz"}, secrets_paths=())
    'sqlite:////srv/kz/kzgeo.sqlite3'
    """
    env = os.environ if env is None else env
    chosen = (env.get(DATABASE_ENV_VAR) or "").strip() or secrets_url(secrets_paths)
    if chosen:
        return chosen
    return f"sqlite:///{data_dir(env) / SQLITE_FILE}"


def shown_url(url: str | sa.URL) -> str:
    """Return ``url`` as it may be shown: the password hidden.

    >>> shown_url("postgresql+psycopg://kz:geheim@db.example:5432/kz")
    'postgresql+psycopg://kz:***@db.example:5432/kz'
    """
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "(an unreadable database URL)"


# --------------------------------------------------------------------------- schema
metadata = sa.MetaData()
schema_version_table = sa.Table(
    "kzgeo_schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)
collections = sa.Table(
    "kzgeo_collections",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_CHARS), nullable=False),
    sa.Column("edit_token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
articles = sa.Table(
    "kzgeo_articles",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "collection_id",
        sa.String(64),
        sa.ForeignKey("kzgeo_collections.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("article_id", sa.String(120), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("date", sa.Date),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("places", sa.Text),  # schema 2: JSON list of the place ids the geoparse found
    sa.UniqueConstraint("collection_id", "content_hash", name="kzgeo_articles_same_text"),
    sa.UniqueConstraint("collection_id", "url", name="kzgeo_articles_same_url"),
    sa.UniqueConstraint("collection_id", "article_id", name="kzgeo_articles_same_id"),
)


def migrate_1(conn: sa.Connection) -> None:
    """Schema 1: collections and their articles (without geoparse results)."""
    frozen = sa.MetaData()  # schema 1 as it was, whatever the tables above become
    sa.Table(
        "kzgeo_collections",
        frozen,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(MAX_NAME_CHARS), nullable=False),
        sa.Column("edit_token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "kzgeo_articles",
        frozen,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "collection_id",
            sa.String(64),
            sa.ForeignKey("kzgeo_collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("article_id", sa.String(120), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("date", sa.Date),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("collection_id", "content_hash", name="kzgeo_articles_same_text"),
        sa.UniqueConstraint("collection_id", "url", name="kzgeo_articles_same_url"),
        sa.UniqueConstraint("collection_id", "article_id", name="kzgeo_articles_same_id"),
    )
    frozen.create_all(conn)


def migrate_2(conn: sa.Connection) -> None:
    """Schema 2: each article keeps the ids of the places its geoparse found (JSON)."""
    conn.execute(sa.text("ALTER TABLE kzgeo_articles ADD COLUMN places TEXT"))


# Each schema version and the step that makes it from the one before (a new version: a row).
MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = (
    (1, migrate_1),
    (2, migrate_2),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


# --------------------------------------------------------------------------- engine
_PREPARED_SQLITE: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions; writers take the lock first.

    A write transaction begins ``IMMEDIATE`` (waiting up to the busy time-out for another
    writer) so two adders never deadlock on upgrading a read lock. Connections the engine
    already pooled are dropped, so every connection from now on is set up so.
    """
    if engine in _PREPARED_SQLITE:
        return
    _PREPARED_SQLITE.add(engine)
    engine.dispose()

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("kzgeo_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _make_sqlite_folder(url: sa.URL) -> None:
    """Create the folder of an SQLite database file (the data folder on first use)."""
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                f"The collections database folder {folder} cannot be made: {error}"
            ) from error


def make_engine(url: str) -> sa.Engine:
    """Return an engine for ``url`` (an SQLite file's folder is created); nothing connects yet."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError as error:
        raise StoreUnavailable(f"The database URL is not valid ({error}).") from error
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _make_sqlite_folder(parsed)
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    except (sa_exc.ArgumentError, ImportError) as error:
        raise StoreUnavailable(
            f"The database {shown_url(url)} cannot be used ({error})."
        ) from error
    if parsed.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    return engine


# --------------------------------------------------------------------------- store
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """Return ``value`` with its time zone (SQLite gives naive UTC back)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Store:
    """The collections database: every method is one transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.where = shown_url(engine.url)

    # -- plumbing
    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a database failure into StoreUnavailable (what the app shows as a notice)."""
        try:
            yield
        except sa_exc.IntegrityError:
            raise
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DatabaseError) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise StoreUnavailable(
                f"The collections database ({self.where}) cannot be used right now: {reason}"
            ) from error
        except sa_exc.SQLAlchemyError as error:
            raise StoreUnavailable(
                f"The collections database ({self.where}) failed: {error}"
            ) from error

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._guard(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with (
            self._guard(),
            self.engine.connect().execution_options(kzgeo_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    # -- schema
    def schema_version(self) -> int:
        """Return the schema version the database is at (0: empty database)."""
        with self._read() as conn:
            return _read_version(conn)

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Bring the schema up to ``target``, one transaction per step; return the version."""
        version = self.schema_version()
        for number, step in MIGRATIONS:
            if version < number <= target:
                with self._write() as conn:
                    if _lock_version(conn) >= number:  # another process did this step
                        continue
                    step(conn)
                    conn.execute(sa.delete(schema_version_table))
                    conn.execute(sa.insert(schema_version_table).values(version=number))
                version = number
        return self.schema_version()

    # -- collections
    def create_collection(self, name: str = "") -> tuple[Collection, str]:
        """Create an empty collection; return it and its edit token (shown once, kept hashed)."""
        with self._write() as conn:
            return _insert_collection(conn, name)

    def collection(self, collection_id: str) -> Collection:
        """Return the collection with this id; raise CollectionError if there is none."""
        with self._read() as conn:
            return _collection(conn, collection_id)

    def can_edit(self, collection_id: str, edit_token: str | None) -> bool:
        """Tell whether ``edit_token`` is this collection's edit token."""
        if not is_token(collection_id):
            return False
        with self._read() as conn:
            stored = conn.execute(
                sa.select(collections.c.edit_token_hash).where(collections.c.id == collection_id)
            ).scalar_one_or_none()
        return stored is not None and token_matches(edit_token, stored)

    def rename(self, collection_id: str, edit_token: str | None, name: str) -> Collection:
        """Rename the collection (edit token needed); return it."""
        with self._write() as conn:
            _check_edit(conn, collection_id, edit_token)
            conn.execute(
                sa.update(collections)
                .where(collections.c.id == collection_id)
                .values(name=clean_name(name))
            )
            return _collection(conn, collection_id)

    def remove_article(self, collection_id: str, edit_token: str | None, article_id: str) -> None:
        """Remove one article from the collection (edit token needed)."""
        with self._write() as conn:
            _check_edit(conn, collection_id, edit_token)
            gone = conn.execute(
                sa.delete(articles).where(
                    articles.c.collection_id == collection_id,
                    articles.c.article_id == article_id,
                )
            ).rowcount
            if not gone:
                raise CollectionError(f"The collection has no article '{article_id}'.")

    # -- articles
    def add_article(
        self,
        article: Article,
        collection_id: str | None = None,
        edit_token: str | None = None,
        *,
        places: Sequence[str] = (),
        name: str = "",
        check_token: bool = True,
    ) -> Added:
        """Store ``article`` in a collection, all in one transaction; return what was added.

        ``collection_id`` None creates a collection (named ``name``) and returns its edit token
        in ``Added.edit_token``. Adding to an existing collection needs its edit token unless
        ``check_token`` is False (the command line: whoever runs it has the database anyway).
        Raises CollectionError when the collection is unknown or full, the token is wrong, or
        the collection already holds the same URL or the same text.
        """
        digest = content_hash(article.text)
        with self._write() as conn:
            token = None
            if collection_id is None:
                collection, token = _insert_collection(conn, name)
                collection_id = collection.id
            elif check_token:
                _check_edit(conn, collection_id, edit_token)
            else:
                _lock_collection(conn, collection_id)
            _check_room(conn, collection_id, article, digest)
            added_at = _now()
            try:
                with conn.begin_nested():
                    conn.execute(
                        sa.insert(articles).values(
                            collection_id=collection_id,
                            article_id=article.id,
                            title=article.title,
                            outlet=article.outlet,
                            author=article.author,
                            date=article.date,
                            language=article.language,
                            url=article.url,
                            text=article.text,
                            added_at=added_at,
                            content_hash=digest,
                            places=json.dumps(list(places)),
                        )
                    )
            except sa_exc.IntegrityError as error:
                reason = str(error.orig or error).strip().splitlines()[0]
                raise CollectionError(f"The article cannot be stored: {reason}") from error
            stored = _as_article(
                {**_article_row(article), "collection_id": collection_id}
            )
            return Added(stored, _collection(conn, collection_id), token, tuple(places or ()))

    def stored_articles(self, collection_id: str) -> tuple[StoredArticle, ...]:
        """Return the collection's articles in the order they were added, with their extras."""
        with self._read() as conn:
            _collection(conn, collection_id)
            rows = conn.execute(
                sa.select(articles)
                .where(articles.c.collection_id == collection_id)
                .order_by(articles.c.added_at, articles.c.pk)
            ).mappings()
            return tuple(
                StoredArticle(
                    article=_as_article(row),
                    collection_id=collection_id,
                    added_at=_aware(row["added_at"]),
                    content_hash=row["content_hash"],
                    places=tuple(json.loads(row["places"] or "[]")),
                )
                for row in rows
            )

    def articles(self, collection_id: str) -> tuple[Article, ...]:
        """Return the collection's articles as the corpus loader gives articles."""
        return tuple(stored.article for stored in self.stored_articles(collection_id))


def _read_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table(schema_version_table.name):
        return 0
    return conn.execute(sa.select(sa.func.max(schema_version_table.c.version))).scalar() or 0


def _lock_version(conn: sa.Connection) -> int:
    """Return the schema version, holding the migration lock until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(4815162342)"))
    schema_version_table.create(conn, checkfirst=True)
    return _read_version(conn)


def _insert_collection(conn: sa.Connection, name: str | None) -> tuple[Collection, str]:
    collection_id, token = new_token(), new_token()
    created = _now()
    conn.execute(
        sa.insert(collections).values(
            id=collection_id,
            name=clean_name(name),
            edit_token_hash=hash_token(token),
            created_at=created,
        )
    )
    return Collection(collection_id, clean_name(name), created, 0), token


def _collection(conn: sa.Connection, collection_id: str) -> Collection:
    row = None
    if is_token(collection_id):
        count = (
            sa.select(sa.func.count())
            .where(articles.c.collection_id == collections.c.id)
            .scalar_subquery()
        )
        row = conn.execute(
            sa.select(collections.c.id, collections.c.name, collections.c.created_at, count)
            .where(collections.c.id == collection_id)
        ).first()
    if row is None:
        raise CollectionError("There is no collection with this id: check the link.")
    return Collection(row[0], row[1], _aware(row[2]), row[3])


def _lock_collection(conn: sa.Connection, collection_id: str) -> str:
    """Return the collection's edit-token hash, its row locked until the transaction ends.

    PostgreSQL locks the row (concurrent adders to one collection wait for each other, so the
    article limit holds); SQLite's write transactions are serial already.
    """
    stored = None
    if is_token(collection_id):
        stored = conn.execute(
            sa.select(collections.c.edit_token_hash)
            .where(collections.c.id == collection_id)
            .with_for_update()
        ).scalar_one_or_none()
    if stored is None:
        raise CollectionError("There is no collection with this id: check the link.")
    return stored


def _check_edit(conn: sa.Connection, collection_id: str, edit_token: str | None) -> None:
    """Raise CollectionError unless ``edit_token`` is the collection's (its row locked)."""
    stored = _lock_collection(conn, collection_id)
    if not token_matches(edit_token, stored):
        raise CollectionError("This link does not allow changes: the edit link is needed.")


def _check_room(conn: sa.Connection, collection_id: str, article: Article, digest: str) -> None:
    """Raise CollectionError when the collection is full or already holds this article."""
    held = conn.execute(
        sa.select(sa.func.count()).where(articles.c.collection_id == collection_id)
    ).scalar_one()
    if held >= MAX_ARTICLES_PER_COLLECTION:
        raise CollectionError(
            f"The collection is full ({MAX_ARTICLES_PER_COLLECTION} articles): "
            "remove one or start a new collection."
        )
    same = sa.or_(articles.c.content_hash == digest, articles.c.article_id == article.id)
    if article.url:
        same = sa.or_(same, articles.c.url == article.url)
    other = conn.execute(
        sa.select(articles.c.title, articles.c.url)
        .where(articles.c.collection_id == collection_id, same)
        .limit(1)
    ).first()
    if other is not None:
        what = "address" if article.url and other.url == article.url else "text"
        raise CollectionError(
            f"The collection already holds this article (same {what}): '{other.title}'."
        )


def _article_row(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "title": article.title,
        "outlet": article.outlet,
        "author": article.author,
        "date": article.date,
        "language": article.language,
        "url": article.url,
        "text": article.text,
    }


def _as_article(row: Mapping[str, Any]) -> Article:
    """Return a stored row as an Article; its ``source_file`` says which collection holds it."""
    return Article(
        id=row["article_id"],
        title=row["title"],
        outlet=row["outlet"],
        author=row["author"],
        date=row["date"],
        language=row["language"],
        source_file=f"{COLLECTION_SOURCE}{row['collection_id']}",
        text=row["text"],
        url=row["url"],
    )


def is_collection_article(article: Article) -> bool:
    """Tell whether ``article`` came from a collection (not the bundled corpus)."""
    return article.source_file.startswith(COLLECTION_SOURCE)


def store_from_engine(engine: sa.Engine, migrate: bool = True) -> Store:
    """Return a Store on an existing engine (e.g. ``st.connection("kzgeo", type="sql").engine``).

    An SQLite engine gets the store's transaction set-up (``_sqlite_transactions``) first.
    """
    if engine.dialect.name == "sqlite":
        _make_sqlite_folder(engine.url)
        _sqlite_transactions(engine)
    store = Store(engine)
    if migrate:
        store.migrate()
    return store


def open_store(url: str | None = None) -> Store:
    """Return the Store at ``url`` (default: ``database_url()``), its schema brought up to date.

    Raises StoreUnavailable when the database cannot be reached or its schema cannot be made.
    """
    return store_from_engine(make_engine(url or database_url()))


def app_store(configured_engine: Callable[[], sa.Engine | None]) -> Store:
    """Return the app's store: $KZGEO_DATABASE_URL, else the engine the app's secrets configure
    (``configured_engine``, e.g. ``st.connection("kzgeo")``), else SQLite in the data folder."""
    engine = None if os.environ.get(DATABASE_ENV_VAR) else configured_engine()
    return store_from_engine(engine) if engine is not None else open_store()


@dataclass(frozen=True)
class CollectionView:
    """What a ``?collection=`` link shows: the collection and its articles, or a notice why not."""

    collection: Collection | None
    articles: tuple[Article, ...]
    notice: str | None  # for the app to show; the bundled corpus keeps working either way


def view_collection(
    collection_id: str | None, opener: Callable[[], Store] = open_store
) -> CollectionView:
    """Return the collection ``collection_id`` for the map; never raises for a bad id or database.

    ``opener`` returns the Store (the app passes its cached one). An empty id gives an empty
    view without a notice; an unknown id or an unreachable database gives a notice.
    """
    if not collection_id:
        return CollectionView(None, (), None)
    try:
        store = opener()
        return CollectionView(
            store.collection(collection_id), store.articles(collection_id), None
        )
    except CollectionError as error:
        return CollectionView(None, (), f"Collection not shown: {error}")
    except StoreUnavailable as error:
        return CollectionView(
            None, (), f"Collections are unavailable right now ({error}); the bundled corpus "
            "is shown."
        )
