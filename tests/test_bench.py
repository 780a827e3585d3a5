"""The benchmark runs end to end at a small scale; the parallel geoparse equals the serial one."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from kzgeo import bench
from kzgeo.cli import main
from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import load_gazetteer
from kzgeo.index import CODE_DIR, geoparse_parallel, index_code, split_chunks
from kzgeo.resolve import geoparse


@pytest.fixture(scope="module")
def articles():
    return load_corpus(DEFAULT_CORPUS_DIR).articles


def test_parallel_geoparse_equals_single_process_on_the_real_corpus(articles):
    gazetteer = load_gazetteer()
    single = geoparse(articles, gazetteer).to_dict()
    parallel = geoparse_parallel(articles, workers=2, gazetteer=gazetteer, min_chars=0).to_dict()

    assert parallel == single  # same places, same quotes in the same order, same mentions
    assert [p["id"] for p in parallel["places"]] == [p["id"] for p in single["places"]]
    assert len(parallel["mentions"]) > 500


@pytest.mark.parametrize(
    ("sizes", "chunks"),
    [([], 4), ([7], 4), ([1] * 10, 3), ([100, 1, 1, 1, 1], 2), ([3, 9, 2, 8, 5, 5], 8)],
)
def test_chunks_cover_every_article_once_in_order(sizes, chunks):
    ranges = split_chunks(sizes, chunks)

    assert [i for r in ranges for i in r] == list(range(len(sizes)))
    assert len(ranges) <= max(chunks, 0) and all(len(r) for r in ranges)


def test_synthetic_corpus_goes_through_the_real_loader(articles, tmp_path):
    count = len(articles) + 3
    folder = bench.write_corpus(articles, count, tmp_path / "synthetic")
    loaded = load_corpus(folder)

    assert len(loaded.articles) == count
    assert not loaded.warnings and not loaded.duplicates
    pool = set(bench.sentence_pool(articles))
    first = loaded.articles[0].text.split("\n\n")[0]
    assert first.startswith("[") and any(sentence in first for sentence in pool)


def test_small_scales_are_the_real_articles(articles, tmp_path):
    loaded = load_corpus(bench.write_corpus(articles, 2, tmp_path / "real-2")).articles

    assert sorted((a.id, a.text, a.title, a.date) for a in loaded) == sorted(
        (a.id, a.text, a.title, a.date) for a in articles[:2]
    )


def test_bench_cli_writes_every_figure_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "bench.json"

    assert main(["bench", "--scale", "1", "--scale", "3", "--repeat", "1", "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["machine"]["nproc"] >= 1 and data["machine"]["python"] == sys.version.split()[0]
    assert set(data["figures"]) == {"-", "1", "3"}
    scale_free = {"gazetteer_build_s", "gazetteer_load_s", "fresh_clone_map_s"}
    assert set(data["figures"]["-"]) == scale_free
    assert isinstance(data["figures"]["-"]["fresh_clone_map_s"], float)  # a real first map
    for scale in ("1", "3"):
        assert set(data["figures"][scale]) == set(bench.FIGURES) - scale_free, scale
        for figure, value in data["figures"][scale].items():  # a number, or why not
            assert isinstance(value, int | float) or value.startswith("n/a ("), (figure, value)
    assert (data["figures"]["1"]["articles"], data["figures"]["3"]["articles"]) == (1, 3)
    adds = [note for note in data["notes"] if "each add of one article" in note]
    assert len(adds) == 2 and all(note.endswith(" s") for note in adds)  # one per scale
    app_figures = ("app_first_s", "app_rerun_s", "app_session_s", "map_mb")
    app = {key: data["figures"]["1"][key] for key in app_figures}
    assert all(isinstance(value, float) and value > 0 for value in app.values()), app
    assert app["map_mb"] > 0.2  # the country outlines alone are more
    for scale in ("1", "3"):  # a share of the machine's CPU time, read from /proc/stat
        assert 0.0 <= data["figures"][scale]["steal_pct"] <= 100.0
    statuses = {row["status"] for row in data["rows"]}
    assert statuses <= {"", "MET", "MISSED", "n/a"}
    for label, _ in bench.FIGURES.values():
        assert f"| {label} |" in printed
    assert "| figure | N=1 | N=3 | target | status |" in printed


def test_a_failing_app_is_reported_not_raised():
    report = bench.Report(bench.machine_info(), {})

    def broken() -> None:
        raise RuntimeError("app.py is missing\nmore detail")

    bench.attempt(report, 1, ("app_first_s", "map_mb"), broken)

    assert report.figures["1"] == {
        "app_first_s": "n/a (RuntimeError: app.py is missing)",
        "map_mb": "n/a (RuntimeError: app.py is missing)",
    }
    assert "| app first render, new process (s) | n/a (RuntimeError: app.py is missing) |" in (
        bench.format_table(report)
    )


def test_targets_name_known_figures():
    assert {t.figure for t in bench.TARGETS} <= set(bench.FIGURES)
    assert Path(bench.APP_PATH).name == "app.py"


def test_editing_the_tools_leaves_built_stores_current_and_editing_the_geoparser_does_not(
    tmp_path,
):
    code = tmp_path / "kzgeo"
    shutil.copytree(CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    hashed = {p.name for p in index_code("parts", code_dir=code)}  # what parts.code_key hashes

    assert {"index.py", "resolve.py", "recognize.py", "corpus.py", "gazetteer.py"} <= hashed
    assert {"sentences.py", "parts.py", "quotestore.py", "geocache.py"} <= hashed
    assert not {"bench.py", "loadtest.py", "harness.py", "cli.py", "__main__.py", "served.py",
                "dashboard.py", "mapview.py", "engines.py"} & hashed
    with (code / "quotestore.py").open("a", encoding="utf-8") as source:
        source.write("\nimport kzgeo.loadtest\n")  # a module that imports a tool hashes it
    assert "loadtest.py" in {p.name for p in index_code("parts", code_dir=code)}


def test_the_synthetic_archive_is_reproducible_and_mentions_many_places_zipf_like(
    articles, tmp_path
):
    from collections import Counter

    from kzgeo.resolve import geoparse

    gazetteer = load_gazetteer()
    places = bench.archive_places(gazetteer)
    first = bench.write_corpus(articles, 150, tmp_path / "a", places)
    again = bench.write_corpus(articles, 150, tmp_path / "b", places)
    loaded = load_corpus(first).articles

    assert len(places) > 3000  # thousands of places the geoparser finds in such a sentence
    assert [a.text for a in loaded] == [a.text for a in load_corpus(again).articles]
    assert len({a.outlet for a in loaded}) > 30
    assert len({a.date.year for a in loaded}) > 10
    parsed = geoparse(loaded, gazetteer)
    counts = Counter({p.id: p.mention_count for p in parsed.places})
    assert len(counts) > 400  # the real sentences alone never give more than 57
    ranked = [n for _, n in counts.most_common()]
    assert ranked[0] > 10 * ranked[len(ranked) // 2]  # a long tail, a few places very often
