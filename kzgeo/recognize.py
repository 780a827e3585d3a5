"""Recognise place mentions in German text: one Aho-Corasick scan, then cheap per-hit rules.

The scan runs over a folded copy of the text (lower case, unified dashes and spaces) with an
offset map back to the original. Each hit must sit on word boundaries, may carry a German
inflection suffix (genitive -s/-es on names, -e/-en/-er/-es/-em on adjectives), must have the
right capitalisation (names capitalised, acronyms exact) and survives the trap rules: first
names ("Wladimir Putin"), non-place terms ("Normandie-Format", matched as longer aliases),
hyphen compounds ("Kreml-Wünsche": kind "compound", not a place mention).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kzgeo.gazetteer import AliasRef, Gazetteer, fold, normalize
from kzgeo.sentences import sentence_at, split_sentences

# Mention kinds. Only "place" counts as a place mention; the others are kept for inspection.
PLACE_KINDS = frozenset({"place"})
RELATED_KINDS = frozenset({"adjective", "demonym", "compound"})
REJECTED_KINDS = frozenset({"name", "person"})

NOUN_SUFFIXES = ("es", "s", "'s", "'", "")
ADJECTIVE_SUFFIXES = ("em", "en", "er", "es", "e", "")
EXACT_SUFFIXES = ("",)
_SUFFIXES_BY_KIND = {
    "place": NOUN_SUFFIXES, "metonym": NOUN_SUFFIXES, "overlay": EXACT_SUFFIXES,
    "adjective": ADJECTIVE_SUFFIXES, "demonym": EXACT_SUFFIXES, "name": NOUN_SUFFIXES,
}


@dataclass(frozen=True)
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


def _squeezed(s: str) -> str:
    return " ".join(s.translate({0x2013: "-", 0x2014: "-", 0x2011: "-", 0x2010: "-"}).split())


def _case_ok(ref: AliasRef, original: str) -> bool:
    if ref.case == "any":
        return True
    if ref.case == "cap":
        return original[:1].isupper()
    return _squeezed(original[: len(original)]).startswith(_squeezed(ref.form))


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


def scan(text: str, gazetteer: Gazetteer) -> list[tuple[int, int, str, tuple[AliasRef, ...], str]]:
    """Return raw hits (start, end, alias key, refs, flag) in original offsets, overlaps kept.

    ``flag`` is "" for a free-standing word, "compound-head" when a hyphen follows
    ("Kreml-Wünsche") and "compound-tail" when a hyphen precedes ("UN-Genf").
    """
    norm = normalize(text)
    ntext = norm.text
    nlen = len(ntext)
    aliases = gazetteer.aliases
    directions = gazetteer.direction_prefixes
    stops = gazetteer.stop_surfaces
    hits = []
    for last, key in gazetteer.automaton.iter(ntext):
        s = last - len(key) + 1
        prev = ntext[s - 1] if s else " "
        if prev.isalnum():
            continue
        e = last + 1
        raw = aliases[key]
        kinds = {r[1] for r in raw}
        suffixes = ADJECTIVE_SUFFIXES if "adjective" in kinds else (
            NOUN_SUFFIXES if kinds & {"place", "metonym", "name"} else EXACT_SUFFIXES)
        end = -1
        for suf in suffixes:
            k = e + len(suf)
            if ntext.startswith(suf, e) and (k >= nlen or not ntext[k].isalnum()):
                end = k
                break
        if end < 0:
            continue
        flag = ""
        if end < nlen - 1 and ntext[end] == "-" and ntext[end + 1].isalpha():
            flag = "compound-head"
        elif prev == "-" and s >= 2 and ntext[s - 2].isalpha():
            before = _word_before(ntext, s - 1)
            if before.lower() not in directions:
                if " " in key:
                    continue  # "Sowjet-Republik Kasachstan" is not "Republik Kasachstan"
                flag = "compound-tail"
        o_start, o_end = norm.to_original(s), norm.to_original(end - 1) + 1
        surface = text[o_start:o_end]
        refs = tuple(r for r in map(AliasRef._make, raw) if _case_ok(r, surface))
        if refs and all(r.quality.startswith("geonames") for r in refs) and (
            ntext[s:end] in stops
        ):
            continue
        if refs:
            hits.append((o_start, o_end, key, refs, flag))
    return hits


def _select(hits: list) -> tuple[list, list]:
    """Split hits into overlays and a leftmost-longest non-overlapping selection of the rest."""
    overlays = [h for h in hits if all(r.kind == "overlay" for r in h[3])]
    rest = sorted((h for h in hits if not all(r.kind == "overlay" for r in h[3])),
                  key=lambda h: (h[0], -(h[1] - h[0])))
    chosen = []
    reach = -1
    for h in rest:
        if h[0] >= reach:
            chosen.append(h)
            reach = h[1]
    return overlays, chosen


def _kind(text: str, hit: tuple, gazetteer: Gazetteer, ntext_before: str) -> tuple[str, str]:
    """Return (kind, note) of a selected hit."""
    start, end, key, refs, flag = hit
    kinds = {r.kind for r in refs}
    if "name" in kinds:
        return "name", "part of a non-place term"
    if flag:
        return "compound", f"{flag} of a hyphenated compound"
    if key in gazetteer.first_names and _word_after(text, end)[:1].isupper():
        return "person", "first name followed by a capitalised word"
    if ntext_before in gazetteer.first_names:
        return "person", "follows a first name"
    if ntext_before in gazetteer.person_titles and kinds <= {"place"} and all(
        r.quality.startswith("geonames") for r in refs
    ):
        return "person", "follows a person title"
    if kinds & {"place", "metonym"}:
        return "place", ""
    if "adjective" in kinds:
        return "adjective", ""
    return "demonym", ""


def find_mentions(
    article_or_text: Any, gazetteer: Gazetteer, include_rejected: bool = False
) -> list[Mention]:
    """Return the mentions in an article (or a plain string), in text order.

    Kinds: place, adjective, demonym, compound; with ``include_rejected`` also name (a place
    inside a non-place term) and person (a first name or a surname that is a town somewhere).

    >>> find_mentions(None, None)
    []
    """
    text, article_id = _text_and_id(article_or_text)
    if not text:
        return []
    hits = scan(text, gazetteer)
    overlays, chosen = _select(hits)
    spans = split_sentences(text)
    out: list[Mention] = []
    for hit in chosen:
        start, end, key, refs, _flag = hit
        window = fold(text[max(0, start - 40) : start])
        before = _word_before(window, len(window))
        kind, note = _kind(text, hit, gazetteer, before)
        if kind in REJECTED_KINDS and not include_rejected:
            continue
        out.append(_mention(text, hit, kind, note, spans, article_id, gazetteer))
    for hit in overlays:
        out.append(_mention(text, hit, "place", "", spans, article_id, gazetteer, overlay=True))
    out.sort(key=lambda m: (m.start, -m.end))
    return out


def _mention(text, hit, kind, note, spans, article_id, gazetteer, overlay=False) -> Mention:
    start, end, key, refs, _flag = hit
    ids = tuple(dict.fromkeys(gazetteer.entries[r.entry].id for r in refs if r.entry >= 0))
    s_start, s_end = sentence_at(spans, start)
    return Mention(
        surface=text[start:end], start=start, end=end, kind=kind, alias=key, candidates=ids,
        sentence_start=s_start, sentence_end=s_end, article_id=article_id,
        metonym=any(r.kind == "metonym" for r in refs), overlay=overlay, note=note,
    )
