"""Load test: many headless Chromium sessions clicking places on one app server at once.

``python -m kzgeo loadtest [--sessions 20] [--duration 60] [--url URL] [--json OUT]`` starts one
``streamlit run app.py`` on a free localhost port (or uses ``--url``) and opens ``sessions``
pages in one headless Chromium (a browser context each, so each is its own Streamlit session).
Once every page shows its map, each session clicks a random place marker on the map with a
real mouse click, waits ``pause`` seconds after its quotes show, and clicks again, until
``duration`` seconds are over (a click in flight then may finish). Click-to-quote latency runs
from the mouse click until the quote panel shows the clicked place's heading and its quotes
and the script is idle.

Errors are counted by kind (``ERROR_KINDS``). The server's memory is sampled (psutil)
over its process tree; CPU use is split between the server, the browsers and everything else
on the machine, since on a small machine the browsers compete with the server. The browser is
driven by playwright's async API, one asyncio task per session (its sync API is not safe to
share between threads).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

import psutil

from kzgeo.bench import CPU_TIME_FIELDS, describe_machine, machine_info, read_peak_mb
from kzgeo.config import PROJECT_ROOT
from kzgeo.harness import (
    IDLE_JS,
    MAP_FRAME,
    ServerError,
    chromium_path,
    is_local,
    launch_options,
    streamlit_server,
)

DEFAULT_SESSIONS = 20
DEFAULT_DURATION_S = 60.0
DEFAULT_PAUSE_S = 1.0  # a reader's pause between a quote shown and the next click
OPEN_TIMEOUT_S = 300.0  # every session opens the app at once: on 2 cores the browsers' own
# work (Streamlit's frontend and the map for each page) makes that take minutes
CLICK_TIMEOUT_S = 60.0  # a click not answered by then is an error
MEMORY_SAMPLE_S = 0.5
POLL_MS = 50  # how often the browser checks for the quote: the latency's resolution
FIRST_ERRORS = 10  # errors listed in the report (all are counted)
SEED = 7
VIEWPORT = {"width": 1400, "height": 950}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

# The map views sessions open (round robin): each shows several places as single markers
# (not inside a cluster), so there is always a marker to click.
VIEWS: tuple[str, ...] = (
    "",  # the default view: Kazakhstan and Central Asia, zoom 4
    "?lat=50&lon=38&zoom=4",  # Moscow, Kyiv, Minsk, Ankara, the Caucasus
    "?lat=48&lon=35&zoom=5",  # Ukraine, the Black Sea, Novorossiysk
)

# kind -> what is counted as an error of that kind. Every error makes the exit status 1.
ERROR_KINDS: dict[str, str] = {
    "timeout": "no quote within the click timeout, or the app/map did not load in time",
    "console": "console error in a page",
    "page": "uncaught exception in a page",
    "exception": "Streamlit exception element shown in the page",
    "http": "HTTP response >= 400 or a failed request",
    "external": "request to a host other than the app's (the app must work offline)",
    "server": "traceback in the server's log",
    "session": "a session failed in another way (browser error, no marker to click)",
}

# Places drawn as single markers and not covered by anything else at their centre, with
# their point inside the map container: {id, name, x, y}.
CLICKABLE_PLACES_JS = """() => {
  const map = window.map;
  const box = map.getContainer().getBoundingClientRect();
  const found = new Map();
  const visit = (layer) => {
    const props = layer.feature && layer.feature.properties;
    if (props && props.layer === 'places') {
      if (found.has(layer.feature.id) || !map.hasLayer(layer) || !layer._path) return;
      const p = map.latLngToContainerPoint(layer.getLatLng());
      if (document.elementFromPoint(box.left + p.x, box.top + p.y) === layer._path) {
        found.set(layer.feature.id, {id: layer.feature.id, name: props.name, x: p.x, y: p.y});
      }
    } else if (layer.getLayers) layer.getLayers().forEach(visit);
  };
  map.eachLayer(visit);
  return [...found.values()];
}"""

MAP_READY_JS = "() => window.map && Object.keys(window.map._layers).length > 20"

# Truthy once the panel shows the place's heading and quotes with the script idle, or once
# a Streamlit exception is shown (then its text).
QUOTE_SHOWN_JS = """(name) => {
  const exception = document.querySelector('[data-testid="stException"]');
  if (exception) return 'exception: ' + exception.innerText.slice(0, 300);
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const headings = [...document.querySelectorAll('[data-testid="stHeading"]')];
  const named = headings.some((h) => h.textContent.trim() === name);
  return named && document.querySelector('.kz-quote') !== null ? 'ok' : false;
}"""


class LoadTestError(Exception):
    """The load test cannot run here (no playwright, no Chromium, no server)."""


class Problem(NamedTuple):
    """One error: its kind (a key of ``ERROR_KINDS``), the session (-1: none), what happened."""

    kind: str
    session: int
    detail: str


@dataclass
class Session:
    """What one browser session did."""

    number: int
    view: str
    open_s: float | None = None
    latencies: list[float] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # the place of each latency, in order


@dataclass
class LoadReport:
    """The outcome of a load test: parameters, machine, figures, sessions and errors."""

    params: dict[str, Any]
    machine: dict[str, Any]
    figures: dict[str, Any]
    sessions: list[dict[str, Any]]
    error_counts: dict[str, int]
    first_errors: list[dict[str, Any]]

    @property
    def errors(self) -> int:
        return sum(self.error_counts.values())


# --------------------------------------------------------------------------- pure helpers

def run_in_own_loop(coroutine: Any) -> Any:
    """Run ``coroutine`` to its end in a new event loop on its own thread and return its result.

    A caller may already run an event loop in this thread (Playwright's sync API leaves one).
    """
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (nearest rank) of ``values``; None when there are none.

    >>> percentile([3.0, 1.0, 2.0, 4.0], 50), percentile([3.0, 1.0, 2.0, 4.0], 95)
    (2.0, 4.0)
    >>> percentile([5.0], 95), percentile([], 50) is None
    (5.0, True)
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


def server_log_errors(log: str) -> list[str]:
    """Return one line per traceback in a server log: the exception line that ends it.

    >>> server_log_errors("ok\\nTraceback (most recent call last):\\n  File x\\nKeyError: 'a'\\n")
    ["KeyError: 'a'"]
    >>> server_log_errors("  You can now view your Streamlit app in your browser.")
    []
    """
    lines = log.splitlines()
    found = []
    for number, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            rest = [entry for entry in lines[number + 1:] if entry and not entry[0].isspace()]
            found.append(rest[0] if rest else line)
    return found


# --------------------------------------------------------------------------- server, memory
def process_tree(root: int) -> list[int]:
    """Return ``root`` and every process descending from it (``[root]`` once it is gone)."""
    with contextlib.suppress(psutil.Error):
        return [root, *(child.pid for child in psutil.Process(root).children(recursive=True))]
    return [root]


def rss_mb(pid: int) -> float:
    """Return the resident memory of one process in MB (0 when the process is gone)."""
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).memory_info().rss / 2**20
    return 0.0


def peak_mb(pid: int) -> float:
    """Return the peak resident memory of one process in MB (0 when the process is gone)."""
    with contextlib.suppress(OSError, RuntimeError):
        return read_peak_mb(pid)
    return 0.0


def tree_rss_mb(root: int) -> float:
    """Return the resident memory of a process tree right now, in MB."""
    return sum(rss_mb(pid) for pid in process_tree(root))


def tree_cpu_s(pids: Sequence[int]) -> float:
    """Return the CPU seconds (user + system) the processes ``pids`` have used so far."""
    seconds = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            seconds += times.user + times.system
    return seconds


def machine_cpu_s() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of all the machine's CPUs so far."""
    times = psutil.cpu_times()
    total = sum(getattr(times, name, 0.0) for name in CPU_TIME_FIELDS)
    return total - times.idle - getattr(times, "iowait", 0.0), total


class CpuSnapshot(NamedTuple):
    """CPU seconds used so far by the server tree and by this process's tree (the browsers),
    and the machine's busy and total CPU seconds, at one moment."""

    at: float
    server_s: float | None
    client_s: float
    machine: tuple[float, float]


def cpu_snapshot(server_pid: int | None) -> CpuSnapshot:
    """Return the CPU use so far of the server, of the load generator and of the machine."""
    server = process_tree(server_pid) if server_pid is not None else []
    client = [pid for pid in process_tree(os.getpid()) if pid not in set(server)]
    return CpuSnapshot(
        time.monotonic(),
        tree_cpu_s(server) if server_pid is not None else None,
        tree_cpu_s(client),
        machine_cpu_s(),
    )


def cpu_use(before: CpuSnapshot, after: CpuSnapshot, cores: int,
            phase: str) -> dict[str, float | None]:
    """Return the cores used by the server, by the browsers and by everything else on the
    machine (other users' work skews the figures), and the machine's busy percent.

    >>> a = CpuSnapshot(0.0, 10.0, 5.0, (100, 1000))
    >>> use = cpu_use(a, CpuSnapshot(10.0, 19.0, 13.0, (1800, 3000)), 2, "click")
    >>> use["click_server_cores"], use["click_client_cores"], use["click_other_cores"]
    (0.9, 0.8, 0.0)
    >>> use["click_machine_busy_pct"]
    85.0
    """
    seconds = after.at - before.at
    busy = after.machine[0] - before.machine[0]
    total = after.machine[1] - before.machine[1]
    busy_pct = 100 * busy / total if total else None
    server = (after.server_s - before.server_s) / seconds if before.server_s is not None else None
    client = (after.client_s - before.client_s) / seconds
    other = None
    if server is not None and busy_pct is not None:
        other = max(0.0, round(busy_pct / 100 * cores - server - client, 2))
    return {f"{phase}_server_cores": server, f"{phase}_client_cores": client,
            f"{phase}_other_cores": other, f"{phase}_machine_busy_pct": busy_pct}


class MemoryProbe:
    """Samples the resident memory of the server's process tree; keeps first, last and peak."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[float] = []

    def sample(self) -> None:
        if self.pid is not None:
            self.samples.append(tree_rss_mb(self.pid))

    async def run(self, interval_s: float = MEMORY_SAMPLE_S) -> None:
        """Sample every ``interval_s`` until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(interval_s)

    def figures(self) -> dict[str, Any]:
        """Return the memory figures (None when the server is not ours to measure)."""
        if self.pid is None or not self.samples:
            return {"server_rss_start_mb": None, "server_rss_end_mb": None,
                    "server_rss_peak_mb": None, "server_hwm_mb": None}
        tree = process_tree(self.pid)
        return {
            "server_rss_start_mb": self.samples[0],
            "server_rss_end_mb": self.samples[-1],
            "server_rss_peak_mb": max(self.samples),
            "server_hwm_mb": sum(peak_mb(pid) for pid in tree),
        }


# --------------------------------------------------------------------------- browser sessions
def require_browser() -> str:
    """Return the Chromium executable; raise LoadTestError saying what to install if missing."""
    try:
        import playwright.async_api  # noqa: F401 - a dev dependency, imported only here
    except ImportError as error:
        raise LoadTestError(
            "the load test needs the playwright package (a dev dependency): "
            "pip install -r requirements-dev.txt"
        ) from error
    executable = chromium_path()
    if executable is None:
        raise LoadTestError(
            "no Chromium: install Debian's chromium (apt-get install chromium) or set "
            "KZGEO_CHROMIUM to a Chromium executable (playwright's own download is not used)"
        )
    return executable


class Run:
    """The shared state of one load test: where the app is, the errors, when to stop."""

    def __init__(self, url: str, pause_s: float, click_timeout_s: float, seed: int) -> None:
        self.url = url.rstrip("/")
        self.host = urlparse(url).hostname or ""
        self.pause_s = pause_s
        self.click_timeout_ms = click_timeout_s * 1000
        self.seed = seed
        self.problems: list[Problem] = []
        self.deadline = float("inf")

    def report(self, kind: str, session: int, detail: str) -> None:
        self.problems.append(Problem(kind, session, " ".join(str(detail).split())[:300]))


def watch(context: Any, run: Run, session: Session, listening: list[bool]) -> None:
    """Count the page's console errors, page errors, HTTP failures and external requests."""

    def on_console(message: Any) -> None:
        if listening[0] and message.type == "error":
            run.report("console", session.number, f"{message.text} @ {message.location}")

    def on_request(request: Any) -> None:
        if listening[0] and not is_local(request.url, run.host):
            run.report("external", session.number, request.url)

    def on_response(response: Any) -> None:
        if listening[0] and response.status >= 400:
            run.report("http", session.number, f"{response.status} {response.url}")

    def on_failed(request: Any) -> None:
        if listening[0] and is_local(request.url, run.host):
            run.report("http", session.number, f"{request.failure} {request.url}")

    def on_page_error(error: Any) -> None:
        if listening[0]:
            run.report("page", session.number, str(error.error))

    context.on("console", on_console)
    context.on("weberror", on_page_error)
    context.on("request", on_request)
    context.on("response", on_response)
    context.on("requestfailed", on_failed)


async def map_frame(page: Any, timeout_ms: float) -> Any:
    """Return the map iframe's frame once the script is idle and Leaflet has drawn the layers.

    A rerun may replace the iframe (detached or, for a moment, two of them): that is retried.
    """
    from playwright.async_api import Error

    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        remaining = max(1.0, (deadline - time.monotonic()) * 1000)
        try:
            await page.wait_for_function(IDLE_JS, timeout=remaining, polling=POLL_MS)
            iframe = page.locator(MAP_FRAME)
            await iframe.wait_for(state="visible", timeout=remaining)
            frame = await (await iframe.element_handle(timeout=remaining)).content_frame()
            await frame.wait_for_function(MAP_READY_JS, timeout=remaining, polling=POLL_MS)
            await page.wait_for_function(IDLE_JS, timeout=remaining, polling=POLL_MS)
            return frame
        except Error:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def first_line(error: BaseException) -> str:
    """Return the first line of an error's message.

    >>> first_line(TimeoutError("Timeout 30000ms exceeded.\\n=== logs ===")), first_line(OSError())
    ('Timeout 30000ms exceeded.', 'OSError')
    """
    return (str(error).splitlines() or [type(error).__name__])[0]


async def open_app(page: Any, run: Run, session: Session, timeout_ms: float) -> float:
    """Load the app at the session's view; return the seconds until its map was drawn, once
    the rerun the map's first value causes has run too."""
    began = time.perf_counter()
    await page.goto(run.url + "/" + session.view, timeout=timeout_ms)
    await map_frame(page, timeout_ms)
    drawn = time.perf_counter() - began
    await asyncio.sleep(1.0)  # the map's first value reruns the script: let that run start
    await map_frame(page, timeout_ms)
    return drawn


async def click_place(page: Any, run: Run, session: Session, rng: random.Random,
                      current: str | None) -> str | None:
    """Click a random clickable place other than ``current`` and wait for its quotes; return
    its id (the latency recorded), or None after reporting why not."""
    frame = await map_frame(page, run.click_timeout_ms)
    places = [p for p in await frame.evaluate(CLICKABLE_PLACES_JS) if p["id"] != current]
    if not places:
        run.report("session", session.number, "no place marker to click on the map")
        return None
    place = rng.choice(places)
    box = await frame.locator(".leaflet-container").bounding_box()
    start = time.perf_counter()
    await page.mouse.click(box["x"] + place["x"], box["y"] + place["y"])
    shown = await page.wait_for_function(
        QUOTE_SHOWN_JS, arg=place["name"], timeout=run.click_timeout_ms, polling=POLL_MS
    )
    latency = time.perf_counter() - start
    outcome = await shown.json_value()
    if outcome != "ok":
        run.report("exception", session.number, f"after clicking {place['id']}: {outcome}")
        return None
    session.latencies.append(latency)
    session.places.append(place["id"])
    return place["id"]


async def click_until_deadline(page: Any, run: Run, session: Session) -> None:
    """Click places until the run's deadline; after a failed click, reload the page, go on."""
    from playwright.async_api import Error, TimeoutError

    rng = random.Random(run.seed * 1_000 + session.number)
    current = None
    await asyncio.sleep(rng.uniform(0, run.pause_s + 1))  # users do not click in lockstep
    while time.monotonic() < run.deadline:
        try:
            current = await click_place(page, run, session, rng, current)
        except TimeoutError as error:
            run.report("timeout", session.number, first_line(error))
            current = None
        except Error as error:  # e.g. the map's frame detached while it was read
            run.report("session", session.number, first_line(error))
            current = None
        if current is None and time.monotonic() < run.deadline:
            with contextlib.suppress(Error):  # a page that does not load fails the next click
                await open_app(page, run, session, run.click_timeout_ms)
        await asyncio.sleep(run.pause_s)


async def run_session(browser: Any, run: Run, session: Session, opened: asyncio.Event,
                      start: asyncio.Event, open_timeout_s: float) -> None:
    """One user: open the app, wait for the common start, click until the deadline."""
    from playwright.async_api import Error, TimeoutError

    listening = [True]
    context = None
    try:
        context = await browser.new_context(viewport=VIEWPORT, locale="de-DE")
        watch(context, run, session, listening)
        page = await context.new_page()
        page.set_default_timeout(run.click_timeout_ms)
        try:
            session.open_s = await open_app(page, run, session, open_timeout_s * 1000)
        except TimeoutError as error:
            run.report("timeout", session.number, "opening the app: " + first_line(error))
            return
        finally:
            opened.set()
        await start.wait()
        await click_until_deadline(page, run, session)
    except Error as error:
        run.report("session", session.number, first_line(error))
    finally:
        opened.set()  # also when the session failed before it could open the app
        listening[0] = False
        if context is not None:
            with contextlib.suppress(Error):
                await context.close()


async def drive(executable: str, run: Run, sessions: list[Session], duration_s: float,
                open_timeout_s: float, probe: MemoryProbe) -> dict[str, Any]:
    """Run every session against the app; return the timing figures of the run."""
    from playwright.async_api import async_playwright

    sampler = asyncio.create_task(probe.run())
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(**launch_options(executable))
            version = browser.version
            start = asyncio.Event()
            opened = [asyncio.Event() for _ in sessions]
            tasks = [
                asyncio.create_task(run_session(browser, run, s, o, start, open_timeout_s))
                for s, o in zip(sessions, opened, strict=True)
            ]
            began, cpu_began = time.perf_counter(), cpu_snapshot(probe.pid)
            await asyncio.gather(*(o.wait() for o in opened))
            open_all_s = time.perf_counter() - began
            probe.sample()
            rss_open = probe.samples[-1] if probe.samples else None
            run.deadline = time.monotonic() + duration_s
            click_began, cpu_opened = time.perf_counter(), cpu_snapshot(probe.pid)
            start.set()
            await asyncio.sleep(duration_s)
            cpu_clicked = cpu_snapshot(probe.pid)  # before sessions end and their processes exit
            await asyncio.gather(*tasks)
            clicking_s = time.perf_counter() - click_began
            await browser.close()
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    cores = os.cpu_count() or 1
    return {"chromium": version, "open_all_s": open_all_s, "clicking_s": clicking_s,
            "server_rss_open_mb": rss_open,
            **cpu_use(cpu_began, cpu_opened, cores, "open"),
            **cpu_use(cpu_opened, cpu_clicked, cores, "click")}


# --------------------------------------------------------------------------- report
# figure -> (label, format); the order of this table is the order of the printed rows.
FIGURES: dict[str, tuple[str, str]] = {
    "sessions": ("sessions (browser contexts)", "{:,.0f}"),
    "sessions_clicking": ("sessions that clicked", "{:,.0f}"),
    "duration_s": ("click phase, planned (s)", "{:.0f}"),
    "clicking_s": ("click phase, actual (s)", "{:.1f}"),
    "open_all_s": ("all sessions opened the app in (s)", "{:.1f}"),
    "open_p50_s": ("open to map drawn, p50 (s)", "{:.2f}"),
    "open_max_s": ("open to map drawn, max (s)", "{:.2f}"),
    "clicks": ("clicks with quotes shown", "{:,.0f}"),
    "clicks_per_session_min": ("clicks per session, min", "{:,.0f}"),
    "clicks_per_s": ("clicks per second, all sessions", "{:.2f}"),
    "latency_p50_s": ("click to quote, p50 (s)", "{:.3f}"),
    "latency_p95_s": ("click to quote, p95 (s)", "{:.3f}"),
    "latency_max_s": ("click to quote, max (s)", "{:.3f}"),
    "errors": ("errors", "{:,.0f}"),
    "open_server_cores": ("opening: server CPU (cores)", "{:.2f}"),
    "open_client_cores": ("opening: browsers + driver CPU (cores)", "{:.2f}"),
    "open_other_cores": ("opening: other processes' CPU (cores)", "{:.2f}"),
    "open_machine_busy_pct": ("opening: machine CPU busy (%)", "{:.0f}"),
    "click_server_cores": ("clicking: server CPU (cores)", "{:.2f}"),
    "click_client_cores": ("clicking: browsers + driver CPU (cores)", "{:.2f}"),
    "click_other_cores": ("clicking: other processes' CPU (cores)", "{:.2f}"),
    "click_machine_busy_pct": ("clicking: machine CPU busy (%)", "{:.0f}"),
    "server_rss_start_mb": ("server memory before sessions (MB, RSS)", "{:,.0f}"),
    "server_rss_open_mb": ("server memory, all sessions open (MB, RSS)", "{:,.0f}"),
    "server_rss_peak_mb": ("server memory, peak sampled (MB, RSS)", "{:,.0f}"),
    "server_hwm_mb": ("server memory, peak (MB, VmHWM)", "{:,.0f}"),
}


def summarize(sessions: Sequence[Session], problems: Sequence[Problem], timing: dict[str, Any],
              memory: dict[str, Any], duration_s: float) -> dict[str, Any]:
    """Return the figures of a run (every key of ``FIGURES``, None when not measured) from
    its sessions, errors, timings and memory.

    >>> s = [Session(0, "", 2.0, [0.5, 1.5]), Session(1, "", 4.0, [1.0])]
    >>> f = summarize(s, [], {"clicking_s": 10.0}, {}, 10.0)
    >>> f["clicks"], f["latency_p50_s"], f["latency_max_s"], f["open_max_s"], f["errors"]
    (3, 1.0, 1.5, 4.0, 0)
    """
    latencies = [latency for s in sessions for latency in s.latencies]
    opens = [s.open_s for s in sessions if s.open_s is not None]
    clicking = timing.get("clicking_s") or 0.0
    derived = {
        "sessions": len(sessions),
        "sessions_clicking": sum(1 for s in sessions if s.latencies),
        "duration_s": duration_s,
        "open_p50_s": percentile(opens, 50),
        "open_max_s": max(opens, default=None),
        "clicks": len(latencies),
        "clicks_per_session_min": min((len(s.latencies) for s in sessions), default=0),
        "clicks_per_s": len(latencies) / clicking if clicking else None,
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
        "latency_max_s": max(latencies, default=None),
        "errors": len(problems),
    }
    values = {**timing, **memory, **derived}
    return {figure: values.get(figure) for figure in FIGURES}


def error_counts(problems: Sequence[Problem]) -> dict[str, int]:
    """Return how many errors of each kind there were (every kind, zeros included).

    >>> counts = error_counts([Problem("http", 2, "404 /x"), Problem("http", 3, "404 /y")])
    >>> counts["http"], counts["timeout"]
    (2, 0)
    """
    return {kind: sum(1 for p in problems if p.kind == kind) for kind in ERROR_KINDS}


def format_table(report: LoadReport) -> str:
    """Return the figures and the error counts as a Markdown table."""
    lines = ["| figure | value |", "|---|---|"]
    for figure, (label, fmt) in FIGURES.items():
        value = report.figures.get(figure)
        cell = "n/a" if value is None else fmt.format(value)
        lines.append(f"| {label} | {cell} |")
    for kind, count in report.error_counts.items():
        if count:
            lines.append(f"| errors: {kind} | {count:,} |")
    return "\n".join(lines)


def format_errors(report: LoadReport) -> str:
    """Return the first errors, one line each (empty when there were none)."""
    return "\n".join(
        f"  [{e['kind']}] session {e['session']}: {e['detail']}" for e in report.first_errors
    )


def write_json(report: LoadReport, path: Path) -> Path:
    """Write the report as JSON to ``path``."""
    data = asdict(report)
    data["errors"] = report.errors
    data["error_kinds"] = ERROR_KINDS
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- run
def app_version() -> str | None:
    """Return ``git describe --always --dirty`` of the project (None outside a checkout)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=10)
        if done.returncode == 0:
            return done.stdout.strip()
    return None


def run_loadtest(
    corpus: Path,
    sessions: int = DEFAULT_SESSIONS,
    duration_s: float = DEFAULT_DURATION_S,
    url: str | None = None,
    pause_s: float = DEFAULT_PAUSE_S,
    click_timeout_s: float = CLICK_TIMEOUT_S,
    open_timeout_s: float = OPEN_TIMEOUT_S,
    seed: int = SEED,
    log_dir: Path | None = None,
) -> LoadReport:
    """Run the load test against ``url`` (None: a server of our own on ``corpus``).

    The click phase starts once every session has opened the app (or failed to) and lasts
    ``duration_s``; no click starts after it, one in flight may take ``click_timeout_s`` more.
    """
    if sessions < 1 or duration_s <= 0:
        raise LoadTestError("sessions must be at least 1 and the duration positive")
    executable = require_browser()
    people = [Session(number, VIEWS[number % len(VIEWS)]) for number in range(sessions)]
    params = {"sessions": sessions, "duration_s": duration_s, "pause_s": pause_s,
              "click_timeout_s": click_timeout_s, "open_timeout_s": open_timeout_s,
              "seed": seed, "views": list(VIEWS), "viewport": VIEWPORT,
              "url": url, "corpus": None if url else str(corpus),
              "app_version": None if url else app_version()}
    with contextlib.ExitStack() as stack:
        if url is None:
            folder = log_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            try:
                server = stack.enter_context(streamlit_server(corpus, folder))
            except ServerError as error:
                raise LoadTestError(f"the app server did not start: {error}") from error
            probe = MemoryProbe(server.process.pid)
        else:
            server, probe = None, MemoryProbe(None)
        run = Run(url or server.url, pause_s, click_timeout_s, seed)
        probe.sample()
        timing = run_in_own_loop(drive(executable, run, people, duration_s, open_timeout_s, probe))
        probe.sample()
        memory = probe.figures()
        if server is not None:
            for line in server_log_errors(server.log()):
                run.report("server", -1, line)
    machine = {**machine_info(), "chromium": timing.pop("chromium")}
    problems = run.problems
    return LoadReport(
        params=params,
        machine=machine,
        figures=summarize(people, problems, timing, memory, duration_s),
        sessions=[{"number": s.number, "view": s.view, "open_s": s.open_s,
                   "clicks": len(s.latencies), "latencies_s": s.latencies, "places": s.places}
                  for s in people],
        error_counts=error_counts(problems),
        first_errors=[p._asdict() for p in problems[:FIRST_ERRORS]],
    )


def describe(report: LoadReport) -> str:
    """Return the heading line of a printed report: what ran where."""
    p = report.params
    target = p["url"] or (f"one streamlit server on localhost (app {p['app_version'] or '?'}, "
                          f"corpus {p['corpus']})")
    return (f"kzgeo loadtest: {p['sessions']} sessions x {p['duration_s']:g} s against {target}, "
            f"pause {p['pause_s']:g} s; {describe_machine(report.machine)}, "
            f"Chromium {report.machine['chromium']}")
