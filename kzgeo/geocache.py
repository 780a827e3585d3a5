"""A per-article geoparse cache: a build after one new article geoparses that article only.

Each article's resolved mentions (``resolve.pack_mentions``: offsets, place ids, confidences,
themes; no article id, no sentence text) are kept under a hash of its language and text. The
cache file as a whole carries the geoparser's key (``geoparser_key``: the gazetteer's inputs,
and the code and data of every kzgeo module the geoparse imports), so any change to the
geoparser starts it afresh. Places and quotes are assembled from all articles every time, so
the result equals a full geoparse (``tests/test_geocache.py`` compares them).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kzgeo.config import build_dir
from kzgeo.corpus import Article
from kzgeo.files import write_atomic
from kzgeo.recognize import language_of
from kzgeo.resolve import Geoparse, PackedMention, assemble, pack_mentions, unpack_mentions

log = logging.getLogger("kzgeo.geocache")

CACHE_FORMAT = 2  # 2: mentions packed as resolve.PackedMention
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


def read_cache(path: Path | None, key: str) -> dict[str, list[PackedMention]]:
    """Return the cached packed mentions by article key ({} when missing, foreign or stale)."""
    if path is None:
        return {}
    try:
        found = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError,
            TypeError, IndexError):
        return {}
    if not isinstance(found, dict) or found.get("key") != key:
        return {}
    articles = found.get("articles")
    return articles if isinstance(articles, dict) else {}


@dataclass(frozen=True)
class CacheStats:
    """How a cached geoparse went: articles geoparsed now and taken from the cache."""

    geoparsed: tuple[str, ...]  # ids of the articles geoparsed now
    cached: int

    def describe(self) -> str:
        total = len(self.geoparsed) + self.cached
        return f"geoparsed {len(self.geoparsed)} of {total} articles ({self.cached} from the cache)"


def geoparse_cached(
    articles: Sequence[Article],
    path: Path | None,
    workers: int | None = None,
    gazetteer: Any = None,
    parse: Callable[[list[Article], Any], Geoparse] | None = None,
) -> tuple[Geoparse, CacheStats]:
    """Geoparse ``articles``, resolving only those not in the cache at ``path``; update it.

    The missing articles are geoparsed by ``parse(articles, gazetteer)`` (default
    ``index.geoparse_parallel`` in ``workers`` processes; the Dask engine passes its own).
    The result equals ``index.geoparse_parallel(articles)``. The cache is rewritten (atomically)
    with the current articles only, so it does not grow with removed ones; a cache that cannot
    be written is skipped with a log line.
    """
    from kzgeo.gazetteer import load_gazetteer
    from kzgeo.index import geoparse_parallel

    t0 = time.perf_counter()
    articles = list(articles)
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    key = geoparser_key()
    cached = read_cache(path, key)
    keys = [article_key(article) for article in articles]
    missing = list(dict.fromkeys(k for k in keys if k not in cached))
    first_of = {k: a for k, a in zip(keys, articles, strict=True) if k in set(missing)}
    fresh_articles = [first_of[k] for k in missing]
    if fresh_articles:
        if parse is None:
            fresh = geoparse_parallel(fresh_articles, workers, gazetteer)
        else:
            fresh = parse(fresh_articles, gazetteer)
        by_article: dict[str | None, list] = defaultdict(list)
        for mention in fresh.mentions:
            by_article[mention.article_id].append(mention)
        for k, article in zip(missing, fresh_articles, strict=True):
            cached[k] = pack_mentions(by_article.get(article.id, []))
    resolved = [unpack_mentions(a, cached[k]) for a, k in zip(articles, keys, strict=True)]
    parsed = assemble(articles, resolved, gazetteer, t0)
    stats = CacheStats(tuple(a.id for a in fresh_articles), len(articles) - len(fresh_articles))
    log.info("%s", stats.describe())
    if path is not None and (fresh_articles or len(cached) != len(set(keys))):
        kept = {k: cached[k] for k in keys}
        try:
            write_atomic(path, pickle.dumps({"key": key, "articles": kept},
                                            protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as error:
            log.warning("the geoparse cache %s could not be written: %s", path, error)
    return parsed, stats
