"""Load the corpus: manifest + text files -> cleaned, split, de-duplicated Article records.

A source file is cut into paragraphs (blank-line separated, hard line breaks folded). Header
lines give metadata and split files that hold a series of columns; the boilerplate rules in
``kzgeo/data/boilerplate.toml`` drop scraped noise; structural rules drop pull quotes, repeated
headlines and signatures. What remains, joined by blank lines, is ``Article.text``: every quote
offset points into it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from kzgeo.dates import parse_day_month_year, parse_iso
from kzgeo.ids import slugify
from kzgeo.parallel import PARALLEL_MIN_CHARS, map_in_order, worker_count

RULES_PATH = Path(__file__).parent / "data" / "boilerplate.toml"
MANIFEST_NAME = "manifest.toml"
ARTICLE_SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 5_000_000
PARAGRAPH_BREAK = "\n\n"


class CorpusError(Exception):
    """The corpus folder itself cannot be used (missing, not a folder)."""


class UnreadableFile(Exception):
    """One corpus file cannot be read as text; the message says why."""


@dataclass(frozen=True)
class Article:
    """One article: its metadata and its cleaned text (quotes are offsets into ``text``)."""

    id: str
    title: str
    outlet: str
    author: str | None
    date: dt.date | None
    language: str
    source_file: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class Removal:
    """A paragraph of a source file that a rule kept out of every article body."""

    source_file: str
    rule_id: str
    text: str


@dataclass(frozen=True)
class CorpusLoad:
    """What loading a corpus folder gave: articles, a warning per problem, what was removed."""

    articles: tuple[Article, ...]
    warnings: tuple[str, ...] = field(default=())
    removed: tuple[Removal, ...] = field(default=())
    duplicates: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Rule:
    id: str
    what: str
    pattern: re.Pattern[str]
    scope: str  # "paragraph" or "rest-of-file"


@dataclass(frozen=True)
class HeaderRule:
    id: str
    what: str
    pattern: re.Pattern[str]
    starts_article: bool


@dataclass
class Section:
    """One article's worth of a source file while it is being cleaned."""

    header: dict[str, str] = field(default_factory=dict)
    paragraphs: list[str] = field(default_factory=list)
    first_lines: list[str] = field(default_factory=list)  # each paragraph's first raw line


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_PATH) -> tuple[tuple[Rule, ...], tuple[HeaderRule, ...]]:
    """Return the boilerplate rules and header rules kept as data in ``path``."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = tuple(
        Rule(row["id"], row["what"], re.compile(row["pattern"]), row["scope"])
        for row in table.get("rule", [])
    )
    headers = tuple(
        HeaderRule(row["id"], row["what"], re.compile(row["pattern"]), row["starts_article"])
        for row in table.get("header", [])
    )
    return rules, headers


def read_text_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Return the UTF-8 text of ``path``; raise UnreadableFile saying why it can't be used."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise UnreadableFile(f"cannot be read ({error.strerror})") from error
    if size == 0:
        raise UnreadableFile("empty file")
    if size > max_bytes:
        raise UnreadableFile(
            f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB)"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"cannot be read ({error.strerror})") from error
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("UTF-16 text, not UTF-8; save it as UTF-8")
    if b"\x00" in data:
        raise UnreadableFile("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start]
        raise UnreadableFile(
            f"not UTF-8 text (byte 0x{bad:02x} at offset {error.start}); save it as UTF-8"
        ) from error
    if not text.strip():
        raise UnreadableFile("no text (only white space)")
    if not re.search(r"\w", text):
        raise UnreadableFile("no words (only punctuation and symbols)")
    return text


def split_paragraphs(text: str) -> list[str]:
    """Return the blank-line separated paragraphs of ``text``, each stripped.

    >>> split_paragraphs("Eins\\nzwei\\r\\n\\r\\n  Drei \\n\\n\\n")
    ['Eins\\nzwei', 'Drei']
    >>> split_paragraphs("")
    []
    """
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    return [part.strip() for part in re.split(r"\n[ \t\u00a0]*\n", unified) if part.strip()]


HYPHEN_JOINS_WITH_SPACE = frozenset({"und", "oder", "bzw.", "sowie", "bis"})


def fold_lines(paragraph: str) -> str:
    """Join the hard-wrapped lines of ``paragraph`` into one line.

    A line that ends in a hyphen keeps it and joins the next word directly, except before a
    conjunction ("Wirtschafts- und Handelsbeziehungen").

    >>> fold_lines("Auf dem\\nInternationalen  Forum in St.\\nPetersburg")
    'Auf dem Internationalen Forum in St. Petersburg'
    >>> fold_lines("„quasi-\\nstaatliche Gebiete“ und Wirtschafts-\\nund Handelsbeziehungen")
    '„quasi-staatliche Gebiete“ und Wirtschafts- und Handelsbeziehungen'
    >>> fold_lines("")
    ''
    """
    folded = ""
    for line in (raw.strip() for raw in paragraph.split("\n")):
        if not line:
            continue
        if not folded:
            folded = line
        elif folded.endswith("-") and line.split()[0] not in HYPHEN_JOINS_WITH_SPACE:
            folded += line
        else:
            folded += " " + line
    if "  " not in folded and "\t" not in folded and "\u00a0" not in folded:
        return folded  # no run of two such spaces: most paragraphs, without a regex pass
    return re.sub(r"[ \t\u00a0]{2,}", " ", folded)


def match_boilerplate(paragraph: str, rules: Iterable[Rule]) -> Rule | None:
    """Return the first rule that marks the folded ``paragraph`` as boilerplate, or None."""
    return next((rule for rule in rules if rule.pattern.search(paragraph)), None)


def match_every_line(paragraph: str, rules: Iterable[Rule]) -> Rule | None:
    """Return the rule of the first line when every line of ``paragraph`` is boilerplate."""
    if "\n" not in paragraph:
        return None
    matches = [match_boilerplate(line.strip(), rules) for line in paragraph.split("\n")]
    return matches[0] if len(matches) > 1 and all(matches) else None


def match_header(paragraph: str, headers: Iterable[HeaderRule]) -> tuple[HeaderRule, dict] | None:
    """Return the header rule matching ``paragraph`` and its named groups, or None."""
    for header in headers:
        found = header.pattern.match(paragraph)
        if found:
            groups = {key: value.strip() for key, value in found.groupdict().items() if value}
            return header, groups
    return None


NARROW_LINE_CHARS = 28


def split_narrow_runs(paragraph: str) -> list[tuple[str, bool]]:
    """Split a hard-wrapped paragraph around runs of 3+ narrow lines (a pull-quote layout).

    Returns (text, is_narrow_run) pieces in order.

    >>> page = "Öl fließt über die russische Pipeline ins\\nAusland.\\nDie von Kasachstan\\n"
    >>> for piece in split_narrow_runs(page + "eingenommene Position\\nist eigenständig."):
    ...     print(piece)
    ('Öl fließt über die russische Pipeline ins\\nAusland.', False)
    ('Die von Kasachstan\\neingenommene Position\\nist eigenständig.', True)
    >>> split_narrow_runs("Eine Zeile.")
    [('Eine Zeile.', False)]
    """
    lines = [line.strip() for line in paragraph.split("\n")]
    pieces: list[tuple[str, bool]] = []
    start = index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and 0 < len(lines[end]) <= NARROW_LINE_CHARS:
            end += 1
        after_sentence = index == 0 or lines[index - 1].endswith((".", "!", "?", ":"))
        closes_sentence = end > index and lines[end - 1].endswith((".", "!", "?", "“", "»"))
        if end - index >= 3 and after_sentence and closes_sentence:
            if index > start:
                pieces.append(("\n".join(lines[start:index]), False))
            pieces.append(("\n".join(lines[index:end]), True))
            start = index = end
        else:
            index += 1
    if start < len(lines):
        pieces.append(("\n".join(lines[start:]), False))
    return pieces


def segment_file(raw: str, source_file: str) -> tuple[list[Section], list[Removal]]:
    """Cut one source file into article sections, keeping boilerplate out of them."""
    rules, headers = load_rules()
    sections = [Section()]
    removed: list[Removal] = []
    pieces = [
        (fold_lines(piece), narrow, piece)
        for paragraph in split_paragraphs(raw)
        for piece, narrow in split_narrow_runs(paragraph)
    ]
    paragraphs = [text for text, _, _ in pieces]
    for position, (paragraph, narrow, raw_piece) in enumerate(pieces):
        others = paragraphs[:position] + paragraphs[position + 1 :]
        if narrow and is_pull_quote(paragraph, others):
            removed.append(Removal(source_file, "pull-quote", paragraph))
            continue
        header = match_header(paragraph, headers)
        if header is not None:
            rule, groups = header
            if rule.starts_article:
                sections.append(Section(header=groups))
            else:
                sections[-1].header.update(groups)
            removed.append(Removal(source_file, rule.id, paragraph))
            continue
        rule = match_boilerplate(paragraph, rules) or match_every_line(raw_piece, rules)
        if rule is None:
            sections[-1].paragraphs.append(paragraph)
            sections[-1].first_lines.append(raw_piece.split("\n", 1)[0].strip())
        elif rule.scope == "rest-of-file":
            removed.extend(Removal(source_file, rule.id, rest) for rest in paragraphs[position:])
            break
        else:
            removed.append(Removal(source_file, rule.id, paragraph))
    return [section for section in sections if section.paragraphs], removed


WORD = re.compile(r"\w+")
NON_WORDS = re.compile(r"\W+")


def is_pull_quote(paragraph: str, others: Iterable[str]) -> bool:
    """Tell whether ``paragraph`` restates words of a longer paragraph (a magazine pull quote).

    >>> body = "Zweitens sorgen die Aussagen russischer Politiker seit Jahren für Irritationen."
    >>> is_pull_quote("Aussagen russischer Politiker sorgen für Irritationen.", [body])
    True
    >>> is_pull_quote("Aussagen russischer Politiker.", [])
    False
    """
    words = WORD.findall(paragraph.lower())
    if not 3 <= len(words) <= 40:
        return False
    for other in others:
        other_words = set(WORD.findall(other.lower()))
        if len(other_words) > len(words) and sum(w in other_words for w in words) >= 0.8 * len(
            words
        ):
            return True
    return False


def same_words(a: str, b: str) -> bool:
    """Tell whether two strings are equal ignoring case, punctuation and spacing.

    >>> same_words("Kasachen kämpfen für Putin.", "kasachen  kämpfen für Putin")
    True
    """
    return WORD.findall(a.casefold()) == WORD.findall(b.casefold())


def drop_structural_boilerplate(
    section: Section, title: str, author: str | None, source_file: str
) -> list[Removal]:
    """Remove a repeated headline and a closing signature from ``section``."""
    removed: list[Removal] = []
    kept = list(section.paragraphs)
    first_line = section.first_lines[0] if section.first_lines else ""
    if kept and title and same_words(first_line, title):
        removed.append(Removal(source_file, "repeated-headline", first_line))
        rest = kept[0][len(first_line) :].strip()
        kept = ([rest] if rest else []) + kept[1:]
    if kept and author and same_words(kept[-1], author):
        removed.append(Removal(source_file, "closing-signature", kept.pop()))
    section.paragraphs = kept
    return removed


STRUCTURAL_RULES: tuple[tuple[str, str], ...] = (
    ("pull-quote", "Pull quotes: runs of 3+ narrow lines that restate a sentence of the body"),
    ("repeated-headline", "The headline repeated as the first line of the body"),
    ("closing-signature", "The author's name alone at the end of the body"),
)


MAX_META_CHARS = 300  # longer titles, outlets and authors are cut
MAX_ID_CHARS = 100
ARTICLE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def quoted(text: str, limit: int = 60) -> str:
    """Return ``text`` on one line, clipped to ``limit`` characters, in single quotes.

    >>> quoted("a\\nb"), quoted("x" * 9, 4), quoted("")
    ("'a b'", "'xxxx…'", "''")
    """
    line = " ".join(CONTROL_CHARS.sub(" ", text).split())
    return f"'{line if len(line) <= limit else line[:limit] + '…'}'"


def shown(value: object) -> str:
    """Return ``value`` described for a warning: text quoted and clipped, other kinds named.

    >>> shown("gestern"), shown(42), shown(True), shown([1]), shown(dt.date(2024, 1, 2))
    ("the text 'gestern'", 'the number 42', 'the boolean true', 'a list', 'the date 2024-01-02')
    """
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.date | dt.time):
        return f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"the text {quoted(str(value))}"


def check_text(value: object) -> tuple[str | None, str | None]:
    """Return (text, problem): on one line, white space folded, cut to MAX_META_CHARS.

    >>> check_text("  Vermittler\\n\\n gesucht "), check_text(7)
    (('Vermittler gesucht', None), (None, 'should be text, not the number 7'))
    >>> check_text("x" * 400)[1]
    'is 400 characters long; cut to 300'
    """
    if not isinstance(value, str):
        return None, f"should be text, not {shown(value)}"
    text = " ".join(CONTROL_CHARS.sub(" ", value).split())
    if len(text) > MAX_META_CHARS:
        cut = text[: MAX_META_CHARS - 1] + "…"
        return cut, f"is {len(text):,} characters long; cut to {MAX_META_CHARS}"
    return text, None


def check_date(value: object) -> tuple[dt.date | None, str | None]:
    """Return (date, problem): a TOML date, a date-time or an ISO date written as text.

    >>> check_date("2024-04-22")
    (datetime.date(2024, 4, 22), None)
    >>> check_date("gestern")[1]
    "should be a date like 2024-04-22, not the text 'gestern'"
    """
    date = parse_iso(value)
    return (date, None) if date else (None, f"should be a date like 2024-04-22, not {shown(value)}")


def check_id(value: object) -> tuple[str | None, str | None]:
    """Return (article id, problem): a lowercase slug; other text is made one.

    >>> check_id("ipg-2024-04")
    ('ipg-2024-04', None)
    >>> check_id("Vermittler Gesucht!")[1]
    "is not an id (lowercase letters, digits, '-'); 'vermittler-gesucht' used"
    >>> check_id("<>")[1]
    "should be an id (lowercase letters, digits, '-'), not the text '<>'"
    """
    if isinstance(value, str) and ARTICLE_ID.fullmatch(value) and len(value) <= MAX_ID_CHARS:
        return value, None
    slug = slugify(value)[:MAX_ID_CHARS].strip("-") if isinstance(value, str) else ""
    if not slug:
        return None, f"should be an id (lowercase letters, digits, '-'), not {shown(value)}"
    return slug, f"is not an id (lowercase letters, digits, '-'); '{slug}' used"


def check_file(value: object) -> tuple[str | None, str | None]:
    """Return (file name, problem).

    >>> check_file("a.txt"), check_file("")[1]
    (('a.txt', None), "should be a file name, not the text ''")
    """
    if isinstance(value, str) and value.strip():
        return value, None
    return None, f"should be a file name, not {shown(value)}"


def check_url(value: object) -> tuple[str | None, str | None]:
    """Return (web address, problem): only http and https addresses are kept.

    >>> check_url("https://www.ipg-journal.de/x")
    ('https://www.ipg-journal.de/x', None)
    >>> check_url("javascript:alert(1)")[1]
    "should start with http:// or https://, not the text 'javascript:alert(1)'"
    """
    text, problem = check_text(value)
    if text is None:
        return None, problem
    if not re.fullmatch(r"https?://\S+", text, re.IGNORECASE):
        return None, f"should start with http:// or https://, not {shown(value)}"
    return text, problem


# How each manifest field is checked. Other keys (``title_basis``, ...) are notes, kept as is.
MANIFEST_FIELDS: dict[str, Callable[[object], tuple[object, str | None]]] = {
    "id": check_id,
    "file": check_file,
    "title": check_text,
    "outlet": check_text,
    "author": check_text,
    "date": check_date,
    "language": check_text,
    "url": check_url,
}
# What the loader does when a field is missing (``file`` is required: without it, nothing).
MISSING_FIELDS: dict[str, str] = {
    "id": "the id is made from the file name",
    "title": "taken from the text",
    "outlet": "shown as 'unknown outlet'",
    "date": "taken from the text, else undated",
}


def check_entry(entry: dict) -> tuple[dict | None, list[str]]:
    """Return one [[article]] table with its usable fields (None if unusable), and problems.

    A wrong field is left out (the rest of the entry is used); without a ``file`` the entry
    describes nothing.

    >>> entry, problems = check_entry({"id": "a", "file": "a.txt", "title": 42, "outlet": "O",
    ...                                "date": "gestern", "title_basis": "headline"})
    >>> entry
    {'title_basis': 'headline', 'id': 'a', 'file': 'a.txt', 'outlet': 'O'}
    >>> print("\\n".join(problems))
    'title' should be text, not the number 42 (ignored)
    'date' should be a date like 2024-04-22, not the text 'gestern' (ignored)
    >>> check_entry({"id": "a", "title": "T"})
    (None, ["no 'file'"])
    """
    if "file" not in entry:
        return None, ["no 'file'"]
    cleaned = {key: value for key, value in entry.items() if key not in MANIFEST_FIELDS}
    problems = []
    for key, check in MANIFEST_FIELDS.items():
        if key not in entry:
            if key in MISSING_FIELDS:
                problems.append(f"no '{key}' ({MISSING_FIELDS[key]})")
            continue
        value, problem = check(entry[key])
        if problem:
            problems.append(f"'{key}' {problem}" + (" (ignored)" if value is None else ""))
        if value is not None:
            cleaned[key] = value
    if "file" not in cleaned:
        return None, [p for p in problems if p.startswith("'file'")]
    return cleaned, problems


def entry_label(number: int, entry: object) -> str:
    """Return how a warning names the ``number``-th [[article]] table.

    >>> entry_label(2, {"id": "a", "file": "a.txt"}), entry_label(3, "x")
    ("article #2 'a' (file 'a.txt')", 'article #3')
    """
    label = f"article #{number}"
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        label += f" {quoted(entry['id'], 40)}"
    if isinstance(entry, dict) and isinstance(entry.get("file"), str):
        label += f" (file {quoted(entry['file'])})"
    return label


MANIFEST_MAX_BYTES = 500_000_000  # a manifest of 100,000 articles is about 20 MB


def read_manifest(folder: Path) -> tuple[list[dict], list[str]]:
    """Return the manifest's usable article entries and a warning per problem found in it."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return [], []
    try:
        table = tomllib.loads(read_text_file(path, MANIFEST_MAX_BYTES))
    except (UnreadableFile, tomllib.TOMLDecodeError) as error:
        return [], [f"{MANIFEST_NAME}: ignored, {error}; metadata is guessed from the text"]
    rows = table.get("article", [])
    if "article" not in table:
        return [], [f"{MANIFEST_NAME}: no [[article]] tables; metadata is guessed from the text"]
    if not isinstance(rows, list):
        return [], [
            f"{MANIFEST_NAME}: 'article' should be [[article]] tables, not {shown(rows)}; "
            "metadata is guessed from the text"
        ]
    return manifest_entries(rows)


