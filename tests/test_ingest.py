"""Bring your own article (#8): extraction, metadata, cleaning, English geoparsing, `kzgeo add`."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kzgeo.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.corpus import MANIFEST_NAME, load_corpus
from kzgeo.gazetteer import load_gazetteer
from kzgeo.ingest import (
    MAX_INPUT_BYTES,
    MAX_TEXT_CHARS,
    IngestError,
    add_to_corpus,
    append_manifest_entry,
    extract_text,
    geoparse_new,
    guess_metadata,
    make_article,
    new_place_features,
)
from kzgeo.recognize import find_mentions

DATA = Path(__file__).parent / "data"
HTML_PAGE = DATA / "article.html"
SEED_FILE = "001_60172de1cc37bdde.txt"  # one real corpus file ("Vermittler gesucht", IPG)

ENGLISH = (
    "Kazakhstan looks west\n\n"
    "Kazakhstan's President Kassym-Jomart Tokayev flew to Moscow on Monday. "
    "Mr. Tokayev returned to Astana two days later, the U.S. embassy said.\n\n"
    "The Caspian port of Aktau has doubled its container traffic since 2022. "
    "Split between two markets, Kazakh exporters are looking for new routes. "
    "Reading the figures, analysts expect more growth."
)
GERMAN = (
    "Die Häfen am Kaspischen Meer\n\n"
    "Der Hafen von Aktau wächst schneller als erwartet. "
    "In Atyrau entstehen neue Lagerhallen für die Ölindustrie."
)


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


@pytest.fixture(scope="module")
def page_text() -> str:
    return extract_text(HTML_PAGE.read_bytes(), HTML_PAGE.name)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file of ``folder`` (hidden temp files included) with its bytes."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def corpus_folder(tmp_path: Path) -> Path:
    """Return a corpus folder holding one real article and its manifest entry (with comments)."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(DEFAULT_CORPUS_DIR / SEED_FILE, folder / SEED_FILE)
    manifest = (DEFAULT_CORPUS_DIR / MANIFEST_NAME).read_text(encoding="utf-8")
    header, *blocks = re.split(r"(?m)^(?=\[\[article\]\]$)", manifest)
    kept = [block for block in blocks if f'file = "{SEED_FILE}"' in block]
    (folder / MANIFEST_NAME).write_text(header + "".join(kept), encoding="utf-8")
    assert load_corpus(folder).warnings == ()
    return folder


# --------------------------------------------------------------------------- extraction
def test_html_keeps_the_article_paragraphs(page_text):
    paragraphs = page_text.split("\n\n")
    assert paragraphs[0] == "Kasachstans Häfen am Kaspischen Meer wachsen"
    assert paragraphs[1].startswith("Seit Russland als Transitland an Bedeutung verliert")
    for start in ("Der Hafen von Aktau hat", "In Atyrau, dem Zentrum", "Die Regierung in Astana",
                  "Ob der Korridor die Erwartungen erfüllt"):
        assert sum(p.startswith(start) for p in paragraphs) == 1, start


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Cookies",  # consent banner
        "Wirtschaft",  # navigation
        "Bischkek",  # navigation link
        "Dubai",  # advert image
        "Anzeige",  # advert label
        "Abo",  # inline promo
        "Mehr zum Thema",  # related articles
        "Taschkent",  # related article headline
        "Schymkent",  # reader comment
        "Turkmenbaschi",  # reader comment
        "Newsletter",  # newsletter box
        "Impressum",  # footer
        "Steppenbote Medien GmbH",  # footer
        "Containerkräne",  # photo caption
        "window.dataLayer",  # script
    ],
)
def test_html_drops_page_boilerplate(page_text, boilerplate):
    assert boilerplate not in page_text


def test_markdown_loses_its_markup():
    data = "# Aktau wächst\n\n**Der Hafen** von [Aktau](https://example.kz) wächst.\n".encode()
    assert extract_text(data, "notiz.md") == "Aktau wächst\n\nDer Hafen von Aktau wächst."


