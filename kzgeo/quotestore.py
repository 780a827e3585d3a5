"""The served index as files: per-place counts in memory, quotes on disk, read per click.

An index (``index.build_index``'s FeatureCollection) is written as a folder:

- ``features.geojson``: every feature without its quotes (``quote_count`` where they stood),
  what the map draws; it grows with the places, not with the quotes;
- ``facets.parquet``: one row per (feature, article, set of themes) with the article's outlet
  and date, the number of such quotes (in all and per theme), the themes as bits and the rows
  of the first and last of them in ``quotes.parquet``: what the map's counts, the filters, the
  timeline and the panel's pages need (the partitioned build writes them as numpy arrays
  ready to serve, memory-mapped at open: ``write_facet_arrays``);
- ``quotes.parquet``: every quote, sorted by feature id (a feature's quotes in their order),
  in row groups of ``ROW_GROUP_ROWS``; ``offsets`` in ``store.json`` give each feature's first
  row and count;
- ``articles.parquet`` (the articles' metadata), ``mentions.parquet`` (every resolved mention,
  for the mentions CSV) and the corpus' load warnings in ``store.json``.

``QuoteStore.open`` keeps the features and the facets (as compact numpy arrays) in memory and
reads quotes on demand: ``page`` reads the panel's page of one feature, ``filtered_quotes``
streams them for a download. ``tests/test_quotestore.py`` and ``tests/test_store_views.py``
check it gives the same places, quotes, counts and views as the in-memory index.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kzgeo.config import build_dir
from kzgeo.themes import THEME_IDS

STORE_FORMAT = 3  # 3: quotes in parts (kzgeo.parts), the merged files in a folder of their own
ROW_GROUP_ROWS = 2048  # quotes per row group: a click reads one or two of them for most places
MENTION_GROUP_ROWS = 20_000  # mentions per row group: the mentions CSV is written one at a time
QUOTE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (  # as resolve.Quote.to_dict, in its order
    ("article_id", pa.string()), ("title", pa.string()), ("outlet", pa.string()),
    ("author", pa.string()), ("date", pa.string()), ("text", pa.string()),
    ("start", pa.int64()), ("end", pa.int64()), ("mention_start", pa.int64()),
    ("mention_end", pa.int64()), ("surface", pa.string()), ("themes", pa.list_(pa.string())),
    ("url", pa.string()),
)  # fmt: skip
QUOTE_COLUMNS = tuple(name for name, _ in QUOTE_FIELDS)
THEME_COLUMNS = {theme: f"theme_{theme}" for theme in THEME_IDS}


@dataclass(frozen=True)
class QuoteFilter:
    """The app's quote filters (as ``dashboard.quote_matches``): article, outlet, date range."""

    article: str | None = None
    outlet: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    themes: tuple[str, ...] | None = None  # a quote passes with one of them (none: "other")

    def __bool__(self) -> bool:
        return bool(self.article or self.outlet or self.date_from or self.date_to
                    or self.themes is not None)

    def matches(self, quote: Mapping[str, Any]) -> bool:
        """Tell whether a quote passes the filters (a quote without a date fails a date filter).

        >>> QuoteFilter(outlet="taz").matches({"article_id": "a", "outlet": "taz", "date": None})
        True
        >>> QuoteFilter(date_from=dt.date(2024, 1, 1)).matches({"article_id": "a", "date": None})
        False
        """
        if self.article and quote["article_id"] != self.article:
            return False
        if self.outlet and quote.get("outlet") != self.outlet:
            return False
        date = _date(quote.get("date"))
        if self.date_from and (date is None or date < self.date_from):
            return False
        if self.date_to and (date is None or date > self.date_to):
            return False
        return self.themes is None or bool(set(quote.get("themes") or ["other"]) & set(self.themes))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- writing
def light_feature(feature: dict) -> dict:
    """Return a feature without its quotes, with ``quote_count`` where ``quotes`` stood.

    >>> light_feature({"id": "a", "properties": {"id": "a", "quotes": [{}, {}], "x": 1}})
    {'id': 'a', 'properties': {'id': 'a', 'quote_count': 2, 'x': 1}}
    """
    properties = {
        (k if k != "quotes" else "quote_count"): (v if k != "quotes" else len(v or ()))
        for k, v in feature["properties"].items()
    }
    properties.setdefault("quote_count", 0)
    return {**feature, "properties": properties}


def theme_mask(themes: Iterable[str] | None) -> int:
    """Return a set of theme ids as bits (``THEME_IDS`` order; unknown ids left out).

    >>> theme_mask(["energy", "security"]), theme_mask([]), theme_mask(None)
    (3, 0, 0)
    """
    return sum(1 << THEME_IDS.index(t) for t in set(themes or ()) if t in THEME_IDS)


def quotes_table(features: Iterable[dict]) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    """Return every quote as one table sorted by feature id, and each feature's (first row,
    count) in it."""
    columns: dict[str, list] = {name: [] for name in ("feature_id", *QUOTE_COLUMNS)}
    offsets: dict[str, tuple[int, int]] = {}
    row = 0
    for feature in sorted(features, key=lambda f: f["id"]):
        quotes = feature["properties"].get("quotes") or []
        if not quotes:
            continue
        offsets[feature["id"]] = (row, len(quotes))
        row += len(quotes)
        columns["feature_id"].extend([feature["id"]] * len(quotes))
        for name in QUOTE_COLUMNS:
            columns[name].extend(quote.get(name) for quote in quotes)
    schema = pa.schema([("feature_id", pa.string()), *QUOTE_FIELDS])
    return pa.table(columns, schema=schema), offsets


def facets_table(features: Iterable[dict]) -> pa.Table:
    """Return one row per (feature, article, set of themes): the article's outlet and date, the
    number of such quotes, in all and per theme, their themes as bits (``theme_mask``) and the
    rows of the first and last of them in ``quotes_table``."""
    counts: dict[tuple[str, str, int], list[int]] = {}  # [quotes, first row, last row]
    meta: dict[str, tuple[str | None, dt.date | None]] = {}
    row = 0
    for feature in sorted(features, key=lambda f: f["id"]):
        for quote in feature["properties"].get("quotes") or ():
            key = (feature["id"], quote["article_id"], theme_mask(quote.get("themes")))
            if key not in counts:
                counts[key] = [0, row, row]
                meta.setdefault(quote["article_id"],
                                (quote.get("outlet"), _date(quote.get("date"))))
            counts[key][0] += 1
            counts[key][2] = row
            row += 1
    keys = sorted(counts)
    columns: dict[str, pa.Array] = {
        "feature_id": pa.array([k[0] for k in keys], pa.string()).dictionary_encode(),
        "article_id": pa.array([k[1] for k in keys], pa.string()).dictionary_encode(),
        "outlet": pa.array([meta[k[1]][0] for k in keys], pa.string()).dictionary_encode(),
        "date": pa.array([meta[k[1]][1] for k in keys], pa.date32()),
        "quotes": pa.array([counts[k][0] for k in keys], pa.int32()),
        "themes_mask": pa.array([k[2] for k in keys], pa.uint8()),
        "first_row": pa.array([counts[k][1] for k in keys], pa.int64()),
        "last_row": pa.array([counts[k][2] for k in keys], pa.int64()),
    }
    for bit, column in enumerate(THEME_COLUMNS.values()):
        columns[column] = pa.array([counts[k][0] if k[2] >> bit & 1 else 0 for k in keys],
                                   pa.int32())
    return pa.table(columns)


