"""kzgeo: the Streamlit front. `streamlit run app.py`.

A script of widgets over ``kzgeo``: the index is built once per process (cached), the view state
lives in the URL (``kzgeo.dashboard``), the map comes from ``kzgeo.mapview`` and is shown through
``kzgeo.streamlit_adapter`` (the one place that knows the framework's internals).
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from kzgeo import config, dashboard, mapview
from kzgeo import streamlit_adapter as ui
from kzgeo.assets import vendor_url_for
from kzgeo.corpus import CorpusError
from kzgeo.dashboard import ViewState
from kzgeo.index import ServedIndex, geojson_text, served_index
from kzgeo.ingest import LANGUAGES, IngestError
from kzgeo.layers import mark_of
from kzgeo.parallel import keep_for_good
from kzgeo.themes import THEME_IDS, THEMES

TITLE = "Kazakhstan in German-language reporting"
PAGE_TITLE = f"{TITLE}: a map of the sources (kzgeo)"
ALL = ""  # the "no filter" choice of a select box
THEME_LABELS = {theme.id: theme.label for theme in THEMES}
CREDITS = (
    "Places: [GeoNames](https://www.geonames.org/) (CC BY 4.0). Country outlines: "
    "[Natural Earth](https://www.naturalearthdata.com/) 1:10m (public domain). Pipelines and "
    "sites are schematic. Colours: Okabe–Ito. Map: Leaflet via folium, served from this app."
)


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
    """Return the view state the widgets hold."""
    return dashboard.state_from_widgets(st.session_state, dates)


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


# --- your own article: this session only (to be re-plumbed onto the user database) -------------
BYO_DEFAULTS = {"new_features": [], "byo_error": None, "byo_done": None,
                "byo_language": LANGUAGES[0]}  # fmt: skip


def byo_read(upload_or_text: str) -> None:
    """Guess title, outlet, date and language of the pasted text or uploaded file (errors shown)."""
    from kzgeo.ingest import guess_metadata

    s = st.session_state
    s["byo_error"], meta, overwrite = None, None, upload_or_text == "upload"
    try:
        if overwrite and s.get("byo_file") is not None:
            s["byo_text"], meta = dashboard.read_upload(s["byo_file"].getvalue(),
                                                        s["byo_file"].name)  # fmt: skip
        elif not overwrite and (s.get("byo_text") or "").strip():
            meta = guess_metadata(s["byo_text"])
    except IngestError as error:
        s["byo_error"] = str(error)
    guessed = {"byo_title": (meta or {}).get("title"), "byo_outlet": (meta or {}).get("outlet"),
               "byo_date": (meta or {}).get("date") and meta["date"].isoformat(),
               "byo_language": (meta or {}).get("language")}  # fmt: skip
    for key, value in guessed.items():
        if value and (overwrite or not s.get(key)):
            s[key] = value


def byo_map(index: ServedIndex, gazetteer) -> None:
    """Geoparse the form's article and add its places to this session's new features."""
    s = st.session_state
    s["byo_error"] = s["byo_done"] = None
    try:
        article, features = dashboard.user_article_features(
            s.get("byo_text") or "", s.get("byo_title") or "", s.get("byo_outlet") or "",
            s.get("byo_date") or None, s.get("byo_language") or None, gazetteer(),
            index.collection)  # fmt: skip
    except IngestError as error:
        s["byo_error"] = str(error)
        return
    s["new_features"] = dashboard.merge_new_features(s["new_features"], features)
    found = ", ".join(f["properties"]["name"] for f in features)
    s["byo_done"] = f"“{article.title}”: " + (
        f"{len(features)} place(s) on the map, marked new: {found}." if features
        else "no places found in the text.")  # fmt: skip


def byo_remove() -> None:
    """Forget this session's own articles (and a selection of one of their places)."""
    st.session_state.update(new_features=[], byo_done=None, byo_error=None)
    if dashboard.is_new_id(st.session_state.get("place")):
        select(None)


def show_own_article_form(index: ServedIndex, gazetteer) -> None:
    """Draw the sidebar form to paste or upload an article and map it in this session."""
    for key, value in BYO_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.sidebar, st.expander("Add your own article", expanded=False):
        st.caption("Paste a German or English article or upload a file; its places appear on "
                   "the map marked new, for this session only (nothing is saved).")
        st.file_uploader("Upload .txt, .md or .html", key="byo_file", on_change=byo_read,
                         args=("upload",), help="HTML is reduced to its article text.")
        st.text_area("Article text", key="byo_text", height=160, on_change=byo_read,
                     args=("text",))  # fmt: skip
        st.text_input("Title", key="byo_title")
        st.text_input("Outlet (newspaper or site)", key="byo_outlet")
        st.text_input("Date (YYYY-MM-DD)", key="byo_date", placeholder="2025-03-14")
        st.radio("Language", options=list(LANGUAGES), key="byo_language", horizontal=True,
                 format_func={"de": "German", "en": "English"}.get)  # fmt: skip
        st.button("Map this article", key="byo_map", on_click=byo_map, args=(index, gazetteer))
        if st.session_state["byo_error"]:
            st.error(st.session_state["byo_error"])
        if st.session_state["byo_done"]:
            st.success(st.session_state["byo_done"])
        if st.session_state["new_features"]:
            st.button("Remove my articles", key="byo_remove", on_click=byo_remove)


