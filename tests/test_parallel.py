"""Process pools and the cycle collector around the stages that make many objects
(``kzgeo.parallel``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

from kzgeo.config import PROJECT_ROOT
from kzgeo.parallel import gc_paused, map_in_order


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


def test_a_paused_stage_pauses_the_collector_and_restores_it():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        Node()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled_after_a_paused_stage():
    gc.disable()
    try:
        with gc_paused():
            Node()
        assert not gc.isenabled()
    finally:
        gc.enable()


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


def test_a_pool_of_processes_returns_what_one_process_does_in_order():
    jobs = list(range(-50, 50))

    assert map_in_order(abs, jobs, 2) == map_in_order(abs, jobs, 1) == [abs(j) for j in jobs]
