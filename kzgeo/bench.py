"""Benchmark the whole path at scale: gazetteer, geoparse against a bare scan, index, the app.

The corpus at scale N has N articles. Up to the size of the real corpus they are the first N real
articles (N = 12 is the bundled corpus); beyond it they are synthetic: each as long as a real
article, made of the real articles' cleaned sentences (split with ``kzgeo.sentences``) in random
order, so the place density stays realistic (N = 2,000 is about 15 MB). Every corpus is written
as files plus a manifest, so the real loader is measured. Each synthetic sentence copy carries a
bracketed 4-digit tag ("[0417] ...") so quotes stay distinct as in new text (identical sentences
are quoted once per place, which would hide the cost of quotes).
Every figure is the median of ``repeat`` runs; targets are a table (``TARGETS``).

The bench's synthetic corpora are a realistic archive (``archive_places``): besides the real
sentences, most paragraphs get one sentence about one of thousands of gazetteer places (the
most populous cities the geoparser finds in such a sentence), drawn from a Zipf distribution
over them, and each article gets a date over ``ARCHIVE_YEARS`` years and one of many outlets;
all of it reproducible from ``SEED``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from kzgeo.config import BUILD_ENV_VAR, CORPUS_ENV_VAR
from kzgeo.corpus import Article, load_corpus
from kzgeo.gazetteer import ARTIFACT_PATH, build_gazetteer, input_hash, normalize, read_artifact
from kzgeo.harness import APP_PATH, MAP_FRAME, launch_options, start_streamlit, streamlit_server
from kzgeo.sentences import split_sentences

DEFAULT_SCALES: tuple[int, ...] = (1, 12, 100, 2000)
DEFAULT_REPEAT = 3
APP_TIMEOUT_S = 900.0
SEED = 6


class Target(NamedTuple):
    """A target for one figure: at one scale (None: every scale), ``op`` against ``limit``."""

    figure: str
    scale: int | None
    op: str  # "<" or ">="
    limit: float


TARGETS: tuple[Target, ...] = (
    Target("gazetteer_load_s", None, "<", 0.5),
    Target("geoparse_mb_s", 2000, ">=", 5.0),  # throughput: on enough text to be steady
    Target("geoparse_vs_scan", 2000, "<", 5.0),
    Target("store_build_s", 2000, "<", 10.0),
    Target("app_first_s", None, "<", 2.0),
    Target("app_session_s", None, "<", 2.0),
    Target("app_rerun_s", None, "<", 0.2),
    Target("map_mb", 1, "<", 2.0),
    Target("map_mb", 2000, "<", 5.0),
    Target("server_peak_mb", 2000, "<", 500.0),
    # issue 23: archives, not samples
    Target("build_s", 100_000, "<", 1200.0),
    Target("build_peak_mb", 100_000, "<", 4000.0),
    Target("server_peak_mb", 20_000, "<", 600.0),
    Target("server_peak_mb", 100_000, "<", 600.0),
    Target("store_server_mb", 20_000, "<", 600.0),
    Target("store_server_mb", 100_000, "<", 600.0),
    Target("map_mb", 20_000, "<", 5.0),
    Target("map_mb", 100_000, "<", 5.0),
    Target("add_article_s", 100_000, "<", 5.0),
    Target("dask_speedup", 2000, ">=", 1.6),
    Target("dask_speedup", 20_000, ">=", 1.6),
    Target("dask_speedup", 100_000, ">=", 1.6),
    Target("fresh_clone_map_s", None, "<", 6.0),
)

# figure -> (label, format) for the table; the order of this table is the order of the rows.
FIGURES: dict[str, tuple[str, str]] = {
    "gazetteer_build_s": ("gazetteer build (s)", "{:.2f}"),
    "gazetteer_load_s": ("gazetteer load (s)", "{:.3f}"),
    "articles": ("articles", "{:,.0f}"),
    "text_mb": ("text (MB, UTF-8)", "{:.2f}"),
    "mentions": ("mentions (all kinds)", "{:,.0f}"),
    "place_mentions": ("place mentions", "{:,.0f}"),
    "places": ("distinct places", "{:,.0f}"),
    "quotes": ("quotes (distinct per place)", "{:,.0f}"),
    "geoparse_s": ("geoparse, 1 process (s)", "{:.2f}"),
    "geoparse_mb_s": ("geoparse (MB/s, 1 process)", "{:.2f}"),
    "geoparse_articles_s": ("geoparse (articles/s, 1 process)", "{:,.0f}"),
    "scan_mb_s": ("bare Aho-Corasick scan (MB/s)", "{:.2f}"),
    "geoparse_vs_scan": ("geoparse time / bare scan time (paired runs)", "{:.1f}x"),
    "steal_pct": ("CPU time stolen by the hypervisor in those runs (%)", "{:.1f}"),
    "index_load_s": ("index: load corpus, all cores (s)", "{:.2f}"),
    "index_geoparse_s": ("index: geoparse, all cores (s)", "{:.2f}"),
    "index_build_s": ("index: layers + build_index (s)", "{:.2f}"),
    "index_s": ("index build total, in memory (s)", "{:.2f}"),
    "features": ("index features", "{:,.0f}"),
    "store_build_s": ("quote store build, cold, all cores (the app's index) (s)", "{:.2f}"),
    "artifact_mb": ("served index: the quote store the app reads (MB)", "{:.1f}"),
    "artifact_load_s": ("served index: quote store open (s)", "{:.2f}"),
    "app_first_s": ("app first render, new process (s)", "{:.2f}"),
    "app_session_s": ("app first render, new session on a warm server (s)", "{:.2f}"),
    "app_rerun_s": ("app rerun after a click (s)", "{:.3f}"),
    "map_mb": ("map payload (MB)", "{:.2f}"),
    "server_peak_mb": ("server peak memory (MB)", "{:.0f}"),
    "build_s": ("build, local engine, cold (python -m kzgeo build) (s)", "{:.1f}"),
    "build_peak_mb": ("build peak memory, process tree RSS (MB)", "{:.0f}"),
    "add_article_s": ("add one article and build again (s)", "{:.1f}"),
    "store_mb": ("quote store on disk (MB)", "{:.1f}"),
    "store_open_s": ("quote store: open, new process (s)", "{:.2f}"),
    "store_click_s": ("quote store: a click (all counts; the panel's first page and the "
                      "aggregates of the most quoted place) (s)", "{:.3f}"),
    "store_server_mb": ("process serving from the quote store, peak memory after a click (MB)",
                        "{:.0f}"),
    "dask_1_s": ("dask build (batches as tasks, the client merges), 1 worker (s)", "{:.1f}"),
    "dask_2_s": ("dask build (batches as tasks, the client merges), 2 workers (s)", "{:.1f}"),
    "dask_speedup": ("dask: 1 worker / 2 workers", "{:.2f}x"),
    "fresh_clone_map_s": ("fresh clone, first map in the browser (s)", "{:.1f}"),
}
NOT_MEASURED = "n/a (not measured)"


@dataclass
class Report:
    """What a benchmark run measured: machine, parameters, figures per scale, notes."""

    machine: dict[str, Any]
    params: dict[str, Any]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)  # scale ("-": none) -> ...
    notes: list[str] = field(default_factory=list)

    def put(self, scale: int | None, figure: str, value: Any) -> None:
        """Record one figure (a number, or a string saying why it is not available)."""
        self.figures.setdefault("-" if scale is None else str(scale), {})[figure] = value


# --------------------------------------------------------------------------- machine, timing
def machine_info() -> dict[str, Any]:
    """Return the cores, CPU model and Python version of this machine, and how its Python
    was built (see ``libpython_linkage``)."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "python_build": f"{platform.python_build()[1]}, libpython {libpython_linkage()}",
        "platform": platform.platform(),
    }


