"""Resolve mentions to gazetteer entries, attach quotes and themes: articles -> Geoparse.

Each mention's candidates are scored with priors (curated features and countries first, then
population), the region the corpus is about (the post-Soviet space, China and their neighbours),
countries co-mentioned in the same article and sentence cues (a "Grenzübergang" makes
"Astrachan" the Astrakhan border crossing). The best candidate wins; the others are kept with
their score and the reason they lost, so a user can see why.

Policy (documented in kzgeo/data/README.md): metonyms resolve to the place — "Washington" meaning
the US government is Washington D.C., "der Kreml" is Moscow. Only mentions of kind "place" make
places and quotes; adjectives, demonyms and compounds are resolved and listed in ``mentions``
with a lower confidence but never create a place on their own.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from operator import attrgetter, itemgetter
from types import SimpleNamespace
from typing import Any, NamedTuple

from kzgeo.gazetteer import (
    FOCUS_COUNTRIES,
    AliasRef,
    Entry,
    Gazetteer,
    fold,
    normalize,
    population_prior,
)
from kzgeo.parallel import gc_paused
from kzgeo.recognize import (
    NAME_NOTE,
    REJECTED_KINDS,
    WEAK_NOTE,
    Mention,
    confidence_table,
    find_mentions,
    language_of,
    recognize,
)
from kzgeo.themes import THEME_IDS, keyword_automaton, span_themes, themes_of

# Score contributions (behaviour as a table).
QUALITY_SCORE = {
    "curated": 1.0, "country": 1.0, "admin1": 0.8, "geonames-name": 0.5, "geonames-alt": 0.2,
}
POPULATION_WEIGHT = 1.5
FOCUS_BONUS = 0.8  # the candidate lies in the region this corpus is about
COMENTION_BONUS = 0.7  # the candidate's country is named elsewhere in the article
CUE_BONUS = 2.0  # a cue word of the candidate is in the sentence
MIN_SCORE = 1.0  # below this the best candidate is too weak: the mention stays unresolved
KIND_WEIGHT = {"place": 1.0, "adjective": 0.6, "demonym": 0.6, "compound": 0.5}
# A place mention whose form is also an ordinary word or a given name (recognize's "weak: "
# notes: "in Essen", "Mary") is right less often: its confidence is scaled by this.
WEAK_WEIGHT = 0.75
LAYER_PRECISION = {
    "pipeline": "schematic", "border": "exact", "site": "exact", "crossing": "exact",
    "oil-field": "exact", "alliance": "country", "route": "schematic",
}


@dataclass(frozen=True)
class Candidate:
    """A scored candidate of one mention and why it won or lost."""

    id: str
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the candidate as a plain dict."""
        return asdict(self)


@dataclass(slots=True, unsafe_hash=True)  # hashable as when frozen; three times faster to make
class Quote:
    """A sentence that mentions a place, with where it stands and what it is about."""

    article_id: str
    title: str
    outlet: str
    author: str | None
    date: str | None  # ISO date
    text: str
    start: int  # sentence offsets in the cleaned article text
    end: int
    mention_start: int
    mention_end: int
    surface: str
    themes: tuple[str, ...] = ()
    url: str | None = None  # the original article's web address, when known

    def to_dict(self) -> dict[str, Any]:
        """Return the quote as a plain dict (themes as a list); field by field, as ``asdict``
        would, but without its deep copies (a tenth of the index build at N = 2,000)."""
        return {
            "article_id": self.article_id, "title": self.title, "outlet": self.outlet,
            "author": self.author, "date": self.date, "text": self.text, "start": self.start,
            "end": self.end, "mention_start": self.mention_start, "mention_end": self.mention_end,
            "surface": self.surface, "themes": list(self.themes), "url": self.url,
        }  # fmt: skip


def rejected_text(rejected: Iterable[Candidate]) -> str:
    """Return rejected candidates as one CSV cell: 'id (score): reason; ...'."""
    return "; ".join(f"{c.id} ({c.score:.2f}): {c.reason}" for c in rejected)