def manifest_entries(rows: list, first: int = 1) -> tuple[list[dict], list[str]]:
    """Return the usable entries of the manifest's ``[[article]]`` rows (numbered from
    ``first``) and a warning per problem found in them."""
    entries, warnings = [], []
    for number, row in enumerate(rows, start=first):
        label = entry_label(number, row)
        if not isinstance(row, dict):
            warnings.append(f"{MANIFEST_NAME}: {label} ignored: a table, not {shown(row)}")
            continue
        entry, problems = check_entry(row)
        if entry is None:
            warnings.append(f"{MANIFEST_NAME}: {label} ignored: {'; '.join(problems)}")
            continue
        if problems:
            warnings.append(f"{MANIFEST_NAME}: {label}: {'; '.join(problems)}")
        entries.append(entry)
    return entries, warnings


def find_entry(entries: list[dict], source_file: str, section: Section, single: bool) -> dict:
    """Return the manifest entry describing ``section`` of ``source_file`` (or an empty dict).

    A section with a header title takes the entry with that title; a file holding one article
    takes the file's first entry.
    """
    candidates = [entry for entry in entries if entry["file"] == source_file]
    header_title = section.header.get("title")
    if header_title:
        return next((e for e in candidates if same_words(e.get("title", ""), header_title)), {})
    return candidates[0] if single and candidates else {}


