"""Recognise place mentions in German or English text: an Aho-Corasick scan, then per-hit rules.

The scan runs over a folded copy of the text (lower case, unified dashes and spaces) with an
offset map back to the original. Each hit must sit on word boundaries, may carry a German
inflection suffix (genitive -s/-es on names, -e/-en/-er/-es/-em on adjectives), must have the
right capitalisation (names capitalised, acronyms exact) and survives the trap rules: first
names ("Wladimir Putin"), non-place terms ("Normandie-Format", matched as longer aliases),
hyphen compounds ("Kreml-Wünsche": kind "compound", not a place mention).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import asdict, dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from kzgeo.gazetteer import (
    AliasRef,
    Gazetteer,
    Normalized,
    normalize,
    normalize_alias,
    read_table,
    zipf,
)
from kzgeo.sentences import DEFAULT_LANGUAGE, sentence_at, split_sentences

# Mention kinds. Only "place" counts as a place mention; the others are kept for inspection.
PLACE_KINDS = frozenset({"place"})
RELATED_KINDS = frozenset({"adjective", "demonym", "compound"})
REJECTED_KINDS = frozenset({"name", "person", "word"})

NOUN_SUFFIXES = ("es", "s", "'s", "'", "")
# English has no genitive -s without an apostrophe: "Pandas", "Newtons" are not Panda's, Newton's
ENGLISH_SUFFIXES = frozenset({"'s", "'", ""})
CURRENCY_MARKS = frozenset("$€£¥₸₽")
ADJECTIVE_SUFFIXES = ("em", "en", "er", "es", "e", "")
EXACT_SUFFIXES = ("",)
_SUFFIX_STARTS = frozenset(s[0] for s in NOUN_SUFFIXES + ADJECTIVE_SUFFIXES if s)
_SUFFIXES_BY_KIND = {
    "place": NOUN_SUFFIXES, "metonym": NOUN_SUFFIXES, "overlay": EXACT_SUFFIXES,
    "adjective": ADJECTIVE_SUFFIXES, "demonym": EXACT_SUFFIXES, "name": NOUN_SUFFIXES,
}


class Found(NamedTuple):
    """A recognised mention as ``recognize`` returns it (``Mention`` without the surface and
    the article id): a tuple, so it unpacks and sorts as one."""

    start: int
    end: int
    kind: str
    alias: str
    candidates: tuple[str, ...]
    sentence_start: int
    sentence_end: int
    metonym: bool
    overlay: bool
    note: str


@dataclass(slots=True)
class Mention:
    """A recognised surface form: where it is, what kind it is, which entries it may mean."""

    surface: str
    start: int
    end: int
    kind: str  # place, adjective, demonym, compound (or, when asked for, name / person)
    alias: str  # the normalised alias key that matched
    candidates: tuple[str, ...]  # gazetteer ids
    sentence_start: int
    sentence_end: int
    article_id: str | None = None
    metonym: bool = False  # a building standing for its city (Kreml -> Moscow)
    overlay: bool = False  # a phrase naming a feature around other places (border phrases)
    note: str = ""  # why a hit is not a place mention

    def to_dict(self) -> dict[str, Any]:
        """Return the mention as a plain dict."""
        d = asdict(self)
        d["candidates"] = list(self.candidates)
        return d


def _text_and_id(article_or_text: Any) -> tuple[str, str | None]:
    if article_or_text is None:
        return "", None
    if isinstance(article_or_text, str):
        return article_or_text, None
    return article_or_text.text or "", getattr(article_or_text, "id", None)


def language_of(article_or_text: Any) -> str:
    """Return the article's language code; plain strings and unset languages are German."""
    return getattr(article_or_text, "language", None) or DEFAULT_LANGUAGE


def stops_for(gazetteer: Gazetteer, language: str) -> frozenset[str]:
    """Return the stop surfaces of GeoNames-only hits in ``language`` (cached per gazetteer)."""
    cache = gazetteer.memo_stops
    stops = cache.get(language)
    if stops is None:
        extra = gazetteer.language_stops.get(language, frozenset())
        stops = cache[language] = gazetteer.stop_surfaces | extra
    return stops


@lru_cache(maxsize=1)
def context_words() -> tuple[frozenset[str], ...]:
    """Return (articles, locatives, organisation heads, feature heads) from traps.toml."""
    t = read_table("traps.toml")
    return (frozenset(t["articles"]), frozenset(t["locatives"]),
            frozenset(t["organisation_heads"]), frozenset(t["feature_heads"]))