@dataclass(slots=True, unsafe_hash=True)  # hashable as when frozen; three times faster to make
class ResolvedMention:
    """One mention with its resolution (a row of the mentions CSV)."""

    article_id: str | None
    surface: str
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    place_id: str | None  # None when no candidate was good enough
    kind: str  # place, adjective, demonym, compound
    confidence: float
    precision: str | None
    rejected: tuple[Candidate, ...] = ()
    note: str = ""
    reason: str = ""  # why the chosen candidate won
    themes: tuple[str, ...] = ()  # of the sentence, in THEMES order

    def to_dict(self) -> dict[str, Any]:
        """Return the mention as a plain dict (rejected candidates as dicts)."""
        d = asdict(self)
        d["rejected"] = [c.to_dict() for c in self.rejected]
        return d

    def to_row(self) -> dict[str, Any]:
        """Return a flat dict for CSV: rejected candidates as 'id (score): reason; ...'."""
        d = self.to_dict()
        d["rejected"] = rejected_text(self.rejected)
        return d


@dataclass
class Place:
    """A resolved place with every quote that mentions it."""

    id: str
    name: str
    name_de: str | None
    names: list[str]  # the surface forms seen, most frequent first
    kind: str  # city, country, region, historic-country, pipeline, border, site, ...
    precision: str
    confidence: float
    lat: float | None  # None where a geodata layer owns the geometry
    lon: float | None
    layer: bool
    country: str | None
    themes: list[str]
    quotes: list[Quote]
    mention_count: int
    rejected: list[dict[str, Any]] = field(default_factory=list)  # candidates it beat

    def to_dict(self) -> dict[str, Any]:
        """Return the place as a plain dict (quotes as dicts)."""
        d = asdict(self)
        d["quotes"] = [q.to_dict() for q in self.quotes]
        return d


@dataclass
class Geoparse:
    """The result of geoparsing a corpus: places with quotes, and every resolved mention."""

    places: list[Place]
    mentions: list[ResolvedMention]
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the geoparse as a plain dict."""
        return {
            "places": [p.to_dict() for p in self.places],
            "mentions": [m.to_dict() for m in self.mentions],
        }

    def place(self, place_id: str) -> Place | None:
        """Return the place with ``place_id`` or None."""
        return next((p for p in self.places if p.id == place_id), None)


# --------------------------------------------------------------------------- scoring
def precision_of(entry: Entry) -> str:
    """Return how exact an entry's geometry is (exact, city, region, country, schematic)."""
    if entry.layer:
        return LAYER_PRECISION.get(entry.kind, "exact")
    return entry.precision


def _article_countries(
    candidate_lists: Iterable[tuple[str, ...]], gazetteer: Gazetteer
) -> frozenset[str]:
    """Return ISO codes of countries named (or named by adjective) in an article, from the
    candidate ids of its mentions."""
    cache = gazetteer.memo_country_named  # id -> (its ISO code,) or ()
    out = set()
    for candidates in set(candidate_lists):  # each distinct candidate tuple once
        if len(candidates) == 1:
            named = cache.get(candidates[0])
            if named is None:
                e = gazetteer.get(candidates[0])
                named = cache[candidates[0]] = (
                    (e.country,) if e is not None and e.kind == "country" else ())
            out.update(named)
    return frozenset(out)


