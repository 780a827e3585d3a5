"""kzgeo: the Streamlit front. `streamlit run app.py`.

A script of widgets over ``kzgeo``: the index is built once per process (cached), the view state
lives in the URL (``kzgeo.dashboard``), the map comes from ``kzgeo.mapview`` and is shown through
``kzgeo.streamlit_adapter`` (the one place that knows the framework's internals).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from kzgeo import config, dashboard, freshness, mapview
from kzgeo import streamlit_adapter as ui
from kzgeo.assets import vendor_url_for
from kzgeo.corpus import CorpusError
from kzgeo.credits import credits_markdown
from kzgeo.dashboard import ViewState
from kzgeo.index import ServedIndex, geojson_text, served_index
from kzgeo.ingest import LANGUAGES, IngestError, add_to_collection, fetch_article, guess_metadata
from kzgeo.layers import mark_of
from kzgeo.parallel import keep_for_good
from kzgeo.store import (
    DATABASE_ENV_VAR,
    CollectionError,
    CollectionView,
    Store,
    StoreUnavailable,
    is_token,
    open_store,
    rate_limit,
    store_from_engine,
    view_collection,
)
from kzgeo.themes import THEME_IDS, THEMES

TITLE = "Kazakhstan in German-language reporting"
PAGE_TITLE = f"{TITLE}: a map of the sources (kzgeo)"
ALL = ""  # the "no filter" choice of a select box
THEME_LABELS = {theme.id: theme.label for theme in THEMES}
CREDITS = f"{credits_markdown()} Colours: Okabe–Ito. Map: Leaflet via folium, served from this app."


@st.cache_resource(show_spinner="Reading the corpus index …", max_entries=4)
def cached_index(folder: str, signature: str) -> ServedIndex:
    """Return the corpus' served index, shared by every session (never mutated)."""
    index = served_index(Path(folder))[0]
    keep_for_good()
    return index


@st.cache_resource(max_entries=4)
def cached_catalogue(folder: str, signature: str) -> tuple[dashboard.Catalogue, dict]:
    """Return the valid ids of the index for URL checks, and the countries' names."""
    index = cached_index(folder, signature)
    names = dashboard.country_names(index.collection["features"])
    return dashboard.catalogue_of(index.collection, index.articles), names


@st.cache_resource(show_spinner="Loading the gazetteer …")
def cached_gazetteer():
    """Return the gazetteer for geoparsing the user's own articles (shared, never changed)."""
    from kzgeo.gazetteer import load_gazetteer

    gazetteer = load_gazetteer()
    keep_for_good()
    return gazetteer


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_visible(folder: str, signature: str, filters: tuple) -> tuple[tuple, dict]:
    """Return the visible features and their marker colours for one ``filter_key``."""
    features = cached_index(folder, signature).collection["features"]
    catalogue = cached_catalogue(folder, signature)[0]
    visible = dashboard.filter_features(features, dashboard.state_of(filters), catalogue)
    return tuple(visible), mapview.marker_colours(visible)


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_map(folder: str, signature: str, filters: tuple, new_key: tuple, asset_url: str,
               _new: tuple = ()) -> dict:  # fmt: skip
    """Return the rendered map of one filter state and set of the user's new places."""
    visible, colours = cached_visible(folder, signature, filters)
    return ui.map_component_args(mapview.dashboard_map(visible, colours, _new, asset_url))


@st.cache_data(max_entries=256, show_spinner=False)
def cached_months(folder: str, signature: str, filters: tuple, place: str | None) -> tuple:
    """Return quotes per month of the selected feature (else of the map), and which it is."""
    visible, _ = cached_visible(folder, signature, filters)
    chosen = [f for f in visible if f["id"] == place]
    return dashboard.mentions_by_month(chosen or visible), bool(chosen)


def initialise_from_url(catalogue: dashboard.Catalogue, dates: tuple[dt.date, dt.date]) -> None:
    """On a session's first run, set the widgets from the link it was opened with."""
    if "initialised" in st.session_state:
        return
    state, notices = dashboard.parse_query(ui.query_params(), catalogue)
    st.session_state.update(initialised=True, notices=notices, clicks=0,
                            **dashboard.widget_values(state, dates))  # fmt: skip


