"""The partitioned build (batches of files -> store parts, merged small) gives the quote store
of the in-memory index on the bundled corpus and on a small synthetic archive; adding, changing
and removing an article rebuilds one batch and equals a full rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kzgeo import geocache
from kzgeo.bench import load_corpus, write_corpus
from kzgeo.config import BUILD_ENV_VAR, DEFAULT_CORPUS_DIR
from kzgeo.index import index_corpus, mentions_table
from kzgeo.parts import HashIndex, build_parts
from kzgeo.quotestore import QuoteStore, _merged_groups, row_group_sizes, write_store

ARCHIVE_PLACES = ["Aktau", "Atyrau", "Taschkent", "Moskau", "Almaty", "Bischkek", "Urumqi",
                  "Orenburg", "Omsk", "Semei", "Baku", "Duschanbe", "Samarkand", "Kostanai"]


def snapshot(store: QuoteStore) -> dict:
    """Return everything the app reads of a store, as plain data."""
    ids = [f["id"] for f in store.features]
    return {
        "collection": json.dumps(store.collection, sort_keys=True),
        "quotes": {i: store.quotes_of(i) for i in ids},
        "pages": {i: store.page(i, None, 5) for i in ids},
        "tallies": store.tallies(),
        "months": store.months(ids),
        "aggregates": {i: store.aggregates(i) for i in ids[:20]},
        "articles": store.articles,
        "warnings": store.warnings,
        "mentions": b"".join(store.mentions_csv_parts()),
        "geojson": store.geojson_text(),
    }


def in_memory(folder: Path, store_dir: Path) -> dict:
    """Return the snapshot of the store written from ``index.index_corpus`` (today's index)."""
    index = index_corpus(folder)
    articles = index.corpus.articles
    written = write_store(index.collection, store_dir, "", articles, index.corpus.warnings,
                          mentions_table(index.parsed, articles))
    return snapshot(QuoteStore.open(written))


def parted(folder: Path, store_dir: Path, batch_files: int, **options) -> tuple[dict, object]:
    done = build_parts(folder, store_dir, batch_files=batch_files, **options)
    return snapshot(QuoteStore.open(done.folder)), done


def assert_same_as_a_whole_merge(store: Path) -> None:
    """Assert that the merged folder of ``store`` (patched from the last one) is byte for byte
    what a merge of all its parts writes."""
    from kzgeo.parts import merge_parts

    meta = json.loads((store / "store.json").read_text(encoding="utf-8"))
    whole = merge_parts(store, meta["parts"])
    assert not whole["patched"]
    ours, theirs = store / meta["merged"], store / whole["merged"]
    names = sorted(str(p.relative_to(ours)) for p in ours.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(theirs)) for p in theirs.rglob("*") if p.is_file())
    assert "facets/key.npy" in names and "hashes.npy" in names
    for name in names:
        if "hash" not in name:  # the patch keeps the index as its base and the changes since
            assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert _merged_groups(ours, meta["parts"]) == [  # what the store opens without the files
        row_group_sizes(store / part / "quotes.parquet") for part in meta["parts"]]
    for ours_index, whole_index in zip(HashIndex.read(ours).flat(),
                                       HashIndex.read(theirs).flat(), strict=True):
        assert ours_index.tolist() == whole_index.tolist()
    shutil.rmtree(theirs)


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setenv(BUILD_ENV_VAR, str(tmp_path / "build"))
    return tmp_path


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A synthetic archive of 90 articles over 14 places, with a repeated article (left out),
    an id clash (renamed) and sentences repeated across batches (quoted once per place)."""
    folder = tmp_path_factory.mktemp("archive") / "corpus"
    articles = load_corpus(DEFAULT_CORPUS_DIR).articles
    write_corpus(articles, 90, folder, places=ARCHIVE_PLACES)
    first = (folder / "syn-000003.txt").read_text(encoding="utf-8")
    (folder / "syn-000070-copy.txt").write_text(first, encoding="utf-8")  # a repeat
    repeated = "Aktau und Atyrau liegen am Kaspischen Meer, sagte der Minister in Almaty."
    for name in ("syn-000010.txt", "syn-000050.txt", "syn-000085.txt"):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8") + "\n\n" + repeated, encoding="utf-8")
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[article]]\nid = "syn-000001"\nfile = "zz-clash.txt"\n'
                       'title = "Clash"\noutlet = "Neue Post"\nlanguage = "de"\n')
    (folder / "zz-clash.txt").write_text(
        "Ein Bericht aus Taschkent über Baumwolle und Wasser.\n\nAuch Samarkand wächst.",
        encoding="utf-8")
    return folder


def test_the_partitioned_build_equals_the_in_memory_index_on_the_bundled_corpus(build):
    expected = in_memory(DEFAULT_CORPUS_DIR, build / "memory")
    for batch_files in (1, 500):  # a part per file, and one part
        found, done = parted(DEFAULT_CORPUS_DIR, build / f"parts-{batch_files}", batch_files)
        assert done.batches == (5 if batch_files == 1 else 1)
        assert found == expected
    assert len(json.loads(expected["collection"])["features"]) > 100


def test_the_partitioned_build_equals_the_in_memory_index_on_an_archive(build, archive):
    expected = in_memory(archive, build / "memory")
    found, done = parted(archive, build / "parts", 7)
    assert done.batches >= 10
    assert found == expected
    warnings = " ".join(found["warnings"])
    assert "syn-000001-2" in warnings  # the clash was renamed, the repeat left out
    assert "syn-000070-copy" not in {a.source_file[:-4] for a in found["articles"]}
    # the sentence repeated in three batches is quoted once per place, first in corpus order
    aktau = [q for q in found["quotes"]["aktau"] if "Kaspischen Meer, sagte" in q["text"]]
    assert [q["article_id"] for q in aktau] == ["syn-000010"]


def test_adding_changing_and_removing_articles_rebuilds_their_batches_only(build, archive,
                                                                           monkeypatch):
    folder = Path(shutil.copytree(archive, build / "corpus"))
    _, first = parted(folder, build / "parts", 7)
    again = build_parts(folder, build / "parts", batch_files=7)
    assert not again.built  # nothing changed: nothing built
    monkeypatch.setattr(geocache, "SHIPPED_PATH", None)
    (folder / "syn-000044b.txt").write_text(
        "Neue Bohrungen bei Atyrau und Aktau.\n\nDie Gespräche in Baku gehen weiter.",
        encoding="utf-8")  # added (no manifest entry: metadata guessed)
    changed = folder / "syn-000020.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nNeues aus Omsk.",
                       encoding="utf-8")
    (folder / "syn-000060.txt").unlink()  # removed
    found, done = parted(folder, build / "parts", 7)
    assert done.built and done.rebuilt <= 3 and done.geoparsed == 2
    assert done.batches == first.batches
    assert found == in_memory(folder, build / "memory")
    assert any(q["article_id"] == "syn-000044b" for q in found["quotes"]["atyrau"])
    assert done.faceted <= 3  # the merge made the facets of the rebuilt parts only


def test_an_earlier_copy_of_a_sentence_and_removing_the_first_copy_move_the_quote(build,
                                                                                 archive):
    folder = Path(shutil.copytree(archive, build / "corpus"))
    _, first = parted(folder, build / "parts", 7)
    assert first.faceted == first.batches  # a first build makes every part's facets

    def quoted_in() -> list[str]:
        return [q["article_id"] for q in found["quotes"]["aktau"]
                if "Kaspischen Meer, sagte" in q["text"]]

    # an earlier copy of the sentence a later batch quoted: that batch's repeat is dropped now
    (folder / "syn-000002b.txt").write_text(
        "Aktau und Atyrau liegen am Kaspischen Meer, sagte der Minister in Almaty.",
        encoding="utf-8")
    found, done = parted(folder, build / "parts", 7)
    assert found == in_memory(folder, build / "memory")
    assert quoted_in() == ["syn-000002b"]
    assert done.rebuilt == 1 and done.faceted == 2  # the new copy's part, the old copy's part
    assert done.patched  # one part changed: the last merge patched
    assert_same_as_a_whole_merge(done.folder)
    # the part that quotes a sentence first loses it: its next copy is found by a whole merge
    (folder / "syn-000002b.txt").unlink()
    found, done = parted(folder, build / "parts", 7)
    assert found == in_memory(folder, build / "memory")
    assert quoted_in() == ["syn-000010"]
    assert done.rebuilt == 1 and not done.patched and done.faceted == 2
    (folder / "syn-000002b.txt").write_text(
        "Aktau und Atyrau liegen am Kaspischen Meer, sagte der Minister in Almaty.",
        encoding="utf-8")
    found, done = parted(folder, build / "parts", 7)
    assert quoted_in() == ["syn-000002b"] and done.patched
    # removing the article that held the first copy: the next copy (a later batch) is quoted
    (folder / "syn-000002b.txt").unlink()
    (folder / "syn-000010.txt").unlink()
    found, done = parted(folder, build / "parts", 7)
    assert found == in_memory(folder, build / "memory")
    assert quoted_in() == ["syn-000050"]
    assert done.rebuilt == 2 and done.faceted == 3  # the two changed parts, syn-000050's part


def test_a_manifest_that_grew_at_its_end_is_read_as_a_whole_read_would(tmp_path, monkeypatch):
    from kzgeo import parts
    from kzgeo.corpus import read_manifest
    from kzgeo.parts import read_manifest_cached

    folder = Path(shutil.copytree(DEFAULT_CORPUS_DIR, tmp_path / "corpus"))
    memo = tmp_path / "store"
    assert read_manifest_cached(folder, memo) == read_manifest(folder)
    assert (memo / "manifest.pickle").is_file()
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[article]]\nid = "neu"\nfile = "neu.txt"\ntitle = "Neu"\n'
                       'date = "kein Datum"\n\n[[article]]\nfile = 3\n')
    grown = read_manifest_cached(folder, memo)
    assert grown == read_manifest(folder) and grown[0][-1]["id"] == "neu"
    assert len(grown[1]) >= 2  # the bad date and the bad entry, numbered as a whole read does
    assert (memo / "manifest-added.pickle").is_file()  # the appended end kept apart
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[article]]\nid = "neu-2"\nfile = "neu.txt"\ntitle = "Neu 2"\n')
    assert read_manifest_cached(folder, memo) == read_manifest(folder)
    assert read_manifest_cached(folder, memo) == read_manifest(folder)  # as it is now
    monkeypatch.setattr(parts, "MANIFEST_FOLD", 0)  # the appended end folded into the memo
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[article]]\nid = "neu-3"\nfile = "neu3.txt"\n')
    assert read_manifest_cached(folder, memo) == read_manifest(folder)
    assert not (memo / "manifest-added.pickle").exists()
    text = (folder / "manifest.toml").read_text(encoding="utf-8")
    (folder / "manifest.toml").write_text(text.replace("[[article]]", "[[article]]\n", 1)
                                          + 'url = "x"\n', encoding="utf-8")  # not appended
    assert read_manifest_cached(folder, memo) == read_manifest(folder)


def add_file(folder: Path, name: str, text: str, entry: str | None = None) -> None:
    """Add an article file and, when given, its manifest entry (appended)."""
    (folder / name).write_text(text, encoding="utf-8")
    if entry is not None:
        with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
            manifest.write(f'\n[[article]]\nfile = "{name}"\n{entry}\n')


def test_new_files_alone_take_the_quick_plan_and_repeats_or_clashes_the_whole_one(
        build, archive, monkeypatch):
    from kzgeo import parts

    monkeypatch.setattr(parts, "SUM_GROUP", 3)  # several groups of sums: some kept, some not
    folder = Path(shutil.copytree(archive, build / "corpus"))
    parted(folder, build / "parts", 7)

    def step(quick: bool) -> dict:
        with parts.warm_runner(2) as run:  # as `python -m kzgeo build`: one batch, one process
            found, done = parted(folder, build / "parts", 7, runner=run)
        assert done.built and done.quick == quick
        assert found == in_memory(folder, build / "memory")
        if done.patched:
            assert_same_as_a_whole_merge(done.folder)
        patched.append(done.patched)
        return found

    patched: list[bool] = []

    # a new article with its manifest entry: its fate is its own id, the others' stay
    add_file(folder, "syn-000030b.txt", "Neue Gespräche in Baku und Aktau.\n\nMehr aus Omsk.",
             'id = "neu-1"\ntitle = "Neu"\noutlet = "Neue Post"\nlanguage = "de"')
    found = step(quick=True)
    assert any(q["article_id"] == "neu-1" for q in found["quotes"]["baku"])
    # an entry for a file not there yet (warned), then the file: it takes the entry
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[[article]]\nid = "spaet"\nfile = "syn-000040b.txt"\n'
                       'title = "Spät"\noutlet = "Neue Post"\nlanguage = "de"\n')
    found = step(quick=True)
    assert any("syn-000040b.txt" in w and "not in the corpus folder" in w
               for w in found["warnings"])
    add_file(folder, "syn-000040b.txt", "Ein Bericht aus Bischkek über Wasser.")
    found = step(quick=True)
    assert not any("syn-000040b.txt" in w and "not in the corpus folder" in w
                   for w in found["warnings"])
    assert "spaet" in {a.id for a in found["articles"]}
    # a new file with no entry (metadata guessed, a warning of its own) and one with no text
    add_file(folder, "syn-000080b.txt", "Neues aus Semei und Orenburg.")
    add_file(folder, "syn-000081b.txt", "   \n")
    found = step(quick=True)
    assert any(w.startswith("syn-000081b.txt: skipped") for w in found["warnings"])
    # a new file that repeats an article (an earlier one): decided over the whole corpus
    add_file(folder, "syn-000012b.txt", (folder / "syn-000005.txt").read_text(encoding="utf-8"))
    found = step(quick=False)
    assert "syn-000012b" not in {a.source_file[:-4] for a in found["articles"]}
    # a new file that an existing later article repeats: that one is left out now
    add_file(folder, "syn-000006b.txt", (folder / "syn-000033.txt").read_text(encoding="utf-8"))
    found = step(quick=False)
    assert "syn-000033" not in {a.source_file[:-4] for a in found["articles"]}
    # a new file whose id a later article has: the later one is renamed now
    add_file(folder, "syn-000007b.txt", "Ein Bericht aus Almaty.", 'id = "syn-000050"')
    found = step(quick=False)
    assert any("syn-000050.txt: article id" in w for w in found["warnings"])
    # an edited manifest (not appended): decided over the whole corpus
    text = (folder / "manifest.toml").read_text(encoding="utf-8")
    (folder / "manifest.toml").write_text(text.replace('title = "Neu"', 'title = "Neuer"'),
                                          encoding="utf-8")
    add_file(folder, "syn-000090b.txt", "Noch ein Bericht aus Duschanbe.")
    step(quick=False)
    add_file(folder, "syn-000091b.txt", "Und einer aus Samarkand.")  # quick again after that
    step(quick=True)
    assert patched.count(True) >= 4  # most steps changed one part: their merges patched


def test_a_part_returns_what_the_merge_would_read_of_its_files(tmp_path):
    import numpy as np

    from kzgeo.geocache import resolve_cached
    from kzgeo.parts import _part_columns, _place_rows, write_part

    articles = load_corpus(DEFAULT_CORPUS_DIR).articles
    resolved, places, _stats = resolve_cached(articles, None)
    kept = write_part(tmp_path / "parts" / "p", articles, resolved, places)
    read = {**_part_columns(tmp_path, "parts/p"), **_place_rows(tmp_path, "parts/p")}
    assert kept.keys() == read.keys() and len(read["places"]) > 50
    for name, values in read.items():
        assert kept[name].dtype == values.dtype and np.array_equal(kept[name], values), name


def test_the_files_keys_are_the_corpus_file_keys(archive, tmp_path):
    from kzgeo.corpus import file_jobs, file_key, read_manifest
    from kzgeo.parts import entries_by_file, entries_digest, list_files, manifest_memo

    entries, _warnings, digests = manifest_memo(archive, tmp_path / "store")
    listed = list_files(archive)
    jobs = file_jobs(archive, entries)
    assert [name for name, _, _ in listed] == [path.name for path, _ in jobs]
    none = entries_digest([])
    assert [(name, size, time, digests.get(name, none)) for name, size, time in listed] == \
        [file_key(path, found) for path, found in jobs]
    assert entries_by_file(read_manifest(archive)[0]) == entries_by_file(entries)


def test_the_hash_index_keeps_its_base_and_the_changes_since(tmp_path):
    import numpy as np

    index = HashIndex((np.array([3, 5, 9], np.uint64), np.array([0, 1, 2], np.int32)))
    index.assign(np.array([5, 7], np.uint64), 0)  # 5 is first quoted earlier now, 7 is new
    assert index.owners(np.array([3, 5, 7, 8, 9], np.uint64)).tolist() == [0, 0, 0, -1, 2]
    assert [a.tolist() for a in index.flat()] == [[3, 5, 7, 9], [0, 0, 0, 2]]
    for folder in (tmp_path / "a", tmp_path / "b"):
        folder.mkdir()
        index.write(folder)  # a: without a source, all written; b: the base linked from a
        index = HashIndex.read(folder)
    assert (tmp_path / "b" / "hashes.npy").stat().st_ino == \
        (tmp_path / "a" / "hashes.npy").stat().st_ino
    assert [a.tolist() for a in index.flat()] == [[3, 5, 7, 9], [0, 0, 0, 2]]


def test_the_store_summary_reads_the_counts_the_build_wrote(build, archive):
    from kzgeo.quotestore import store_summary

    done = build_parts(archive, build / "parts", batch_files=7)
    written = store_summary(done.folder)
    meta_path = done.folder / "store.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert set(meta["counts"]) == {"articles", "features", "quoted"}
    del meta["counts"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    counted = store_summary(done.folder)  # from the merged files, as for a store without them
    assert written == counted and counted.articles == 91 and counted.quoted > 10


def test_a_merged_folder_of_earlier_code_is_merged_again_not_patched(build, archive):
    folder = Path(shutil.copytree(archive, build / "corpus"))
    done = build_parts(folder, build / "parts", batch_files=7)
    meta = json.loads((done.folder / "store.json").read_text(encoding="utf-8"))
    memo_path = done.folder / meta["merged"] / "parts.json"
    memo = json.loads(memo_path.read_text(encoding="utf-8"))
    del memo["groups"]  # as the merge before row groups were kept wrote it
    memo_path.write_text(json.dumps(memo), encoding="utf-8")
    (folder / "syn-000030b.txt").write_text("Neue Gespräche in Baku und Aktau.", encoding="utf-8")
    found, done = parted(folder, build / "parts", 7)
    assert done.rebuilt == 1 and not done.patched
    assert found == in_memory(folder, build / "memory")