ARTICLE_FIELDS: tuple[tuple[str, pa.DataType], ...] = (  # corpus.Article without its text
    ("id", pa.string()), ("title", pa.string()), ("outlet", pa.string()),
    ("author", pa.string()), ("date", pa.date32()), ("language", pa.string()),
    ("source_file", pa.string()), ("url", pa.string()),
)  # fmt: skip


def articles_table(articles: Iterable[Any]) -> pa.Table:
    """Return the articles' metadata (``corpus.Article`` without its text), one row each."""
    articles = list(articles)
    return pa.table({name: pa.array([getattr(a, name) for a in articles], kind)
                     for name, kind in ARTICLE_FIELDS})  # fmt: skip


def write_store(
    collection: dict,
    folder: Path,
    key: str = "",
    articles: Iterable[Any] = (),
    warnings: Iterable[str] = (),
    mentions: pa.Table | None = None,
) -> Path:
    """Write ``collection`` as a quote store in ``folder`` (replaced as a whole: the new folder
    is written beside it and renamed into place) and return ``folder``.

    With them, the corpus' ``articles`` (metadata), load ``warnings`` and every resolved mention
    (``index.mentions_table``, for the app's mentions CSV) are kept too."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        features = collection["features"]
        table, offsets = quotes_table(features)
        pq.write_table(table, temp / "quotes.parquet", row_group_size=ROW_GROUP_ROWS,
                       compression="zstd")
        del table
        pq.write_table(facets_table(features), temp / "facets.parquet", compression="zstd")
        light = {**collection, "features": [light_feature(f) for f in features]}
        (temp / "features.geojson").write_text(
            json.dumps(light, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        pq.write_table(articles_table(articles), temp / "articles.parquet", compression="zstd")
        if mentions is not None:
            pq.write_table(mentions, temp / "mentions.parquet", row_group_size=MENTION_GROUP_ROWS,
                           compression="zstd")
        meta = {"format": STORE_FORMAT, "key": key, "quotes": len(offsets),
                "warnings": list(warnings), "parts": ["."], "merged": "."}
        (temp / "store.json").write_text(json.dumps(meta), encoding="utf-8")
        old = folder.with_name(f".{folder.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(temp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return folder


def store_path(corpus_folder: Path, store_dir: Path | None = None) -> Path:
    """Return where the quote store of a corpus folder is kept (in the build folder)."""
    name = hashlib.sha256(str(Path(corpus_folder).resolve()).encode()).hexdigest()[:12]
    return (store_dir or build_dir() / "store") / f"store-{name}"


# --------------------------------------------------------------------------- reading
class StoreError(RuntimeError):
    """A quote store is missing, unreadable or of another format."""


MASK_BITS = np.array([[m >> b & 1 for b in range(len(THEME_IDS))] for m in range(256)], np.int64)
OTHER_MASK = theme_mask(["other"])  # what a quote without a theme word counts as in filters
FEW_FEATURES = 64  # ``months`` of at most this many features reads only their rows
NO_DATE = np.iinfo(np.int32).min  # an undated article's day number
PARTS_OPEN = 8  # quotes files kept open (each holds its metadata in memory)


FACET_FOLDER = "facets"  # the partitioned build's facets, ready to serve (``write_facet_arrays``)
CHUNK_ROWS = 1 << 18  # facet rows counted at a time: bounded temporaries at any archive size
FACET_COLUMNS = ("feature_id", "article_id", "outlet", "date", "quotes", "themes_mask",
                 "first_row", "last_row")  # what serving reads of facets.parquet  # fmt: skip


def _small(values: np.ndarray) -> np.ndarray:
    """Return integers as int32 when they fit (half the memory), else as int64."""
    fits = not len(values) or int(values.max()) < np.iinfo(np.int32).max
    return values.astype(np.int32 if fits else np.int64)


def _present(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct values (integers below ``size``) in order and each one's code: what
    ``np.unique(values, return_inverse=True)`` returns, without its sort.

    >>> [a.tolist() for a in _present(np.array([5, 2, 5, 0]), 8)]
    [[0, 2, 5], [2, 1, 2, 0]]
    >>> [a.tolist() for a in _present(np.zeros(0, np.int64), 8)]
    [[], []]
    """
    used = np.flatnonzero(np.bincount(values, minlength=size)) if len(values) else \
        np.zeros(0, np.int64)
    code = np.zeros(max(size, 1), np.int32)
    code[used] = np.arange(len(used), dtype=np.int32)
    return used, code[values]


def facet_arrays(
    features: int, feature: np.ndarray, article: np.ndarray, mask: np.ndarray,
    quotes: np.ndarray, first: np.ndarray, last: np.ndarray,
) -> dict[str, np.ndarray]:
    """Return the facets as ``QuoteStore`` keeps them (``write_facet_arrays``).

    The rows are one per (feature, article, set of themes), grouped by ``feature`` (below
    ``features``); ``article`` are rows of the store's ``articles.parquet``, ``mask`` the theme
    bits, ``quotes`` how many such quotes, ``first``/``last`` the rows of the first and last
    of them in the quotes files. Returned: the theme sets that occur (``masks``), each row's
    feature and theme set as one code (``key``), its article, quotes, first and last row, and
    ``feature_heads``."""
    masks, mask_code = _present(np.asarray(mask, np.int64), 256)
    masks = masks.astype(np.int64) if len(masks) else np.zeros(1, np.int64)
    feature = np.asarray(feature, np.int64)
    arrays = {
        "masks": masks,
        "key": _small(feature * len(masks) + mask_code),
        "article": _small(np.asarray(article, np.int64)),
        "quotes": np.asarray(quotes, np.int32),
        "first": _small(np.asarray(first, np.int64)),
        "last": _small(np.asarray(last, np.int64)),
    }
    return {**arrays, **feature_heads(features, feature, arrays["quotes"], arrays["first"])}


