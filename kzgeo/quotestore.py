"""The served index as files: per-place aggregates in memory, quotes on disk, read per click.

An index (``index.build_index``'s FeatureCollection) is written as a folder:

- ``features.geojson``: every feature without its quotes (``quote_count`` instead), what the
  map draws; it grows with the places, not with the quotes;
- ``facets.parquet``: one row per (feature, article) with the article's outlet and date and the
  number of quotes, in all and per theme: what the map's counts and the filters need;
- ``quotes.parquet``: every quote, sorted by feature id (a feature's quotes in their order),
  in row groups of ``ROW_GROUP_ROWS``; ``offsets`` in ``store.json`` give each feature's first
  row and count, so ``quotes_of`` reads only the row groups that hold that feature's quotes.

``QuoteStore.open`` keeps features, offsets and facets in memory and reads quotes on demand
(``quotes_of``). ``tests/test_quotestore.py`` checks it gives the same places and quotes as
the in-memory index.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kzgeo.config import build_dir
from kzgeo.themes import THEME_IDS

STORE_FORMAT = 1
ROW_GROUP_ROWS = 2048  # quotes per row group: a click reads one or two of them for most places
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

    def __bool__(self) -> bool:
        return bool(self.article or self.outlet or self.date_from or self.date_to)

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
        return not (self.date_to and (date is None or date > self.date_to))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- writing
def light_feature(feature: dict) -> dict:
    """Return a feature without its quotes, with ``quote_count`` instead.

    >>> light_feature({"id": "a", "properties": {"id": "a", "quotes": [{}, {}]}})
    {'id': 'a', 'properties': {'id': 'a', 'quote_count': 2}}
    """
    properties = {k: v for k, v in feature["properties"].items() if k != "quotes"}
    properties["quote_count"] = len(feature["properties"].get("quotes") or ())
    return {**feature, "properties": properties}


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
    """Return one row per (feature, article): outlet, date, quotes, and quotes per theme."""
    counts: dict[tuple[str, str], Counter] = {}
    meta: dict[tuple[str, str], tuple[str | None, dt.date | None]] = {}
    for feature in features:
        for quote in feature["properties"].get("quotes") or ():
            key = (feature["id"], quote["article_id"])
            if key not in counts:
                counts[key] = Counter()
                meta[key] = (quote.get("outlet"), _date(quote.get("date")))
            counts[key]["quotes"] += 1
            counts[key].update(quote.get("themes") or ())
    keys = sorted(counts)
    columns: dict[str, pa.Array] = {
        "feature_id": pa.array([k[0] for k in keys], pa.string()).dictionary_encode(),
        "article_id": pa.array([k[1] for k in keys], pa.string()).dictionary_encode(),
        "outlet": pa.array([meta[k][0] for k in keys], pa.string()).dictionary_encode(),
        "date": pa.array([meta[k][1] for k in keys], pa.date32()),
        "quotes": pa.array([counts[k]["quotes"] for k in keys], pa.int32()),
    }
    for theme, column in THEME_COLUMNS.items():
        columns[column] = pa.array([counts[k][theme] for k in keys], pa.int32())
    return pa.table(columns)


def write_store(collection: dict, folder: Path, key: str = "") -> Path:
    """Write ``collection`` as a quote store in ``folder`` (replaced as a whole: the new folder
    is written beside it and renamed into place) and return ``folder``."""
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
        meta = {"format": STORE_FORMAT, "key": key, "offsets": offsets}
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


class QuoteStore:
    """A quote store opened for serving: features, offsets and facets in memory, quotes on disk.

    Safe to share between threads (the app's sessions): reads of the quotes file are serialised.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            meta = json.loads((self.folder / "store.json").read_text(encoding="utf-8"))
            self.collection: dict = json.loads(
                (self.folder / "features.geojson").read_text(encoding="utf-8"))
            self.facets: pa.Table = pq.read_table(self.folder / "facets.parquet")
            self._quotes = pq.ParquetFile(self.folder / "quotes.parquet", memory_map=True)
        except (OSError, ValueError, pa.ArrowException) as error:
            raise StoreError(f"cannot read the quote store {self.folder}: {error}") from error
        if meta.get("format") != STORE_FORMAT:
            raise StoreError(f"the quote store {self.folder} has another format")
        self.key: str = meta.get("key", "")
        self.offsets: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in meta["offsets"].items()}
        sizes = [self._quotes.metadata.row_group(i).num_rows
                 for i in range(self._quotes.num_row_groups)]
        self._group_starts = [0]
        for size in sizes:
            self._group_starts.append(self._group_starts[-1] + size)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path) -> QuoteStore:
        """Open the store in ``folder`` (raises StoreError when it cannot be read)."""
        return cls(folder)

    @property
    def features(self) -> list[dict]:
        """Return the features without quotes (``quote_count`` says how many each has)."""
        return self.collection["features"]

    def quotes_of(
        self, feature_id: str, filters: QuoteFilter | None = None, limit: int | None = None
    ) -> list[dict]:
        """Return the quotes of one feature in their order (those that pass ``filters``; at most
        ``limit``), as the dicts of ``resolve.Quote.to_dict``; [] for an unknown feature.

        Row groups are read one after the other until ``limit`` quotes are found, so a page of
        quotes of the most quoted place reads a few row groups, not all of its quotes.
        """
        first, count = self.offsets.get(feature_id, (0, 0))
        end = first + count
        starts = self._group_starts
        wanted = count if limit is None else max(0, limit)
        found: list[dict] = []
        group = bisect.bisect_right(starts, first) - 1 if count else len(starts)
        while len(found) < wanted and group < len(starts) - 1:
            with self._lock:
                table = self._quotes.read_row_group(group, columns=list(QUOTE_COLUMNS))
            low = max(first, starts[group]) - starts[group]
            table = table.slice(low, min(end, starts[group + 1]) - starts[group] - low)
            if filters:
                table = table.filter(self._quote_mask(table, filters))
            found.extend(table.slice(0, wanted - len(found)).to_pylist())
            group += 1
            if starts[group] >= end:
                break
        return found

    @staticmethod
    def _quote_mask(table: pa.Table, filters: QuoteFilter) -> pa.ChunkedArray:
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
        return pc.fill_null(mask, False)

    def _facet_rows(self, filters: QuoteFilter | None, feature_id: str | None = None) -> pa.Table:
        table = self.facets
        mask = None

        def both(condition: pa.ChunkedArray) -> None:
            nonlocal mask
            mask = condition if mask is None else pc.and_(mask, condition)

        if feature_id is not None:
            both(pc.equal(table["feature_id"], feature_id))
        if filters and filters.article:
            both(pc.equal(table["article_id"], filters.article))
        if filters and filters.outlet:
            both(pc.equal(table["outlet"], filters.outlet))
        if filters and filters.date_from:
            both(pc.greater_equal(table["date"], filters.date_from))
        if filters and filters.date_to:
            both(pc.less_equal(table["date"], filters.date_to))
        return table if mask is None else table.filter(pc.fill_null(mask, False))

    def quote_counts(self, filters: QuoteFilter | None = None) -> dict[str, int]:
        """Return the number of quotes per feature that pass ``filters`` (features with none
        left out): what the map's circles and the filters need, from memory."""
        rows = self._facet_rows(filters)
        grouped = pa.table({"feature_id": pc.cast(rows["feature_id"], pa.string()),
                            "quotes": rows["quotes"]}).group_by("feature_id").aggregate(
            [("quotes", "sum")])
        return dict(zip(grouped["feature_id"].to_pylist(), grouped["quotes_sum"].to_pylist(),
                        strict=True))

    def aggregates(self, feature_id: str, filters: QuoteFilter | None = None) -> dict[str, Any]:
        """Return one feature's quotes counted in all and by theme, outlet, article and month
        (``YYYY-MM``; articles without a date are left out of ``by_month``)."""
        rows = self._facet_rows(filters, feature_id).to_pydict()
        by = {name: Counter() for name in ("by_theme", "by_outlet", "by_article", "by_month")}
        for i, count in enumerate(rows["quotes"]):
            by["by_outlet"][rows["outlet"][i]] += count
            by["by_article"][rows["article_id"][i]] += count
            if rows["date"][i] is not None:
                by["by_month"][rows["date"][i].isoformat()[:7]] += count
            for theme, column in THEME_COLUMNS.items():
                if rows[column][i]:
                    by["by_theme"][theme] += rows[column][i]
        return {"quotes": sum(rows["quotes"]), **{k: dict(v) for k, v in by.items()}}


def open_store(corpus_folder: Path, store_dir: Path | None = None) -> QuoteStore:
    """Open the quote store built for ``corpus_folder`` (``build_store``)."""
    return QuoteStore.open(store_path(corpus_folder, store_dir))


def build_store(
    corpus_folder: Path,
    workers: int | None = None,
    rebuild: bool = False,
    store_dir: Path | None = None,
    index: Any = None,
) -> tuple[QuoteStore, bool]:
    """Return (the quote store of ``corpus_folder``, whether it was built now).

    The store is reused when its key equals the hash of the current inputs
    (``index.inputs_hash``); otherwise the corpus is indexed (or ``index``, a ``CorpusIndex``
    already built from it, is used) and the store replaced as a whole.
    """
    from kzgeo.index import index_corpus, inputs_hash

    key = inputs_hash(Path(corpus_folder))
    path = store_path(corpus_folder, store_dir)
    if not rebuild and index is None:
        try:
            found = QuoteStore.open(path)
        except StoreError:
            found = None
        if found is not None and found.key == key:
            return found, False
    built = index if index is not None else index_corpus(Path(corpus_folder), workers)
    write_store(built.collection, path, key)
    return QuoteStore.open(path), True