def libpython_linkage() -> str:
    """Return how this interpreter links libpython: "shared" (a libpython .so) or "static"
    (linked into the executable).

    With the build date it tells interpreter builds apart, and their speed differs: Debian's
    python3.11 (static, built with profile-guided and link-time optimisation) ran the geoparse
    about 15 % faster than a pyenv build of 3.11.7 (shared, built without them) on one machine.
    """
    return "shared" if sysconfig.get_config_var("Py_ENABLE_SHARED") else "static"


# The fields of psutil.cpu_times() that add up to all CPU time (guest time is in user already).
CPU_TIME_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def read_cpu_times() -> tuple[float, float] | None:
    """Return (steal, total) CPU seconds of all CPUs so far, or None where there is no steal
    figure (off Linux).

    Steal is time the hypervisor gave this virtual machine's CPUs to another guest: on a
    shared machine it says how much of a slow run was the machine's doing.
    """
    times = psutil.cpu_times()
    if not hasattr(times, "steal"):
        return None
    return times.steal, sum(getattr(times, name, 0.0) for name in CPU_TIME_FIELDS)


def steal_percent(
    before: tuple[float, float] | None, after: tuple[float, float] | None
) -> float | None:
    """Return the share of CPU time stolen between two ``read_cpu_times`` readings, in %.

    >>> steal_percent((30, 1000), (40, 1200)), steal_percent(None, (40, 1200))
    (5.0, None)
    """
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 100.0 * (after[0] - before[0]) / (after[1] - before[1])


def median_time(run: Callable[[], Any], repeat: int, setup: Callable[[], Any] = None) -> float:
    """Return the median wall time of ``run()`` over ``repeat`` runs (``setup`` untimed).

    What ``run`` returns is freed after the clock stops: freeing a gazetteer's millions of
    objects is not part of loading it.
    """
    times = []
    for _ in range(max(1, repeat)):
        if setup is not None:
            setup()
        start = time.perf_counter()
        made = run()
        times.append(time.perf_counter() - start)
        del made
    return statistics.median(times)


# --------------------------------------------------------------------------- synthetic corpus
def sentence_pool(articles: Sequence[Article]) -> list[str]:
    """Return every cleaned sentence of ``articles``, in order.

    >>> sentence_pool([])
    []
    """
    return [a.text[s:e] for a in articles for s, e in split_sentences(a.text)]


def synthetic_articles(
    articles: Sequence[Article], count: int, seed: int = SEED, places: Sequence[str] = ()
) -> Iterator[tuple[dict, str]]:
    """Yield (manifest entry, text) for ``count`` synthetic articles made of ``articles``.

    Each mirrors a real article's length and metadata, in turn; its paragraphs are 2-6 random
    sentences of the real ones, each tagged "[dddd] " so that copies of a sentence are distinct
    quotes. With ``places`` (``archive_places``) it is an archive: most paragraphs also get a
    sentence about a place drawn by Zipf rank, and each article a date over ``ARCHIVE_YEARS``
    years and one of ``ARCHIVE_OUTLETS`` or the real outlets.
    """
    pool = sentence_pool(articles)
    rng = random.Random(seed * 1_000_003 + count)
    cumulative = zipf_weights(len(places))
    outlets = sorted({a.outlet for a in articles}) + list(ARCHIVE_OUTLETS)
    days = 365 * ARCHIVE_YEARS
    for number in range(count):
        model = articles[number % len(articles)]
        paragraphs: list[str] = []
        size = 0
        while size < len(model.text):
            sentences = [rng.choice(pool) for _ in range(rng.randint(2, 6))]
            if places and rng.random() < ARCHIVE_PLACE_SHARE:
                place = rng.choices(places, cum_weights=cumulative)[0]
                sentence = rng.choice(PLACE_SENTENCES).format(place=place)
                sentences.insert(rng.randint(1, len(sentences)), sentence)
            paragraph = " ".join(f"[{rng.randrange(10_000):04d}] {sentence}"
                                 for sentence in sentences)
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        entry = {
            "id": f"syn-{number:06d}",
            "file": f"syn-{number:06d}.txt",
            "title": f"Synthetic article {number} (after {model.id})",
            "outlet": rng.choice(outlets) if places else model.outlet,
            "language": model.language,
        }
        date = ARCHIVE_FIRST_DAY + dt.timedelta(rng.randrange(days)) if places else model.date
        entry.update({k: v for k, v in (("author", model.author), ("date", date)) if v})
        yield entry, "\n\n".join(paragraphs)


