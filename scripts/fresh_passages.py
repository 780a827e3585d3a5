"""Keep the fresh held-out set: annotate local passages, and re-create their texts from source.

The fresh passages are excerpts of third-party news pages; their text is not in the repository.
``tests/gold/fresh.toml`` holds, per passage, its source URL, outlet, language, split, the
sha256 of its text, the first words it starts with, its length, and every place mention with
offsets, surface, expected id and point.

    python scripts/fresh_passages.py annotate LOCAL.toml tests/gold/fresh.toml
        # LOCAL.toml: [[p]] rows with id, outlet, url, language, text and
        # m = [[surface, id or "@lat,lon"], ...] in text order; offsets are found here
    python scripts/fresh_passages.py fetch tests/gold/fresh.toml LOCAL.toml
        # downloads each URL, extracts the text (trafilatura), finds the passage by its first
        # words and length, checks the sha256, writes the texts found to LOCAL.toml

Pages change or go away: ``fetch`` reports each passage it cannot re-create exactly.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kzgeo.evaluate import sha256_text, split_of  # noqa: E402

ANCHOR_WORDS = 6


def _point_of(place_id: str, gazetteer) -> tuple[float, float] | None:
    from kzgeo.resolve import layer_points

    entry = gazetteer.get(place_id)
    if entry is not None and entry.lat is not None:
        return entry.lat, entry.lon
    return layer_points().get(place_id)


def annotate(local: Path, out: Path, with_text: bool = False) -> int:
    """Write the annotation file from the local passages (offsets found in text order); with
    ``with_text`` the texts go into the file too (for passages the project wrote itself)."""
    import tomli_w

    from kzgeo.gazetteer import load_gazetteer

    gazetteer = load_gazetteer()
    with local.open("rb") as fh:
        rows = tomllib.load(fh)["p"]
    passages = []
    for row in rows:
        text, cursor, mentions = row["text"], 0, []
        for surface, target in row["m"]:
            start = text.find(surface, cursor)
            if start < 0:
                raise SystemExit(f"{row['id']}: {surface!r} not found after offset {cursor}")
            cursor = start + len(surface)
            if target.startswith("@"):
                lat, lon = map(float, target[1:].split(","))
                mentions.append([start, cursor, surface, "", lat, lon])
            else:
                point = _point_of(target, gazetteer)
                mentions.append([start, cursor, surface, target, *(point or ())])
        passages.append({
            "id": row["id"], "outlet": row["outlet"], "url": row["url"],
            "language": row["language"], "split": split_of(row["id"]),
            "sha256": sha256_text(text), "length": len(text),
            "starts_with": " ".join(text.split()[:ANCHOR_WORDS]), "mentions": mentions,
        })  # fmt: skip
        if with_text:
            passages[-1]["text"] = text
    header = (
        "# Annotated passages, written by scripts/fresh_passages.py annotate from " + local.name
        + ".\n# mentions: [start, end, surface, id or \"\", lat, lon]; split: split_of(id), a"
        " seeded hash.\n" + ("" if with_text else "# Texts are not stored (third-party "
        "copyright): scripts/fresh_passages.py fetch re-creates them.\n") + "\n"
    )
    out.write_text(header + tomli_w.dumps({"passage": passages}), "utf-8")
    print(f"wrote {out}: {len(passages)} passages, "
          f"{sum(len(p['mentions']) for p in passages)} mentions, "
          f"{len({p['outlet'] for p in passages})} outlets")
    return 0


def _page_text(url: str) -> str | None:
    import trafilatura

    html = trafilatura.fetch_url(url)
    return trafilatura.extract(html, include_comments=False) if html else None


def fetch(annotations: Path, local: Path) -> int:
    """Re-create the passage texts from their source pages; report those that differ."""
    import tomli_w

    with annotations.open("rb") as fh:
        rows = tomllib.load(fh)["passage"]
    found, failed = [], []
    pages: dict[str, str | None] = {}
    for row in rows:
        if row["url"] not in pages:
            pages[row["url"]] = _page_text(row["url"])
        page = pages[row["url"]] or ""
        at = page.find(row["starts_with"].split()[0])
        text = None
        while at >= 0:
            candidate = page[at : at + row["length"]]
            if sha256_text(candidate) == row["sha256"]:
                text = candidate
                break
            at = page.find(row["starts_with"].split()[0], at + 1)
        if text is None:
            failed.append(row["id"])
        else:
            found.append({"id": row["id"], "text": text})
    local.write_text(tomli_w.dumps({"p": found}), "utf-8")
    print(f"re-created {len(found)} of {len(rows)} passages into {local}")
    for pid in failed:
        print(f"  not re-created exactly (page changed or gone): {pid}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("annotate")
    a.add_argument("local", type=Path)
    a.add_argument("out", type=Path)
    a.add_argument("--with-text", action="store_true", help="keep the texts in the output")
    f = sub.add_parser("fetch")
    f.add_argument("annotations", type=Path)
    f.add_argument("local", type=Path)
    args = parser.parse_args(argv)
    if args.command == "annotate":
        return annotate(args.local, args.out, args.with_text)
    return fetch(args.annotations, args.local)


if __name__ == "__main__":
    raise SystemExit(main())
