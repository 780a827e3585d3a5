"""kzgeo: the Streamlit front (map of the corpus and its articles). `streamlit run app.py`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from kzgeo import config, mapview
from kzgeo.assets import vendor_url_for
from kzgeo.corpus import Article, CorpusError, CorpusLoad, load_corpus

COUNTRIES_FILE = config.GEODATA_DIR / "countries.geojson"
MAP_KEY = "kzgeo_map"
MAP_HEIGHT = 560
CREDITS = (
    "Borders: [Natural Earth](https://www.naturalearthdata.com/) (public domain). "
    "Places: [GeoNames](https://www.geonames.org/) (CC BY 4.0). "
    "Map: [Leaflet](https://leafletjs.com/) via folium, served from this app."
)


def folder_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Return (name, size, mtime) of the folder's files, so edits invalidate the cache."""
    if not folder.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())
        if p.is_file()
    )


@st.cache_data(show_spinner="Loading the corpus …")
def cached_corpus(folder: str, signature: tuple) -> CorpusLoad:
    """Load the corpus once per folder state (``signature`` only keys the cache)."""
    return load_corpus(Path(folder))


@st.cache_data(show_spinner=False)
def cached_countries(path: str, mtime_ns: int) -> dict | None:
    """Read the country outlines once per file version."""
    return mapview.read_geojson(Path(path))


def md_escape(text: str) -> str:
    """Escape Markdown control characters so titles show literally."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~$])", r"\\\1", text)


def format_date(date: dt.date | None) -> str:
    """Return a date as DD.MM.YYYY, or 'undated'."""
    return date.strftime("%d.%m.%Y") if date else "undated"


def show_articles(articles: tuple[Article, ...]) -> None:
    """List the articles: title, outlet, date."""
    st.subheader(f"Articles ({len(articles)})")
    with st.container(height=MAP_HEIGHT - 40, border=False):
        for a in sorted(articles, key=lambda a: a.date or dt.date.min, reverse=True):
            st.markdown(f"**{md_escape(a.title)}**  \n{md_escape(a.outlet)} · "
                        f"{format_date(a.date)}")


def load_articles() -> tuple[Article, ...]:
    """Load the configured corpus, reporting problems in the page instead of raising."""
    folder = config.corpus_dir()
    try:
        corpus = cached_corpus(str(folder), folder_signature(folder))
    except CorpusError as error:
        st.error(
            f"The corpus could not be loaded: {error}. Point the environment variable "
            f"`{config.CORPUS_ENV_VAR}` at a folder of article files, or restore `corpus/`."
        )
        return ()
    if corpus.warnings:
        st.warning(
            f"{len(corpus.warnings)} problem(s) while loading the corpus:\n\n"
            + "\n".join(f"- {md_escape(w)}" for w in corpus.warnings)
        )
    return corpus.articles


def show_map() -> None:
    """Draw the map with the country outlines (offline; tiles are opt-in)."""
    mtime = COUNTRIES_FILE.stat().st_mtime_ns if COUNTRIES_FILE.is_file() else 0
    countries = cached_countries(str(COUNTRIES_FILE), mtime)
    if countries is None:
        st.info("Country outlines are not available yet; the map shows a graticule only.")
    asset_url = vendor_url_for(st.get_option("server.baseUrlPath"))
    m = mapview.build_map(countries, asset_url=asset_url)
    st_folium(m, key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True, returned_objects=[])


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="kzgeo", page_icon="🗺️", layout="wide")
    st.title("kzgeo")
    st.caption("Kazakhstan, Russia, China and Central Asia in German-language reporting.")
    articles = load_articles()
    map_col, list_col = st.columns([3, 2], gap="medium")
    with map_col:
        show_map()
    with list_col:
        show_articles(articles)
    st.caption(CREDITS)


main()
