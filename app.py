"""kzgeo: the Streamlit front. `streamlit run app.py`.

A thin layer of widgets over ``kzgeo``: the index is built once per process (cached), the view
state lives in the URL (``kzgeo.dashboard``), the map comes from ``kzgeo.mapview``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import folium
import pandas as pd
import streamlit as st
import streamlit_folium

from kzgeo import config, dashboard, mapview
from kzgeo.assets import vendor_url_for
from kzgeo.corpus import CorpusError
from kzgeo.dashboard import ViewState
from kzgeo.index import ServedIndex, geojson_text, served_index
from kzgeo.ingest import LANGUAGES, IngestError
from kzgeo.parallel import keep_for_good
from kzgeo.themes import THEME_IDS, THEMES

MAP_KEY = "kzgeo_map"
MAP_RETURNS = ("last_active_drawing", "last_object_clicked_count")  # no pan or zoom: no rerun
ARTICLES_LISTED = 25  # the overview lists the newest articles; the Article filter has them all
ALL = ""  # the "no filter" choice of a select box
MAP_HEIGHT = 600
THEME_LABELS = {theme.id: theme.label for theme in THEMES}
THEME_COLOURS = {theme.id: theme.colour for theme in THEMES}
CREDITS = (
    "Places: [GeoNames](https://www.geonames.org/) (CC BY 4.0). Country outlines: "
    "[Natural Earth](https://www.naturalearthdata.com/) 1:10m (public domain). Pipelines and "
    "sites are schematic. Every quote names its article and outlet. Map: Leaflet via folium, "
    "served from this app."
)
PANEL_CSS = """<style>
.kz-quote {border-left: 3px solid #00799A; padding: 0.2rem 0.6rem; margin: 0.3rem 0 0.6rem 0;}
.kz-quote mark {background: #ffe08a; padding: 0 0.1rem;}
.kz-new {background: #ff2bd6; color: #fff; border-radius: 0.6rem; padding: 0.1rem 0.5rem;
  font-size: 0.85rem; font-weight: 600;}
.kz-legend {display: inline-block; margin-right: 0.9rem; font-size: 0.85rem;}
.kz-legend span {display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 50%;
  margin-right: 0.3rem; vertical-align: middle;}
</style>"""


def folder_signature(folder: Path) -> str:
    """Return a digest of the folder's file names, sizes and times, so edits invalidate the
    caches (short: every cached call hashes it, whatever the number of files)."""
    if not folder.is_dir():
        return ""
    listing = sorted(
        f"{entry.name}\0{entry.stat().st_size}\0{entry.stat().st_mtime_ns}"
        for entry in os.scandir(folder)
        if entry.is_file()
    )
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


@st.cache_resource(show_spinner="Reading the corpus index (geoparsing it if it changed) …",
                   max_entries=4)
def cached_index(folder: str, signature: str) -> ServedIndex:
    """Return the corpus' served index, shared by every session (never mutated): read from its
    artifact, or built (and saved) when the corpus, geodata or code changed."""
    index = served_index(Path(folder))[0]
    keep_for_good()
    return index


@st.cache_resource(max_entries=4)
def cached_catalogue(folder: str, signature: str) -> dashboard.Catalogue:
    """Return the valid ids of the index for URL checks."""
    index = cached_index(folder, signature)
    return dashboard.catalogue_of(index.collection, index.articles)


@st.cache_resource(show_spinner="Loading the gazetteer …")
def cached_gazetteer():
    """Return the gazetteer for geoparsing the user's own articles, shared by every session.

    Its data is never changed; geoparsing keeps bounded memos of pure look-ups on it, which
    sessions may share (see kzgeo.resolve._resolution).
    """
    from kzgeo.gazetteer import load_gazetteer

    gazetteer = load_gazetteer()
    keep_for_good()
    return gazetteer


def filter_key(state: ViewState) -> tuple:
    """Return what in ``state`` decides the visible features: themes, article, outlet, dates."""
    return (state.themes, state.article, state.outlet, state.date_from, state.date_to)


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_visible(folder: str, signature: str, filters: tuple) -> tuple[tuple, dict]:
    """Return the visible features and their marker colours for one ``filter_key``."""
    index = cached_index(folder, signature)
    themes, article, outlet, date_from, date_to = filters
    state = ViewState(
        themes=themes, article=article, outlet=outlet, date_from=date_from, date_to=date_to
    )
    visible = dashboard.filter_features(
        index.collection["features"], state, cached_catalogue(folder, signature)
    )
    colours = {
        f["id"]: THEME_COLOURS.get(dashboard.main_theme(f["properties"]) or "", "#666666")
        for f in visible
    }
    return tuple(visible), colours


# --- the map: rendered once per content, shown by streamlit-folium's own component --------------
def map_component_args(m: folium.Map) -> dict:
    """Return what ``st_folium`` (streamlit-folium 0.27.4, pinned) sends to its component for
    ``m``, without the per-run parts (key callback, size).

    ``st_folium`` renders the whole folium map on every script run (a third of a second for this
    one); the map only changes with the filters and the user's own articles, so the app renders
    it once per content (``cached_map``) and ``draw_map`` hands the result to the component.
    ``tests/test_app_map.py`` checks this equals what ``st_folium`` itself sends.
    """
    sf = streamlit_folium
    m.get_root().render()
    m.render()
    html_part, header = sf._get_html(m), sf._get_header(m)
    script = sf._get_map_string(m)
    css: list[str] = []
    js: list[str] = []
    for element in walk_elements(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return {
        "script": script,
        "header": header,
        "html": html_part,
        "id": sf.get_full_id(m),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "hash": sf.generate_js_hash(script, MAP_KEY, False),
    }


def walk_elements(element):
    """Yield a folium element and all its children (what may carry CSS and JS links)."""
    if isinstance(element, folium.elements.JSCSSMixin):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from walk_elements(child)


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_map(
    folder: str, signature: str, filters: tuple, new_key: tuple, asset_url: str,
    _new_features: tuple = (),
) -> dict:
    """Return the component arguments of the map for one filter state and set of the user's
    new places (``new_key`` names them; shared, never mutated)."""
    visible, colours = cached_visible(folder, signature, filters)
    countries = {
        "type": "FeatureCollection",
        "features": [
            mapview.slim_feature(f, None)
            for f in visible
            if f["properties"]["layer"] == "countries"
        ],
    }
    overlays = mapview.index_layers(
        [f for f in visible if f["properties"]["layer"] != "countries"] + list(_new_features),
        colours,
    )
    # Built at the home view, so panning never changes the map's HTML (a new HTML remounts the
    # map); the map itself takes the page's view from the URL and keeps it there (ViewInUrl).
    return map_component_args(mapview.build_map(countries, overlays=overlays, asset_url=asset_url))


def draw_map(
    args: dict, returned: tuple[str, ...] = MAP_RETURNS, on_value: Callable | None = None
) -> dict | None:
    """Show a rendered map (``map_component_args``); return what the user last clicked.

    ``on_value(value)`` runs when the map sends a new value, before the script reruns.
    """
    hash_key = args["hash"]

    def on_change() -> None:  # as st_folium does: keep the value under the map's key
        value = st.session_state.get(hash_key, {})
        st.session_state[MAP_KEY] = value
        if on_value is not None:
            on_value(value)

    return streamlit_folium._component_func(
        script=args["script"], header=args["header"], html=args["html"], id=args["id"],
        key=hash_key, height=MAP_HEIGHT, width=None, returned_objects=list(returned),
        default=dict.fromkeys(returned), zoom=None, center=None, feature_group=None,
        return_on_hover=False, layer_control=None, pixelated=False, css_links=args["css_links"],
        js_links=args["js_links"], on_change=on_change, wrap_longitude=False,
    )


def visible_line(text: str) -> str:
    """Return ``text`` on one line (a Markdown list item or HTML block ends at a blank line)."""
    return " ".join(text.split())


def markdown_text(text: str) -> str:
    """Return corpus text that Markdown shows as it is, on one line."""
    return dashboard.escape_markdown(visible_line(text))


def as_text(text: str) -> str:
    """Return corpus text that Markdown with HTML allowed shows as it is, on one line."""
    return html.escape(markdown_text(text))


def query_params() -> dict[str, list[str]]:
    """Return the URL parameters, repeated keys kept."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def initialise_from_url(catalogue: dashboard.Catalogue, dates: tuple[dt.date, dt.date]) -> None:
    """On a session's first run, set the widgets from the link it was opened with."""
    if "initialised" in st.session_state:
        return
    state, notices = dashboard.parse_query(query_params(), catalogue)
    st.session_state.update(
        initialised=True,
        notices=notices,
        place=state.place,
        themes=list(state.themes),
        article=state.article or ALL,
        outlet=state.outlet or ALL,
        dates=dashboard.clamp_dates(state.date_from, state.date_to, dates),
        view=(state.lat, state.lon, state.zoom),
        clicks=0,
    )


def current_state(dates: tuple[dt.date, dt.date]) -> ViewState:
    """Return the view state the widgets hold."""
    date_from, date_to = st.session_state["dates"]
    lat, lon, zoom = st.session_state["view"]
    return ViewState(
        place=st.session_state["place"],
        themes=tuple(t for t in THEME_IDS if t in (st.session_state["themes"] or [])),
        article=st.session_state["article"] or None,
        outlet=st.session_state["outlet"] or None,
        date_from=date_from if date_from != dates[0] else None,
        date_to=date_to if date_to != dates[1] else None,
        lat=lat,
        lon=lon,
        zoom=zoom,
    )


def select_found_place() -> None:
    """Select the place picked in the search box."""
    if st.session_state.get("search"):
        st.session_state["place"] = st.session_state["search"]


BYO_FIELDS = ("byo_title", "byo_outlet", "byo_date", "byo_language")
UPLOAD_HELP = "A .txt, .md or .html file (HTML is reduced to its article text)."


def prefill(meta: dict, overwrite: bool) -> None:
    """Put guessed title, outlet, date and language into the form (empty fields only unless
    ``overwrite``)."""
    guessed = {
        "byo_title": meta.get("title") or "",
        "byo_outlet": meta.get("outlet") or "",
        "byo_date": meta["date"].isoformat() if meta.get("date") else "",
        "byo_language": meta.get("language") or LANGUAGES[0],
    }
    for key, value in guessed.items():
        if value and (overwrite or not st.session_state.get(key)):
            st.session_state[key] = value


def on_text_change() -> None:
    """Guess the metadata of pasted text into the empty fields."""
    from kzgeo.ingest import guess_metadata

    text = st.session_state.get("byo_text") or ""
    st.session_state["byo_error"] = None
    if text.strip():
        prefill(guess_metadata(text), overwrite=False)


def on_upload() -> None:
    """Read an uploaded file into the text box and guess its metadata (errors are shown)."""
    upload = st.session_state.get("byo_file")
    st.session_state["byo_error"] = None
    if upload is None:
        return
    try:
        text, meta = dashboard.read_upload(upload.getvalue(), upload.name)
    except IngestError as error:
        st.session_state["byo_error"] = str(error)
        return
    st.session_state["byo_text"] = text
    prefill(meta, overwrite=True)


def map_own_article(index: ServedIndex) -> None:
    """Geoparse the form's article and add its places to this session's new features."""
    state = st.session_state
    state["byo_error"] = state["byo_done"] = None
    try:
        article, features = dashboard.user_article_features(
            state.get("byo_text") or "",
            state.get("byo_title") or "",
            state.get("byo_outlet") or "",
            state.get("byo_date") or None,
            state.get("byo_language") or None,
            cached_gazetteer(),
            index.collection,
        )
    except IngestError as error:
        state["byo_error"] = str(error)
        return
    state["new_features"] = dashboard.merge_new_features(state["new_features"], features)
    names = ", ".join(f["properties"]["name"] for f in features)
    state["byo_done"] = (
        f"“{article.title}”: {len(features)} place(s) on the map, marked new: {names}."
        if features
        else f"“{article.title}”: no places found in the text."
    )


def remove_own_articles() -> None:
    """Forget this session's own articles (and a selection of one of their places)."""
    st.session_state["new_features"] = []
    st.session_state["byo_done"] = st.session_state["byo_error"] = None
    if dashboard.is_new_id(st.session_state.get("place")):
        st.session_state["place"] = None


def show_own_article_form(index: ServedIndex) -> None:
    """Draw the sidebar form to paste or upload an article and map it in this session."""
    st.session_state.setdefault("new_features", [])
    st.session_state.setdefault("byo_error", None)
    st.session_state.setdefault("byo_done", None)
    st.session_state.setdefault("byo_language", LANGUAGES[0])
    with st.sidebar, st.expander("Add your own article", expanded=False):
        st.caption(
            "Paste a German or English article or upload a file; its places appear on the "
            "map marked new, for this session only (nothing is saved)."
        )
        st.file_uploader(
            "Upload .txt, .md or .html", key="byo_file", on_change=on_upload, help=UPLOAD_HELP
        )
        st.text_area("Article text", key="byo_text", height=160, on_change=on_text_change)
        st.text_input("Title", key="byo_title")
        st.text_input("Outlet (newspaper or site)", key="byo_outlet")
        st.text_input("Date (YYYY-MM-DD)", key="byo_date", placeholder="2025-03-14")
        st.radio(
            "Language",
            options=list(LANGUAGES),
            format_func={"de": "German", "en": "English"}.get,
            key="byo_language",
            horizontal=True,
        )
        st.button("Map this article", key="byo_map", on_click=map_own_article, args=(index,))
        if st.session_state["byo_error"]:
            st.error(st.session_state["byo_error"])
        if st.session_state["byo_done"]:
            st.success(st.session_state["byo_done"])
        if st.session_state["new_features"]:
            st.button("Remove my articles", key="byo_remove", on_click=remove_own_articles)


def show_filters(index: ServedIndex, dates: tuple[dt.date, dt.date]) -> None:
    """Draw the sidebar: search, theme toggles, article/outlet and date filters."""
    articles = {a.id: a for a in index.articles}
    with st.sidebar:
        st.header("Find and filter")
        features = [f for f in index.collection["features"] if f["properties"]["quotes"]]
        labels = {f["id"]: search_label(f["properties"]) for f in features}
        st.selectbox(
            "Find a place (German or English name)",
            options=sorted(labels, key=lambda i: labels[i].casefold()),
            format_func=labels.get,
            index=None,
            placeholder="e.g. Moskau, Astana, Baikonur …",
            key="search",
            on_change=select_found_place,
        )
        st.pills(
            "Theme layers",
            options=list(THEME_IDS),
            selection_mode="multi",
            format_func=THEME_LABELS.get,
            key="themes",
            help="Places and layers tagged with a theme that is switched on are shown.",
        )
        st.selectbox(
            "Article",
            options=[ALL, *articles],
            format_func=lambda i: "All articles" if i == ALL else article_label(articles[i]),
            key="article",
        )
        outlets = sorted({a.outlet for a in articles.values()})
        st.selectbox(
            "Outlet",
            options=[ALL, *outlets],
            format_func=lambda o: "All outlets" if o == ALL else o,
            key="outlet",
        )
        if dates[0] < dates[1]:
            st.slider(
                "Publication date",
                min_value=dates[0],
                max_value=dates[1],
                key="dates",
                format="DD.MM.YYYY",
            )


def search_label(properties: dict) -> str:
    """Return a search-box label: name, German name and the forms the articles use."""
    names = dict.fromkeys(
        n
        for n in [properties["name"], properties.get("name_de"), *properties.get("names", [])]
        if n
    )
    head, *rest = names
    return f"{head} ({', '.join(rest[:4])})" if rest else head


def article_label(article) -> str:
    """Return 'title — outlet, date' for an article."""
    date = article.date.strftime("%d.%m.%Y") if article.date else "undated"
    return f"{article.title} — {article.outlet}, {date}"


def take_map_click(result: dict | None) -> None:
    """Select the feature the user clicked on the map (every click counts, repeats too).

    Runs as the map's change callback, before the script, so a click costs one script run.
    """
    if not result:
        return
    count = result.get("last_object_clicked_count") or 0
    drawing = result.get("last_active_drawing") or {}
    clicked = (drawing.get("properties") or {}).get("id")
    if count != st.session_state.get("clicks") and clicked:
        st.session_state["clicks"] = count
        st.session_state["place"] = clicked


def show_map(
    state: ViewState, folder: str, signature: str, visible: tuple, colours: dict
) -> None:
    """Draw the map of the visible features and take clicks."""
    new_features = tuple(st.session_state.get("new_features", []))
    new_key = tuple((f["id"], len(f["properties"]["quotes"])) for f in new_features)
    asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
    args = cached_map(folder, signature, filter_key(state), new_key, asset_url, new_features)
    draw_map(args, on_value=take_map_click)
    legend = mapview.legend_entries(
        [*visible, *st.session_state.get("new_features", [])],
        colours,
        [(THEME_COLOURS[t], THEME_LABELS[t]) for t in THEME_IDS],
    )
    st.markdown(mapview.legend_html(legend), unsafe_allow_html=True)
    st.caption(
        f"{sum(1 for f in visible if f['properties']['quotes'])} places and features with "
        "quotes shown. Circle size: number of mentions. Click anything for its sources."
    )


# The timeline as a Vega-Lite spec (st.bar_chart looks up Altair's version on every run).
TIMELINE_SPEC = {
    "mark": {"type": "bar", "tooltip": True},
    "height": 160,
    "encoding": {
        "x": {"field": "month", "type": "ordinal", "title": "month of publication"},
        "y": {
            "field": "quotes", "type": "quantitative", "title": "quotes",
            "axis": {"tickMinStep": 1, "format": "d"},  # whole quotes only
        },
    },
}


@st.cache_data(max_entries=256, show_spinner=False)
def cached_months(
    folder: str, signature: str, filters: tuple, place: str | None
) -> tuple[list[tuple[str, int]], bool]:
    """Return quotes per month of the selected feature (else of the map) and whether it is the
    selection's."""
    visible, _ = cached_visible(folder, signature, filters)
    chosen = [f for f in visible if f["id"] == place]
    return dashboard.mentions_by_month(chosen or visible), bool(chosen)


def show_timeline(state: ViewState, folder: str, signature: str) -> None:
    """Draw mentions per month for the visible features (or the selected one)."""
    months, selected = cached_months(folder, signature, filter_key(state), state.place)
    if months:
        st.markdown(f"**Mentions per month** ({'the selection' if selected else 'the map'})")
        frame = pd.DataFrame(months, columns=["month", "quotes"])
        st.vega_lite_chart(frame, TIMELINE_SPEC, width="stretch")


def show_panel(index: ServedIndex, state: ViewState, visible: tuple) -> None:
    """Show the selected feature: what it is, its attributes and every quote, by article."""
    feature, hidden = dashboard.find_feature(
        state.place, visible, index.collection["features"], st.session_state["new_features"]
    )
    if hidden:
        st.info("The selected place is hidden by the current filters.")
    if feature is None:
        show_overview(visible, index.articles)
        return
    properties = feature["properties"]
    st.subheader(properties["name"])
    subtitle = [
        properties.get("name_de") or "",
        properties["kind"],
        f"precision: {properties['precision']}",
    ]
    st.caption(" · ".join(s for s in subtitle if s and s != properties["name"]))
    if properties.get("new"):
        st.markdown(
            f'<span class="kz-new">{html.escape(dashboard.NEW_NOTE)}</span>',
            unsafe_allow_html=True,
        )
    if st.button("Clear selection", key="clear"):
        st.session_state["place"] = None
        st.rerun()
    rows = dashboard.attribute_rows(properties)
    if rows:
        st.table(pd.DataFrame(rows, columns=["", "value"]).set_index(""))
    quotes = properties["quotes"]
    st.markdown(
        f"**{len(quotes)} quote(s)**"
        + (" matching the filters" if dashboard.filters_quotes(state) else "")
    )
    show_quotes(feature["id"], quotes)


def show_quotes(feature_id: str, quotes: list) -> None:
    """Show the quotes by article, newest first, a page at a time (a button shows more)."""
    shown_key = f"shown-{feature_id}"
    limit = st.session_state.get(shown_key, dashboard.QUOTES_PER_PAGE)
    groups = dashboard.first_quotes(dashboard.group_quotes(quotes), limit)
    st.markdown(
        "".join(dashboard.article_group_html(first, group) for first, group in groups),
        unsafe_allow_html=True,
    )
    if len(quotes) > limit:
        more = min(dashboard.QUOTES_PER_PAGE, len(quotes) - limit)
        st.caption(f"Showing {limit} of {len(quotes)} quotes.")
        if st.button(f"Show {more} more", key=f"more-{feature_id}"):
            st.session_state[shown_key] = limit + more
            st.rerun()


def show_articles(articles) -> None:
    """List the newest articles: title, outlet, date (all of them are in the Article filter)."""
    st.subheader(f"Articles ({len(articles)})")
    newest = sorted(articles, key=lambda a: a.date or dt.date.min, reverse=True)
    for article in newest[:ARTICLES_LISTED]:
        date = article.date.strftime("%d.%m.%Y") if article.date else "undated"
        st.markdown(
            f"<strong>{as_text(article.title)}</strong><br>"
            f"<small>{as_text(article.outlet)} · {date}</small>",
            unsafe_allow_html=True,
        )
    if len(articles) > ARTICLES_LISTED:
        st.caption(
            f"The {ARTICLES_LISTED} newest of {len(articles)}; pick any article in the "
            "sidebar's Article filter."
        )


def show_overview(visible: tuple, articles) -> None:
    """Show what to do, the most mentioned places and the articles when nothing is selected."""
    st.subheader("Sources")
    st.write(
        "Click a place, pipeline, border or country on the map, or find it by name, "
        "to read every sentence that mentions it."
    )
    st.markdown("**Most mentioned**")
    top = sorted(
        (f for f in visible if f["properties"]["quotes"]),
        key=lambda f: -len(f["properties"]["quotes"]),
    )[:8]
    for feature in top:
        if st.button(
            f"{feature['properties']['name']} · {len(feature['properties']['quotes'])}",
            key=f"top-{feature['id']}",
        ):
            st.session_state["place"] = feature["id"]
            st.rerun()
    show_articles(articles)


def show_share_and_export(state: ViewState, visible: tuple, index: ServedIndex) -> None:
    """Offer the link of this view and downloads of the view and the whole dataset (each file
    is made when its button is clicked, not on every run)."""
    query = dashboard.to_query(state)
    if {key: [value] for key, value in query.items()} != query_params():
        st.query_params.from_dict(query)  # only on change: each write replaces the map view
    base = (getattr(st.context, "url", None) or "").split("?")[0]
    link = base + ("?" + urlencode(query, safe=",", quote_via=quote) if query else "")
    with st.expander("Share this view and export data", expanded=False):
        st.caption("Link to this view, the map's position and zoom included:")
        # the box shows the page's live URL (the map keeps its view there) and copies it; new
        # on every run, so its script puts the view back after any URL Streamlit wrote
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1
        st.html(
            mapview.share_box_html(link or "/", st.session_state["runs"]),
            unsafe_allow_javascript=True,
        )
        left, right = st.columns(2)
        left.download_button(
            "This view (GeoJSON)",
            lambda: geojson_text({"type": "FeatureCollection", "features": list(visible)}),
            "kzgeo-view.geojson",
            "application/geo+json",
            on_click="ignore",
        )
        left.download_button(
            "This view's quotes (CSV)",
            lambda: dashboard.quotes_csv(visible),
            "kzgeo-view-quotes.csv",
            "text/csv",
            on_click="ignore",
        )
        right.download_button(
            "Whole dataset (GeoJSON)",
            lambda: geojson_text(index.collection),
            "kzgeo.geojson",
            "application/geo+json",
            on_click="ignore",
        )
        right.download_button(
            "All mentions (CSV)",
            index.mentions_csv,
            "kzgeo-mentions.csv",
            "text/csv",
            on_click="ignore",
        )


def show_empty_page() -> None:
    """Show the base map and an empty article list when there is no corpus to show."""
    map_col, panel_col = st.columns([3, 2], gap="medium")
    with map_col:
        countries = mapview.read_geojson(config.GEODATA_DIR / "countries.geojson")
        asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
        draw_map(map_component_args(mapview.build_map(countries, asset_url=asset_url)), ())
    with panel_col:
        show_articles(())
    st.caption(CREDITS)


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="kzgeo", page_icon="🗺️", layout="wide")
    st.markdown(PANEL_CSS, unsafe_allow_html=True)
    st.title("kzgeo")
    st.caption(
        "Where German-language reporting on Kazakhstan, Russia, China and Central Asia "
        "happens, and what the sources actually say."
    )
    folder = config.corpus_dir()
    signature = folder_signature(folder)
    try:
        index = cached_index(str(folder), signature)
    except CorpusError as error:
        st.error(
            f"The corpus could not be loaded: {error}. Point the environment variable "
            f"`{config.CORPUS_ENV_VAR}` at a folder of article files, or restore `corpus/`."
        )
        show_empty_page()
        return
    if index.warnings:
        st.warning(
            f"{len(index.warnings)} problem(s) while loading the corpus:\n\n"
            + "\n".join(f"- {markdown_text(w)}" for w in index.warnings)
        )
    catalogue = cached_catalogue(str(folder), signature)
    days = [a.date for a in index.articles if a.date] or [dt.date.today()]
    dates = (min(days), max(days))
    initialise_from_url(catalogue, dates)
    for notice in st.session_state["notices"]:
        st.info(notice)
    show_filters(index, dates)
    show_own_article_form(index)
    state = current_state(dates)
    visible, colours = cached_visible(str(folder), signature, filter_key(state))
    map_col, panel_col = st.columns([3, 2], gap="medium")
    with map_col:
        show_map(state, str(folder), signature, visible, colours)
        show_timeline(state, str(folder), signature)
    with panel_col, st.container(height=MAP_HEIGHT + 120, border=False):
        show_panel(index, state, visible)
    show_share_and_export(state, visible, index)
    st.caption(f"{CREDITS} Outlets: {markdown_text(', '.join(sorted(catalogue.outlets)))}.")


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
