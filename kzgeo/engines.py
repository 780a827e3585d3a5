"""Build engines: where the per-batch work runs, on this machine or on a Dask cluster.

``build_artifacts`` builds the quote store batch by batch (``kzgeo.parts``): ``local`` builds
the batches in this machine's processes; ``dask`` sends each batch to a dask.distributed cluster
(``--scheduler ADDRESS``, or a ``LocalCluster`` of one process per core) as one task that reads
its corpus files, geoparses its articles and writes its part of the store itself
(``dask_runner``: only file names and manifest entries go through the scheduler, and a small
summary comes back); the client only merges. The corpus folder and the build folder must be at
the same paths on every worker (shared or object storage mounted there). Both engines give the
same store (``tests/test_engines.py``). ``index_engine`` and ``geoparse_dask_files`` make the
in-memory index (``CorpusIndex``) with either engine.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kzgeo.corpus import Article, load_corpus
from kzgeo.geocache import article_key, cache_path, geoparse_cached, load_corpus_cached
from kzgeo.index import CHUNKS_PER_WORKER, CorpusIndex, build_index, split_chunks
from kzgeo.layers import load_layers
from kzgeo.resolve import (
    Geoparse,
    PackedMention,
    assemble,
    pack_mentions,
    resolve_article,
    unpack_mentions,
)

ENGINES: tuple[str, ...] = ("local", "dask")
DASK_CHUNK_CHARS = 2_000_000  # text per Dask task at most: tasks small enough to spread evenly


class EngineError(RuntimeError):
    """The build engine cannot run (unknown engine, Dask missing, scheduler unreachable)."""


# --------------------------------------------------------------------------- dask
_WORKER_GAZETTEER: list = []  # the gazetteer, loaded once per Dask worker process


def _worker_gazetteer() -> Any:
    if not _WORKER_GAZETTEER:
        from kzgeo.gazetteer import load_gazetteer

        _WORKER_GAZETTEER.append(load_gazetteer())
    return _WORKER_GAZETTEER[0]


FileJob = tuple[str, list[dict], tuple[str, ...]]  # (file name, its manifest entries, keys)


def resolve_files(folder: str, jobs: Sequence[FileJob]) -> dict[str, list[PackedMention]]:
    """Return the packed resolved mentions by article key (``geocache.article_key``) of the
    wanted articles of some files of ``folder`` (a Dask task: the worker reads the files as
    ``load_corpus`` does, from storage it shares with the client, so no text goes through the
    scheduler). Raises RuntimeError when a wanted article is not in its file any more."""
    from kzgeo.corpus import load_file_entries

    gazetteer = _worker_gazetteer()
    out: dict[str, list[PackedMention]] = {}
    for name, entries, wanted in jobs:
        for article in load_file_entries(Path(folder) / name, entries)[0]:
            key = article_key(article)
            if key in wanted and key not in out:
                out[key] = pack_mentions(resolve_article(article, gazetteer))
        if missing := set(wanted) - out.keys():
            raise RuntimeError(f"{len(missing)} article(s) of {Path(folder) / name} are not "
                               "there as the client read them (changed, or another folder)")
    return out


def file_jobs(articles: Sequence[Article], folder: Path, tasks: int) -> list[list[FileJob]]:
    """Return the files holding ``articles`` as about ``tasks`` lists of ``FileJob`` (file
    order, about equal text each): what each Dask task of ``geoparse_dask_files`` reads."""
    from kzgeo.corpus import read_manifest

    entries_of: dict[str, list[dict]] = {}
    for entry in read_manifest(folder)[0]:
        entries_of.setdefault(entry["file"], []).append(entry)
    wanted: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for article in articles:
        wanted.setdefault(article.source_file, []).append(article_key(article))
        sizes[article.source_file] = sizes.get(article.source_file, 0) + len(article.text or "")
    names = list(wanted)
    jobs = [(name, entries_of.get(name, []), tuple(wanted[name])) for name in names]
    return [[jobs[i] for i in part] for part in split_chunks([sizes[n] for n in names], tasks)]


def geoparse_dask_files(
    articles: Sequence[Article], folder: Path, client: Any, gazetteer: Any = None
) -> Geoparse:
    """Geoparse ``articles`` of the corpus in ``folder`` as Dask tasks that read their files
    themselves (``resolve_files``; the folder must be at the same path on every worker:
    shared or object storage mounted there); same result as geoparse."""
    from kzgeo.gazetteer import load_gazetteer

    t0 = time.perf_counter()
    articles = list(articles)
    gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
    if not articles:
        return assemble([], [], gazetteer, t0)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    chars = sum(len(article.text or "") for article in articles)
    tasks = max(workers * CHUNKS_PER_WORKER, chars // DASK_CHUNK_CHARS + 1)
    chunks = file_jobs(articles, Path(folder), tasks)
    futures = client.map(resolve_files, [str(Path(folder).resolve())] * len(chunks), chunks,
                         pure=False)
    try:
        packed: dict[str, list[PackedMention]] = {}
        for part in client.gather(futures):
            packed.update(part)
    except (OSError, RuntimeError) as error:
        raise EngineError(f"the Dask workers cannot read the corpus folder {folder} ({error}); "
                          "it must be at the same path on every worker") from error
    resolved = [unpack_mentions(a, packed[article_key(a)]) for a in articles]
    return assemble(articles, resolved, gazetteer, t0)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """Yield a dask.distributed client: of the scheduler at ``scheduler``, else of a
    ``LocalCluster`` of ``workers`` processes (None: one per core), one thread each."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - pinned in requirements.txt
        raise EngineError("the dask engine needs dask[distributed] installed") from error
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise EngineError(f"cannot reach the Dask scheduler {scheduler}: {error}") from error
        with client:
            yield client
        return
    import os

    count = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


