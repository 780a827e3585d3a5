"""kzgeo: the Streamlit front. `streamlit run app.py`.

A script of widgets over ``kzgeo``: the corpus is served once per process (``kzgeo.served``: counts
in memory, quotes read per click), the view state lives in the URL (``kzgeo.dashboard``), the map
comes from ``kzgeo.mapview`` and is shown through ``kzgeo.streamlit_adapter`` (the one place that
knows the framework's internals); the add-article form's actions are ``kzgeo.add_form``.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from kzgeo import add_form, config, dashboard, freshness, mapview, session
from kzgeo import streamlit_adapter as ui
from kzgeo.assets import vendor_url_for
from kzgeo.corpus import CorpusError
from kzgeo.credits import credits_markdown
from kzgeo.dashboard import ViewState
from kzgeo.ingest import LANGUAGES
from kzgeo.layers import mark_of
from kzgeo.parallel import keep_for_good
from kzgeo.quotestore import StoreError
from kzgeo.served import ServedCorpus
from kzgeo.store import CollectionView, Store, app_store, view_collection
from kzgeo.themes import THEME_IDS, THEMES

TITLE = "Kazakhstan in German-language reporting"
PAGE_TITLE = f"{TITLE}: a map of the sources (kzgeo)"
THEME_LABELS = {theme.id: theme.label for theme in THEMES}
SIGNATURE_TTL_S = 5  # a corpus edit is seen by the next run after this many seconds
CREDITS = f"{credits_markdown()} Colours: Okabe–Ito. Map: Leaflet via folium, served from this app."


@st.cache_resource(show_spinner="Reading the corpus index …", max_entries=4)
def cached_corpus(folder: str, signature: str) -> ServedCorpus:
    """Return what the app serves of the corpus (built if missing or stale), shared by every
    session: features and per-place counts in memory, quotes read per click."""
    corpus = ServedCorpus.open(Path(folder), signature)
    keep_for_good()
    return corpus


@st.cache_data(ttl=SIGNATURE_TTL_S, max_entries=4, show_spinner=False)
def cached_signature(folder: str, stamp: tuple) -> str:
    """Return the corpus folder's signature (``dashboard.folder_signature``), taken again when
    its ``stamp`` changes (a file added or removed, the manifest edited) and at least every
    SIGNATURE_TTL_S seconds: a rerun does not stat every file of a large archive."""
    return dashboard.folder_signature(Path(folder))


@st.cache_resource(show_spinner="Loading the gazetteer …")
def cached_gazetteer():
    """Return the gazetteer for geoparsing the user's own articles (shared, never changed)."""
    from kzgeo.gazetteer import load_gazetteer

    gazetteer = load_gazetteer()
    keep_for_good()
    return gazetteer


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_map(folder: str, signature: str, filters: tuple, new_key: tuple, asset_url: str,
               _new: tuple = ()) -> dict:  # fmt: skip
    """Return the rendered map of one filter state and set of the user's new places."""
    visible, colours = cached_corpus(folder, signature).visible(filters)
    return ui.map_component_args(mapview.dashboard_map(visible, colours, _new, asset_url))


def select(feature_id: str | None) -> None:
    """Select a feature (None clears the selection)."""
    session.select(st.session_state, feature_id)


def take_map_click(value: dict | None) -> None:
    """Select what the user clicked or tapped on the map."""
    session.take_click(st.session_state, *ui.clicked(value))


# --- added articles: a collection in the database, shown to whoever has its link ---------------
@st.cache_resource(show_spinner=False)
def cached_store() -> Store:
    """Return the store of added articles (``kzgeo.store.app_store``)."""
    return app_store(ui.configured_connection_engine)


@st.cache_resource(max_entries=16, show_spinner="Mapping the collection's articles …")
def cached_collection_features(folder: str, signature: str, key: tuple, _articles: tuple) -> tuple:
    """Return the places of a collection's articles (``key``: their ids and texts' hashes); the
    gazetteer is loaded only when there are articles to geoparse."""
    if not _articles:
        return ()
    collection = cached_corpus(folder, signature).store.collection
    return tuple(dashboard.collection_features(_articles, cached_gazetteer(), collection))


def collection_view(folder: str, signature: str) -> tuple[CollectionView, tuple]:
    """Return the session's collection (or a notice why not) and its places."""
    view = view_collection(st.session_state["collection"], cached_store)
    key = tuple((a.id, hash(a.text)) for a in view.articles)
    return view, cached_collection_features(folder, signature, key, view.articles)


def add_article() -> None:
    """Geoparse and keep the form's article in the session's collection."""
    add_form.add(st.session_state, cached_store(), cached_gazetteer(), time.time())


