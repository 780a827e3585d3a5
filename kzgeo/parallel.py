"""Process pools for the stages that use every core (loading files, geoparsing), pauses of the
cycle collector for the stages that make many objects, and its freeze for what a long-running
process keeps."""

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
    """Pause Python's cycle collector while a stage makes many objects and no reference cycles
    (reference counting still frees memory), then restore it as it was.

    Every collection meanwhile would walk all of them again: a sixth of the time of a 10 MB
    geoparse, a third of loading the gazetteer. What the stage made joins the oldest generation
    as the collector is restored (``gc.freeze`` then ``gc.unfreeze``: two list splices), or
    its next young collection would walk all of it once more (2 % of a 10 MB geoparse). That
    is skipped while objects are frozen on purpose (kept for good, or for a process pool),
    which ``gc.unfreeze`` would let go. (A flag says so: ``gc.get_freeze_count`` walks the
    frozen objects, 30 ms for a served index.)
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not _freeze_held:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


_freeze_held = False  # set by keep_for_good for good, by process_pool while its pool runs


def keep_for_good() -> None:
    """Take every object alive now out of the cycle collector's reach, for a long-running
    process that has just read what it keeps (the served index: millions of objects).

    Collections would otherwise walk all of them again and again: a rerun of the app at
    N = 2,000 now and then took twice its time. Reference counting still frees them (they hold
    no cycles), and objects made later are collected as usual.
    """
    global _freeze_held
    gc.freeze()
    _freeze_held = True


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
    """Yield a pool of ``workers`` processes forked from this one.

    The parent's objects are frozen out of the cycle collector meanwhile: a collection in a
    forked worker would otherwise touch, and so copy, every one of them. The workers inherit
    that freeze, and a paused stage in them keeps it too (see ``gc_paused``). Once objects are
    kept for good (``keep_for_good``), the freeze stays: ``gc.unfreeze`` cannot tell them apart
    from the rest and would let them go.
    """
    global _freeze_held
    held = _freeze_held
    gc.freeze()
    _freeze_held = True
    try:
        with ProcessPoolExecutor(workers, mp_context=pool_context(), **options) as pool:
            yield pool
    finally:
        if not held:
            gc.unfreeze()
            _freeze_held = False


def map_in_order(function: Callable[[Any], Any], jobs: Sequence[Any], workers: int) -> list:
    """Return ``[function(job) for job in jobs]``, in ``workers`` processes when more than one.

    >>> map_in_order(abs, [-1, 2, -3], 1)
    [1, 2, 3]
    """
    if workers <= 1 or len(jobs) < 2:
        return [function(job) for job in jobs]
    with process_pool(workers) as pool:
        return list(pool.map(function, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
