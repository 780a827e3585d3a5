"""Process pools for the stages that use every core (loading files, geoparsing), and the cycle
collector's pause and freeze for the few places where they hold a target (docs/performance.md)."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a block makes many objects and no reference cycles
    (reference counting still frees memory), then restore it as it was.

    Use it only where docs/performance.md shows it holds a target: each collection meanwhile
    would walk every object made so far again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep_for_good() -> None:
    """Take every object alive now out of the cycle collector's reach, for a long-running
    process that has just read what it keeps (the app's served index: millions of objects).

    Collections would otherwise walk all of them again and again (a rerun after a click at
    N = 2,000 now and then took twice its time). Reference counting still frees them.
    """
    gc.freeze()


# Below this much text a process pool costs more than it saves: work in this process.
PARALLEL_MIN_CHARS = 1_000_000


def worker_count(workers: int | None, chars: int, min_chars: int = PARALLEL_MIN_CHARS) -> int:
    """Return how many processes to work through ``chars`` of text with (None: every core).

    >>> worker_count(4, 10_000_000), worker_count(4, 10), worker_count(0, 10_000_000)
    (4, 1, 1)
    """
    wanted = (os.cpu_count() or 1) if workers is None else workers
    return max(1, wanted) if chars >= min_chars else 1


def pool_context() -> multiprocessing.context.BaseContext:
    """Return the fork context where there is one (workers inherit what is loaded)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


@contextmanager
def process_pool(workers: int, **options: Any) -> Iterator[ProcessPoolExecutor]:
    """Yield a pool of ``workers`` processes forked from this one (they inherit what is loaded)."""
    with ProcessPoolExecutor(workers, mp_context=pool_context(), **options) as pool:
        yield pool


def map_in_order(function: Callable[[Any], Any], jobs: Sequence[Any], workers: int) -> list:
    """Return ``[function(job) for job in jobs]``, in ``workers`` processes when more than one.

    >>> map_in_order(abs, [-1, 2, -3], 1)
    [1, 2, 3]
    """
    if workers <= 1 or len(jobs) < 2:
        return [function(job) for job in jobs]
    with process_pool(workers) as pool:
        return list(pool.map(function, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
