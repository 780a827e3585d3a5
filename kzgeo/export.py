"""Export: everything the map can show as one GeoJSON file, and every mention as CSV, written
from the quote store a group of features at a time, so that an archive's export (millions of
quotes, gigabytes of JSON) holds about ``QUOTES_PER_GROUP`` quotes in memory, not all of them.

The GeoJSON is the text ``index.geojson_text`` writes of the in-memory index (the export
contract in DESIGN.md; ``tests/test_export.py`` compares the two). The quotes are read once,
part after part, and spilled into one temporary file per group of consecutive features
(``feature_groups``); each group is then read back and its features written in order, the
quotes of a feature that is a group of its own streamed straight from its file. Both files are
written atomically (a reader sees the old file or the new one).
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from kzgeo.files import write_atomic_with
from kzgeo.quotestore import QuoteStore, collection_ends, feature_ends, feature_text

QUOTES_PER_GROUP = 100_000  # quotes held in memory at once (about 60 MB of JSON text)


def feature_groups(counts: Sequence[int], quota: int = QUOTES_PER_GROUP) -> list[int]:
    """Return the group of each feature given its number of quotes: consecutive features
    whose quotes stay within ``quota`` together; a feature with more is a group of its own.

    >>> feature_groups([5, 1, 1, 3, 2, 9, 1], 4)
    [0, 1, 1, 2, 3, 4, 5]
    >>> feature_groups([0, 0, 0], 4), feature_groups([], 4)
    ([0, 0, 0], [])
    """
    groups, group, held = [], 0, 0
    for i, count in enumerate(counts):
        if i and held + count > quota:
            group, held = group + 1, 0
        groups.append(group)
        held += count
    return groups


def write_geojson(store: QuoteStore, path: Path, quota: int = QUOTES_PER_GROUP) -> Path:
    """Write the store's FeatureCollection with every feature's quotes to ``path``."""
    features: Sequence[dict] = store.features
    counts = store.quote_counts()
    groups = feature_groups([counts.get(f["id"], 0) for f in features], quota)
    group_of = {feature["id"]: group for feature, group in zip(features, groups, strict=True)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kzgeo-export-", dir=path.parent) as spill:
        spills = [Path(spill) / f"{group}.pickle" for group in range(max(groups, default=-1) + 1)]
        _spill_quotes(store, group_of, spills)

        def write(out: IO[bytes]) -> None:
            head, tail = collection_ends(store.collection)
            out.write(head.encode("utf-8"))
            quoted: dict[str, list[str]] = {}
            for i, feature in enumerate(features):
                if i:
                    out.write(b",")
                group = groups[i]
                if _alone(groups, i) and "quotes" not in feature["properties"]:
                    _stream_feature(out, feature, spills[group])
                    continue
                if i == 0 or groups[i - 1] != group:  # the group's quotes, the last let go
                    quoted = _read_spill(spills[group])
                out.write(feature_text(feature, quoted.pop(feature["id"], ())).encode("utf-8"))
            out.write(tail.encode("utf-8"))

        return write_atomic_with(path, write)


def _alone(groups: Sequence[int], i: int) -> bool:
    """Return whether feature ``i`` is the only one of its group (groups are consecutive)."""
    before = i > 0 and groups[i - 1] == groups[i]
    after = i + 1 < len(groups) and groups[i + 1] == groups[i]
    return not (before or after)


def _stream_feature(out: IO[bytes], feature: dict, spilled: Path) -> None:
    """Write a feature whose quotes are the whole of one spill file, a run of quotes at a time."""
    before, after = feature_ends(feature)
    out.write(before.encode("utf-8"))
    first = True
    for _feature_id, texts in _spilled_runs(spilled):
        if texts:
            out.write((("" if first else ",") + ",".join(texts)).encode("utf-8"))
            first = False
    out.write(after.encode("utf-8"))


def write_mentions_csv(store: QuoteStore, path: Path) -> Path:
    """Write every mention as CSV (``index.mentions_csv``) to ``path``, a row group at a time."""

    def write(out: IO[bytes]) -> None:
        for part in store.mentions_csv_parts():
            out.write(part)

    return write_atomic_with(path, write)


def export_corpus(store: QuoteStore, geojson_path: Path, csv_path: Path | None = None) -> None:
    """Write the store's GeoJSON (and its mentions CSV) as ``python -m kzgeo export`` does."""
    write_geojson(store, geojson_path)
    if csv_path is not None:
        write_mentions_csv(store, csv_path)


def _spill_quotes(store: QuoteStore, group_of: dict[str, int], spills: list[Path]) -> None:
    """Append each run of a feature's quotes (as JSON texts, in corpus order) to its group's
    spill file."""
    handles = [spilled.open("ab") for spilled in spills]
    try:
        for feature_id, quotes in store.filtered_quotes():
            texts = [json.dumps(q, ensure_ascii=False, separators=(",", ":")) for q in quotes]
            pickle.dump((feature_id, texts), handles[group_of[feature_id]],
                        protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for handle in handles:
            handle.close()


def _spilled_runs(spilled: Path) -> Iterator[tuple[str, list[str]]]:
    """Yield the (feature id, quote texts) runs of a spill file in the order they were spilled."""
    with spilled.open("rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return


def _read_spill(spilled: Path) -> dict[str, list[str]]:
    """Return the quote texts of a spill file by feature id, in the order they were spilled."""
    quoted: dict[str, list[str]] = defaultdict(list)
    for feature_id, texts in _spilled_runs(spilled):
        quoted[feature_id].extend(texts)
    return quoted