def current_state(dates: tuple[dt.date, dt.date]) -> ViewState:
    """Return the view state the widgets hold, with the session's collection."""
    state = dashboard.state_from_widgets(st.session_state, dates)
    return replace(state, collection=st.session_state["collection"])


def take_collection_from_url() -> None:
    """On a session's first run, take the collection (and an edit token) the link names."""
    for key, value in ADD_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    if "initialised" in st.session_state:
        return
    params = ui.query_params()
    for key, name in (("collection", "collection"), ("edit", "edit_token")):
        value = dashboard.first_value(params.get(key))
        if is_token(value):
            st.session_state[name] = value


def select(feature_id: str | None) -> None:
    """Select a feature (None clears the selection)."""
    st.session_state["place"] = feature_id


def take_map_click(value: dict | None) -> None:
    """Select what the user clicked or tapped on the map (repeats too: the count changes)."""
    count, feature_id = ui.clicked(value)
    if feature_id and count != st.session_state.get("clicks"):
        st.session_state["clicks"] = count
        select(feature_id)


def clear_filter(name: str, dates: tuple[dt.date, dt.date]) -> None:
    """Clear one filter ("themes": switch every theme on)."""
    defaults = {"themes": list(THEME_IDS), "article": ALL, "outlet": ALL, "dates": dates}
    st.session_state[name] = defaults[name]


# --- added articles: a collection in the database, shown to whoever has its link ---------------
ADD_DEFAULTS = {"add_error": None, "add_done": None, "add_language": LANGUAGES[0], "add_url": "",
                "add_times": [], "edit_token": None, "collection": None}  # fmt: skip
ADD_FIELDS = ("add_text", "add_title", "add_outlet", "add_author", "add_date", "add_url")


@st.cache_resource(show_spinner=False)
def cached_store() -> Store:
    """Return the store of added articles: $KZGEO_DATABASE_URL, else ``st.connection("kzgeo")``
    when the secrets configure it, else the SQLite file in the data folder."""
    engine = None if os.environ.get(DATABASE_ENV_VAR) else ui.configured_connection_engine()
    return store_from_engine(engine) if engine is not None else open_store()


@st.cache_resource(max_entries=16, show_spinner="Mapping the collection's articles …")
def cached_collection_features(folder: str, signature: str, key: tuple, _articles: tuple) -> tuple:
    """Return the places of a collection's articles (``key``: their ids and texts' hashes); no
    collection needs no gazetteer (a fresh deployment's first map would wait for its build)."""
    if not _articles:
        return ()
    index = cached_index(folder, signature)
    return tuple(dashboard.collection_features(_articles, cached_gazetteer(), index.collection))


def collection_view(folder: str, signature: str) -> tuple[CollectionView, tuple]:
    """Return the session's collection (or a notice why not) and its places."""
    view = view_collection(st.session_state["collection"], cached_store)
    key = tuple((a.id, hash(a.text)) for a in view.articles)
    return view, cached_collection_features(folder, signature, key, view.articles)


def fill_form(source: str) -> None:
    """Prefill the form from the web address, the uploaded file or the pasted text."""
    s = st.session_state
    s["add_error"], meta = None, {}
    try:
        if source == "url" and s.get("add_url", "").strip():
            fetched = fetch_article(s["add_url"].strip())
            s["add_text"], s["add_url"], meta = fetched.text, fetched.url, fetched.metadata
        elif source == "upload" and s.get("add_file") is not None:
            upload = s["add_file"]
            s["add_text"], meta = dashboard.read_upload(upload.getvalue(), upload.name)
        elif source == "text" and (s.get("add_text") or "").strip():
            meta = guess_metadata(s["add_text"])
    except IngestError as error:
        s["add_error"] = str(error)
    for field in ("title", "outlet", "author", "date", "language"):
        value = meta.get(field)
        if value and (source != "text" or not s.get(f"add_{field}")):
            s[f"add_{field}"] = value.isoformat() if hasattr(value, "isoformat") else value


