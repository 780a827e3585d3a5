"""Export: everything the map can show as one GeoJSON file, and every mention as CSV, written
from the quote store a few features at a time, so that an archive's export (millions of quotes,
gigabytes of JSON) needs about as much memory as its largest group of features, not all of it.

The GeoJSON is the text ``index.geojson_text`` writes of the in-memory index (the export
contract in DESIGN.md; ``tests/test_export.py`` compares the two): the quotes are read once,
part after part, and spilled into ``GROUPS`` temporary files by the position of their feature;
each group is then read back and its features written in order. Both files are written
atomically (a reader sees the old file or the new one).
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from kzgeo.files import write_atomic_with
from kzgeo.quotestore import QuoteStore, collection_ends, feature_text

GROUPS = 64  # temporary files the quotes are spread over by their feature's position


def group_of(position: int, features: int, groups: int = GROUPS) -> int:
    """Return the group of the feature at ``position`` of ``features``: consecutive features
    share a group, groups follow the features' order.

    >>> [group_of(i, 10, 4) for i in range(10)]
    [0, 0, 0, 1, 1, 2, 2, 2, 3, 3]
    """
    return position * groups // max(1, features)


def write_geojson(store: QuoteStore, path: Path, groups: int = GROUPS) -> Path:
    """Write the store's FeatureCollection with every feature's quotes to ``path``."""
    features: Sequence[dict] = store.features
    position = {feature["id"]: i for i, feature in enumerate(features)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kzgeo-export-", dir=path.parent) as spill:
        spills = [Path(spill) / f"{group}.pickle" for group in range(groups)]
        _spill_quotes(store, position, spills)

        def write(out: IO[bytes]) -> None:
            head, tail = collection_ends(store.collection)
            out.write(head.encode("utf-8"))
            current, quoted = -1, {}
            for i, feature in enumerate(features):
                group = group_of(i, len(features), groups)
                if group != current:  # the next group's quotes, the previous ones let go
                    current, quoted = group, _read_spill(spills[group])
                text = feature_text(feature, quoted.pop(feature["id"], ()))
                out.write((text if i == 0 else "," + text).encode("utf-8"))
            out.write(tail.encode("utf-8"))

        return write_atomic_with(path, write)


def write_mentions_csv(store: QuoteStore, path: Path) -> Path:
    """Write every mention as CSV (``index.mentions_csv``) to ``path``, a row group at a time."""

    def write(out: IO[bytes]) -> None:
        for part in store.mentions_csv_parts():
            out.write(part)

    return write_atomic_with(path, write)


def _spill_quotes(store: QuoteStore, position: dict[str, int], spills: list[Path]) -> None:
    """Append each run of a feature's quotes (as JSON texts, in corpus order) to its group's
    spill file."""
    handles = [spilled.open("ab") for spilled in spills]
    try:
        for feature_id, quotes in store.filtered_quotes():
            group = group_of(position[feature_id], len(position), len(spills))
            texts = [json.dumps(q, ensure_ascii=False, separators=(",", ":")) for q in quotes]
            pickle.dump((feature_id, texts), handles[group], protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for handle in handles:
            handle.close()


def _read_spill(spilled: Path) -> dict[str, list[str]]:
    """Return the quote texts of a spill file by feature id, in the order they were spilled."""
    quoted: dict[str, list[str]] = defaultdict(list)
    with spilled.open("rb") as handle:
        while True:
            try:
                feature_id, texts = pickle.load(handle)
            except EOFError:
                return quoted
            quoted[feature_id].extend(texts)


def export_corpus(store: QuoteStore, geojson_path: Path, csv_path: Path | None = None) -> None:
    """Write the store's GeoJSON (and its mentions CSV) as ``python -m kzgeo export`` does."""
    write_geojson(store, geojson_path)
    if csv_path is not None:
        write_mentions_csv(store, csv_path)
