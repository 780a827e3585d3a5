"""Built artifacts: the served index is reused while fresh, rebuilt when stale, and survives a kill.

Every test builds into its own folder (``index_dir`` / ``$KZGEO_BUILD_DIR``), on a copy of the
real corpus or a synthetic one made of its sentences.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kzgeo import bench
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR, GEODATA_DIR, PROJECT_ROOT
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import ARTIFACT_PATH, input_hash, load_gazetteer, read_artifact
from kzgeo.index import artifact_path, index_corpus, inputs_hash, read_served, served_index
from kzgeo.quotestore import build_store

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Return a copy of the bundled corpus."""
    return Path(shutil.copytree(DEFAULT_CORPUS_DIR, tmp_path / "corpus"))


def place_ids(collection: dict) -> set[str]:
    return {f["id"] for f in collection["features"] if f["properties"]["quotes"]}


def test_served_index_is_built_once_then_read_back(corpus, tmp_path):
    build = tmp_path / "build"
    first, built_first = served_index(corpus, index_dir=build)
    second, built_second = served_index(corpus, index_dir=build)

    assert (built_first, built_second) == (True, False)
    assert artifact_path(corpus, build).is_file()
    assert second.collection == first.collection == index_corpus(corpus).collection
    assert second.key == first.key == inputs_hash(corpus)
    assert {a.id for a in second.articles} == {a.id for a in load_corpus(corpus).articles}
    assert all(a.text == "" for a in second.articles)  # metadata only
    csv = second.mentions_csv()
    assert csv.startswith("article_id,title,outlet,date,surface,") and csv.count("\n") > 500


def test_a_changed_article_makes_the_artifact_stale_and_it_is_rebuilt(corpus, tmp_path):
    build = tmp_path / "build"
    before, _ = served_index(corpus, index_dir=build)
    assert "aktau" not in place_ids(before.collection)
    article = sorted(corpus.glob("*.txt"))[0]
    article.write_text(
        article.read_text(encoding="utf-8") + "\n\nDer Hafen von Aktau wächst.\n", encoding="utf-8"
    )

    after, built = served_index(corpus, index_dir=build)

    assert built and after.key != before.key
    assert "aktau" in place_ids(after.collection)
    assert read_served(artifact_path(corpus, build)).key == after.key


def test_the_key_covers_the_geodata_layers(corpus, tmp_path):
    geodata = Path(shutil.copytree(GEODATA_DIR, tmp_path / "geodata"))
    key = inputs_hash(corpus, geodata)
    pipelines = geodata / "pipelines.geojson"
    pipelines.write_text(pipelines.read_text(encoding="utf-8") + "\n", encoding="utf-8")

    assert inputs_hash(corpus, geodata) != key
    assert inputs_hash(corpus) == inputs_hash(corpus, GEODATA_DIR)


def test_an_unreadable_artifact_is_rebuilt_not_served(corpus, tmp_path):
    build = tmp_path / "build"
    good, _ = served_index(corpus, index_dir=build)
    path = artifact_path(corpus, build)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a half-written file
    assert read_served(path) is None

    again, built = served_index(corpus, index_dir=build)

    assert built and again.collection == good.collection
    assert read_served(path) is not None


def test_a_build_folder_that_cannot_be_written_still_serves_with_a_warning(corpus, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the build folder should be", encoding="utf-8")

    served, built = served_index(corpus, index_dir=blocked)

    assert built and place_ids(served.collection)
    assert any("could not be saved" in w for w in served.warnings)


# --------------------------------------------------------------------------- killed builds
def start_build(args: list[str], build_dir: Path) -> subprocess.Popen:
    env = {**os.environ, BUILD_ENV_VAR: str(build_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "kzgeo", "build", *args], cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 120.0) -> bool:
    """Kill the process group (SIGKILL) once ``ready()`` holds; return False if it ended first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return True
        time.sleep(0.005)
    process.wait(timeout=60)
    return False


@pytest.fixture
def synthetic_corpus(tmp_path: Path) -> Path:
    """Return a synthetic corpus of 300 articles (about 2 MB): a build takes a few seconds."""
    return bench.write_corpus(load_corpus(DEFAULT_CORPUS_DIR).articles, 300, tmp_path / "syn")


@pytest.mark.parametrize("moment", ["while geoparsing", "while writing the store"])
def test_a_killed_index_build_leaves_the_previous_store_usable(
    synthetic_corpus, tmp_path, moment
):
    build = tmp_path / "build"
    build.mkdir()
    load_gazetteer()
    shutil.copy(ARTIFACT_PATH, build / "gazetteer.pickle")  # the gazetteer is not rebuilt
    previous, _ = build_store(synthetic_corpus, store_dir=build / "store")
    path = previous.folder
    before = (path / "store.json").read_bytes()
    started = time.monotonic()

    def ready() -> bool:
        if moment == "while geoparsing":
            return time.monotonic() - started > 1.5
        return any(p.name.startswith(".") for p in [*path.iterdir(), *path.glob("parts/*")])

    process = start_build(["--corpus", str(synthetic_corpus), "--rebuild"], build)
    killed = kill_when(process, ready)

    assert killed, f"the build ended before it could be killed: {process.stderr.read()}"
    assert (path / "store.json").read_bytes() == before  # a new store lands by its store.json
    served, built = build_store(synthetic_corpus, store_dir=build / "store")
    assert not built and served.collection == previous.collection
    assert served.quote_counts() == previous.quote_counts()


def test_a_killed_gazetteer_build_leaves_the_previous_artifact_usable(corpus, tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    load_gazetteer()
    shutil.copy(ARTIFACT_PATH, build / "gazetteer.pickle")
    started = time.monotonic()

    process = start_build(["--corpus", str(corpus), "--rebuild-gazetteer"], build)
    killed = kill_when(process, lambda: time.monotonic() - started > 3.0)

    assert killed, f"the gazetteer build ended before it could be killed: {process.stderr.read()}"
    found = read_artifact(build / "gazetteer.pickle")
    assert found is not None and found[0] == input_hash()
    assert "almaty" in {entry.id for entry in found[1].entries}
