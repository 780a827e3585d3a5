"""The dashboard's logic without Streamlit: view state <-> URL, filters, search, the quote panel.

``app.py`` reads the URL into a ViewState (``parse_query``), filters the index with it
(``filter_features``), and writes the state back (``to_query``) so a copied link reopens the view.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from kzgeo.dates import parse_iso
from kzgeo.quotestore import QuoteFilter
from kzgeo.store import is_token
from kzgeo.themes import THEME_IDS, THEMES

MAX_PARAM_CHARS = 200  # longer URL values are ignored with a notice
MAX_NOTICE_CHARS = 40  # a URL value is cut to this many characters in a notice
MAX_NOTICE_ITEMS = 5  # a notice lists this many unknown keys or themes, then counts the rest
# Layers drawn whatever the filters say (the base map).
ALL = ""  # the "no filter" choice of a select box
THEME_LABELS = {theme.id: theme.label for theme in THEMES}
BASE_LAYERS = frozenset({"countries"})
OTHER = ("other",)  # the theme of a quote without a theme word
PLACES = "places"  # the layer of resolved places: the theme filter narrows their quotes


@dataclass(frozen=True)
class ViewState:
    """What the user is looking at: selection, filters and map view."""

    place: str | None = None
    themes: tuple[str, ...] = THEME_IDS
    article: str | None = None
    outlet: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None
    collection: str | None = None  # a collection of added articles shown beside the corpus


@dataclass(frozen=True)
class Catalogue:
    """What valid URL values are: the ids, articles and outlets of the loaded index."""

    feature_ids: frozenset[str]
    article_ids: frozenset[str]
    outlets: frozenset[str]
    article_ids_by_outlet: Mapping[str, frozenset[str]] = field(default_factory=dict)
    dates: tuple[dt.date, dt.date] | None = None  # first and last article date, if any


def first_value(value: str | Sequence[str] | None) -> str | None:
    """Return one value of a URL parameter (the first of repeated keys), stripped.

    >>> first_value(["a", "b"]), first_value(" x "), first_value(None), first_value([])
    ('a', 'x', None, None)
    """
    if value is None:
        return None
    if not isinstance(value, str):
        value = value[0] if len(value) else None
    return value.strip() if value is not None else None


def parse_float(text: str, low: float, high: float) -> float | None:
    """Return ``text`` as a float within [low, high], else None.

    >>> parse_float("48.5", -90, 90), parse_float("nan", -90, 90), parse_float("x", 0, 1)
    (48.5, None, None)
    """
    try:
        number = float(text)
    except ValueError:
        return None
    return number if low <= number <= high else None


def parse_query(
    params: Mapping[str, str | Sequence[str]], catalogue: Catalogue
) -> tuple[ViewState, list[str]]:
    """Return the view state a URL asks for, and a notice for each value that was ignored.

    Notices are Markdown (the app shows them with ``st.info``): every value taken from the URL
    is cut to MAX_NOTICE_CHARS, its control characters made visible and its Markdown escaped,
    so it shows as typed and never as a link, an image or formatting.
    An empty ``themes`` means every theme off (what ``to_query`` writes for that view).
    """
    notices: list[str] = []
    values: dict[str, str] = {}
    unknown: list[str] = []
    for key, raw in params.items():
        value = first_value(raw)
        if key not in QUERY_KEYS:
            unknown.append(key)
        elif value is None or (value == "" and key != "themes"):
            continue
        elif len(value) > MAX_PARAM_CHARS:
            notices.append(
                f"Link parameter '{key}' is too long ({len(value):,} characters, at most "
                f"{MAX_PARAM_CHARS}) and was ignored."
            )
        else:
            if not isinstance(raw, str) and len(raw) > 1:
                notices.append(
                    f"Link parameter '{key}' was given more than once; the first is used."
                )
            values[key] = value
    if unknown:
        notices.append(
            f"Unknown link parameter {listed(unknown)} ignored."
            if len(unknown) == 1
            else f"Unknown link parameters ignored: {listed(unknown)}."
        )
    state = ViewState()
    if "collection" in values:
        if is_token(values["collection"]):
            state = replace(state, collection=values["collection"])
        else:
            notices.append(f"Collection id {shown(values['collection'])} is malformed; ignored.")
    if "place" in values:
        if values["place"] in catalogue.feature_ids:
            state = replace(state, place=values["place"])
        else:
            notices.append(f"No place with id {shown(values['place'])}; nothing selected.")
    if "themes" in values:
        asked = [t.strip() for t in values["themes"].split(",") if t.strip()]
        unknown_themes = list(dict.fromkeys(t for t in asked if t not in THEME_IDS))
        known = tuple(t for t in THEME_IDS if t in asked)
        if unknown_themes:
            notices.append(
                f"Unknown theme(s) ignored: {listed(unknown_themes, quote=False)}."
                + ("" if known else " The default themes stay on.")
            )
        if known or not unknown_themes:  # only unknown ids: the default themes stay on
            state = replace(state, themes=known)
    if "article" in values:
        if values["article"] in catalogue.article_ids:
            state = replace(state, article=values["article"])
        else:
            notices.append(f"No article with id {shown(values['article'])}; showing all.")
    if "outlet" in values:
        if values["outlet"] in catalogue.outlets:
            state = replace(state, outlet=values["outlet"])
        else:
            notices.append(f"No outlet {shown(values['outlet'])}; showing all.")
    date_from, date_to, date_notices = parse_dates(values, catalogue.dates)
    notices += date_notices
    state = replace(state, date_from=date_from, date_to=date_to)
    view = {key: parse_float(values.get(key, ""), *bounds) for key, bounds in VIEW_RANGES.items()}
    if any(key in values for key in view):
        if None in view.values():
            notices.append("Map view (lat, lon, zoom) is incomplete or out of range; ignored.")
        else:
            state = replace(state, lat=view["lat"], lon=view["lon"], zoom=int(view["zoom"]))
    return state, notices


def parse_dates(
    values: Mapping[str, str], bounds: tuple[dt.date, dt.date] | None
) -> tuple[dt.date | None, dt.date | None, list[str]]:
    """Return the ``from`` and ``to`` dates of the URL values and a notice per ignored one.

    A range that would hide every article is ignored with a notice: ``from`` after ``to``
    and, with ``bounds`` (the first and last article date), ``from`` after the last or ``to``
    before the first. Dates that only reach past the articles are kept as they are.

    >>> bounds = (dt.date(2022, 1, 10), dt.date(2025, 11, 16))
    >>> parse_dates({"from": "2020-01-01", "to": "2024-12-31"}, bounds)
    (datetime.date(2020, 1, 1), datetime.date(2024, 12, 31), [])
    >>> parse_dates({"from": "2025-01-01", "to": "2022-01-01"}, bounds)[2]
    ["Link parameter 'from' (2025-01-01) is after 'to' (2022-01-01); both ignored."]
    >>> parse_dates({"from": "2099-01-01"}, bounds)[2]
    ["Link parameter 'from' (2099-01-01) is after the newest article (2025-11-16); ignored."]
    >>> parse_dates({}, None)
    (None, None, [])
    """
    notices: list[str] = []
    dates: dict[str, dt.date] = {}
    for key in ("from", "to"):
        if key in values:
            date = parse_iso(values[key])
            if date is None:
                notices.append(f"Link parameter '{key}' is not a date (YYYY-MM-DD); ignored.")
            else:
                dates[key] = date
    date_from, date_to = dates.get("from"), dates.get("to")
    if date_from and date_to and date_from > date_to:
        notices.append(
            f"Link parameter 'from' ({date_from}) is after 'to' ({date_to}); both ignored."
        )
        return None, None, notices
    first, last = bounds or (None, None)
    if date_from and last and date_from > last:
        notices.append(
            f"Link parameter 'from' ({date_from}) is after the newest article ({last}); ignored."
        )
        date_from = None
    if date_to and first and date_to < first:
        notices.append(
            f"Link parameter 'to' ({date_to}) is before the oldest article ({first}); ignored."
        )
        date_to = None
    return date_from, date_to, notices


# The map view a link may carry, and the values each part may take (the map reads the same).
VIEW_RANGES: dict[str, tuple[int, int]] = {"lat": (-90, 90), "lon": (-180, 180), "zoom": (1, 18)}
QUERY_KEYS = frozenset(
    {"place", "themes", "article", "outlet", "from", "to", "lat", "lon", "zoom", "collection",
     "edit"}  # edit: a collection's edit token, which the app takes out of the address bar
)


def clip(text: str, limit: int = MAX_NOTICE_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters for a notice.

    >>> clip("x" * 50, 5)
    'xxxxx…'
    """
    return text if len(text) <= limit else text[:limit] + "…"