def add_article() -> None:
    """Geoparse and store the form's article in the session's collection (or a new one)."""
    s = st.session_state
    s["add_error"] = s["add_done"] = None
    wait = rate_limit(s["add_times"], time.time())
    if wait:
        s["add_error"] = f"Too many additions from this session; try again in {wait:.0f} s."
        return
    token = s["edit_token"] if s["collection"] else None  # a view link only: a new collection
    try:
        added = add_to_collection(
            cached_store(), s.get("add_text") or "", s.get("add_title") or "",
            s.get("add_outlet") or "", s.get("add_date") or None, cached_gazetteer(),
            author=s.get("add_author") or None, language=s.get("add_language"),
            url=s.get("add_url", "").strip() or None,
            collection_id=s["collection"] if token else None, edit_token=token)  # fmt: skip
    except (IngestError, CollectionError, StoreUnavailable) as error:
        s["add_error"] = str(error)
        return
    s["add_times"] = [*s["add_times"], time.time()]
    s["collection"] = added.collection.id
    s["edit_token"] = added.edit_token or token
    found = (f"{len(added.places)} place(s) on the map (magenta markers)" if added.places
             else "no places found in the text")  # fmt: skip
    s["add_done"] = (f"“{added.article.title}”: {found}; kept in your collection, whose links "
                     "are under “Share this view”.")  # fmt: skip
    for key in ADD_FIELDS:
        s[key] = ""


def remove_article(article_id: str) -> None:
    """Remove an article from the collection (edit link only)."""
    s = st.session_state
    try:
        cached_store().remove_article(s["collection"], s["edit_token"], article_id)
    except (CollectionError, StoreUnavailable) as error:
        s["add_error"] = str(error)


def rename_collection() -> None:
    """Rename the collection (edit link only)."""
    s = st.session_state
    try:
        cached_store().rename(s["collection"], s["edit_token"], s.get("add_name") or "")
    except (CollectionError, StoreUnavailable) as error:
        s["add_error"] = str(error)


def show_add_form(view: CollectionView) -> None:
    """Draw the sidebar: add an article by web address, file or text; edit the collection."""
    s = st.session_state
    can_edit = view.collection is not None and bool(s["edit_token"])
    opened = bool(s["add_error"] or s["add_done"])
    with st.expander("Add an article (kept in a collection you can share)", expanded=opened):
        st.caption("Give a web address, a file or the text of a German or English article. Its "
                   "places appear on the map and are kept in a collection that anyone with its "
                   "link sees." + ("" if can_edit or view.collection is None else
                                   " This is a view link: adding starts a collection of your "
                                   "own."))  # fmt: skip
        st.text_input("Web address", key="add_url", placeholder="https://…")
        st.button("Fetch the article", key="add_fetch", on_click=fill_form, args=("url",))
        st.file_uploader("…or upload .txt, .md or .html", key="add_file", on_change=fill_form,
                         args=("upload",), help="HTML is reduced to its article text.")
        st.text_area("…or paste the text", key="add_text", height=140, on_change=fill_form,
                     args=("text",))  # fmt: skip
        st.text_input("Title", key="add_title")
        st.text_input("Outlet (newspaper or site)", key="add_outlet")
        st.text_input("Author", key="add_author")
        st.text_input("Date (YYYY-MM-DD)", key="add_date", placeholder="2025-03-14")
        st.radio("Language", options=list(LANGUAGES), key="add_language", horizontal=True,
                 format_func={"de": "German", "en": "English"}.get)  # fmt: skip
        st.button("Add to the map", key="add_go", type="primary", on_click=add_article)
        if s["add_error"]:
            st.error(s["add_error"])
        if s["add_done"]:
            st.success(s["add_done"])
        if can_edit:
            st.markdown(f"**Your collection ({len(view.articles)} articles)**")
            st.text_input("Name", value=view.collection.name, key="add_name")
            st.button("Rename", key="add_rename", on_click=rename_collection)
            for article in view.articles:
                st.button(f"Remove “{article.title}”", key=f"remove-{article.id}",
                          on_click=remove_article, args=(article.id,))  # fmt: skip