def score_candidates(
    alias: str, folded_sentence: str, countries: frozenset[str], gazetteer: Gazetteer
) -> list[Candidate]:
    """Return the candidates of a mention of ``alias`` scored, best first (ineligible ones score
    -inf). Cues are looked for in the ``fold`` of the mention's sentence."""
    refs = [AliasRef._make(r) for r in gazetteer.aliases.get(alias, ()) if r[0] >= 0]
    best_ref: dict[int, AliasRef] = {}
    for r in refs:
        old = best_ref.get(r.entry)
        if old is None or QUALITY_SCORE[r.quality] > QUALITY_SCORE[old.quality]:
            best_ref[r.entry] = r
    out = []
    for idx, ref in best_ref.items():
        e = gazetteer.entries[idx]
        parts = []
        score = e.priority + QUALITY_SCORE[ref.quality]
        bonus = f" +{e.priority:g} {e.source}" if e.priority else ""
        parts.append(f"{ref.quality} alias{bonus}")
        if e.population:
            pop = POPULATION_WEIGHT * population_prior(e.population)
            score += pop
            parts.append(f"population {e.population:,} +{pop:.2f}")
        if e.country in FOCUS_COUNTRIES:
            score += FOCUS_BONUS
            parts.append(f"in focus region ({e.country})")
        if e.country in countries and e.kind != "country":
            score += COMENTION_BONUS
            parts.append(f"{e.country} named in the article")
        cue = next((c for c in e.cues if c in folded_sentence), None)
        if cue:
            score += CUE_BONUS
            parts.append(f"cue '{cue}' in sentence")
        elif e.requires_cue:
            score = -math.inf
            parts.append("needs a cue in the sentence (" + ", ".join(e.cues[:3]) + ", ...)")
        out.append(Candidate(e.id, round(score, 3), "; ".join(parts)))
    out.sort(key=lambda c: (-c.score, c.id))
    return out


def _confidence(cands: list[Candidate], kind: str, quality: str) -> float:
    finite = [c.score for c in cands if c.score > -math.inf]
    if not finite:
        return 0.0
    top = max(finite)
    temperature = confidence_table()["temperature"]
    z = sum(math.exp((s - top) / temperature) for s in finite)
    conf = (1.0 / z) * KIND_WEIGHT.get(kind, 0.5)
    if quality == "geonames-alt":
        conf *= 0.85
    return round(min(1.0, conf), 3)


class Resolution(NamedTuple):
    """What resolving depends on only through the memo key: the outcome for one mention."""

    place_id: str | None
    confidence: float
    precision: str | None
    rejected: tuple[Candidate, ...]
    reason: str
    weak_note: str | None  # set when the best candidate scored below MIN_SCORE


def _score_inputs(alias: str, gazetteer: Gazetteer) -> tuple[tuple[str | None, ...], tuple]:
    """Return what scoring an alias's candidates reads besides priors (cached per alias).

    That is the country of each candidate that is not a country itself (the co-mention bonus)
    and the cue lists of the candidates with cues.
    """
    cache = gazetteer.memo_score_inputs
    inputs = cache.get(alias)
    if inputs is None:
        indices = dict.fromkeys(r[0] for r in gazetteer.aliases.get(alias, ()) if r[0] >= 0)
        entries = [gazetteer.entries[i] for i in indices]
        inputs = cache[alias] = (
            tuple(e.country for e in entries if e.kind != "country"),
            tuple(e.cues for e in entries if e.cues),
        )
    return inputs


def resolution_key(
    alias: str, kind: str, folded_sentence: str, countries: frozenset[str], gazetteer: Gazetteer
) -> tuple:
    """Return everything ``score_candidates`` reads of a mention and its context, as a key.

    The alias fixes the candidates and their priors; per candidate only the co-mention bonus
    and the first cue found in the sentence vary.
    """
    comentioned, cue_lists = _score_inputs(alias, gazetteer)
    cues_found = tuple(
        next((c for c in cues if c in folded_sentence), None) for cues in cue_lists
    ) if cue_lists else ()
    return alias, kind, tuple(map(countries.__contains__, comentioned)), cues_found


RESOLUTION_MEMO_LIMIT = 200_000  # keys kept per gazetteer before the memo starts afresh


def _resolution(
    alias: str, kind: str, folded_sentence: str, countries: frozenset[str], gazetteer: Gazetteer
) -> Resolution:
    """Return the outcome of ``resolve_candidates``, memoised per gazetteer on its key.

    The memo lives on the (process-wide, shared) gazetteer. That is safe across threads and
    sessions: a value is a pure function of its key, so a race only computes it twice. Keys are
    bounded by the gazetteer's aliases and cues; the memo is emptied past RESOLUTION_MEMO_LIMIT.
    """
    memo = gazetteer.memo_resolutions
    key = resolution_key(alias, kind, folded_sentence, countries, gazetteer)
    found = memo.get(key)
    if found is None:
        if len(memo) >= RESOLUTION_MEMO_LIMIT:
            memo.clear()
        found = memo[key] = resolve_candidates(
            alias, kind, folded_sentence, countries, gazetteer)
    return found


