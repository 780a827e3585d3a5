"""The "Add an article" form: its fields and what its buttons do, over the session's values.

The app passes ``st.session_state`` (a mutable mapping); the fields are ``add_*`` keys, the
session's collection is ``collection`` and its edit token ``edit_token``. Each action records
its outcome in ``add_error`` or ``add_done`` for the form to show, and never raises for bad
input, a refused page or an unreachable database. Actions take ``open_store``, a function that
returns the store (the app's cached one): a page that only views opens no database.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from kzgeo.dashboard import read_upload
from kzgeo.ingest import LANGUAGES, IngestError, add_to_collection, fetch_article, guess_metadata
from kzgeo.parallel import keep_for_good
from kzgeo.store import CollectionError, Store, StoreUnavailable, is_token, rate_limit

Session = MutableMapping[str, Any]

DEFAULTS: dict[str, Any] = {
    "add_error": None, "add_done": None, "add_language": LANGUAGES[0], "add_url": "",
    "add_times": [], "edit_token": None, "collection": None,
}  # fmt: skip
FIELDS = ("add_text", "add_title", "add_outlet", "add_author", "add_date", "add_url")
METADATA_FIELDS = ("title", "outlet", "author", "date", "language")
TEXT_FIELDS = (  # the article's details: label, session key, placeholder
    ("Title", "add_title", None),
    ("Outlet (newspaper or site)", "add_outlet", None),
    ("Author", "add_author", None),
    ("Date (YYYY-MM-DD)", "add_date", "2025-03-14"),
)
LANGUAGE_NAMES = {"de": "German", "en": "English"}  # the form's choices: ingest's LANGUAGES
INTRO = (
    "Give a web address, a file or the text of a German or English article. Its places appear "
    "on the map and are kept in a collection that anyone with its link sees."
)
VIEW_LINK_NOTE = "This is a view link: adding starts a collection of your own."
REDRAW = "add_redraw"  # set when the map must be redrawn (an article added, renamed or removed)
LINK_KEYS = {"collection": "collection", "edit": "edit_token"}  # URL parameter -> session key
USER_ERRORS = (IngestError, CollectionError, StoreUnavailable)


@functools.lru_cache(maxsize=1)
def shared_gazetteer() -> Any:
    """Return the gazetteer that geoparses added articles, loaded on first use and shared by
    the process's sessions (kept out of the cycle collector's reach: ``keep_for_good``)."""
    from kzgeo.gazetteer import load_gazetteer  # not at import: a page that adds nothing

    gazetteer = load_gazetteer()
    keep_for_good()
    return gazetteer


def start(session: Session, params: dict[str, Any], first_run: bool) -> None:
    """Give the form its defaults; on a session's first run take the collection (and an edit
    token) that the link names.

    >>> s = {}; start(s, {"collection": ["x" * 32], "edit": "../etc"}, True)
    >>> s["collection"] == "x" * 32, s["edit_token"], s["add_language"]
    (True, None, 'de')
    """
    for key, value in DEFAULTS.items():
        session.setdefault(key, value)
    if not first_run:
        return
    for param, key in LINK_KEYS.items():
        value = params.get(param)
        value = value[0] if isinstance(value, list | tuple) and value else value
        if is_token(value):
            session[key] = value


def fill(session: Session, source: str) -> None:
    """Prefill the form from the web address (``"url"``), the uploaded file (``"upload"``) or
    the pasted text (``"text"``: only fields the user left empty)."""
    session["add_error"], meta = None, {}
    try:
        if source == "url" and session.get("add_url", "").strip():
            fetched = fetch_article(session["add_url"].strip())
            session["add_text"], session["add_url"] = fetched.text, fetched.url
            meta = fetched.metadata
        elif source == "upload" and session.get("add_file") is not None:
            upload = session["add_file"]
            session["add_text"], meta = read_upload(upload.getvalue(), upload.name)
        elif source == "text" and (session.get("add_text") or "").strip():
            meta = guess_metadata(session["add_text"])
    except IngestError as error:
        session["add_error"] = str(error)
    for field in METADATA_FIELDS:
        value = meta.get(field)
        if value and (source != "text" or not session.get(f"add_{field}")):
            session[f"add_{field}"] = value.isoformat() if hasattr(value, "isoformat") else value


def add(session: Session, open_store: Callable[[], Store], load_gazetteer: Callable[[], Any],
        now: float | None = None) -> bool:  # fmt: skip
    """Geoparse and store the form's article in the session's collection (a view link only:
    in a new one); return whether it was added (then the fields are emptied). The gazetteer
    is loaded only for an addition the rate limit lets through."""
    session["add_error"] = session["add_done"] = None
    now = time.time() if now is None else now
    wait = rate_limit(session["add_times"], now)
    if wait:
        session["add_error"] = f"Too many additions from this session; try again in {wait:.0f} s."
        return False
    token = session["edit_token"] if session["collection"] else None
    field = lambda name: session.get(name) or None  # noqa: E731 - an empty field is no value
    try:
        added = add_to_collection(
            open_store(), session.get("add_text") or "", session.get("add_title") or "",
            session.get("add_outlet") or "", field("add_date"), load_gazetteer(),
            author=field("add_author"), language=session.get("add_language"),
            url=(session.get("add_url") or "").strip() or None,
            collection_id=session["collection"] if token else None, edit_token=token,
        )  # fmt: skip
    except USER_ERRORS as error:
        session["add_error"] = str(error)
        return False
    session["add_times"] = [*session["add_times"], now]
    session["collection"] = added.collection.id
    session["edit_token"] = added.edit_token or token
    found = (f"{len(added.places)} place(s) on the map (magenta markers)" if added.places
             else "no places found in the text")  # fmt: skip
    session["add_done"] = (f"“{added.article.title}”: {found}; kept in your collection, whose "
                           "links are under “Share this view”.")  # fmt: skip
    for key in FIELDS:
        session[key] = ""
    session[REDRAW] = True
    return True


def rename(session: Session, open_store: Callable[[], Store]) -> None:
    """Rename the session's collection to the form's ``add_name`` (edit link only)."""
    collection, token, name = session["collection"], session["edit_token"], session.get("add_name")
    _edit(session, lambda: open_store().rename(collection, token, name or ""))


def remove(session: Session, open_store: Callable[[], Store], article_id: str) -> None:
    """Remove an article from the session's collection (edit link only)."""
    collection, token = session["collection"], session["edit_token"]
    _edit(session, lambda: open_store().remove_article(collection, token, article_id))


def _edit(session: Session, change: Callable[[], Any]) -> None:
    """Apply a rename or a removal, recording a refusal in ``add_error``; redraw the map."""
    try:
        change()
    except USER_ERRORS as error:
        session["add_error"] = str(error)
    session[REDRAW] = True


def can_edit(session: Session, has_collection: bool) -> bool:
    """Tell whether the session holds the edit link of the collection it shows."""
    return has_collection and bool(session.get("edit_token"))


def intro(can_edit: bool, has_collection: bool) -> str:
    """Return the form's caption; a view link's says that adding starts a new collection.

    >>> intro(False, True).endswith(VIEW_LINK_NOTE), intro(True, True) == intro(False, False)
    (True, True)
    """
    return INTRO if can_edit or not has_collection else f"{INTRO} {VIEW_LINK_NOTE}"
