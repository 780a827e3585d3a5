"""Score the geoparser against hand-annotated passages (the fresh held-out set and others).

An annotation file (TOML) holds passages, each with its place mentions as
``[start, end, surface, id, lat, lon]``: offsets into the passage text, the expected gazetteer id
(or "" when the place has no entry) and a representative point (or none). The text is either in
the file (``text``, for passages written for the tests) or kept apart (third-party news whose
licence does not allow copying): ``scripts/fresh_passages.py`` re-creates it from the source
page and checks it against the recorded ``sha256``.

Scoring: a system mention counts when its kind is ``place`` and it is not an overlay phrase. A
gold and a system mention match when their spans overlap (each used once); precision is matched
system mentions over all system mentions, recall matched gold mentions over all gold mentions.
A matched mention is resolved right when the ids agree or both points lie within 161 km
(100 miles, the usual geoparsing tolerance).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOLERANCE_KM = 161.0
SPLIT_SEED = "kzgeo-fresh-2026"  # changing it would re-split the set: never change it


def split_of(passage_id: str) -> str:
    """Return the half a passage belongs to, "dev" or "test", from a seeded hash of its id.

    >>> split_of("npen-drone-route") in {"dev", "test"}
    True
    """
    digest = hashlib.sha256(f"{SPLIT_SEED}:{passage_id}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def sha256_text(text: str) -> str:
    """Return the hex sha256 of a passage's UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in km between two (lat, lon) points.

    >>> round(km_between((0.0, 0.0), (0.0, 1.0)))
    111
    """
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class Gold:
    """One annotated place mention."""

    start: int
    end: int
    surface: str
    id: str | None
    point: tuple[float, float] | None


@dataclass
class Passage:
    """An annotated passage (its text may be missing until re-created)."""

    id: str
    language: str
    outlet: str
    url: str
    sha256: str
    mentions: list[Gold]
    text: str | None = None
    split: str = field(default="")

    def __post_init__(self) -> None:
        self.split = self.split or split_of(self.id)


def read_passages(path: Path, texts: dict[str, str] | None = None) -> list[Passage]:
    """Return the passages of an annotation file; ``texts`` (id -> text) fills in the texts
    kept apart. A text whose sha256 differs from the recorded one is left out (None)."""
    with path.open("rb") as fh:
        table = tomllib.load(fh)
    out = []
    for row in table["passage"]:
        text = row.get("text", (texts or {}).get(row["id"]))
        if text is not None and sha256_text(text) != row["sha256"]:
            text = None
        mentions = [
            Gold(s, e, surface, pid or None, (lat, lon) if lat is not None else None)
            for s, e, surface, pid, lat, lon in (
                (*m[:4], *(m[4:6] if len(m) >= 6 else (None, None))) for m in row["mentions"]
            )
        ]
        out.append(Passage(row["id"], row["language"], row.get("outlet", ""),
                           row.get("url", ""), row["sha256"], mentions, text))
    return out


def read_texts(path: Path) -> dict[str, str]:
    """Return id -> text from a local passages file (``[[p]]`` rows with ``id`` and ``text``)."""
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {row["id"]: row["text"] for row in tomllib.load(fh).get("p", [])}


def system_places(mentions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the mentions that count as place mentions (kind place, not an overlay)."""
    return [m for m in mentions if m["kind"] == "place" and not m.get("overlay")]


@dataclass
class Outcome:
    """The comparison of one passage: matched pairs, misses and spurious system mentions."""

    passage: Passage
    pairs: list[tuple[Gold, dict[str, Any]]]
    missed: list[Gold]
    spurious: list[dict[str, Any]]

    def right(self, gold: Gold, sys_m: dict[str, Any]) -> bool:
        """Return True when a matched system mention resolves to the gold place."""
        if gold.id and sys_m["id"] == gold.id:
            return True
        if gold.point and sys_m.get("lat") is not None:
            return km_between(gold.point, (sys_m["lat"], sys_m["lon"])) <= TOLERANCE_KM
        return False


def compare(passage: Passage, mentions: list[dict[str, Any]]) -> Outcome:
    """Match a passage's gold mentions with the system's place mentions by overlapping spans."""
    sys_places = system_places(mentions)
    used: set[int] = set()
    pairs, missed = [], []
    for g in passage.mentions:
        hit = next((i for i, m in enumerate(sys_places)
                    if i not in used and m["start"] < g.end and g.start < m["end"]), None)
        if hit is None:
            missed.append(g)
        else:
            used.add(hit)
            pairs.append((g, sys_places[hit]))
    spurious = [m for i, m in enumerate(sys_places) if i not in used]
    return Outcome(passage, pairs, missed, spurious)