def resolve_candidates(
    alias: str, kind: str, folded_sentence: str, countries: frozenset[str], gazetteer: Gazetteer
) -> Resolution:
    """Pick the best candidate of a mention of ``alias`` (as ``kind``) and keep the others with
    their reasons."""
    cands = score_candidates(alias, folded_sentence, countries, gazetteer)
    best = cands[0] if cands and cands[0].score > -math.inf else None
    weak_note = None
    if best is not None and best.score < MIN_SCORE:
        weak_note = f"best candidate {best.id} too weak ({best.score:.2f} < {MIN_SCORE})"
        best = None
    rejected = tuple(
        c if c.score > -math.inf else Candidate(c.id, 0.0, c.reason)
        for c in (cands[1:] if best is not None else cands)
    )
    if best is None:
        return Resolution(None, 0.0, None, rejected, "", weak_note)
    quality = _quality(alias, best.id, gazetteer)
    entry = gazetteer.get(best.id)
    confidence, reason = _confidence(cands, kind, quality), best.reason
    share = homonym_share(alias, entry, gazetteer)
    if share < 1.0:
        confidence = round(confidence * share, 3)
        reason += f"; {share:.2f} of the inhabitants of all towns of this name"
    return Resolution(
        best.id, confidence, precision_of(entry), rejected, reason, weak_note,
    )


def homonym_share(alias: str, entry: Entry, gazetteer: Gazetteer) -> float:
    """Return the share of a town in the inhabitants of all GeoNames towns named ``alias``,
    those without an entry included (``Gazetteer.unseen_homonyms``); 1.0 for other entries.

    The candidates' softmax sees only entries; a same-named town too small to be one can still
    be what the text means (Brühl in Baden, not Brühl near Cologne), so the town keeps its
    share of the name as a factor of its confidence.
    """
    unseen = gazetteer.unseen_homonyms.get(alias, 0)
    if not unseen or entry.kind != "city" or entry.population <= 0:
        return 1.0
    return entry.population / (entry.population + unseen)


def resolve_mention(
    mention: Mention, text: str, countries: frozenset[str], gazetteer: Gazetteer
) -> ResolvedMention:
    """Resolve one mention: pick the best candidate and keep the others with reasons.

    Outcomes are memoised per gazetteer on ``resolution_key``: the same alias with the same
    co-mentioned countries and cues resolves the same way, so it is scored once.
    """
    m = mention
    sentence = text[m.sentence_start : m.sentence_end]
    place_id, confidence, precision, rejected, reason, weak_note = _resolution(
        m.alias, m.kind, fold(sentence), countries, gazetteer)
    return ResolvedMention(
        m.article_id, m.surface, m.start, m.end, sentence, m.sentence_start, m.sentence_end,
        place_id, m.kind, _weighted(confidence, m.note), precision, rejected,
        weak_note or m.note, reason,
        themes_of(sentence),
    )  # fmt: skip


def _weighted(confidence: float, note: str) -> float:
    """Return the confidence of a mention with recognize's note taken into account: each
    doubt the note names (a weak form, a place inside a name) scales it by its weight."""
    if not note:
        return confidence
    for tag, weight in note_weights().items():
        if tag in note:
            confidence *= weight
    return round(confidence, 3)


@lru_cache(maxsize=1)
def note_weights() -> dict[str, float]:
    """Return recognize's note tags and the weight each scales a mention's confidence by."""
    return {WEAK_NOTE: WEAK_WEIGHT, NAME_NOTE: confidence_table()["name_weight"]}


def _quality(alias: str, entry_id: str | None, gazetteer: Gazetteer) -> str:
    if entry_id is None:
        return "geonames-alt"
    idx = gazetteer.index(entry_id)
    quals = [r[2] for r in gazetteer.aliases.get(alias, ()) if r[0] == idx]
    return max(quals, key=lambda q: QUALITY_SCORE[q], default="geonames-alt")