# --- the panel beside the map ------------------------------------------------------------------
def show_search_and_filters(index: ServedIndex, visible: tuple, dates) -> None:
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
    articles = {a.id: a for a in index.articles}
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
    rows = mapview.legend_entries([*visible, *st.session_state.get("new_features", [])], colours,
                                  [(t.colour, t.label) for t in THEMES])  # fmt: skip
    ui.show_html(mapview.legend_html(rows))


def show_panel(index: ServedIndex, state: ViewState, visible: tuple, names: dict) -> None:
    """Show the selected feature: what it is, its attributes and every quote, by article."""
    feature, hidden = dashboard.find_feature(
        state.place, visible, index.collection["features"], st.session_state["new_features"])
    if feature is not None and feature["properties"].get("off_theme"):
        feature, hidden = index.feature(feature["id"]), True
    if hidden:
        st.info("The selection is hidden by the current filters; its quotes are shown in full.")
    if feature is None:
        return show_overview(visible, index.articles, state)
    p = feature["properties"]
    mark = mark_of(p)
    st.subheader(p["name"])
    st.caption(" · ".join(dict.fromkeys(
        s for s in (p.get("name_de"), p["kind"], f"location: {p['precision']}") if s
    )))  # fmt: skip
    if p.get("new"):
        ui.show_html(f'<span class="kz-new">{html.escape(dashboard.NEW_NOTE)}</span>')
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
    show_quotes(feature["id"], quotes, {a.id: a.language for a in index.articles})


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
    ui.show_html(dashboard.article_list_html(articles))


def show_timeline(state: ViewState, folder: str, signature: str) -> None:
    """Draw mentions per month for the visible features (or the selected one)."""
    months, selected = cached_months(folder, signature, dashboard.filter_key(state), state.place)
    if months:
        st.markdown(f"**Mentions per month** ({'the selection' if selected else 'the map'})")
        st.vega_lite_chart(pd.DataFrame(months, columns=["month", "quotes"]),
                           dashboard.TIMELINE_SPEC, width="stretch")  # fmt: skip


def show_share_and_export(state: ViewState, visible: tuple, index: ServedIndex) -> None:
    """Keep the view in the URL; offer its link and downloads (each made on its click)."""
    query = dashboard.to_query(state)
    ui.write_query(query)
    link = ui.page_url() + ("?" + urlencode(query, safe=",", quote_via=quote) if query else "")
    with st.expander("Share this view and export data", expanded=False):
        st.caption("Link to this view, the map's position and zoom included:")
        ui.show_share_box(link)
        left, right = st.columns(2)
        view = {"type": "FeatureCollection", "features": list(visible)}
        for column, label, data, name, mime in (
            (left, "This view (GeoJSON)", lambda: geojson_text(view), "kzgeo-view.geojson",
             "application/geo+json"),
            (left, "This view's quotes (CSV)", lambda: dashboard.quotes_csv(visible),
             "kzgeo-view-quotes.csv", "text/csv"),
            (right, "Whole dataset (GeoJSON)", lambda: geojson_text(index.collection),
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
    days = [a.date for a in index.articles if a.date] or [dt.date.today()]
    st.session_state["dates_bounds"] = dates = (min(days), max(days))
    initialise_from_url(catalogue, dates)
    for notice in st.session_state["notices"]:
        st.info(notice)
    show_own_article_form(index, cached_gazetteer)
    state = current_state(dates)
    visible, colours = cached_visible(str(folder), signature, dashboard.filter_key(state))
    map_col, panel_col = st.columns([7, 3], gap="small")
    with map_col:
        new = tuple(st.session_state.get("new_features", []))
        new_key = tuple((f["id"], len(f["properties"]["quotes"])) for f in new)
        asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
        filters = dashboard.filter_key(state)
        args = cached_map(str(folder), signature, filters, new_key, asset_url, new)
        ui.draw_map(args, on_value=take_map_click)
    with panel_col:  # on a phone it follows the map
        show_search_and_filters(index, visible, dates)
        with st.container(key="kz-selection"):  # on a phone: right after the map
            show_panel(index, current_state(dates), visible, names)
        show_legend(visible, colours)  # on a wide screen: above the selection
        show_timeline(current_state(dates), str(folder), signature)
    show_share_and_export(current_state(dates), visible, index)
    st.caption(f"{CREDITS} Outlets: "
               f"{dashboard.escape_markdown(', '.join(sorted(catalogue.outlets)))}.")


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
