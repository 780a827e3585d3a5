"""The one module that knows Streamlit's and streamlit-folium's internals (``app.py`` uses it).

Everything here depends on how the framework works inside: the component arguments
streamlit-folium sends (so a map rendered once per content is shown on every run without
rendering it again), the map's session-state value, the page's query string and CSS. The rest of
``kzgeo`` never imports streamlit. Pinned: streamlit-folium 0.27.4 (``tests/test_app_map.py``
checks ``map_component_args`` against what ``st_folium`` itself sends).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import folium
import streamlit as st
import streamlit_folium

from kzgeo import mapview
from kzgeo.assets import vendor_url_for

MAP_KEY = "kzgeo_map"
MAP_RETURNS = ("last_active_drawing", "last_object_clicked_count")  # no pan or zoom: no rerun
MAP_HEIGHT = 720  # pixels; PAGE_CSS sizes the map to the viewport


def map_component_args(m: folium.Map) -> dict:
    """Return what ``st_folium`` sends to its component for ``m``, without the per-run parts
    (key callback, size): render a map once, show it on every run with ``draw_map``.

    ``st_folium`` renders the whole folium map on every script run (a third of a second for
    this one); the map only changes with the filters and the user's own articles.
    """
    sf = streamlit_folium
    m.get_root().render()  # renders the map too: once (a second render gave the same, in twice
    # the time: 0.6 s for an archive's 7,745 features)
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


def walk_elements(element: Any) -> Iterator[Any]:
    """Yield a folium element and all its children (what may carry CSS and JS links)."""
    if isinstance(element, folium.elements.JSCSSMixin):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from walk_elements(child)


def draw_map(
    args: Mapping[str, Any],
    returned: tuple[str, ...] = MAP_RETURNS,
    on_click: Callable[[int, str | None], None] | None = None,
) -> dict | None:
    """Show a rendered map (``map_component_args``); return what the user last clicked.

    ``on_click(count, feature_id)`` (see ``clicked``) runs when the map sends a new value,
    before the script reruns.
    """
    hash_key = args["hash"]

    def on_change() -> None:  # as st_folium does: keep the value under the map's key
        value = st.session_state.get(hash_key, {})
        st.session_state[MAP_KEY] = value
        if on_click is not None:
            on_click(*clicked(value))

    return streamlit_folium._component_func(
        script=args["script"], header=args["header"], html=args["html"], id=args["id"],
        key=hash_key, height=MAP_HEIGHT, width=None, returned_objects=list(returned),
        default=dict.fromkeys(returned), zoom=None, center=None, feature_group=None,
        return_on_hover=False, layer_control=None, pixelated=False, css_links=args["css_links"],
        js_links=args["js_links"], on_change=on_change, wrap_longitude=False,
    )  # fmt: skip


def clicked(value: Mapping[str, Any] | None) -> tuple[int, str | None]:
    """Return (click count, id of the clicked feature) from the map's value.

    >>> clicked({"last_object_clicked_count": 3,
    ...          "last_active_drawing": {"properties": {"id": "almaty"}}})
    (3, 'almaty')
    >>> clicked(None), clicked({})
    ((0, None), (0, None))
    """
    if not value:
        return 0, None
    drawing = value.get("last_active_drawing") or {}
    return value.get("last_object_clicked_count") or 0, (drawing.get("properties") or {}).get("id")


def query_params() -> dict[str, list[str]]:
    """Return the page's URL parameters, repeated keys kept."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def write_query(query: Mapping[str, str]) -> None:
    """Put ``query`` into the page URL, only when it changed (each write replaces the query,
    the map's view included, until the share box puts the view back)."""
    if {key: [value] for key, value in query.items()} != query_params():
        st.query_params.from_dict(dict(query))


# The page: the map column sticks beside the panel and fills the viewport's height on a wide
# screen; on a phone (columns stacked) the map is the screen's width and most of its height.
PAGE_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; padding-bottom: 1rem;
  max-width: 100%; }