# --------------------------------------------------------------------------- geoparse
_SENTENCE_SPAN = itemgetter(5, 6)  # of a ``recognize`` tuple
_SURFACE, _REJECTED, _THEMES = attrgetter("surface"), attrgetter("rejected"), attrgetter("themes")
_CONFIDENCE = attrgetter("confidence")


@gc_paused()
def resolve_article(article: Any, gazetteer: Gazetteer) -> list[ResolvedMention]:
    """Return the resolved mentions of one article, in text order.

    The same as ``resolve_mention`` on each mention, with shortcuts: the article is folded once
    (for the scan, the cues and the themes), mentions of one sentence share its text and
    themes, and an alias without cues resolves the same way throughout the article (its key
    depends only on the alias, the kind and the article's countries).
    """
    text = article.text or ""
    article_id = getattr(article, "id", None)
    norm = normalize(text)
    found = recognize(text, gazetteer, language_of(article), norm=norm)
    countries = _article_countries(map(itemgetter(4), found), gazetteer)
    folded = norm.folded
    sentences = sorted(set(map(_SENTENCE_SPAN, found)))  # they do not overlap
    themes_at = dict(zip(
        [s_start for s_start, _ in sentences],
        span_themes(f" {folded} ", sentences, keyword_automaton()), strict=True,
    ))  # fmt: skip
    in_article: dict[str, tuple[str, Resolution]] = {}  # alias -> (kind, its resolution), of
    # aliases without cues
    out = []
    last_start, sentence, folded_sentence, themes = -1, "", "", ()
    for start, end, kind, alias, _ids, s_start, s_end, _metonym, _overlay, note in found:
        if s_start != last_start:  # sentences do not overlap: the start names one
            last_start, sentence = s_start, text[s_start:s_end]
            folded_sentence = folded[s_start:s_end]
            themes = themes_at[s_start]
        known = in_article.get(alias)
        if known is not None and known[0] == kind:
            resolution = known[1]
        else:
            resolution = _resolution(alias, kind, folded_sentence, countries, gazetteer)
            if not _score_inputs(alias, gazetteer)[1]:
                in_article[alias] = (kind, resolution)
        place_id, confidence, precision, rejected, reason, weak_note = resolution
        out.append(ResolvedMention(
            article_id, text[start:end], start, end, sentence, s_start, s_end, place_id, kind,
            _weighted(confidence, note), precision, rejected, weak_note or note, reason, themes,
        ))  # fmt: skip
    return out


class PackedMention(NamedTuple):
    """A resolved mention without what its article gives back (its id and the sentence text):
    cheap to send between processes and to keep in the geoparse cache."""

    surface: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    place_id: str | None
    kind: str
    confidence: float
    precision: str | None
    rejected: tuple[Candidate, ...]
    note: str
    reason: str
    themes: tuple[str, ...]


def pack_mentions(mentions: list[ResolvedMention]) -> list[PackedMention]:
    """Return an article's resolved mentions packed (``PackedMention``)."""
    return [
        PackedMention(m.surface, m.start, m.end, m.sentence_start, m.sentence_end, m.place_id,
                      m.kind, m.confidence, m.precision, m.rejected, m.note, m.reason, m.themes)
        for m in mentions
    ]


def unpack_mentions(article: Any, packed: list[PackedMention]) -> list[ResolvedMention]:
    """Return the resolved mentions ``pack_mentions`` packed for ``article``.

    Mentions of one sentence share one string, as ``resolve_article`` makes them.
    """
    text = article.text or ""
    sentences: dict[int, str] = {}
    out = []
    for p in packed:
        sentence = sentences.get(p.sentence_start)
        if sentence is None:
            sentence = sentences[p.sentence_start] = text[p.sentence_start:p.sentence_end]
        out.append(ResolvedMention(
            article.id, p.surface, p.start, p.end, sentence, p.sentence_start, p.sentence_end,
            p.place_id, p.kind, p.confidence, p.precision, p.rejected, p.note, p.reason, p.themes,
        ))
    return out


