"""Join resolved places and geodata layers into one index: the GeoJSON the map and export share.

Every layer feature (country, alliance, border, pipeline, site) keeps its geometry and
attributes and takes the quotes of the place with the same id; every other resolved place
becomes a point. Properties follow the export contract in DESIGN.md: id, name, kind, themes,
precision and quotes ({article_id, title, outlet, date, text, start, end, ...}).
"""

from __future__ import annotations

import ast
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from kzgeo import __version__
from kzgeo.corpus import Article, CorpusLoad
from kzgeo.credits import credits_text
from kzgeo.files import write_atomic
from kzgeo.gazetteer import load_gazetteer
from kzgeo.layers import LAYER_FILES, REGISTRY, geojson_feature, load_layers
from kzgeo.parallel import (
    PARALLEL_MIN_CHARS,
    gc_paused,
    process_pool,
    worker_count,
)
from kzgeo.resolve import (
    Geoparse,
    PackedMention,
    Place,
    assemble,
    geoparse,
    pack_mentions,
    rejected_text,
    resolve_article,
    unpack_mentions,
)
from kzgeo.themes import OTHER_THEME, THEME_IDS

if TYPE_CHECKING:  # geopandas only where layers are read: the merge of a build does without
    import geopandas as gpd

# Drawing order, bottom to top, as the layer registry lists the layers; resolved places without
# a layer go into "places".
LAYER_ORDER: tuple[str, ...] = tuple(
    dict.fromkeys(mark.layer for mark in REGISTRY if mark.layer in LAYER_FILES)
)
PLACES_LAYER = "places"

ATTRIBUTION = credits_text()

MENTION_COLUMNS: tuple[str, ...] = (
    "article_id",
    "title",
    "outlet",
    "date",
    "surface",
    "start",
    "end",
    "place_id",
    "kind",
    "precision",
    "confidence",
    "sentence",
    "sentence_start",
    "sentence_end",
    "reason",
    "rejected",
    "url",
)


def ordered_themes(*theme_lists: list[str] | tuple[str, ...] | None) -> list[str]:
    """Return the union of theme lists in the order of the theme table.

    >>> ordered_themes(["security", "energy"], ("energy", "migration"), None)
    ['energy', 'security', 'migration']
    >>> ordered_themes()
    []
    """
    wanted = {theme for themes in theme_lists for theme in themes or ()}
    return [theme for theme in THEME_IDS if theme in wanted]


def place_properties(place: Place) -> dict[str, Any]:
    """Return what a resolved place adds to a feature: its quotes, names and evidence."""
    return {
        "names": list(place.names),
        "mention_count": place.mention_count,
        "confidence": round(place.confidence, 3),
        "quotes": [quote.to_dict() for quote in place.quotes],
        "rejected": list(place.rejected),
    }


def layer_feature(layer: str, feature: dict, place: Place | None) -> dict:
    """Return one layer feature with the quotes of the place that shares its id.

    Its themes are its kind's in the layer registry (``kzgeo.layers.REGISTRY``), so a theme
    toggle shows or hides every feature of a kind together; the themes of the sentences that
    name it are kept as ``quote_themes``.
    """
    properties = {key: value for key, value in feature["properties"].items() if value is not None}
    properties["layer"] = layer
    properties.update(place_properties(place) if place else {"mention_count": 0, "quotes": []})
    properties["themes"] = ordered_themes(properties.get("themes"))
    properties["quote_themes"] = ordered_themes(place and place.themes)
    return geojson_feature(properties, feature["geometry"])


def point_feature(place: Place) -> dict:
    """Return a resolved place that no layer draws as a GeoJSON point."""
    properties = {
        "id": place.id,
        "name": place.name,
        "name_de": place.name_de,
        "kind": place.kind,
        "layer": PLACES_LAYER,
        "precision": place.precision,
        "country": place.country,
        "themes": ordered_themes(place.themes) or [OTHER_THEME],  # so a theme toggle shows it
        **place_properties(place),
    }
    point = {"type": "Point", "coordinates": [round(place.lon, 5), round(place.lat, 5)]}
    return geojson_feature(properties, point)


def frame_to_features(frame: gpd.GeoDataFrame) -> list[dict]:
    """Return a GeoDataFrame's rows as plain GeoJSON feature dicts."""
    return json.loads(frame.to_json(drop_id=True, to_wgs84=True))["features"]


def layer_features(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, list[dict]]:
    """Return each map layer's rows as plain GeoJSON feature dicts (``frame_to_features``)."""
    return {layer: frame_to_features(layers[layer]) for layer in LAYER_ORDER}


def build_index(parsed: Geoparse, layers: dict[str, gpd.GeoDataFrame]) -> dict:
    """Return the FeatureCollection of everything the map can show: layers, then places."""
    return collection_of(parsed, layer_features(layers))