def rename_collection() -> None:
    """Rename the collection (edit link only)."""
    name = st.session_state.get("add_name") or ""
    add_form.edit(st.session_state, lambda c, token: cached_store().rename(c, token, name))


def remove_article(article_id: str) -> None:
    """Remove an article from the collection (edit link only)."""
    add_form.edit(st.session_state,
                  lambda c, token: cached_store().remove_article(c, token, article_id))  # fmt: skip


@st.fragment
def show_add_form(view: CollectionView) -> None:
    """Draw the sidebar: add an article by web address, file or text; edit the collection."""
    s = st.session_state
    if s.pop(add_form.REDRAW, False):
        st.rerun()  # typing in the form reruns only the form; an added article changes the map
    can_edit = add_form.can_edit(s, view.collection is not None)
    opened = bool(s["add_error"] or s["add_done"])
    with st.expander("Add an article (kept in a collection you can share)", expanded=opened):
        st.caption("Give a web address, a file or the text of a German or English article. Its "
                   "places appear on the map and are kept in a collection that anyone with its "
                   "link sees." + ("" if can_edit or view.collection is None else
                                   " This is a view link: adding starts a collection of your "
                                   "own."))  # fmt: skip
        st.text_input("Web address", key="add_url", placeholder="https://…")
        st.button("Fetch the article", key="add_fetch", on_click=add_form.fill, args=(s, "url"))
        st.file_uploader("…or upload .txt, .md or .html", key="add_file", on_change=add_form.fill,
                         args=(s, "upload"), help="HTML is reduced to its article text.")
        st.text_area("…or paste the text", key="add_text", height=140, on_change=add_form.fill,
                     args=(s, "text"))  # fmt: skip
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
        st.selectbox("Article", options=[session.ALL, *articles], key="article",
                     format_func=lambda i: article_label(articles[i]) if i else "All articles")
        outlets = sorted({a.outlet for a in articles.values()})
        st.selectbox("Outlet", options=[session.ALL, *outlets], key="outlet",
                     format_func=lambda o: o or "All outlets")  # fmt: skip
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


def show_panel(corpus: ServedCorpus, state: ViewState, visible: tuple, added: tuple,
               articles: list) -> None:  # fmt: skip
    """Show the selected feature: what it is, its attributes and every quote, by article."""
    store = corpus.store
    feature, hidden = dashboard.find_feature(state.place, visible, [*store.features, *added])
    if feature is not None and feature["properties"].get("off_theme"):
        feature, hidden = store.feature(feature["id"]), True  # its quotes in full
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
    rows = dashboard.attribute_rows(p, corpus.names)
    if rows:
        ui.show_html(dashboard.attributes_html(rows, f"About this {p['kind']}"))
    count = dashboard.quote_count(p)
    if not count and not hidden:
        st.info(f"{dashboard.CONTEXT_NOTE} Drawn as context: {mark.reason}.")
        return
    filtered = " matching the filters" if dashboard.filters_quotes(state) else ""
    st.markdown(f"**{count:,} quote{'s' * (count != 1)}{filtered}**")
    filters = corpus.quote_filter(feature["id"], state, hidden)
    show_quotes(corpus, feature, filters, {a.id: a.language for a in articles})


@st.fragment
def show_quotes(corpus: ServedCorpus, feature: dict, filters, languages: dict) -> None:
    """Show the quotes by article, newest first, a page at a time; "Show more" reads the next
    page and reruns only this fragment, not the map."""
    feature_id = feature["id"]
    shown_key = f"shown-{feature_id}"
    limit = st.session_state.get(shown_key, dashboard.QUOTES_PER_PAGE)
    total, page = corpus.page(feature, filters, limit)
    groups = dashboard.first_quotes(dashboard.group_quotes(page), limit)
    ui.show_html("".join(
        dashboard.article_group_html(first, group, languages.get(first["article_id"]) or "de")
        for first, group in groups
    ))  # fmt: skip
    if total > limit:
        more = min(dashboard.QUOTES_PER_PAGE, total - limit)
        st.caption(f"Showing {limit} of {total} quotes.")
        st.button(f"Show {more} more", key=f"more-{feature_id}",
                  on_click=lambda: st.session_state.update({shown_key: limit + more}))


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
            st.button(label, key=f"clear-{name}", on_click=session.clear_filter,
                      args=(st.session_state, name, dates))  # fmt: skip
    else:
        shown = sum(1 for f in visible if dashboard.quote_count(f["properties"]))
        st.write(f"{shown:,} places and features with quotes are shown. Click, tap or find one "
                 "to read every sentence that names it.")  # fmt: skip
        st.markdown("**Most mentioned**")
        for f in top:
            st.button(f"{f['properties']['name']} · {dashboard.quote_count(f['properties']):,}",
                      key=f"top-{f['id']}", on_click=select, args=(f["id"],))  # fmt: skip
    st.subheader(f"Articles ({len(articles)})")
    arrivals, now = freshness.corpus_arrivals(config.corpus_dir()), dt.datetime.now(dt.UTC)
    st.caption(dashboard.freshness_caption(arrivals, config.corpus_dir(), now))
    page = dashboard.ARTICLES_PER_PAGE
    shown = st.session_state.get("articles_shown", page)
    ui.show_html(dashboard.article_list_html(articles, arrivals, now, shown))
    if len(articles) > shown:  # an archive: a page at a time, not 20,000 lines each run
        st.caption(f"Showing the newest {shown:,} of {len(articles):,} articles.")
        st.button(f"Show {page} more", key="articles-more",
                  on_click=lambda: st.session_state.update(articles_shown=shown + page))