def guess_title(section: Section) -> str:
    """Return the first line of the section when it reads as a headline, else ''."""
    first = section.paragraphs[0] if section.paragraphs else ""
    return first if 0 < len(first) <= 150 and not first.endswith((".", ":")) else ""


def build_article(
    section: Section, entry: dict, source_file: str, fallback_id: str
) -> tuple[Article, list[Removal]]:
    """Return the Article for one cleaned section, its metadata from the manifest or header."""
    header = section.header
    title = entry.get("title") or header.get("title") or guess_title(section)
    author = entry.get("author") or header.get("author") or None
    removed = drop_structural_boilerplate(section, title, author, source_file)
    article = Article(
        id=entry.get("id") or fallback_id,
        title=title or fallback_id,
        outlet=entry.get("outlet") or "unknown outlet",
        author=author,
        date=entry.get("date") or parse_day_month_year(header.get("date")),
        language=entry.get("language") or "de",
        source_file=source_file,
        text=PARAGRAPH_BREAK.join(section.paragraphs),
        url=entry.get("url") or None,
    )
    return article, removed


def body_fingerprint(text: str) -> str:
    """Return a hash of ``text`` that ignores case and spacing (to spot repeated columns)."""
    # the words joined by single spaces, as " ".join(WORD.findall(...)), in one regex pass
    words = NON_WORDS.sub(" ", text.casefold()).strip(" ")
    return hashlib.sha1(words.encode()).hexdigest()