def test_text_file_is_read_as_utf8_with_bom():
    assert extract_text("\ufeffAstana\r\nAlmaty\n".encode(), "a.TXT") == "Astana\nAlmaty"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "leer.txt", "is empty"),
        (b" \n\t\n", "leer.txt", "The text is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bild.txt", "binary"),
        ("Zürich".encode("latin-1"), "alt.txt", "not UTF-8"),
        (b"%PDF-1.7", "bericht.pdf", "Unsupported file type '.pdf'"),
        (b"PK\x03\x04", "bericht.docx", "Unsupported file type '.docx'"),
        (b"Aktau", "README", "Unsupported file type 'no suffix'"),
        (b"x" * (MAX_TEXT_CHARS + 1), "lang.txt", "too long"),
        (b"x" * (MAX_INPUT_BYTES + 1), "riesig.txt", "too large"),
        (b"<html><head><title>Leer</title></head><body><script>var a = 1;</script></body></html>",
         "leer.html", "No article text"),
    ],
)
def test_unusable_input_gets_a_clear_message(data, filename, message):
    with pytest.raises(IngestError, match=message):
        extract_text(data, filename)


# --------------------------------------------------------------------------- metadata
def test_metadata_of_an_html_page(page_text):
    meta = guess_metadata(page_text, HTML_PAGE.read_bytes())
    assert meta == {
        "title": "Kasachstans Häfen am Kaspischen Meer wachsen",
        "outlet": "Steppenbote",
        "author": "Marta Kühn",
        "date": dt.date(2025, 3, 14),
        "language": "de",
    }


@pytest.mark.parametrize(
    ("text", "title", "date", "language"),
    [
        ("Aktau wächst\n\nAstana, 5. Januar 2024. Der Hafen von Aktau wächst.", "Aktau wächst",
         dt.date(2024, 1, 5), "de"),
        ("ASIEN 16.11.2025 | Vitaly Portnikov\n\nDer Präsident ist nicht in Moskau.", "",
         dt.date(2025, 11, 16), "de"),
        ("Published 2023-07-01\n\nThe port of Aktau is on the Caspian Sea.", "Published 2023-07-01",
         dt.date(2023, 7, 1), "en"),
        ("Ports boom\n\nMarch 3, 2023 - The port of Aktau said it has grown.", "Ports boom",
         dt.date(2023, 3, 3), "en"),
        ("Der Hafen von Aktau wächst. Er ist am Kaspischen Meer.", "", None, "de"),
        ("Astana\n\n30.02.2024 kein Datum, aber der Text ist deutsch.", "Astana", None, "de"),
    ],
)
def test_metadata_guessed_from_text(text, title, date, language):
    meta = guess_metadata(text)
    assert (meta["title"], meta["date"], meta["language"], meta["outlet"]) == (
        title, date, language, ""
    )


# --------------------------------------------------------------------------- articles
def test_make_article_cleans_with_the_corpus_rules():
    text = "Aktau wächst\n\nDer Hafen von\nAktau wächst.\n\nAnzeige\n\nAtyrau auch."
    article = make_article(text, "Aktau wächst", "Steppenbote", "2025-03-14", None, "M. Kühn")
    assert article.text == "Der Hafen von Aktau wächst.\n\nAtyrau auch."  # headline, ad gone
    assert article.id.startswith("user-aktau-wachst-") and len(article.id.rsplit("-", 1)[1]) == 8
    assert (article.title, article.outlet, article.author, article.date, article.language) == (
        "Aktau wächst", "Steppenbote", "M. Kühn", dt.date(2025, 3, 14), "de"
    )
    again = make_article(text, "Aktau wächst", "Other", None, "de")
    assert again.id == article.id  # same title and text, same id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "  "}, "title"),
        ({"date": "14.03.2025"}, "YYYY-MM-DD"),
        ({"date": "2025-02-30"}, "YYYY-MM-DD"),
        ({"language": "fr"}, "Unsupported language"),
        ({"text": ""}, "empty"),
        ({"text": "Anzeige"}, "No article text"),
    ],
)
def test_make_article_rejects_bad_input(kwargs, message):
    args = {"text": GERMAN, "title": "T", "outlet": "O", "date": "2025-03-14", "language": "de"}
    with pytest.raises(IngestError, match=message):
        make_article(**(args | kwargs))


