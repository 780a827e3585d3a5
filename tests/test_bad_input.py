"""Bad input gets a clear message naming what was wrong, and the rest keeps working.

Corpus files, the manifest, duplicate ids, an article without places, an empty or all-broken
corpus, and link parameters: each through the kzgeo functions, then in the app (Streamlit's
AppTest, and a real server with headless Chromium for the pages a user sees): the message is
shown, there is no traceback, and the map is still drawn.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
import tomli_w
from streamlit.testing.v1 import AppTest

from kzgeo import dashboard
from kzgeo.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.corpus import MAX_FILE_BYTES, load_corpus
from kzgeo.dashboard import ViewState
from kzgeo.index import index_corpus

GOOD = "Kasachstan und Russland\n\nIn Almaty wurde am Montag über Öl verhandelt.\n"
NO_PLACES = "Ein Tag ohne Orte\n\nHeute geschah in dieser Geschichte nichts Besonderes.\n"
FULL_ENTRY = {"title": "T", "outlet": "O", "date": dt.date(2024, 4, 22)}


def write_manifest(folder: Path, *entries: dict) -> None:
    (folder / "manifest.toml").write_text(
        tomli_w.dumps({"article": list(entries)}), encoding="utf-8"
    )


# --- corpus files ------------------------------------------------------------------------------

# (file name, bytes, what the warning says); empty, blank, binary, Latin-1 and oversize files are
# in test_corpus.py.
BROKEN_FILES = [
    ("utf16.txt", GOOD.encode("utf-16"), "utf16.txt: skipped, UTF-16 text, not UTF-8"),
    ("bom.txt", b"\xef\xbb\xbf" + GOOD.encode(), None),  # a UTF-8 byte order mark is fine
    ("dots.txt", ". , ;\n\n– …\n".encode(), "dots.txt: skipped, no words (only punctuation"),
]


@pytest.mark.parametrize(("name", "data", "warning"), BROKEN_FILES)
def test_an_odd_file_is_named_with_its_problem_and_the_good_one_still_loads(
    tmp_path, name, data, warning
):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / name).write_bytes(data)
    write_manifest(tmp_path, {"id": "good", "file": "good.txt", **FULL_ENTRY})
    loaded = load_corpus(tmp_path)
    assert "good" in [a.id for a in loaded.articles]
    if warning is None:
        assert len(loaded.articles) == 2
    else:
        assert [a.id for a in loaded.articles] == ["good"]
        assert any(w.startswith(warning) for w in loaded.warnings), loaded.warnings


def test_a_folder_named_like_an_article_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()
    loaded = load_corpus(tmp_path)
    assert [a.source_file for a in loaded.articles] == ["good.txt"]
    assert any(w.startswith("folder.txt: skipped, cannot be read") for w in loaded.warnings)


# --- the manifest ------------------------------------------------------------------------------

# (entries for good.txt, expected warnings, expected (id, title, outlet, date) of its article)
GUESSED = ("good", "Kasachstan und Russland", "unknown outlet", None)
MANIFEST_CASES = {
    "complete": ([{"id": "good", "file": "good.txt", **FULL_ENTRY}], [], ("good", "T", "O",
                 dt.date(2024, 4, 22))),
    "no file": (
        [{"id": "a", **FULL_ENTRY}],
        ["manifest.toml: article #1 'a' ignored: no 'file'",
         "good.txt: no manifest entry for 'good'; metadata guessed"],
        GUESSED,
    ),
    "no id, title, outlet, date": (
        [{"file": "good.txt"}],
        ["manifest.toml: article #1 (file 'good.txt'): no 'id' (the id is made from the file "
         "name); no 'title' (taken from the text); no 'outlet' (shown as 'unknown outlet'); "
         "no 'date' (taken from the text, else undated)"],
        GUESSED,
    ),
    "date not a date": (
        [{"id": "a", "file": "good.txt", **FULL_ENTRY, "date": "gestern"}],
        ["manifest.toml: article #1 'a' (file 'good.txt'): 'date' should be a date like "
         "2024-04-22, not the text 'gestern' (ignored)"],
        ("a", "T", "O", None),
    ),
    "date a number": (
        [{"id": "a", "file": "good.txt", **FULL_ENTRY, "date": 20240422}],
        ["manifest.toml: article #1 'a' (file 'good.txt'): 'date' should be a date like "
         "2024-04-22, not the number 20240422 (ignored)"],
        ("a", "T", "O", None),
    ),
    "date as ISO text": (
        [{"id": "a", "file": "good.txt", **FULL_ENTRY, "date": "2024-04-22"}],
        [],
        ("a", "T", "O", dt.date(2024, 4, 22)),
    ),
    "title a number, outlet a list": (
        [{"id": "a", "file": "good.txt", **FULL_ENTRY, "title": 42, "outlet": ["x"]}],
        ["manifest.toml: article #1 'a' (file 'good.txt'): 'title' should be text, not the "
         "number 42 (ignored); 'outlet' should be text, not a list (ignored)"],
        ("a", "Kasachstan und Russland", "unknown outlet", dt.date(2024, 4, 22)),
    ),
    "id not a slug": (
        [{"id": "Vermittler Gesucht!", "file": "good.txt", **FULL_ENTRY}],
        ["manifest.toml: article #1 'Vermittler Gesucht!' (file 'good.txt'): 'id' is not an id "
         "(lowercase letters, digits, '-'); 'vermittler-gesucht' used"],
        ("vermittler-gesucht", "T", "O", dt.date(2024, 4, 22)),
    ),
    "id unusable": (
        [{"id": "<>", "file": "good.txt", **FULL_ENTRY}],
        ["manifest.toml: article #1 '<>' (file 'good.txt'): 'id' should be an id (lowercase "
         "letters, digits, '-'), not the text '<>' (ignored)"],
        ("good", "T", "O", dt.date(2024, 4, 22)),
    ),
    "title over lines and too long": (
        [{"id": "a", "file": "good.txt", **FULL_ENTRY, "title": "Ein\n\nTitel " + "x" * 400}],
        ["manifest.toml: article #1 'a' (file 'good.txt'): 'title' is 410 characters long; "
         "cut to 300"],
        ("a", "Ein Titel " + "x" * 289 + "…", "O", dt.date(2024, 4, 22)),
    ),
    "entry for a missing file": (
        [{"id": "good", "file": "good.txt", **FULL_ENTRY},
         {"id": "gone", "file": "gone.txt", **FULL_ENTRY}],
        ["manifest.toml: article 'gone' names file 'gone.txt', which is not in the corpus "
         "folder"],
        ("good", "T", "O", dt.date(2024, 4, 22)),
    ),
    "entry for a file that is no article": (
        [{"id": "good", "file": "good.txt", **FULL_ENTRY},
         {"id": "notes", "file": "notes.csv", **FULL_ENTRY}],
        ["manifest.toml: article 'notes' names 'notes.csv', which is not an article file "
         "(.txt or .md)"],
        ("good", "T", "O", dt.date(2024, 4, 22)),
    ),
    "two entries for one article": (
        [{"id": "good", "file": "good.txt", **FULL_ENTRY},
         {"id": "again", "file": "good.txt", "outlet": "O", "date": dt.date(2024, 1, 1)}],
        ["manifest.toml: article #2 'again' (file 'good.txt'): no 'title' (taken from the text)",
         "manifest.toml: article 'again' is a second entry for 'good.txt'; ignored"],
        ("good", "T", "O", dt.date(2024, 4, 22)),
    ),
}


@pytest.mark.parametrize("case", list(MANIFEST_CASES))
def test_manifest_problems_are_named_and_the_article_still_loads(tmp_path, case):
    entries, warnings, expected = MANIFEST_CASES[case]
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.csv").write_text("a,b\n", encoding="utf-8")
    write_manifest(tmp_path, *entries)
    loaded = load_corpus(tmp_path)
    assert list(loaded.warnings) == warnings
    (article,) = loaded.articles
    assert (article.id, article.title, article.outlet, article.date) == expected
    assert article.text.split("\n\n")[-1] == "In Almaty wurde am Montag über Öl verhandelt."


# (manifest text, the warning)
BROKEN_MANIFESTS = [
    ("[[article]\nid = ", "manifest.toml: ignored, Expected ']]' at the end of an array"),
    ("", "manifest.toml: ignored, empty file"),
    ('title = "x"\n', "manifest.toml: no [[article]] tables"),
    ('article = "x"\n', "manifest.toml: 'article' should be [[article]] tables, not the text"),
    ('[article]\nid = "a"\n', "manifest.toml: 'article' should be [[article]] tables, not a table"),
    ("article = [1, 2]\n", "manifest.toml: article #1 ignored: a table, not the number 1"),
]


@pytest.mark.parametrize(("text", "warning"), BROKEN_MANIFESTS)
def test_a_manifest_of_the_wrong_shape_is_named_and_metadata_is_guessed(tmp_path, text, warning):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "manifest.toml").write_text(text, encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert any(w.startswith(warning) for w in loaded.warnings), loaded.warnings
    assert [(a.id, a.title) for a in loaded.articles] == [("good", "Kasachstan und Russland")]


def test_a_url_in_the_manifest_must_be_a_web_address(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "more.txt").write_text(NO_PLACES, encoding="utf-8")
    write_manifest(
        tmp_path,
        {"id": "good", "file": "good.txt", **FULL_ENTRY, "url": "javascript:alert(1)"},
        {"id": "more", "file": "more.txt", **FULL_ENTRY, "url": "https://example.org/a"},
    )
    loaded = load_corpus(tmp_path)
    assert [a.url for a in loaded.articles] == [None, "https://example.org/a"]
    assert loaded.warnings == (
        "manifest.toml: article #1 'good' (file 'good.txt'): 'url' should start with http:// or "
        "https://, not the text 'javascript:alert(1)' (ignored)",
    )


# --- duplicate article ids -----------------------------------------------------------------------


def test_duplicate_article_ids_get_unique_ids_and_a_warning_naming_both_files(tmp_path):
    texts = {
        "a.txt": GOOD,
        "b.txt": "Astana\n\nIn Astana wurde über Gas verhandelt.\n",
        "c.txt": "Baikonur\n\nIn Baikonur startete eine Rakete.\n",
        "d.txt": "Aktau\n\nIn Aktau liegt ein Hafen am Kaspischen Meer.\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    write_manifest(
        tmp_path,
        *({"id": "x", "file": name, **FULL_ENTRY} for name in ("a.txt", "b.txt", "c.txt")),
        {"id": "x-2", "file": "d.txt", **FULL_ENTRY},  # the id a renamed one would take
    )
    loaded = load_corpus(tmp_path)
    assert [(a.id, a.source_file) for a in loaded.articles] == [
        ("x", "a.txt"), ("x-2", "b.txt"), ("x-3", "c.txt"), ("x-2-2", "d.txt"),
    ]  # fmt: skip
    assert loaded.warnings == (
        "b.txt: article id 'x' is already used by 'a.txt'; this article gets the id 'x-2'",
        "c.txt: article id 'x' is already used by 'a.txt'; this article gets the id 'x-3'",
        "d.txt: article id 'x-2' is already used by 'b.txt'; this article gets the id 'x-2-2'",
    )
    index = index_corpus(tmp_path)
    catalogue = dashboard.catalogue_of(index.collection, index.corpus.articles)
    assert catalogue.article_ids == {"x", "x-2", "x-3", "x-2-2"}


# --- an article with no places, a corpus with no articles -----------------------------------------


def test_an_article_with_no_places_loads_and_maps_nothing(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "quiet.txt").write_text(NO_PLACES, encoding="utf-8")
    write_manifest(
        tmp_path,
        {"id": "good", "file": "good.txt", **FULL_ENTRY},
        {"id": "quiet", "file": "quiet.txt", **FULL_ENTRY, "title": "Ein Tag ohne Orte"},
    )
    index = index_corpus(tmp_path)
    assert [a.id for a in index.corpus.articles] == ["good", "quiet"]
    assert index.corpus.warnings == ()
    quotes = [q for f in index.collection["features"] for q in f["properties"]["quotes"]]
    assert {q["article_id"] for q in quotes} == {"good"}
    catalogue = dashboard.catalogue_of(index.collection, index.corpus.articles)
    state, notices = dashboard.parse_query({"article": "quiet"}, catalogue)
    assert (state.article, notices) == ("quiet", [])
    visible = dashboard.filter_features(index.collection["features"], state, catalogue)
    assert visible and {f["properties"]["layer"] for f in visible} <= {"countries", "borders",
                                                                      "pipelines", "sites",
                                                                      "alliances", "routes"}
    assert not any(f["properties"]["quotes"] for f in visible)


def test_an_empty_corpus_folder_is_named_and_indexes_to_the_base_map(tmp_path):
    index = index_corpus(tmp_path)
    assert index.corpus.articles == ()
    assert index.corpus.warnings == (
        f"no article files (.txt or .md) in the corpus folder {tmp_path}",
    )
    assert any(f["properties"]["layer"] == "countries" for f in index.collection["features"])
    assert not any(f["properties"]["quotes"] for f in index.collection["features"])


def write_empty_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_all_broken_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "latin1.txt").write_bytes("Grüße aus Köln".encode("latin-1"))
    return folder


def test_a_folder_of_only_broken_files_says_so_first_then_why_each_failed(tmp_path):
    loaded = load_corpus(write_all_broken_corpus(tmp_path))
    assert loaded.articles == ()
    assert loaded.warnings[0] == "none of the 3 article file(s) could be loaded"
    assert [w.split(":")[0] for w in loaded.warnings[1:]] == [
        "binary.txt", "empty.txt", "latin1.txt",
    ]  # fmt: skip


# --- link parameters -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index():
    return index_corpus(DEFAULT_CORPUS_DIR)


@pytest.fixture(scope="module")
def catalogue(index):
    return dashboard.catalogue_of(index.collection, index.corpus.articles)


HUGE = "x" * 100_000
# (parameters, notices in full, the state's place and themes)
LINK_CASES = {
    "unknown place, article, outlet": (
        {"place": "atlantis", "article": "nope", "outlet": "Bild"},
        ["No place with id 'atlantis'; nothing selected.", "No article with id 'nope'; showing "
         "all.", "No outlet 'Bild'; showing all."],
        None,
    ),
    "100 kB value": (
        {"place": HUGE},
        ["Link parameter 'place' is too long (100,000 characters, at most 200) and was ignored."],
        None,
    ),
    "100 kB unknown key": (
        {HUGE: "1"},
        [f"Unknown link parameter '{'x' * 40}…' ignored."],
        None,
    ),
    "thousands of unknown keys": (
        {f"k{i}": "1" for i in range(5_000)},
        ["Unknown link parameters ignored: 'k0', 'k1', 'k2', 'k3', 'k4' and 4,995 more."],
        None,
    ),
    "repeated keys": (
        {"place": ["almaty", "astana"], "themes": ["energy", "security"]},
        ["Link parameter 'place' was given more than once; the first is used.",
         "Link parameter 'themes' was given more than once; the first is used."],
        "almaty",
    ),
    "garbage numbers": (
        {"lat": "1e999", "lon": "nan", "zoom": "0x10"},
        ["Map view (lat, lon, zoom) is incomplete or out of range; ignored."],
        None,
    ),
    "control and direction characters": (
        {"place": "a\nb\u202ec\x00"},
        ["No place with id 'a\\\\nb\\\\u202ec\\\\x00'; nothing selected."],
        None,
    ),
    "Markdown": (
        {"outlet": "![x](http://evil.example/q.png)"},
        ["No outlet '\\!\\[x\\](http\\:\u2060//evil.example/q.png)'; showing all."],
        None,
    ),
    "reversed dates": (
        {"from": "2025-01-01", "to": "2022-01-01"},
        ["Link parameter 'from' (2025-01-01) is after 'to' (2022-01-01); both ignored."],
        None,
    ),
    "dates not dates": (
        {"from": "99999-01-01", "to": "gestern"},
        ["Link parameter 'from' is not a date (YYYY-MM-DD); ignored.",
         "Link parameter 'to' is not a date (YYYY-MM-DD); ignored."],
        None,
    ),
}


@pytest.mark.parametrize("case", list(LINK_CASES))
def test_bad_link_parameters_are_ignored_with_clear_notices(catalogue, case):
    params, notices, place = LINK_CASES[case]
    state, got = dashboard.parse_query(params, catalogue)
    assert got == notices
    assert state.place == place
    assert sum(len(notice) for notice in got) < 300


def test_a_date_range_outside_the_articles_is_ignored_with_a_notice(catalogue):
    first, last = catalogue.dates
    later, earlier = last + dt.timedelta(days=1), first - dt.timedelta(days=1)
    state, notices = dashboard.parse_query({"from": later.isoformat()}, catalogue)
    assert state.date_from is None
    assert notices == [
        f"Link parameter 'from' ({later}) is after the newest article ({last}); ignored."
    ]
    state, notices = dashboard.parse_query({"to": earlier.isoformat()}, catalogue)
    assert state.date_to is None
    assert notices == [
        f"Link parameter 'to' ({earlier}) is before the oldest article ({first}); ignored."
    ]


@pytest.mark.parametrize("themes", ["", ",,,", " , "])
def test_an_empty_theme_list_means_every_theme_off_as_the_app_writes_it(catalogue, themes):
    assert dashboard.to_query(ViewState(themes=())) == {"themes": ""}
    state, notices = dashboard.parse_query({"themes": themes}, catalogue)
    assert (state.themes, notices) == ((), [])


# --- in the app: AppTest -------------------------------------------------------------------------


def run_app(monkeypatch, corpus: Path | None = None, **params) -> AppTest:
    """Run app.py (on ``corpus`` if given) with link ``params``; return the finished AppTest."""
    if corpus is not None:
        monkeypatch.setenv("KZGEO_CORPUS", str(corpus))
    else:
        monkeypatch.delenv("KZGEO_CORPUS", raising=False)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for key, value in params.items():
        app.query_params[key] = value
    return app.run()


def map_script(app: AppTest) -> str:
    """Return the Leaflet script of the app's one map (fail if there is none)."""
    maps = [
        element
        for element in app.get("component_instance")
        if element.proto.component_name.endswith("st_folium")
    ]
    assert len(maps) == 1, "the map is missing"
    return json.loads(maps[0].proto.json_args)["script"]