# Characters that can start Markdown syntax in a notice: links and images ([ ] !), emphasis,
# code, strike-through, math ($), colour and icon directives (:), tables, entities (&). Raw
# HTML is shown as text by Streamlit's Markdown.
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]#+-!|~$:&")
# Bare web and mail addresses become links after escapes are resolved (GFM auto-links), so a
# word joiner (U+2060, invisible) goes where they would start to match.
AUTOLINK_STARTS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def clamp_dates(
    date_from: dt.date | None, date_to: dt.date | None, bounds: tuple[dt.date, dt.date]
) -> tuple[dt.date, dt.date]:
    """Return a link's date range inside ``bounds`` (the articles' first and last day).

    >>> d = dt.date
    >>> clamp_dates(d(1900, 1, 1), None, (d(2020, 1, 1), d(2024, 1, 1)))
    (datetime.date(2020, 1, 1), datetime.date(2024, 1, 1))
    >>> clamp_dates(d(2021, 5, 1), d(2099, 1, 1), (d(2020, 1, 1), d(2024, 1, 1)))
    (datetime.date(2021, 5, 1), datetime.date(2024, 1, 1))
    """
    low, high = bounds
    start = min(max(date_from or low, low), high)
    return start, max(min(date_to or high, high), start)


def escape_markdown(text: str) -> str:
    r"""Return ``text`` that Markdown shows as it is: no link, image, formatting or auto-link.

    >>> escape_markdown("![x](http://evil.example/t.png) **fett** $x$")
    '\\!\\[x\\](http\\:\u2060//evil.example/t.png) \\*\\*fett\\*\\* \\$x\\$'
    >>> escape_markdown("<script>alert(1)</script>"), escape_markdown("")
    ('<script>alert(1)</script>', '')
    """
    unlinked = AUTOLINK_STARTS.sub(WORD_JOINER, text)
    return "".join("\\" + char if char in MARKDOWN_SPECIALS else char for char in unlinked)


def visible(text: str) -> str:
    r"""Return ``text`` with control and direction characters written as escapes.

    >>> visible("a\nb\u202ec")
    'a\\nb\\u202ec'
    """
    return "".join(
        repr(char)[1:-1] if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char
        for char in text
    )


def shown(value: str) -> str:
    r"""Return a URL value quoted for a notice: clipped, made visible, Markdown escaped.

    >>> shown("atlantis"), shown("[k](javascript:x)")
    ("'atlantis'", "'\\[k\\](javascript\\:x)'")
    """
    return f"'{escape_markdown(visible(clip(value)))}'"


def listed(items: Sequence[str], quote: bool = True) -> str:
    """Return up to MAX_NOTICE_ITEMS values for a notice, then how many more there are.

    >>> listed(["a", "b"]), listed(list("abcdefg"), quote=False)
    ("'a', 'b'", 'a, b, c, d, e and 2 more')
    """
    head = [shown(item) if quote else shown(item)[1:-1] for item in items[:MAX_NOTICE_ITEMS]]
    more = len(items) - len(head)
    return ", ".join(head) + (f" and {more:,} more" if more else "")


def to_query(state: ViewState) -> dict[str, str]:
    """Return the URL parameters that reproduce ``state`` (defaults left out).

    >>> to_query(ViewState(place="baikonur", themes=("energy", "security")))
    {'place': 'baikonur', 'themes': 'energy,security'}
    >>> to_query(ViewState())
    {}
    """
    query: dict[str, str] = {}
    if state.place:
        query["place"] = state.place
    if tuple(state.themes) != THEME_IDS:
        query["themes"] = ",".join(state.themes)
    if state.article:
        query["article"] = state.article
    if state.outlet:
        query["outlet"] = state.outlet
    if state.date_from:
        query["from"] = state.date_from.isoformat()
    if state.date_to:
        query["to"] = state.date_to.isoformat()
    if state.lat is not None and state.lon is not None and state.zoom is not None:
        query.update(lat=f"{state.lat:.4f}", lon=f"{state.lon:.4f}", zoom=str(state.zoom))
    if state.collection:
        query["collection"] = state.collection
    return query


def quote_matches(quote: Mapping[str, Any], state: ViewState, outlet_articles: frozenset) -> bool:
    """Tell whether a quote passes the article, outlet and date filters."""
    if state.article and quote["article_id"] != state.article:
        return False
    if state.outlet and quote["article_id"] not in outlet_articles:
        return False
    date = parse_iso(quote.get("date"))
    if state.date_from and (date is None or date < state.date_from):
        return False
    return not (state.date_to and (date is None or date > state.date_to))


def filters_quotes(state: ViewState) -> bool:
    """Tell whether any article, outlet or date filter is set."""
    return bool(state.article or state.outlet or state.date_from or state.date_to)


def filter_features(features: Iterable[dict], state: ViewState, catalogue: Catalogue) -> list[dict]:
    """Return the features the filters leave visible, each with only its matching quotes.

    A feature is visible when one of its themes is switched on; the base country outlines are
    always drawn, but one with none of its themes on comes without quotes and marked
    ``off_theme`` (so counts, lists and the chart leave it out). With an article, outlet or
    date filter, resolved places also need a quote that passes it, while infrastructure
    layers stay as context.
    """
    wanted = set(state.themes)
    outlet_articles = catalogue.article_ids_by_outlet.get(state.outlet or "", frozenset())
    by_quote = filters_quotes(state)
    by_theme = wanted != set(THEME_IDS)
    visible = []
    for feature in features:
        properties = feature["properties"]
        layer = properties.get("base_layer") or properties["layer"]  # added: as in the corpus
        quotes = properties["quotes"]
        if by_quote:
            quotes = [q for q in quotes if quote_matches(q, state, outlet_articles)]
        if by_theme and layer == "places":  # its themes are its quotes' themes
            quotes = [q for q in quotes if wanted & set(q.get("themes") or OTHER)]
        on_theme = bool(wanted & set(properties["themes"]))
        if layer in BASE_LAYERS:
            if not on_theme:
                visible.append(
                    {**feature, "properties": {**properties, "quotes": [], "off_theme": True}}
                )
                continue
        elif not on_theme or (layer == "places" and (by_quote or by_theme) and not quotes):
            continue
        counted = {"mention_count": len(quotes)} if layer == "places" else {}
        visible.append({**feature, "properties": {**properties, "quotes": quotes, **counted}})
    return visible


