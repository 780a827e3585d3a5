"""Write the general-text set's annotation file from its marked-up source.

    python scripts/general_passages.py tests/gold/general_passages.txt tests/gold/general.toml

The source holds blocks separated by blank lines: an id line (``gen-<genre>-<topic>``), then
the passage with every place mention marked ``[[surface|target]]`` (target: a gazetteer id or
``@lat,lon``); lines starting with ``#`` are comments. The output has the plain texts, the
offsets and the split (``kzgeo.evaluate.split_of``), in the shape of ``tests/gold/own.toml``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MARK = re.compile(r"\[\[([^|\]]+)\|([^\]]+)\]\]")


def parse(source: str) -> list[dict]:
    """Return the passages of a marked-up source as rows (id, outlet, text, m)."""
    lines = [line for line in source.splitlines() if not line.startswith("#")]
    rows = []
    for block in "\n".join(lines).split("\n\n"):
        block = block.strip()
        if not block:
            continue
        pid, marked = block.split("\n", 1)
        genre = pid.split("-")[1]
        rows.append({
            "id": pid.strip(), "outlet": f"kzgeo (own text, {genre})", "url": "",
            "language": "de", "text": MARK.sub(r"\1", marked.strip()),
            "m": [[surface, target] for surface, target in MARK.findall(marked)],
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    import tomli_w
    from fresh_passages import annotate

    from kzgeo.gazetteer import load_gazetteer

    src, out = map(Path, (argv or sys.argv[1:])[:2])
    rows = parse(src.read_text("utf-8"))
    gazetteer = load_gazetteer()
    unknown = [t for r in rows for _, t in r["m"] if not t.startswith("@") and not gazetteer.get(t)]
    if unknown:
        raise SystemExit(f"unknown gazetteer ids: {', '.join(sorted(set(unknown)))}")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / src.name
        local.write_text(tomli_w.dumps({"p": rows}), "utf-8")
        return annotate(local, out, with_text=True)


if __name__ == "__main__":
    raise SystemExit(main())
