"""Run the app as its users get it, for the bench, the load test and the browser tests.

A real ``streamlit run app.py`` on a free localhost port (``streamlit_server``), and Debian's
Chromium driven by playwright with one set of flags (``launch_options``). Playwright is a dev
dependency: nothing here imports it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kzgeo.config import CORPUS_ENV_VAR, PROJECT_ROOT

APP_PATH = PROJECT_ROOT / "app.py"
SERVER_START_TIMEOUT_S = 60.0
CHROMIUM_ENV_VAR = "KZGEO_CHROMIUM"  # another Chromium executable than Debian's
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-error"})
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'  # the map's iframe in the page
IDLE_JS = """() => document.querySelector('[data-testid="stApp"]')
                 ?.getAttribute('data-test-script-state') === 'notRunning'"""


class ServerError(RuntimeError):
    """The app server did not start or did not become healthy (the message ends with its log)."""


# --------------------------------------------------------------------------- the server
def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """A running ``streamlit run app.py`` and the file its output goes to."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Return the server's output so far ("" when it cannot be read)."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        return ""

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def wait_healthy(server: StreamlitServer, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
    """Poll the server's health endpoint until it answers ok; raise ServerError otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"streamlit exited with {server.process.returncode}:\n"
                              f"{server.log()[-4000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(
            f"{server.url}/_stcore/health", timeout=2
        ) as response:
            if response.status == 200:
                return
        time.sleep(0.25)
    raise ServerError(f"streamlit not healthy after {timeout_s:.0f} s:\n{server.log()[-4000:]}")


def start_streamlit(
    corpus: Path,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = SERVER_START_TIMEOUT_S,
    app: Path = APP_PATH,
    warm: bool = True,
) -> StreamlitServer:
    """Start ``app`` on a free port with ``corpus`` (and ``env``), its output in a file in
    ``log_dir``; return once it is healthy. The caller stops it (or use ``streamlit_server``).

    With ``warm`` the gazetteer artifact is made first, here, so no server builds it in its
    first render; without, the server starts as a fresh deployment does.
    """
    if warm:
        from kzgeo.gazetteer import load_gazetteer

        load_gazetteer()
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"streamlit-{port}.log"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    full_env = {**os.environ, CORPUS_ENV_VAR: str(corpus), "PYTHONUNBUFFERED": "1", **(env or {})}
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(cmd, cwd=Path(app).parent, env=full_env, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = StreamlitServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_healthy(server, timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def streamlit_server(
    corpus: Path, log_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[StreamlitServer]:
    """Run ``app.py`` with ``corpus`` for the duration of a block (``start_streamlit``)."""
    server = start_streamlit(corpus, log_dir, env)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- the browser
def chromium_path() -> str | None:
    """Return the Chromium to drive: ``$KZGEO_CHROMIUM``, else Debian's; None when missing."""
    candidate = os.environ.get(CHROMIUM_ENV_VAR) or "/usr/bin/chromium"
    return candidate if Path(candidate).is_file() else shutil.which("chromium")


def launch_options(executable: str | None = None) -> dict[str, Any]:
    """Return the keyword arguments of playwright's ``chromium.launch`` (sync or async API):
    the Chromium executable (never playwright's own download) and ``CHROMIUM_ARGS``."""
    return {"executable_path": executable or chromium_path(), "args": list(CHROMIUM_ARGS)}


def is_local(url: str, app_host: str = "") -> bool:
    """Tell whether a request stays on this machine (or on the app's host).

    >>> is_local("http://127.0.0.1:8501/app/static/x.js"), is_local("data:image/png;base64,")
    (True, True)
    >>> is_local("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
    False
    >>> is_local("https://kzgeo.example/app", "kzgeo.example")
    True
    """
    parsed = urlparse(url)
    host = parsed.hostname or ""
    return parsed.scheme in LOCAL_SCHEMES or host in LOCAL_HOSTS or (host == app_host != "")