def drawn_layers(script: str) -> set[str]:
    return set(re.findall(r'"layer":\s*"([a-z]+)"', script))


def assert_renders(app: AppTest) -> str:
    """Fail on an exception or a traceback in the page; return the map's script."""
    assert not app.exception, [e.message for e in app.exception]
    texts = [e.value for kind in ("markdown", "error", "warning", "info", "caption")
             for e in app.get(kind)]  # fmt: skip
    assert not [t for t in texts if "Traceback" in str(t)]
    script = map_script(app)
    assert "countries" in drawn_layers(script)
    return script


def warning_text(app: AppTest) -> str:
    """The warnings as Markdown shows them (backslash escapes dropped)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(w.value for w in app.warning))


BAD_CORPUS_WARNINGS = (
    "empty.txt: skipped, empty file",
    "binary.txt: skipped, binary file (contains NUL bytes), not text",
    "latin1.txt: skipped, not UTF-8 text (byte 0xfc at offset 2); save it as UTF-8",
    "utf16.txt: skipped, UTF-16 text, not UTF-8; save it as UTF-8",
    "huge.txt: skipped, too large (5.0 MB; the limit is 5 MB)",
    "twin.txt: article id 'good' is already used by 'good.txt'; this article gets the id 'good-2'",
    "'title' should be text, not the number 42 (ignored)",
    "'date' should be a date like 2024-04-22, not the text 'gestern' (ignored)",
    "manifest.toml: article 'gone' names file 'gone.txt', which is not in the corpus folder",
    "manifest.toml: article #6 'nofile' ignored: no 'file'",
)


def write_bad_corpus(folder: Path) -> Path:
    """Write broken files, a faulty manifest, a duplicate id and an article without places."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "quiet.txt").write_text(NO_PLACES, encoding="utf-8")
    (folder / "twin.txt").write_text("Astana\n\nIn Astana wurde über Gas verhandelt.\n", "utf-8")
    (folder / "rocket.txt").write_text("Baikonur\n\nIn Baikonur startete eine Rakete.\n", "utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "latin1.txt").write_bytes("Grüße aus Köln".encode("latin-1"))
    (folder / "utf16.txt").write_bytes(GOOD.encode("utf-16"))
    (folder / "huge.txt").write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    write_manifest(
        folder,
        {"id": "good", "file": "good.txt", **FULL_ENTRY, "title": "Gutes Öl"},
        {"id": "quiet", "file": "quiet.txt", **FULL_ENTRY, "title": "Ein Tag ohne Orte"},
        {"id": "good", "file": "twin.txt", **FULL_ENTRY, "title": "Zwilling"},
        {"id": "rocket", "file": "rocket.txt", **FULL_ENTRY, "title": 42, "date": "gestern"},
        {"id": "gone", "file": "gone.txt", **FULL_ENTRY},
        {"id": "nofile", **FULL_ENTRY},
    )
    return folder


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> Path:
    return write_bad_corpus(tmp_path_factory.mktemp("bad-corpus"))


def test_loading_in_worker_processes_gives_the_same_articles_and_warnings(bad_corpus):
    from kzgeo.config import DEFAULT_CORPUS_DIR

    for folder in (bad_corpus, DEFAULT_CORPUS_DIR):
        alone = load_corpus(folder)
        assert load_corpus(folder, workers=2, min_bytes=0) == alone
        assert alone.articles and (folder == DEFAULT_CORPUS_DIR or alone.warnings)


def test_app_names_every_corpus_problem_and_still_maps_the_good_articles(monkeypatch, bad_corpus):
    app = run_app(monkeypatch, bad_corpus)
    script = assert_renders(app)
    warnings = warning_text(app)
    for expected in BAD_CORPUS_WARNINGS:
        assert expected in warnings
    assert "places" in drawn_layers(script) and "sites" in drawn_layers(script)
    assert "Articles (4)" in [h.value for h in app.subheader]
    listed = " ".join(m.value for m in app.markdown)
    assert "Ein Tag ohne Orte" in listed and "Zwilling" in listed


def test_app_with_the_article_without_places_selected_shows_no_places(monkeypatch, bad_corpus):
    app = run_app(monkeypatch, bad_corpus, article="quiet")
    script = assert_renders(app)
    assert app.session_state["article"] == "quiet"
    assert "places" not in drawn_layers(script)
    assert not app.info  # no notice: the article exists


@pytest.mark.parametrize(
    ("make", "first_warning"),
    [
        (write_empty_corpus, "no article files (.txt or .md) in the corpus folder"),
        (write_all_broken_corpus, "none of the 3 article file(s) could be loaded"),
    ],
    ids=["empty folder", "only broken files"],
)
def test_app_with_no_loadable_article_says_why_and_draws_the_base_map(
    monkeypatch, tmp_path, make, first_warning
):
    app = run_app(monkeypatch, make(tmp_path), place="almaty")
    script = assert_renders(app)
    assert first_warning in warning_text(app)
    assert "Articles (0)" in [h.value for h in app.subheader]
    assert "No place with id 'almaty'; nothing selected." in [i.value for i in app.info]
    assert "places" not in drawn_layers(script)


def test_app_with_huge_garbage_and_repeated_link_parameters_still_renders(monkeypatch):
    params = {"place": HUGE, "lat": "nan", "lon": "x", "zoom": "1e400", "k" * 5000: "1"}
    app = run_app(monkeypatch, None, **params)
    assert_renders(app)
    notices = [i.value for i in app.info]
    assert notices == [
        "Link parameter 'place' is too long (100,000 characters, at most 200) and was ignored.",
        f"Unknown link parameter '{'k' * 40}…' ignored.",
        "Map view (lat, lon, zoom) is incomplete or out of range; ignored.",
    ]
    assert "Sources" in [h.value for h in app.subheader]


@pytest.mark.parametrize(
    "params",
    [{"from": "2025-01-01", "to": "2022-01-01"}, {"from": "2099-01-01"}, {"to": "1900-01-01"}],
)
def test_app_with_a_date_range_that_would_hide_everything_renders_with_a_notice(
    monkeypatch, params
):
    app = run_app(monkeypatch, None, **params)
    assert_renders(app)
    assert len(app.info) == 1 and "ignored" in app.info[0].value


@pytest.mark.parametrize("params", [{"from": "1900-01-01"}, {"to": "2099-01-01"}])
def test_app_with_dates_reaching_past_the_articles_renders(monkeypatch, params):
    assert_renders(run_app(monkeypatch, None, **params))


# --- in a real browser --------------------------------------------------------------------------


def open_app(app_page, url: str, query: str = ""):
    """Open the app, wait for the script and the map; fail on a traceback; return the page."""
    page = app_page.open(url, query).page
    assert app_page.wait_for_map(min_paths=11) > 10
    app_page.wait_idle()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.locator('[data-testid="stApp"]').inner_text()
    return page


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_page_names_every_corpus_problem_and_lists_the_article_without_places(
    start_streamlit, bad_corpus, app_page
):
    page = open_app(app_page, start_streamlit(corpus=bad_corpus))
    warning = page.locator('[data-testid="stAlertContentWarning"]').inner_text()
    for expected in BAD_CORPUS_WARNINGS:
        assert expected in warning
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Articles (4)" in main and "Ein Tag ohne Orte" in main
    app_page.screenshot("bad-corpus")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


@pytest.mark.browser
@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("make", "first_warning"),
    [
        (write_empty_corpus, "no article files (.txt or .md) in the corpus folder"),
        (write_all_broken_corpus, "none of the 3 article file(s) could be loaded"),
    ],
    ids=["empty folder", "only broken files"],
)
def test_page_with_no_loadable_article_says_why_and_draws_the_map(
    start_streamlit, tmp_path, app_page, make, first_warning
):
    page = open_app(app_page, start_streamlit(corpus=make(tmp_path / "corpus")))
    assert first_warning in page.locator('[data-testid="stAlertContentWarning"]').inner_text()
    assert page.get_by_text("Articles (0)").count() == 1
    app_page.screenshot("no-articles-" + first_warning.split()[0])
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_page_with_huge_garbage_and_repeated_link_parameters_shows_notices_and_renders(
    streamlit_app, app_page
):
    last = max(a.date for a in load_corpus(DEFAULT_CORPUS_DIR).articles if a.date)
    params = [("place", HUGE), ("place", "almaty"), ("themes", "energy"), ("themes", "security"),
              ("lat", "1e999"), ("lon", "nan"), ("zoom", "abc"), ("from", "2099-01-01")]
    params += [(f"k{i}", "1") for i in range(50)]
    page = open_app(app_page, streamlit_app, "?" + urlencode(params))
    notices = page.locator('[data-testid="stAlertContentInfo"]').all_inner_texts()
    assert notices == [
        "Link parameter 'place' is too long (100,000 characters, at most 200) and was ignored.",
        "Link parameter 'themes' was given more than once; the first is used.",
        "Unknown link parameters ignored: 'k0', 'k1', 'k2', 'k3', 'k4' and 45 more.",
        f"Link parameter 'from' (2099-01-01) is after the newest article ({last}); ignored.",
        "Map view (lat, lon, zoom) is incomplete or out of range; ignored.",
    ]
    page.locator('[data-testid="stHeading"]').filter(has_text="Sources").wait_for()
    app_page.screenshot("bad-link-parameters")
    app_page.log.assert_offline()
    app_page.log.assert_no_console_errors()


# --- found while testing: theme-less places, names right after markup ----------------------------


def test_every_quoted_place_is_on_the_map_with_every_theme_on(index, catalogue):
    visible = {f["id"] for f in dashboard.filter_features(
        index.collection["features"], ViewState(), catalogue)}  # fmt: skip
    quoted = {f["id"] for f in index.collection["features"] if f["properties"]["quotes"]}
    assert quoted <= visible, sorted(quoted - visible)


def test_a_place_name_right_after_markup_is_found():
    from kzgeo.corpus import Article
    from kzgeo.gazetteer import load_gazetteer
    from kzgeo.resolve import geoparse

    texts = ["Die Pipeline führt nach <b><i>Almaty</div>.", "Die Pipeline führt nach Almaty</div>."]
    articles = [Article(f"a{i}", "T", "O", None, None, "de", "a.txt", text)
                for i, text in enumerate(texts)]  # fmt: skip
    quotes = [q for p in geoparse(articles, load_gazetteer()).places for q in p.quotes]
    assert sorted(q.article_id for q in quotes if q.surface == "Almaty") == ["a0", "a1"]