def quote_filter(state: ViewState) -> QuoteFilter:
    """Return the quote store's filter of ``state``: article, outlet, dates, and the themes
    when not every one is on (``filter_features`` narrows places' quotes to them).

    >>> quote_filter(ViewState(outlet="taz")).themes is None
    True
    >>> quote_filter(ViewState(themes=("energy",))).themes
    ('energy',)
    """
    themes = tuple(state.themes) if set(state.themes) != set(THEME_IDS) else None
    return QuoteFilter(state.article, state.outlet, state.date_from, state.date_to, themes)


def themed_ids(features: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the ids of the features whose quotes the theme filter narrows (resolved places)."""
    return [f["id"] for f in features
            if (f["properties"].get("base_layer") or f["properties"]["layer"]) == PLACES]


def filter_counted(
    features: Iterable[dict], state: ViewState, tallies: Mapping[str, tuple[int, Mapping]]
) -> list[dict]:
    """Return what ``filter_features`` returns, for features without quotes (a quote store's).

    ``tallies`` are the store's counts under the state's filters (``QuoteStore.tallies`` with
    ``quote_filter(state)`` and ``themed_ids``): each visible feature gets ``quote_count`` and
    ``theme_counts`` instead of its quotes (and ``mention_count`` for places), so counts, colours,
    lists and the chart come out as with the quotes.
    """
    wanted = set(state.themes)
    narrowed = filters_quotes(state) or wanted != set(THEME_IDS)
    visible = []
    for feature in features:
        properties = feature["properties"]
        layer = properties.get("base_layer") or properties["layer"]
        count, by_theme = tallies.get(feature["id"], (0, {}))
        on_theme = bool(wanted & set(properties["themes"]))
        if layer in BASE_LAYERS:
            if not on_theme:
                off = {**properties, "quote_count": 0, "theme_counts": {}, "off_theme": True}
                visible.append({**feature, "properties": off})
                continue
        elif not on_theme or (layer == PLACES and narrowed and not count):
            continue
        counted = {"mention_count": count} if layer == PLACES else {}
        visible.append({**feature, "properties": {
            **properties, "quote_count": count, "theme_counts": dict(by_theme), **counted}})
    return visible


def quote_count(properties: Mapping[str, Any]) -> int:
    """Return how many quotes a feature has: its quotes, else its ``quote_count``.

    >>> quote_count({"quotes": [{}, {}]}), quote_count({"quote_count": 3}), quote_count({})
    (2, 3, 0)
    """
    quotes = properties.get("quotes")
    return len(quotes) if quotes is not None else int(properties.get("quote_count") or 0)


def main_theme(properties: Mapping[str, Any]) -> str | None:
    """Return the theme most of a feature's quotes carry (ties by table order), else its first.

    >>> main_theme({"quotes": [{"themes": ["security"]}, {"themes": ["energy", "security"]}],
    ...             "themes": ["energy", "security"]})
    'security'
    >>> main_theme({"quotes": [], "themes": []}) is None
    True
    """
    if "quotes" in properties:
        counts = Counter(t for quote in properties["quotes"] for t in quote.get("themes", ()))
    else:  # a feature of a quote store: its counts (``filter_counted``)
        counts = Counter(properties.get("theme_counts") or {})
    if counts:
        return max(THEME_IDS, key=lambda theme: (counts[theme], -THEME_IDS.index(theme)))
    return properties["themes"][0] if properties["themes"] else None


SEARCH_ALIASES_SHOWN = 6  # names beyond the first that a search label lists


def search_label(properties: Mapping[str, Any]) -> str:
    """Return a search-box label: the name, then the German name, abbreviations and the forms
    the articles use (the search box matches any of them), then the kind.

    >>> search_label({"id": "cpc-pipeline", "name": "CPC pipeline", "kind": "pipeline"})
    'CPC pipeline (CPC, KTK, Caspian Pipeline Consortium, Tengiz–Novorossiysk) · pipeline'
    >>> search_label({"id": "x", "name": "Almaty", "name_de": "Almaty", "kind": "city"})
    'Almaty · city'
    """
    from kzgeo.layers import ABBREVIATIONS

    names = dict.fromkeys(
        n
        for n in [
            properties["name"],
            properties.get("name_de"),
            *ABBREVIATIONS.get(properties["id"], ()),
            *(properties.get("abbreviations_de") or ()),
            *(properties.get("names") or ()),
        ]
        if n
    )
    head, *rest = names
    aliases = f" ({', '.join(rest[:SEARCH_ALIASES_SHOWN])})" if rest else ""
    kind = f" · {properties['kind']}" if properties.get("kind") else ""
    return f"{head}{aliases}{kind}"


def search_choices(features: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return {feature id: search label} of everything on the map, in the labels' order.

    >>> f = lambda i, name: {"id": i, "properties": {"id": i, "name": name}}
    >>> search_choices([f("b", "baku"), f("a", "Astana")]), search_choices([])
    ({'a': 'Astana', 'b': 'baku'}, {})
    """
    labels = {f["id"]: search_label(f["properties"]) for f in features}
    return dict(sorted(labels.items(), key=lambda item: item[1].casefold()))


def article_choices_note(listed: int, listable: int) -> str | None:
    """Return the Article filter's help when it lists only the newest of its articles.

    >>> article_choices_note(12, 12) is None, article_choices_note(301, 20000)
    (True, 'Lists the newest 300 of 20,000 articles: choose an outlet to list others.')
    """
    if listed >= listable:
        return None
    newest = min(listed, ARTICLE_CHOICES)
    return f"Lists the newest {newest:,} of {listable:,} articles: choose an outlet to list others."


def article_labels(articles: Iterable[Any]) -> dict[str, str]:
    """Return the Article filter's choices, {ALL: "All articles", id: its label}, in order.

    >>> from types import SimpleNamespace as A
    >>> article_labels([A(id="a1", title="T", outlet="RND", date=None),
    ...                 A(id="a2", title="U", outlet="taz", date=dt.date(2024, 4, 22))])
    {'': 'All articles', 'a1': 'T — RND, undated', 'a2': 'U — taz, 22 Apr 2024'}
    """
    return {ALL: "All articles", **{a.id: article_label(a) for a in articles}}


def outlet_choices(outlets: Iterable[str]) -> dict[str, str]:
    """Return the outlet filter's choices: {ALL: "All outlets", outlet: outlet}, sorted
    (``outlets``: a ``Catalogue``'s, known once per corpus version).

    >>> outlet_choices(frozenset({"taz", "RND"}))
    {'': 'All outlets', 'RND': 'RND', 'taz': 'taz'}
    """
    return {ALL: "All outlets", **{o: o for o in sorted(outlets)}}


def highlight(text: str, start: int, end: int) -> str:
    """Return ``text`` HTML-escaped with the span [start, end) in <mark>.

    >>> highlight("In <Almaty> & Astana", 4, 10)
    'In &lt;<mark>Almaty</mark>&gt; &amp; Astana'
    >>> highlight("", 0, 0)
    ''
    """
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    return (
        html.escape(text[:start])
        + (f"<mark>{html.escape(text[start:end])}</mark>" if end > start else "")
        + html.escape(text[end:])
    )


def group_quotes(quotes: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping, list[Mapping]]]:
    """Return quotes grouped by article, newest article first, quotes in text order."""
    groups: dict[str, list[Mapping]] = defaultdict(list)
    for quote in quotes:
        groups[quote["article_id"]].append(quote)
    ordered = sorted(groups.values(), key=lambda qs: qs[0].get("date") or "", reverse=True)
    return [(qs[0], sorted(qs, key=lambda q: q["start"])) for qs in ordered]


QUOTES_PER_PAGE = 40  # the panel shows this many quotes, then offers more


def first_quotes(
    groups: Sequence[tuple[Mapping, list[Mapping]]], limit: int
) -> list[tuple[Mapping, list[Mapping]]]:
    """Return the article groups that hold the first ``limit`` quotes (the last one cut short).

    >>> groups = [({"id": "a"}, [1, 2, 3]), ({"id": "b"}, [4, 5])]
    >>> first_quotes(groups, 4)
    [({'id': 'a'}, [1, 2, 3]), ({'id': 'b'}, [4])]
    >>> first_quotes(groups, 10) == groups, first_quotes(groups, 0), first_quotes([], 5)
    (True, [], [])
    """
    shown: list[tuple[Mapping, list[Mapping]]] = []
    left = limit
    for first, quotes in groups:
        if left <= 0:
            break
        shown.append((first, quotes[:left]))
        left -= len(quotes)
    return shown


def quote_html(quote: Mapping[str, Any]) -> str:
    """Return one quote as escaped HTML with the mention highlighted."""
    offset = quote["start"]
    return highlight(quote["text"], quote["mention_start"] - offset, quote["mention_end"] - offset)


def article_group_html(
    first: Mapping[str, Any], quotes: Iterable[Mapping[str, Any]], language: str = "de"
) -> str:
    """Return one article's quotes as escaped HTML: title, outlet, author, date, a link to the
    original when the article has a web address, sentences (marked with its ``language``).

    >>> q = {"title": "T", "outlet": "taz", "url": "https://taz.de/a?b=1&c=2", "text": "x",
    ...      "start": 0, "end": 1, "mention_start": 0, "mention_end": 1}
    >>> 'href="https://taz.de/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer"' in (
    ...     article_group_html(q, [q]))
    True
    >>> "href" in article_group_html({**q, "url": "javascript:alert(1)"}, [q])
    False
    """
    byline = " · ".join(
        html.escape(str(part))
        for part in (first["outlet"], first.get("author"), format_date(first.get("date")))
        if part
    )
    url = str(first.get("url") or "")
    if url.startswith(("https://", "http://")):  # never a javascript: or data: link
        byline += (f' · <a href="{html.escape(url, quote=True)}" target="_blank" '
                   'rel="noopener noreferrer">Read the original</a>')
    lang = html.escape(language or "de", quote=True)
    sentences = "".join(
        f'<blockquote class="kz-quote" lang="{lang}">{quote_html(q)}</blockquote>' for q in quotes
    )
    return (
        f'<div class="kz-article"><strong lang="{lang}">{html.escape(first["title"])}</strong>'
        f"<br><small>{byline}</small>{sentences}</div>"
    )


def quotes_html(
    quotes: Iterable[Mapping[str, Any]], limit: int, languages: Mapping[str, str]
) -> str:
    """Return the first ``limit`` quotes as escaped HTML, by article, newest article first
    (``languages``: article id -> language, German when unknown).

    >>> q = lambda a, d: {"article_id": a, "title": a, "outlet": "X", "date": d, "text": "x",
    ...                   "start": 0, "end": 1, "mention_start": 0, "mention_end": 1}
    >>> text = quotes_html([q("old", "2020-01-01"), q("new", "2024-04-22")], 5, {"old": "en"})
    >>> text.index(">new<") < text.index(">old<"), 'lang="en">old' in text
    (True, True)
    >>> quotes_html([], 5, {}), quotes_html([q("a", None)], 0, {})
    ('', '')
    """
    return "".join(
        article_group_html(first, group, languages.get(first["article_id"]) or "de")
        for first, group in first_quotes(group_quotes(quotes), limit)
    )


QUOTE_COLUMNS = ("id", "name", "kind", "article_id", "title", "outlet", "date", "surface", "text")


DOWNLOAD_QUOTES = 200_000  # quotes a download made on the page may hold (about 100 MB)
GEOJSON_BYTES_PER_QUOTE = 510  # measured on the N = 100,000 archive's export


def download_note(
    what: str, quotes: int, limit: int | None = None, narrowable: bool = True
) -> str | None:
    """Return why the page offers no download of ``what`` holding ``quotes`` quotes (it would be
    made in the server's memory), or None when it holds at most ``limit`` (default
    ``DOWNLOAD_QUOTES``); ``narrowable``: whether the filters can make it smaller.

    >>> download_note("This view", 12) is None
    True
    >>> download_note("This view", 250_000)  # doctest: +NORMALIZE_WHITESPACE
    'This view holds 250,000 quotes (about 128 MB as GeoJSON), too many to download here:
    narrow it with the filters, or write everything with `python -m kzgeo export OUT.geojson
    --csv mentions.csv`.'
    >>> download_note("The whole dataset", 4_190_000, narrowable=False)  # doctest: +ELLIPSIS
    'The whole dataset holds 4,190,000 quotes (about 2.1 GB as GeoJSON), ...: write it with...'
    """
    if quotes <= (DOWNLOAD_QUOTES if limit is None else limit):
        return None
    size = quotes * GEOJSON_BYTES_PER_QUOTE
    shown = f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"
    how = ("narrow it with the filters, or write everything with" if narrowable
           else "write it with")
    return (f"{what} holds {quotes:,} quotes (about {shown} as GeoJSON), too many to download "
            f"here: {how} `python -m kzgeo export OUT.geojson --csv mentions.csv`.")


def quotes_csv(
    features: Iterable[Mapping[str, Any]], stored: Iterable[tuple[str, list[Mapping]]] = ()
) -> str:
    """Return one CSV row per quote of ``features``: the feature and the sentence.

    A feature without ``quotes`` (a quote store's) takes those ``stored`` yields for its id
    (``QuoteStore.filtered_quotes``: (id, quotes) parts in the quotes' order).
    """
    features = list(features)
    names = {f["id"]: f["properties"] for f in features}
    parts: dict[str, list[str]] = defaultdict(list)
    for feature_id, quotes in stored:
        if feature_id in names:
            parts[feature_id].append(_csv_rows(names[feature_id], quotes))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(QUOTE_COLUMNS)
    for feature in features:
        properties = feature["properties"]
        if "quotes" in properties:
            buffer.write(_csv_rows(properties, properties["quotes"]))
        else:
            buffer.write("".join(parts.pop(feature["id"], ())))
    return buffer.getvalue()


def _csv_rows(properties: Mapping[str, Any], quotes: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for quote in quotes:
        row = {**quote, "id": properties["id"], "name": properties["name"],
               "kind": properties["kind"]}  # fmt: skip
        writer.writerow([row.get(column) or "" for column in QUOTE_COLUMNS])
    return buffer.getvalue()


def mentions_by_month(features: Iterable[dict]) -> list[tuple[str, int]]:
    """Return (YYYY-MM, number of quotes) for every month from the first quote to the last.

    >>> mentions_by_month([{"properties": {"quotes": [{"date": "2022-01-10"},
    ...     {"date": "2022-03-01"}, {"date": None}]}}])
    [('2022-01', 1), ('2022-02', 0), ('2022-03', 1)]
    >>> mentions_by_month([])
    []
    """
    counts = Counter(
        quote["date"][:7]
        for feature in features
        for quote in feature["properties"]["quotes"]
        if quote.get("date")
    )
    return month_series(counts)


def month_series(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Return (YYYY-MM, count) for every month from the first of ``counts`` to the last.

    >>> month_series({"2023-12": 2, "2024-02": 1})
    [('2023-12', 2), ('2024-01', 0), ('2024-02', 1)]
    """
    if not counts:
        return []
    year, month = (int(part) for part in min(counts).split("-"))
    last = max(counts)
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        months.append((key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# Attributes whose values are country ids or ISO 3166 codes: shown as the countries' names.
COUNTRY_KEYS = frozenset({"country", "countries", "members", "leased_to"})
DATE_FORMAT = "%d %b %Y"  # the one date format of the page: 22 Apr 2024


def format_date(value: dt.date | str | None) -> str:
    """Return a date (or an ISO date text) in the page's one format, "undated" for none.

    >>> format_date(dt.date(2024, 4, 22)), format_date("2025-11-16"), format_date(None)
    ('22 Apr 2024', '16 Nov 2025', 'undated')
    >>> format_date("2024")
    '2024'
    """
    if not value:
        return "undated"
    date = value if isinstance(value, dt.date) else parse_iso(str(value)[:10])
    return date.strftime(DATE_FORMAT) if date else str(value)


def format_number(value: float) -> str:
    """Return a number in the page's one format: thousands separated, no needless decimals.

    >>> format_number(1768), format_number(6660.4), format_number(0.873), format_number(17.5)
    ('1,768', '6,660', '0.87', '17.5')
    """
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:g}"


def format_value(value: Any, key: str = "", names: Mapping[str, str] | None = None) -> str:
    """Return an attribute value as readable plain text (country ids and codes as names).

    >>> format_value([{"length_km": 7644, "text": "7 644 Kilometer", "source": "IPG"}])
    '7,644 km: “7 644 Kilometer” (IPG)'
    >>> format_value(["a", "b"]), format_value(1768.0), format_value(None), format_value(2002)
    ('a, b', '1,768', '', '2002')
    >>> format_value(["kazakhstan", "KZ"], "countries", {"kazakhstan": "Kazakhstan"})
    'Kazakhstan, Kazakhstan'
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) or (isinstance(value, int) and key.endswith("_km")):
        return format_number(value)
    if isinstance(value, list):
        if value and isinstance(value[0], Mapping) and "length_km" in value[0]:
            return "; ".join(
                f"{format_number(row['length_km'])} km: “{row.get('text', '')}” "
                f"({row.get('source', '')})"
                for row in value
            )
        return ", ".join(format_value(item, key, names) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(
            f"{country_name(k, names)}: {format_value(item)}" for k, item in value.items()
        )
    if key in COUNTRY_KEYS and isinstance(value, str):
        return country_name(value, names)
    return str(value)


def country_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """Return the English name of a country id ("kazakhstan") or ISO code ("KZ"), else ``code``.

    >>> country_name("KZ"), country_name("russia", {"russia": "Russia"}), country_name("x-y")
    ('Kazakhstan', 'Russia', 'x-y')
    """
    if names and code in names:
        return names[code]
    if len(code) == 2 and code.isupper():
        from babel import Locale

        return Locale("en").territories.get(code, code)
    return code


def country_names(features: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return country id and ISO code -> English name, from the countries of an index."""
    names: dict[str, str] = {}
    for feature in features:
        properties = feature["properties"]
        if properties.get("layer") == "countries":
            names[properties["id"]] = properties["name"]
            if properties.get("iso_a2"):
                names[properties["iso_a2"]] = properties["name"]
    return names


def attribute_rows(
    properties: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Return (label, text) rows of the attributes its kind shows (``kzgeo.layers.REGISTRY``)."""
    from kzgeo.layers import mark_of

    shown = {**properties, "layer": properties.get("base_layer") or properties.get("layer")}
    return [
        (label, format_value(properties[key], key, names))
        for key, label in mark_of(shown).attributes
        if properties.get(key) not in (None, "", [])
    ]


def catalogue_of(collection: Mapping[str, Any], articles: Iterable[Any]) -> Catalogue:
    """Return the valid ids of an index and its articles."""
    by_outlet: dict[str, set[str]] = defaultdict(set)
    dates = []
    for article in articles:
        by_outlet[article.outlet].add(article.id)
        if article.date:
            dates.append(article.date)
    return Catalogue(
        feature_ids=frozenset(f["id"] for f in collection["features"]),
        article_ids=frozenset(a for ids in by_outlet.values() for a in ids),
        outlets=frozenset(by_outlet),
        article_ids_by_outlet={o: frozenset(ids) for o, ids in by_outlet.items()},
        dates=(min(dates), max(dates)) if dates else None,
    )


# ---------------------------------------------------------------- added articles (collections)

NEW_LAYER = "new"  # the map layer of the articles added to a collection
NEW_PREFIX = "new:"  # their ids, so they never clash with (and select instead of) corpus ids
NEW_NOTE = "from an added article (collection)"


def is_new_id(feature_id: str | None) -> bool:
    """Tell whether ``feature_id`` names a feature of this session's own articles.

    >>> is_new_id("new:aktau"), is_new_id("aktau"), is_new_id(None)
    (True, False, False)
    """
    return bool(feature_id) and str(feature_id).startswith(NEW_PREFIX)


def as_new_feature(feature: Mapping[str, Any]) -> dict:
    """Return a feature of ``kzgeo.ingest.new_place_features`` for the session's new layer.

    Its id gets the ``new:`` prefix, its layer becomes ``new`` (the layer it would have in
    the corpus is kept as ``base_layer``) and ``new`` is True.

    >>> f = as_new_feature({"id": "aktau", "type": "Feature", "geometry": None,
    ...                     "properties": {"id": "aktau", "layer": "places", "quotes": []}})
    >>> f["id"], f["properties"]["id"], f["properties"]["layer"], f["properties"]["base_layer"]
    ('new:aktau', 'new:aktau', 'new', 'places')
    """
    properties = dict(feature["properties"])
    plain_id = str(feature["id"]).removeprefix(NEW_PREFIX)
    new_id = NEW_PREFIX + plain_id
    base_layer = properties.get("base_layer") or properties.get("layer")
    properties.update(id=new_id, layer=NEW_LAYER, base_layer=base_layer, new=True)
    return {**feature, "id": new_id, "properties": properties}


def quote_key(quote: Mapping[str, Any]) -> tuple:
    """Return what makes a quote unique: its article and where the mention stands."""
    return (quote.get("article_id"), quote.get("mention_start"), quote.get("mention_end"))


def merge_new_features(existing: Iterable[Mapping], added: Iterable[Mapping]) -> list[dict]:
    """Return the session's new features with ``added`` ones merged in (new objects, pure).

    Added features are converted with ``as_new_feature``; a place already there gets the new
    quotes appended (no quote twice) and its mention count updated.

    >>> a = {"id": "aktau", "properties": {"id": "aktau", "layer": "places", "quotes": [
    ...      {"article_id": "u1", "mention_start": 3, "mention_end": 8}], "mention_count": 1}}
    >>> b = {"id": "aktau", "properties": {"id": "aktau", "layer": "places", "quotes": [
    ...      {"article_id": "u2", "mention_start": 0, "mention_end": 5}], "mention_count": 1}}
    >>> once = merge_new_features([], [a])
    >>> twice = merge_new_features(once, [a, b])
    >>> [f["id"] for f in twice], twice[0]["properties"]["mention_count"]
    (['new:aktau'], 2)
    >>> len(once[0]["properties"]["quotes"])  # the earlier list is not changed
    1
    """
    merged: dict[str, dict] = {f["id"]: f for f in existing}
    for feature in added:
        new = as_new_feature(feature)
        old = merged.get(new["id"])
        if old is None:
            merged[new["id"]] = new
            continue
        quotes = list(old["properties"]["quotes"])
        known = {quote_key(q) for q in quotes}
        quotes += [q for q in new["properties"]["quotes"] if quote_key(q) not in known]
        before, after = old["properties"], new["properties"]
        names = list(dict.fromkeys([*before.get("names", []), *after.get("names", [])]))
        themes = {*before.get("themes", []), *after.get("themes", [])}
        properties = {
            **before,
            "quotes": quotes,
            "mention_count": len(quotes),
            "names": names,
            "themes": [t for t in THEME_IDS if t in themes],
        }
        merged[new["id"]] = {**old, "properties": properties}
    return list(merged.values())


def find_feature(
    feature_id: str | None,
    visible: Iterable[Mapping],
    corpus: Iterable[Mapping] = (),
    new: Iterable[Mapping] = (),
) -> tuple[Mapping | None, bool]:
    """Return the feature the panel shows and whether the filters hide it.

    Looks in the visible features, then the session's new features (always shown), then the
    whole corpus index (a hidden feature).

    >>> find_feature("new:aktau", [], [], [{"id": "new:aktau"}])
    ({'id': 'new:aktau'}, False)
    >>> find_feature("aktau", [], [{"id": "aktau"}], [{"id": "new:aktau"}])
    ({'id': 'aktau'}, True)
    >>> find_feature(None, [{"id": "x"}])
    (None, False)
    """
    if not feature_id:
        return None, False
    for group, hidden in ((visible, False), (new, False), (corpus, True)):
        found = next((f for f in group if f["id"] == feature_id), None)
        if found is not None:
            return found, hidden
    return None, False


def user_article_features(
    text: str,
    title: str,
    outlet: str,
    date: Any,
    language: str | None,
    gazetteer: Any,
    collection: Mapping[str, Any] | None = None,
) -> tuple[Any, list[dict]]:
    """Geoparse a pasted or uploaded article; return it and its places as new-layer features.

    Raises ``kzgeo.ingest.IngestError`` with a message for the user when the text, title,
    date or language cannot be used.
    """
    from kzgeo.ingest import check_text, make_article

    article = make_article(check_text(text), title, outlet, date, language)
    return article, collection_features([article], gazetteer, collection)


def collection_features(
    articles: Sequence[Any], gazetteer: Any, collection: Mapping[str, Any] | None = None
) -> list[dict]:
    """Geoparse a collection's articles together; return their places as new-layer features.

    A place several articles name is one feature with the quotes of all of them.
    """
    if not articles:
        return []
    from kzgeo.ingest import new_place_features
    from kzgeo.resolve import geoparse

    parsed = geoparse(list(articles), gazetteer)
    features = [as_new_feature(f) for f in new_place_features(parsed, dict(collection or {}))]
    for feature in features:  # a place no theme word names is "other", as in the corpus
        feature["properties"]["themes"] = feature["properties"]["themes"] or list(OTHER)
    return features


def with_collection(catalogue: Catalogue, features: Iterable[Mapping], articles: Iterable[Any]):
    """Return ``catalogue`` grown by a collection's feature ids, articles, outlets and dates.

    >>> base = Catalogue(frozenset({"almaty"}), frozenset({"a1"}), frozenset({"RND"}),
    ...                  {"RND": frozenset({"a1"})}, (dt.date(2024, 1, 1), dt.date(2024, 2, 1)))
    >>> class A:  # an added article
    ...     id, outlet, date = "u1", "taz", dt.date(2025, 3, 1)
    >>> grown = with_collection(base, [{"id": "new:aktau"}], [A()])
    >>> sorted(grown.feature_ids), sorted(grown.outlets), grown.dates[1]
    (['almaty', 'new:aktau'], ['RND', 'taz'], datetime.date(2025, 3, 1))
    >>> with_collection(base, [], []) is base
    True
    """
    articles = list(articles)
    if not articles:
        return catalogue
    added = catalogue_of({"features": list(features)}, articles)
    by_outlet = dict(catalogue.article_ids_by_outlet)
    for outlet, ids in added.article_ids_by_outlet.items():
        by_outlet[outlet] = by_outlet.get(outlet, frozenset()) | ids
    dates = [d for pair in (catalogue.dates, added.dates) if pair for d in pair]
    return Catalogue(
        feature_ids=catalogue.feature_ids | added.feature_ids,
        article_ids=catalogue.article_ids | added.article_ids,
        outlets=catalogue.outlets | added.outlets,
        article_ids_by_outlet=by_outlet,
        dates=(min(dates), max(dates)) if dates else None,
    )


def read_upload(data: bytes, filename: str) -> tuple[str, dict[str, Any]]:
    """Return the article text of an uploaded file and the metadata guessed from it.

    HTML is reduced to its article text; its declared title, site name and date win.
    Raises ``kzgeo.ingest.IngestError`` for an unsupported, empty, binary or too large file.
    """
    from kzgeo.ingest import HTML_SUFFIXES, extract_text, guess_metadata

    text = extract_text(data, filename)
    is_html = any(filename.lower().endswith(suffix) for suffix in HTML_SUFFIXES)
    return text, guess_metadata(text, data if is_html else None)


# ---------------------------------------------------------------- what the panel says

CONTEXT_NOTE = "Context layer: no article in this corpus names it."


NEW_BADGE = f'<span class="kz-new">{html.escape(NEW_NOTE)}</span>'


def unsure_note(confidence: float) -> str:
    """Return the warning over a place the geoparser is unsure of.

    >>> unsure_note(0.4512)[-42:]
    '(confidence 0.45): check the quotes below.'
    """
    return (f"The geoparser is unsure this is the place meant (confidence {confidence:.2f}): "
            "check the quotes below.")  # fmt: skip


def context_note(properties: Mapping[str, Any]) -> str:
    """Return why a feature no article quotes is drawn (its mark's reason).

    >>> context_note({"layer": "pipelines", "kind": "pipeline"}).startswith(CONTEXT_NOTE)
    True
    """
    from kzgeo.layers import mark_of

    return f"{CONTEXT_NOTE} Drawn as context: {mark_of(properties).reason}."


def selected_feature(
    place: str | None, visible: Sequence[Mapping], added: Sequence[Mapping], store: Any
) -> tuple[Mapping | None, bool]:
    """Return the feature the panel shows and whether the filters hide it (``find_feature``
    over the visible ones, then ``store.features`` and the ``added`` ones); a feature only the
    themes hide comes from ``store.feature``, with all its quotes.

    >>> from types import SimpleNamespace
    >>> f = lambda i, **p: {"id": i, "properties": {"id": i, **p}}
    >>> store = SimpleNamespace(features=[f("baku")], feature=lambda i: f(i, quotes=[1, 2]))
    >>> selected_feature("baku", [f("baku", off_theme=True)], [], store)
    ({'id': 'baku', 'properties': {'id': 'baku', 'quotes': [1, 2]}}, True)
    >>> selected_feature("baku", [], [], store)[1], selected_feature(None, [], [], store)
    (True, (None, False))
    >>> selected_feature("new:aktau", [], [f("new:aktau")], store)[0]["id"]
    'new:aktau'
    """
    feature, hidden = find_feature(place, visible, [*store.features, *added])
    if feature is not None and feature["properties"].get("off_theme"):
        return store.feature(feature["id"]), True
    return feature, hidden


def empty_reason(state: ViewState, article_title: str | None = None) -> tuple[str, list[str]]:
    """Return why no place with quotes is shown, and the filters whose clearing helps.

    The filters are named by their ``ViewState`` field ("themes" means: switch them all on).

    >>> empty_reason(ViewState(article="a", outlet="Die Zeit"), "Vermittler gesucht")
    ("No place matches the article 'Vermittler gesucht' and the outlet 'Die Zeit'.", \
['outlet', 'article'])
    >>> empty_reason(ViewState(themes=()))
    ('Every theme is switched off.', ['themes'])
    """
    parts, helps = [], []
    if not state.themes:
        return "Every theme is switched off.", ["themes"]
    if state.article:
        parts.append(f"the article '{article_title or state.article}'")
    if state.outlet:
        parts.append(f"the outlet '{state.outlet}'")
        helps.append("outlet")
    if state.article:
        helps.append("article")
    if state.date_from or state.date_to:
        parts.append(
            f"dates {format_date(state.date_from) if state.date_from else 'from the start'}"
            f" to {format_date(state.date_to) if state.date_to else 'today'}"
        )
        helps.append("dates")
    if tuple(state.themes) != THEME_IDS:
        parts.append("the themes switched on")
        helps.append("themes")
    if not parts:
        return "No place in this corpus has a quote.", []
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"No place matches {joined}.", helps


def shown_note(features: Iterable[Mapping[str, Any]]) -> str:
    """Return how many of the shown features have quotes, and what to do with them.

    >>> shown_note([{"properties": {"quotes": [1]}}, {"properties": {"quotes": []}}])[:45]
    '1 places and features with quotes are shown. '
    """
    count = sum(1 for f in features if quote_count(f["properties"]))
    return (f"{count:,} places and features with quotes are shown. Click, tap or find one to "
            "read every sentence that names it.")  # fmt: skip


def mentioned_label(feature: Mapping[str, Any]) -> str:
    """Return a "Most mentioned" button's label: the name and the number of quotes.

    >>> mentioned_label({"properties": {"name": "Astana", "quotes": [0] * 1510}})
    'Astana · 1,510'
    """
    return f"{feature['properties']['name']} · {quote_count(feature['properties']):,}"


def quote_heading(count: int, filtered: bool) -> str:
    """Return the bold heading of a selection's quotes.

    >>> quote_heading(1, False), quote_heading(1390, True)
    ('**1 quote**', '**1,390 quotes matching the filters**')
    """
    quotes = "quote" if count == 1 else "quotes"
    return f"**{count:,} {quotes}{' matching the filters' if filtered else ''}**"


def most_mentioned(features: Iterable[Mapping[str, Any]], limit: int = 8) -> list[Mapping]:
    """Return the features with the most quotes (ties by name), at most ``limit``.

    >>> f = lambda i, n: {"id": i, "properties": {"name": i, "quotes": [0] * n}}
    >>> [x["id"] for x in most_mentioned([f("a", 1), f("b", 3), f("c", 0)])]
    ['b', 'a']
    """
    quoted = [f for f in features if quote_count(f["properties"])]
    quoted.sort(key=lambda f: (-quote_count(f["properties"]), f["properties"]["name"]))
    return quoted[:limit]


def freshness_caption(
    arrivals: Mapping[str, dt.datetime], files_changed: dt.datetime | None, now: dt.datetime
) -> str:
    """Return when the corpus last changed (its latest arrival, else ``files_changed``: when
    its newest file did), for the article list's caption ('' for an empty folder)."""
    from kzgeo.freshness import ago, changed_at

    changed = changed_at(arrivals) or files_changed
    if changed is None:
        return ""
    return (f"The corpus last changed {ago(changed, now)} ({format_date(changed.date())}, "
            f"{changed:%H:%M} UTC); newest arrivals first.")  # fmt: skip


def article_label(article: Any) -> str:
    """Return 'title — outlet, date' for an article (the article filter's choices).

    >>> from types import SimpleNamespace as A
    >>> article_label(A(title="Vermittler gesucht", outlet="RND", date=dt.date(2024, 4, 22)))
    'Vermittler gesucht — RND, 22 Apr 2024'
    >>> article_label(A(title="Ohne Datum", outlet="taz", date=None))
    'Ohne Datum — taz, undated'
    """
    return f"{article.title} — {article.outlet}, {format_date(article.date)}"


def feature_caption(properties: Mapping[str, Any]) -> str:
    """Return the line under a selected feature's name: German name, kind, precision.

    >>> feature_caption({"name_de": "Moskau", "kind": "place", "precision": "city"})
    'Moskau · place · location: city'
    >>> feature_caption({"kind": "pipeline", "precision": "schematic"})
    'pipeline · location: schematic'
    """
    parts = (properties.get("name_de"), properties["kind"], f"location: {properties['precision']}")
    return " · ".join(dict.fromkeys(part for part in parts if part))


def warnings_markdown(warnings: Sequence[str]) -> str:
    """Return the corpus's loading problems as a Markdown list, each on one escaped line.

    >>> print(warnings_markdown(["a.txt  has no title", "b.txt is empty"]))
    2 problem(s) while loading the corpus:
    <BLANKLINE>
    - a.txt has no title
    - b.txt is empty
    """
    lines = "\n".join(f"- {escape_markdown(' '.join(w.split()))}" for w in warnings)
    return f"{len(warnings)} problem(s) while loading the corpus:\n\n{lines}"


def link(page_url: str, query: Mapping[str, str]) -> str:
    """Return the link of a page with a query (commas kept readable in theme lists).

    >>> link("http://localhost:8501/", {"themes": "energy,security", "place": "btc-pipeline"})
    'http://localhost:8501/?themes=energy,security&place=btc-pipeline'
    >>> link("", {}), link("/", {"collection": "a b"})
    ('', '/?collection=a%20b')
    """
    return page_url + ("?" + urlencode(query, safe=",", quote_via=url_quote) if query else "")


def credits_caption(outlets: Iterable[str]) -> str:
    """Return the page's closing caption: data credits, palette, map library and the outlets.

    >>> credits_caption(["taz", "RND"]).endswith("Outlets: RND, taz.")
    True
    """
    from kzgeo.credits import credits_markdown

    return (f"{credits_markdown()} Colours: Okabe–Ito. Map: Leaflet via folium, served from this "
            f"app. Outlets: {escape_markdown(', '.join(sorted(outlets)))}.")  # fmt: skip


EDIT_LINK_NOTE = ("Edit link of your collection: it can add and remove articles. Keep it to "
                  "yourself; share the view link above.")  # fmt: skip


def edit_link(page_url: str, collection: str, token: str) -> str:
    """Return the edit link of a collection (it carries the edit token).

    >>> edit_link("http://localhost:8501/", "c0ll", "t0k-_")
    'http://localhost:8501/?collection=c0ll&edit=t0k-_'
    """
    return link(page_url, {"collection": collection, "edit": token})


ARTICLES_PER_PAGE = 50  # the article list shows this many, newest first, then offers more
ARTICLE_CHOICES = 300  # the Article filter lists this many (an archive has 100,000 articles)


def article_choices(
    newest: Iterable[Any], selected: str | None = None, outlet: str | None = None,
    limit: int = ARTICLE_CHOICES,
) -> tuple[list[Any], int]:
    """Return (the articles the Article filter lists, how many it could list): of ``newest``
    (articles newest first, ``freshness.newest_first``) those of ``outlet`` (None: any), at most
    ``limit``, and the ``selected`` one always.

    >>> from types import SimpleNamespace as A
    >>> many = [A(id=str(i), outlet="X" if i % 2 else "Y") for i in range(7, 0, -1)]
    >>> listed, count = article_choices(many, limit=3)
    >>> [a.id for a in listed], count
    (['7', '6', '5'], 7)
    >>> listed, count = article_choices(many, selected="1", outlet="Y", limit=2)
    >>> [a.id for a in listed], count
    (['6', '4', '1'], 3)
    """
    listed, count, chosen = [], 0, None
    for article in newest:
        if article.id == selected:
            chosen = article
        if outlet is None or article.outlet == outlet:
            count += 1
            if len(listed) < limit:
                listed.append(article)
    if chosen is not None and chosen not in listed:
        listed.append(chosen)
    return listed, count


def article_list_html(
    articles: Iterable[Any],
    arrivals: Mapping[str, dt.datetime] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> str:
    """Return the first ``limit`` (None: all) of ``articles``, given newest first
    (``freshness.newest_first``), as escaped HTML: title, outlet, date; one that arrived
    (``arrivals``: id -> when the watcher or a collection added it) within the last day is
    marked new with how long ago.

    >>> from types import SimpleNamespace as A
    >>> html_text = article_list_html([A(id="n", title="<New>", outlet="Y", language="de",
    ...     date=dt.date(2024, 4, 22)), A(id="o", title="Old", outlet="X", language="de",
    ...     date=dt.date(2020, 1, 1))])
    >>> html_text.index("&lt;New&gt;") < html_text.index("Old"), "22 Apr 2024" in html_text
    (True, True)
    >>> now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    >>> fresh = article_list_html([A(id="o", title="Old", outlet="X", language="de",
    ...     date=dt.date(2020, 1, 1))], {"o": now - dt.timedelta(hours=2)}, now)
    >>> 'class="kz-fresh"' in fresh and "new · 2 h ago" in fresh
    True
    >>> many = [A(id=str(i), title=f"T{i}", outlet="X", language="de", date=dt.date(2020, 1, i))
    ...         for i in range(5, 0, -1)]
    >>> article_list_html(many, limit=2).count("<li>"), "T5" in article_list_html(many, limit=2)
    (2, True)
    """
    from kzgeo.freshness import ago, is_new

    arrivals = arrivals or {}
    now = now or dt.datetime.now(dt.UTC)
    items = []
    for a in islice(articles, limit):
        arrived = arrivals.get(a.id)
        fresh = is_new(arrived, now)
        opening = '<li class="kz-fresh">' if fresh else "<li>"
        badge = f' <span class="kz-new">new · {ago(arrived, now)}</span>' if fresh else ""
        lang = html.escape(getattr(a, "language", None) or "de", quote=True)
        items.append(
            f'{opening}<strong lang="{lang}">{html.escape(" ".join(a.title.split()))}</strong>'
            f"{badge}<br><small>{html.escape(' '.join(a.outlet.split()))} · "
            f"{format_date(a.date)}</small></li>"
        )
    return f'<ul class="kz-articles">{"".join(items)}</ul>' if items else ""


def attributes_html(rows: Sequence[tuple[str, str]], caption: str) -> str:
    """Return attribute rows as an escaped HTML table: a label per row, no empty header.

    >>> attributes_html([("Operator", "BP <plc>")], "About this pipeline")  # doctest: +ELLIPSIS
    '<table class="kz-attrs"><caption>About this pipeline</caption><tbody><tr><th scope="row">...'
    """
    body = "".join(
        f'<tr><th scope="row">{html.escape(label)}</th><td>{html.escape(text)}</td></tr>'
        for label, text in rows
    )
    return (
        f'<table class="kz-attrs"><caption>{html.escape(caption)}</caption>'
        f"<tbody>{body}</tbody></table>"
    )


def folder_signature(folder: Path) -> str:
    """Return a digest of a folder's file names, sizes and times (edits invalidate caches).

    >>> folder_signature(Path("no-such-folder"))
    ''
    """
    return folder_listing(folder)[0]


def folder_listing(folder: Path) -> tuple[str, dt.datetime | None]:
    """Return ``folder_signature`` and when the folder's newest file changed (UTC; None when
    it has none: ``freshness.corpus_changed_at``), from one stat of each file.

    >>> folder_listing(Path("no-such-folder"))
    ('', None)
    """
    if not Path(folder).is_dir():
        return "", None
    listing, newest = [], None
    for entry in os.scandir(folder):
        if entry.is_file():
            stat = entry.stat()
            listing.append(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}")
            newest = stat.st_mtime if newest is None else max(newest, stat.st_mtime)
    digest = hashlib.sha256("\n".join(sorted(listing)).encode()).hexdigest()
    return digest, None if newest is None else dt.datetime.fromtimestamp(newest, dt.UTC)


def folder_stamp(folder: Path) -> tuple:
    """Return what two stats tell of a folder: its own and its manifest's size and time (a
    file added, removed or renamed, or the manifest edited, changes it).

    >>> folder_stamp(Path("no-such-folder"))
    ()
    """
    stamps = []
    for path in (Path(folder), Path(folder) / "manifest.toml"):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps += [stat.st_size, stat.st_mtime_ns]
    return tuple(stamps)


def state_of(filters: tuple) -> ViewState:
    """Return the view state of a ``filter_key``: (themes, article, outlet, from, to)."""
    themes, article, outlet, date_from, date_to = filters
    return ViewState(themes=themes, article=article, outlet=outlet, date_from=date_from,
                     date_to=date_to)  # fmt: skip


def filter_key(state: ViewState) -> tuple:
    """Return what in ``state`` decides the visible features: themes, article, outlet, dates.

    >>> state_of(filter_key(ViewState(themes=("energy",), outlet="X"))).outlet
    'X'
    """
    return (state.themes, state.article, state.outlet, state.date_from, state.date_to)


# The timeline of quotes per month as a Vega-Lite spec (whole quotes only on the axis).
TIMELINE_SPEC: dict[str, Any] = {
    "mark": {"type": "bar", "tooltip": True},
    "height": 140,
    "encoding": {
        "x": {"field": "month", "type": "ordinal", "title": "month of publication"},
        "y": {"field": "quotes", "type": "quantitative", "title": "quotes",
              "axis": {"tickMinStep": 1, "format": "d"}},
    },
}  # fmt: skip


def timeline_spec(months: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """Return the Vega-Lite chart of quotes per month (``month_series``), its data inline.

    >>> timeline_spec([("2024-04", 3)])["data"]
    {'values': [{'month': '2024-04', 'quotes': 3}]}
    """
    values = [{"month": month, "quotes": count} for month, count in months]
    return {**TIMELINE_SPEC, "data": {"values": values}}


def widget_values(state: ViewState, dates: tuple[dt.date, dt.date]) -> dict[str, Any]:
    """Return the values the page's widgets take for ``state`` ("" means no filter).

    >>> d = (dt.date(2022, 1, 1), dt.date(2025, 1, 1))
    >>> state = ViewState(place="almaty", outlet="X", date_from=dt.date(2023, 5, 1))
    >>> state_from_widgets(widget_values(state, d), d) == state
    True
    """
    return {
        "place": state.place, "themes": list(state.themes), "article": state.article or "",
        "outlet": state.outlet or "", "dates": clamp_dates(state.date_from, state.date_to, dates),
        "view": (state.lat, state.lon, state.zoom),
    }  # fmt: skip


def state_from_widgets(values: Mapping[str, Any], dates: tuple[dt.date, dt.date]) -> ViewState:
    """Return the view state the page's widgets hold (``widget_values`` the other way)."""
    date_from, date_to = values["dates"]
    lat, lon, zoom = values["view"]
    return ViewState(
        place=values["place"], themes=tuple(t for t in THEME_IDS if t in (values["themes"] or [])),
        article=values["article"] or None, outlet=values["outlet"] or None,
        date_from=date_from if date_from != dates[0] else None,
        date_to=date_to if date_to != dates[1] else None, lat=lat, lon=lon, zoom=zoom,
    )  # fmt: skip