_LINK_WORDS = frozenset({"of", "for", "and", "&", "für", "und", "de"})
_TRAILING = ".,;:!?)]»«“”\"'’"


def _capitalised_words_after(text: str, pos: int, limit: int = 4) -> list[str]:
    """Return up to ``limit`` capitalised words right after ``pos`` (linking words between
    them are skipped: "of", "for", "and", "&", "für", "und", "de").

    >>> _capitalised_words_after("Shanghai Cooperation Organisation meets", 8)
    ['Cooperation', 'Organisation']
    >>> _capitalised_words_after("Bank of China Ltd.", 4), _capitalised_words_after("x", 1)
    (['China', 'Ltd'], [])
    """
    out: list[str] = []
    for word in text[pos : pos + 100].split(" ")[1:]:
        word = word.rstrip(_TRAILING)
        if word in _LINK_WORDS:
            continue
        if not word[:1].isupper():
            break
        out.append(word)
        if len(out) == limit:
            break
    return out


@lru_cache(maxsize=1)
def _heads_pattern() -> re.Pattern:
    heads = sorted(context_words()[2], key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, heads)) + r")\b")


def _squeezed(s: str) -> str:
    return " ".join(s.translate({0x2013: "-", 0x2014: "-", 0x2011: "-", 0x2010: "-"}).split())


def _case_ok(case: str, form: str, original: str) -> bool:
    if case == "any":
        return True
    if case == "cap":
        return original[:1].isupper()
    # acronyms match exactly; the words after one ("CPC marine terminal") in any case
    head = _squeezed(form).split(" ", 1)[0]
    return _squeezed(original).startswith(head)


def _word_after(text: str, pos: int) -> str:
    """Return the word starting after whitespace at ``pos`` (original text), or ''."""
    i = pos
    n = len(text)
    while i < n and text[i] in " \t\n\u00a0":
        i += 1
    j = i
    while j < n and (text[j].isalpha() or text[j] in "-'’"):
        j += 1
    return text[i:j]


