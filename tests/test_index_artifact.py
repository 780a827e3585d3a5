"""Built artifacts: the quote store is reused while fresh, rebuilt when stale, and survives a kill.

Every test builds into its own folder (``store_dir`` / ``$KZGEO_BUILD_DIR``), on a copy of the
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
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import ARTIFACT_PATH, input_hash, load_gazetteer, read_artifact
from kzgeo.quotestore import QuoteStore, build_store

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Return a copy of the bundled corpus."""
    return Path(shutil.copytree(DEFAULT_CORPUS_DIR, tmp_path / "corpus"))


def place_ids(store: QuoteStore) -> set[str]:
    return {feature_id for feature_id, count in store.quote_counts().items() if count}


def test_the_quote_store_is_built_once_then_read_back(corpus, tmp_path):
    first, built_first = build_store(corpus, store_dir=tmp_path / "store")
    second, built_second = build_store(corpus, store_dir=tmp_path / "store")

    assert (built_first, built_second) == (True, False)
    assert second.folder == first.folder and second.key == first.key
    assert second.collection == first.collection
    assert second.quote_counts() == first.quote_counts()
    assert {a.id for a in second.articles} == {a.id for a in load_corpus(corpus).articles}
    csv = b"".join(second.mentions_csv_parts()).decode("utf-8")
    assert csv.startswith("article_id,title,outlet,date,surface,") and csv.count("\n") > 500


def test_a_changed_article_makes_the_store_stale_and_it_is_rebuilt(corpus, tmp_path):
    before, _ = build_store(corpus, store_dir=tmp_path / "store")
    assert "aktau" not in place_ids(before)
    article = sorted(corpus.glob("*.txt"))[0]
    article.write_text(
        article.read_text(encoding="utf-8") + "\n\nDer Hafen von Aktau wächst.\n", encoding="utf-8"
    )

    after, built = build_store(corpus, store_dir=tmp_path / "store")

    assert built and after.key != before.key
    assert "aktau" in place_ids(after)
    assert QuoteStore.open(after.folder).key == after.key


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