@gc_paused()
def geoparse(articles: Iterable[Any], gazetteer: Gazetteer) -> Geoparse:
    """Geoparse articles into places (with quotes and themes) and resolved mentions.

    >>> geoparse([], None).places
    []
    """
    t0 = time.perf_counter()
    articles = list(articles)
    resolved = [resolve_article(article, gazetteer) for article in articles]
    return assemble(articles, resolved, gazetteer, t0)


@gc_paused()
def assemble(
    articles: list[Any],
    resolved: list[list[ResolvedMention]],
    gazetteer: Gazetteer,
    started: float | None = None,
) -> Geoparse:
    """Return the Geoparse of articles whose mentions are resolved (one list per article).

    Places and their quotes are made here, in article order, so resolving the articles in
    separate processes and assembling once gives exactly the single-process result. Quotes
    find their article's title, outlet and date by article id: ids are unique, as
    ``load_corpus`` and ``kzgeo.ingest`` make them.

    >>> assemble([], [], None).mentions
    []
    """
    t0 = time.perf_counter() if started is None else started
    all_mentions: list[ResolvedMention] = []
    by_place: dict[str, list[ResolvedMention]] = defaultdict(list)
    sources: dict[str | None, tuple] = {}
    for article, mentions in zip(articles, resolved, strict=True):
        all_mentions.extend(mentions)
        for rm in mentions:
            if rm.kind == "place" and rm.place_id is not None:
                by_place[rm.place_id].append(rm)
        if mentions:
            sources[mentions[0].article_id] = _source(article)
    squeezed: dict[str, str] = {}
    places = [_make_place(pid, rms, gazetteer, sources, squeezed)
              for pid, rms in by_place.items()]
    places.sort(key=lambda p: (-p.mention_count, p.id))
    return Geoparse(places, all_mentions, round(time.perf_counter() - t0, 4))


def _iso(date: Any) -> str | None:
    return date.isoformat() if hasattr(date, "isoformat") else (str(date) if date else None)


