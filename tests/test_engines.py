"""The Dask engine (a LocalCluster of 2 worker processes) builds the same index as the local
engine on the bundled corpus; `build --engine dask --scheduler` writes the same quote store."""

from __future__ import annotations

import pytest
from dask.distributed import Client, LocalCluster

from kzgeo import geocache
from kzgeo.cli import main
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR
from kzgeo.engines import EngineError, build_artifacts
from kzgeo.gazetteer import load_gazetteer
from kzgeo.quotestore import open_store


@pytest.fixture(scope="module")
def cluster():
    load_gazetteer()  # the workers read its artifact rather than building it each
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        yield local


def test_build_with_the_dask_engine_writes_the_index_of_the_local_engine(
    cluster, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "dask"))
    monkeypatch.setattr(geocache, "SHIPPED_PATH", None)  # every article geoparsed by the tasks
    code = main(["build", "--corpus", str(DEFAULT_CORPUS_DIR), "--engine", "dask",
                 "--scheduler", cluster.scheduler_address])
    out = capsys.readouterr().out
    dask_store = open_store(DEFAULT_CORPUS_DIR)
    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "local"))
    local, built = build_artifacts(DEFAULT_CORPUS_DIR, "local")

    assert code == 0 and "built by the dask engine" in out and "quote store:" in out
    assert built and local.folder != dask_store.folder
    assert [f["id"] for f in dask_store.features] == [f["id"] for f in local.features]
    assert len(local.features) > 50
    for feature in local.features:
        assert dask_store.quotes_of(feature["id"]) == local.quotes_of(feature["id"])
    assert dask_store.quote_counts() == local.quote_counts()


def test_a_scheduler_without_the_dask_engine_or_an_unknown_engine_is_refused():
    with pytest.raises(EngineError, match="--engine dask"):
        build_artifacts(DEFAULT_CORPUS_DIR, "local", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(EngineError, match="unknown engine"):
        build_artifacts(DEFAULT_CORPUS_DIR, "spark")


def test_a_dask_worker_that_does_not_see_a_batch_file_stops_the_build_with_a_message(
    cluster, tmp_path
):
    from kzgeo.engines import dask_runner

    job = {"folder": str(tmp_path), "files": [(str(tmp_path / "nowhere" / "a.txt"), [])],
           "fates": [None], "part": "parts/x", "cache": str(tmp_path / "c.pickle"), "seeds": []}
    with Client(cluster) as client, pytest.raises(EngineError, match="same path on every"):
        dask_runner(client, tmp_path)([job])
    assert not (tmp_path / "parts" / "x").exists()