# --- the panel beside the map ------------------------------------------------------------------
def show_search_and_filters(articles: list, visible: tuple, dates) -> None:
    """Draw the search over everything on the map, the theme toggles and the other filters."""
    labels = {f["id"]: dashboard.search_label(f["properties"]) for f in visible}
    st.selectbox(
        "Find anything on the map (name, German name or abbreviation)",
        options=sorted(labels, key=lambda i: labels[i].casefold()), format_func=labels.get,
        index=None, placeholder="e.g. Moskau, Tengiz, CPC, Baikonur …", key="search",
        on_change=lambda: select(st.session_state["search"] or st.session_state["place"]),
    )  # fmt: skip
    st.pills(
        "Theme layers", options=list(THEME_IDS), selection_mode="multi",
        format_func=THEME_LABELS.get, key="themes",
        help="Shows the places and layers tagged with a theme that is switched on.",
    )  # fmt: skip
    articles = {a.id: a for a in articles}
    with st.expander("Filter by article, outlet or date"):
        st.selectbox("Article", options=[ALL, *articles], key="article", format_func=lambda i:
                     "All articles" if i == ALL else article_label(articles[i]))  # fmt: skip
        st.selectbox("Outlet", options=[ALL, *sorted({a.outlet for a in articles.values()})],
                     format_func=lambda o: o or "All outlets", key="outlet")  # fmt: skip
        if dates[0] < dates[1]:
            st.slider("Publication date", min_value=dates[0], max_value=dates[1], key="dates",
                      format="D MMM YYYY")  # fmt: skip


def article_label(article) -> str:
    """Return 'title — outlet, date' for an article."""
    return f"{article.title} — {article.outlet}, {dashboard.format_date(article.date)}"


def show_legend(visible: tuple, colours: dict) -> None:
    """Draw the legend of every kind of mark the map draws."""
    rows = mapview.legend_entries(visible, colours,
                                  [(t.colour, t.label) for t in THEMES])  # fmt: skip
    ui.show_html(mapview.legend_html(rows))


def show_panel(index: ServedIndex, state: ViewState, visible: tuple, names: dict,
               added: tuple, articles: list) -> None:  # fmt: skip
    """Show the selected feature: what it is, its attributes and every quote, by article."""
    feature, hidden = dashboard.find_feature(
        state.place, visible, [*index.collection["features"], *added])
    if feature is not None and feature["properties"].get("off_theme"):
        feature, hidden = index.feature(feature["id"]), True
    if hidden:
        st.info("The selection is hidden by the current filters; its quotes are shown in full.")
    if feature is None:
        return show_overview(visible, articles, state)
    p = feature["properties"]
    mark = mark_of(p)
    st.subheader(p["name"])
    st.caption(" · ".join(dict.fromkeys(
        s for s in (p.get("name_de"), p["kind"], f"location: {p['precision']}") if s
    )))  # fmt: skip
    if p.get("new"):
        ui.show_html(f'<span class="kz-new">{html.escape(dashboard.NEW_NOTE)}</span>')
    if mapview.is_unsure(p):
        st.warning(f"The geoparser is unsure this is the place meant (confidence "
                   f"{p['confidence']:.2f}): check the quotes below.")
    st.button("Clear selection", key="clear", on_click=select, args=(None,))
    rows = dashboard.attribute_rows(p, names)
    if rows:
        ui.show_html(dashboard.attributes_html(rows, f"About this {p['kind']}"))
    quotes = p["quotes"]
    if not quotes and not hidden:
        st.info(f"{dashboard.CONTEXT_NOTE} Drawn as context: {mark.reason}.")
        return
    filtered = " matching the filters" if dashboard.filters_quotes(state) else ""
    st.markdown(f"**{len(quotes):,} quote{'s' * (len(quotes) != 1)}{filtered}**")
    show_quotes(feature["id"], quotes, {a.id: a.language for a in articles})