def test_pasted_german_text_gives_new_places_with_the_pasted_sentences(gaz):
    article = make_article(GERMAN, "Häfen", "eigener Text", None, None)
    parsed = geoparse_new(article, gaz)
    quotes = {place.id: [q.text for q in place.quotes] for place in parsed.places}
    assert quotes == {
        "aktau": ["Der Hafen von Aktau wächst schneller als erwartet."],
        "atyrau": ["In Atyrau entstehen neue Lagerhallen für die Ölindustrie."],
        "caspian-sea": ["Die Häfen am Kaspischen Meer"],  # a sea is a place (issue 19)
    }
    features = new_place_features(parsed)
    assert {f["id"] for f in features} == {"aktau", "atyrau", "caspian-sea"}
    assert all(f["properties"]["new"] and f["geometry"]["type"] == "Point" for f in features)
    assert features[0]["properties"]["quotes"][0]["article_id"] == article.id


def test_html_page_quotes_only_its_article_text(gaz, page_text):
    meta = guess_metadata(page_text, HTML_PAGE.read_bytes())
    article = make_article(page_text, meta["title"], meta["outlet"], meta["date"], None)
    parsed = geoparse_new(article, gaz)
    ids = {place.id for place in parsed.places}
    assert {"aktau", "atyrau", "astana", "baku", "kazakhstan"} <= ids
    assert not ids & {"bishkek", "dubai", "tashkent", "shymkent", "turkmenbashi", "osh", "berlin"}
    for place in parsed.places:
        for quote in place.quotes:
            assert article.text[quote.start : quote.end] == quote.text
            assert quote.text in page_text


# --------------------------------------------------------------------------- English
def test_english_text_resolves_with_english_sentences(gaz):
    article = make_article(ENGLISH, "Kazakhstan looks west", "Own", "2025-01-01", None)
    assert article.language == "en"
    parsed = geoparse_new(article, gaz)
    quotes = {place.id: [q.text for q in place.quotes] for place in parsed.places}
    assert quotes["moscow"] == [
        "Kazakhstan's President Kassym-Jomart Tokayev flew to Moscow on Monday."
    ]
    assert quotes["astana"] == [
        "Mr. Tokayev returned to Astana two days later, the U.S. embassy said."
    ]
    assert quotes["aktau"] == [
        "The Caspian port of Aktau has doubled its container traffic since 2022."
    ]
    assert {"kazakhstan", "united-states"} <= set(quotes)
    assert not set(quotes) & {"split", "reading"}  # English words that are towns elsewhere


@pytest.mark.parametrize(
    ("sentence", "surface", "kind", "place_id"),
    [
        ("Kazakh exporters want new routes.", "Kazakh", "adjective", "kazakhstan"),
        ("Russian troops left.", "Russian", "adjective", "russia"),
        ("Uzbeks and Kazakhs met.", "Kazakhs", "demonym", "kazakhstan"),
        ("The Russian Federation signed.", "Russian Federation", "place", "russia"),
        ("The border between Russia and Kazakhstan is long.",
         "border between Russia and Kazakhstan", "place", "kz-ru-border"),
        ("Beijing and Tashkent agreed.", "Beijing", "place", "beijing"),
        ("The Kremlin said nothing.", "Kremlin", "place", "moscow"),
        ("The USSR collapsed.", "USSR", "place", "soviet-union"),
    ],
)
def test_english_forms(gaz, sentence, surface, kind, place_id):
    article = make_article(sentence, "t", "o", None, "en")
    found = [m for m in find_mentions(article, gaz) if m.surface == surface]
    assert [(m.kind, m.candidates[0]) for m in found] == [(kind, place_id)]