h1.kz-title { font-size: 1.45rem; margin: 0 0 0.1rem 0; padding: 0; }
p.kz-subtitle { margin: 0 0 0.4rem 0; color: #444; font-size: 0.95rem; }
iframe[title="streamlit_folium.st_folium"] { height: calc(100vh - 8.5rem) !important;
  min-height: 420px; }
@media (min-width: 641px) {
  [data-testid="stHorizontalBlock"]:has(iframe[title="streamlit_folium.st_folium"])
    > [data-testid="stColumn"]:first-child { position: sticky; top: 3.2rem;
    align-self: flex-start; }
}
@media (max-width: 640px) {
  h1.kz-title { font-size: 1.15rem; }
  p.kz-subtitle { font-size: 0.85rem; }
  iframe[title="streamlit_folium.st_folium"] { height: 62vh !important; min-height: 300px; }
}
@media (min-width: 641px) {
  [data-testid="stElementContainer"]:has(ul.kz-legend-list) { order: 1; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-kz-selection) { order: 2; }
  [data-testid="stElementContainer"]:has(ul.kz-legend-list) ~ * { order: 3; }
}
@media (max-width: 640px) {
  [data-testid="stLayoutWrapper"]:has(> .st-key-kz-selection) { order: -1; }
}
[data-testid="stButtonGroup"] div { flex-wrap: wrap !important; }
.kz-quote { border-left: 3px solid #0072B2; padding: 0.2rem 0.6rem;
  margin: 0.3rem 0 0.6rem 0; }
.kz-quote mark { background: #ffe08a; padding: 0 0.1rem; }
.kz-new { background: #ff2bd6; color: #000; border-radius: 0.6rem; padding: 0.1rem 0.5rem;
  font-size: 0.85rem; font-weight: 600; }
ul.kz-legend-list { list-style: none; padding: 0; margin: 0 0 0.4rem 0;
  display: grid; grid-template-columns: 1fr; gap: 0 0.6rem; font-size: 0.8rem; }
li.kz-legend { display: flex; align-items: center; gap: 0.35rem; margin: 0; line-height: 1.2; }
li.kz-legend svg { flex: none; }
table.kz-attrs { font-size: 0.85rem; width: 100%; }
table.kz-attrs th { text-align: left; vertical-align: top; padding-right: 0.6rem;
  white-space: nowrap; font-weight: 600; }
button:focus-visible, [role="button"]:focus-visible { outline: 3px solid #0072B2 !important;
  outline-offset: 2px; }
</style>"""


def set_up_page(page_title: str, title: str, subtitle: str) -> None:
    """Make the page wide, add its CSS (layout, quotes, legend, attribute tables, focus) and
    show its title and subtitle."""
    st.set_page_config(page_title=page_title, page_icon="🗺️", layout="wide",
                       initial_sidebar_state="collapsed")  # fmt: skip
    st.html(PAGE_CSS)
    show_html(f'<h1 class="kz-title">{html.escape(title)}</h1>'
              f'<p class="kz-subtitle">{html.escape(subtitle)}</p>')  # fmt: skip


def show_html(text: str) -> None:
    """Show HTML that kzgeo built with every source text escaped."""
    st.markdown(text, unsafe_allow_html=True)


def show_share_box(link: str) -> None:
    """Show the share box (``share_box_html``), new on every run so its script runs after every
    run and puts the map's view back into the URL after whatever Streamlit wrote there."""
    st.session_state["kz_runs"] = st.session_state.get("kz_runs", 0) + 1
    st.html(share_box_html(link or "/", st.session_state["kz_runs"]),
            unsafe_allow_javascript=True)  # fmt: skip


# --------------------------------------------------------------------------- the share box
SHARE_BOX_CSS = """<style>
.kz-share {display: flex; gap: 0.5rem; align-items: center; margin: 0.2rem 0 0.8rem 0;}
.kz-share input {flex: 1; min-width: 0; font-family: monospace; font-size: 0.85rem;
  padding: 0.35rem 0.5rem; border: 1px solid #ccc; border-radius: 0.4rem; background: #f8f9fb;}
.kz-share button {padding: 0.35rem 0.8rem; border: 1px solid #ccc; border-radius: 0.4rem;
  background: #fff; cursor: pointer; white-space: nowrap;}
.kz-share button:hover {border-color: #00799A; color: #00799A;}
.kz-share span {font-size: 0.85rem; color: #2e7d32; min-width: 4rem;}
</style>"""

# Runs in the page after every run of the app. Puts the live map view back into the URL (when
# the app writes URL parameters, Streamlit replaces the whole query); shows the live URL and
# copies it on request.
# When the app is embedded (Streamlit Community Cloud) the host is told the new query, as
# Streamlit itself does, so the address bar follows.
_SHARE_JS = """
(function () {
  /* VIEW_JS */
  function tellHost() {
    if (window.parent !== window) {
      window.parent.postMessage(
        {stCommVersion: 1, type: "SET_QUERY_PARAM", queryParams: location.search}, "*");
    }
  }
  function show() {
    var box = document.getElementById("kz-share-link");
    if (box) { box.value = location.href; }
  }
  /* The query this run of the app asked for, with the live map view: Streamlit's own URL
     update may come before or after this script, so it is not read back from the page. */
  var base = document.getElementById("kz-share-link").getAttribute("data-search");
  var view = window.kzgeoView !== undefined ? window.kzgeoView : readView(location.search);
  if (replaceSearch(window, withView(base, view))) {
    tellHost();
  }
  show();
  if (!window.kzgeoShareListens) {
    window.kzgeoShareListens = true;
    window.addEventListener(/* VIEW_EVENT */, function () { show(); tellHost(); });
  }
  var button = document.getElementById("kz-share-copy");
  var status = document.getElementById("kz-share-status");
  button.addEventListener("click", function () {
    show();
    var box = document.getElementById("kz-share-link");
    function copied() { status.textContent = "Copied"; }
    function bySelection() {
      box.select();
      status.textContent = document.execCommand("copy") ? "Copied" : "Select and copy";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(location.href).then(copied, bySelection);
    } else {
      bySelection();
    }
  });
})();
"""


def share_box_html(link: str, run: int = 0) -> str:
    """Return the share box: the live link of this view (map position included) and a copy
    button, as HTML with its script (for ``st.html(..., unsafe_allow_javascript=True)``).

    ``link`` is shown until the script runs. ``run`` (the app's run counter) makes the box new
    on every run, so its script runs after every run and puts the map view back into the URL
    after whatever Streamlit wrote there (a write survives an interrupted run, the box may not).

    >>> "value=\\"/?place=a&amp;b\\"" in share_box_html("/?place=a&b")
    True
    """
    search = "?" + link.split("?", 1)[1] if "?" in link else ""
    script = _SHARE_JS.replace("/* VIEW_JS */", mapview.VIEW_JS)
    script = script.replace("/* VIEW_EVENT */", json.dumps(mapview.VIEW_EVENT))
    script = script.replace("</", "<\\/")  # nothing in it may close the script element
    return (
        f'{SHARE_BOX_CSS}<div class="kz-share" data-run="{run}">'
        f'<input id="kz-share-link" type="text" readonly value="{html.escape(link)}" '
        f'data-search="{html.escape(search)}" '
        'aria-label="Link to this view">'
        '<button id="kz-share-copy" type="button">Copy link</button>'
        '<span id="kz-share-status" role="status"></span></div>'
        f"<script>{script}</script>"
    )


def asset_url() -> str:
    """Return where this server serves ``static/vendor/`` (its base URL path included)."""
    return vendor_url_for(st.get_option("server.baseUrlPath"))


def page_url() -> str:
    """Return the page's URL without its query, or "" when unknown."""
    return (getattr(st.context, "url", None) or "").split("?")[0]


def configured_connection_engine(name: str = "kzgeo") -> Any | None:
    """Return the SQLAlchemy engine of ``st.connection(name)`` when Streamlit's secrets
    configure ``[connections.<name>]`` (as Streamlit Community Cloud's Secrets do), else None."""
    try:
        configured = name in st.secrets.get("connections", {})
    except Exception:  # no secrets at all: Streamlit raises its own not-found error types
        return None
    return st.connection(name, type="sql").engine if configured else None