def is_article_name(name: str) -> bool:
    """Return whether a file of this name is an article file (.txt or .md, not hidden).

    >>> is_article_name("a.TXT"), is_article_name(".a.txt"), is_article_name("manifest.toml")
    (True, False, False)
    """
    return name.lower().endswith(ARTICLE_SUFFIXES) and not name.startswith(".")


def list_article_files(folder: Path) -> list[Path]:
    """Return the article files of ``folder`` in name order (hidden files left out)."""
    names = sorted(  # by name, as Path order in one folder (strings sort much faster)
        entry.name for entry in os.scandir(folder) if is_article_name(entry.name))
    return [folder / name for name in names]


def load_file(path: Path, entries: list[dict]) -> tuple[list[Article], list[Removal], list[str]]:
    """Return the articles of one source file, what was removed and a warning per problem."""
    articles, removed, warnings, _used = load_file_entries(path, entries)
    return articles, removed, warnings


def load_file_entries(
    path: Path, entries: list[dict]
) -> tuple[list[Article], list[Removal], list[str], list[dict]]:
    """Return what ``load_file`` does and the manifest entries its articles took."""
    try:
        raw = read_text_file(path)
    except UnreadableFile as error:
        return [], [], [f"{path.name}: skipped, {error}"], []
    sections, removed = segment_file(raw, path.name)
    if not sections:
        return [], removed, [f"{path.name}: skipped, no article text left after cleaning"], []
    articles, warnings, used = [], [], []
    for number, section in enumerate(sections, start=1):
        fallback_id = slugify(path.stem) + (f"-{number}" if len(sections) > 1 else "")
        entry = find_entry(entries, path.name, section, single=len(sections) == 1)
        if not entry:
            name = section.header.get("title") or fallback_id
            warnings.append(f"{path.name}: no manifest entry for '{name}'; metadata guessed")
        else:
            used.append(entry)
        article, section_removed = build_article(section, entry, path.name, fallback_id)
        removed.extend(section_removed)
        articles.append(article)
    return articles, removed, warnings, used


