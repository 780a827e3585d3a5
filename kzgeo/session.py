"""The page's view in the session: set from the link on a session's first run, read back as a
``ViewState``, changed by a click, a search or a cleared filter.

The app passes ``st.session_state``; here it is a plain mutable mapping of widget keys
(``dashboard.widget_values``) plus ``place`` (the selection), ``clicks`` (the map's click count
last taken), ``notices`` (what the link had wrong), ``dates_bounds`` (the first and last article
date of this run: what clearing the date filter restores) and ``collection``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any

from kzgeo import dashboard
from kzgeo.dashboard import ALL, Catalogue, ViewState
from kzgeo.themes import THEME_IDS

Session = MutableMapping[str, Any]
Dates = tuple[dt.date, dt.date]
FIRST_RUN_DONE = "initialised"


def is_first_run(session: Session) -> bool:
    """Tell whether the session has not yet taken its link."""
    return FIRST_RUN_DONE not in session


def start(session: Session, params: Mapping[str, Any], catalogue: Catalogue, dates: Dates) -> None:
    """Keep this run's date bounds; on a session's first run, set the widgets from the link it
    was opened with.

    >>> empty = Catalogue(frozenset(), frozenset(), frozenset())
    >>> s = {}; start(s, {"place": "nowhere"}, empty, (dt.date(2024, 1, 1),) * 2)
    >>> s["place"], len(s["notices"]), is_first_run(s)
    (None, 1, False)
    >>> s["dates"] = None; clear_filter(s, "dates"); s["dates"]
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 1))
    """
    session["dates_bounds"] = dates
    if not is_first_run(session):
        return
    state, notices = dashboard.parse_query(params, catalogue)
    session.update(dashboard.widget_values(state, dates))
    session.update({FIRST_RUN_DONE: True, "notices": notices, "clicks": 0})


def view_state(session: Session, dates: Dates) -> ViewState:
    """Return the view the widgets hold, with the session's collection."""
    return replace(dashboard.state_from_widgets(session, dates), collection=session["collection"])


def select(session: Session, feature_id: str | None) -> None:
    """Select a feature (None clears the selection)."""
    session["place"] = feature_id


def take_search(session: Session) -> None:
    """Select what the search found; clearing the search keeps the selection.

    >>> s = {"search": None, "place": "baku"}; take_search(s); s["place"]
    'baku'
    """
    select(session, session.get("search") or session.get("place"))


def take_click(session: Session, count: int | None, feature_id: str | None) -> None:
    """Select what the map reports clicked or tapped; a repeated click on the same feature
    counts too (its ``count`` changes), an old report does not.

    >>> s = {"clicks": 0}; take_click(s, 1, "moscow"); take_click(s, 1, "aktau"); s["place"]
    'moscow'
    """
    if feature_id and count != session.get("clicks"):
        session["clicks"] = count
        select(session, feature_id)


CLEAR_LABELS = {  # the filters whose clearing can bring places back, and their buttons
    "themes": "Switch every theme on",
    "article": "Clear the article filter",
    "outlet": "Clear the outlet filter",
    "dates": "Clear the dates filter",
}


def clear_filter(session: Session, name: str) -> None:
    """Clear one filter (``themes``: switch every theme on; ``dates``: this run's bounds)."""
    defaults = {"themes": list(THEME_IDS), "article": ALL, "outlet": ALL,
                "dates": session["dates_bounds"]}  # fmt: skip
    session[name] = defaults[name]