def _squeezed(text: str) -> str:
    """Return ``text`` with its white-space runs as single spaces, none at either end.

    Most sentences already are so (printable means no white space but " "), and come back as
    they are, without a split and join.

    >>> _squeezed("Ende."), _squeezed(" Zwei  Worte\\n."), _squeezed("a\\u00a0b")
    ('Ende.', 'Zwei Worte .', 'a b')
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


class ArticleSource(NamedTuple):
    """What every quote of an article carries about it."""

    article_id: str
    title: str
    outlet: str
    author: str | None
    date: str | None  # ISO
    url: str | None


def _source(article: Any) -> ArticleSource:
    """Return what every quote of ``article`` carries about it."""
    return ArticleSource(article.id, article.title, article.outlet, article.author,
                         _iso(article.date), getattr(article, "url", None))


class PlacePartial(NamedTuple):
    """What some of a place's mentions (one batch of articles, in corpus order) add up to; the
    partials of consecutive batches add up to the place (``kzgeo.parts.merge_parts``)."""

    quotes: list[Quote]  # identical sentences quoted once (first in corpus order)
    keys: list[str]  # each quote's white-space-squeezed sentence (what makes two identical)
    mentions: int
    confidence_milli: int  # the mentions' confidences summed, in thousandths (exact)
    names: dict[str, int]  # squeezed surface forms and their counts, first seen first
    rejected: dict[str, list]  # candidate id -> [count, score, reason], first seen score kept
    themes: frozenset[str]  # of the quotes


def place_partial(
    rms: list[ResolvedMention],
    sources: dict[str | None, ArticleSource],
    squeezed: dict[str, str],
) -> PlacePartial:
    """Return the partial of one place's mentions ``rms`` (in corpus order).

    ``sources`` holds the ``_source`` of each article by id; ``squeezed`` memoises each
    sentence's white-space-squeezed text across places.
    """
    quotes: list[Quote] = []
    keys: list[str] = []
    seen_text: set[str] = set()
    last_sentence = None
    for rm in rms:
        sentence = rm.sentence
        if sentence is last_sentence:  # a second mention in the sentence just quoted (or not)
            continue
        last_sentence = sentence
        key = squeezed.get(sentence)
        if key is None:
            key = squeezed[sentence] = _squeezed(sentence)
        if key in seen_text:
            continue  # identical sentences (and the same sentence twice) are quoted once
        seen_text.add(key)
        keys.append(key)
        src = sources[rm.article_id]
        quotes.append(Quote(src.article_id, src.title, src.outlet, src.author, src.date, sentence,
                            rm.sentence_start, rm.sentence_end, rm.start, rm.end, rm.surface,
                            rm.themes, src.url))
    names: dict[str, int] = {}
    for surface, count in Counter(map(_SURFACE, rms)).items():  # raw surfaces, first seen first
        name = " ".join(surface.split())
        names[name] = names.get(name, 0) + count
    # resolutions share their rejected tuples: count each tuple once by identity
    shared = list(filter(None, map(_REJECTED, rms)))
    tuples = {id(t): t for t in shared}
    rejected: dict[str, list] = {}
    for key, count in Counter(map(id, shared)).items():
        for c in tuples[key]:
            rejected.setdefault(c.id, [0, c.score, c.reason])[0] += count
    return PlacePartial(
        quotes, keys, len(rms), sum(round(c * 1000) for c in map(_CONFIDENCE, rms)), names,
        rejected, frozenset(chain.from_iterable(map(_THEMES, quotes))))


def mean_confidence(milli: int, count: int) -> float:
    """Return the mean of ``count`` confidences that sum to ``milli`` thousandths, rounded to
    three decimals (half to even, exactly: the order they were added in cannot change it).

    >>> mean_confidence(1700, 3), mean_confidence(1, 2), mean_confidence(3, 2)
    (0.567, 0.0, 0.002)
    >>> mean_confidence(0, 0)
    0.0
    """
    return round(Fraction(milli, count)) / 1000 if count else 0.0


def place_of(pid: str, entry: Entry, partial: PlacePartial) -> Place:
    """Return the place ``pid`` (gazetteer ``entry``) that its mentions' ``partial`` makes."""
    themes = set(partial.themes)
    if not entry.layer:
        themes.update(entry.themes)
    names = Counter(partial.names)  # most_common keeps first seen first among equal counts
    rejected = [{"id": cid, "count": count, "score": score, "reason": reason}
                for cid, (count, score, reason) in partial.rejected.items()]
    return Place(
        id=pid, name=entry.name, name_de=entry.name_de,
        names=[n for n, _ in names.most_common()], kind=entry.kind,
        precision=precision_of(entry),
        confidence=mean_confidence(partial.confidence_milli, partial.mentions),
        lat=None if entry.layer else entry.lat, lon=None if entry.layer else entry.lon,
        layer=entry.layer, country=entry.country,
        themes=[t for t in THEME_IDS if t in themes], quotes=partial.quotes,
        mention_count=partial.mentions,
        rejected=sorted(rejected, key=lambda r: (-r["count"], r["id"])),
    )


def _make_place(
    pid: str,
    rms: list[ResolvedMention],
    gaz: Gazetteer,
    sources: dict[str | None, ArticleSource],
    squeezed: dict[str, str],
) -> Place:
    """Return the place ``pid`` with its quotes from its mentions, in corpus order."""
    return place_of(pid, gaz.get(pid), place_partial(rms, sources, squeezed))


