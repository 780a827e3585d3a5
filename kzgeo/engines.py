"""Build engines: where the per-batch work runs, on this machine or on a Dask cluster.

``build_artifacts`` builds the quote store batch by batch (``kzgeo.parts``): ``local`` builds
the batches in this machine's processes; ``dask`` sends each batch to a dask.distributed cluster
(``--scheduler ADDRESS``, or a ``LocalCluster`` of one process per core) as one task that reads
its corpus files, geoparses its articles and writes its part of the store itself
(``dask_runner``: only file names and manifest entries go through the scheduler, and a small
summary comes back); the client only merges. The corpus folder and the build folder must be at
the same paths on every worker (shared or object storage mounted there). Both engines give the
same store (``tests/test_engines.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kzgeo.corpus import load_corpus

ENGINES: tuple[str, ...] = ("local", "dask")


class EngineError(RuntimeError):
    """The build engine cannot run (unknown engine, Dask missing, scheduler unreachable)."""


# --------------------------------------------------------------------------- dask
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
    from kzgeo.parts import build_parts, warm_runner
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

        local = engine == "local"  # its gazetteer loads in a process of its own meanwhile
        done = build_parts(folder, None, workers, rebuild,
                           runner=stack.enter_context(warm_runner(workers)) if local else run)
    return (QuoteStore.open(done.folder) if open_store else store_summary(done.folder),
            done.built)
