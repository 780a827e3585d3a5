"""What the app serves of one corpus version: its quote store and what the page derives from it.

``ServedCorpus.open`` opens (or builds) the quote store once per corpus version; the catalogue
(the ids a link may name), the countries' names and the ids the theme filter narrows are derived
once; the visible features and marker colours of a filter state and its month series are
remembered per state (least recently used first out), shared by every session. The quotes of a
selection are read a page at a time, and the downloads are made on their click.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from kzgeo import dashboard, freshness, mapview
from kzgeo.dashboard import ViewState
from kzgeo.quotestore import (
    NO_DATE,
    ArticleLanguages,
    ArticleTable,
    QuoteFilter,
    QuoteStore,
    geojson_with_quotes,
    serve_store,
)

STATES_REMEMBERED = 64  # filter states whose visible features are kept


class Download(NamedTuple):
    """One download button: its label, the function that makes its data, the file's name and
    type, and the column it stands in (0 left, 1 right); without data, a note saying why
    there is no button."""

    label: str
    data: Callable[[], str | bytes] | None
    file_name: str
    mime: str
    column: int


class ServedCorpus:
    """The quote store of one corpus version and what every session reads of it (never
    changed once made, so sessions share it)."""

    def __init__(self, store: QuoteStore, files_changed: dt.datetime | None = None) -> None:
        self.store = store
        self.files_changed = files_changed  # when the corpus folder's newest file changed
        articles = store.articles  # columns: objects only for the rows shown
        self.newest = articles.ordered(articles.newest_order())  # sorted once, not each run
        self.languages = ArticleLanguages(articles)
        self.names = dashboard.country_names(store.features)
        self.quotes = sum(dashboard.quote_count(f["properties"]) for f in store.features)
        self.themed = frozenset(dashboard.themed_ids(store.features))
        self.catalogue = catalogue_of_table(store.collection, articles)
        self.visible = functools.lru_cache(STATES_REMEMBERED)(self._visible)
        self._labels = functools.lru_cache(STATES_REMEMBERED)(
            lambda filters: dashboard.search_choices(self.visible(filters)[0]))
        self._choices = functools.lru_cache(STATES_REMEMBERED)(self._article_choices)
        self.months = functools.lru_cache(4 * STATES_REMEMBERED)(self._months)

    @classmethod
    def open(cls, folder: Path, signature: str,
             files_changed: dt.datetime | None | bool = False) -> ServedCorpus:  # fmt: skip
        """Serve the corpus in ``folder`` (``signature``: ``dashboard.folder_signature``;
        ``files_changed``: when its newest file changed, taken by the same listing, else
        looked up)."""
        if files_changed is False:
            files_changed = freshness.corpus_changed_at(folder)
        return cls(serve_store(folder, corpus_digest=signature), files_changed or None)

    def article(self, article_id: str | None, added: Sequence = ()) -> Any:
        """Return the corpus' or an ``added`` article with ``article_id``, or None."""
        found = self.store.articles.get(article_id)
        return found or next((a for a in added if a.id == article_id), None)

    def article_count(self, added: Sequence = ()) -> int:
        """Return how many articles the corpus and ``added`` hold."""
        return len(self.store.articles) + len(added)

    def newest_first(self, added: Sequence = (), arrivals: Mapping | None = None) -> Iterator:
        """Return the corpus' and the ``added`` articles newest first, arrived ones first
        (``freshness.newest_first``), without sorting the corpus' articles again."""
        return freshness.newest_first_with(self.newest, added, arrivals)

    def search_choices(self, filters: tuple, added: Sequence[dict] = ()) -> dict[str, str]:
        """Return the search's choices (``dashboard.search_choices``) of a filter state's
        visible features and the ``added`` ones (remembered per state without added ones)."""
        if added:
            return dashboard.search_choices([*self.visible(filters)[0], *added])
        return self._labels(filters)

    def article_choices(self, new: Sequence, selected: str | None, outlet: str | None) -> tuple:
        """Return the Article filter's choices (``dashboard.article_choices``) of the corpus'
        and the ``new`` articles (remembered per selection and outlet without new ones)."""
        if new:
            return dashboard.article_choices(self.newest_first(new), selected, outlet)
        return self._choices(selected, outlet)

    def _article_choices(self, selected: str | None, outlet: str | None) -> tuple:
        """Return ``dashboard.article_choices(self.newest, selected, outlet)`` from the
        articles' columns: objects only for the listed ones."""
        table, order = self.store.articles, self.newest.order
        if outlet is not None:
            code = table.outlets.index(outlet) if outlet in table.outlets else -1
            order = order[table.outlet_codes[order] == code]
        listed = table.rows(order[: dashboard.ARTICLE_CHOICES].tolist())
        chosen = table.get(selected)
        if chosen is not None and chosen not in listed:
            listed.append(chosen)
        return listed, len(order)

    def _visible(self, filters: tuple) -> tuple[tuple[dict, ...], dict[str, str]]:
        """Return the features one ``dashboard.filter_key`` leaves visible (with their counts)
        and their marker colours."""
        state = dashboard.state_of(filters)
        tallies = self.store.tallies(dashboard.quote_filter(state), self.themed)
        visible = dashboard.filter_counted(self.store.features, state, tallies)
        return tuple(visible), mapview.marker_colours(visible)

    def _months(self, filters: tuple, place: str | None) -> tuple[list[tuple[str, int]], bool]:
        """Return quotes per month of the selected feature if visible (else of the map), and
        whether it was the selection."""
        visible, _ = self.visible(filters)
        chosen = [f["id"] for f in visible if f["id"] == place]
        shown = chosen or [f["id"] for f in visible if not f["properties"].get("off_theme")]
        filter_ = dashboard.quote_filter(dashboard.state_of(filters))
        return dashboard.month_series(self.store.months(shown, filter_, self.themed)), bool(chosen)

    def quote_filter(self, feature_id: str, state: ViewState, hidden: bool) -> QuoteFilter | None:
        """Return the filter of a selection's quotes: none when the filters hide it (its quotes
        are shown in full); the themes narrow the quotes of places only."""
        if hidden:
            return None
        filters = dashboard.quote_filter(state)
        narrowed = not filters or feature_id in self.themed
        return filters if narrowed else replace(filters, themes=None)

    def page(self, feature: dict, filters: QuoteFilter | None, limit: int) -> tuple[int, list]:
        """Return how many quotes a feature has under ``filters`` and its first ``limit`` ones;
        an added article's place carries its own quotes."""
        quotes = feature["properties"].get("quotes")
        if quotes is not None:
            return len(quotes), quotes
        return self.store.page(feature["id"], filters, limit)

    def downloads(self, state: ViewState, visible: Sequence[dict], added: Sequence[dict],
                  limit: int | None = None) -> list:  # fmt: skip
        """Return the page's downloads: this view and its quotes, the whole dataset and every
        mention; each is made from the store when its button is clicked. A pair that would
        hold more than ``limit`` quotes (``dashboard.DOWNLOAD_QUOTES``) is a note instead
        (``data`` None): it would be made in the server's memory."""
        on_theme = [f for f in visible if not f["properties"].get("off_theme")]
        shown = [f["id"] for f in on_theme]

        def stored() -> Any:  # the view's quotes, read from the store
            return self.store.filtered_quotes(shown, dashboard.quote_filter(state), self.themed)

        view = {"type": "FeatureCollection"}
        in_view = sum(dashboard.quote_count(f["properties"]) for f in on_theme)
        everything = self.quotes + sum(dashboard.quote_count(f["properties"]) for f in added)
        downloads = []
        if note := dashboard.download_note("This view", in_view, limit):
            downloads.append(Download(note, None, "", "", 0))
        else:
            downloads += [
                Download("This view (GeoJSON)", lambda: geojson_with_quotes(
                    view, visible, stored()), "kzgeo-view.geojson", "application/geo+json", 0),
                Download("This view's quotes (CSV)", lambda: dashboard.quotes_csv(
                    visible, stored()), "kzgeo-view-quotes.csv", "text/csv", 0),
            ]  # fmt: skip
        if note := dashboard.download_note("The whole dataset", everything, limit, False):
            downloads.append(Download(note, None, "", "", 1))
        else:
            downloads += [
                Download("Whole dataset (GeoJSON)", lambda: self.store.geojson_text(added),
                         "kzgeo.geojson", "application/geo+json", 1),
                Download("All mentions (CSV)", lambda: b"".join(
                    self.store.mentions_csv_parts()), "kzgeo-mentions.csv", "text/csv", 1),
            ]  # fmt: skip
        return downloads


def catalogue_of_table(
    collection: Mapping[str, Any], articles: ArticleTable
) -> dashboard.Catalogue:
    """Return ``dashboard.catalogue_of(collection, articles)`` from the articles' columns."""
    ids = articles.ids
    by_outlet: dict[int, list[str]] = {}
    for code, article_id in zip(articles.outlet_codes.tolist(), ids, strict=True):
        by_outlet.setdefault(code, []).append(article_id)
    dated = articles.days[articles.days != NO_DATE]
    epoch = dt.date(1970, 1, 1)
    dates = (epoch + dt.timedelta(days=int(dated.min())),
             epoch + dt.timedelta(days=int(dated.max()))) if len(dated) else None
    return dashboard.Catalogue(
        feature_ids=frozenset(f["id"] for f in collection["features"]),
        article_ids=frozenset(ids),
        outlets=frozenset(articles.outlets[code] for code in by_outlet),
        article_ids_by_outlet={articles.outlets[code]: frozenset(members)
                               for code, members in by_outlet.items()},  # fmt: skip
        dates=dates,
    )