def feature_heads(features: int, feature: np.ndarray, quotes: np.ndarray,
                  first: np.ndarray) -> dict[str, np.ndarray]:
    """Return where each feature's facet rows start (rows grouped by ``feature``) and each
    feature's first quote row and number of quotes.

    >>> [v.tolist() for v in feature_heads(2, np.array([0, 0, 1]), np.array([2, 1, 4]),
    ...                                    np.array([5, 3, 9])).values()]
    [[0, 2, 3], [3, 9], [3, 4]]
    """
    starts = np.searchsorted(feature, np.arange(features + 1))
    heads = starts[:-1]
    present = len(feature) > 0
    return {
        "starts": starts.astype(np.int64),
        "feature_first": np.minimum.reduceat(np.asarray(first, np.int64), heads) if present
        else np.zeros(0, np.int64),
        "feature_quotes": np.add.reduceat(np.asarray(quotes, np.int64), heads) if present
        else np.zeros(0, np.int64),
    }


def write_facet_arrays(folder: Path, ids: Sequence[str], arrays: dict[str, np.ndarray]) -> Path:
    """Write the facets (``facet_arrays``, features ``ids``) one ``.npy`` file per array in
    the folder ``FACET_FOLDER`` of ``folder``, opened memory-mapped: nothing to compute at
    open."""
    out = Path(folder) / FACET_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for name, values in arrays.items():
        np.save(out / f"{name}.npy", values)
    (out / "ids.json").write_text(json.dumps(list(ids)), encoding="utf-8")
    return out


def row_group_sizes(path: Path) -> list[int]:
    """Return the number of rows of each row group of a Parquet file."""
    metadata = pq.read_metadata(path)
    return [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)]


MERGE_MEMO = "parts.json"  # in a merged folder: its parts, their quote rows, articles, groups


def _merged_groups(merged: Path, parts: list[str]) -> list[list[int]] | None:
    """Return each part's row group sizes as the merge of the partitioned build kept them
    (None: not kept, or for other parts): opening the 200 quotes files of the N = 100,000
    archive for them took 0.16 s."""
    found = json.loads((merged / MERGE_MEMO).read_text(encoding="utf-8")) \
        if (merged / MERGE_MEMO).is_file() else {}
    groups = found.get("groups")
    if found.get("parts") != parts or not isinstance(groups, list) or len(groups) != len(parts):
        return None
    return groups


def _codes(column: pa.ChunkedArray) -> tuple[list, np.ndarray]:
    """Return a column's distinct values (in order of first appearance) and each row's code."""
    if pa.types.is_dictionary(column.type):  # as read: a dictionary per row group
        column = column.unify_dictionaries()  # the first's, then new values in their order
        if not column.num_chunks:
            return [], np.zeros(0, np.int32)
        indices = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in column.chunks]
        return column.chunk(0).dictionary.to_pylist(), np.concatenate(indices)
    encoded = column.combine_chunks().dictionary_encode()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


