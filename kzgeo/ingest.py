"""Bring your own article: text or HTML in, a cleaned Article (and a corpus entry) out.

``extract_text`` turns an uploaded file into plain text (HTML through trafilatura: the article
body only), ``guess_metadata`` prefills title, outlet, date and language, ``make_article``
cleans the text with the corpus rules, ``geoparse_new`` maps it, and ``add_to_corpus`` copies it
into a corpus folder with a manifest entry, both written atomically. ``fetch_article`` gets an
article by its web address (``kzgeo.fetch``: safely) and ``add_to_collection`` geoparses an
article and stores it in a collection (``kzgeo.store``) in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from kzgeo.corpus import (
    MANIFEST_NAME,
    WORD,
    Article,
    CorpusError,
    Section,
    UnreadableFile,
    body_fingerprint,
    build_article,
    check_url,
    guess_title,
    load_corpus,
    load_file,
    read_text_file,
    segment_file,
)
from kzgeo.dates import first_date, parse_day_month_year, parse_iso
from kzgeo.files import write_atomic
from kzgeo.ids import slugify
from kzgeo.resolve import Geoparse, geoparse

MAX_TEXT_CHARS = 200_000  # of extracted text: about 30 newspaper pages
MAX_INPUT_BYTES = 5_000_000  # of an uploaded file, before any parsing
LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "de"
ID_PREFIX = "user"
ID_SLUG_CHARS = 40
ID_HASH_CHARS = 8
DATE_SEARCH_CHARS = 1500  # a publication date stands near the top of a text


class IngestError(ValueError):
    """A text or file cannot be added; the message tells the user why and what to do."""


# --------------------------------------------------------------------------- extraction
MARKDOWN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE), ""),  # heading marks
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE), ""),  # block quotes
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.MULTILINE), ""),  # rules
)


def check_text(text: str) -> str:
    """Return ``text`` with unified line breaks; raise IngestError when empty or too long.

    >>> check_text("Aktau\\r\\nAtyrau ")
    'Aktau\\nAtyrau'
    >>> check_text("  ")
    Traceback (most recent call last):
    ...
    kzgeo.ingest.IngestError: The text is empty: paste or upload an article with some text.
    """
    unified = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not unified:
        raise IngestError("The text is empty: paste or upload an article with some text.")
    if len(unified) > MAX_TEXT_CHARS:
        raise IngestError(
            f"The text is too long ({len(unified):,} characters; the limit is "
            f"{MAX_TEXT_CHARS:,}). Split it into single articles."
        )
    return unified


def decode_text(data: bytes) -> str:
    """Return UTF-8 ``data`` as text; raise IngestError for binary or non-UTF-8 bytes.

    >>> decode_text("Baikonur".encode())
    'Baikonur'
    >>> decode_text(b"\\xff\\xfe")
    Traceback (most recent call last):
    ...
    kzgeo.ingest.IngestError: The file is not UTF-8 text (byte 0xff at offset 0); save it as UTF-8.
    """
    if b"\x00" in data:
        raise IngestError("The file is binary (it contains NUL bytes), not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8."
        ) from error


def strip_markdown(text: str) -> str:
    """Return Markdown ``text`` without its markup (headings, links, emphasis, images).

    >>> strip_markdown("# Aktau\\n\\n**Der Hafen** von [Aktau](https://x.kz) wächst.")
    'Aktau\\n\\nDer Hafen von Aktau wächst.'
    """
    for pattern, replacement in MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return text


def html_to_text(html: str) -> str:
    """Return the article text of an HTML page (trafilatura: no menus, ads, comments, tables).

    Each block of the main text becomes one paragraph; paragraphs are separated by blank lines.
    """
    import trafilatura

    extracted = trafilatura.extract(
        html,
        include_comments=False,
        include_tables=False,
        include_links=False,
        include_images=False,
        output_format="txt",
    )
    lines = (line.strip() for line in (extracted or "").splitlines())
    return "\n\n".join(line for line in lines if line)


def read_plain(data: bytes) -> str:
    """Return the text of a .txt file."""
    return decode_text(data)


def read_markdown(data: bytes) -> str:
    """Return the text of a .md file without its markup."""
    return strip_markdown(decode_text(data))


def read_html(data: bytes) -> str:
    """Return the article text of an .html file."""
    return html_to_text(decode_text(data))


# Which reader turns a file with this suffix into text (a new format is a new row).
READERS = {
    ".txt": read_plain,
    ".text": read_plain,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}
HTML_SUFFIXES = frozenset({".html", ".htm"})


def extract_text(data: bytes, filename: str) -> str:
    """Return the article text of an uploaded file; raise IngestError saying what is wrong.

    >>> extract_text("Aktau und Atyrau.".encode(), "notiz.txt")
    'Aktau und Atyrau.'
    >>> extract_text(b"%PDF-1.7", "bericht.pdf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kzgeo.ingest.IngestError: Unsupported file type '.pdf' (bericht.pdf): use .htm, .html, ...
    """
    suffix = Path(filename).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        kinds = ", ".join(sorted(READERS))
        raise IngestError(
            f"Unsupported file type '{suffix or 'no suffix'}' ({filename}): use {kinds}."
        )
    if not data:
        raise IngestError(f"The file {filename} is empty.")
    if len(data) > MAX_INPUT_BYTES:
        raise IngestError(
            f"The file {filename} is too large ({len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_INPUT_BYTES / 1e6:.0f} MB)."
        )
    text = reader(data)
    if suffix in HTML_SUFFIXES and not text.strip():
        raise IngestError(f"No article text found in the page {filename}.")
    return check_text(text)


# --------------------------------------------------------------------------- metadata
def guess_date(text: str | None) -> dt.date | None:
    """Return the first date written near the top of ``text`` (``kzgeo.dates.first_date``).

    >>> guess_date("Aktau\\n" + "x" * DATE_SEARCH_CHARS + " 5. Januar 2024"), guess_date(None)
    (None, None)
    """
    return first_date((text or "")[:DATE_SEARCH_CHARS])


def guess_language(text: str | None) -> str:
    """Return the language of ``text`` among ``LANGUAGES`` (simplemma's ``langdetect``: the
    share of its words each language's word list knows); ``DEFAULT_LANGUAGE`` when undecided.

    >>> guess_language("The port of Aktau is on the Caspian Sea."), guess_language("")
    ('en', 'de')
    >>> guess_language("Der Hafen von Aktau liegt am Kaspischen Meer.")
    'de'
    """
    from simplemma import langdetect

    scores = dict(langdetect(text or "", lang=LANGUAGES))
    best = max(LANGUAGES, key=lambda lang: (scores.get(lang, 0.0), lang == DEFAULT_LANGUAGE))
    return best if scores.get(best) else DEFAULT_LANGUAGE


def guess_title_line(text: str | None) -> str:
    """Return the first line of ``text`` when it reads as a headline, else ''.

    >>> guess_title_line("Kasachstans Häfen wachsen\\n\\nAktau legt zu."), guess_title_line("")
    ('Kasachstans Häfen wachsen', '')
    >>> guess_title_line("Aktau legt zu. Atyrau auch.")
    ''
    """
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return guess_title(Section(paragraphs=[first] if first else []))


def html_metadata(html: str | bytes) -> dict[str, Any]:
    """Return title, outlet (site name), author and date that an HTML page declares."""
    import trafilatura

    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    try:
        found = trafilatura.extract_metadata(html)
    except Exception:  # a page without usable metadata is not an error
        return {}
    if found is None:
        return {}
    return {
        "title": (found.title or "").strip(),
        "outlet": (found.sitename or "").strip(),
        "author": (found.author or "").strip() or None,
        "date": parse_iso((found.date or "")[:10]),
    }


def guess_metadata(text: str, html: str | bytes | None = None) -> dict[str, Any]:
    """Return a guess of title, outlet, author, date and language to prefill a form.

    Keys: ``title`` (str), ``outlet`` (str), ``author`` (str or None), ``date`` (date or None),
    ``language`` ("de" or "en"). What the HTML page declares wins; then the corpus' header rules
    (column headers, bylines); then the first line as a headline and the first date written.

    >>> meta = guess_metadata("Aktau wächst\\n\\n16.11.2025 – Der Hafen von Aktau wächst.")
    >>> meta["title"], meta["date"], meta["language"], meta["outlet"]
    ('Aktau wächst', datetime.date(2025, 11, 16), 'de', '')
    >>> guess_metadata("")["title"], guess_metadata("")["date"]
    ('', None)
    """
    declared = html_metadata(html) if html else {}
    section = merge_sections(segment_file(text, "guess")[0]) if (text or "").strip() else Section()
    header = section.header
    return {
        "title": declared.get("title")
        or header.get("title")
        or guess_title_line(section.first_lines[0] if section.first_lines else ""),
        "outlet": declared.get("outlet") or "",
        "author": declared.get("author") or header.get("author"),
        "date": declared.get("date")
        or parse_day_month_year(header.get("date"))
        or guess_date(text),
        "language": guess_language(text),
    }


# --------------------------------------------------------------------------- articles
def parse_date(value: dt.date | str | None) -> dt.date | None:
    """Return ``value`` as a date (ISO YYYY-MM-DD text or a date); raise IngestError if invalid.

    >>> parse_date("2025-03-14"), parse_date(None), parse_date("")
    (datetime.date(2025, 3, 14), None, None)
    """
    if value is None or not str(value).strip():
        return None
    date = parse_iso(value)
    if date is not None:
        return date
    raise IngestError(f"Invalid date '{value}': write it as YYYY-MM-DD, e.g. 2025-03-14.")


def make_article_id(title: str, text: str) -> str:
    """Return ``user-<slug of title>-<hash of the text>``: the same text gives the same id.

    >>> make_article_id("Häfen am Kaspischen Meer", "Aktau wächst.")
    'user-hafen-am-kaspischen-meer-b2080df5'
    """
    slug = slugify(title)[:ID_SLUG_CHARS].rstrip("-")
    if "-" in slug and len(slugify(title)) > ID_SLUG_CHARS:
        slug = slug.rsplit("-", 1)[0]  # cut at a word boundary
    digest = body_fingerprint(text)[:ID_HASH_CHARS]
    return "-".join(part for part in (ID_PREFIX, slug, digest) if part)


def merge_sections(sections: list[Section]) -> Section:
    """Return one section holding the paragraphs (and header fields) of ``sections``."""
    merged = Section()
    for section in sections:
        merged.header.update(section.header)
        merged.paragraphs.extend(section.paragraphs)
        merged.first_lines.extend(section.first_lines)
    return merged


def check_language(language: str | None, text: str) -> str:
    """Return ``language`` if supported, the guessed one if None; raise IngestError otherwise."""
    if not language:
        return guess_language(text)
    if language not in LANGUAGES:
        raise IngestError(f"Unsupported language '{language}': use {' or '.join(LANGUAGES)}.")
    return language


def make_article(
    text: str,
    title: str,
    outlet: str,
    date: dt.date | str | None,
    language: str | None,
    author: str | None = None,
    article_id: str | None = None,
    source_file: str | None = None,
    url: str | None = None,
) -> Article:
    """Return an Article of ``text`` cleaned with the corpus rules (quotes point into its text).

    ``language`` None means guessed; ``article_id`` None means ``user-<slug>-<hash>``.
    Raises IngestError when the title is empty, the date, language or web address is invalid,
    or no text is left after cleaning.
    """
    body = check_text(text)
    if url is not None and str(url).strip():
        url, problem = check_url(str(url).strip())
        if url is None:
            raise IngestError(f"The article's web address {problem}.")
    else:
        url = None
    title = " ".join((title or "").split())
    if not title:
        raise IngestError("Give the article a title.")
    when = parse_date(date)
    language = check_language(language, body)
    sections, _removed = segment_file(body, source_file or "pasted text")
    section = merge_sections(sections)
    if not section.paragraphs:
        raise IngestError("No article text is left after removing boilerplate (ads, credits …).")
    entry = {
        "title": title,
        "outlet": " ".join((outlet or "").split()),
        "author": " ".join((author or "").split()) or None,
        "date": when,
        "language": language,
        "url": url,
    }
    article, _ = build_article(section, entry, source_file or "pasted text", "user")
    if not article.text.strip():
        raise IngestError("No article text is left after removing the headline.")
    article_id = article_id or make_article_id(title, article.text)
    return replace(article, id=article_id, source_file=source_file or f"{article_id}.txt")


def geoparse_new(article: Article, gazetteer: Any) -> Geoparse:
    """Geoparse one new article: its places with their quotes (all from this article)."""
    return geoparse([article], gazetteer)


def new_place_features(parsed: Geoparse, collection: dict | None = None) -> list[dict]:
    """Return a GeoJSON feature per place of a new article, each with ``new: True``.

    Places with coordinates become points; a place that a layer draws (pipeline, border,
    site) takes its geometry from the feature with the same id in ``collection`` when given.
    """
    from kzgeo.index import place_properties, point_feature

    drawn = {f["id"]: f for f in (collection or {}).get("features", [])}
    features = []
    for place in parsed.places:
        if place.lat is not None and place.lon is not None:
            feature = point_feature(place)
        elif place.id in drawn:
            layer = drawn[place.id]
            properties = {**layer["properties"], **place_properties(place)}
            feature = {**layer, "properties": properties}
        else:
            continue
        feature["properties"] = {**feature["properties"], "new": True, "themes": place.themes}
        features.append(feature)
    return features


# --------------------------------------------------------------------------- corpus
def manifest_entry(article: Article, file_name: str, added_from: str) -> dict[str, Any]:
    """Return the manifest [[article]] table describing ``article`` (no empty values)."""
    entry = {
        "id": article.id,
        "file": file_name,
        "title": article.title,
        "outlet": article.outlet,
        "author": article.author,
        "date": article.date,
        "language": article.language,
        "url": article.url,
        "added_from": added_from,
    }
    return {key: value for key, value in entry.items() if value not in (None, "")}


def append_manifest_entry(manifest_text: str, entry: dict[str, Any]) -> str:
    """Return the manifest text with ``entry`` appended as an [[article]] table.

    The existing text (comments included) is kept byte for byte; the result must parse and
    hold exactly one more article, which must equal ``entry``.

    >>> text = append_manifest_entry("# Kommentar\\n", {"id": "a", "file": "a.txt"})
    >>> print(text)
    # Kommentar
    <BLANKLINE>
    [[article]]
    id = "a"
    file = "a.txt"
    <BLANKLINE>
    """
    try:
        before = tomllib.loads(manifest_text).get("article", [])
    except tomllib.TOMLDecodeError as error:
        raise IngestError(f"{MANIFEST_NAME} is not valid TOML ({error}); fix it first.") from error
    kept = manifest_text if manifest_text.strip() else ""
    text = kept + ("" if not kept else "\n" if kept.endswith("\n") else "\n\n")
    text += "[[article]]\n" + tomli_w.dumps(entry)  # scalar values only: one key per line
    after = tomllib.loads(text).get("article", [])
    if len(after) != len(before) + 1 or after[-1] != entry:
        raise IngestError(f"Appending to {MANIFEST_NAME} would not add exactly this article.")
    return text


def plain_words(text: str) -> str:
    """Return the words of ``text`` casefolded, one space apart (to compare article bodies).

    >>> plain_words("Aktau – der  Hafen!")
    ' aktau der hafen '
    """
    return " " + " ".join(WORD.findall(text.casefold())) + " "


def check_new(article: Article, folder: Path, file_name: str) -> None:
    """Raise IngestError when ``folder`` already holds this article, its id or its file name."""
    if (folder / file_name).exists():
        raise IngestError(f"{folder / file_name} already exists.")
    loaded = load_corpus(folder)
    words = plain_words(article.text)
    for other in loaded.articles:
        if other.id == article.id:
            raise IngestError(f"The corpus already has an article with id '{article.id}'.")
        other_words = plain_words(other.text)
        if other_words in words or words in other_words:
            raise IngestError(
                f"The corpus already holds this text as '{other.id}' ({other.title})."
            )


def check_loads_back(text: str, file_name: str, entry: dict[str, Any], article: Article) -> None:
    """Raise IngestError unless the corpus loader reads ``text`` back as exactly ``article``."""
    with tempfile.TemporaryDirectory(prefix="kzgeo-add-") as tmp:
        path = Path(tmp) / file_name
        path.write_text(text, encoding="utf-8")
        loaded, _removed, warnings = load_file(path, [entry])
    if len(loaded) != 1:
        raise IngestError(
            f"The text splits into {len(loaded)} articles at column headers; add them one by one."
        )
    if warnings:
        raise IngestError("The corpus loader would not take the text as is: " + "; ".join(warnings))
    if loaded[0] != article:
        raise IngestError("The corpus loader reads the text back differently; not added.")


def read_source(path: Path) -> bytes:
    """Return the bytes of the file to add; raise IngestError when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise IngestError(f"Cannot read {path}: {error.strerror or error}.") from error


def read_manifest_text(folder: Path) -> str:
    """Return the manifest's text ('' when the folder has none)."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return ""
    try:
        return read_text_file(path)
    except UnreadableFile as error:
        raise IngestError(f"{path} cannot be used: {error}.") from error


def add_to_corpus(
    path: Path | str,
    folder: Path | str,
    title: str,
    outlet: str,
    date: dt.date | str | None,
    author: str | None = None,
    language: str | None = None,
    url: str | None = None,
) -> Article:
    """Add the article in file ``path`` to the corpus in ``folder`` and return it.

    Validates everything first (file, title, outlet, ISO date, language, no duplicate id or
    text, the loader reads it back unchanged); then writes ``<id>.txt`` (for HTML the
    extracted text) and appends an [[article]] entry to the manifest, each atomically. On any
    error the folder is left as it was.
    """
    path = Path(path)
    if not Path(folder).is_dir():
        raise IngestError(f"Corpus folder not found: {folder}")
    text = extract_text(read_source(path), path.name)
    return add_text_to_corpus(
        text, folder, title, outlet, date, author, language, url, added_from=path.name
    )


def add_text_to_corpus(
    text: str,
    folder: Path | str,
    title: str,
    outlet: str,
    date: dt.date | str | None,
    author: str | None = None,
    language: str | None = None,
    url: str | None = None,
    added_from: str = "text",
) -> Article:
    """Add an article's extracted ``text`` to the corpus in ``folder``, as ``add_to_corpus``.

    ``url`` (the original's web address) goes into the manifest entry; ``added_from`` says
    where the text came from (a file name or the address).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise IngestError(f"Corpus folder not found: {folder}")
    if not str(outlet or "").strip():
        raise IngestError("Give the outlet (the newspaper, site or broadcaster).")
    if date is None or not str(date).strip():
        raise IngestError("Give the publication date as YYYY-MM-DD.")
    text = check_text(text) + "\n"
    probe = make_article(text, title, outlet, date, language, author, url=url)
    file_name = f"{probe.id}.txt"
    article = replace(probe, source_file=file_name)
    try:
        check_new(article, folder, file_name)
    except CorpusError as error:
        raise IngestError(str(error)) from error
    entry = manifest_entry(article, file_name, added_from)
    check_loads_back(text, file_name, entry, article)
    manifest = append_manifest_entry(read_manifest_text(folder), entry)
    target = folder / file_name
    try:
        write_atomic(target, text)
        try:
            write_atomic(folder / MANIFEST_NAME, manifest)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise IngestError(f"Cannot write to {folder}: {error.strerror or error}.") from error
    return article


# --------------------------------------------------------------------------- by web address
@dataclass(frozen=True)
class FetchedArticle:
    """An article fetched by its web address: the text and a guess of its metadata."""

    url: str  # where the page was found (after redirects): kept with the article
    text: str
    metadata: dict[str, Any]  # as ``guess_metadata``: title, outlet, author, date, language


def outlet_of(url: str) -> str:
    """Return the site name a web address shows (its host without ``www.``).

    >>> outlet_of("https://www.ipg-journal.de/artikel/1"), outlet_of("http://a.kz:8080/x")
    ('ipg-journal.de', 'a.kz')
    """
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def fetch_article(url: str, private_ok: bool | None = None) -> FetchedArticle:
    """Fetch the page at ``url`` (safely: ``kzgeo.fetch``) and extract its article.

    Raises IngestError saying why when the address is refused, the page cannot be fetched or
    holds no article text. Nothing is stored.
    """
    from kzgeo.fetch import FetchError, fetch_page

    try:
        page = fetch_page(url, private_ok=private_ok)
    except FetchError as error:
        raise IngestError(str(error)) from error
    text = html_to_text(page.html)
    if not text.strip():
        raise IngestError(f"No article text found at {page.final_url}.")
    text = check_text(text)
    metadata = guess_metadata(text, page.html)
    metadata["outlet"] = metadata.get("outlet") or outlet_of(page.final_url)
    return FetchedArticle(page.final_url, text, metadata)


# --------------------------------------------------------------------------- collections
def add_to_collection(
    store: Any,
    text: str,
    title: str,
    outlet: str,
    date: dt.date | str | None,
    gazetteer: Any,
    *,
    author: str | None = None,
    language: str | None = None,
    url: str | None = None,
    collection_id: str | None = None,
    edit_token: str | None = None,
    check_token: bool = True,
    name: str = "",
) -> Any:
    """Clean, geoparse and store an article in a collection; return the store's ``Added``.

    ``store`` is a ``kzgeo.store.Store``; ``collection_id`` None starts a new collection (its
    edit token is in the result). The article is checked and geoparsed before the one write
    transaction, so a failure at any step stores nothing.
    """
    if not str(outlet or "").strip():
        raise IngestError("Give the outlet (the newspaper, site or broadcaster).")
    article = make_article(text, title, outlet, date, language, author, url=url)
    parsed = geoparse_new(article, gazetteer)
    return store.add_article(
        article,
        collection_id,
        edit_token,
        places=[place.id for place in parsed.places],
        name=name,
        check_token=check_token,
    )
