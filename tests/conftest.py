"""Shared fixtures: real Streamlit servers and a headless Chromium that may not leave the machine.

Browser tests (``@pytest.mark.browser``) use:

- ``streamlit_app``: base URL of a server running ``app.py`` on the project's ``corpus/``.
- ``start_streamlit(corpus=DIR, env={...})``: start (or reuse) a server for another corpus folder;
  returns its base URL. All servers stop at the end of the session.
- ``app_page``: an ``AppPage`` (a fresh page plus its request/console log, offline guard and
  screenshot helper) -- ``app_page.open(streamlit_app)``, ``app_page.map_frame``, ...
- ``browser`` / ``page`` / ``browser_log``: the lower-level pieces.

Chromium is Debian's (``/usr/bin/chromium`` or ``$KZGEO_CHROMIUM``), driven by the playwright
package; browser tests are skipped when it is missing. Every request to a host other than
localhost is aborted and recorded, so a test can assert the app works offline.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from kzgeo import harness
from kzgeo.harness import (
    IDLE_JS,
    MAP_FRAME,
    ServerError,
    StreamlitServer,
    chromium_path,
    is_local,
    launch_options,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
SERVER_START_TIMEOUT = 40.0


# --- Where tests keep user data ------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def user_data_folder(tmp_path_factory) -> Iterator[Path]:
    """Keep the collections database (and the watcher's state) of every test and every server
    the tests start in a temporary folder, never in the project's or the user's data folder."""
    folder = tmp_path_factory.mktemp("kzgeo-data")
    saved = {key: os.environ.get(key) for key in ("KZGEO_DATA_DIR", "KZGEO_DATABASE_URL")}
    os.environ["KZGEO_DATA_DIR"] = str(folder)
    os.environ.pop("KZGEO_DATABASE_URL", None)
    yield folder
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# --- Databases for the collection store ----------------------------------------------------------
POSTGRES_ENV_VAR = "KZGEO_TEST_POSTGRES_URL"  # .ci/run starts PostgreSQL and sets it


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'kzgeo.sqlite3'}"
        return
    server = os.environ.get(POSTGRES_ENV_VAR)
    if not server:
        pytest.skip(f"{POSTGRES_ENV_VAR} is not set (.ci/run starts PostgreSQL and sets it)")
    schema = f"kzgeo_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


# --- Streamlit servers --------------------------------------------------------------------------


def launch_streamlit(corpus: Path, env: dict[str, str] | None = None) -> StreamlitServer:
    """Start ``app.py`` on a free port with ``KZGEO_CORPUS=corpus``; return once it is healthy
    (fail the test with the server's log otherwise). Its log goes to ``test-artifacts/``."""
    try:
        return harness.start_streamlit(corpus, ARTIFACTS_DIR, env, SERVER_START_TIMEOUT)
    except ServerError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def start_streamlit() -> Iterator[Callable[..., str]]:
    """Return ``start(corpus=None, env=None) -> base URL``; one server per (corpus, env)."""
    servers: dict[tuple, StreamlitServer] = {}

    def start(corpus: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> str:
        folder = Path(corpus) if corpus is not None else DEFAULT_CORPUS
        key = (str(folder.resolve()), tuple(sorted((env or {}).items())))
        if key not in servers or servers[key].process.poll() is not None:
            servers[key] = launch_streamlit(folder, env)
        return servers[key].url

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def streamlit_app(start_streamlit: Callable[..., str]) -> str:
    """Return the base URL of the app serving the project's own corpus."""
    return start_streamlit()


# --- Browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Yield a headless Chromium (Debian's, never a downloaded one); skip if there is none."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: install Debian's chromium or set KZGEO_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(**launch_options(executable))
        yield chromium
        chromium.close()


@dataclass
class BrowserLog:
    """What a page did: every request, the external ones (aborted), console errors."""

    requests: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assert_offline(self) -> None:
        """Fail if any request tried to leave the machine."""
        assert not self.external, f"requests left the machine: {self.external}"

    def assert_no_console_errors(self, ignore: tuple[str, ...] = ()) -> None:
        """Fail on console errors / uncaught exceptions, except those containing ``ignore``."""
        errors = [e for e in self.console_errors if not any(i in e for i in ignore)]
        assert not errors, f"console errors: {errors}"


@pytest.fixture
def browser_log() -> BrowserLog:
    """Return an empty log for the ``page`` fixture to fill."""
    return BrowserLog()


@pytest.fixture
def page(browser, browser_log: BrowserLog):
    """Yield a fresh page whose requests and console errors go to ``browser_log``.

    Requests to hosts other than localhost are aborted and recorded in ``browser_log.external``.
    """
    pg = new_guarded_page(browser, browser_log)
    yield pg
    pg.context.close()


def new_guarded_page(browser, browser_log: BrowserLog, timeout_ms: float = 20_000,
                     **context_options):  # fmt: skip
    """Return a page in a new browser context (no cookies, storage or session of another;
    ``context_options`` as playwright's ``new_context``), offline-guarded and logged to
    ``browser_log``; the caller closes ``page.context``."""
    options = {"viewport": {"width": 1400, "height": 950}, "locale": "de-DE", **context_options}
    context = browser.new_context(**options)

    def guard(route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            browser_log.external.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.on("request", lambda request: browser_log.requests.append(request.url))
    context.on("requestfailed", lambda request: browser_log.failed.append(request.url))
    context.on(
        "console",
        lambda msg: browser_log.console_errors.append(f"{msg.text} @ {msg.location}")
        if msg.type == "error" else None,
    )
    context.on("weberror", lambda error: browser_log.console_errors.append(str(error.error)))
    pg = context.new_page()
    pg.set_default_timeout(timeout_ms)
    return pg


@contextlib.contextmanager
def fresh_app_page(browser, timeout_ms: float = 20_000, **context_options) -> Iterator[AppPage]:
    """Yield the app helper around a page of a new browser context (another person's browser),
    offline-guarded (``new_guarded_page``); the context is closed afterwards."""
    log = BrowserLog()
    page = new_guarded_page(browser, log, timeout_ms, **context_options)
    try:
        yield AppPage(page, log)
    finally:
        page.context.close()


# --- The app, as a page ---------------------------------------------------------------------------


# Counts the script's state changes (a run starting or ending) in window.kzRuns.
COUNT_RUNS_JS = """() => {
  if (window.kzRuns !== undefined) return;
  window.kzRuns = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => { window.kzRuns += 1; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


@dataclass
class AppPage:
    """The kzgeo app in a browser page, with the helpers browser tests share."""

    page: object  # playwright.sync_api.Page
    log: BrowserLog

    def open(self, base_url: str, query: str = "") -> AppPage:
        """Load the app (``query`` like ``"?place=almaty"``) and wait until its script has run."""
        self.page.goto(f"{base_url}/{query}")
        self.page.locator('[data-testid="stApp"]').wait_for()
        self.wait_idle()
        return self

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Wait until Streamlit has finished running the script."""
        self.page.wait_for_function(IDLE_JS, timeout=timeout)

    def settle(self, quiet_ms: int = 500, timeout: float = 30.0) -> None:
        """Wait until the script is idle and starts no run for ``quiet_ms`` (the rerun the
        map's first value asks for, sent after it drew, is over): a click then is the user's."""
        self.page.evaluate(COUNT_RUNS_JS)
        deadline = time.monotonic() + timeout
        while True:
            self.wait_idle()
            runs = self.page.evaluate("() => window.kzRuns")
            self.page.wait_for_timeout(quiet_ms)
            if self.page.evaluate("() => window.kzRuns") == runs:
                return
            assert time.monotonic() < deadline, "the app kept starting runs"

    def wait_animations(self, timeout: float = 10_000) -> None:
        """Wait until the page's finite animations (an expander opening) have finished.

        A select list opened while an expander still grows is closed again by it.
        """
        self.page.wait_for_function(
            "() => document.getAnimations().every(a => a.playState !== 'running'"
            " || a.effect.getTiming().iterations === Infinity)", timeout=timeout)

    @property
    def map_iframe(self):
        """Return the locator of the map's iframe element."""
        return self.page.locator(MAP_FRAME)

    @property
    def map_frame(self):
        """Return a frame locator for the inside of the map iframe."""
        return self.page.frame_locator(MAP_FRAME)

    def wait_for_map(self, min_paths: int = 1, timeout: float = 20_000) -> int:
        """Wait until the map draws at least ``min_paths`` SVG paths; return how many it drew."""
        self.map_iframe.wait_for(state="visible", timeout=timeout)
        paths = self.map_frame.locator(".leaflet-overlay-pane svg path")
        paths.nth(min_paths - 1).wait_for(state="attached", timeout=timeout)
        return paths.count()

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot to ``test-artifacts/<name>.png``; return its path."""
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        path = ARTIFACTS_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def app_page(page, browser_log: BrowserLog) -> AppPage:
    """Return the app helper around a fresh, offline-guarded page."""
    return AppPage(page, browser_log)