@gc_paused()  # a dict per quote: at N = 2,000 collections would take half the time
def collection_of(parsed: Geoparse, layers: dict[str, list[dict]]) -> dict:
    """Return ``build_index`` from the layers' features (``layer_features``)."""
    places = {place.id: place for place in parsed.places}
    features: list[dict] = []
    drawn: set[str] = set()
    unplaced: list[str] = []
    for layer in LAYER_ORDER:
        for feature in layers[layer]:
            feature_id = feature["properties"]["id"]
            if feature["geometry"] is None:  # too small to survive simplification
                unplaced.append(feature_id)
                continue
            features.append(layer_feature(layer, feature, places.get(feature_id)))
            drawn.add(feature_id)
    for place in sorted(parsed.places, key=lambda p: (-p.mention_count, p.id)):
        if place.id in drawn:
            continue
        if place.lat is None or place.lon is None:
            unplaced.append(place.id)
            continue
        features.append(point_feature(place))
    return {
        "type": "FeatureCollection",
        "features": features,
        "metadata": {
            "generator": f"kzgeo {__version__}",
            "crs": "EPSG:4326",
            "attribution": ATTRIBUTION,
            "unplaced": unplaced,
        },
    }


# The mentions CSV's column types; the rest are text (with 64-bit offsets: the sentence column
# of a large archive passes 2 GB). A missing value is written as empty.
MENTION_TYPES: dict[str, pa.DataType] = {
    "start": pa.int64(), "end": pa.int64(), "confidence": pa.float64(),
    "sentence_start": pa.int64(), "sentence_end": pa.int64(),
}  # fmt: skip
_MENTION_ATTRIBUTES = (  # the columns a ResolvedMention gives as it is
    "article_id", "surface", "start", "end", "place_id", "kind", "precision", "confidence",
    "sentence", "sentence_start", "sentence_end", "reason",
)  # fmt: skip


def mentions_table(parsed: Geoparse, articles: Iterable[Article]) -> pa.Table:
    """Return one row per resolved mention, columns MENTION_COLUMNS: the values of
    ``ResolvedMention.to_row`` with its article's title, outlet, ISO date and url."""
    mentions = parsed.mentions
    meta = {a.id: (a.title, a.outlet, a.date.isoformat() if a.date else "", a.url or "")
            for a in articles}
    no_article = ("", "", "", "")
    of_article = [meta.get(m.article_id or "", no_article) for m in mentions]
    rejected_texts: dict[tuple, str] = {}  # many mentions share their rejected candidates
    for m in mentions:
        if m.rejected not in rejected_texts:
            rejected_texts[m.rejected] = rejected_text(m.rejected)
    sources: dict[str, Callable[[], list]] = {  # each column's values, made when it is converted
        name: (lambda name=name: list(map(attrgetter(name), mentions)))
        for name in _MENTION_ATTRIBUTES}
    for k, name in enumerate(("title", "outlet", "date", "url")):
        sources[name] = lambda k=k: list(map(itemgetter(k), of_article))
    sources["rejected"] = lambda: [rejected_texts[m.rejected] for m in mentions]
    # one column's Python list at a time (at N = 20,000 all of them at once were 1.2 million
    # references each and their new objects, beside the Arrow table)
    return pa.table({
        name: pa.array(sources[name](), MENTION_TYPES.get(name, pa.large_string()))
        for name in MENTION_COLUMNS
    })  # fmt: skip


CSV_HEADER = ",".join(MENTION_COLUMNS) + "\n"


def csv_rows(table: pa.Table) -> bytes:
    """Return the rows of a ``mentions_table`` as UTF-8 CSV, no header (Arrow's writer: text
    in double quotes, a missing value empty)."""
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


def mentions_csv(parsed: Geoparse, articles: Iterable[Article]) -> str:
    """Return every resolved mention as CSV text (``mentions_table``), with a header line."""
    return CSV_HEADER + csv_rows(mentions_table(parsed, articles)).decode("utf-8")


def geojson_text(collection: dict) -> str:
    """Return a FeatureCollection as compact UTF-8 JSON text."""
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class CorpusIndex:
    """Everything built from one corpus folder: articles, geoparse, layers and the index."""

    corpus: CorpusLoad
    parsed: Geoparse
    layers: dict[str, gpd.GeoDataFrame]
    collection: dict

    def feature(self, feature_id: str) -> dict | None:
        """Return the feature with ``feature_id``, or None."""
        return next((f for f in self.collection["features"] if f["id"] == feature_id), None)


CHUNKS_PER_WORKER = 4  # smaller chunks even out uneven articles across the workers


def split_chunks(sizes: Sequence[int], chunks: int) -> list[range]:
    """Return at most ``chunks`` contiguous index ranges of about equal total size.

    >>> split_chunks([5, 5, 5, 5], 2)
    [range(0, 2), range(2, 4)]
    >>> split_chunks([10, 1, 1, 1], 2), split_chunks([], 4)
    ([range(0, 1), range(1, 4)], [])
    """
    total = sum(sizes)
    out: list[range] = []
    start = done = 0
    for i, size in enumerate(sizes):
        done += size
        if done * chunks >= total * (len(out) + 1) or i == len(sizes) - 1:
            out.append(range(start, i + 1))
            start = i + 1
    return out