# --------------------------------------------------------------------------- building
def index_with(folder: Path, parse: Callable | None, workers: int | None = None) -> CorpusIndex:
    """Load, geoparse (through the per-article cache, with ``parse`` or the local engine) and
    index the corpus in ``folder``: ``index.index_corpus`` with a choice of geoparse."""
    corpus = load_corpus_cached(folder, workers)
    parsed, _stats = geoparse_cached(corpus.articles, cache_path(folder), workers, parse=parse)
    layers = load_layers()
    return CorpusIndex(corpus, parsed, layers, build_index(parsed, layers))


def index_engine(
    folder: Path, engine: str = "local", scheduler: str | None = None, workers: int | None = None
) -> CorpusIndex:
    """Return the CorpusIndex of ``folder`` built by ``engine`` ("local" or "dask")."""
    if engine == "local":
        if scheduler:
            raise EngineError("--scheduler goes with --engine dask")
        return index_with(Path(folder), None, workers)
    if engine != "dask":
        raise EngineError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    with dask_client(scheduler, workers) as client:
        return index_with(Path(folder), lambda articles, gaz: geoparse_dask_files(
            articles, Path(folder), client, gaz), workers)


def dask_runner(client: Any, folder: Path) -> Callable[[list[dict]], list[dict]]:
    """Return a runner of ``kzgeo.parts.build_batch`` jobs as Dask tasks on ``client``: each
    task reads its files, geoparses its articles and writes its part itself (the corpus and
    the build folder must be at the same paths on every worker: shared or object storage)."""
    from kzgeo.parts import build_batch

    def run(jobs: list[dict]) -> list[dict]:
        futures = client.map(build_batch, jobs, pure=False)
        try:
            return client.gather(futures)
        except (OSError, RuntimeError) as error:
            raise EngineError(f"the Dask workers cannot read the corpus folder {folder} or "
                              f"write the build folder ({error}); both must be at the same "
                              "path on every worker") from error

    return run


def build_artifacts(
    folder: Path,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    rebuild: bool = False,
    open_store: bool = True,
) -> tuple[Any, bool]:
    """Return (the quote store of ``folder``, whether anything was built now); with
    ``open_store`` False, the store's ``quotestore.StoreSummary`` instead of the store opened
    for serving (a new process' open reads every facet: 1.7 s at N = 100,000).

    The store is built batch by batch (``kzgeo.parts.build_parts``) by ``engine``: "local"
    (this machine's processes) or "dask" (each batch a Dask task; the cluster is started or
    reached only when a batch is to be built). A build folder that cannot be written to
    raises OSError.
    """
    from kzgeo.parts import build_parts, local_runner
    from kzgeo.quotestore import QuoteStore, store_summary

    folder = Path(folder)
    if not folder.is_dir():
        load_corpus(folder)  # raises CorpusError naming the folder
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "local" and scheduler:
        raise EngineError("--scheduler goes with --engine dask")
    with contextlib.ExitStack() as stack:
        runners: list[Callable] = []

        def run(jobs: list[dict]) -> list[dict]:
            if not runners:  # the cluster only when there is work for it
                client = stack.enter_context(dask_client(scheduler, workers))
                runners.append(dask_runner(client, folder))
            return runners[0](jobs)

        done = build_parts(folder, None, workers, rebuild,
                           runner=run if engine == "dask" else local_runner(workers))
    return (QuoteStore.open(done.folder) if open_store else store_summary(done.folder),
            done.built)
