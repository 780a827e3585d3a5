"""kzgeo's page (`streamlit run app.py`): widgets over ``kzgeo`` and its one Streamlit adapter."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import streamlit as st

from kzgeo import add_form, config, dashboard, freshness, mapview, session
from kzgeo import streamlit_adapter as ui
from kzgeo.corpus import Article, CorpusError
from kzgeo.dashboard import ViewState
from kzgeo.parallel import keep_for_good
from kzgeo.quotestore import StoreError
from kzgeo.served import ServedCorpus
from kzgeo.store import CollectionView, Store, app_store, view_collection
from kzgeo.themes import THEME_IDS

TITLE = "Kazakhstan in German-language reporting"
PAGE_TITLE = f"{TITLE}: a map of the sources (kzgeo)"
SUBTITLE = ("A map of where the articles happen and what the sources actually say: click a "
            "place, pipeline, border or country.")  # fmt: skip
SIGNATURE_TTL_S = 5  # a rerun does not stat every file of an archive; an edit shows after 5 s


@st.cache_resource(show_spinner="Reading the corpus index …", max_entries=4)
def cached_corpus(folder: str, signature: str, _changed: dt.datetime | None | bool = False
                  ) -> ServedCorpus:  # fmt: skip
    """Return what the app serves of a corpus version, shared by every session (``_changed``:
    when its newest file changed, from the listing that made ``signature``)."""
    corpus = ServedCorpus.open(Path(folder), signature, _changed)
    keep_for_good()
    return corpus


@st.cache_data(ttl=SIGNATURE_TTL_S, max_entries=4, show_spinner=False)
def cached_signature(folder: str, stamp: tuple) -> tuple[str, dt.datetime | None]:
    """Return the folder's signature and when its newest file changed (one stat of each
    file), taken again when its ``stamp`` changes or it expires."""
    return dashboard.folder_listing(Path(folder))


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_map(folder: str, signature: str, filters: tuple, new_key: tuple, _new: tuple) -> dict:
    """Return the rendered map of one filter state and set of the user's new places."""
    visible, colours = cached_corpus(folder, signature).visible(filters)
    return ui.map_component_args(mapview.dashboard_map(visible, colours, _new, ui.asset_url()))


# --- added articles: a collection in the database, shown to whoever has its link ---------------
@st.cache_resource(show_spinner=False)
def cached_store() -> Store:
    """Return the store of added articles."""
    return app_store(ui.configured_connection_engine)


@st.cache_resource(max_entries=16, show_spinner="Mapping the collection's articles …",
                   hash_funcs={Article: hash})  # fmt: skip
def cached_collection_features(folder: str, signature: str, articles: tuple) -> tuple:
    """Return the places of a collection's articles."""
    if not articles:  # no gazetteer for a page without added articles
        return ()
    collection = cached_corpus(folder, signature).store.collection
    return tuple(dashboard.collection_features(articles, add_form.shared_gazetteer(), collection))


@st.fragment
def show_add_form(view: CollectionView) -> None:
    """Draw the form that adds an article by web address, file or text; edit the collection."""
    s = st.session_state
    if s.pop(add_form.REDRAW, False):
        st.rerun()  # typing in the form reruns only the form; an added article changes the map
    can_edit = add_form.can_edit(s, view.collection is not None)
    opened = bool(s["add_error"] or s["add_done"])
    with st.expander("Add an article (kept in a collection you can share)", expanded=opened):
        st.caption(add_form.intro(can_edit, view.collection is not None))
        st.text_input("Web address", key="add_url", placeholder="https://…")
        st.button("Fetch the article", key="add_fetch", on_click=add_form.fill, args=(s, "url"))
        st.file_uploader("…or upload .txt, .md or .html", key="add_file", on_change=add_form.fill,
                         args=(s, "upload"), help="HTML is reduced to its article text.")
        st.text_area("…or paste the text", key="add_text", height=140, on_change=add_form.fill,
                     args=(s, "text"))  # fmt: skip
        for label, key, placeholder in add_form.TEXT_FIELDS:
            st.text_input(label, key=key, placeholder=placeholder)
        st.radio("Language", options=list(add_form.LANGUAGE_NAMES), key="add_language",
                 format_func=add_form.LANGUAGE_NAMES.get, horizontal=True)  # fmt: skip
        st.button("Add to the map", key="add_go", type="primary", on_click=add_form.add,
                  args=(s, cached_store, add_form.shared_gazetteer))  # fmt: skip
        if s["add_error"]:
            st.error(s["add_error"])
        if s["add_done"]:
            st.success(s["add_done"])
        if can_edit:
            st.markdown(f"**Your collection ({len(view.articles):,} articles)**")
            st.text_input("Name", value=view.collection.name, key="add_name")
            st.button("Rename", key="add_rename", on_click=add_form.rename, args=(s, cached_store))
            for article in view.articles:
                st.button(f"Remove “{article.title}”", key=f"remove-{article.id}",
                          on_click=add_form.remove, args=(s, cached_store, article.id))