_WORKER_INPUTS: list = []  # [gazetteer, articles], set in each worker process by _init_worker


def _init_worker(gazetteer: Any, articles: Sequence[Article]) -> None:
    """Keep what every chunk reads; a forked worker inherits it, so it is never pickled."""
    _WORKER_INPUTS[:] = [gazetteer, articles]


@gc_paused()
def _resolve_chunk(chunk: range) -> list[list[PackedMention]]:
    gazetteer, articles = _WORKER_INPUTS
    return [pack_mentions(resolve_article(articles[i], gazetteer)) for i in chunk]


def geoparse_parallel(
    articles: Sequence[Article],
    workers: int | None = None,
    gazetteer: Any = None,
    min_chars: int = PARALLEL_MIN_CHARS,
) -> Geoparse:
    """Geoparse ``articles`` in ``workers`` processes (None: every core); same result as geoparse.

    Each worker resolves a contiguous chunk of articles (sent as a range of positions: the
    workers have the articles already); the chunks come back in order and are assembled once,
    so places, quotes and their order equal a single-process geoparse. Below ``min_chars`` of
    text, or with one worker, it runs in this process.
    """
    t0 = time.perf_counter()
    articles = list(articles)
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    sizes = [len(article.text or "") for article in articles]
    count = min(worker_count(workers, sum(sizes), min_chars), max(1, len(articles)))
    if count == 1:
        return geoparse(articles, gazetteer)
    chunks = split_chunks(sizes, count * CHUNKS_PER_WORKER)
    with (
        gc_paused(),  # while the chunks' mentions are unpickled, too
        process_pool(count, initializer=_init_worker, initargs=(gazetteer, articles)) as pool,
    ):
        packed = [mentions for part in pool.map(_resolve_chunk, chunks) for mentions in part]
        resolved = [unpack_mentions(a, p) for a, p in zip(articles, packed, strict=True)]
    return assemble(articles, resolved, gazetteer, t0)


def index_corpus(folder: Path, workers: int | None = None) -> CorpusIndex:
    """Load, geoparse and index the corpus in ``folder`` (raises CorpusError if it is missing).

    A large corpus is geoparsed in ``workers`` processes (None: every core); files read and
    articles geoparsed by an earlier build of the folder come from the caches in
    ``kzgeo.geocache``.
    """
    from kzgeo.geocache import cache_path, geoparse_cached, load_corpus_cached  # (#22, #23)

    corpus = load_corpus_cached(folder, workers)  # only new or changed files read

    parsed, _stats = geoparse_cached(corpus.articles, cache_path(folder), workers)
    layers = load_layers()
    return CorpusIndex(corpus, parsed, layers, build_index(parsed, layers))


def export_files(index: CorpusIndex, geojson_path: Path, csv_path: Path | None = None) -> None:
    """Write the index as GeoJSON (and the mentions as CSV), each atomically."""
    write_atomic(geojson_path, geojson_text(index.collection))
    if csv_path is not None:
        write_atomic(csv_path, mentions_csv(index.parsed, index.corpus.articles))


# --------------------------------------------------------------------------- the index code
CODE_DIR = Path(__file__).resolve().parent


def imported_modules(path: Path, package: str = "kzgeo") -> set[str]:
    """Return the names of ``package``'s modules that the source in ``path`` imports.

    >>> import tempfile
    >>> source = Path(tempfile.mkdtemp()) / "m.py"
    >>> _ = source.write_text("import os\\nfrom kzgeo import themes, __version__\\n"
    ...                       "from kzgeo.corpus import Article\\nimport kzgeo.ids\\n")
    >>> sorted(imported_modules(source))
    ['__version__', 'corpus', 'ids', 'themes']
    """
    stat = path.stat()
    memo = (str(path), stat.st_mtime_ns, stat.st_size, package)
    if memo not in _IMPORTED:  # the index's and the geoparser's keys both walk the modules
        _IMPORTED[memo] = frozenset(_imports_in(path.read_bytes(), package))
    return set(_IMPORTED[memo])


_IMPORTED: dict[tuple, frozenset[str]] = {}


def _imports_in(source: bytes, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            names = [f"{package}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[1] for n in names if n.startswith(package + "."))
    return found


def index_code(root: str = "index", code_dir: Path = CODE_DIR) -> list[Path]:
    """Return the files of kzgeo an index is made from: the module ``root``, every kzgeo module
    it imports (transitively, lazy imports included), ``__init__.py`` and the data files.

    Tools that only read the index (the bench, the load test, the CLI, the app's views) are
    not among them, so editing them does not make a built index stale.
    """
    modules, todo = {"__init__"}, [root]
    while todo:
        name = todo.pop()
        path = code_dir / f"{name}.py"
        if name in modules or not path.is_file():  # a name like __version__ is no module
            continue
        modules.add(name)
        todo.extend(imported_modules(path))
    data = [p for p in code_dir.rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    return sorted([code_dir / f"{name}.py" for name in modules] + data)