def _word_before(ntext: str, pos: int) -> str:
    """Return the normalised word that ends right before ``pos`` (skipping one space)."""
    i = pos - 1
    if i >= 0 and ntext[i] == " ":
        i -= 1
    j = i
    while j >= 0 and (ntext[j].isalnum() or ntext[j] in ".-"):
        j -= 1
    return ntext[j + 1 : i + 1]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What the recogniser needs to know about one alias key (computed once per key)."""

    refs: tuple[AliasRef, ...]
    kinds: frozenset[str]
    suffixes: tuple[str, ...]
    ids: tuple[str, ...]
    geonames_only: bool
    overlay: bool
    metonym: bool
    case_free: bool  # no ref needs an exact-case check
    lower_refs: tuple[AliasRef, ...]  # the refs a lower-case surface keeps when case_free
    # (``refs`` itself when that is all of them: a hit has all refs when its refs are ``refs``)
    verdict: tuple[str, str] | None  # (kind, note) of a free-standing hit with every ref,
    # when no context rule applies (not a first name, not GeoNames-only); else None


def key_info(key: str, gazetteer: Gazetteer) -> KeyInfo:
    """Return the (cached) KeyInfo of an alias key."""
    cache = gazetteer.memo_key_info
    info = cache.get(key)
    if info is None:
        refs = tuple(map(AliasRef._make, gazetteer.aliases[key]))
        kinds = frozenset(r.kind for r in refs)
        if "adjective" in kinds:
            suffixes = ADJECTIVE_SUFFIXES
        elif kinds & {"place", "metonym", "name"}:
            suffixes = NOUN_SUFFIXES
        else:
            suffixes = EXACT_SUFFIXES
        geonames_only = all(r.quality.startswith("geonames") for r in refs)
        context_free = not geonames_only and key not in gazetteer.first_names
        info = cache[key] = KeyInfo(
            refs=refs, kinds=kinds, suffixes=suffixes, ids=_ids(refs, gazetteer),
            geonames_only=geonames_only, overlay=kinds == {"overlay"},
            metonym="metonym" in kinds, case_free=all(r.case != "exact" for r in refs),
            lower_refs=refs if all(r.case == "any" for r in refs) else tuple(
                r for r in refs if r.case == "any"),
            verdict=_kind_of(kinds) if context_free else None,
        )
    return info


def _ids(refs: tuple[AliasRef, ...], gazetteer: Gazetteer) -> tuple[str, ...]:
    return tuple(dict.fromkeys(gazetteer.entries[r.entry].id for r in refs if r.entry >= 0))


def scan(
    text: str, gazetteer: Gazetteer, language: str = DEFAULT_LANGUAGE,
    norm: Normalized | None = None,
) -> list[tuple]:
    """Return raw hits (start, end, alias key, refs, flag, KeyInfo), original offsets, overlaps
    kept. ``refs`` is the KeyInfo's own tuple when the hit keeps all of them.

    The automaton's keys start with a space, so every hit starts a word. ``flag`` is "" for a
    free-standing word and "compound-head" when a hyphen follows ("Kreml-Wünsche"). GeoNames-only
    hits that are common words of ``language`` (its stop surfaces) are left out. ``norm`` is
    ``normalize(text)`` when the caller has it already.
    """
    norm = norm or normalize(text)
    ntext = f" {norm.text} "  # positions below are in ntext; norm offsets are one less
    breaks = norm.breaks  # Normalized.to_original, inlined: the shift after breaks[k - 1]
    shift_at = (0, *norm.shifts)  # is shift_at[k]
    stops = stops_for(gazetteer, language)
    english = language == "en"
    cache = gazetteer.memo_key_info
    hits = []
    for last, key in gazetteer.automaton.iter(ntext):
        end = last + 1
        after = ntext[end]
        if after.isalnum():  # the word goes on (a key never ends on the final space)
            if after not in _SUFFIX_STARTS or ntext[end + 1 : end + 3].isalnum():
                continue  # no suffix is longer than two characters
            info = cache.get(key) or key_info(key, gazetteer)
            for suffix in info.suffixes:
                k = end + len(suffix)
                if suffix and ntext.startswith(suffix, end) and not ntext[k].isalnum():
                    end = k
                    break
            else:  # no suffix fits
                continue
            if english and suffix not in ENGLISH_SUFFIXES:
                continue
        else:
            info = cache.get(key) or key_info(key, gazetteer)
        s = last + 1 - len(key)
        o_start, o_end = s - 1, end - 1
        if breaks:
            o_start += shift_at[bisect_right(breaks, o_start)]
            o_end += shift_at[bisect_right(breaks, o_end - 1)]
        if info.case_free:  # _case_ok without calls: "cap" refs need a capital, "any" do not
            refs = info.refs if text[o_start].isupper() else info.lower_refs
        else:
            surface = text[o_start:o_end]
            refs = tuple(r for r in info.refs if _case_ok(r.case, r.form, surface))
            if len(refs) == len(info.refs):
                refs = info.refs
        if not refs:
            continue
        if info.geonames_only and ntext[s:end] in stops:
            continue
        # the pad after the text is a space, so ntext[end + 1] exists after a hyphen
        flag = "compound-head" if ntext[end] == "-" and ntext[end + 1].isalpha() else ""
        hits.append((o_start, o_end, key, refs, flag, info))
    return hits


def _kind_of(kinds: frozenset[str] | set[str]) -> tuple[str, str]:
    """Return (kind, note) of a free-standing hit by its refs' kinds alone."""
    if "name" in kinds:
        return "name", "part of a non-place term"
    if kinds & {"place", "metonym"}:
        return "place", ""
    if "adjective" in kinds:
        return "adjective", ""
    return "demonym", ""


