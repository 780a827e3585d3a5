"""Score the geoparser against the hand-annotated gold set (tests/gold/places.toml)."""

from __future__ import annotations

import os
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from kzgeo.config import DEFAULT_CORPUS_DIR
from kzgeo.corpus import load_corpus
from kzgeo.gazetteer import load_gazetteer
from kzgeo.resolve import geoparse

GOLD_PATH = Path(__file__).parent / "gold" / "places.toml"
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90


def read_gold(path: Path = GOLD_PATH) -> dict[str, Counter]:
    """Return gold place mentions: article id -> Counter of (surface, place id)."""
    with path.open("rb") as fh:
        table = tomllib.load(fh)
    return {
        row["id"]: Counter({(surface, pid): n for surface, pid, n in row["places"]})
        for row in table["article"]
    }


def _squeeze(s: str) -> str:
    return " ".join(s.split())


def system_mentions(result) -> dict[str, Counter]:
    """Return the system's place mentions in the gold's shape."""
    out: dict[str, Counter] = {}
    for m in result.mentions:
        if m.kind == "place" and m.place_id is not None:
            out.setdefault(m.article_id, Counter())[(_squeeze(m.surface), m.place_id)] += 1
    return out


def score(gold: dict[str, Counter], system: dict[str, Counter]) -> dict[str, float]:
    """Return precision/recall of mentions (by surface) and resolutions (surface + id), and of
    the set of places (ids)."""
    tp_m = tp_r = n_gold = n_sys = 0
    for art in set(gold) | set(system):
        g, s = gold.get(art, Counter()), system.get(art, Counter())
        g_surf, s_surf = Counter(), Counter()
        for (surface, _), n in g.items():
            g_surf[surface] += n
        for (surface, _), n in s.items():
            s_surf[surface] += n
        tp_m += sum((g_surf & s_surf).values())
        tp_r += sum((g & s).values())
        n_gold += sum(g.values())
        n_sys += sum(s.values())
    gold_ids = {pid for c in gold.values() for _, pid in c}
    sys_ids = {pid for c in system.values() for _, pid in c}
    return {
        "gold": n_gold, "system": n_sys,
        "mention_precision": tp_m / n_sys if n_sys else 1.0,
        "mention_recall": tp_m / n_gold if n_gold else 1.0,
        "resolved_precision": tp_r / n_sys if n_sys else 1.0,
        "resolved_recall": tp_r / n_gold if n_gold else 1.0,
        "places_gold": len(gold_ids), "places_system": len(sys_ids),
        "place_precision": len(gold_ids & sys_ids) / len(sys_ids) if sys_ids else 1.0,
        "place_recall": len(gold_ids & sys_ids) / len(gold_ids) if gold_ids else 1.0,
        "spurious_places": sorted(sys_ids - gold_ids), "missed_places": sorted(gold_ids - sys_ids),
    }


@pytest.fixture(scope="module")
def evaluation():
    articles = load_corpus(DEFAULT_CORPUS_DIR).articles
    result = geoparse(articles, load_gazetteer())
    gold = read_gold()
    system = system_mentions(result)
    return gold, system, score(gold, system), {a.id for a in articles}


def test_gold_covers_every_article(evaluation):
    gold, _, _, article_ids = evaluation
    assert set(gold) == article_ids


def test_gold_scores(evaluation):
    gold, system, s, _ = evaluation
    print(f"\n{'':24}{'precision':>10}{'recall':>8}   (gold {s['gold']}, system {s['system']})")
    for what in ("mention", "resolved"):
        print(f"{what + ' mentions':24}{s[what + '_precision']:>10.3f}{s[what + '_recall']:>8.3f}")
    print(f"{'places':24}{s['place_precision']:>10.3f}{s['place_recall']:>8.3f}"
          f"   (gold {s['places_gold']}, system {s['places_system']})")
    for art in sorted(set(gold) | set(system)):
        g, sy = gold.get(art, Counter()), system.get(art, Counter())
        for key in sorted(set(g) | set(sy)):
            if g[key] != sy[key]:
                print(f"  {art}: {key[0]!r} -> {key[1]}: gold {g[key]}, system {sy[key]}")
    assert s["mention_precision"] >= TARGET_PRECISION
    assert s["mention_recall"] >= TARGET_RECALL
    assert s["resolved_precision"] >= TARGET_PRECISION
    assert s["resolved_recall"] >= TARGET_RECALL