def geoparse_passages(passages: list[Passage], gazetteer=None) -> list[Outcome]:
    """Geoparse every passage that has its text and compare it with its annotations."""
    from kzgeo.resolve import geoparse_text

    if gazetteer is None:
        from kzgeo.gazetteer import load_gazetteer

        gazetteer = load_gazetteer()
    return [compare(p, geoparse_text(p.text, gazetteer, p.language))
            for p in passages if p.text is not None]


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    """Return precision, recall, resolution accuracy (of matched mentions) and counts."""
    gold = sum(len(o.passage.mentions) for o in outcomes)
    matched = sum(len(o.pairs) for o in outcomes)
    system = matched + sum(len(o.spurious) for o in outcomes)
    right = sum(o.right(g, m) for o in outcomes for g, m in o.pairs)
    return {
        "passages": len(outcomes), "gold": gold, "system": system, "matched": matched,
        "precision": matched / system if system else 1.0,
        "recall": matched / gold if gold else 1.0,
        "resolution": right / matched if matched else 1.0,
        "resolved_recall": right / gold if gold else 1.0,
    }


def calibration(outcomes: list[Outcome], edges=(0.0, 0.5, 0.8, 0.9, 1.01)) -> list[dict]:
    """Return, per confidence band, how many system place mentions fall in it and how many of
    them are right (a real place, resolved right)."""
    rows = []
    scored = []
    for o in outcomes:
        scored += [(m["confidence"], o.right(g, m)) for g, m in o.pairs]
        scored += [(m["confidence"], False) for m in o.spurious]
    for lo, hi in zip(edges, edges[1:], strict=False):
        band = [ok for c, ok in scored if lo <= c < hi]
        rows.append({"band": f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}",
                     "n": len(band), "right": sum(band),
                     "accuracy": sum(band) / len(band) if band else None})
    return rows


WARN_BELOW = 0.8  # the map and the panel mark places below this confidence


def warned_errors(outcomes: list[Outcome]) -> tuple[int, int]:
    """Return (errors scoring below WARN_BELOW, all errors); an error is a spurious place or a
    matched place resolved wrong."""
    errors = [m["confidence"] for o in outcomes for m in o.spurious]
    errors += [m["confidence"] for o in outcomes for g, m in o.pairs if not o.right(g, m)]
    return sum(c < WARN_BELOW for c in errors), len(errors)


def report(outcomes: list[Outcome], title: str, details: bool = True) -> str:
    """Return a readable report: the figures, the calibration and every miss and error."""
    f = figures(outcomes)
    lines = [
        f"## {title}",
        f"passages {f['passages']}, gold mentions {f['gold']}, system mentions {f['system']}",
        f"precision {f['precision']:.3f}  recall {f['recall']:.3f}  "
        f"resolution (within {TOLERANCE_KM:.0f} km) {f['resolution']:.3f}  "
        f"found and resolved {f['resolved_recall']:.3f}",
    ]
    for row in calibration(outcomes):
        acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.3f}"
        lines.append(f"  confidence {row['band']}: {row['n']:4} mentions, right {acc}")
    warned, errors = warned_errors(outcomes)
    lines.append(f"  errors below {WARN_BELOW}: {warned} of {errors}")
    if details:
        for o in outcomes:
            for g in o.missed:
                lines.append(f"  MISSED   {o.passage.id}: {g.surface!r} ({g.id or g.point})")
            for m in o.spurious:
                lines.append(f"  SPURIOUS {o.passage.id}: {m['surface']!r} -> {m['id']} "
                             f"({m['confidence']:.2f})")
            for g, m in o.pairs:
                if not o.right(g, m):
                    lines.append(f"  WRONG    {o.passage.id}: {g.surface!r} -> {m['id']} "
                                 f"(want {g.id or g.point}, {m['confidence']:.2f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the scores of an annotation file, by split."""
    parser = argparse.ArgumentParser(prog="python -m kzgeo.evaluate", description=__doc__)
    parser.add_argument("annotations", type=Path)
    parser.add_argument("--texts", type=Path, help="local passages file with the texts")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--brief", action="store_true", help="figures only")
    args = parser.parse_args(argv)
    passages = read_passages(args.annotations, read_texts(args.texts) if args.texts else None)
    missing = [p.id for p in passages if p.text is None]
    if missing:
        print(f"warning: {len(missing)} passages without their text: {', '.join(missing)}",
              file=sys.stderr)
    chosen = [p for p in passages if args.split == "all" or p.split == args.split]
    print(report(geoparse_passages(chosen), f"{args.annotations.name} ({args.split})",
                 not args.brief))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
