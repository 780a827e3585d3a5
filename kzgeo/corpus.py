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
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from kzgeo.ids import slugify

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
    return re.sub(r"[ \t\u00a0]{2,}", " ", folded)


def match_boilerplate(paragraph: str, rules: Iterable[Rule]) -> Rule | None:
    """Return the first rule that marks the folded ``paragraph`` as boilerplate, or None."""
    return next((rule for rule in rules if rule.pattern.search(paragraph)), None)


def match_every_line(paragraph: str, rules: Iterable[Rule]) -> Rule | None:
    """Return the rule of the first line when every line of ``paragraph`` is boilerplate."""
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


def parse_day_month_year(text: str | None) -> dt.date | None:
    """Return the date written as D.M.YYYY in ``text``, or None.

    >>> parse_day_month_year("16.11.2025")
    datetime.date(2025, 11, 16)
    >>> parse_day_month_year(None), parse_day_month_year("32.1.2025")
    (None, None)
    """
    found = re.search(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text or "")
    if not found:
        return None
    day, month, year = (int(part) for part in found.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


MANIFEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "file": str,
    "title": str,
    "outlet": str,
    "author": str,
    "date": dt.date,
    "language": str,
    "url": str,
}


def read_manifest(folder: Path) -> tuple[list[dict], list[str]]:
    """Return the manifest's article entries and a warning per problem found in it."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return [], []
    try:
        table = tomllib.loads(read_text_file(path))
    except (UnreadableFile, tomllib.TOMLDecodeError) as error:
        return [], [f"{MANIFEST_NAME}: ignored, {error}; metadata is guessed from the text"]
    entries, warnings = [], []
    for number, entry in enumerate(table.get("article", []), start=1):
        problems = [
            f"'{key}' should be {getattr(kind, '__name__', kind)}"
            for key, kind in MANIFEST_FIELDS.items()
            if key in entry and not isinstance(entry[key], kind)
        ]
        if "file" not in entry:
            problems.append("'file' is missing")
        if problems:
            warnings.append(f"{MANIFEST_NAME}: article #{number} ignored: {'; '.join(problems)}")
            continue
        entries.append(entry)
    return entries, warnings


def find_entry(entries: list[dict], source_file: str, section: Section, single: bool) -> dict:
    """Return the manifest entry describing ``section`` of ``source_file`` (or an empty dict)."""
    candidates = [entry for entry in entries if entry["file"] == source_file]
    header_title = section.header.get("title")
    if header_title:
        return next((e for e in candidates if same_words(e.get("title", ""), header_title)), {})
    return candidates[0] if single and len(candidates) == 1 else {}


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
    return hashlib.sha1(" ".join(WORD.findall(text.casefold())).encode()).hexdigest()


def list_article_files(folder: Path) -> list[Path]:
    """Return the article files of ``folder`` in name order (hidden files left out)."""
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in ARTICLE_SUFFIXES and not path.name.startswith(".")
    )


def load_file(path: Path, entries: list[dict]) -> tuple[list[Article], list[Removal], list[str]]:
    """Return the articles of one source file, what was removed and a warning per problem."""
    try:
        raw = read_text_file(path)
    except UnreadableFile as error:
        return [], [], [f"{path.name}: skipped, {error}"]
    sections, removed = segment_file(raw, path.name)
    if not sections:
        return [], removed, [f"{path.name}: skipped, no article text left after cleaning"]
    articles, warnings = [], []
    for number, section in enumerate(sections, start=1):
        fallback_id = slugify(path.stem) + (f"-{number}" if len(sections) > 1 else "")
        entry = find_entry(entries, path.name, section, single=len(sections) == 1)
        if not entry:
            name = section.header.get("title") or fallback_id
            warnings.append(f"{path.name}: no manifest entry for '{name}'; metadata guessed")
        article, section_removed = build_article(section, entry, path.name, fallback_id)
        removed.extend(section_removed)
        articles.append(article)
    return articles, removed, warnings


def load_corpus(folder: Path | str) -> CorpusLoad:
    """Load every article in ``folder``; skip unreadable files with a warning.

    Raises CorpusError when ``folder`` is missing or not a folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder}")
    if not folder.is_dir():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    entries, warnings = read_manifest(folder)
    articles: list[Article] = []
    removed: list[Removal] = []
    duplicates: list[str] = []
    id_of_body: dict[str, str] = {}
    loaded_ids: set[str] = set()
    for path in list_article_files(folder):
        file_articles, file_removed, file_warnings = load_file(path, entries)
        removed.extend(file_removed)
        warnings.extend(file_warnings)
        for article in file_articles:
            fingerprint = body_fingerprint(article.text)
            if fingerprint in id_of_body:
                duplicates.append(
                    f"{path.name}: '{article.title}' repeats {id_of_body[fingerprint]}"
                )
                continue
            if article.id in loaded_ids:
                warnings.append(f"{path.name}: duplicate article id '{article.id}'; renamed")
                article = replace(article, id=f"{article.id}-{len(articles) + 1}")
            id_of_body[fingerprint] = article.id
            loaded_ids.add(article.id)
            articles.append(article)
    warnings.extend(
        f"{MANIFEST_NAME}: entry '{entry['id']}' matches no article in the folder"
        for entry in entries
        if "id" in entry and entry["id"] not in loaded_ids
    )
    return CorpusLoad(tuple(articles), tuple(warnings), tuple(removed), tuple(duplicates))


def describe(article: Article) -> str:
    """Return one line describing ``article`` for listings."""
    date = article.date.isoformat() if article.date else "undated"
    return f"{article.id}  {date}  {article.outlet}  {article.title}  ({len(article.text):,} chars)"