def test_no_place_the_text_does_not_mention(evaluation):
    _, _, s, _ = evaluation
    assert s["spurious_places"] == []


# --------------------------------------------------------------------------- fresh reporting
# The bundled corpus's own gold overstates quality (its curated data was written while reading
# it); issue 19 adds a held-out set of fresh news passages (tests/gold/fresh.toml: annotations
# only, texts re-created by scripts/fresh_passages.py) and passages written for the tests
# (tests/gold/own.toml, texts included). See docs/geoparser-quality.md.
FRESH_PATH = Path(__file__).parent / "gold" / "fresh.toml"
OWN_PATH = Path(__file__).parent / "gold" / "own.toml"
BUNDLED_TARGET = 0.99


def test_bundled_gold_stays_at_its_level(evaluation):
    _, _, s, _ = evaluation
    assert min(s["resolved_precision"], s["resolved_recall"]) >= BUNDLED_TARGET, s


def test_fresh_set_is_split_once_and_wide_enough():
    """At least 40 passages from at least 10 outlets, in German and English; the split is the
    seeded hash of each id (recorded in the file, never re-drawn), both halves sizeable."""
    from kzgeo.evaluate import read_passages, split_of

    with FRESH_PATH.open("rb") as fh:
        rows = tomllib.load(fh)["passage"]
    passages = read_passages(FRESH_PATH)
    assert len(passages) >= 40 and len({p.outlet for p in passages}) >= 10
    assert {p.language for p in passages} == {"de", "en"}
    assert all(row["split"] == split_of(row["id"]) for row in rows)
    halves = Counter(p.split for p in passages)
    assert min(halves["dev"], halves["test"]) >= 20
    for row in rows:
        for start, end, surface, *_ in row["mentions"]:
            assert 0 <= start < end <= row["length"] and end - start == len(surface)


def _print_report(outcomes, title):
    from kzgeo.evaluate import report

    print("\n" + report(outcomes, title))


def test_own_passages_scores():
    """The passages written for the tests (every error class of issue 19): targets of the issue
    (precision 0.95, recall 0.92, resolution within 161 km 0.97)."""
    from kzgeo.evaluate import figures, geoparse_passages, read_passages

    outcomes = geoparse_passages(read_passages(OWN_PATH))
    _print_report(outcomes, "own passages")
    f = figures(outcomes)
    assert f["passages"] >= 12 and f["gold"] >= 80
    assert f["precision"] >= 0.95 and f["recall"] >= 0.92 and f["resolution"] >= 0.97, f


def _fresh_texts() -> Path | None:
    from kzgeo.config import PROJECT_ROOT

    path = Path(os.environ.get("KZGEO_FRESH_TEXTS") or PROJECT_ROOT / "build/fresh/passages.toml")
    return path if path.exists() else None


@pytest.mark.parametrize("half", ["dev", "test"])
def test_fresh_half_scores_when_texts_are_present(half):
    """Scores a half of the fresh set when its texts were re-created (scripts/fresh_passages.py
    fetch, or KZGEO_FRESH_TEXTS): figures printed; the floors are the measured figures of
    docs/geoparser-quality.md less a margin, so a regression fails."""
    from kzgeo.evaluate import figures, geoparse_passages, read_passages, read_texts

    path = _fresh_texts()
    if path is None:
        pytest.skip("fresh texts not re-created (scripts/fresh_passages.py fetch)")
    passages = [p for p in read_passages(FRESH_PATH, read_texts(path)) if p.split == half]
    outcomes = geoparse_passages(passages)
    _print_report(outcomes, f"fresh reporting, {half} half")
    f = figures(outcomes)
    if f["passages"] < len(passages) // 2:
        pytest.skip("fewer than half of the texts re-created")
    assert f["precision"] >= FRESH_FLOORS[half]["precision"], f
    assert f["recall"] >= FRESH_FLOORS[half]["recall"], f
    assert f["resolution"] >= FRESH_FLOORS[half]["resolution"], f
    assert _right_at(outcomes) >= 0.95  # the target: mentions at >= 0.9 right 95 %