def show_timeline(corpus: ServedCorpus, state: ViewState) -> None:
    """Draw mentions per month for the visible features (or the selected one)."""
    months, selected = corpus.months(dashboard.filter_key(state), state.place)
    if months:
        st.markdown(f"**Mentions per month** ({'the selection' if selected else 'the map'})")
        st.vega_lite_chart(pd.DataFrame(months, columns=["month", "quotes"]),
                           dashboard.TIMELINE_SPEC, width="stretch")  # fmt: skip


def show_share_and_export(corpus: ServedCorpus, state: ViewState, visible: tuple,
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
        columns = st.columns(2)
        for download in corpus.downloads(state, visible, added):
            columns[download.column].download_button(
                download.label, download.data, download.file_name, download.mime,
                on_click="ignore")  # fmt: skip


def main() -> None:
    """Lay out the page: title, the map beside its panel, share and credits."""
    st.set_page_config(page_title=PAGE_TITLE, page_icon="🗺️", layout="wide",
                       initial_sidebar_state="collapsed")  # fmt: skip
    ui.style_page()
    ui.show_html(f'<h1 class="kz-title">{TITLE}</h1><p class="kz-subtitle">A map of where the '
                 "articles happen and what the sources actually say: click a place, pipeline, "
                 "border or country.</p>")  # fmt: skip
    folder = config.corpus_dir()
    signature = cached_signature(str(folder), dashboard.folder_stamp(folder))
    try:
        corpus = cached_corpus(str(folder), signature)
    except (CorpusError, StoreError) as error:
        st.error(f"The corpus could not be loaded: {error}. Point the environment variable "
                 f"`{config.CORPUS_ENV_VAR}` at a folder of article files, or restore `corpus/`.")
        countries = mapview.read_geojson(config.GEODATA_DIR / "countries.geojson")
        asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
        ui.draw_map(ui.map_component_args(mapview.build_map(countries, asset_url=asset_url)), ())
        st.subheader("Articles (0)")
        return
    if corpus.store.warnings:
        st.warning(f"{len(corpus.store.warnings)} problem(s) while loading the corpus:\n\n"
                   + "\n".join(f"- {dashboard.escape_markdown(' '.join(w.split()))}"
                               for w in corpus.store.warnings))  # fmt: skip
    add_form.start(st.session_state, ui.query_params(), session.is_first_run(st.session_state))
    view, added_all = collection_view(str(folder), signature)
    articles = [*corpus.store.articles, *view.articles]
    catalogue = dashboard.with_collection(corpus.catalogue, added_all, view.articles)
    days = [a.date for a in articles if a.date] or [dt.date.today()]
    st.session_state["dates_bounds"] = dates = (min(days), max(days))
    session.start(st.session_state, ui.query_params(), catalogue, dates)
    for notice in [*st.session_state["notices"], *filter(None, [view.notice])]:
        st.info(notice)
    state = session.view_state(st.session_state, dates)
    clicked = lambda: session.view_state(st.session_state, dates)  # noqa: E731 - after a map click
    visible, colours = corpus.visible(dashboard.filter_key(state))
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
            show_panel(corpus, clicked(), (*visible, *added), added_all, articles)
        show_legend((*visible, *added), colours)  # on a wide screen: above the selection
        show_timeline(corpus, clicked())
    show_share_and_export(corpus, clicked(), (*visible, *added), added_all)
    st.caption(f"{CREDITS} Outlets: "
               f"{dashboard.escape_markdown(', '.join(sorted(catalogue.outlets)))}.")


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