# --- the panel beside the map ------------------------------------------------------------------
def show_search_and_filters(corpus: ServedCorpus, state: ViewState, outlets: frozenset,
                            new: tuple, added: tuple, dates) -> None:  # fmt: skip
    """Draw the search over everything on the map, the theme toggles and the other filters."""
    labels = corpus.search_choices(dashboard.filter_key(state), added)
    st.selectbox("Find anything on the map (name, German name or abbreviation)",
                 options=list(labels), format_func=labels.get, index=None, key="search",
                 placeholder="e.g. Moskau, Tengiz, CPC, Baikonur …",
                 on_change=session.take_search, args=(st.session_state,))  # fmt: skip
    st.pills("Theme layers", options=list(THEME_IDS), selection_mode="multi", key="themes",
             format_func=dashboard.THEME_LABELS.get,
             help="Shows the places and layers tagged with a theme that is switched on.")
    s = st.session_state  # an archive lists the newest articles of the outlet chosen
    listed, listable = corpus.article_choices(new, s.get("article"), s.get("outlet") or None)
    titles, outlets = dashboard.article_labels(listed), dashboard.outlet_choices(outlets)
    with st.expander("Filter by article, outlet or date"):
        st.selectbox("Article", options=list(titles), format_func=titles.get, key="article",
                     help=dashboard.article_choices_note(len(listed), listable))
        st.selectbox("Outlet", options=list(outlets), format_func=outlets.get, key="outlet")
        if dates[0] < dates[1]:
            st.slider("Publication date", min_value=dates[0], max_value=dates[1], key="dates",
                      format="D MMM YYYY")  # fmt: skip


def show_panel(corpus: ServedCorpus, state: ViewState, visible: tuple, added: tuple,
               new: tuple) -> None:  # fmt: skip
    """Show the selected feature: what it is, its attributes and every quote, by article."""
    feature, hidden = dashboard.selected_feature(state.place, visible, added, corpus.store)
    if hidden:
        st.info("The selection is hidden by the current filters; its quotes are shown in full.")
    if feature is None:
        return show_overview(corpus, visible, new, state)
    p = feature["properties"]
    st.subheader(p["name"])
    st.caption(dashboard.feature_caption(p))
    if p.get("new"):
        ui.show_html(dashboard.NEW_BADGE)
    if mapview.is_unsure(p):
        st.warning(dashboard.unsure_note(p["confidence"]))
    st.button("Clear selection", key="clear", on_click=session.select,
              args=(st.session_state, None))  # fmt: skip
    rows = dashboard.attribute_rows(p, corpus.names)
    if rows:
        ui.show_html(dashboard.attributes_html(rows, f"About this {p['kind']}"))
    count = dashboard.quote_count(p)
    if not count and not hidden:
        st.info(dashboard.context_note(p))
        return
    st.markdown(dashboard.quote_heading(count, dashboard.filters_quotes(state)))
    filters = corpus.quote_filter(feature["id"], state, hidden)
    show_quotes(corpus, feature, filters, corpus.languages | {a.id: a.language for a in new})


@st.fragment
def show_quotes(corpus: ServedCorpus, feature: dict, filters, languages: dict) -> None:
    """Show the quotes a page at a time; "Show more" reruns this fragment, not the map."""
    shown_key = f"shown-{feature['id']}"
    limit = st.session_state.get(shown_key, dashboard.QUOTES_PER_PAGE)
    total, page = corpus.page(feature, filters, limit)
    ui.show_html(dashboard.quotes_html(page, limit, languages))
    if total > limit:
        more = min(dashboard.QUOTES_PER_PAGE, total - limit)
        st.caption(f"Showing {limit:,} of {total:,} quotes.")
        st.button(f"Show {more} more", key=f"more-{feature['id']}",
                  on_click=lambda: st.session_state.update({shown_key: limit + more}))


def show_overview(corpus: ServedCorpus, visible: tuple, new: tuple, state: ViewState) -> None:
    """Show the most mentioned places and every article when nothing is selected."""
    top = dashboard.most_mentioned(visible)
    st.subheader("Sources")
    if not top:
        chosen = corpus.article(state.article, new) if state.article else None
        title = chosen.title if chosen else None
        reason, helps = dashboard.empty_reason(state, title)
        (st.warning if helps else st.caption)(reason)  # a filter to clear, or the corpus
        for name in helps:
            st.button(session.CLEAR_LABELS[name], key=f"clear-{name}",
                      on_click=session.clear_filter, args=(st.session_state, name))
    else:
        st.write(dashboard.shown_note(visible))
        st.markdown("**Most mentioned**")
        for f in top:
            st.button(dashboard.mentioned_label(f), key=f"top-{f['id']}", on_click=session.select,
                      args=(st.session_state, f["id"]))  # fmt: skip
    count = corpus.article_count(new)
    st.subheader(f"Articles ({count:,})")
    arrivals, now = freshness.corpus_arrivals(config.corpus_dir()), dt.datetime.now(dt.UTC)
    st.caption(dashboard.freshness_caption(arrivals, corpus.files_changed, now))
    page = dashboard.ARTICLES_PER_PAGE
    shown = st.session_state.get("articles_shown", page)
    newest = corpus.newest_first(new, arrivals)  # the corpus sorted once, not on every run
    ui.show_html(dashboard.article_list_html(newest, arrivals, now, shown))
    if count > shown:  # an archive: a page at a time, not 20,000 lines each run
        st.caption(f"Showing the newest {shown:,} of {count:,} articles.")
        st.button(f"Show {page} more", key="articles-more",
                  on_click=lambda: st.session_state.update(articles_shown=shown + page))


