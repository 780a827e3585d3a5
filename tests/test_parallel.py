"""The cycle collector around the stages that make many objects (``kzgeo.parallel``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

from kzgeo.config import PROJECT_ROOT
from kzgeo.parallel import gc_paused


class Node:
    """An object the cycle collector tracks."""


def test_a_paused_stage_hands_what_it_made_to_the_oldest_generation():
    # in a fresh interpreter: nothing there is frozen for good, as may be in this one
    script = textwrap.dedent("""
        import gc
        from kzgeo.parallel import gc_paused

        class Node:
            pass

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
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_objects_kept_for_good_stay_frozen_through_a_paused_stage():
    script = textwrap.dedent("""
        import gc
        from kzgeo.parallel import gc_paused, keep_for_good

        class Node:
            pass

        kept = [Node() for _ in range(1_000)]
        keep_for_good()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        with gc_paused():
            made = [Node() for _ in range(1_000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen  # none let go, none of the new ones frozen
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_disabled_collector_stays_disabled_after_a_paused_stage():
    gc.disable()
    try:
        with gc_paused():
            Node()
        assert not gc.isenabled()
    finally:
        gc.enable()