# --------------------------------------------------------------------------- explain
def explain(text_or_article: Any, gazetteer: Gazetteer) -> str:
    """Return a readable account of each mention, its resolution and rejected candidates."""
    if text_or_article is None:
        return ""
    article = text_or_article
    if isinstance(text_or_article, str):
        article = SimpleNamespace(id="text", title="", outlet="", author=None, date=None,
                                  text=text_or_article)
    text = article.text or ""
    lines = [f"# {article.id}: {getattr(article, 'title', '')}".rstrip(": ")]
    mentions = find_mentions(article, gazetteer, include_rejected=True)
    countries = _article_countries([m.candidates for m in mentions], gazetteer)
    for m in mentions:
        head = f"{m.start:>6}-{m.end:<6} {m.surface!r:32} {m.kind:9}"
        if m.kind in REJECTED_KINDS:
            lines.append(f"{head} -> not a place: {m.note}")
            continue
        rm = resolve_mention(m, text, countries, gazetteer)
        extra = " (metonym)" if m.metonym else (" (overlay phrase)" if m.overlay else "")
        target = rm.place_id or "UNRESOLVED"
        lines.append(f"{head} -> {target} conf={rm.confidence:.2f} "
                     f"precision={rm.precision}{extra}" + (f"  [{rm.note}]" if rm.note else ""))
        if rm.reason:
            lines.append(f"{'':>14}because {rm.reason}")
        for c in rm.rejected[:5]:
            lines.append(f"{'':>14}rejected {c.id} ({c.score:.2f}): {c.reason}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- text API
MENTION_FIELDS = (
    "start", "end", "surface", "kind", "id", "name", "feature_kind", "country", "lat", "lon",
    "precision", "confidence",
)


def geoparse_text(
    text: str | None, gazetteer: Gazetteer | None = None, language: str = "de"
) -> list[dict[str, Any]]:
    """Return every mention in ``text`` as a plain dict, in text order (the ``geoparse --json``
    contract).

    Each dict has ``MENTION_FIELDS``: ``start``/``end`` are offsets into ``text`` exactly as
    given (``text[start:end] == surface``); ``kind`` is place, adjective, demonym or compound;
    ``id``, ``name``, ``feature_kind`` (city, country, region, sea, continent, pipeline, ...),
    ``country`` (ISO 3166-1 alpha-2 or None), ``lat``/``lon`` (a representative point),
    ``precision`` and ``confidence`` describe the resolved entry (all None, confidence 0, when
    no candidate was good enough). ``overlay`` is True for a phrase naming a feature around
    places that are mentions of their own ("Grenze zu Kasachstan" -> the border). The
    gazetteer is loaded when not given.

    >>> geoparse_text("")
    []
    """
    if not text:
        return []
    if gazetteer is None:
        from kzgeo.gazetteer import load_gazetteer

        gazetteer = load_gazetteer()
    norm = normalize(text)
    found = recognize(text, gazetteer, language, norm=norm)
    countries = _article_countries(map(itemgetter(4), found), gazetteer)
    folded = norm.folded
    points = layer_points()
    out = []
    for start, end, kind, alias, _ids, s_start, s_end, _metonym, overlay, note in found:
        place_id, confidence, precision, *_ = _resolution(
            alias, kind, folded[s_start:s_end], countries, gazetteer)
        confidence = _weighted(confidence, note)
        entry = gazetteer.get(place_id) if place_id else None
        lat = lon = None
        if entry is not None:
            lat, lon = (entry.lat, entry.lon) if entry.lat is not None else points.get(
                entry.id, (None, None))
        out.append({
            "start": start, "end": end, "surface": text[start:end], "kind": kind,
            "id": place_id, "name": entry.name if entry else None,
            "feature_kind": entry.kind if entry else None,
            "country": entry.country if entry else None, "lat": lat, "lon": lon,
            "precision": precision, "confidence": confidence, "overlay": overlay,
        })  # fmt: skip
    return out


_LAYER_POINTS: dict[str, tuple[float, float]] = {}


def layer_points() -> dict[str, tuple[float, float]]:
    """Return a representative point (lat, lon) of every geodata layer feature, by id.

    A line's point is its middle (along the line), a polygon's a point inside it. Read once.
    """
    if not _LAYER_POINTS:
        import json

        from shapely.geometry import shape

        from kzgeo.config import GEODATA_DIR

        for path in sorted(GEODATA_DIR.glob("*.geojson")):
            for feature in json.loads(path.read_text("utf-8")).get("features", []):
                fid = (feature.get("properties") or {}).get("id")
                if not fid or not feature.get("geometry"):
                    continue
                geom = shape(feature["geometry"])
                if geom.geom_type == "MultiLineString":
                    geom = max(geom.geoms, key=lambda g: g.length)
                if geom.geom_type == "LineString":
                    point = geom.interpolate(0.5, normalized=True)
                else:
                    point = geom.representative_point()
                if point.is_empty:
                    continue
                _LAYER_POINTS[fid] = (round(point.y, 5), round(point.x, 5))
    return _LAYER_POINTS
