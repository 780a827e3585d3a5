"""A per-article geoparse cache: a build after one new article geoparses that article only.

Each article's resolved mentions (``resolve.pack_mentions``: offsets, place ids, confidences,
themes; no article id, no sentence text) are kept under a hash of its language and text, with
the gazetteer entries of the places they name. The cache file as a whole carries the
geoparser's key (``geoparser_key``: the gazetteer's inputs, and the code and data of every
kzgeo module the geoparse imports), so any change to the geoparser starts it afresh. Places
and quotes are assembled from all articles every time, so the result equals a full geoparse
(``tests/test_geocache.py`` compares them).

The geoparse of the bundled corpus is also shipped in git, as readable JSON Lines
(``SHIPPED_PATH``, written by ``python -m kzgeo build --ship``): a fresh clone takes its
articles from there and needs no gazetteer (a 10 s build) before its first map. A test fails
when the shipped file is stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import pickle
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from kzgeo.config import PROJECT_ROOT, build_dir
from kzgeo.corpus import Article, CorpusLoad, load_corpus
from kzgeo.files import pickle_atomic, write_atomic
from kzgeo.recognize import language_of
from kzgeo.resolve import (
    Candidate,
    Geoparse,
    PackedMention,
    ResolvedMention,
    assemble,
    pack_mentions,
    unpack_mentions,
)

log = logging.getLogger("kzgeo.geocache")
log_files = logging.getLogger("kzgeo.geocache.files")

CACHE_FORMAT = 3  # 2: mentions packed as resolve.PackedMention; 3: with the places' entries
SHIPPED_FORMAT = 1
SHIPPED_PATH: Path | None = PROJECT_ROOT / "prebuilt" / "geoparse.jsonl"
CODE_DIR = Path(__file__).resolve().parent
GEOPARSE_ENTRY = "resolve"  # the module whose imports make up the geoparser


@lru_cache(maxsize=1)
def geoparser_key() -> str:
    """Return a hash of what a geoparse depends on besides the article (code, data, gazetteer)."""
    from kzgeo.gazetteer import input_hash
    from kzgeo.index import index_code  # index.py imports this module

    h = hashlib.sha256(f"format={CACHE_FORMAT};{input_hash()}".encode())
    for path in index_code(GEOPARSE_ENTRY, CODE_DIR):
        h.update(str(path.relative_to(CODE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def article_key(article: Any) -> str:
    """Return the cache key of an article: its language and text (not its id or metadata).

    >>> a = Article("a", "T", "O", None, None, "de", "a.txt", "Aktau wächst.")
    >>> article_key(a) == article_key(Article("b", "U", "P", None, None, "de", "b.txt",
    ...                                       "Aktau wächst."))
    True
    """
    data = f"{language_of(article)}\0{article.text or ''}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


def cache_path(folder: Path, cache_dir: Path | None = None) -> Path:
    """Return the geoparse cache file of a corpus folder (in the build folder)."""
    name = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:12]
    return (cache_dir or build_dir() / "geoparse") / f"geoparse-{name}.pickle"


class Cached(NamedTuple):
    """What a cache holds: packed mentions by article key, gazetteer entries by place id."""

    articles: dict[str, list[PackedMention]]
    entries: dict[str, tuple]


def read_cache(path: Path | None, key: str) -> Cached:
    """Return the cache at ``path`` (empty when missing, foreign or stale)."""
    if path is None:
        return Cached({}, {})
    try:
        found = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
            TypeError, IndexError):
        return Cached({}, {})
    if not isinstance(found, dict) or found.get("key") != key:
        return Cached({}, {})
    articles, entries = found.get("articles"), found.get("entries")
    if not isinstance(articles, dict) or not isinstance(entries, dict):
        return Cached({}, {})
    return Cached(articles, entries)


# --------------------------------------------------------------------------- corpus files
@lru_cache(maxsize=1)
def loader_key() -> str:
    """Return a hash of what loading a corpus file depends on besides the file (the code and
    data of ``kzgeo.corpus`` and the modules it imports)."""
    from kzgeo.index import index_code

    h = hashlib.sha256(f"format={CACHE_FORMAT}".encode())
    for path in index_code("corpus", CODE_DIR):
        h.update(str(path.relative_to(CODE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def files_path(folder: Path, cache_dir: Path | None = None) -> Path:
    """Return the file-load cache of a corpus folder (in the build folder)."""
    geoparse = cache_path(folder, cache_dir)
    return geoparse.with_name(geoparse.name.replace("geoparse-", "files-", 1))


def load_corpus_cached(folder: Path, workers: int | None = None,
                       path: Path | None = None) -> CorpusLoad:
    """Return ``load_corpus(folder)``, reading and cleaning only the files that are new or
    changed (size, modification time or manifest entries) since the last build of the folder;
    the cache at ``path`` (default ``files_path``) is updated."""
    path = path or files_path(folder)
    key = loader_key()
    memo: dict = {}
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError,
                             ImportError, ValueError, TypeError, IndexError):
        found = pickle.loads(path.read_bytes())
        if isinstance(found, dict) and found.get("key") == key:
            memo = found["files"]
    before = set(memo)
    loaded = load_corpus(folder, workers, memo=memo)
    log_files.info("read %d of %d files (%d from the cache)", len(set(memo) - before),
                   len(memo), len(set(memo) & before))
    if set(memo) != before:
        try:
            pickle_atomic(path, {"key": key, "files": memo})
        except OSError as error:
            log.warning("the corpus file cache %s could not be written: %s", path, error)
    return loaded


# --------------------------------------------------------------------------- shipped in git
def _mention_record(m: PackedMention) -> dict[str, Any]:
    record = m._asdict()
    record["rejected"] = [[c.id, c.score, c.reason] for c in m.rejected]
    record["themes"] = list(m.themes)
    return record


def _mention_of(record: dict[str, Any]) -> PackedMention:
    return PackedMention(**{
        **record, "rejected": tuple(Candidate(*c) for c in record["rejected"]),
        "themes": tuple(record["themes"]),
    })  # fmt: skip


def _entry_of(record: dict[str, Any]) -> tuple:
    from kzgeo.gazetteer import Entry

    return tuple(Entry(**{k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}))


def shipped_lines(articles: Sequence[Article], gazetteer: Any) -> list[str]:
    """Return the shipped geoparse of ``articles`` as JSON Lines: a header with the geoparser's
    key; per article a line with its key and id, then one line per resolved mention; then the
    gazetteer entry of every place named, by id."""
    from kzgeo.resolve import resolve_article

    def line(record: dict[str, Any]) -> str:
        return json.dumps(record, ensure_ascii=False, sort_keys=False)

    lines = [line({"format": SHIPPED_FORMAT, "geoparser": geoparser_key(),
                   "regenerate": "python -m kzgeo build --ship"})]
    named: set[str] = set()
    done: set[str] = set()
    for article in articles:
        key = article_key(article)
        if key in done:
            continue
        done.add(key)
        packed = pack_mentions(resolve_article(article, gazetteer))
        lines.append(line({"article": key, "id": article.id, "mentions": len(packed)}))
        lines.extend(line({"mention": _mention_record(m)}) for m in packed)
        named.update(m.place_id for m in packed if m.place_id is not None)
    lines.extend(line({"entry": gazetteer.get(pid)._asdict()}) for pid in sorted(named))
    return lines


def write_shipped(articles: Sequence[Article], gazetteer: Any, path: Path | None = None) -> Path:
    """Write the shipped geoparse of ``articles`` (``shipped_lines``) atomically; return the
    path."""
    path = Path(path or SHIPPED_PATH)
    text = "\n".join(shipped_lines(articles, gazetteer)) + "\n"
    return write_atomic(path, text.encode("utf-8"))


def read_shipped(path: Path | None, key: str) -> Cached:
    """Return the shipped geoparse at ``path`` as a cache (empty when missing, unreadable or
    made by another geoparser than ``key``)."""
    if path is None or not path.is_file():
        return Cached({}, {})
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("format") != SHIPPED_FORMAT or header.get("geoparser") != key:
            return Cached({}, {})
        articles: dict[str, list[PackedMention]] = {}
        entries: dict[str, tuple] = {}
        current: list[PackedMention] = []
        for text in lines[1:]:
            record = json.loads(text)
            if "mention" in record:
                current.append(_mention_of(record["mention"]))
            elif "article" in record:
                current = articles[record["article"]] = []
            elif "entry" in record:
                entries[record["entry"]["id"]] = _entry_of(record["entry"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("the shipped geoparse %s cannot be read: %s", path, error)
        return Cached({}, {})
    return Cached(articles, entries)


@dataclass(frozen=True)
class CacheStats:
    """How a cached geoparse went: articles geoparsed now and taken from the cache."""

    geoparsed: tuple[str, ...]  # ids of the articles geoparsed now
    cached: int
    shipped: int = 0  # taken from the shipped geoparse (SHIPPED_PATH)

    def describe(self) -> str:
        total = len(self.geoparsed) + self.cached + self.shipped
        shipped = f", {self.shipped} shipped" if self.shipped else ""
        return (f"geoparsed {len(self.geoparsed)} of {total} articles "
                f"({self.cached} from the cache{shipped})")


def geoparse_cached(
    articles: Sequence[Article],
    path: Path | None,
    workers: int | None = None,
    gazetteer: Any = None,
) -> tuple[Geoparse, CacheStats]:
    """Geoparse ``articles``, resolving only those neither in the cache at ``path`` nor in the
    shipped geoparse (``SHIPPED_PATH``); update the cache.

    The missing articles are geoparsed by ``index.geoparse_parallel`` in ``workers`` processes.
    The gazetteer is loaded only when an article is missing or a place's entry is not cached.
    The result equals ``index.geoparse_parallel(articles)``. The cache is rewritten (atomically)
    with the current articles only, so it does not grow with removed ones; a cache that cannot
    be written is skipped with a log line.
    """
    t0 = time.perf_counter()
    articles = list(articles)
    resolved, places, stats = resolve_cached(articles, path, workers, gazetteer)
    return assemble(articles, resolved, places, t0), stats


def resolve_cached(
    articles: Sequence[Article],
    path: Path | None,
    workers: int | None = None,
    gazetteer: Any = None,
    seeds: Sequence[Path] = (),
    loader: Callable[[], Any] | None = None,
) -> tuple[list[list[ResolvedMention]], dict[str, Any], CacheStats]:
    """Return the resolved mentions of each of ``articles`` and the gazetteer entries of the
    places they name, as ``geoparse_cached`` finds them (what ``resolve.assemble`` takes);
    the caches at ``seeds`` are read too (not written). ``loader`` loads the gazetteer when
    it is needed (default ``gazetteer.load_gazetteer``)."""
    from kzgeo.gazetteer import Entry
    from kzgeo.index import geoparse_parallel

    articles = list(articles)
    load_gazetteer = loader or _load_gazetteer
    key = geoparser_key()
    cached, entries = read_cache(path, key)
    keys = [article_key(article) for article in articles]
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    for seed_path in seeds if missing else ():
        seed = read_cache(seed_path, key)
        for k in missing:
            if k in seed.articles:
                cached[k] = seed.articles[k]
        entries.update(seed.entries)
        missing = [k for k in missing if k not in cached]
    shipped = 0
    if missing and SHIPPED_PATH is not None:
        seed = read_shipped(SHIPPED_PATH, key)
        for k in missing:
            if k in seed.articles:
                cached[k] = seed.articles[k]
                shipped += 1
        entries.update(seed.entries)
        missing = [k for k in missing if k not in cached]
    wanted = set(missing)  # (made once: in the condition it was made again per article)
    first_of = {k: a for k, a in zip(keys, articles, strict=True) if k in wanted}
    fresh_articles = [first_of[k] for k in missing]
    if fresh_articles:
        gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
        fresh = geoparse_parallel(fresh_articles, workers, gazetteer)
        by_article: dict[str | None, list] = defaultdict(list)
        for mention in fresh.mentions:
            by_article[mention.article_id].append(mention)
        for k, article in zip(missing, fresh_articles, strict=True):
            cached[k] = pack_mentions(by_article.get(article.id, []))
    named = {m.place_id for k in set(keys) for m in cached[k] if m.place_id is not None}
    if gazetteer is None and not named <= entries.keys():
        gazetteer = load_gazetteer()
    if gazetteer is not None:
        entries = {pid: tuple(gazetteer.get(pid)) for pid in named}
    else:
        entries = {pid: entries[pid] for pid in named}
    places = {pid: Entry._make(entries[pid]) for pid in named}  # what assemble reads
    resolved = [unpack_mentions(a, cached[k]) for a, k in zip(articles, keys, strict=True)]
    stats = CacheStats(tuple(a.id for a in fresh_articles),
                       len(articles) - len(fresh_articles) - shipped, shipped)
    log.info("%s", stats.describe())
    if path is not None and (fresh_articles or shipped or len(cached) != len(set(keys))):
        kept = {k: cached[k] for k in keys}
        try:
            pickle_atomic(path, {"key": key, "articles": kept, "entries": entries})
        except OSError as error:
            log.warning("the geoparse cache %s could not be written: %s", path, error)
    return resolved, places, stats


def _load_gazetteer() -> Any:
    from kzgeo.gazetteer import load_gazetteer

    return load_gazetteer()