class QuoteStore:
    """A quote store opened for serving: features and compact per-place counts in memory (what
    the map, the filters and the timeline need), quotes read from disk a page at a time.

    The facets are kept as numpy arrays, one entry per (feature, article, set of themes): the
    feature and theme set as one code, the article, the number of quotes and where they stand
    in the quotes file; outlet and date are kept once per article. Safe to share between
    threads (the app's sessions): reads of the quotes file are serialised.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            meta = json.loads((self.folder / "store.json").read_text(encoding="utf-8"))
            if meta.get("format") != STORE_FORMAT:
                raise StoreError(f"the quote store {self.folder} has another format")
            merged = self.folder / meta.get("merged", ".")
            self.collection: dict = json.loads(
                (merged / "features.geojson").read_text(encoding="utf-8"))
            articles = merged / "articles.parquet"
            article_table = pq.ParquetFile(articles).read(use_threads=False) \
                if articles.is_file() else None  # small: no thread pool to start
            if (merged / FACET_FOLDER).is_dir():  # the partitioned build's, ready to serve
                self._load_ready_facets(merged / FACET_FOLDER, article_table)
            else:
                self._load_facets(pq.ParquetFile(merged / "facets.parquet"))
            self._part_names: list[str] = list(meta.get("parts", ["."]))
            sizes = _merged_groups(merged, self._part_names) or [
                row_group_sizes(self._part_path(part)) for part in range(len(self._part_names))]
            self.articles = ArticleTable(article_table if article_table is not None
                                         else articles_table([]))  # fmt: skip
            dropped = merged / "dropped.npy"
            dropped_rows = np.load(dropped) if dropped.is_file() else np.zeros(0, np.int64)
        except (OSError, ValueError, KeyError, pa.ArrowException) as error:
            raise StoreError(f"cannot read the quote store {self.folder}: {error}") from error
        self.key: str = meta.get("key", "")
        self.warnings: tuple[str, ...] = tuple(meta.get("warnings", ()))
        self._groups: list[tuple[int, int]] = []  # (part, its row group) in row order
        self._group_starts = [0]
        for part, rows in enumerate(sizes):
            for group, size in enumerate(rows):
                self._groups.append((part, group))
                self._group_starts.append(self._group_starts[-1] + size)
        self._open_part = functools.lru_cache(PARTS_OPEN)(self._part_file)
        self._kept: np.ndarray | None = None  # rows not dropped as a repeat (None: all)
        if len(dropped_rows):
            self._kept = np.ones(self._group_starts[-1], bool)
            self._kept[dropped_rows] = False
        self.offsets: dict[str, tuple[int, int]] = self._offsets()
        self._by_id = {f["id"]: f for f in self.collection["features"]}
        self._lock = threading.Lock()
        pa.default_memory_pool().release_unused()  # the facets' Arrow buffers, read and freed

    def _part_path(self, part: int) -> Path:
        return self.folder / self._part_names[part] / "quotes.parquet"

    def _part_file(self, part: int) -> pq.ParquetFile:
        """Return a part's quotes file opened (its metadata is kept only while it is open)."""
        return pq.ParquetFile(self._part_path(part), memory_map=True)

    def _load_ready_facets(self, folder: Path, articles: pa.Table | None) -> None:
        """Keep the facets ``write_facet_arrays`` wrote, memory-mapped (articles: the rows
        of the merged ``articles.parquet``)."""
        def load(name: str) -> np.ndarray:
            return np.load(folder / f"{name}.npy", mmap_mode="r")

        self._ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        self._masks = np.array(load("masks"), np.int64)
        self._key, self._art, self._n = load("key"), load("article"), load("quotes")
        self._first, self._last = load("first"), load("last")
        self._starts = np.array(load("starts"))
        self._heads = (np.array(load("feature_first")), np.array(load("feature_quotes")))
        rows = len(self._key)
        if articles is None or any(len(a) != rows for a in (self._art, self._n, self._first)):
            raise ValueError("the facets' arrays differ in length or name no articles")
        if len(self._starts) != len(self._ids) + 1 or (rows and self._starts[-1] != rows):
            raise ValueError("the facets are not grouped by feature")
        self._position = {fid: i for i, fid in enumerate(self._ids)}
        self._width = len(self._masks)
        table = ArticleTable(articles)
        self._article_ids, self._article_position = table.ids, table.position
        self.outlets = table.outlets
        self._set_article_days(table.outlet_codes, table.days)

    def _load_facets(self, facets: Any) -> None:
        """Keep the facets (a table, or a ``ParquetFile`` read a column at a time: less
        memory at once) as numpy arrays."""
        if isinstance(facets, pq.ParquetFile):
            source = facets

            def column(name: str) -> Any:
                return source.read(columns=[name]).column(name)
        else:
            table = facets

            def column(name: str) -> Any:
                return table[name]

        self._ids, feature = _codes(column("feature_id"))  # rows are sorted by feature id
        if len(feature) and (np.diff(feature) < 0).any():  # codes not in the rows' order
            self._ids, feature = _codes(pc.cast(column("feature_id"), pa.string()))
        self._position = {fid: i for i, fid in enumerate(self._ids)}
        self._article_ids, self._art = _codes(column("article_id"))
        self._article_position = {a: i for i, a in enumerate(self._article_ids)}
        self.outlets, outlet = _codes(column("outlet"))
        raw = column("themes_mask").to_numpy().astype(np.int64)
        self._masks, mask_code = np.unique(raw, return_inverse=True)  # the theme sets that occur
        if not len(self._masks):  # no quotes at all
            self._masks = np.zeros(1, np.int64)
        self._width = len(self._masks)
        self._key = _small(feature.astype(np.int64) * self._width + mask_code)
        self._n = column("quotes").to_numpy().astype(np.int32)
        self._first = _small(column("first_row").to_numpy())
        self._last = _small(column("last_row").to_numpy())
        days = pc.fill_null(pc.cast(column("date"), pa.int32()), NO_DATE).to_numpy()
        self._art_outlet = np.zeros(len(self._article_ids), np.int32)
        self._art_day = np.full(len(self._article_ids), NO_DATE, np.int32)
        self._art_outlet[self._art] = outlet
        self._art_day[self._art] = days
        self._set_article_days(self._art_outlet, self._art_day)
        heads = feature_heads(len(self._ids), feature, self._n, self._first)
        self._starts, self._heads = heads["starts"], (heads["feature_first"],
                                                      heads["feature_quotes"])

    def _set_article_days(self, outlet: np.ndarray, days: np.ndarray) -> None:
        """Keep each article's outlet, day and month (counted from the first month)."""
        self._art_outlet, self._art_day = outlet, days
        dated = self._art_day != NO_DATE
        months = self._art_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        first = int(months[dated].min()) if dated.any() else 0
        self._art_month = np.where(dated, months - first, -1).astype(np.int32)  # since the first
        self._first_month = np.datetime64("1970-01", "M") + first

    def _offsets(self) -> dict[str, tuple[int, int]]:
        """Return each feature's first row in the quotes files and number of quotes."""
        if not len(self._n):
            return {}
        firsts, counts = self._heads
        return {fid: (int(first), int(count))
                for fid, first, count in zip(self._ids, firsts, counts, strict=True)}

    @classmethod
    def open(cls, folder: Path) -> QuoteStore:
        """Open the store in ``folder`` (raises StoreError when it cannot be read)."""
        return cls(folder)

    @property
    def features(self) -> list[dict]:
        """Return the features without quotes (``quote_count`` says how many each has)."""
        return self.collection["features"]

    def feature(self, feature_id: str | None) -> dict | None:
        """Return the feature (without quotes) with ``feature_id``, or None."""
        return self._by_id.get(feature_id or "")

    # ------------------------------------------------------------------ filters on the facets
    def _article_ok(self, filters: QuoteFilter | None) -> np.ndarray | None:
        """Return which articles pass the article, outlet and date filters (None: all)."""
        if not filters or not (filters.article or filters.outlet or filters.date_from
                               or filters.date_to):  # fmt: skip
            return None
        ok = np.ones(len(self._article_ids), bool)
        if filters.article:
            ok[:] = False
            if filters.article in self._article_position:
                ok[self._article_position[filters.article]] = True
        if filters.outlet:
            code = self.outlets.index(filters.outlet) if filters.outlet in self.outlets else -1
            ok &= self._art_outlet == code
        epoch = dt.date(1970, 1, 1)
        if filters.date_from:
            ok &= (self._art_day != NO_DATE) & (self._art_day >= (filters.date_from - epoch).days)
        if filters.date_to:
            ok &= (self._art_day != NO_DATE) & (self._art_day <= (filters.date_to - epoch).days)
        return ok

    def _theme_ok(self, filters: QuoteFilter | None) -> np.ndarray | None:
        """Return which theme sets pass the theme filter (None: all)."""
        if filters is None or filters.themes is None:
            return None
        effective = np.where(self._masks == 0, OTHER_MASK, self._masks)
        return (effective & theme_mask(filters.themes)) != 0

    def _themed(self, themed: Iterable[str] | None) -> np.ndarray:
        """Return per feature whether the theme filter applies to it (None: to every one)."""
        if themed is None:
            return np.ones(len(self._ids), bool)
        flags = np.zeros(len(self._ids), bool)
        flags[[self._position[i] for i in themed if i in self._position]] = True
        return flags

    def _weigher(self, filters: QuoteFilter | None,
                 themed: Iterable[str] | None) -> Callable[[Any], np.ndarray]:  # fmt: skip
        """Return a function of facet rows that gives each one's number of quotes that pass
        ``filters`` (0 if none), the filters worked out once for all rows."""
        articles = self._article_ok(filters)
        themes = self._theme_ok(filters)
        unthemed = None if themes is None else ~self._themed(themed)

        def weights(rows: Any) -> np.ndarray:
            counted = self._n[rows].astype(np.int64)
            if articles is not None:
                counted *= articles[self._art[rows]]
            if themes is not None:
                key = self._key[rows]
                counted *= themes[key % self._width] | unthemed[key // self._width]
            return counted

        return weights

    def _row_weights(self, filters: QuoteFilter | None, themed: Iterable[str] | None,
                     rows: Any = slice(None)) -> np.ndarray:  # fmt: skip
        """Return each facet row's number of quotes that pass ``filters`` (0 if none)."""
        return self._weigher(filters, themed)(rows)

    def _chunks(self) -> Iterator[slice]:
        """Yield the facet rows ``CHUNK_ROWS`` at a time (what a count over all rows takes)."""
        for start in range(0, len(self._key), CHUNK_ROWS):
            yield slice(start, start + CHUNK_ROWS)

    def tallies(
        self, filters: QuoteFilter | None = None, themed: Iterable[str] | None = None
    ) -> dict[str, tuple[int, dict[str, int]]]:
        """Return, per feature with quotes that pass ``filters``, their number and their number
        per theme (as ``dashboard.main_theme`` counts: a quote counts for each of its themes).

        The theme filter (``filters.themes``) applies to the features in ``themed`` (None: all).
        """
        weigh = self._weigher(filters, themed)
        size = len(self._ids) * self._width
        grid = np.zeros(size)
        for rows in self._chunks():
            grid += np.bincount(self._key[rows], weights=weigh(rows), minlength=size)
        grid = grid.reshape(len(self._ids), self._width).astype(np.int64)
        counts = grid.sum(axis=1)
        by_theme = grid @ MASK_BITS[self._masks]
        found = {}
        for i in np.flatnonzero(counts):
            found[self._ids[i]] = (int(counts[i]), {
                t: int(c) for t, c in zip(THEME_IDS, by_theme[i], strict=True) if c})
        return found

    def quote_counts(self, filters: QuoteFilter | None = None) -> dict[str, int]:
        """Return the number of quotes per feature that pass ``filters`` (features with none
        left out): what the map's circles and the filters need, from memory."""
        return {fid: count for fid, (count, _) in self.tallies(filters).items()}

    def months(
        self,
        feature_ids: Iterable[str],
        filters: QuoteFilter | None = None,
        themed: Iterable[str] | None = None,
    ) -> dict[str, int]:
        """Return quotes per month (``YYYY-MM``) of ``feature_ids`` that pass ``filters``
        (undated articles left out, months without quotes too)."""
        positions = sorted({self._position[i] for i in feature_ids if i in self._position})
        weigh = self._weigher(filters, themed)
        if len(positions) <= FEW_FEATURES:  # a selection: only its rows
            chunks: Iterable[Any] = [np.concatenate(
                [np.arange(self._starts[p], self._starts[p + 1]) for p in positions]
                or [np.zeros(0, np.int64)])]
            wanted = None
        else:
            chunks, wanted = self._chunks(), self._themed(feature_ids)
        totals = np.zeros(int(self._art_month.max()) + 1 if len(self._art_month) else 0)
        for rows in chunks:
            weights = weigh(rows)
            if wanted is not None:
                weights *= wanted[self._key[rows] // self._width]
            month = self._art_month[self._art[rows]]
            dated = month >= 0
            totals += np.bincount(month[dated], weights=weights[dated], minlength=len(totals))
        totals = totals.astype(np.int64)
        return {str(self._first_month + int(i)): int(totals[i]) for i in np.flatnonzero(totals)}

    def aggregates(self, feature_id: str, filters: QuoteFilter | None = None) -> dict[str, Any]:
        """Return one feature's quotes counted in all and by theme, outlet, article and month
        (``YYYY-MM``; articles without a date are left out of ``by_month``)."""
        position = self._position.get(feature_id)
        if position is None:
            return {"quotes": 0, "by_theme": {}, "by_outlet": {}, "by_article": {},
                    "by_month": {}}
        rows = slice(self._starts[position], self._starts[position + 1])
        weights = self._row_weights(filters, None, rows)
        kept = np.flatnonzero(weights)
        weights, articles = weights[kept], self._art[rows][kept]
        masks = self._masks[self._key[rows][kept] % self._width]

        def counted(codes: np.ndarray, names: Any) -> dict[str, int]:
            totals = np.bincount(codes, weights=weights).astype(np.int64) if len(codes) else []
            return {names(int(i)): int(totals[i]) for i in np.flatnonzero(totals)}

        month = self._art_month[articles]
        dated = month >= 0
        by_month = np.bincount(month[dated], weights=weights[dated]).astype(np.int64) \
            if dated.any() else np.zeros(0, np.int64)
        by_theme = weights.astype(np.int64) @ MASK_BITS[masks] if len(kept) else []
        return {
            "quotes": int(weights.sum()),
            "by_theme": {t: int(c) for t, c in zip(THEME_IDS, by_theme, strict=False) if c},
            "by_outlet": counted(self._art_outlet[articles], lambda i: self.outlets[i]),
            "by_article": counted(articles, lambda i: self._article_ids[i]),
            "by_month": {str(self._first_month + int(i)): int(by_month[i])
                         for i in np.flatnonzero(by_month)},
        }

    # ------------------------------------------------------------------ quotes from disk
    def _read_group(self, group: int, cache: dict[int, pa.Table],
                    columns: tuple[str, ...] = QUOTE_COLUMNS) -> pa.Table:  # fmt: skip
        if group not in cache:
            part, local = self._groups[group]
            with self._lock:
                cache[group] = self._open_part(part).read_row_group(local, columns=list(columns))
        return cache[group]

    def _group_rows(self, group: int, low: int, high: int, cache: dict[int, pa.Table],
                    columns: tuple[str, ...] = QUOTE_COLUMNS) -> pa.Table:  # fmt: skip
        """Return rows ``low`` to ``high`` (excluded) of a row group, without dropped ones."""
        table = self._read_group(group, cache, columns).slice(low, high - low)
        if self._kept is not None:
            start = self._group_starts[group]
            keep = self._kept[start + low: start + high]
            if not keep.all():
                table = table.filter(pa.array(keep))
        return table

    def _rows(self, first: int, last: int, cache: dict[int, pa.Table]) -> pa.Table:
        """Return the quotes in rows ``first`` to ``last`` (both included) of the quotes files
        (those dropped as repeats left out)."""
        starts = self._group_starts
        parts = []
        group = bisect.bisect_right(starts, first) - 1
        while group < len(starts) - 1 and starts[group] <= last:
            low = max(first, starts[group]) - starts[group]
            high = min(last + 1, starts[group + 1]) - starts[group]
            parts.append(self._group_rows(group, low, high, cache))
            group += 1
        return pa.concat_tables(parts) if parts else pa.table(
            {n: pa.array([], t) for n, t in QUOTE_FIELDS})

    def _ranges(self, feature_id: str) -> list[tuple[int, int]]:
        """Return the runs of rows (first, last) that hold a feature's quotes, in row order."""
        position = self._position.get(feature_id)
        if position is None:
            return []
        rows = slice(self._starts[position], self._starts[position + 1])
        order = np.argsort(self._first[rows], kind="stable")
        runs: list[list[int]] = []
        for first, last in zip(self._first[rows][order].tolist(),
                               self._last[rows][order].tolist(), strict=True):
            if runs and first <= runs[-1][1] + 1:
                runs[-1][1] = max(runs[-1][1], last)
            else:
                runs.append([first, last])
        return [(first, last) for first, last in runs]

    def quotes_of(
        self, feature_id: str, filters: QuoteFilter | None = None, limit: int | None = None
    ) -> list[dict]:
        """Return the quotes of one feature in their order (those that pass ``filters``; at most
        ``limit``), as the dicts of ``resolve.Quote.to_dict``; [] for an unknown feature.

        Row groups are read one after the other until ``limit`` quotes are found, so a page of
        quotes of the most quoted place reads a few row groups, not all of its quotes.
        """
        starts = self._group_starts
        wanted = None if limit is None else max(0, limit)
        found: list[dict] = []
        cache: dict[int, pa.Table] = {}
        for first, last in self._ranges(feature_id):
            group = bisect.bisect_right(starts, first) - 1
            while group < len(starts) - 1 and starts[group] <= last:
                if wanted is not None and len(found) >= wanted:
                    return found
                low = max(first, starts[group]) - starts[group]
                high = min(last + 1, starts[group + 1]) - starts[group]
                if group not in cache:
                    cache.clear()  # one row group at a time (runs of rows share theirs)
                table = self._group_rows(group, low, high, cache)
                if filters:
                    table = table.filter(quote_mask(table, filters))
                rest = table.num_rows if wanted is None else wanted - len(found)
                found.extend(table.slice(0, rest).to_pylist())
                group += 1
        return found

    def page(
        self, feature_id: str, filters: QuoteFilter | None = None, limit: int | None = None
    ) -> tuple[int, list[dict]]:
        """Return how many quotes of one feature pass ``filters`` and the first ``limit`` of
        them in the panel's order (``dashboard.group_quotes``: by article, newest first, the
        articles of a date in order of their first quote; each article's quotes by offset).

        Only the rows of the articles on the page are read.
        """
        position = self._position.get(feature_id)
        if position is None:
            return 0, []
        rows = slice(self._starts[position], self._starts[position + 1])
        weights = self._row_weights(filters, None, rows)
        kept = np.flatnonzero(weights)
        ids, which = np.unique(self._art[rows][kept], return_inverse=True)
        counts = np.bincount(which, weights=weights[kept], minlength=len(ids)).astype(np.int64)
        firsts = np.full(len(ids), np.iinfo(np.int64).max)
        lasts = np.full(len(ids), -1)
        np.minimum.at(firsts, which, self._first[rows][kept])
        np.maximum.at(lasts, which, self._last[rows][kept])
        days = self._art_day[ids].astype(np.int64)
        order = np.lexsort((firsts, -days))  # newest first, then by first appearance
        total = int(counts.sum())
        wanted = total if limit is None else max(0, limit)
        found: list[dict] = []
        cache: dict[int, pa.Table] = {}
        for i in order:
            if len(found) >= wanted:
                break
            table = self._rows(int(firsts[i]), int(lasts[i]), cache)
            table = table.filter(quote_mask(table, replace(
                filters or QuoteFilter(), article=self._article_ids[ids[i]])))
            quotes = sorted(table.to_pylist(), key=lambda q: q["start"])
            found.extend(quotes[: wanted - len(found)])
        return total, found

    def filtered_quotes(
        self,
        feature_ids: Iterable[str] | None = None,
        filters: QuoteFilter | None = None,
        themed: Iterable[str] | None = None,
    ) -> Iterator[tuple[str, list[dict]]]:
        """Yield (feature id, quotes) of ``feature_ids`` (None: all) that pass ``filters``, the
        theme filter only for the features in ``themed`` (None: all), reading the quotes file
        one row group at a time; a feature's quotes come in their order, maybe in parts."""
        wanted = None if feature_ids is None else pa.array(sorted(set(feature_ids)), pa.string())
        themed_set = None if themed is None else pa.array(sorted(set(themed)), pa.string())
        plain = replace(filters, themes=None) if filters else None
        for group in range(len(self._groups)):
            size = self._group_starts[group + 1] - self._group_starts[group]
            table = self._group_rows(group, 0, size, {}, ("feature_id", *QUOTE_COLUMNS))
            if wanted is not None:
                table = table.filter(pc.is_in(table["feature_id"], value_set=wanted))
            if filters and filters.themes is not None:
                mask = quote_mask(table, filters)
                if themed_set is not None:
                    unthemed = pc.invert(pc.is_in(table["feature_id"], value_set=themed_set))
                    mask = pc.or_(mask, pc.and_(unthemed, quote_mask(table, plain)))
                table = table.filter(mask)
            elif plain:
                table = table.filter(quote_mask(table, plain))
            if not table.num_rows:
                continue
            ids = table["feature_id"].to_pylist()
            quotes = table.select(list(QUOTE_COLUMNS)).to_pylist()
            start = 0
            for end in range(1, len(ids) + 1):
                if end == len(ids) or ids[end] != ids[start]:
                    yield ids[start], quotes[start:end]
                    start = end

    def geojson_text(self, extra: Iterable[dict] = ()) -> str:
        """Return the whole index with its quotes as ``index.geojson_text`` writes it, ``extra``
        features (with their quotes) appended."""
        return geojson_with_quotes(self.collection, [*self.features, *extra],
                                   self.filtered_quotes())  # fmt: skip

    def mentions_csv_parts(self) -> Iterator[bytes]:
        """Yield the mentions CSV (``index.mentions_csv``) as UTF-8 parts: the header, then
        the rows of one row group of ``mentions.parquet`` at a time."""
        from kzgeo.index import CSV_HEADER, csv_rows

        paths = [self.folder / name / "mentions.parquet" for name in self._part_names]
        if not all(path.is_file() for path in paths):
            raise StoreError(f"the quote store {self.folder} keeps no mentions")
        yield CSV_HEADER.encode("utf-8")
        for path in paths:
            mentions = pq.ParquetFile(path)
            for group in range(mentions.num_row_groups):
                yield csv_rows(mentions.read_row_group(group))


def quote_mask(table: pa.Table, filters: QuoteFilter) -> pa.ChunkedArray:
    """Return which quotes of a table pass ``filters``."""
    mask = pc.is_valid(table["article_id"])
    if filters.article:
        mask = pc.and_(mask, pc.equal(table["article_id"], filters.article))
    if filters.outlet:
        mask = pc.and_(mask, pc.equal(table["outlet"], filters.outlet))
    if filters.date_from or filters.date_to:
        dates = pc.cast(pc.if_else(pc.equal(table["date"], ""), None, table["date"]),
                        pa.date32())
        if filters.date_from:
            mask = pc.and_(mask, pc.greater_equal(dates, filters.date_from))
        if filters.date_to:
            mask = pc.and_(mask, pc.less_equal(dates, filters.date_to))
    if filters.themes is not None:
        wanted = pa.array(sorted(set(filters.themes)), pa.string())
        themes = pc.if_else(pc.greater(pc.list_value_length(table["themes"]), 0),
                            table["themes"], pa.scalar(["other"], pa.list_(pa.string())))
        flat = pc.is_in(pc.list_flatten(themes), value_set=wanted)
        parents = pc.list_parent_indices(themes)
        hit = np.zeros(table.num_rows, bool)
        hit[parents.to_numpy()[flat.to_numpy(zero_copy_only=False)]] = True
        mask = pc.and_(mask, pa.array(hit))
    return pc.fill_null(mask, False)


def geojson_with_quotes(
    head: Mapping[str, Any], features: Iterable[dict], stored: Iterable[tuple[str, list[dict]]]
) -> str:
    """Return a FeatureCollection (``head``'s other members) as ``index.geojson_text`` writes
    it, each feature without quotes given those ``stored`` yields for its id (where its
    ``quote_count`` stands; ``theme_counts`` dropped); a feature with quotes is kept as it is."""
    quoted: dict[str, list[str]] = {}
    for feature_id, quotes in stored:
        quoted.setdefault(feature_id, []).extend(map(_json, quotes))
    texts = [feature_text(feature, quoted.pop(feature["id"], ())) for feature in features]
    head_text, tail = collection_ends(head)
    return head_text + ",".join(texts) + tail


def feature_text(feature: Mapping[str, Any], quote_texts: Iterable[str]) -> str:
    """Return a feature as ``index.geojson_text`` writes it, its quotes (each as JSON text)
    where its ``quote_count`` stands (``theme_counts`` dropped); a feature that carries its
    quotes is written as it is."""
    if "quotes" in feature["properties"]:
        return _json(feature)
    before, after = feature_ends(feature)
    return before + ",".join(quote_texts) + after


def feature_ends(feature: Mapping[str, Any]) -> tuple[str, str]:
    """Return the JSON text of a feature without quotes (``feature_text``) before its first
    quote and after its last one."""
    properties = {(k if k != "quote_count" else "quotes"): (v if k != "quote_count"
                  else _SLOT) for k, v in feature["properties"].items()
                  if k != "theme_counts"}  # fmt: skip
    before, after = _json({**feature, "properties": properties}).split(f'"{_SLOT}"', 1)
    return before + "[", "]" + after


def collection_ends(head: Mapping[str, Any]) -> tuple[str, str]:
    """Return the JSON text of a FeatureCollection (``head``'s members) before its first
    feature and after its last one."""
    head_text, tail = _json({**head, "features": [_SLOT]}).split(f'"{_SLOT}"', 1)
    return head_text, tail


_SLOT = "\ue000kzgeo-quotes\ue000"  # where a feature's quotes go in ``geojson_text``


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ArticleTable(Sequence):
    """The store's articles (``articles_table``) kept as columns, in a given order (None: as
    stored); ``corpus.Article`` objects (without text) are made only for the rows asked for:
    an archive's 100,000 articles are not 100,000 objects in memory.

    >>> import datetime as dt
    >>> table = ArticleTable(articles_table([]))
    >>> len(table), list(table), table.get("x"), table == ()
    (0, [], None, True)
    """

    CONVERTED = 256  # rows made into objects at a time while iterating

    def __init__(self, table: pa.Table, order: np.ndarray | None = None,
                 _columns: tuple | None = None) -> None:  # fmt: skip
        self.table = table
        self.order = order
        if _columns is None:
            ids = table["id"].to_pylist()
            outlets, outlet_codes = _codes(table["outlet"])
            languages, language_codes = _codes(table["language"])
            days = pc.fill_null(pc.cast(table["date"], pa.int32()), NO_DATE).to_numpy(
                zero_copy_only=False)
            _columns = (ids, {a: i for i, a in enumerate(ids)}, outlets,
                        np.asarray(outlet_codes, np.int32), languages,
                        np.asarray(language_codes, np.int32), np.asarray(days, np.int32))
        self._columns = _columns
        (self.ids, self.position, self.outlets, self.outlet_codes, self._languages,
         self._language_codes, self.days) = _columns

    def ordered(self, order: np.ndarray) -> ArticleTable:
        """Return the same articles in ``order`` (rows of the stored table)."""
        return ArticleTable(self.table, np.asarray(order, np.int64), self._columns)

    def newest_order(self) -> np.ndarray:
        """Return the rows newest first as ``freshness.newest_first`` orders articles without
        arrivals: by date, then id, both descending (undated ones last)."""
        if not self.table.num_rows:
            return np.zeros(0, np.int64)
        indices = pc.sort_indices(self.table.select(["date", "id"]), sort_keys=[
            ("date", "descending", "at_end"), ("id", "descending", "at_end")])
        return indices.to_numpy().astype(np.int64)

    def _row(self, index: int) -> int:
        return int(self.order[index]) if self.order is not None else index

    def rows(self, rows: Iterable[int]) -> list:
        """Return the articles at stored ``rows`` as ``corpus.Article`` (text "")."""
        from kzgeo.corpus import Article

        rows = list(rows)
        if not rows:
            return []
        taken = self.table.take(pa.array(rows, pa.int64())).to_pylist()
        return [Article(**row, text="") for row in taken]

    def get(self, article_id: str | None) -> Any:
        """Return the article with ``article_id``, or None."""
        row = self.position.get(article_id or "")
        return None if row is None else self.rows([row])[0]

    def language(self, article_id: str) -> str | None:
        """Return an article's language, or None for an id it does not hold."""
        row = self.position.get(article_id)
        return None if row is None else self._languages[self._language_codes[row]]

    def __len__(self) -> int:
        return len(self.order) if self.order is not None else self.table.num_rows

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self.rows(self._row(i) for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("article index out of range")
        return self.rows([self._row(index)])[0]

    def __iter__(self) -> Iterator:
        for start in range(0, len(self), self.CONVERTED):
            yield from self[start:start + self.CONVERTED]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


class ArticleLanguages(Mapping):
    """Article id -> language of an ``ArticleTable``, then of ``extra`` (a dict)."""

    def __init__(self, table: ArticleTable, extra: Mapping[str, str] | None = None) -> None:
        self.table, self.extra = table, dict(extra or {})

    def __getitem__(self, article_id: str) -> str:
        if article_id in self.extra:
            return self.extra[article_id]
        found = self.table.language(article_id)
        if found is None:
            raise KeyError(article_id)
        return found

    def __iter__(self) -> Iterator[str]:
        yield from self.table.ids
        yield from (a for a in self.extra if a not in self.table.position)

    def __len__(self) -> int:
        return len(self.table.ids) + sum(a not in self.table.position for a in self.extra)

    def __or__(self, other: Mapping[str, str]) -> ArticleLanguages:
        return ArticleLanguages(self.table, {**self.extra, **other})


@dataclass(frozen=True)
class StoreSummary:
    """What a built store holds, read without opening it for serving."""

    folder: Path
    articles: int
    features: int
    quoted: int  # features with quotes
    warnings: tuple[str, ...]


COUNTS = ("articles", "features", "quoted")  # what store.json's "counts" hold (``StoreSummary``)


def store_summary(folder: Path) -> StoreSummary:
    """Return the counts of the store in ``folder`` from its small files (raises StoreError):
    ``store.json``'s counts, which the partitioned build writes, else counted."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "store.json").read_text(encoding="utf-8"))
        counts = meta.get("counts")
        if isinstance(counts, dict) and all(isinstance(counts.get(k), int) for k in COUNTS):
            return StoreSummary(folder, *(counts[k] for k in COUNTS),
                                tuple(meta.get("warnings", ())))
        merged = folder / meta.get("merged", ".")
        features = json.loads((merged / "features.geojson").read_text(encoding="utf-8"))
        articles = merged / "articles.parquet"
        count = pq.ParquetFile(articles).metadata.num_rows if articles.is_file() else 0
        if (merged / FACET_FOLDER).is_dir():
            quoted = len(json.loads((merged / FACET_FOLDER / "ids.json").read_text("utf-8")))
        else:
            quoted = len(pc.unique(pq.read_table(merged / "facets.parquet",
                                                 columns=["feature_id"])["feature_id"]))
    except (OSError, ValueError, KeyError, pa.ArrowException) as error:
        raise StoreError(f"cannot read the quote store {folder}: {error}") from error
    return StoreSummary(folder, count, len(features["features"]), quoted,
                        tuple(meta.get("warnings", ())))


def open_store(corpus_folder: Path, store_dir: Path | None = None) -> QuoteStore:
    """Open the quote store built for ``corpus_folder`` (``build_store``)."""
    return QuoteStore.open(store_path(corpus_folder, store_dir))


def build_store(
    corpus_folder: Path,
    workers: int | None = None,
    rebuild: bool = False,
    store_dir: Path | None = None,
) -> tuple[QuoteStore, bool]:
    """Return (the quote store of ``corpus_folder``, whether anything was built now).

    The store is built batch by batch (``kzgeo.parts.build_parts``): only the batches of new,
    changed or removed files are built again, then merged; an unchanged corpus is opened as
    it is. Raises CorpusError when the folder is missing.
    """
    from kzgeo.parts import build_parts

    done = build_parts(Path(corpus_folder), store_dir, workers, rebuild)
    return QuoteStore.open(done.folder), done.built


QUICK_FILE = "signature.json"  # in a store folder: the quick signature it was served under


def quick_signature(corpus_folder: Path, corpus_digest: str | None = None) -> str:
    """Return a digest of the names, sizes and modification times of what a store is built
    from (``parts.code_key`` and the batches' signatures hash their contents): the corpus
    folder's files (or ``corpus_digest``, such a digest of them taken by the caller), the
    geodata, the gazetteer's data and kzgeo's code and data (all of it: more than the build
    depends on, found without parsing the modules for their imports, as ``index.index_code``
    does)."""
    from kzgeo.config import GEODATA_DIR
    from kzgeo.gazetteer import _data_files
    from kzgeo.index import CODE_DIR

    listing = [] if corpus_digest else [
        (entry.path, entry.stat()) for entry in os.scandir(corpus_folder) if entry.is_file()]
    code = [path for path in CODE_DIR.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts]  # fmt: skip
    others = [*GEODATA_DIR.glob("*.geojson"), *_data_files(), *code]
    listing += [(str(path), path.stat()) for path in others]
    h = hashlib.sha256(f"format={STORE_FORMAT};{corpus_digest or ''}".encode())
    for path, stat in sorted(listing, key=lambda item: item[0]):
        h.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def serve_store(
    corpus_folder: Path, store_dir: Path | None = None, corpus_digest: str | None = None
) -> QuoteStore:
    """Return the quote store the app serves ``corpus_folder`` from.

    A store served before under the same ``quick_signature`` (no file added, removed, resized
    or touched since) is opened without hashing the corpus; otherwise ``build_store`` checks
    its key (and builds it when stale). When the build folder cannot be written to, the store
    is built in a temporary folder, with a warning.
    """
    from kzgeo.files import write_atomic

    path = store_path(corpus_folder, store_dir)
    folder_ok = Path(corpus_folder).is_dir()
    quick = quick_signature(corpus_folder, corpus_digest) if folder_ok else ""
    try:
        seen = json.loads((path / QUICK_FILE).read_text(encoding="utf-8"))
        if quick and seen.get("signature") == quick:
            store = QuoteStore.open(path)
            if store.key == seen.get("key"):
                return store
    except (OSError, ValueError, AttributeError, StoreError):
        pass
    try:
        store = build_store(corpus_folder, store_dir=store_dir)[0]
    except OSError as error:
        store = build_store(corpus_folder, store_dir=Path(tempfile.mkdtemp(prefix="kzgeo-")))[0]
        note = f"the index could not be saved ({error}); each new server process rebuilds it"
        store.warnings = (*store.warnings, note)
        return store
    with contextlib.suppress(OSError):
        write_atomic(path / QUICK_FILE, json.dumps({"signature": quick, "key": store.key}))
    return store