def unique_id(article_id: str, taken: Iterable[str]) -> str:
    """Return ``article_id`` with the first free ``-2``, ``-3``, ... suffix.

    >>> unique_id("a", {"a", "a-2"}), unique_id("b", set())
    ('a-3', 'b-2')
    """
    taken = set(taken)
    number = 2
    while f"{article_id}-{number}" in taken:
        number += 1
    return f"{article_id}-{number}"


def unused_entry_warning(entry: dict, files: dict[str, Path], skipped: set[str]) -> str | None:
    """Return why a manifest entry described no article (None if its file's warning says it)."""
    name = entry["file"]
    label = f"{MANIFEST_NAME}: article {quoted(entry.get('id') or name, 40)}"
    if name in skipped:
        return None
    if name not in files:
        return f"{label} names file {quoted(name)}, which is not in the corpus folder"
    if files[name].suffix.lower() not in ARTICLE_SUFFIXES:
        return f"{label} names {quoted(name)}, which is not an article file (.txt or .md)"
    if entry.get("title"):
        return f"{label}: no article in {quoted(name)} has the title {quoted(entry['title'])}"
    return f"{label} is a second entry for {quoted(name)}; ignored"


def _load_file(job: tuple[Path, list[dict]]) -> tuple:
    """Return ``load_file_entries`` of one file, the entries it took as positions in its list
    (a worker process returns copies), and the body fingerprint of each article."""
    path, entries = job
    articles, removed, warnings, used = load_file_entries(path, entries)
    taken = [i for i, entry in enumerate(entries) if any(entry is u for u in used)]
    return articles, removed, warnings, taken, [body_fingerprint(a.text) for a in articles]


