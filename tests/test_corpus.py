"""The corpus loader on the real corpus and on folders of broken files."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kzgeo.config import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from kzgeo.corpus import (
    MAX_FILE_BYTES,
    PARAGRAPH_BREAK,
    STRUCTURAL_RULES,
    CorpusError,
    load_corpus,
    load_rules,
)


@pytest.fixture(scope="module")
def bundled():
    return load_corpus(DEFAULT_CORPUS_DIR)


# Every article of the bundled corpus, as the text establishes it (see corpus/manifest.toml).
EXPECTED_ARTICLES = [
    ("rnd-2022-09-xi-kasachstan", dt.date(2022, 9, 13), "Kasachstan sucht die Nähe zu Peking"),
    ("ipg-2024-04-vermittler-gesucht", dt.date(2024, 4, 22), "Vermittler gesucht"),
    ("portnikov-2025-11-16", dt.date(2025, 11, 16), "Alijew schließt sich Zentralasien an"),
    ("portnikov-2025-07-01", dt.date(2025, 7, 1), "Tokajew bestraft Russland"),
    ("portnikov-2025-06-05", dt.date(2025, 6, 5), "Putin und Nasarbajew gegen Tokajew"),
    ("portnikov-2025-05-19", dt.date(2025, 5, 19), "Kasachstan deckt die Mörder von Sadykov"),
    ("portnikov-2025-04-22", dt.date(2025, 4, 22), "Ukraine tauscht Kasachen aus"),
    ("portnikov-2025-04-19", dt.date(2025, 4, 19), "Putin rechtfertigt sich vor Tokajew"),
    ("portnikov-2025-04-15", dt.date(2025, 4, 15), "Lawrow bedroht Kasachen"),
    ("portnikov-2025-04-10", dt.date(2025, 4, 10), "Kasachen kämpfen für Putin."),
    ("watson-2022-09-kalte-schulter", dt.date(2022, 9, 30), "Wie Kasachstan Russland die ganz"),
    ("karenina-2022-01-risiko", dt.date(2022, 1, 10), "Kasachstan: Russland spielt auf Risiko"),
]


def test_corpus_splits_into_twelve_articles_with_the_repeated_column_kept_once(bundled):
    assert [article.id for article in bundled.articles] == [row[0] for row in EXPECTED_ARTICLES]
    assert len(bundled.duplicates) == 1
    assert "Putin und Nasarbajew gegen Tokajew" in bundled.duplicates[0]
    assert bundled.warnings == ()


@pytest.mark.parametrize(("article_id", "date", "title_start"), EXPECTED_ARTICLES)
def test_each_article_has_its_title_date_outlet_and_body(bundled, article_id, date, title_start):
    article = next(a for a in bundled.articles if a.id == article_id)
    assert article.date == date
    assert article.title.startswith(title_start)
    assert article.outlet and article.outlet != "unknown outlet"
    assert article.language == "de"
    assert len(article.text) > 3000
    assert not article.text.split(PARAGRAPH_BREAK)[0].startswith(article.title + "\n")
    assert article.text.split(PARAGRAPH_BREAK)[0] != article.title


def test_series_columns_carry_the_author_from_their_header(bundled):
    columns = [a for a in bundled.articles if a.id.startswith("portnikov-")]
    assert len(columns) == 8
    assert {a.author for a in columns} == {"Vitaly Portnikov"}
    assert {a.source_file for a in columns} == {"002_20f96af551f0d957.txt"}


# Boilerplate found by reading every source file; none of it may reach a body.
BOILERPLATE_SEEN_IN_THE_CORPUS = [
    "Weiterlesen nach der Anzeige",  # RND ad slots
    "Jetzt mit RND+ lesen",  # RND paywall teaser
    "Melinda French Gates",  # promo block for another RND story
    "ASIEN 22.04.2024",  # IPG rubric/byline header
    "Die von Kasachstan eingenommene Position zum Krieg",  # IPG pull quote (layout)
    "| Vitaly Portnikov",  # column headers
    "Originalquelle",  # translation blog footer
    "Titel des Originals",
    "uebersetzungenzuukraine.data.blog",
    "pic.twitter.com",  # embedded tweets
    "@turgutalpboyraz",
    "Avrasya Ekonomi Birliği",
    "Bild: keystone",  # watson photo credits and captions
    "Bild: Getty",
    "in dunkelblau eingefärbt",  # caption of an embedded map
    "Football news",  # trailing tickers
    "Hazard hat in Lille",
    "Mobilité internationale",
    "Haaland",
    "Russische Soldaten in Kasachstan 7.1.22",  # KARENINA photo captions
    "Hilfe für Tokajew: Russische Soldaten nach Ankunft",
    "Wir danken dem Autor",  # republication credit
    "Übersetzung: KARENINA",
    "Nichts verpassen",  # newsletter prompt
    "Newsletter",
]


@pytest.mark.parametrize("snippet", BOILERPLATE_SEEN_IN_THE_CORPUS)
def test_no_boilerplate_reaches_an_article_body(bundled, snippet):
    assert not [a.id for a in bundled.articles if snippet in a.text]


RULE_IDS = [rule.id for rule in load_rules()[0]] + [row[0] for row in STRUCTURAL_RULES]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_boilerplate_rule_fires_on_the_real_corpus_and_nothing_it_removed_survives(
    bundled, rule_id
):
    removed = [r for r in bundled.removed if r.rule_id == rule_id]
    assert removed, f"rule {rule_id} removed nothing from the real corpus"
    bodies = "\n".join(a.text for a in bundled.articles)
    for removal in removed:
        if rule_id in {"repeated-headline", "closing-signature"}:
            continue  # a headline or a name may be quoted in a body on purpose
        assert removal.text not in bodies


def test_bodies_keep_real_text_that_looks_like_boilerplate(bundled):
    bodies = {a.id: a.text for a in bundled.articles}
    # a sentence that starts with the headline's words is body text, not a repeated headline
    assert bodies["portnikov-2025-04-10"].startswith("Kasachen kämpfen für Putin. So lautete")
    # subheadings stay; they are the article's own words
    assert "In Kasachstan leben 275.000 Uiguren" in bodies["rnd-2022-09-xi-kasachstan"]
    assert "Warum Tokajew gerettet werden muss" in bodies["karenina-2022-01-risiko"]


def test_hard_wrapped_lines_are_folded_into_paragraphs(bundled):
    ipg = next(a for a in bundled.articles if a.id == "ipg-2024-04-vermittler-gesucht")
    assert "Wirtschafts- und Handelsbeziehungen" in ipg.text
    assert "„quasi-staatliche Gebiete“" in ipg.text
    assert "Wirtschaftsforum in St. Petersburg im Juni 2022" in ipg.text
    assert all("\n" not in paragraph for paragraph in ipg.text.split(PARAGRAPH_BREAK))


def test_paragraph_offsets_slice_back_to_the_same_text(bundled):
    for article in bundled.articles:
        start = 0
        for paragraph in article.text.split(PARAGRAPH_BREAK):
            end = start + len(paragraph)
            assert article.text[start:end] == paragraph
            start = end + len(PARAGRAPH_BREAK)
        assert start - len(PARAGRAPH_BREAK) == len(article.text)


GOOD_ARTICLE = "Kasachstan und Russland\n\nIn Almaty wurde am Montag über Öl verhandelt.\n"


def write_broken_corpus(folder: Path) -> None:
    (folder / "good.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text(" \n\n \t\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "latin1.txt").write_bytes("Grüße aus Köln".encode("latin-1"))
    (folder / "huge.txt").write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    (folder / "notes.csv").write_text("not,an,article", encoding="utf-8")


def test_broken_files_are_skipped_with_a_warning_naming_file_and_reason(tmp_path):
    write_broken_corpus(tmp_path)
    loaded = load_corpus(tmp_path)
    assert [a.source_file for a in loaded.articles] == ["good.txt"]
    warnings = "\n".join(loaded.warnings)
    assert "empty.txt: skipped, empty file" in warnings
    assert "blank.txt: skipped, no text" in warnings
    assert "binary.txt: skipped, binary file" in warnings
    assert "latin1.txt: skipped, not UTF-8 text (byte 0xfc at offset 2)" in warnings
    assert "huge.txt: skipped, too large" in warnings
    assert "notes.csv" not in warnings


def test_a_file_without_manifest_entry_gets_guessed_metadata_and_a_warning(tmp_path):
    (tmp_path / "neu.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    loaded = load_corpus(tmp_path)
    (article,) = loaded.articles
    assert article.id == "neu"
    assert article.title == "Kasachstan und Russland"
    assert article.text == "In Almaty wurde am Montag über Öl verhandelt."
    assert any("no manifest entry" in w for w in loaded.warnings)


def test_a_broken_manifest_is_reported_and_the_articles_still_load(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    (tmp_path / "manifest.toml").write_text("[[article]\nid = ", encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert len(loaded.articles) == 1
    assert any(w.startswith("manifest.toml: ignored") for w in loaded.warnings)


def test_a_wrong_manifest_field_is_ignored_with_a_warning_and_the_rest_of_the_entry_used(
    tmp_path,
):
    (tmp_path / "good.txt").write_text(GOOD_ARTICLE, encoding="utf-8")
    (tmp_path / "manifest.toml").write_text(
        '[[article]]\nid = "x"\nfile = "good.txt"\ntitle = "T"\noutlet = "O"\ndate = "gestern"\n',
        encoding="utf-8",
    )
    loaded = load_corpus(tmp_path)
    assert loaded.warnings == (
        "manifest.toml: article #1 'x' (file 'good.txt'): 'date' should be a date like "
        "2024-04-22, not the text 'gestern' (ignored)",
    )
    (article,) = loaded.articles
    assert (article.id, article.title, article.outlet, article.date) == ("x", "T", "O", None)


def test_a_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nowhere")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kzgeo", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "articles" in result.stdout


def test_cli_articles_prints_one_line_per_article():
    result = run_cli("articles")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(EXPECTED_ARTICLES)
    assert lines[1].startswith("ipg-2024-04-vermittler-gesucht  2024-04-22  IPG-Journal")


def test_cli_missing_corpus_is_a_message_not_a_traceback(tmp_path):
    result = run_cli("articles", "--corpus", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "error: corpus folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reads_the_corpus_folder_from_the_environment(tmp_path):
    write_broken_corpus(tmp_path)
    result = run_cli("articles", env={"KZGEO_CORPUS": str(tmp_path)})
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1
    assert "warning: binary.txt: skipped" in result.stderr
