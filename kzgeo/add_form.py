"""The "Add an article" form: what its buttons do, over the session's values as a plain mapping.

The app passes ``st.session_state`` (a mutable mapping); the fields are ``add_*`` keys, the
session's collection is ``collection`` and its edit token ``edit_token``. Each action records
its outcome in ``add_error`` or ``add_done`` for the form to show, and never raises for bad
input, a refused page or an unreachable database.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from kzgeo.dashboard import read_upload
from kzgeo.ingest import LANGUAGES, IngestError, add_to_collection, fetch_article, guess_metadata
from kzgeo.store import CollectionError, Store, StoreUnavailable, is_token, rate_limit

Session = MutableMapping[str, Any]

DEFAULTS: dict[str, Any] = {
    "add_error": None, "add_done": None, "add_language": LANGUAGES[0], "add_url": "",
    "add_times": [], "edit_token": None, "collection": None,
}  # fmt: skip
FIELDS = ("add_text", "add_title", "add_outlet", "add_author", "add_date", "add_url")
METADATA_FIELDS = ("title", "outlet", "author", "date", "language")
REDRAW = "add_redraw"  # set when the map must be redrawn (an article added, renamed or removed)
LINK_KEYS = {"collection": "collection", "edit": "edit_token"}  # URL parameter -> session key
USER_ERRORS = (IngestError, CollectionError, StoreUnavailable)


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


def add(session: Session, store: Store, gazetteer: Any, now: float) -> bool:
    """Geoparse and store the form's article in the session's collection (a view link only:
    in a new one); return whether it was added (then the fields are emptied)."""
    session["add_error"] = session["add_done"] = None
    wait = rate_limit(session["add_times"], now)
    if wait:
        session["add_error"] = f"Too many additions from this session; try again in {wait:.0f} s."
        return False
    token = session["edit_token"] if session["collection"] else None
    field = lambda name: session.get(name) or None  # noqa: E731 - an empty field is no value
    try:
        added = add_to_collection(
            store, session.get("add_text") or "", session.get("add_title") or "",
            session.get("add_outlet") or "", field("add_date"), gazetteer,
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


def edit(session: Session, change: Callable[[str, str], Any]) -> None:
    """Apply ``change(collection_id, edit_token)`` (a rename or a removal; edit link only),
    recording a refusal in ``add_error``."""
    try:
        change(session["collection"], session["edit_token"])
    except USER_ERRORS as error:
        session["add_error"] = str(error)
    session[REDRAW] = True


def can_edit(session: Session, has_collection: bool) -> bool:
    """Tell whether the session holds the edit link of the collection it shows."""
    return has_collection and bool(session.get("edit_token"))
