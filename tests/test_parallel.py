"""The cycle collector around the stages that make many objects (``kzgeo.parallel``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

from kzgeo.config import PROJECT_ROOT
from kzgeo.parallel import gc_paused, process_pool


class Node:
    """An object the cycle collector tracks."""


def run_in_a_fresh_interpreter(body: str) -> None:
    """Run ``body`` where nothing is frozen yet (as may be in this process), with ``gc``,
    ``gc_paused``, ``keep_for_good`` and a tracked class ``Node`` at hand; fail if it fails."""
    script = textwrap.dedent("""
        import gc
        from kzgeo.parallel import gc_paused, keep_for_good

        class Node:
            pass
    """) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_paused_stage_hands_what_it_made_to_the_oldest_generation():
    run_in_a_fresh_interpreter("""
        gc.collect()
        with gc_paused():
            assert not gc.isenabled()
            made = [Node() for _ in range(20_000)]
        assert gc.isenabled()
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert all(id(node) in oldest for node in made)
        assert gc.get_count()[0] < 100, gc.get_count()  # no young collection is owed
        assert gc.get_freeze_count() == 0
    """)


def test_objects_kept_for_good_stay_frozen_through_a_paused_stage():
    run_in_a_fresh_interpreter("""
        kept = [Node() for _ in range(1_000)]
        keep_for_good()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        with gc_paused():
            made = [Node() for _ in range(1_000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen  # none let go, none of the new ones frozen
    """)


def _freeze_kept_through_a_paused_stage(_job: object = None) -> bool:
    frozen = gc.get_freeze_count()
    with gc_paused():
        Node()
    return gc.get_freeze_count() == frozen


def test_a_paused_stage_keeps_a_process_pools_freeze_here_and_in_its_workers():
    with process_pool(2) as pool:
        assert gc.get_freeze_count() > 0
        assert _freeze_kept_through_a_paused_stage()
        assert list(pool.map(_freeze_kept_through_a_paused_stage, range(2))) == [True, True]


def test_a_process_pool_lets_go_of_no_object_kept_for_good():
    run_in_a_fresh_interpreter("""
        from kzgeo.parallel import process_pool

        kept = [Node() for _ in range(1_000)]
        keep_for_good()
        frozen = gc.get_freeze_count()
        with process_pool(2):
            pass
        assert gc.get_freeze_count() >= frozen, (gc.get_freeze_count(), frozen)
    """)


def test_a_process_pool_unfreezes_what_it_froze_when_nothing_is_kept_for_good():
    run_in_a_fresh_interpreter("""
        from kzgeo.parallel import process_pool

        with process_pool(2):
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
    """)


def test_a_disabled_collector_stays_disabled_after_a_paused_stage():
    gc.disable()
    try:
        with gc_paused():
            Node()
        assert not gc.isenabled()
    finally:
        gc.enable()