FRESH_FLOORS = {
    "dev": {"precision": 0.97, "recall": 0.95, "resolution": 0.97},
    "test": {"precision": 0.95, "recall": 0.90, "resolution": 0.95},
}


# --------------------------------------------------------------------------- general German text
# Issue 19: "on general German text, 17 % of its places are not places". tests/gold/general.toml
# holds 71 passages written for kzgeo that are NOT about Central Asia (sport, culture, science,
# local news, biographies, cooking, business, world news, travel), text included, every place
# mention annotated; split once by the seeded hash. See docs/geoparser-quality.md.
GENERAL_PATH = Path(__file__).parent / "gold" / "general.toml"
# measured (docs/geoparser-quality.md) less a margin, so that a regression fails
GENERAL_FLOORS = {
    "dev": {"precision": 0.93, "recall": 0.90, "resolution": 0.95, "right_at_0_9": 0.95},
    "test": {"precision": 0.92, "recall": 0.72, "resolution": 0.94, "right_at_0_9": 0.94},
}


def test_general_set_is_wide_split_once_and_off_the_beat():
    from kzgeo.evaluate import read_passages, split_of

    with GENERAL_PATH.open("rb") as fh:
        rows = tomllib.load(fh)["passage"]
    passages = read_passages(GENERAL_PATH)
    assert len(passages) >= 60 and all(p.text is not None for p in passages)
    assert all(row["split"] == split_of(row["id"]) for row in rows)
    assert min(Counter(p.split for p in passages).values()) >= 25
    assert len({p.id.split("-")[1] for p in passages}) >= 8  # genres
    beat = {"kazakhstan", "uzbekistan", "kyrgyzstan", "tajikistan", "turkmenistan", "astana",
            "almaty", "central-asia", "caspian-sea", "baikonur", "cpc-pipeline"}
    assert not {g.id for p in passages for g in p.mentions} & beat
    for p in passages:
        for g in p.mentions:
            assert p.text[g.start:g.end] == g.surface and (g.id or g.point), (p.id, g)


def _right_at(outcomes, threshold: float = 0.9) -> float:
    from kzgeo.evaluate import calibration

    high = calibration(outcomes, (0.0, threshold, 1.01))[1]
    return high["right"] / high["n"]


@pytest.mark.parametrize("half", ["dev", "test"])
def test_general_text_scores(half):
    """Prints the figures, the confidence bands and every miss of a half of the general set;
    asserts floors below the measured figures."""
    from kzgeo.evaluate import figures, geoparse_passages, read_passages

    outcomes = geoparse_passages([p for p in read_passages(GENERAL_PATH) if p.split == half])
    _print_report(outcomes, f"general German text, {half} half")
    f = figures(outcomes)
    print(f"false places: {1 - f['precision']:.1%} of {f['system']} marked places")
    floors = GENERAL_FLOORS[half]
    assert f["precision"] >= floors["precision"], f
    assert f["recall"] >= floors["recall"], f
    assert f["resolution"] >= floors["resolution"], f
    assert _right_at(outcomes) >= floors["right_at_0_9"]


def test_confidence_warns_on_the_errors_of_general_text():
    """Most errors (false places, wrong resolutions) of the whole general set score below the
    map's 0.8 mark: 7 of its 10 today (7 of 14 after the second round, 1 of 15 before;
    docs/geoparser-quality.md); the floor leaves a margin of one."""
    from kzgeo.evaluate import geoparse_passages, read_passages, warned_errors

    warned, errors = warned_errors(geoparse_passages(read_passages(GENERAL_PATH)))
    print(f"\nerrors below 0.8: {warned} of {errors}")
    assert warned >= 6 and errors <= 11
