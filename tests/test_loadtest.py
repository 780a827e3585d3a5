"""The load test: a short real run (3 browser sessions clicking places on one server) and the
command's refusals. No timing is asserted, only that the figures are there and plausible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from kzgeo import loadtest
from kzgeo.cli import main
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.index import index_corpus

SESSIONS = 3


@pytest.fixture(scope="module")
def place_ids() -> set[str]:
    """The ids of the places of the bundled corpus (what a click may select)."""
    features = index_corpus(DEFAULT_CORPUS_DIR).collection["features"]
    return {f["id"] for f in features if f["properties"]["layer"] == "places"}


@pytest.mark.browser
@pytest.mark.timeout(420)
def test_a_short_load_test_clicks_places_in_every_session_without_errors(
    tmp_path, capsys, place_ids
):
    pytest.importorskip("playwright")
    if loadtest.chromium_path() is None:
        pytest.skip("no Chromium: install Debian's chromium or set KZGEO_CHROMIUM")
    out = tmp_path / "loadtest.json"

    status = main(["loadtest", "--sessions", str(SESSIONS), "--duration", "20",
                   "--corpus", str(DEFAULT_CORPUS_DIR), "--json", str(out)])

    printed = capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["errors"] == 0 and not data["first_errors"], data["first_errors"]
    assert status == 0
    assert set(data["error_counts"]) == set(loadtest.ERROR_KINDS)
    figures = data["figures"]
    assert figures["sessions"] == figures["sessions_clicking"] == SESSIONS
    assert len(data["sessions"]) == SESSIONS
    for session in data["sessions"]:
        assert session["clicks"] > 0 and session["open_s"] > 0, session
        assert len(session["places"]) == len(session["latencies_s"]) == session["clicks"]
        assert set(session["places"]) <= place_ids, session["places"]
        clicked = session["places"]
        assert all(a != b for a, b in zip(clicked, clicked[1:], strict=False)), clicked
        assert all(latency > 0 for latency in session["latencies_s"])
    assert figures["clicks"] == sum(s["clicks"] for s in data["sessions"])
    assert 0 < figures["latency_p50_s"] <= figures["latency_p95_s"] <= figures["latency_max_s"]
    assert figures["clicking_s"] >= 20 and figures["clicks_per_s"] > 0
    assert 20 < figures["server_rss_start_mb"] <= figures["server_rss_peak_mb"]
    assert figures["server_rss_peak_mb"] < 8_000 and figures["server_hwm_mb"] > 20
    for phase in ("open", "click"):
        assert figures[f"{phase}_server_cores"] > 0 and figures[f"{phase}_client_cores"] > 0
        assert figures[f"{phase}_other_cores"] >= 0
        assert 0 < figures[f"{phase}_machine_busy_pct"] <= 100
    machine = data["machine"]
    assert machine["nproc"] >= 1 and machine["python"] == sys.version.split()[0]
    assert machine["cpu"] and machine["chromium"]
    for label, _ in loadtest.FIGURES.values():
        assert f"| {label} |" in printed
    assert f"wrote {out}" in printed


def test_without_chromium_the_command_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KZGEO_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))

    assert main(["loadtest", "--sessions", "1", "--duration", "1"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert "chromium" in error.lower() or "playwright" in error


@pytest.mark.parametrize("args", [["--sessions", "0"], ["--duration", "0"]])
def test_no_sessions_or_no_time_is_refused(args, capsys):
    assert main(["loadtest", *args]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_the_command_is_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "loadtest" in capsys.readouterr().out


def test_percentiles_and_summary_of_a_run_are_taken_from_the_clicks():
    sessions = [loadtest.Session(0, "", 3.0, [0.4, 0.9, 2.5], ["almaty", "astana", "baku"]),
                loadtest.Session(1, "", 5.0, [], [])]
    problems = [loadtest.Problem("timeout", 1, "no quote")]

    figures = loadtest.summarize(sessions, problems, {"clicking_s": 30.0}, {}, 30.0)

    assert figures["clicks"] == 3 and figures["sessions_clicking"] == 1
    assert figures["clicks_per_session_min"] == 0
    assert (figures["latency_p50_s"], figures["latency_p95_s"]) == (0.9, 2.5)
    assert figures["open_p50_s"] == 3.0 and figures["errors"] == 1
    assert figures["clicks_per_s"] == pytest.approx(0.1)
    assert figures["server_rss_peak_mb"] is None  # an app not started by the test: no memory


def test_the_memory_of_a_process_tree_counts_its_children():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        tree = loadtest.process_tree(os.getpid())
        own = loadtest.rss_mb(os.getpid())

        assert tree[0] == os.getpid() and child.pid in tree
        assert loadtest.tree_rss_mb(os.getpid()) > own + 3  # plus the child's interpreter
        assert 10 < own <= loadtest.peak_mb(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert loadtest.rss_mb(child.pid) == 0.0  # gone: nothing to count