# --------------------------------------------------------------------------- realistic archive
ARCHIVE_CANDIDATES = 8000  # the most populous gazetteer cities tried as archive places
ARCHIVE_ZIPF_S = 1.0  # the k-th most mentioned place is mentioned about 1/k as often as the first
ARCHIVE_FIRST_DAY = dt.date(2006, 1, 1)
ARCHIVE_YEARS = 20
ARCHIVE_PLACE_SHARE = 0.8  # of paragraphs that get one sentence about an archive place
# Sentences about a place, one per theme; "{place}" is the place's German (or English) name.
PLACE_SENTENCES: tuple[str, ...] = (
    "In {place} verhandelten Vertreter der Regierung über neue Gaslieferungen und Pipelines.",
    "Die Polizei in {place} nahm nach den Protesten mehrere Demonstranten fest.",
    "Eine Delegation aus {place} traf sich mit dem Außenminister zu Gesprächen.",
    "Viele Arbeitsmigranten aus {place} suchen inzwischen Arbeit im Ausland.",
    "Der Streit um die Grenze bei {place} ist seit Jahren ungelöst.",
    "Die Wirtschaft von {place} wuchs im vergangenen Jahr kräftig, berichtet die Handelskammer.",
    "Menschenrechtler kritisieren die Haftbedingungen in {place}.",
    "Am Wochenende fand in {place} ein großes Stadtfest statt.",
)
OUTLET_WORDS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("Neue", "Allgemeine", "Freie", "Östliche", "Deutsche", "Rheinische", "Süddeutsche",
     "Märkische"),
    ("Zeitung", "Rundschau", "Presse", "Post", "Nachrichten", "Tribüne", "Woche", "Depesche"),
)
ARCHIVE_OUTLETS: tuple[str, ...] = tuple(f"{a} {b}" for a, b in itertools.product(*OUTLET_WORDS))


def archive_places(gazetteer: Any, candidates: int = ARCHIVE_CANDIDATES) -> list[str]:
    """Return the names of gazetteer cities the geoparser resolves to themselves in an archive
    sentence, most populous first: the places of the synthetic archive.

    Each candidate (the ``candidates`` most populous cities, by German name where there is
    one) is put in a ``PLACE_SENTENCES`` sentence and geoparsed; it is kept when the mention at
    its offset resolves to its own id.
    """
    from kzgeo.resolve import geoparse

    cities = sorted((e for e in gazetteer.entries if e.kind == "city" and e.lat is not None),
                    key=lambda e: (-e.population, e.id))[:candidates]
    names = list(dict.fromkeys(e.name_de or e.name for e in cities))
    wanted = {e.name_de or e.name: e.id for e in reversed(cities)}  # most populous wins
    parts, offsets = [], []
    position = 0
    for number, name in enumerate(names):
        template = PLACE_SENTENCES[number % len(PLACE_SENTENCES)]
        sentence = template.format(place=name)
        offsets.append(position + template.index("{place}"))
        parts.append(sentence)
        position += len(sentence) + 2
    probe = Article("probe", "probe", "probe", None, None, "de", "probe.txt", "\n\n".join(parts))
    found = {(m.start, m.place_id) for m in geoparse([probe], gazetteer).mentions}
    return [name for name, start in zip(names, offsets, strict=True)
            if (start, wanted[name]) in found]


def zipf_weights(count: int, s: float = ARCHIVE_ZIPF_S) -> list[float]:
    """Return cumulative Zipf weights of ranks 1..count (for ``random.choices``' cum_weights).

    >>> zipf_weights(3)
    [1.0, 1.5, 1.8333333333333333]
    >>> zipf_weights(0)
    []
    """
    return list(itertools.accumulate(1.0 / rank**s for rank in range(1, count + 1)))


def real_articles(articles: Sequence[Article], count: int) -> Iterator[tuple[dict, str]]:
    """Yield (manifest entry, text) for the first ``count`` real articles, cleaned text as is."""
    for article in articles[:count]:
        entry = {"id": article.id, "file": f"{article.id}.txt", "title": article.title,
                 "outlet": article.outlet, "language": article.language}
        entry.update({k: v for k, v in (("author", article.author), ("date", article.date)) if v})
        yield entry, article.text


