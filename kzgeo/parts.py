"""The partitioned build: batches of corpus files -> store parts, merged small.

The corpus files (in name order) fall into batches: ranges of names, each starting at the name
it started with when it was made, so a new file joins the batch whose range holds its name and
changes no other batch; a batch that grows past twice ``BATCH_FILES`` files splits. Each batch
is built on its own (``build_batch``: in this machine's processes or as a Dask task): its files
are read, its articles geoparsed through the batch's own cache (``geocache.resolve_cached``) and
written as a part of the quote store (``parts/<batch>-<signature>/``): its quotes (with a 64-bit
hash of the place and the squeezed sentence), its mentions and articles (Parquet), and per place
the partial aggregates (``resolve.PlacePartial`` without quotes: mentions, confidence in
thousandths, names and rejected candidates counted, first seen first).

The merge (``merge_parts``) reads only the partials and the quotes' small columns (article,
themes, hash): it drops a quote whose place and sentence an earlier quote in corpus order has
(the batches follow each other in corpus order), makes the features and the facets, and writes
them in a folder of their own; ``store.json`` is replaced last. What it derived from each
part (its small columns, dropped rows and facets, in ``derived/``) is reused by the next merge
for every part whose dropped rows did not change. When one part changed (a new file joined its
batch), the merge patches the last one instead (``merge_one``): the quote hashes are kept as an
index beside it (``HashIndex``), so only that part and the later parts whose copies of a
sentence it now quotes first are looked at. A batch whose files, their
manifest entries, the articles' fates (left out as repeats, renamed) and the code are unchanged
keeps its part, so adding an article rebuilds one batch and the merge.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kzgeo.config import GEODATA_DIR
from kzgeo.corpus import (
    Article,
    CorpusError,
    corpus_of,
    entries_by_file,
    entries_digest,
    is_article_name,
    read_manifest,
)
from kzgeo.files import pickle_atomic, write_atomic, write_atomic_with
from kzgeo.parallel import gc_paused
from kzgeo.quotestore import (
    COUNTS,
    MENTION_GROUP_ROWS,
    MERGE_MEMO,
    QUOTE_FIELDS,
    ROW_GROUP_ROWS,
    STORE_FORMAT,
    articles_table,
    facet_arrays,
    feature_heads,
    light_feature,
    row_group_sizes,
    store_path,
    theme_mask,
)
from kzgeo.themes import THEME_IDS

log = logging.getLogger("kzgeo.parts")

BATCH_FILES = 500  # files per batch when batches are made; a batch past twice that splits
PART_COLUMNS = ("article_pos", "themes_mask", "qhash")  # what the merge reads of a part's quotes
CATALOGUE = "catalogue-2.pickle"  # in the store folder: each file's ``_textless`` load


# --------------------------------------------------------------------------- batches
@dataclass
class Batch:
    """A range of corpus files built into one part: its id, the name it starts at, its files
    (with their manifest entries) and, once planned, its signature."""

    id: str
    first: str
    files: list[tuple[str, list[dict]]] = field(default_factory=list)  # (path, entries)
    signature: str = ""
    fates: list[list[str | None] | None] = field(default_factory=list)
    part: str = ""  # its part in the store folder, once built
    keys: list = field(default_factory=list)  # its files' ``corpus.file_key``


def batch_id(first: str) -> str:
    """Return a batch's id: a hash of the file name it starts at."""
    return hashlib.sha256(first.encode()).hexdigest()[:12]


def plan_batches(
    names: Sequence[str], starts: Sequence[str], batch_files: int = BATCH_FILES
) -> list[tuple[str, list[int]]]:
    """Return batches of the sorted file ``names`` as (start name, positions in ``names``).

    ``starts`` are the names the batches of the last build started at: a name goes to the
    last batch starting at or before it (the first batch when none does); batches left
    empty go; a batch of more than twice ``batch_files`` names splits into runs of
    ``batch_files``.

    >>> plan_batches(list("abcdefg"), [], 3)
    [('a', [0, 1, 2]), ('d', [3, 4, 5]), ('g', [6])]
    >>> plan_batches(["a", "b", "c", "d", "da", "e", "f", "g"], ["a", "d", "g"], 3)
    [('a', [0, 1, 2]), ('d', [3, 4, 5, 6]), ('g', [7])]
    >>> plan_batches([], ["a"], 3)
    []
    """
    starts = sorted(set(starts)) or [names[0] if names else ""]
    members: dict[str, list[int]] = {start: [] for start in starts}
    for i, name in enumerate(names):
        members[starts[max(0, bisect.bisect_right(starts, name) - 1)]].append(i)
    out: list[tuple[str, list[int]]] = []
    for start in starts:
        found = members[start]
        if len(found) > 2 * batch_files:
            for k in range(0, len(found), batch_files):
                run = found[k:k + batch_files]
                out.append((start if k == 0 else names[run[0]], run))
        elif found:
            out.append((start, found))
    return out