@pytest.mark.parametrize("word", ["Split", "Reading", "Bath", "Sale", "Nice", "Mobile", "Jackson"])
def test_english_words_that_are_towns_are_not_places_in_english(gaz, word):
    article = make_article(f"{word} is the word here, not a town.", "t", "o", None, "en")
    assert [m.surface for m in find_mentions(article, gaz)] == []


# --------------------------------------------------------------------------- corpus
def test_add_to_corpus_writes_text_and_manifest(corpus_folder):
    manifest_before = (corpus_folder / MANIFEST_NAME).read_text(encoding="utf-8")
    article = add_to_corpus(
        HTML_PAGE, corpus_folder, "Kasachstans Häfen am Kaspischen Meer wachsen", "Steppenbote",
        "2025-03-14", author="Marta Kühn",
    )
    manifest_after = (corpus_folder / MANIFEST_NAME).read_text(encoding="utf-8")
    assert manifest_after.startswith(manifest_before)  # comments and entries kept as they were
    saved = (corpus_folder / article.source_file).read_text(encoding="utf-8")
    assert "<" not in saved and "Impressum" not in saved and "Der Hafen von Aktau" in saved
    loaded = load_corpus(corpus_folder)
    assert loaded.warnings == ()
    assert loaded.articles[-1] == article
    assert (article.outlet, article.author, article.date, article.language) == (
        "Steppenbote", "Marta Kühn", dt.date(2025, 3, 14), "de"
    )
    assert sorted(p.name for p in corpus_folder.iterdir()) == sorted(
        [MANIFEST_NAME, SEED_FILE, article.source_file]
    )