def show_timeline(corpus: ServedCorpus, state: ViewState) -> None:
    """Draw mentions per month for the visible features (or the selected one)."""
    months, selected = corpus.months(dashboard.filter_key(state), state.place)
    if months:
        st.markdown(f"**Mentions per month** ({'the selection' if selected else 'the map'})")
        st.vega_lite_chart(spec=dashboard.timeline_spec(months), width="stretch")


def show_share_and_export(corpus: ServedCorpus, state: ViewState, visible: tuple,
                          added: tuple) -> None:  # fmt: skip
    """Keep the view in the URL; offer its link and downloads (each made on its click)."""
    query = dashboard.to_query(state)
    ui.write_query(query)
    token = st.session_state["edit_token"]
    with st.expander("Share this view and export data", expanded=bool(token and added)):
        st.caption("Link to this view, the map's position and zoom included:")
        ui.show_share_box(dashboard.link(ui.page_url(), query))
        if token and state.collection:
            st.caption(dashboard.EDIT_LINK_NOTE)
            st.code(dashboard.edit_link(ui.page_url(), state.collection, token), language=None)
        columns = st.columns(2)
        for download in corpus.downloads(state, visible, added):
            if download.data is None:  # too large to make in the server's memory
                columns[download.column].caption(download.label)
                continue
            columns[download.column].download_button(
                download.label, download.data, download.file_name, download.mime,
                on_click="ignore")  # fmt: skip


def show_without_corpus(error: Exception) -> None:
    """Say why the corpus could not be loaded and draw the bare map of the countries."""
    st.error(f"The corpus could not be loaded: {error}. Point the environment variable "
             f"`{config.CORPUS_ENV_VAR}` at a folder of article files, or restore `corpus/`.")
    ui.draw_map(ui.map_component_args(mapview.countries_map(ui.asset_url())), ())
    st.subheader("Articles (0)")


def main() -> None:
    """Lay out the page: title, the map beside its panel, share and credits."""
    ui.set_up_page(PAGE_TITLE, TITLE, SUBTITLE)
    folder = config.corpus_dir()
    signature, changed = cached_signature(str(folder), dashboard.folder_stamp(folder))
    try:
        corpus = cached_corpus(str(folder), signature, changed)
    except (CorpusError, StoreError) as error:
        return show_without_corpus(error)
    if corpus.store.warnings:
        st.warning(dashboard.warnings_markdown(corpus.store.warnings))
    add_form.start(st.session_state, ui.query_params(), session.is_first_run(st.session_state))
    view = view_collection(st.session_state["collection"], cached_store)
    added_all = cached_collection_features(str(folder), signature, view.articles)
    catalogue = dashboard.with_collection(corpus.catalogue, added_all, view.articles)
    dates = catalogue.dates or (dt.date.today(),) * 2
    session.start(st.session_state, ui.query_params(), catalogue, dates)
    for notice in [*st.session_state["notices"], *filter(None, [view.notice])]:
        st.info(notice)
    state = session.view_state(st.session_state, dates)
    visible, colours = corpus.visible(dashboard.filter_key(state))
    added = tuple(dashboard.filter_features(added_all, state, catalogue))
    shown = (*visible, *added)
    map_col, panel_col = st.columns([7, 3], gap="small")
    with map_col:
        added_key = tuple((f["id"], len(f["properties"]["quotes"])) for f in added)
        args = cached_map(str(folder), signature, dashboard.filter_key(state), added_key, added)
        ui.draw_map(args, on_click=partial(session.take_click, st.session_state))
    with panel_col:  # on a phone it follows the map
        show_search_and_filters(corpus, state, catalogue.outlets, view.articles, added, dates)
        show_add_form(view)
        state = session.view_state(st.session_state, dates)  # with a click the map reported
        with st.container(key="kz-selection"):  # on a phone: right after the map
            show_panel(corpus, state, shown, added_all, view.articles)
        legend = mapview.legend_entries(shown, colours)
        ui.show_html(mapview.legend_html(legend))  # on a wide screen: above the selection
        show_timeline(corpus, state)
    show_share_and_export(corpus, state, shown, added_all)
    st.caption(dashboard.credits_caption(catalogue.outlets))


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
