"""How fresh the map is: when the corpus or a collection last changed, which articles arrived
when, newest first, and which count as new (for the app to highlight for a while).

An article's arrival time is when ``watch`` added it (its state file, for a corpus folder) or
when it was stored (a collection). Articles of the bundled corpus have none: they are never
"new", whatever the checkout's file times say.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from heapq import merge
from itertools import chain
from pathlib import Path
from typing import Any

NEW_HOURS = 24.0  # an article that arrived this recently is highlighted as new


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def corpus_changed_at(folder: Path) -> dt.datetime | None:
    """Return when the corpus folder last changed (its newest file), in UTC; None if empty."""
    try:
        times = [p.stat().st_mtime for p in Path(folder).iterdir() if p.is_file()]
    except OSError:
        return None
    return _utc(max(times)) if times else None


def corpus_arrivals(folder: Path, env: Mapping[str, str] | None = None) -> dict[str, dt.datetime]:
    """Return {article id: when ``watch`` added it} for a corpus folder ({} when never watched)."""
    from kzgeo.watch import state_path

    path = state_path(f"corpus:{Path(folder).resolve()}", env)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return arrivals_from_state(state)


def arrivals_from_state(state: Mapping[str, Any]) -> dict[str, dt.datetime]:
    """Return {article id: arrival time} of the entries a watch state records as added.

    >>> arrivals_from_state({"done": {"u1": {"result": "user-a-1", "at": 0},
    ...                               "u2": {"result": "skipped", "at": 5}}})
    {'user-a-1': datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)}
    >>> arrivals_from_state({})
    {}
    """
    out = {}
    for row in (state.get("done") or {}).values():
        result, at = row.get("result"), row.get("at")
        if result and result != "skipped" and isinstance(at, int | float):
            out[result] = _utc(at)
    return out


def collection_arrivals(stored: Iterable[Any]) -> dict[str, dt.datetime]:
    """Return {article id: when it was stored} of a collection's ``StoredArticle`` records."""
    return {item.article.id: item.added_at for item in stored}


def changed_at(arrivals: Mapping[str, dt.datetime]) -> dt.datetime | None:
    """Return the latest arrival, or None.

    >>> t = dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC)
    >>> changed_at({"a": t, "b": t - dt.timedelta(hours=1)}) == t, changed_at({})
    (True, None)
    """
    return max(arrivals.values(), default=None)


def is_new(arrived: dt.datetime | None, now: dt.datetime, hours: float = NEW_HOURS) -> bool:
    """Tell whether an article that arrived at ``arrived`` is still new at ``now``.

    >>> now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    >>> is_new(now - dt.timedelta(hours=3), now), is_new(now - dt.timedelta(hours=30), now)
    (True, False)
    >>> is_new(None, now), is_new(now + dt.timedelta(minutes=5), now)
    (False, True)
    """
    if arrived is None:
        return False
    return now - arrived <= dt.timedelta(hours=hours)


def newest_first(
    articles: Sequence[Any], arrivals: Mapping[str, dt.datetime] | None = None
) -> list[Any]:
    """Return ``articles`` newest first: arrived ones by arrival, then the rest by date.

    >>> from types import SimpleNamespace as A
    >>> old, dated = A(id="old", date=None), A(id="dated", date=dt.date(2025, 1, 2))
    >>> arrived = A(id="new", date=dt.date(2020, 1, 1))
    >>> t = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    >>> [a.id for a in newest_first([old, dated, arrived], {"new": t})]
    ['new', 'dated', 'old']
    >>> newest_first([])
    []
    """
    arrivals = arrivals or {}

    def key(article: Any) -> tuple:
        arrived = arrivals.get(article.id)
        return (arrived is not None, arrived.timestamp() if arrived else 0.0, *dated(article))

    return sorted(articles, key=key, reverse=True)


def dated(article: Any) -> tuple[int, str]:
    """Return the key that orders articles by date, then id (undated ones as the oldest)."""
    return (article.date.toordinal() if article.date else 0, article.id)


def newest_first_with(
    newest: Sequence[Any],
    added: Sequence[Any] = (),
    arrivals: Mapping[str, dt.datetime] | None = None,
) -> Iterator[Any]:
    """Return ``newest_first([*newest, *added], arrivals)`` as an iterator, for ``newest``
    already in that order without arrivals (a corpus' articles, sorted once): the arrived and
    the added articles are sorted, the rest is merged in as it comes, so the first page of an
    archive's list costs a page, not a sort of every article.

    >>> from types import SimpleNamespace as A
    >>> corpus = newest_first([A(id=f"c{d}", date=dt.date(2020, 1, d)) for d in (1, 5, 9)])
    >>> added = [A(id="a7", date=dt.date(2020, 1, 7)), A(id="a0", date=None)]
    >>> arrivals = {"c1": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}
    >>> merged = [a.id for a in newest_first_with(corpus, added, arrivals)]
    >>> merged, merged == [a.id for a in newest_first([*corpus, *added], arrivals)]
    (['c1', 'c9', 'a7', 'c5', 'a0'], True)
    """
    arrivals = arrivals or {}
    if not added and not arrivals:
        return iter(newest)
    lookup = getattr(newest, "get", None)  # a table of articles finds arrived ones by id
    if not arrivals:
        arrived = []
    elif lookup is not None:
        arrived = [a for a in (*map(lookup, arrivals), *added) if a and a.id in arrivals]
    else:
        arrived = [a for a in (*newest, *added) if a.id in arrivals]
    early = {a.id for a in arrived}
    later = sorted((a for a in added if a.id not in early), key=dated, reverse=True)
    rest = (a for a in newest if a.id not in early)
    return chain(newest_first(arrived, arrivals), merge(later, rest, key=dated, reverse=True))


def ago(arrived: dt.datetime | None, now: dt.datetime) -> str:
    """Return how long ago ``arrived`` was, in words for a freshness line.

    >>> now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    >>> [ago(now - dt.timedelta(seconds=s), now) for s in (20, 600, 7200, 200000)]
    ['just now', '10 min ago', '2 h ago', '2 days ago']
    >>> ago(None, now)
    'never'
    """
    if arrived is None:
        return "never"
    seconds = max(0.0, (now - arrived).total_seconds())
    for limit, unit, size in ((60, "", 0), (3600, "min", 60), (86400, "h", 3600)):
        if seconds < limit:
            return "just now" if not unit else f"{int(seconds // size)} {unit} ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"