def _kind(
    text: str, folded: str, hit: tuple, gazetteer: Gazetteer, language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
    """Return (kind, note) of a selected hit; ``folded`` is ``fold(text)``."""
    start, end, key, refs, flag, info = hit
    full = refs is info.refs
    if full and not flag and info.verdict is not None:
        return info.verdict
    kinds = info.kinds if full else {r.kind for r in refs}
    if "name" in kinds:
        return "name", "part of a non-place term"
    if flag:
        return "compound", f"{flag} of a hyphenated compound"
    if key in gazetteer.first_names and _word_after(text, end)[:1].isupper():
        return "person", "first name followed by a capitalised word"
    if info.geonames_only:  # curated and country names are never persons
        window = folded[max(0, start - 40) : start]
        before = _word_before(window, len(window))
        if before in gazetteer.first_names or (
                before in gazetteer.given_names and _capitalised_before(text, start)):
            return "person", "follows a first name"
        # gender-guesser's whole list, also names that are words (Max, Jasper): "First Last"
        if _capitalised_before(text, start) and _given_name_before(text, start, 0, gazetteer):
            return "person", "follows a given name"
        if text[end + 1 : end + 2].isupper() and text[start:end] in gazetteer.name_words and (
                _rare_name_after(text, end, gazetteer, language)):
            return "person", "a given name followed by a rare capitalised word"
        if before in gazetteer.person_titles and kinds <= {"place"}:
            return "person", "follows a person title"
        if key in gazetteer.small_given_name_keys:
            if _word_after(text, end)[:1].isupper():
                return "person", "a given name followed by a capitalised word"
            if _largest_town(refs, gazetteer) < MIN_POPULATION_BARE_GIVEN_NAME:
                return "person", "a given name; its town is small"
        articles, locatives, _, _ = context_words()
        if key in gazetteer.weak_keys.get(language, ()):
            if before not in locatives and folded[start - 2 : start - 1] != ",":
                if before in articles:
                    return "word", "an ordinary noun after an article"
                return "word", "also an ordinary word; no preposition or list makes it a place"
            return "place", WEAK_NOTE + "also an ordinary word; a place after a preposition"
        if key in gazetteer.small_given_name_keys:
            return "place", WEAK_NOTE + "also a given name"
    return _kind_of(kinds)


WEAK_NOTE = "weak: "  # a place mention whose form is also something else (lower confidence)


MIN_POPULATION_BARE_GIVEN_NAME = 100_000  # a given name alone is a town from this size on


def _capitalised_before(text: str, start: int) -> bool:
    """Return True when the word before ``start`` (one space between) starts upper case."""
    i = start - 2
    while i > 0 and (text[i - 1].isalpha() or text[i - 1] in "-'’"):
        i -= 1
    return text[start - 1 : start] == " " and text[i : i + 1].isupper()


def _largest_town(refs: tuple[AliasRef, ...], gazetteer: Gazetteer) -> int:
    return max((gazetteer.entries[r.entry].population for r in refs if r.entry >= 0), default=0)


def _name_context(text: str, end: int) -> tuple[str, str] | None:
    """Return (kind, note) when what follows a hit makes it part of a name or a unit: a
    currency sign or a number ("US$", "US 5"), or an organisation's or medium's name ("Shanghai
    Cooperation Organisation", "Astana Times"); else None."""
    nxt = text[end : end + 1]
    if nxt in CURRENCY_MARKS:
        return "name", "part of a currency or unit"
    if nxt == " " and text[end + 1 : end + 2].isupper() and _heads_pattern().search(
            text, end, end + 100):
        heads = context_words()[2]
        if any(w in heads for w in _capitalised_words_after(text, end)):
            return "name", "part of an organisation's or a medium's name"
    return None


LINK_REACH = 120  # characters: a complement link further before a place is not looked at
NAME_NOTE = "in a name: "  # a place mention that may be part of a name (lower confidence)
_ABBREVIATION = re.compile(r"[A-ZÄÖÜ][A-Za-zÄÖÜäöü]{1,3}")
_END_PUNCT = frozenset(".,;:!?()[]«»“”\"'’")
_END_CHARS = "".join(sorted(_END_PUNCT))
_CLAUSE_BREAKS = ",;:()[]"


@lru_cache(maxsize=1)
def confidence_table() -> dict[str, Any]:
    """Return the confidence signals of ``kzgeo/data/confidence.toml`` (heads as a tuple)."""
    t = read_table("confidence.toml")
    # the end of a word, inflected (Zentrums, Instituts, Rates), before any punctuation
    t["heads_re"] = re.compile("(?i:" + "|".join(map(re.escape, t["institution_heads"]))
                               + r")(?:s|es|en|n|e)?\W*$")
    t["complement_links"] = frozenset(t["complement_links"])
    t["route_words"] = frozenset(t["route_words"])
    t["club_words"] = frozenset(t["club_words"])
    return t


def club_before(text: str, start: int) -> str | None:
    """Return the club word right before ``start`` ("Borussia" in "Borussia Dortmund"), also
    at a sentence's start, or None. (``recognize`` inlines it.)

    >>> club_before("Borussia Dortmund", 9), club_before("in Dortmund", 3)
    ('Borussia', None)
    """
    if start < 2 or text[start - 1] != " " or not text[start - 2].isalpha():
        return None
    j = text.rfind(" ", max(0, start - 20), start - 1) + 1  # club words are short
    word = text[j : start - 1]
    return word if word[:1].isupper() and word in confidence_table()["club_words"] else None


def _token_before(text: str, start: int, s_start: int) -> str:
    """Return the word right before ``start`` (one space between, no punctuation after it and
    not the sentence's first word), or ''."""
    if start - 2 < s_start or text[start - 1] != " " or not text[start - 2].isalnum():
        return ""
    i = text.rfind(" ", s_start, start - 1)
    if i < s_start:
        return ""
    word = text[i + 1 : start - 1]
    return word if word.isprintable() else word.split()[-1]


def _given_name_before(text: str, start: int, s_start: int, gazetteer: Gazetteer,
                       before: str | None = None) -> bool:
    """Return True when the word right before ``start`` (``before``, when the caller has it)
    is a given name used as one: not after an article or determiner ("Max Brod", not "im
    Sinne Moskaus": Sinne is a noun)."""
    if before is None:
        before = _token_before(text, start, s_start)
    if before not in gazetteer.name_words:
        return False
    at = start - len(before) - 1
    return _token_before(text, at, s_start).lower() not in context_words()[0]


def _token_after(text: str, end: int) -> str:
    """Return the word right after ``end`` (one space between), trailing punctuation cut."""
    if text[end : end + 1] != " ":
        return ""
    j = end + 1
    while j < len(text) and not text[j].isspace():
        j += 1
    return text[end + 1 : j].rstrip("".join(_END_PUNCT))


def _is_place_word(word: str, gazetteer: Gazetteer) -> bool:
    refs = gazetteer.aliases.get(normalize_alias(word))
    return bool(refs) and any(r[1] == "place" for r in refs)


def _rare_name_after(text: str, end: int, gazetteer: Gazetteer, language: str) -> bool:
    """Return True when the word right after ``end`` is capitalised, rare in ``language``
    (Zipf below confidence.toml's rare_zipf) and no place name: a surname ("Philipsen")."""
    after = _token_after(text, end)
    if not (after[:1].isupper() and after.isalpha()) or _is_place_word(after, gazetteer):
        return False
    frequent = gazetteer.frequent_words.get(language)
    if frequent is None:  # a language without a stored table
        return zipf(after, language) < confidence_table()["rare_zipf"]
    return after.lower() not in frequent


def _institution_complement(text: str, start: int, s_start: int) -> str | None:
    """Return the institution head whose "für / zur / for" complement reaches the place at
    ``start`` within the clause ("Regionalzentrum ... für präventive Diplomatie in
    Zentralasien"), or None."""
    t = confidence_table()
    lo = max(s_start, start - 2 * LINK_REACH)
    lo = max(lo, max(text.rfind(c, lo, start) for c in _CLAUSE_BREAKS) + 1)
    words = text[lo:start].split()
    n, links, heads = len(words), t["complement_links"], t["heads_re"]
    for link in range(n - 1, max(-1, n - 2 - t["complement_words"]), -1):
        if words[link] in links:
            for w in words[max(0, link - 5) : link]:
                if w[:1].isupper() and heads.search(w):
                    return w.rstrip(_END_CHARS)
    return None


def name_doubt(
    text: str, start: int, end: int, s_start: int, gazetteer: Gazetteer, language: str,
    geonames_only: bool = False, link_before: bool = True,
) -> str | None:
    """Return why a place mention may be part of a name (a club, a person, an institution),
    as a note starting with NAME_NOTE, or None; the signals are ``confidence.toml``'s.
    ``link_before`` False says no complement link ("für", "for") precedes the place closely
    (``recognize`` knows it from one scan of the text)."""
    before = _token_before(text, start, s_start)
    if before[:1].isupper():
        if (len(before) <= 4 and _ABBREVIATION.fullmatch(before)
                and sum(c.isupper() for c in before) >= 2
                and not _is_place_word(before, gazetteer)):
            return f"{NAME_NOTE}after the abbreviation {before!r}"
        if _given_name_before(text, start, s_start, gazetteer, before) and not _is_place_word(
                before, gazetteer):
            return f"{NAME_NOTE}after the given name {before!r}"
    if text[end : end + 1] == " " and text[end + 1 : end + 2].isupper():
        after = _token_after(text, end)
        if _is_place_word(after, gazetteer):
            if geonames_only:
                return f"{NAME_NOTE}before the place name {after!r} (a designator?)"
        elif _rare_name_after(text, end, gazetteer, language):
            return f"{NAME_NOTE}before the rare capitalised word {after!r} (a surname?)"
    head = _institution_complement(text, start, s_start) if link_before else None
    if head is not None:
        return f"{NAME_NOTE}in a complement of {head!r}"
    return None


@lru_cache(maxsize=1)
def _links_pattern() -> re.Pattern:
    links = sorted(confidence_table()["complement_links"])
    return re.compile(r" (?:" + "|".join(map(re.escape, links)) + r") ")


def link_ends(text: str) -> list[int]:
    """Return where each complement link word ("für", "for") of ``text`` ends, in order."""
    return [m.end() for m in _links_pattern().finditer(text)]


_DASHES = "-\u2010\u2011\u2012\u2013\u2014"


def place_chain(text: str, end: int, gazetteer: Gazetteer) -> list[tuple] | None:
    """Return the places of a dash-joined chain after a place that ends at ``end``
    ("Xi'an-Altynkol-Aktau-Baku route": Aktau, Baku) as (start, end, key, KeyInfo), when the
    chain's last part is a place name (so not a compound such as "Russland-Ukraine-Krieg");
    else None. Parts that are not place names (Altynkol) are skipped."""
    parts = []
    i, n = end, len(text)
    while i < n and text[i] in _DASHES:
        j = k = i + 1
        while k < n and (text[k].isalpha() or text[k] in "'’"):
            k += 1
        if k == j:
            return None
        parts.append((j, k))
        i = k
    if not parts or (i < n and text[i].isalnum()):
        return None
    out = []
    for j, k in parts:
        key = normalize_alias(text[j:k])
        if text[j].isupper() and key in gazetteer.aliases:
            info = key_info(key, gazetteer)
            if "place" in info.kinds:
                out.append((j, k, key, info))
    if not out or out[-1][0] != parts[-1][0]:
        return None
    return out


def _bare_pair(text: str, chain: list[tuple]) -> bool:
    """Return True when a chain is two names joined by a dash with no route word after them
    ("Österreich-Ungarn", not "the Aktau-Baku route"): maybe one compound name."""
    return len(chain) == 1 and (
        _token_after(text, chain[-1][1]).lower() not in confidence_table()["route_words"])


def _feature_compound_end(text: str, end: int) -> int | None:
    """Return the end of "X-Feld", "X-Fluss", "X-Hafen" ... when the word after the hyphen at
    ``end`` is a feature head, else None."""
    word = _word_after(text, end + 1)
    if word in context_words()[3]:
        return end + 1 + len(word)
    return None


def recognize(
    text: str, gazetteer: Gazetteer, language: str = DEFAULT_LANGUAGE,
    include_rejected: bool = False, norm: Normalized | None = None,
) -> list[Found]:
    """Return the mentions in ``text`` as ``Found`` tuples, in text order: (start, end, kind,
    alias, candidates, sentence_start, sentence_end, metonym, overlay, note) -- ``Mention``'s
    fields without the surface and the article id. ``find_mentions`` says what the kinds are;
    ``scan`` what ``norm`` is.

    >>> recognize("", None)
    []
    """
    if not text:
        return []
    norm = norm or normalize(text)
    spans = split_sentences(text, language)
    starts = list(map(itemgetter(0), spans))
    out, overlays = [], []
    reach = -1
    links = given = None  # link_ends(text) and the given names, at the first place mention
    clubs = confidence_table()["club_words"]
    # by start, longest first (two stable sorts with C keys: ends descending, then starts); the
    # leftmost-longest hits that do not overlap are mentions, and overlays besides them
    hits = scan(text, gazetteer, language, norm)
    for hit in sorted(sorted(hits, key=itemgetter(1), reverse=True), key=itemgetter(0)):
        start, end, key, refs, flag, info = hit
        if info.overlay:  # overlay keys hold only overlay refs
            overlays.append(hit)
            continue
        if start < reach:
            continue
        chain = None
        if flag:
            head_end = _feature_compound_end(text, end)
            if head_end is not None:  # "Tengiz-Feld": the place, not a compound
                end, flag = head_end, ""
                hit = (start, end, key, refs, flag, info)
            else:
                chain = place_chain(text, end, gazetteer)
                if chain is not None:  # "Aktau-Baku-Poti route": places, not a compound
                    flag = ""
                    hit = (start, end, key, refs, flag, info)
        reach = end if chain is None else chain[-1][1]
        context = _name_context(text, end) if (
            text[end : end + 1] in CURRENCY_MARKS or text[end : end + 2][-1:].isupper()) else None
        if context is not None:
            kind, note = context
        elif info.verdict is not None and not flag and refs is info.refs:
            kind, note = info.verdict  # _kind's first rule, inline: most hits end here
        else:
            kind, note = _kind(text, norm.folded, hit, gazetteer, language)
        if kind in REJECTED_KINDS and not include_rejected:
            continue
        # sentence_at: a hit is a word, so it starts at or after the first sentence
        s_start, s_end = spans[bisect_right(starts, start) - 1]
        if kind == "place" and text[start - 2 : start - 1].isalpha():  # club_before, inline
            j = text.rfind(" ", start - 20 if start > 20 else 0, start - 1) + 1
            if text[j].isupper() and text[j : start - 1] in clubs:
                kind, note = "name", f"part of a club's name ({text[j : start - 1]!r})"
                if not include_rejected:
                    continue
        if kind == "place":  # a place inside a name? (cheap tests first: most are not)
            doubt = None
            if links is None:
                links, given = link_ends(text), gazetteer.name_words
            k = bisect_right(links, start)
            near = k > 0 and links[k - 1] > s_start and links[k - 1] > start - LINK_REACH
            if chain is not None and _bare_pair(text, chain):
                doubt = f"{NAME_NOTE}a dash-joined pair ({text[start : chain[-1][1]]!r})"
            elif near or text[end + 1 : end + 2].isupper():
                doubt = name_doubt(text, start, end, s_start, gazetteer, language,
                                   info.geonames_only, near)
            else:
                j = text.rfind(" ", s_start, start - 1) + 1  # where the word before starts
                if j and text[j].isupper() and text[start - 1] == " " and (
                        start - 1 - j <= 4 or text[j : start - 1] in given):
                    doubt = name_doubt(text, start, end, s_start, gazetteer, language,
                                       info.geonames_only, near)
            if doubt is not None:
                note = f"{doubt}; {note}" if note else doubt
        ids = info.ids if refs is info.refs else _ids(refs, gazetteer)
        out.append(Found(start, end, kind, key, ids, s_start, s_end, info.metonym, False, note))
        for c_start, c_end, c_key, c_info in chain or ():
            c_kind, c_note = _kind(text, norm.folded, (c_start, c_end, c_key, c_info.refs, "",
                                                       c_info), gazetteer, language)
            if c_kind == "place" and _bare_pair(text, chain):
                c_note = f"{NAME_NOTE}a dash-joined pair; {c_note}" if c_note else (
                    f"{NAME_NOTE}a dash-joined pair")
            if c_kind not in REJECTED_KINDS or include_rejected:
                out.append(Found(c_start, c_end, c_kind, c_key, c_info.ids, s_start, s_end,
                                 c_info.metonym, False, c_note))
    if overlays:
        for start, end, key, refs, _flag, info in overlays:
            s_start, s_end = sentence_at(spans, start)
            ids = info.ids if refs is info.refs else _ids(refs, gazetteer)
            out.append(Found(start, end, "place", key, ids, s_start, s_end, info.metonym, True,
                             ""))
        out.sort(key=lambda m: (m[0], -m[1]))
    return out


def find_mentions(
    article_or_text: Any, gazetteer: Gazetteer, include_rejected: bool = False
) -> list[Mention]:
    """Return the mentions in an article (or a plain string), in text order.

    Kinds: place, adjective, demonym, compound; with ``include_rejected`` also name (a place
    inside a non-place term) and person (a first name or a surname that is a town somewhere).
    An article's ``language`` picks the sentence splitter and the common-word stop list.

    >>> find_mentions(None, None)
    []
    """
    text, article_id = _text_and_id(article_or_text)
    found = recognize(text, gazetteer, language_of(article_or_text), include_rejected)
    return [
        Mention(text[start:end], start, end, kind, alias, candidates, s_start, s_end, article_id,
                metonym, overlay, note)
        for start, end, kind, alias, candidates, s_start, s_end, metonym, overlay, note in found
    ]  # fmt: skip