def write_corpus(
    articles: Sequence[Article], scale: int, folder: Path, places: Sequence[str] = ()
) -> Path:
    """Write the corpus of ``scale`` articles as text files plus manifest.toml into ``folder``.

    Up to ``len(articles)`` they are the real articles, beyond it synthetic ones (an archive
    over ``places`` when given: ``synthetic_articles``).
    """
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    if scale <= len(articles):
        made = real_articles(articles, scale)
    else:
        made = synthetic_articles(articles, scale, places=places)
    entries = []
    for entry, text in made:
        (folder / entry["file"]).write_text(text, encoding="utf-8")
        entries.append(entry)
    (folder / "manifest.toml").write_text(tomli_w.dumps({"article": entries}), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- measurements
def fresh_gazetteer() -> Any:
    """Return the gazetteer read from its artifact, with empty per-process caches."""
    found = read_artifact(ARTIFACT_PATH)
    if found is None or found[0] != input_hash():
        from kzgeo.gazetteer import load_gazetteer

        return load_gazetteer(rebuild=True)
    return found[1]


def clear_text_caches() -> None:
    """Empty the caches a long-running process fills while geoparsing (sentences, themes)."""
    from kzgeo import themes

    split_sentences.cache_clear()
    themes.themes_of.cache_clear()
    themes.clear_chunk_cache()


def scan_all(articles: Sequence[Article], gazetteer: Any) -> int:
    """Run the bare Aho-Corasick scan (fold + automaton, no rules) and return the hit count."""
    automaton = gazetteer.automaton
    hits = 0
    for article in articles:
        for _ in automaton.iter(" " + normalize(article.text).text):
            hits += 1
    return hits


def measure_gazetteer(report: Report, repeat: int) -> None:
    """Record the gazetteer build time and the time to load its artifact (fresh each time)."""
    report.put(None, "gazetteer_build_s", median_time(build_gazetteer, min(repeat, 3)))
    fresh_gazetteer()  # (re)build the artifact first if it is stale
    report.put(None, "gazetteer_load_s", median_time(fresh_gazetteer, repeat))


def measure_geoparse(report: Report, scale: int, folder: Path, repeat: int, workers: int | None):
    """Record corpus size, single-process geoparse, bare scan and the index build at ``scale``."""
    from kzgeo.index import build_index, geoparse_parallel
    from kzgeo.layers import load_layers
    from kzgeo.resolve import geoparse

    articles = load_corpus(folder).articles
    mb = sum(len(a.text.encode("utf-8")) for a in articles) / 1e6
    report.put(scale, "articles", len(articles))
    report.put(scale, "text_mb", mb)
    state: dict[str, Any] = {}

    def cold() -> None:
        state.pop("parsed", None)
        state["gazetteer"] = fresh_gazetteer()
        clear_text_caches()

    def single() -> None:
        state["parsed"] = geoparse(articles, state["gazetteer"])

    # Each geoparse is followed by a bare scan, so that the ratio compares runs made while the
    # machine ran at the same speed (on a shared machine it drifts by tens of per cent).
    pairs = []
    cpu_before = read_cpu_times()
    for _ in range(max(1, repeat)):
        geoparse_seconds = median_time(single, 1, cold)
        parsed = state.pop("parsed")
        counts = {
            "mentions": len(parsed.mentions),
            "place_mentions": sum(p.mention_count for p in parsed.places),
            "places": len(parsed.places),
            "quotes": sum(len(p.quotes) for p in parsed.places),
        }
        del parsed  # freed before the next run is timed, not during it
        scan_seconds = median_time(lambda: scan_all(articles, state["gazetteer"]), 1)
        pairs.append((geoparse_seconds, scan_seconds))
    steal = steal_percent(cpu_before, read_cpu_times())
    report.put(scale, "steal_pct", "n/a (no steal figure here)" if steal is None else steal)
    for figure, count in counts.items():
        report.put(scale, figure, count)
    runs = ", ".join(f"{g:.2f}/{s:.2f} = {g / s:.1f}x" for g, s in pairs)
    report.notes.append(f"N={scale}: each geoparse / bare scan pair (s): {runs}")
    seconds = statistics.median(g for g, _ in pairs)
    report.put(scale, "geoparse_s", seconds)
    report.put(scale, "geoparse_mb_s", mb / seconds)
    report.put(scale, "geoparse_articles_s", len(articles) / seconds)
    report.put(scale, "scan_mb_s", mb / statistics.median(s for _, s in pairs))
    report.put(scale, "geoparse_vs_scan", statistics.median(g / s for g, s in pairs))
    articles = ()

    # the stages of kzgeo.index.index_corpus (the in-memory index), each timed
    stages: dict[str, list[float]] = {"load": [], "geoparse": [], "build": []}
    for _ in range(max(1, repeat)):
        cold()
        t0 = time.perf_counter()
        corpus = load_corpus(folder, workers)
        t1 = time.perf_counter()
        parsed = geoparse_parallel(corpus.articles, workers, state["gazetteer"])
        t2 = time.perf_counter()
        layers = load_layers()
        collection = build_index(parsed, layers)
        t3 = time.perf_counter()
        for stage, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            stages[stage].append(seconds)
        features = len(collection["features"])
        del corpus, parsed, collection
    report.put(scale, "index_load_s", statistics.median(stages["load"]))
    report.put(scale, "index_geoparse_s", statistics.median(stages["geoparse"]))
    report.put(scale, "index_build_s", statistics.median(stages["build"]))
    totals = [sum(run) for run in zip(*stages.values(), strict=True)]
    report.put(scale, "index_s", statistics.median(totals))
    report.put(scale, "features", features)
    state.clear()
    measure_artifact(report, scale, folder, repeat, workers)


def folder_mb(folder: Path) -> float:
    """Return the size of the files in ``folder`` and its subfolders, in MB."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1e6


def measure_artifact(report: Report, scale: int, folder: Path, repeat: int, workers: int | None):
    """Record the quote store the app serves from (built where the app looks for it): the time
    of its first build (no geoparse cached for this folder yet, gazetteer loaded), its size on
    disk and the time to open it (features and the facets' arrays read into memory)."""
    from kzgeo.quotestore import QuoteStore, build_store

    t0 = time.perf_counter()
    store, _ = build_store(folder, workers, rebuild=True)  # into $KZGEO_BUILD_DIR
    report.put(scale, "store_build_s", time.perf_counter() - t0)
    report.put(scale, "artifact_mb", folder_mb(store.folder))
    report.put(scale, "artifact_load_s",
               median_time(lambda: QuoteStore.open(store.folder), repeat))  # fmt: skip


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of a block."""
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def capture_maps(maps: list) -> Iterator[None]:
    """Record what the app sends to streamlit-folium's map component while the block runs."""
    import streamlit_folium

    original = streamlit_folium._component_func

    def recording(*args: Any, **kwargs: Any) -> Any:
        maps.append(kwargs)
        return original(*args, **kwargs)

    streamlit_folium._component_func = recording
    try:
        yield
    finally:
        streamlit_folium._component_func = original


def click_target(folder: Path) -> tuple[str, str]:
    """Return (id, name) of the place with the most quotes: what the rerun after a click selects."""
    from kzgeo.index import PLACES_LAYER
    from kzgeo.quotestore import StoreError, open_store

    try:
        store = open_store(folder)
    except StoreError as error:
        raise RuntimeError(f"no quote store to pick a place from: {error}") from error
    places = [f for f in store.features if f["properties"]["layer"] == PLACES_LAYER]
    top = max(places, key=lambda f: f["properties"]["quote_count"])
    return top["id"], top["properties"]["name"]


def run_app_once(folder: Path, maps: list) -> tuple[float, float, float]:
    """Return the seconds of a first render (caches empty), of a rerun after a click and of a
    second session's first render (caches filled, as a new visitor of a running server)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    place_id, name = click_target(folder)
    st.cache_data.clear()
    st.cache_resource.clear()
    with environment(**{CORPUS_ENV_VAR: str(folder)}), capture_maps(maps):
        app = started_like_a_server(AppTest.from_file(str(APP_PATH), default_timeout=APP_TIMEOUT_S))
        first = timed_run(app, "on its first render")
        app.session_state["place"] = place_id  # what a click on the map sets
        rerun = timed_run(app, "on rerun")
        if not any(h.value == name for h in app.subheader):
            raise RuntimeError(f"the panel does not show {name} after the click")
        visitor = started_like_a_server(
            AppTest.from_file(str(APP_PATH), default_timeout=APP_TIMEOUT_S))
        session = timed_run(visitor, "for a new session")
    return first, rerun, session


def started_like_a_server(app: Any) -> Any:
    """Return ``app`` (an AppTest) with the scan of installed packages for components done, as
    ``streamlit run`` does it once at server start (``Runtime.__init__``) and AppTest in the
    first run of each instance: a first render on a real server does not include it."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    if getattr(app, "_bidi_component_manager", False) is None:  # else AppTest changed: keep it
        manager = BidiComponentManager()
        manager.discover_and_register_components(start_file_watching=False)
        app._bidi_component_manager = manager
    return app


def timed_run(app: Any, when: str) -> float:
    """Run an AppTest once and return its seconds; raise if the app raised (``when`` says when)."""
    start = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - start
    if app.exception:
        raise RuntimeError(f"the app raised {when}: {app.exception[0].message}")
    return seconds


MAP_PAYLOAD_KEYS = ("script", "header", "html", "css_links", "js_links")  # the map's content


def map_payload_mb(maps: list) -> float:
    """Return the size of the last map the app sent to the map component (as JSON)."""
    if not maps:
        raise RuntimeError("the app sent no map to streamlit-folium's component")
    sent = {key: maps[-1][key] for key in MAP_PAYLOAD_KEYS}
    return len(json.dumps(sent, ensure_ascii=False).encode("utf-8")) / 1e6


def measure_app(report: Report, scale: int, folder: Path, repeat: int) -> None:
    """Record the app's first render, rerun after a click and map payload at ``scale``."""
    maps: list = []
    runs = [run_app_once(folder, maps) for _ in range(max(1, repeat))]
    for position, figure in enumerate(("app_first_s", "app_rerun_s", "app_session_s")):
        report.put(scale, figure, statistics.median(run[position] for run in runs))
    report.put(scale, "map_mb", map_payload_mb(maps))


def read_peak_mb(pid: int) -> float:
    """Return a process's peak resident memory in MB (``VmHWM``: psutil has no peak on Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


@contextlib.contextmanager
def chromium_page() -> Iterator[Any]:
    """Yield a new page of a headless Chromium (``harness.launch_options``), closed after."""
    from playwright.sync_api import sync_playwright

    options = launch_options()
    if options["executable_path"] is None:
        raise RuntimeError("no Chromium to load the page")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**options)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def render_in_browser(url: str, timeout_s: float) -> None:
    """Open ``url`` in headless Chromium and wait until the Streamlit script has run."""
    with chromium_page() as page:
        page.goto(url, timeout=timeout_s * 1000)
        page.wait_for_function(
            """() => {const app = document.querySelector('[data-testid="stApp"]');
                      return app && app.getAttribute('data-test-script-state') === 'notRunning'
                             && document.querySelector('[data-testid="stMainBlockContainer"]')
                             && !document.querySelector('[data-testid="stStatusWidget"]');}""",
            timeout=timeout_s * 1000,
        )


def measure_server(report: Report, scale: int, folder: Path) -> None:
    """Record the peak memory of a real ``streamlit run app.py`` after a page render and a
    second visit that selects the most quoted place (its first page of quotes read)."""
    place_id, _ = click_target(folder)
    with tempfile.TemporaryDirectory(prefix="kzgeo-bench-server-") as logs, streamlit_server(
        folder, Path(logs)
    ) as server:
        render_in_browser(server.url, APP_TIMEOUT_S)
        render_in_browser(f"{server.url}?place={place_id}", APP_TIMEOUT_S)
        report.put(scale, "server_peak_mb", read_peak_mb(server.process.pid))


# --------------------------------------------------------------------------- issue 23 figures
PEAK_SAMPLE_S = 0.05


def run_with_peak(cmd: Sequence[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run ``cmd`` and return (seconds, peak MB): the largest sum of the resident memory of the
    process and its children, sampled every ``PEAK_SAMPLE_S`` (pages that forked workers share
    are counted in each, so it errs high). Raises RuntimeError with the log's tail on failure."""
    import subprocess

    from kzgeo.config import PROJECT_ROOT

    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        process = psutil.Popen(list(cmd), env=env, cwd=PROJECT_ROOT, stdout=out,
                               stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for proc in [process, *process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
            peak = max(peak, total)
            time.sleep(PEAK_SAMPLE_S)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{' '.join(cmd[1:4])} exited with {process.returncode}: "
                           f"{log.read_text(encoding='utf-8')[-300:]}")
    return seconds, peak / 1e6


def add_article(folder: Path, text: str) -> str:
    """Add one article (a file and its manifest entry) to a corpus folder; return its id."""
    number = len(list(folder.glob("added-*.txt")))
    article_id = f"added-{number:04d}"
    (folder / f"{article_id}.txt").write_text(text, encoding="utf-8")
    with (folder / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(f'\n[[article]]\nid = "{article_id}"\nfile = "{article_id}.txt"\n'
                       f'title = "Added article {number}"\noutlet = "Neue Post"\n'
                       'language = "de"\ndate = 2026-01-05\n')
    return article_id


def measure_build(report: Report, scale: int, folder: Path, workers: int | None,
                  repeat: int = 1) -> Path:
    """Record a cold ``python -m kzgeo build`` (local engine, empty build folder but for the
    gazetteer) and its peak memory, then the median of ``repeat`` builds each after one
    article is added (each a new process, timed alone: no memory sampled meanwhile); return
    the build folder used."""
    import subprocess
    import sys

    build = Path(tempfile.mkdtemp(prefix=f"kzgeo-bench-build-{scale}-"))
    shutil.copy2(ARTIFACT_PATH, build / ARTIFACT_PATH.name)
    env = {**os.environ, BUILD_ENV_VAR: str(build)}
    cmd = [sys.executable, "-m", "kzgeo", "build", "--corpus", str(folder), "--rebuild"]
    cmd += ["--workers", str(workers)] if workers else []
    seconds, peak = run_with_peak(cmd, env, build / "build.log")
    report.put(scale, "build_s", seconds)
    report.put(scale, "build_peak_mb", peak)
    real = load_corpus(folder).articles[0].text
    adds = []
    for n in range(max(1, repeat)):
        add_article(folder, f"Ein neuer Bericht ({n + 1}) aus Aktau und Atyrau über Öl.\n\n"
                    + real[:4000])
        with (build / "add.log").open("w", encoding="utf-8") as log:
            start = time.perf_counter()
            done = subprocess.run([c for c in cmd if c != "--rebuild"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
            adds.append(time.perf_counter() - start)
        if done.returncode:
            raise RuntimeError(f"the build after an added article exited with {done.returncode}"
                               f": {(build / 'add.log').read_text(encoding='utf-8')[-300:]}")
    report.put(scale, "add_article_s", statistics.median(adds))
    report.notes.append(f"N={scale}: each add of one article, a new build process: "
                        + ", ".join(f"{s:.2f}" for s in adds) + " s")
    return build


STORE_PROBE = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from kzgeo.quotestore import QuoteStore
store = QuoteStore.open(Path(sys.argv[1]))
t1 = time.perf_counter()
top = max(store.offsets, key=lambda k: store.offsets[k][1])
counts = store.quote_counts()
total, page = store.page(top, limit=int(sys.argv[2]))
aggregates = store.aggregates(top)
t2 = time.perf_counter()
assert len(page) == min(counts[top], int(sys.argv[2])) and aggregates["quotes"] == counts[top]
assert total == counts[top]
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
every = len(store.quotes_of(top))
t3 = time.perf_counter()
print(json.dumps({"open": t1 - t0, "click": t2 - t1, "peak_mb": peak / 1024,
                  "all_quotes": every, "all_s": t3 - t2}))
"""


def measure_store(report: Report, scale: int, folder: Path, build: Path) -> None:
    """Record the quote store the build wrote: size, and a new process that opens it and reads
    the quotes of the most quoted place (its time and peak memory)."""
    import subprocess
    import sys

    from kzgeo.quotestore import store_path

    store = store_path(folder, build / "store")
    report.put(scale, "store_mb", folder_mb(store))
    from kzgeo.dashboard import QUOTES_PER_PAGE

    done = subprocess.run([sys.executable, "-c", STORE_PROBE, str(store), str(QUOTES_PER_PAGE)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, BUILD_ENV_VAR: str(build)})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    report.put(scale, "store_open_s", found["open"])
    report.put(scale, "store_click_s", found["click"])
    report.put(scale, "store_server_mb", found["peak_mb"])
    report.notes.append(f"N={scale}: the quote store read all {found['all_quotes']:,} quotes of "
                        f"the most quoted place in {found['all_s']:.2f} s")


def measure_dask(report: Report, scale: int, folder: Path) -> None:
    """Record a cold partitioned build (``kzgeo.parts.build_parts``) whose batches are Dask
    tasks (each reads its files, geoparses and writes its part; the client merges) on a
    LocalCluster of 1 and of 2 worker processes, each in an empty build folder; the workers
    load the gazetteer before the clock starts."""
    from dask.distributed import Client, LocalCluster

    from kzgeo.engines import dask_runner
    from kzgeo.parts import build_parts, worker_gazetteer

    seconds = {}
    for count in (1, 2):
        with tempfile.TemporaryDirectory(prefix="kzgeo-bench-dask-") as build, environment(
            **{BUILD_ENV_VAR: build}
        ):
            shutil.copy2(ARTIFACT_PATH, Path(build) / ARTIFACT_PATH.name)
            with LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.run(worker_gazetteer)
                start = time.perf_counter()
                build_parts(folder, Path(build) / "store", rebuild=True,
                            runner=dask_runner(client, folder))
                seconds[count] = time.perf_counter() - start
    report.put(scale, "dask_1_s", seconds[1])
    report.put(scale, "dask_2_s", seconds[2])
    report.put(scale, "dask_speedup", seconds[1] / seconds[2])


# What a fresh clone holds: the project's files without what a build, a user, git or a
# virtual environment adds (the build and data folders stay empty).
LOCAL_ONLY = frozenset({".git", ".venv", ".venv-ci", "build", "data", "test-artifacts",
                        ".pytest_cache", ".ruff_cache", "node_modules"})
# Whether the map draws place markers: a feature of the places layer on the map, or a cluster.
PLACES_DRAWN_JS = """() => {
  if (!window.map) return false;
  let found = !!document.querySelector('.marker-cluster');
  window.map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (p && p.layer === 'places' && l.getElement && l.getElement()) found = true;
  });
  return found;
}"""


def fresh_copy(root: Path, dest: Path) -> Path:
    """Copy the project at ``root`` to ``dest`` as a fresh clone has it (``LOCAL_ONLY`` left out
    at the top, caches everywhere); return ``dest``."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = LOCAL_ONLY if Path(folder) == root else frozenset()
        return {n for n in names if n in top or n == "__pycache__" or n.endswith(".pyc")}

    return Path(shutil.copytree(root, dest, ignore=ignore))


def first_map_s(url: str, timeout_s: float) -> float:
    """Open ``url`` in headless Chromium; return the seconds from the request to the map's place
    markers drawn (``PLACES_DRAWN_JS`` true in the map's iframe).

    It runs in a thread of its own: playwright's sync API refuses a thread where an asyncio
    loop runs (another sync playwright, as in the browser tests)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_first_map_s, url, timeout_s).result()


def _first_map_s(url: str, timeout_s: float) -> float:
    from playwright.sync_api import Error

    with chromium_page() as page:
        start = time.perf_counter()
        page.goto(url, timeout=timeout_s * 1000)
        while time.perf_counter() - start < timeout_s:
            handle = page.query_selector(MAP_FRAME)
            frame = handle.content_frame() if handle else None
            with contextlib.suppress(Error):
                if frame is not None and frame.evaluate(PLACES_DRAWN_JS):
                    return time.perf_counter() - start
            page.wait_for_timeout(50)
        raise RuntimeError(f"no place markers after {timeout_s:.0f} s")


def measure_fresh_clone(report: Report, root: Path | None = None) -> None:
    """Record the first map of a fresh clone: a copy of the project with empty build and data
    folders, ``streamlit run app.py`` on its own corpus, the time from the first request in
    headless Chromium to the place markers drawn (the server's start is not counted)."""
    from kzgeo.config import DATA_ENV_VAR, PROJECT_ROOT

    with tempfile.TemporaryDirectory(prefix="kzgeo-bench-clone-") as temp:
        clone = fresh_copy(root or PROJECT_ROOT, Path(temp) / "kzgeo")
        env = {BUILD_ENV_VAR: str(clone / "build"), DATA_ENV_VAR: str(clone / "data")}
        server = start_streamlit(clone / "corpus", Path(temp) / "logs", env,
                                 app=clone / "app.py", warm=False)
        try:
            report.put(None, "fresh_clone_map_s", first_map_s(server.url, APP_TIMEOUT_S))
        finally:
            server.stop()


def attempt(
    report: Report, scale: int | None, figures: Sequence[str], measure: Callable[[], None]
) -> None:
    """Run ``measure``; if it fails, record each of ``figures`` as 'n/a (reason)'."""
    try:
        measure()
    except Exception as error:  # noqa: BLE001 - a broken app must not lose the other figures
        reason = f"n/a ({type(error).__name__}: {str(error).splitlines()[0][:120]})"
        for figure in figures:
            report.figures.setdefault("-" if scale is None else str(scale), {}).setdefault(
                figure, reason)


# --------------------------------------------------------------------------- targets, table
def target_status(value: Any, target: Target) -> str:
    """Return MET or MISSED for a number against a target ('n/a' for anything else).

    >>> target_status(0.3, Target("x", None, "<", 0.5)), target_status(4.0, TARGETS[1])
    ('MET', 'MISSED')
    >>> target_status("n/a (no app)", TARGETS[0])
    'n/a'
    """
    if not isinstance(value, int | float):
        return "n/a"
    met = value < target.limit if target.op == "<" else value >= target.limit
    return "MET" if met else "MISSED"


def target_for(figure: str, scale: str) -> Target | None:
    """Return the target of a figure at a scale ('-' for scale-free figures), if any."""
    return next(
        (t for t in TARGETS if t.figure == figure and (t.scale is None or str(t.scale) == scale)),
        None,
    )


def result_rows(report: Report) -> list[dict[str, Any]]:
    """Return one row per (figure, scale): value, target and MET/MISSED."""
    rows = []
    for figure in FIGURES:
        for scale, values in report.figures.items():
            if figure not in values:
                continue
            target = target_for(figure, scale)
            value = values[figure]
            rows.append({
                "figure": figure, "scale": scale, "value": value,
                "target": f"{target.op} {target.limit:g}" if target else "",
                "status": target_status(value, target) if target else "",
            })
    return rows


def describe_target(target: Target) -> str:
    """Return a target as text, e.g. '< 10 at N=2000'.

    >>> describe_target(Target("index_s", 2000, "<", 10.0))
    '< 10 at N=2000'
    >>> describe_target(Target("x", None, ">=", 5.0))
    '>= 5'
    """
    return f"{target.op} {target.limit:g}" + (f" at N={target.scale}" if target.scale else "")


def format_table(report: Report) -> str:
    """Return the figures as a Markdown table: a row per figure, a column per scale."""
    scales = [s for s in report.figures if s != "-"] or ["-"]
    head = ["figure", *(f"N={s}" for s in scales), "target", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for figure, (label, fmt) in FIGURES.items():
        if figure in report.figures.get("-", {}):
            where = ["-"]
            cells = [_cell(report.figures["-"][figure], fmt)] + [""] * (len(scales) - 1)
        else:
            where = [s for s in scales if figure in report.figures.get(s, {})]
            cells = [_cell(report.figures.get(s, {}).get(figure), fmt) for s in scales]
        if not where:
            continue
        checks = [(s, t) for s in where for t in [target_for(figure, s)] if t]
        targets = "; ".join(dict.fromkeys(describe_target(t) for _, t in checks))
        status = ", ".join(
            ("" if s == "-" else f"N={s}: ") + target_status(report.figures[s][figure], t)
            for s, t in checks
        )
        lines.append("| " + " | ".join([label, *cells, targets, status]) + " |")
    return "\n".join(lines)


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return ""
    return fmt.format(value) if isinstance(value, int | float) else str(value)


# --------------------------------------------------------------------------- run
def run_bench(
    corpus_folder: Path,
    scales: Sequence[int] = DEFAULT_SCALES,
    repeat: int = DEFAULT_REPEAT,
    workers: int | None = None,
    app_scales: Sequence[int] | None = None,
    server: bool = True,
    dask: bool = True,
    progress: Callable[[str], None] = lambda message: None,
    fresh_clone: bool = True,
    in_memory: bool = True,
) -> Report:
    """Run the benchmark over the real corpus in ``corpus_folder`` and return the report.

    ``app_scales`` defaults to the smallest scale, the bundled corpus' size and the largest
    scale; ``[]`` skips the app.
    """
    scales = sorted(set(scales))
    real = load_corpus(corpus_folder).articles
    if app_scales is None:
        app_scales = [s for s in scales if s in (scales[0], len(real), scales[-1])]
    app_scales = sorted(set(app_scales))
    report = Report(machine_info(), {
        "scales": scales, "repeat": repeat, "workers": workers or os.cpu_count(),
        "app_scales": app_scales, "corpus": str(corpus_folder), "seed": SEED,
    })
    progress("gazetteer: build and load")
    measure_gazetteer(report, repeat)
    places = archive_places(fresh_gazetteer()) if scales[-1] > len(real) else []
    report.params["archive_places"] = len(places)
    with tempfile.TemporaryDirectory(prefix="kzgeo-bench-") as temp, environment(
        **{BUILD_ENV_VAR: str(Path(temp) / "build")}
    ):
        for scale in scales:
            folder = write_corpus(real, scale, Path(temp) / f"scale-{scale}", places)
            if in_memory:
                progress(f"N={scale}: geoparse, scan and index")
                measure_geoparse(report, scale, folder, repeat, workers)
            else:
                progress(f"N={scale}: the quote store the app reads")
                measure_artifact(report, scale, folder, repeat, workers)
            if scale in app_scales:
                progress(f"N={scale}: app (AppTest)")
                attempt(report, scale, ("app_first_s", "app_rerun_s", "app_session_s", "map_mb"),
                        lambda s=scale, f=folder: measure_app(report, s, f, repeat))
                if server:
                    progress(f"N={scale}: app server memory (streamlit run + Chromium)")
                    attempt(report, scale, ("server_peak_mb",),
                            lambda s=scale, f=folder: measure_server(report, s, f))
            progress(f"N={scale}: cold build, local engine; add one article; quote store")
            builds: list[Path] = []
            attempt(report, scale, ("build_s", "build_peak_mb", "add_article_s"),
                    lambda s=scale, f=folder, b=builds: b.append(
                        measure_build(report, s, f, workers, repeat)))
            if builds:
                attempt(report, scale, ("store_mb", "store_open_s", "store_click_s",
                                        "store_server_mb"),
                        lambda s=scale, f=folder, b=builds[0]: measure_store(report, s, f, b))
                shutil.rmtree(builds[0], ignore_errors=True)
            if dask:
                progress(f"N={scale}: dask geoparse, 1 and 2 workers")
                attempt(report, scale, ("dask_1_s", "dask_2_s", "dask_speedup"),
                        lambda s=scale, f=folder: measure_dask(report, s, f))
    if fresh_clone:
        progress("fresh clone: first map in the browser (streamlit run + Chromium)")
        attempt(report, None, ("fresh_clone_map_s",), lambda: measure_fresh_clone(report))
    return report


def report_dict(report: Report) -> dict[str, Any]:
    """Return the report as plain data for JSON, with the per-figure target rows."""
    data = asdict(report)
    data["rows"] = result_rows(report)
    data["targets"] = [t._asdict() for t in TARGETS]
    return data


def write_json(report: Report, path: Path) -> Path:
    """Write the report as JSON to ``path``."""
    path.write_text(json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def describe_machine(machine: dict[str, Any]) -> str:
    """Return one line naming the machine a report ran on.

    >>> describe_machine({"nproc": 2, "cpu": "AMD EPYC", "python": "3.11.7"})
    '2 cores (nproc), AMD EPYC, Python 3.11.7'
    >>> describe_machine({"nproc": 2, "cpu": "Xeon", "python": "3.11.2",
    ...                   "python_build": "Apr 28 2025, libpython static"})
    '2 cores (nproc), Xeon, Python 3.11.2 (Apr 28 2025, libpython static)'
    """
    build = f" ({machine['python_build']})" if machine.get("python_build") else ""
    return f"{machine['nproc']} cores (nproc), {machine['cpu']}, Python {machine['python']}{build}"