def show_quotes(feature_id: str, quotes: list, languages: dict) -> None:
    """Show the quotes by article, newest first, a page at a time (a button shows more)."""
    shown_key = f"shown-{feature_id}"
    limit = st.session_state.get(shown_key, dashboard.QUOTES_PER_PAGE)
    groups = dashboard.first_quotes(dashboard.group_quotes(quotes), limit)
    ui.show_html("".join(
        dashboard.article_group_html(first, group, languages.get(first["article_id"]) or "de")
        for first, group in groups
    ))  # fmt: skip
    if len(quotes) > limit:
        more = min(dashboard.QUOTES_PER_PAGE, len(quotes) - limit)
        st.caption(f"Showing {limit} of {len(quotes)} quotes.")
        if st.button(f"Show {more} more", key=f"more-{feature_id}"):
            st.session_state[shown_key] = limit + more
            st.rerun()


def show_overview(visible: tuple, articles, state: ViewState) -> None:
    """Show the most mentioned places and every article when nothing is selected."""
    top = dashboard.most_mentioned(visible)
    st.subheader("Sources")
    if not top:
        title = next((a.title for a in articles if a.id == state.article), None)
        reason, helps = dashboard.empty_reason(state, title)
        (st.warning if helps else st.caption)(reason)  # a filter to clear, or the corpus
        dates = st.session_state["dates_bounds"]
        for name in helps:
            label = "Switch every theme on" if name == "themes" else f"Clear the {name} filter"
            st.button(label, key=f"clear-{name}", on_click=clear_filter, args=(name, dates))
    else:
        shown = sum(1 for f in visible if f["properties"]["quotes"])
        st.write(f"{shown:,} places and features with quotes are shown. Click, tap or find one "
                 "to read every sentence that names it.")  # fmt: skip
        st.markdown("**Most mentioned**")
        for f in top:
            st.button(f"{f['properties']['name']} · {len(f['properties']['quotes']):,}",
                      key=f"top-{f['id']}", on_click=select, args=(f["id"],))  # fmt: skip
    st.subheader(f"Articles ({len(articles)})")
    arrivals = freshness.corpus_arrivals(config.corpus_dir())
    changed = freshness.changed_at(arrivals) or freshness.corpus_changed_at(config.corpus_dir())
    now = dt.datetime.now(dt.UTC)
    if changed:
        st.caption(f"The corpus last changed {freshness.ago(changed, now)} "
                   f"({dashboard.format_date(changed.date())}, {changed:%H:%M} UTC); newest "
                   "arrivals first.")  # fmt: skip
    ui.show_html(dashboard.article_list_html(articles, arrivals, now))


def show_timeline(state: ViewState, folder: str, signature: str) -> None:
    """Draw mentions per month for the visible features (or the selected one)."""
    months, selected = cached_months(folder, signature, dashboard.filter_key(state), state.place)
    if months:
        st.markdown(f"**Mentions per month** ({'the selection' if selected else 'the map'})")
        st.vega_lite_chart(pd.DataFrame(months, columns=["month", "quotes"]),
                           dashboard.TIMELINE_SPEC, width="stretch")  # fmt: skip