# --------------------------------------------------------------------------- keys
@lru_cache(maxsize=1)
def code_key() -> str:
    """Return a hash of what a part depends on besides its files: kzgeo's code and data that
    build it, the gazetteer's inputs and the geodata layers."""
    from kzgeo.gazetteer import input_hash
    from kzgeo.index import CODE_DIR

    h = hashlib.sha256(f"format={STORE_FORMAT};{input_hash()}".encode())
    for path in _code_files(CODE_DIR):
        h.update(str(path.relative_to(CODE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(GEODATA_DIR.glob("*.geojson")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


CODE_MEMO = "code-files.json"  # in the build folder: ``index_code("parts")`` as last found


def _code_files(code_dir: Path) -> list[Path]:
    """Return ``index.index_code("parts", code_dir)``, remembered in the build folder while
    no file of ``code_dir`` changed (name, size, time): finding a module's imports parses it."""
    from kzgeo.config import build_dir
    from kzgeo.index import index_code

    stats = sorted((str(path.relative_to(code_dir)), stat.st_size, stat.st_mtime_ns)
                   for path in code_dir.rglob("*") if "__pycache__" not in path.parts
                   and (stat := path.stat()) and path.is_file())
    stamp = _digest(str(code_dir), stats)
    memo = build_dir() / CODE_MEMO
    found = _read_json(memo)
    if found.get("stamp") == stamp and isinstance(found.get("files"), list):
        return [code_dir / name for name in found["files"]]
    files = index_code("parts", code_dir)
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, json.dumps({"stamp": stamp, "files": [
            str(path.relative_to(code_dir)) for path in files]}))
    return files


def list_files(folder: Path) -> list[tuple[str, int, int]]:
    """Return the article files of ``folder`` as (name, size, modification time in ns), in
    name order (``corpus.list_article_files`` with one ``os.scandir`` and no paths made)."""
    found = []
    with os.scandir(folder) as listing:
        for entry in listing:
            name = entry.name
            if is_article_name(name):
                stat = entry.stat()
                found.append((name, stat.st_size, stat.st_mtime_ns))
    found.sort()
    return found


def _digest(*values: Any) -> str:
    """Return a hash of plain data (strings, numbers, None, lists and tuples of them): its
    pickle, many times quicker to make than JSON for the 100,000 keys of a large corpus."""
    return hashlib.sha256(pickle.dumps(values, protocol=5)).hexdigest()[:20]


def _hash(*values: Any) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:20]


def quote_hash(place_id: str, squeezed: str) -> int:
    """Return the 64-bit hash that tells two quotes of a place apart (place id and sentence).

    >>> quote_hash("aktau", "Aktau wächst.") == quote_hash("aktau", "Aktau wächst.")
    True
    >>> quote_hash("aktau", "x") != quote_hash("atyrau", "x")
    True
    """
    digest = hashlib.blake2b(f"{place_id}\0{squeezed}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# --------------------------------------------------------------------------- one batch
_WORKER_GAZETTEER: list = []  # the gazetteer, loaded once per worker process when needed


def worker_gazetteer() -> Any:
    """Return the gazetteer, loaded once in this process."""
    if not _WORKER_GAZETTEER:
        from kzgeo.gazetteer import load_gazetteer

        _WORKER_GAZETTEER.append(load_gazetteer())
    return _WORKER_GAZETTEER[0]


def _textless(loaded: tuple) -> tuple:
    """Return what the catalogue keeps of a file's ``corpus._load_file`` result: its
    articles' ids and titles, its warnings, the manifest entries it took and its articles'
    body fingerprints (plain strings and tuples: quick to pickle and read)."""
    articles, _removed, warnings, taken, fingerprints = loaded
    return (tuple(a.id for a in articles), tuple(a.title for a in articles), tuple(warnings),
            tuple(taken), tuple(fingerprints))


@dataclass(frozen=True)
class Named:
    """What ``corpus.corpus_of`` reads of an article to decide its fate: its id and title."""

    id: str
    title: str


def _loaded(textless: tuple) -> tuple:
    """Return a catalogue entry as the ``corpus._load_file`` result ``corpus_of`` reads."""
    ids, titles, warnings, taken, fingerprints = textless
    return list(map(Named, ids, titles)), [], warnings, taken, fingerprints


@gc_paused()  # many small objects and no cycles: collections would walk them again and again
def build_batch(job: dict) -> dict:
    """Build one batch's part (a task of the local pool or of Dask) and return what the merge
    and the next plan need: the part's name, each file's load without text and the fates the
    part was built with.

    ``job``: ``folder`` (the store folder), ``files`` [(path, manifest entries)], ``fates``
    (per file the final id of each article, None to leave it out; None: as loaded),
    ``part``, ``cache`` and ``seeds`` (geoparse caches).
    """
    from dataclasses import replace

    from kzgeo.corpus import _load_file
    from kzgeo.geocache import resolve_cached

    loads, used, articles = [], [], []
    for (path, entries), fate in zip(job["files"], job["fates"], strict=True):
        if not Path(path).is_file():  # e.g. a Dask worker that does not see the corpus
            raise RuntimeError(f"{path} is not there as the build planned it")
        loaded = _load_file((Path(path), entries))
        file_articles = loaded[0]
        if fate is None or len(fate) != len(file_articles):
            fate = [a.id for a in file_articles]
        for article, final in zip(file_articles, fate, strict=True):
            if final is not None:
                articles.append(article if final == article.id else replace(article, id=final))
        loads.append(_textless(loaded))
        used.append(fate)
    resolved, places, stats = resolve_cached(
        articles, Path(job["cache"]), 1, seeds=[Path(p) for p in job["seeds"]],
        loader=worker_gazetteer)
    derived = write_part(Path(job["folder"]) / job["part"], articles, resolved, places)
    _save_derived(Path(job["folder"]), job["part"], derived)  # the merge reads no part file
    return {"part": job["part"], "loads": loads, "fates": used,
            "geoparsed": len(stats.geoparsed)}


def write_part(path: Path, articles: list[Article], resolved: list[list],
               places: dict) -> dict[str, np.ndarray]:
    """Write one batch's part in ``path`` (beside it first, then renamed): quotes, mentions,
    articles and the per-place partials; return what the merge reads of it (``_derived``:
    the quotes' ``PART_COLUMNS`` and ``_place_rows``)."""
    from kzgeo.index import mentions_table
    from kzgeo.resolve import _source, place_partial

    sources = {a.id: _source(a) for a in articles}
    position = {a.id: i for i, a in enumerate(articles)}
    by_place: dict[str, list] = defaultdict(list)
    mentions = []
    for found in resolved:
        mentions.extend(found)
        for rm in found:
            if rm.kind == "place" and rm.place_id is not None:
                by_place[rm.place_id].append(rm)
    quotes: list = []
    ids, hashes = [], []
    partials: dict[str, tuple] = {}
    squeezed: dict[str, str] = {}
    for pid in sorted(by_place):
        partial = place_partial(by_place[pid], sources, squeezed)
        partials[pid] = (len(ids), len(partial.quotes), partial.mentions,
                         partial.confidence_milli, partial.names, partial.rejected)
        quotes.extend(partial.quotes)
        ids.extend([pid] * len(partial.quotes))
        hashes.extend(quote_hash(pid, key) for key in partial.keys)
    masks_of = {themes: theme_mask(themes) for themes in set(map(attrgetter("themes"), quotes))}
    columns = {name: list(map(attrgetter(name), quotes)) for name, _ in QUOTE_FIELDS}
    masks = [masks_of[themes] for themes in columns["themes"]]
    columns["themes"] = list(map(list, columns["themes"]))
    positions = [position[article_id] for article_id in columns["article_id"]]
    schema = pa.schema([("feature_id", pa.string()), *QUOTE_FIELDS, ("article_pos", pa.int32()),
                        ("themes_mask", pa.uint8()), ("qhash", pa.uint64())])
    table = pa.table({"feature_id": ids, **columns, "article_pos": positions,
                      "themes_mask": masks, "qhash": hashes}, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        pq.write_table(table, temp / "quotes.parquet", row_group_size=ROW_GROUP_ROWS,
                       compression="zstd")
        del table, columns
        pq.write_table(mentions_table(SimpleNamespace(mentions=mentions), articles),
                       temp / "mentions.parquet", row_group_size=MENTION_GROUP_ROWS,
                       compression="zstd")
        pq.write_table(articles_table(articles), temp / "articles.parquet", compression="zstd")
        entries = {pid: tuple(places[pid]) for pid in partials}
        with open(temp / "partials.pickle", "wb") as handle:
            pickle.dump({"places": partials, "entries": entries, "articles": len(articles)},
                        handle, protocol=pickle.HIGHEST_PROTOCOL)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(temp, path)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return {"article_pos": np.array(positions, np.int32), "themes_mask": np.array(masks, np.uint8),
            "qhash": np.array(hashes, np.uint64), **_rows_of_places(partials, len(articles))}


# --------------------------------------------------------------------------- the merge
DERIVED = "derived"  # in the store folder: per part, what the last merge derived from it
FACET_KEYS = ("f_feature", "f_article", "f_mask", "f_quotes", "f_first", "f_last")


def part_facets(feature: np.ndarray, article: np.ndarray, mask: np.ndarray,
                kept: np.ndarray) -> dict[str, np.ndarray]:
    """Return one part's facets: per (place, article, theme set) of its kept quotes the number
    of quotes and the rows of the first and last, all in the part's own numbering (its
    places in row order, its articles, its rows), sorted by place, article and theme set.

    >>> f = part_facets(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 0]),
    ...                 np.array([1, 1, 1, 2]), np.array([True, True, True, False]))
    >>> [f[k].tolist() for k in FACET_KEYS]
    [[0, 0], [0, 1], [1, 1], [2, 1], [0, 2], [1, 2]]
    >>> [len(v) for v in part_facets(*[np.zeros(0, np.int64)] * 3, np.zeros(0, bool)).values()]
    [0, 0, 0, 0, 0, 0]
    """
    rows = np.flatnonzero(kept)
    fr, ar, mr = feature[rows], article[rows], mask[rows]
    order = np.lexsort((rows, mr, ar, fr))
    fr, ar, mr, rows = fr[order], ar[order], mr[order], rows[order]
    new = np.r_[True, (fr[1:] != fr[:-1]) | (ar[1:] != ar[:-1]) | (mr[1:] != mr[:-1])] \
        if len(rows) else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(rows))[:len(starts)].astype(np.int64)
    return {"f_feature": fr[starts].astype(np.int32), "f_article": ar[starts].astype(np.int32),
            "f_mask": mr[starts].astype(np.uint8), "f_quotes": (ends - starts).astype(np.int32),
            "f_first": rows[starts].astype(np.int64), "f_last": rows[ends - 1].astype(np.int64)}


def _derived(folder: Path, name: str) -> dict[str, np.ndarray]:
    """Return what the last merge kept of part ``name`` (its quotes' hashes, its places,
    its dropped rows and facets), or its small columns read from its quotes file."""
    path = folder / DERIVED / f"{Path(name).name}.pickle"
    with contextlib.suppress(OSError, ValueError, EOFError, pickle.UnpicklingError):
        found = pickle.loads(path.read_bytes())  # one read (npz: one per array, slower)
        if isinstance(found, dict):
            return found
    return _part_columns(folder, name)


def _part_columns(folder: Path, name: str) -> dict[str, np.ndarray]:
    """Return part ``name``'s quotes' small columns (``PART_COLUMNS``) from its quotes file."""
    quotes = pq.read_table(folder / name / "quotes.parquet", columns=list(PART_COLUMNS))
    return {column: quotes[column].to_numpy() for column in PART_COLUMNS}


def _place_rows(folder: Path, name: str) -> dict[str, np.ndarray]:
    """Return part ``name``'s places in row order, their rows and its articles' count."""
    with open(folder / name / "partials.pickle", "rb") as handle:
        part = pickle.load(handle)
    return _rows_of_places(part["places"], part["articles"])


def _rows_of_places(places: dict[str, tuple], articles: int) -> dict[str, np.ndarray]:
    """Return a part's ``places`` (its partials: first row, rows, ...) in row order, their
    rows and the part's ``articles`` count, as ``_derived`` keeps them."""
    order = sorted(places, key=lambda pid: places[pid][0])
    return {"places": np.array(order, dtype=str),
            "place_rows": np.array([places[p][1] for p in order], np.int64),
            "articles": np.array(articles, np.int64)}


SUM_GROUP = 16  # consecutive parts whose per-place sums the merge keeps together
SUMS = "sums"  # in the store folder: per group of parts, its per-place sums


def sum_groups(parts: Sequence[str]) -> list[Sequence[str]]:
    """Return ``parts`` in runs of ``SUM_GROUP``: the groups whose sums ``sums/`` keeps."""
    return [parts[i:i + SUM_GROUP] for i in range(0, len(parts), SUM_GROUP)]


def _group_file(names: Sequence[str], suffix: str) -> str:
    """Return the name in ``sums/`` of what is kept for the group of parts ``names``."""
    return f"{_hash(list(names))}{suffix}"


def add_sums(sums: Iterable[dict]) -> dict:
    """Return the per-place sums of consecutive parts (or groups of them) in corpus order:
    mentions and thousandths added, surface names counted first seen first, rejected
    candidates counted with the first seen score and reason, the gazetteer entries united.

    Adding is associative, so groups of parts add up to what their parts add up to.

    >>> a = {"places": {"x": [1, 500, {"X": 1}, {"y": [1, 0.2, "r"]}]}, "entries": {"x": 1}}
    >>> b = {"places": {"x": [2, 900, {"Xe": 1, "X": 1}, {"y": [2, 0.3, "s"]}]},
    ...      "entries": {"x": 1}}
    >>> add_sums([a, b])["places"]
    {'x': [3, 1400, {'X': 2, 'Xe': 1}, {'y': [3, 0.2, 'r']}]}
    >>> add_sums([])
    {'places': {}, 'entries': {}}
    """
    places: dict[str, list] = {}  # pid -> [mentions, milli, names, rejected]
    entries: dict[str, tuple] = {}
    for found in sums:
        entries.update(found["entries"])
        for pid, (mentions, milli, names, rejected) in found["places"].items():
            into = places.get(pid)
            if into is None:
                places[pid] = [mentions, milli, dict(names),
                               {cid: list(value) for cid, value in rejected.items()}]
                continue
            into[0] += mentions
            into[1] += milli
            for surface, count in names.items():
                into[2][surface] = into[2].get(surface, 0) + count
            for cid, (count, score, reason) in rejected.items():
                into[3].setdefault(cid, [0, score, reason])[0] += count
    return {"places": places, "entries": entries}


def part_sums(folder: Path, name: str) -> dict:
    """Return the per-place sums of one part (``add_sums``' form) from its partials."""
    with open(folder / name / "partials.pickle", "rb") as handle:
        part = pickle.load(handle)
    return {"places": {pid: [mentions, milli, names, rejected] for pid, (
        _row, _n, mentions, milli, names, rejected) in part["places"].items()},
        "entries": part["entries"]}


def group_sums(folder: Path, names: Sequence[str]) -> dict:
    """Return ``add_sums`` of the parts ``names``, kept in ``sums/`` for the next merge (a
    group whose parts did not change is read, not added up again)."""
    path = folder / SUMS / _group_file(names, ".pickle")
    with contextlib.suppress(OSError, EOFError, ValueError, pickle.UnpicklingError):
        found = pickle.loads(path.read_bytes())
        if found.get("parts") == list(names):
            return found["sums"]
    sums = add_sums(part_sums(folder, name) for name in names)
    path.parent.mkdir(parents=True, exist_ok=True)
    pickle_atomic(path, {"parts": list(names), "sums": sums})
    return sums


def group_articles(folder: Path, names: Sequence[str]) -> pa.Table:
    """Return the articles tables of the parts ``names`` one after the other, kept in
    ``sums/`` (Arrow IPC: read without decoding Parquet) for the next merge."""
    path = folder / SUMS / _group_file(names, ".arrow")
    with contextlib.suppress(OSError, pa.ArrowInvalid), pa.OSFile(str(path)) as source:
        return pa.ipc.open_file(source).read_all()
    table = pa.concat_tables([pq.read_table(folder / name / "articles.parquet")
                              for name in names])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_with(path, lambda handle: _write_ipc(handle, table))
    return table


def _write_ipc(handle: Any, table: pa.Table) -> None:
    with pa.ipc.new_file(handle, table.schema) as writer:
        writer.write_table(table)


LAYERS = "layers-2.pickle"  # in the store folder: the map layers' features, by code key


def _layer_features(folder: Path) -> dict[str, list[dict]]:
    """Return each map layer's GeoJSON features (``index.layer_features``), kept in the store
    folder while the code key (which covers the geodata files) is the same: reading and
    converting their GeoJSON takes most of a second, and geopandas is not imported."""
    path = folder / LAYERS
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError, AttributeError,
                             ImportError, pickle.UnpicklingError):
        found = pickle.loads(path.read_bytes())
        if found.get("key") == code_key():
            return found["layers"]
    from kzgeo.index import layer_features
    from kzgeo.layers import load_layers

    layers = layer_features(load_layers())
    with contextlib.suppress(OSError):
        pickle_atomic(path, {"key": code_key(), "layers": layers})
    (folder / "layers.pickle").unlink(missing_ok=True)  # the earlier form: frames
    return layers


def _save_derived(folder: Path, name: str, derived: dict[str, np.ndarray]) -> None:
    """Keep what the merge derived from part ``name`` for the next merge (atomically)."""
    target = folder / DERIVED / f"{Path(name).name}.pickle"
    target.parent.mkdir(parents=True, exist_ok=True)
    pickle_atomic(target, derived)


def _place_codes(found: dict, id_array: np.ndarray, row_base: int,
                 article_base: int) -> dict[str, np.ndarray]:
    """Return a part's facets (``part_facets``, kept in ``found``) in the merged numbering:
    places as positions in ``id_array``, articles and rows after those of earlier parts."""
    codes = np.searchsorted(id_array, found["places"]).astype(np.int32)
    return {"f_feature": codes[found["f_feature"]] if len(codes) else found["f_feature"],
            "f_article": found["f_article"].astype(np.int64) + article_base,
            "f_mask": found["f_mask"], "f_quotes": found["f_quotes"],
            "f_first": found["f_first"].astype(np.int64) + row_base,
            "f_last": found["f_last"].astype(np.int64) + row_base}


def _faceted(folder: Path, name: str, found: dict, kept: np.ndarray) -> tuple[dict, bool]:
    """Return what the merge keeps of part ``name`` (``found``: its ``_derived``) with its
    facets for the rows ``kept``, and whether they were made now (the kept rows differ from
    the last merge's; then they are saved in ``derived/`` for the next one)."""
    dropped = np.flatnonzero(~kept)
    if "f_feature" in found and "places" in found and np.array_equal(found["dropped"], dropped):
        return found, False
    if "places" not in found:
        found.update(_place_rows(folder, name))
    columns = found if "article_pos" in found else _part_columns(folder, name)
    feature = np.repeat(np.arange(len(found["places"]), dtype=np.int32), found["place_rows"])
    found = {column: found[column] for column in ("qhash", "places", "place_rows", "articles")}
    # not the columns: read from the part's quotes file in the rare merge that needs them
    found.update(part_facets(feature, columns["article_pos"], columns["themes_mask"], kept))
    found["f_first"] = found["f_first"].astype(np.int32)  # rows within the part
    found["f_last"] = found["f_last"].astype(np.int32)
    found["dropped"] = dropped
    _save_derived(folder, name, found)
    return found, True


HASH_FILES = ("hashes.npy", "hash_parts.npy")  # in a merged folder: ``HashIndex.base``
ADDED_FILES = ("hashes-added.npy", "hash_parts-added.npy")  # its ``added``
HASH_FOLD = 1_000_000  # changes kept apart from the base up to this many, then folded in


def _owners(keys: np.ndarray, parts: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Return the part of each of ``hashes`` in sorted ``keys`` (with their ``parts``), -1
    where it is not there."""
    if not len(keys):
        return np.full(len(hashes), -1, np.int32)
    at = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    return np.where(keys[at] == hashes, parts[at], -1).astype(np.int32)


@dataclass
class HashIndex:
    """Each distinct quote hash and the position of the first part that quotes it, in corpus
    order: a large sorted ``base`` that a patched merge keeps as it is (its files linked, not
    written again) and the small sorted changes made since (``added``), which win."""

    base: tuple[np.ndarray, np.ndarray]
    added: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.int32))
    source: Path | None = None  # the merged folder whose files hold ``base``

    @classmethod
    def read(cls, folder: Path) -> HashIndex:
        """Return the index kept in the merged ``folder`` (its base memory-mapped)."""
        base = tuple(np.load(folder / name, mmap_mode="r") for name in HASH_FILES)
        added = tuple(np.load(folder / name) for name in ADDED_FILES)
        return cls(base, added, folder)  # type: ignore[arg-type]

    def owners(self, hashes: np.ndarray) -> np.ndarray:
        """Return the first part of each of the sorted ``hashes``, -1 where none quotes it."""
        found = _owners(*self.added, hashes)
        return np.where(found >= 0, found, _owners(*self.base, hashes))

    def assign(self, hashes: np.ndarray, part: int) -> None:
        """Make ``part`` the first part of ``hashes``."""
        keys = np.concatenate([hashes, self.added[0]])
        parts = np.concatenate([np.full(len(hashes), part, np.int32), self.added[1]])
        keys, first = np.unique(keys, return_index=True)  # the new part wins
        self.added = (keys, parts[first])

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the whole index as one sorted array of hashes and their parts."""
        keys, parts = self.added
        stay = _owners(keys, parts, np.asarray(self.base[0])) < 0
        keys = np.concatenate([keys, self.base[0][stay]])
        parts = np.concatenate([parts, self.base[1][stay]])
        order = np.argsort(keys, kind="stable")
        return keys[order], parts[order].astype(np.int32)

    def write(self, folder: Path) -> None:
        """Write the index in the merged ``folder``: the base linked from ``source`` while
        the changes are few, else all of it written again."""
        fold = self.source is None or len(self.added[0]) > HASH_FOLD
        base, added = (self.flat(), (self.added[0][:0], self.added[1][:0])) if fold \
            else (self.base, self.added)
        for name, values in zip(HASH_FILES, base, strict=True):
            if fold or not _linked(self.source / name, folder / name):  # type: ignore[operator]
                np.save(folder / name, np.asarray(values))
        for name, values in zip(ADDED_FILES, added, strict=True):
            np.save(folder / name, values)


def _linked(source: Path, target: Path) -> bool:
    """Hard-link ``target`` to ``source``; tell whether it could be."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


@dataclass
class Merged:
    """The merged facets as the store serves them (``quotestore.facet_arrays`` of the features
    with quotes, ``ids``) and what the next merge patches: the rows dropped as repeats, the
    distinct quote hashes with the first part that quotes each, each part's quote rows and
    articles."""

    served: dict[str, np.ndarray]
    ids: list[str]
    dropped: np.ndarray
    index: HashIndex
    rows: list[int]
    articles: list[int]
    groups: list[list[int]]  # each part's row group sizes (``quotestore.row_group_sizes``)
    remade: int
    patched: bool = False


def _sort_facets(facets: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return facet rows sorted by place, article and theme set (each row is one of them)."""
    order = np.lexsort((facets["f_mask"], facets["f_article"], facets["f_feature"]))
    return {key: values[order] for key, values in facets.items()}


def merge_all(folder: Path, parts: Sequence[str], id_array: np.ndarray) -> Merged:
    """Return the merged facets of all ``parts``: a quote is dropped when an earlier one (in
    corpus order) has its hash; a part's facets are made again only when its dropped rows
    differ from the last merge's (``_faceted``), the others are taken from ``derived/``."""
    derived = [_derived(folder, name) for name in parts]
    rows = [len(found["qhash"]) for found in derived]
    bases = np.cumsum([0, *rows])
    hashes = np.concatenate([d["qhash"] for d in derived] or [np.zeros(0, np.uint64)])
    distinct, first_rows = np.unique(hashes, return_index=True)  # first seen in corpus order
    kept = np.zeros(len(hashes), bool)
    kept[first_rows] = True
    del hashes
    pieces: dict[str, list[np.ndarray]] = {key: [] for key in FACET_KEYS}
    articles: list[int] = []
    remade = 0
    for position, (name, found) in enumerate(zip(parts, derived, strict=True)):
        found, made = _faceted(folder, name, found, kept[bases[position]:bases[position + 1]])
        remade += made
        for key, values in _place_codes(found, id_array, int(bases[position]),
                                        sum(articles)).items():
            pieces[key].append(values)
        articles.append(int(found["articles"]))
        derived[position] = None  # type: ignore[call-overload]  # freed as the merge goes
    facets = _sort_facets({key: np.concatenate(pieces[key]) if pieces[key]
                           else np.zeros(0, EMPTY[key]) for key in FACET_KEYS})
    quote_counts = np.bincount(facets["f_feature"], weights=facets["f_quotes"],
                               minlength=len(id_array))
    used = np.flatnonzero(quote_counts)  # the features with quotes, their codes in id order
    renumber = np.zeros(len(id_array), np.int32)
    renumber[used] = np.arange(len(used), dtype=np.int32)
    served = facet_arrays(len(used), renumber[facets["f_feature"]], facets["f_article"],
                          facets["f_mask"], facets["f_quotes"], facets["f_first"],
                          facets["f_last"])
    hash_part = (np.searchsorted(bases, first_rows, side="right") - 1).astype(np.int32)
    return Merged(served, id_array[used].tolist(), np.flatnonzero(~kept).astype(np.int64),
                  HashIndex((distinct, hash_part)), rows, articles,
                  [row_group_sizes(folder / name / "quotes.parquet") for name in parts], remade)


EMPTY = {"f_feature": np.int32, "f_article": np.int64, "f_mask": np.uint8, "f_quotes": np.int32,
         "f_first": np.int64, "f_last": np.int64}  # the facets' types


def merge_one(folder: Path, parts: Sequence[str], previous: Path,
              id_array: np.ndarray) -> Merged | None:
    """Return ``merge_all(folder, parts, id_array)`` made by patching the merged folder
    ``previous`` where one part changed (adding an article to a large archive rebuilds one
    batch); None when it cannot be patched (not one part changed, a part's first copy of a
    sentence went, a place or a theme set gained or lost its last quotes, the previous folder
    unreadable or written by earlier code).

    Only the changed part's facets are made, and those of the later parts whose quotes the
    changed part now quotes first (their copies are dropped now)."""
    memo = _read_json(previous / MERGE_MEMO)
    old_parts = memo.get("parts")
    if not isinstance(old_parts, list) or len(old_parts) != len(parts) or any(
            not isinstance(memo.get(key), list) or len(memo[key]) != len(parts)
            for key in ("rows", "articles", "groups")):
        return None
    changed = [i for i, (old, new) in enumerate(zip(old_parts, parts, strict=True))
               if old != new]
    if len(changed) != 1:
        return None
    k = changed[0]
    try:
        index = HashIndex.read(previous)
        served, ids = _read_served(previous)
        dropped = np.load(previous / "dropped.npy")
        gone_part = np.unique(_derived(folder, old_parts[k])["qhash"])
        found = _derived(folder, parts[k])
    except (OSError, ValueError, KeyError):
        return None
    new_hashes, first = np.unique(found["qhash"], return_index=True)
    gone = np.setdiff1d(gone_part, new_hashes, assume_unique=True)
    if (index.owners(gone) == k).any():
        return None  # a sentence it quoted first went: its next copy is in some later part
    owner = index.owners(new_hashes)
    affected = sorted(set(owner[owner > k].tolist()))  # their copies are dropped now
    index.assign(new_hashes[(owner < 0) | (owner > k)], k)
    kept = np.zeros(len(found["qhash"]), bool)
    kept[first[(owner < 0) | (owner >= k)]] = True
    made = {k: _faceted(folder, parts[k], found, kept)[0]}
    for j in affected:
        part = _derived(folder, parts[j])
        distinct, part_first = np.unique(part["qhash"], return_index=True)
        part_kept = np.zeros(len(part["qhash"]), bool)
        part_kept[part_first[index.owners(distinct) == j]] = True
        made[j] = _faceted(folder, parts[j], part, part_kept)[0]
    rows, articles = list(memo["rows"]), list(memo["articles"])
    old_bases, old_starts = np.cumsum([0, *rows]), np.cumsum([0, *articles])
    rows[k], articles[k] = len(found["qhash"]), int(made[k]["articles"])
    bases, starts = np.cumsum([0, *rows]), np.cumsum([0, *articles])
    if max(bases[-1], starts[-1]) >= np.iinfo(np.int32).max:
        return None  # rows past 32 bits: the served arrays' types change
    row_shift = int(bases[k + 1] - old_bases[k + 1])
    new = _sort_facets({key: np.concatenate([_place_codes(
        made[j], id_array, int(bases[j]), int(starts[j]))[key] for j in made])
        for key in FACET_KEYS})
    served = _patched_served(served, ids, id_array[new["f_feature"]], new, (
        old_bases, list(made), k, row_shift, int(starts[k + 1] - old_starts[k + 1]),
        int(starts[-1]) + 1))
    if served is None:
        return None
    stay, after = _moved(dropped, old_bases, list(made), k)
    dropped = np.sort(np.concatenate([dropped[stay] + np.where(after[stay], row_shift, 0),
                                      *(made[j]["dropped"] + bases[j] for j in made)]))
    groups = list(memo["groups"])
    groups[k] = row_group_sizes(folder / parts[k] / "quotes.parquet")
    return Merged(served, ids, dropped, index, rows, articles, groups, len(made), True)


def _moved(rows: np.ndarray, bases: np.ndarray, remade: list[int],
           k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return which of the quote ``rows`` stay (not of a part in ``remade``; ``bases``: where
    each part's rows start) and which come after part ``k``."""
    stay = np.ones(len(rows), bool)
    for j in remade:
        stay &= (rows < bases[j]) | (rows >= bases[j + 1])
    return stay, rows >= bases[k + 1]


def _read_served(merged: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """Return the facets a merged folder serves (``quotestore.facet_arrays``) and their ids."""
    from kzgeo.quotestore import FACET_FOLDER

    folder = merged / FACET_FOLDER
    served = {name: np.load(folder / f"{name}.npy")
              for name in ("masks", "key", "article", "quotes", "first", "last")}
    return served, json.loads((folder / "ids.json").read_text(encoding="utf-8"))


def _patched_served(served: dict[str, np.ndarray], ids: list[str], new_ids: np.ndarray,
                    new: dict[str, np.ndarray], where: tuple) -> dict[str, np.ndarray] | None:
    """Return the served facets with the rows of the remade parts replaced by ``new`` (their
    places ``new_ids``) and the rows after part ``k`` shifted (``where``: the old parts' first
    rows, the remade parts, ``k``, the rows' and the articles' shift, the articles + 1); None
    when the features with quotes or the theme sets that occur changed (all merged again)."""
    old_bases, remade, k, row_shift, article_shift, articles = where
    masks = served["masks"]
    width = len(masks)
    used = np.array(ids, dtype=str)
    position = np.minimum(np.searchsorted(used, new_ids), max(len(used) - 1, 0))
    mask_code = np.minimum(np.searchsorted(masks, new["f_mask"]), width - 1)
    if len(new_ids) and (not len(used) or (used[position] != new_ids).any()
                         or (masks[mask_code] != new["f_mask"]).any()):
        return None  # a place or a theme set without quotes before
    stay, after = _moved(served["first"], old_bases, remade, k)
    for name, shift in (("first", row_shift), ("last", row_shift), ("article", article_shift)):
        served[name][after] += shift
    old_key = served["key"][stay].astype(np.int64)
    order = (old_key // width * articles + served["article"][stay]) * width + old_key % width
    at = np.searchsorted(order, (position.astype(np.int64) * articles + new["f_article"])
                         * width + mask_code)
    out = {"masks": masks, "key": np.insert(served["key"][stay], at, position * width + mask_code)}
    feature = out["key"] // width
    if (np.bincount(feature, minlength=len(ids)) == 0).any() \
            or (np.bincount(out["key"] % width, minlength=width) == 0).any():
        return None  # a place or a theme set without quotes now
    for name, column in (("article", "f_article"), ("quotes", "f_quotes"), ("first", "f_first"),
                         ("last", "f_last")):
        out[name] = np.insert(served[name][stay], at, new[column])
    return {**out, **feature_heads(len(ids), feature, out["quotes"], out["first"])}


def merge_parts(folder: Path, parts: Sequence[str], previous: str | None = None,
                known_sums: dict | None = None) -> dict[str, Any]:
    """Merge the ``parts`` of the store in ``folder`` (in corpus order) into a new folder of
    merged files (features, facets, articles, the rows dropped as repeats); return what
    ``store.json`` says of it.

    A quote is dropped when an earlier quote (in corpus order) has its hash. The facets are
    patched from the ``previous`` merged folder when one part changed (``merge_one``), else
    merged from all parts (``merge_all``). ``known_sums``: ``group_sums`` already made, by
    the group's parts."""
    groups = sum_groups(parts)
    known_sums = known_sums or {}
    summed = add_sums([known_sums.get(tuple(group)) or group_sums(folder, group)
                       for group in groups])
    id_array = np.array(sorted(summed["places"]), dtype=str)
    merged = (merge_one(folder, parts, folder / previous, id_array) if previous else None) \
        or merge_all(folder, parts, id_array)
    stamp = _hash(list(parts), time.time_ns())[:12]
    target = folder / f"merged-{stamp}"
    temp = Path(tempfile.mkdtemp(prefix=f".merged-{stamp}-", dir=folder))
    try:
        features = _merged_features(folder, summed, merged)
        (temp / "features.geojson").write_text(json.dumps(
            features, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        article_count = _write_merged(temp, folder, groups, merged)
        os.replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return {"merged": target.name, "quotes": int(merged.served["feature_quotes"].sum()),
            "features": len(features["features"]), "quoted": len(merged.ids),
            "articles": article_count, "remade": merged.remade, "patched": merged.patched}


def _merged_features(folder: Path, summed: dict, merged: Merged) -> dict:
    """Return the map's feature collection (light features) of the merged places (``summed``:
    ``add_sums`` of all parts) and layers, with each quoted place's themes and quote count."""
    from kzgeo.gazetteer import Entry
    from kzgeo.index import collection_of
    from kzgeo.resolve import Geoparse, PlacePartial, place_of

    served = merged.served
    width = len(served["masks"])
    theme_bits = np.zeros(len(merged.ids), np.int64)
    np.bitwise_or.at(theme_bits, served["key"] // width, served["masks"][served["key"] % width])
    bits_of = dict(zip(merged.ids, theme_bits.tolist(), strict=True))
    quotes_of = dict(zip(merged.ids, served["feature_quotes"].tolist(), strict=True))
    entries = summed["entries"]
    places = []
    for pid, (mentions, milli, names, rejected) in summed["places"].items():
        bits = bits_of.get(pid, 0)
        themes = frozenset(t for b, t in enumerate(THEME_IDS) if bits >> b & 1)
        partial = PlacePartial([], [], mentions, milli, names, rejected, themes)
        places.append(place_of(pid, Entry._make(entries[pid]), partial))
    places.sort(key=lambda p: (-p.mention_count, p.id))
    collection = collection_of(Geoparse(places, [], 0.0), _layer_features(folder))
    light = []
    for feature_dict in collection["features"]:
        feature_dict = light_feature(feature_dict)
        if feature_dict["id"] in summed["places"]:
            feature_dict["properties"]["quote_count"] = quotes_of.get(feature_dict["id"], 0)
        light.append(feature_dict)
    return {**collection, "features": light}


def _write_merged(temp: Path, folder: Path, groups: list[Sequence[str]], merged: Merged) -> int:
    """Write in ``temp`` what ``merge_parts`` merged besides the features: the served facets,
    the articles of the part ``groups`` (read from ``folder``), the rows dropped as repeats,
    the hash index and the memo the next merge patches; return how many articles."""
    from kzgeo.quotestore import write_facet_arrays

    write_facet_arrays(temp, merged.ids, merged.served)  # ready to serve
    articles = pa.concat_tables([group_articles(folder, group) for group in groups]) \
        if groups else articles_table([])
    pq.write_table(articles, temp / "articles.parquet", compression="lz4")  # 4x zstd's speed
    np.save(temp / "dropped.npy", merged.dropped.astype(np.int64))
    merged.index.write(temp)
    (temp / MERGE_MEMO).write_text(json.dumps({
        "parts": [name for group in groups for name in group], "rows": merged.rows,
        "articles": merged.articles, "groups": merged.groups}))
    return articles.num_rows


# --------------------------------------------------------------------------- the build
MANIFEST_MEMO = "manifest.pickle"  # in the store folder: the manifest as last read


def read_manifest_cached(corpus_folder: Path, folder: Path) -> tuple[list[dict], list[str]]:
    """Return ``corpus.read_manifest(corpus_folder)``; a manifest that only grew at its end
    since the last build (articles appended) has only its new end parsed. The memo is kept
    in the store ``folder``."""
    entries, warnings, _digests = manifest_memo(corpus_folder, folder)
    return entries, warnings


MANIFEST_ADDED = "manifest-added.pickle"  # the entries appended since the memo, kept apart
MANIFEST_FOLD = 2_000  # appended entries kept apart up to this many, then the memo is rewritten


def _read_manifest_memo(folder: Path) -> dict:
    """Return the manifest memo with the entries appended since (kept apart) added."""
    memo = pickle.loads((folder / MANIFEST_MEMO).read_bytes())
    with contextlib.suppress(OSError, ValueError, EOFError, pickle.UnpicklingError):
        added = pickle.loads((folder / MANIFEST_ADDED).read_bytes())
        if added["base"] == memo["head"]:
            return {**added, "base": memo, "entries": memo["entries"] + added["entries"],
                    "digests": {**memo["digests"], **added["digests"]}}
    return {**memo, "base": memo}


def manifest_memo(corpus_folder: Path, folder: Path) -> tuple[list[dict], list[str], dict]:
    """Return ``read_manifest_cached`` and, per file the manifest names, its entries'
    ``entries_digest`` (made again only for the files an appended end names)."""
    import tomllib

    from kzgeo.corpus import MANIFEST_NAME, manifest_entries

    path = corpus_folder / MANIFEST_NAME
    memo_path = folder / MANIFEST_MEMO
    base = None
    try:
        data = path.read_bytes()
        memo = _read_manifest_memo(folder)
        size, rows = memo["size"], memo["rows"]
        entries, warnings, digests = memo["entries"], memo["warnings"], memo["digests"]
        if not (0 < size <= len(data)
                and memo["head"] == hashlib.sha256(data[:size]).hexdigest()):
            raise ValueError("not the manifest the memo was made of")
        if len(data) == size:
            return entries, warnings, digests
        tail = tomllib.loads(data[size:].decode("utf-8"))
        if set(tail) - {"article"} or not isinstance(tail.get("article", []), list):
            raise ValueError("the manifest changed beyond appended articles")
        added = tail.get("article", [])
        more_entries, more_warnings = manifest_entries(added, rows + 1)
        entries, warnings = entries + more_entries, warnings + more_warnings
        rows += len(added)
        grown = entries_by_file(entries, {entry["file"] for entry in more_entries})
        digests = {**digests, **{name: entries_digest(found) for name, found in grown.items()}}
        base = memo["base"]
    except (OSError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError,
            UnicodeDecodeError):  # fmt: skip
        entries, warnings = read_manifest(corpus_folder)
        digests = {name: entries_digest(found)
                   for name, found in entries_by_file(entries).items()}
        data = path.read_bytes() if path.is_file() else b""
        rows = -1
        if any("ignored, " in w or "no [[article]]" in w or "should be" in w for w in warnings):
            return entries, warnings, digests  # a manifest with problems is read whole each time
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            rows = len(tomllib.loads(data.decode("utf-8-sig")).get("article", []))
    if data and rows >= 0 and not data.startswith(b"\xef\xbb\xbf"):
        head = hashlib.sha256(data).hexdigest()
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            if base is not None and len(entries) - len(base["entries"]) <= MANIFEST_FOLD:
                pickle_atomic(folder / MANIFEST_ADDED, {  # the memo itself is not rewritten
                    "base": base["head"], "size": len(data), "rows": rows, "head": head,
                    "entries": entries[len(base["entries"]):], "warnings": warnings,
                    "digests": {name: digests[name] for name in digests
                                if base["digests"].get(name) != digests[name]}})
            else:
                pickle_atomic(memo_path, {"size": len(data), "rows": rows, "entries": entries,
                                          "warnings": warnings, "digests": digests,
                                          "head": head})
                (folder / MANIFEST_ADDED).unlink(missing_ok=True)
    return entries, warnings, digests


def _read_json(path: Path) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _read_keyed(path: Path, name: str) -> dict:
    """Return the ``files`` of a pickle written by ``_write_keyed`` with the same loader
    key (empty when missing, unreadable or of other code)."""
    from kzgeo.geocache import loader_key

    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError,
                             ImportError, ValueError, TypeError, IndexError):
        found = pickle.loads(path.read_bytes())
        if isinstance(found, dict) and found.get("key") == (loader_key(), name):
            return found["files"]
    return {}


def _write_keyed(path: Path, name: str, value: Any) -> None:
    from kzgeo.geocache import loader_key

    with contextlib.suppress(OSError):
        pickle_atomic(path, {"key": (loader_key(), name), "files": value})


def _catalogue(folder: Path) -> dict:
    """Return the catalogue: each file's ``_textless`` load by its key (the whole one the
    last full plan wrote and what later quick plans added)."""
    return {**_read_keyed(folder / CATALOGUE, CATALOGUE),
            **_read_keyed(folder / CATALOGUE_ADDED, CATALOGUE_ADDED)}


CATALOGUE_ADDED = "catalogue-added.pickle"  # the files that quick plans added since
FATES = "fates.pickle"  # in the store folder: what the last build decided the fates from


def _manifest_state(corpus_folder: Path, size: int | None = None) -> tuple[int, str]:
    """Return the size and the hash of the manifest's first ``size`` bytes (all by default)."""
    from kzgeo.corpus import MANIFEST_NAME

    try:
        data = (corpus_folder / MANIFEST_NAME).read_bytes()
    except OSError:
        data = b""
    return len(data[:size]), hashlib.sha256(data[:size]).hexdigest()


def fates_memo(store_key: str, keys: list, fates: list, loads: Iterable[tuple],
               details: dict, manifest: tuple[int, str], entries: int) -> dict:
    """Return what a later build needs to decide the fates of files added alone
    (``quick_fates``): the files' keys and fates, every article's body fingerprint and
    id (as loaded and final), the warnings of each file, the unused manifest entries."""
    fingerprints: set[str] = set()
    ids: set[str] = set()
    for (file_ids, _titles, _warnings, _taken, file_fingerprints), fate in zip(
            loads, fates, strict=True):
        fingerprints.update(file_fingerprints)
        ids.update(file_ids)
        ids.update(final for final in fate if final is not None)
    return {"store": store_key, "keys": keys, "fates": fates, "fingerprints": fingerprints,
            "ids": ids, "files": details["files"], "unused": details["unused"],
            "skipped": details["skipped"], "manifest": manifest, "entries": entries}


def quick_fates(corpus_folder: Path, memo: dict, meta: dict, keys: list, jobs: list,
                entries: list[dict], manifest_warnings: list[str],
                batch_files: int) -> tuple | None:
    """Return the fates, the warnings and the new memo when only new files came since the
    last build (``memo``: its ``fates_memo``) and none of their articles repeats or shares
    an id with any article before (then no other file's fate changes and theirs are their
    own ids); None when that cannot be told without going over the whole corpus.

    Also returned: the new files' ``_textless`` loads by key."""
    from kzgeo.corpus import _load_file, unused_entry_warning

    if not memo or memo.get("store") != meta.get("key") or not memo["keys"] \
            or not memo["ids"]:  # none before: the corpus' warnings begin with that
        return None
    position = {key: i for i, key in enumerate(keys)}
    old = [position.get(key) for key in memo["keys"]]
    if None in old or len(keys) - len(old) > batch_files:  # a file changed or went; or many
        return None
    size, head = memo["manifest"]
    if len(entries) < memo["entries"] or _manifest_state(corpus_folder, size) != (size, head):
        return None  # the manifest changed before its end: the entries' positions moved
    fates: list = [None] * len(keys)
    for i, fate in zip(old, memo["fates"], strict=True):
        fates[i] = fate
    new = [i for i, fate in enumerate(fates) if fate is None]
    loads = {keys[i]: _textless(_load_file((Path(jobs[i][0]), jobs[i][1]))) for i in new}
    fingerprints, ids = memo["fingerprints"], memo["ids"]
    added_fingerprints: set[str] = set()
    added_ids: set[str] = set()
    files = list(memo["files"])
    skipped = set(memo["skipped"])
    taken: set[int] = set()  # the new files' entries, as positions in ``entries``
    position_of = {id(entry): k for k, entry in enumerate(entries)} if new else {}
    for i in new:
        file_ids, _titles, file_warnings, file_taken, file_fingerprints = loads[keys[i]]
        for fingerprint, article_id in zip(file_fingerprints, file_ids, strict=True):
            if fingerprint in fingerprints or fingerprint in added_fingerprints \
                    or article_id in ids or article_id in added_ids:
                return None  # a repeat or an id clash: decided over the whole corpus
            added_fingerprints.add(fingerprint)
            added_ids.add(article_id)
        fates[i] = list(file_ids)
        name = keys[i][0]
        if not file_ids:
            skipped.add(name)
        if file_warnings:
            files.append((name, tuple(file_warnings)))
        taken.update(position_of[id(jobs[i][1][t])] for t in file_taken)
    files.sort(key=lambda item: item[0])  # file order is name order
    unused = [k for k in [*memo["unused"], *range(memo["entries"], len(entries))]
              if k not in taken]
    listed = {path.name: path for path in corpus_folder.iterdir()} if unused else {}
    warnings = [*manifest_warnings, *(w for _name, found in files for w in found),
                *(message for k in unused if (message := unused_entry_warning(
                    entries[k], listed, skipped)) is not None)]  # fmt: skip
    updated = {**memo, "keys": keys, "fates": fates, "files": files, "unused": unused,
               "skipped": skipped, "fingerprints": fingerprints | added_fingerprints,
               "ids": ids | added_ids, "entries": len(entries)}
    return fates, warnings, updated, loads


def _name(job: tuple[str, list[dict]]) -> str:
    return os.path.basename(job[0])


def cache_dir(corpus_folder: Path) -> Path:
    """Return the folder of the per-batch geoparse caches of a corpus folder."""
    from kzgeo.geocache import cache_path

    return cache_path(corpus_folder).with_suffix("")


@dataclass(frozen=True)
class PartsBuild:
    """What ``build_parts`` did: the store folder, whether anything was built, how many
    batches of how many were built and how many articles geoparsed."""

    folder: Path
    built: bool
    batches: int = 0
    rebuilt: int = 0
    geoparsed: int = 0
    seconds: float = 0.0
    faceted: int = 0  # parts whose facets the merge made again (not reused from the last)
    quick: bool = False  # the fates decided from the last build's (only new files came)
    patched: bool = False  # the merge patched the last one's (one part changed)


Runner = Callable[[list[dict]], Iterable[dict]]  # builds batch jobs, yields their results


def local_runner(workers: int | None) -> Runner:
    """Return a runner that builds batches in this process or a pool of ``workers``."""
    from kzgeo.parallel import process_pool, worker_count

    def run(jobs: list[dict]) -> Iterable[dict]:
        count = min(len(jobs), worker_count(workers, 1, 0))
        if count <= 1:
            return [build_batch(job) for job in jobs]
        worker_gazetteer()  # loaded once, before the workers fork: they share its pages
        with process_pool(count) as pool:
            return list(pool.map(build_batch, jobs))

    return run


@contextlib.contextmanager
def warm_runner(workers: int | None) -> Iterator[Runner]:
    """Yield ``local_runner(workers)`` with one process started at once that loads the
    gazetteer while the build plans: a build of one batch (an article added) is done there,
    the gazetteer already loaded. Where one process is all ``workers`` allows, it is just
    ``local_runner``."""
    from concurrent.futures.process import BrokenProcessPool

    from kzgeo.parallel import process_pool, worker_count

    run = local_runner(workers)
    if worker_count(workers, 1, 0) <= 1:
        yield run
        return
    with process_pool(1, initializer=worker_gazetteer) as warm:
        warm.submit(int)  # starts the process (and its gazetteer's load) now

        def run_warm(jobs: list[dict]) -> Iterable[dict]:
            if len(jobs) != 1:
                return run(jobs)
            try:
                return [warm.submit(build_batch, jobs[0]).result()]
            except BrokenProcessPool:  # it died (out of memory?): built here instead
                return run(jobs)

        yield run_warm


@gc_paused()  # plain data (the corpus' keys, memos, facets), no cycles: 1 s of collections
def build_parts(
    corpus_folder: Path,
    store_dir: Path | None = None,
    workers: int | None = None,
    rebuild: bool = False,
    runner: Runner | None = None,
    batch_files: int = BATCH_FILES,
) -> PartsBuild:
    """Build (or bring up to date) the quote store of ``corpus_folder`` batch by batch.

    Only batches whose files, manifest entries, articles' fates or code changed are built
    again (by ``runner``, default ``local_runner(workers)``), then merged. Raises CorpusError
    when the folder is missing.
    """
    t0 = time.perf_counter()
    corpus_folder = Path(corpus_folder)
    if not corpus_folder.is_dir():
        from kzgeo.corpus import load_corpus

        load_corpus(corpus_folder)  # raises CorpusError naming the folder
        raise CorpusError(f"corpus path is not a folder: {corpus_folder}")
    folder = store_path(corpus_folder, store_dir)
    entries, manifest_warnings, digests = manifest_memo(corpus_folder, folder)
    listed = list_files(corpus_folder)
    none = entries_digest([])
    keys = [(name, size, time_ns, digests.get(name, none)) for name, size, time_ns in listed]
    grouped = entries_by_file(entries)
    base = str(corpus_folder)
    jobs = [(f"{base}/{name}", grouped.get(name, [])) for name, _, _ in listed]
    key = _digest(code_key(), manifest_warnings, keys, batch_files)
    if not rebuild and _current(folder, key):
        return PartsBuild(folder, False, 0, 0, 0, round(time.perf_counter() - t0, 3))
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):  # one build of a store at a time (the app's and the command's)
        if not rebuild and _current(folder, key):  # built meanwhile by another process
            return PartsBuild(folder, False, 0, 0, 0, round(time.perf_counter() - t0, 3))
        return _build(corpus_folder, folder, runner or local_runner(workers), batch_files,
                      rebuild, (entries, manifest_warnings, jobs, keys, key), t0)


def _current(folder: Path, key: str) -> bool:
    """Tell whether the store in ``folder`` was built from inputs of ``key``."""
    meta = _read_json(folder / "store.json")
    return (meta.get("format") == STORE_FORMAT and "batches" in meta and meta.get("key") == key
            and (folder / meta.get("merged", "-")).is_dir())


@contextlib.contextmanager
def _locked(folder: Path) -> Any:
    import fcntl

    with open(folder.parent / f".{folder.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(corpus_folder: Path, folder: Path, run: Runner, batch_files: int, rebuild: bool,
           inputs: tuple, t0: float) -> PartsBuild:
    """Build the stale batches of the store in ``folder`` and merge (``build_parts``)."""
    entries, manifest_warnings, jobs, keys, key = inputs
    meta = _read_json(folder / "store.json")
    if meta and (meta.get("format") != STORE_FORMAT or "batches" not in meta):
        for path in folder.iterdir():  # another layout: built again, never misread
            if path.name == MANIFEST_MEMO:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        meta = {}
    if rebuild:
        meta = {}
    quick = None if rebuild else quick_fates(
        corpus_folder, _read_keyed(folder / FATES, FATES), meta, keys, jobs, entries,
        manifest_warnings, batch_files)
    details: dict = {}
    if quick:  # only new files, none repeating or renamed: the others' fates stay
        fates, warnings, memo, added = quick
        catalogue: dict = {}
        known = list(range(len(jobs)))
    else:
        catalogue = _catalogue(folder)
        missing = [i for i, k in enumerate(keys) if k not in catalogue]
        if len(missing) <= batch_files:  # few new or changed files: read them now
            from kzgeo.corpus import _load_file

            for i in missing:
                catalogue[keys[i]] = _textless(_load_file((Path(jobs[i][0]), jobs[i][1])))
            missing = []
        known = [i for i, k in enumerate(keys) if k in catalogue]  # unknown files: fates None
        fates = [None] * len(jobs)
        planned = corpus_of(corpus_folder, entries, manifest_warnings, [jobs[i] for i in known],
                            [_loaded(catalogue[keys[i]]) for i in known], details)
        for i, fate in zip(known, planned[1], strict=True):
            fates[i] = fate
    previous = {b["id"]: b for b in meta.get("batches", ())}
    names = [key[0] for key in keys]
    old_of = {name: b["id"] for b in meta.get("batches", ()) for name in b["files"]}
    batches: list[Batch] = []
    for first, members in plan_batches(names, [b["first"] for b in previous.values()],
                                       batch_files):
        batch = Batch(batch_id(first), first, [jobs[i] for i in members])
        batch.fates = [fates[i] for i in members]
        batch.keys = [keys[i] for i in members]
        batch.signature = _digest(code_key(), batch.keys, batch.fates)
        known_batch = previous.get(batch.id)
        if known_batch and known_batch["signature"] == batch.signature \
                and (folder / known_batch["part"]).is_dir():
            batch.part = known_batch["part"]
        batches.append(batch)
    caches = cache_dir(corpus_folder)
    stamp = f"{time.time_ns():x}"[-10:]  # new parts get new names: the store read meanwhile,
    # or left by a build killed before ``store.json`` is replaced, keeps its own

    def build(todo: list[Batch]) -> dict[str, dict]:
        for batch in todo:
            batch.part = f"parts/{batch.id}-{batch.signature[:12]}-{stamp}"
        made = [{
            "folder": str(folder), "files": batch.files,
            "fates": batch.fates, "part": batch.part,
            "cache": str(caches / f"{batch.id}.pickle"),
            "seeds": sorted({str(caches / f"{old_of[n]}.pickle") for n in map(_name, batch.files)
                             if old_of.get(n, batch.id) != batch.id}),
        } for batch in todo]  # fmt: skip
        results = list(run(made)) if made else []
        for batch, result in zip(todo, results, strict=True):
            for key, loaded in zip(batch.keys, result["loads"], strict=True):
                catalogue[key] = loaded
        return {batch.id: result for batch, result in zip(todo, results, strict=True)}

    with ThreadPoolExecutor(1) as ahead:  # meanwhile: the batches are built in processes
        early = ahead.submit(_ahead, folder, [b.part for b in batches],
                             (memo, added, key) if quick else None)
        done = build([b for b in batches if not b.part])
        known_sums = early.result()
    if quick:
        final = fates
    elif len(known) == len(jobs):  # every file was known: the batches loaded the same files
        corpus, final = planned
        warnings = list(corpus.warnings)
    else:
        details = {}
        corpus, final = corpus_of(corpus_folder, entries, manifest_warnings, jobs,
                                  [_loaded(catalogue[k]) for k in keys], details)
        warnings = list(corpus.warnings)
    again = []  # batches built with fates that the whole corpus changes (repeats, id clashes)
    position = 0
    for batch in batches:
        wanted = list(final[position:position + len(batch.files)])
        position += len(batch.files)
        used = done[batch.id]["fates"] if batch.id in done else batch.fates
        if wanted != batch.fates:
            batch.fates = wanted
            batch.signature = _digest(code_key(), batch.keys, wanted)
        if used != wanted:
            again.append(batch)
    done_again = build(again)
    geoparsed = sum(r["geoparsed"] for r in [*done.values(), *done_again.values()])
    merged = merge_parts(folder, [b.part for b in batches], meta.get("merged"), known_sums)
    meta_new = {
        "format": STORE_FORMAT, "key": key, "warnings": warnings,
        "parts": [b.part for b in batches], "merged": merged["merged"],
        "quotes": merged["quotes"], "counts": {count: merged[count] for count in COUNTS},
        "batches": [{"id": b.id, "first": b.first, "signature": b.signature, "part": b.part,
                     "files": [_name(job) for job in b.files]} for b in batches],
    }  # fmt: skip
    write_atomic(folder / "store.json", json.dumps(meta_new))
    if not quick:  # (a quick plan's memos were written meanwhile: ``_ahead``)
        _write_keyed(folder / CATALOGUE, CATALOGUE, {k: catalogue[k] for k in keys})
        (folder / CATALOGUE_ADDED).unlink(missing_ok=True)
        memo = fates_memo(key, keys, final, [catalogue[k] for k in keys], details,
                          _manifest_state(corpus_folder), len(entries))
        _write_keyed(folder / FATES, FATES, {**memo, "store": key})
    _tidy(folder, _read_json(folder / "store.json") or meta_new, caches,
          {b.id for b in batches})
    return PartsBuild(folder, True, len(batches), len(done.keys() | done_again.keys()),
                      geoparsed, round(time.perf_counter() - t0, 3), merged["remade"],
                      bool(quick), merged["patched"])


def _ahead(folder: Path, parts: list[str | None], quick: tuple | None) -> dict:
    """Do what a build can while its batches are built: return ``group_sums`` of each group
    of ``parts`` none of which is rebuilt (None), by its parts; write a quick plan's memos
    (``quick``: the fates memo, the new files' loads and the store key they are for: a build
    that fails later leaves a memo of another key, never used)."""
    if quick:
        memo, added, key = quick
        _write_keyed(folder / CATALOGUE_ADDED, CATALOGUE_ADDED,  # beside the catalogue
                     {**_read_keyed(folder / CATALOGUE_ADDED, CATALOGUE_ADDED), **added})
        _write_keyed(folder / FATES, FATES, {**memo, "store": key})
    return {tuple(group): group_sums(folder, group) for group in sum_groups(parts)
            if all(group)}


def _tidy(folder: Path, meta: dict, caches: Path, batch_ids: set[str]) -> None:
    """Remove the parts, merged folders and batch caches that the store no longer names."""
    keep = {Path(name).name for name in meta["parts"]}
    for path in (folder / "parts").glob("*"):
        if path.name not in keep and not path.name.startswith("."):
            shutil.rmtree(path, ignore_errors=True)
    for path in folder.glob("merged-*"):
        if path.name != meta["merged"]:
            shutil.rmtree(path, ignore_errors=True)
    for path in (folder / DERIVED).glob("*.*"):
        if path.stem not in keep or path.suffix != ".pickle":  # .npz: an earlier form
            path.unlink(missing_ok=True)
    (folder / "catalogue.pickle").unlink(missing_ok=True)  # the catalogue's earlier form
    parts = meta["parts"]
    sums = {_group_file(group, suffix) for group in sum_groups(parts)
            for suffix in (".pickle", ".arrow")}
    for path in (folder / SUMS).glob("*.*"):
        if path.name not in sums:
            path.unlink(missing_ok=True)
    for path in caches.glob("*.pickle") if caches.is_dir() else ():
        if path.stem not in batch_ids:
            path.unlink(missing_ok=True)