def test_add_to_an_empty_folder_creates_the_manifest(tmp_path):
    source = tmp_path / "en.txt"
    source.write_text(ENGLISH, encoding="utf-8")
    folder = tmp_path / "empty"
    folder.mkdir()
    article = add_to_corpus(source, folder, "Kazakhstan looks west", "Own", "2025-01-02")
    assert article.language == "en"
    assert load_corpus(folder).articles == (article,)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("KZGEO_CORPUS", None)
    return subprocess.run(
        [sys.executable, "-m", "kzgeo", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
        env=env, timeout=300,
    )


def test_cli_add_then_export_finds_the_new_places(corpus_folder, tmp_path):
    source = tmp_path / "hafen.txt"
    source.write_text(GERMAN, encoding="utf-8")
    added = run_cli("add", str(source), "--title", "Die Häfen am Kaspischen Meer", "--outlet",
                    "Eigener Text", "--date", "2025-03-14", "--corpus", str(corpus_folder))
    assert added.returncode == 0, added.stderr
    assert added.stderr == ""
    out = tmp_path / "out.geojson"
    exported = run_cli("export", str(out), "--corpus", str(corpus_folder))
    assert exported.returncode == 0, exported.stderr
    assert "warning" not in exported.stderr
    features = {f["id"]: f for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    new_id = next(a.id for a in load_corpus(corpus_folder).articles if a.id.startswith("user-"))
    for place_id, sentence in [
        ("aktau", "Der Hafen von Aktau wächst schneller als erwartet."),
        ("atyrau", "In Atyrau entstehen neue Lagerhallen für die Ölindustrie."),
    ]:
        quotes = [
            q for q in features[place_id]["properties"]["quotes"] if q["article_id"] == new_id
        ]
        assert [(q["text"], q["title"], q["outlet"], q["date"]) for q in quotes] == [
            (sentence, "Die Häfen am Kaspischen Meer", "Eigener Text", "2025-03-14")
        ]
    # the corpus article is still there
    assert any(q["article_id"] == "ipg-2024-04-vermittler-gesucht"
               for q in features["astana"]["properties"]["quotes"])


COLUMNS = (
    "Erste Kolumne | Vitaly Portnikov. 01.07.2025.\n\nAktau wächst.\n\n"
    "Zweite Kolumne | Vitaly Portnikov. 02.07.2025.\n\nAtyrau wächst."
)


@pytest.mark.parametrize(
    ("file_text", "suffix", "changes", "message"),
    [
        (GERMAN, ".txt", {"date": "14.03.2025"}, "YYYY-MM-DD"),
        (GERMAN, ".txt", {"date": ""}, "publication date"),
        (GERMAN, ".txt", {"title": ""}, "title"),
        (GERMAN, ".txt", {"outlet": " "}, "outlet"),
        (GERMAN, ".txt", {"language": "fr"}, "Unsupported language"),
        (GERMAN, ".pdf", {}, "Unsupported file type"),
        ("", ".txt", {}, "empty"),
        (COLUMNS, ".txt", {}, "splits into 2 articles"),
        (None, ".txt", {}, "already holds this text"),  # the seed article's own text
    ],
)
def test_failing_add_leaves_the_corpus_unchanged(
    corpus_folder, tmp_path, file_text, suffix, changes, message
):
    source = tmp_path / f"quelle{suffix}"
    if file_text is None:
        shutil.copy(corpus_folder / SEED_FILE, source)
    else:
        source.write_text(file_text, encoding="utf-8")
    before = snapshot(corpus_folder)
    args = {"title": "Die Häfen", "outlet": "Eigener Text", "date": "2025-03-14"} | changes
    with pytest.raises(IngestError, match=message):
        add_to_corpus(source, corpus_folder, **args)
    assert snapshot(corpus_folder) == before


def test_adding_the_same_file_twice_fails(corpus_folder, tmp_path):
    source = tmp_path / "hafen.txt"
    source.write_text(GERMAN, encoding="utf-8")
    add_to_corpus(source, corpus_folder, "Die Häfen", "Eigener Text", "2025-03-14")
    before = snapshot(corpus_folder)
    with pytest.raises(IngestError, match="already"):
        add_to_corpus(source, corpus_folder, "Die Häfen", "Eigener Text", "2025-03-14")
    with pytest.raises(IngestError, match="already holds this text"):
        add_to_corpus(source, corpus_folder, "Anderer Titel", "Eigener Text", "2025-03-14")
    assert snapshot(corpus_folder) == before


def test_cli_add_error_is_one_line_without_traceback(corpus_folder, tmp_path):
    before = snapshot(corpus_folder)
    source = tmp_path / "hafen.txt"
    source.write_text(GERMAN, encoding="utf-8")
    result = run_cli("add", str(source), "--title", "T", "--outlet", "O", "--date", "16.11.2025",
                     "--corpus", str(corpus_folder))
    assert result.returncode == 2
    assert result.stderr.startswith("error: Invalid date '16.11.2025'")
    assert "Traceback" not in result.stderr
    missing = run_cli("add", str(tmp_path / "nope.txt"), "--title", "T", "--outlet", "O",
                      "--date", "2025-01-01", "--corpus", str(corpus_folder))
    assert missing.returncode == 2 and missing.stderr.startswith("error: Cannot read")
    assert snapshot(corpus_folder) == before


def test_manifest_append_keeps_text_and_refuses_broken_toml():
    current = "# Kommentar\n\n[[article]]\nid = \"a\"\nfile = \"a.txt\"\n"
    entry = {"id": "b", "file": "b.txt", "date": dt.date(2025, 1, 2)}
    text = append_manifest_entry(current, entry)
    assert text.startswith(current) and text.endswith('date = 2025-01-02\n')
    with pytest.raises(IngestError, match="not valid TOML"):
        append_manifest_entry("[[article]\nid = ", entry)