def show_share_and_export(state: ViewState, visible: tuple, index: ServedIndex,
                          added: tuple) -> None:  # fmt: skip
    """Keep the view in the URL; offer its link and downloads (each made on its click)."""
    query = dashboard.to_query(state)
    ui.write_query(query)
    link = ui.page_url() + ("?" + urlencode(query, safe=",", quote_via=quote) if query else "")
    token = st.session_state["edit_token"]
    with st.expander("Share this view and export data", expanded=bool(token and added)):
        st.caption("Link to this view, the map's position and zoom included:")
        ui.show_share_box(link)
        if token and state.collection:
            edit = {"collection": state.collection, "edit": token}
            st.caption("Edit link of your collection: it can add and remove articles. Keep it "
                       "to yourself; share the view link above.")  # fmt: skip
            st.code(ui.page_url() + "?" + urlencode(edit), language=None)
        everything = {**index.collection, "features": [*index.collection["features"], *added]}
        left, right = st.columns(2)
        view = {"type": "FeatureCollection", "features": list(visible)}
        for column, label, data, name, mime in (
            (left, "This view (GeoJSON)", lambda: geojson_text(view), "kzgeo-view.geojson",
             "application/geo+json"),
            (left, "This view's quotes (CSV)", lambda: dashboard.quotes_csv(visible),
             "kzgeo-view-quotes.csv", "text/csv"),
            (right, "Whole dataset (GeoJSON)", lambda: geojson_text(everything),
             "kzgeo.geojson", "application/geo+json"),
            (right, "All mentions (CSV)", index.mentions_csv, "kzgeo-mentions.csv", "text/csv"),
        ):  # fmt: skip
            column.download_button(label, data, name, mime, on_click="ignore")


def main() -> None:
    """Lay out the page: title, the map beside its panel, share and credits."""
    st.set_page_config(page_title=PAGE_TITLE, page_icon="🗺️", layout="wide",
                       initial_sidebar_state="collapsed")  # fmt: skip
    ui.style_page()
    ui.show_html(f'<h1 class="kz-title">{TITLE}</h1><p class="kz-subtitle">A map of where the '
                 "articles happen and what the sources actually say: click a place, pipeline, "
                 "border or country.</p>")  # fmt: skip
    folder = config.corpus_dir()
    signature = dashboard.folder_signature(folder)
    try:
        index = cached_index(str(folder), signature)
    except CorpusError as error:
        st.error(f"The corpus could not be loaded: {error}. Point the environment variable "
                 f"`{config.CORPUS_ENV_VAR}` at a folder of article files, or restore `corpus/`.")
        countries = mapview.read_geojson(config.GEODATA_DIR / "countries.geojson")
        asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
        ui.draw_map(ui.map_component_args(mapview.build_map(countries, asset_url=asset_url)), ())
        st.subheader("Articles (0)")
        return
    if index.warnings:
        st.warning(f"{len(index.warnings)} problem(s) while loading the corpus:\n\n"
                   + "\n".join(f"- {dashboard.escape_markdown(' '.join(w.split()))}"
                               for w in index.warnings))  # fmt: skip
    catalogue, names = cached_catalogue(str(folder), signature)
    take_collection_from_url()
    view, added_all = collection_view(str(folder), signature)
    articles = [*index.articles, *view.articles]
    catalogue = dashboard.with_collection(catalogue, added_all, view.articles)
    days = [a.date for a in articles if a.date] or [dt.date.today()]
    st.session_state["dates_bounds"] = dates = (min(days), max(days))
    initialise_from_url(catalogue, dates)
    for notice in [*st.session_state["notices"], *filter(None, [view.notice])]:
        st.info(notice)
    state = current_state(dates)
    visible, colours = cached_visible(str(folder), signature, dashboard.filter_key(state))
    added = tuple(dashboard.filter_features(added_all, state, catalogue))
    map_col, panel_col = st.columns([7, 3], gap="small")
    with map_col:
        added_key = tuple((f["id"], len(f["properties"]["quotes"])) for f in added)
        asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
        filters = dashboard.filter_key(state)
        args = cached_map(str(folder), signature, filters, added_key, asset_url, added)
        ui.draw_map(args, on_value=take_map_click)
    with panel_col:  # on a phone it follows the map
        show_search_and_filters(articles, (*visible, *added), dates)
        show_add_form(view)
        with st.container(key="kz-selection"):  # on a phone: right after the map
            show_panel(index, current_state(dates), (*visible, *added), names, added_all,
                       articles)
        show_legend((*visible, *added), colours)  # on a wide screen: above the selection
        show_timeline(current_state(dates), str(folder), signature)
    show_share_and_export(current_state(dates), (*visible, *added), index, added_all)
    st.caption(f"{CREDITS} Outlets: "
               f"{dashboard.escape_markdown(', '.join(sorted(catalogue.outlets)))}.")


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