def file_key(path: Path, entries: list[dict]) -> tuple:
    """Return what one file's load depends on: its name, size and modification time, and its
    manifest entries (a file rewritten in place gets a new time)."""
    stat = path.stat()
    return (path.name, stat.st_size, stat.st_mtime_ns, entries_digest(entries))


def entries_digest(entries: list[dict]) -> str:
    """Return the digest of one file's manifest entries that ``file_key`` holds."""
    described = json.dumps(entries, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(described.encode()).hexdigest()


def _load_files(
    jobs: list[tuple[Path, list[dict]]], workers: int | None, min_bytes: int, memo: dict | None
) -> list[tuple]:
    """Return ``_load_file`` of each job, from ``memo`` where it holds the file's key."""
    keys = [file_key(path, entries) for path, entries in jobs] if memo is not None else []
    todo = [i for i, key in enumerate(keys) if key not in memo] if memo is not None else None
    todo_jobs = jobs if todo is None else [jobs[i] for i in todo]
    count = worker_count(workers, sum(path.stat().st_size for path, _ in todo_jobs), min_bytes)
    fresh = list(map_in_order(_load_file, todo_jobs, count))
    if memo is None:
        return fresh
    memo.update(zip((keys[i] for i in todo), fresh, strict=True))
    results = [memo[key] for key in keys]
    memo.clear()
    memo.update(zip(keys, results, strict=True))
    return results


def load_corpus(
    folder: Path | str,
    workers: int | None = 1,
    min_bytes: int = PARALLEL_MIN_CHARS,
    memo: dict | None = None,
) -> CorpusLoad:
    """Load every article in ``folder``; skip unreadable files with a warning.

    From ``min_bytes`` of files on, they are read and cleaned in ``workers`` processes (None:
    every core); the articles, their order and the warnings are the same. With ``memo`` (a
    dict kept by the caller between loads) a file whose ``file_key`` is in it is not read
    again; the memo is left holding the current files only. Raises CorpusError when ``folder``
    is missing or not a folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder}")
    if not folder.is_dir():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    entries, warnings = read_manifest(folder)
    jobs = file_jobs(folder, entries)
    results = _load_files(jobs, workers, min_bytes, memo)
    return corpus_of(folder, entries, warnings, jobs, results)[0]


def file_jobs(folder: Path, entries: list[dict]) -> list[tuple[Path, list[dict]]]:
    """Return each article file of ``folder`` (name order) with its manifest entries."""
    grouped = entries_by_file(entries)
    return [(path, grouped.get(path.name, [])) for path in list_article_files(folder)]


def entries_by_file(entries: list[dict], files: Iterable[str] | None = None) -> dict[str, list]:
    """Return the manifest ``entries`` grouped by the file they name (only ``files``' when
    given), in manifest order."""
    wanted = None if files is None else set(files)
    grouped: dict[str, list[dict]] = {}
    for entry in entries:
        if wanted is None or entry["file"] in wanted:
            grouped.setdefault(entry["file"], []).append(entry)
    return grouped


def corpus_of(
    folder: Path,
    entries: list[dict],
    warnings: list[str],
    jobs: list[tuple[Path, list[dict]]],
    results: list[tuple],
    details: dict | None = None,
) -> tuple[CorpusLoad, list[list[str | None]]]:
    """Return the corpus that the files' ``_load_file`` results make (repeated articles left
    out, clashing ids renamed, in file order) and, per file, the final id of each of its
    articles (None: left out as a repeat). Only the articles' metadata is read, so results
    whose articles carry no text give the corpus without text.

    ``details``, when given, is filled with how the warnings came about (for a build that
    later adds files without going over the whole corpus again): ``files``, the warnings of
    each file that has any ((name, warnings) in file order), ``unused``, the positions in
    ``entries`` of the entries no article took, and ``skipped``, the files with no article."""
    warnings = list(warnings)
    articles: list[Article] = []
    removed: list[Removal] = []
    duplicates: list[str] = []
    fates: list[list[str | None]] = []
    id_of_body: dict[str, str] = {}
    file_of_id: dict[str, str] = {}
    used: list[dict] = []
    skipped: set[str] = set()
    for (path, file_entries), loaded in zip(jobs, results, strict=True):
        name = os.path.basename(path)  # a Path or a string
        file_articles, file_removed, file_warnings, taken, fingerprints = loaded
        removed.extend(file_removed)
        warnings.extend(file_warnings)
        used.extend(file_entries[i] for i in taken)
        fate: list[str | None] = []
        fates.append(fate)
        before = len(warnings) - len(file_warnings)
        if not file_articles:
            skipped.add(name)
        for article, fingerprint in zip(file_articles, fingerprints, strict=True):
            if fingerprint in id_of_body:
                duplicates.append(
                    f"{name}: '{article.title}' repeats {id_of_body[fingerprint]}"
                )
                fate.append(None)
                continue
            if article.id in file_of_id:
                new_id = unique_id(article.id, file_of_id)
                warnings.append(
                    f"{name}: article id {quoted(article.id)} is already used by "
                    f"{quoted(file_of_id[article.id])}; this article gets the id '{new_id}'"
                )
                article = replace(article, id=new_id)
            id_of_body[fingerprint] = article.id
            file_of_id[article.id] = name
            articles.append(article)
            fate.append(article.id)
        if details is not None and len(warnings) > before:
            details.setdefault("files", []).append((name, tuple(warnings[before:])))
    used_ids = {id(entry) for entry in used}
    unused = [entry for entry in entries if id(entry) not in used_ids]
    if details is not None:
        details.setdefault("files", [])
        details["unused"] = [i for i, entry in enumerate(entries) if id(entry) not in used_ids]
        details["skipped"] = set(skipped)
    files = {path.name: path for path in folder.iterdir()} if unused else {}  # listed if needed
    warnings.extend(
        message
        for entry in unused
        if (message := unused_entry_warning(entry, files, skipped)) is not None
    )
    if not jobs:
        warnings.insert(0, f"no article files (.txt or .md) in the corpus folder {folder}")
    elif not articles:
        warnings.insert(0, f"none of the {len(jobs)} article file(s) could be loaded")
    load = CorpusLoad(tuple(articles), tuple(warnings), tuple(removed), tuple(duplicates))
    return load, fates


def describe(article: Article) -> str:
    """Return one line describing ``article`` for listings."""
    date = article.date.isoformat() if article.date else "undated"
    return f"{article.id}  {date}  {article.outlet}  {article.title}  ({len(article.text):,} chars)"
