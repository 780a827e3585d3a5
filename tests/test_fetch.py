"""Add by URL (#21): safe fetching against a local HTTP server, and `kzgeo add --url`.

The server (started here, on 127.0.0.1) serves fixture pages: a good article, redirects (to it,
to a link-local address, to a file), a page that answers too late, a 5 MB page (with and
without Content-Length), and non-HTML responses. It records every path asked for, so a test can
tell a refused address was never connected to.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from kzgeo import fetch
from kzgeo.config import PROJECT_ROOT
from kzgeo.corpus import load_corpus
from kzgeo.fetch import FetchError, fetch_page
from kzgeo.ingest import IngestError, add_to_collection, fetch_article
from kzgeo.store import articles as articles_table
from kzgeo.store import collections as collections_table
from kzgeo.store import open_store

PAGES = Path(__file__).parent / "data" / "pages"
GOOD = PAGES / "faehre.html"
BIG_BYTES = 5_000_000
SLOW_S = 3.0


class Handler(BaseHTTPRequestHandler):
    """Serve the fixture routes; every request path goes to ``server.seen``."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes, content_type: str, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client gave up
            self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        self.server.seen.append(self.path)
        html = "text/html; charset=utf-8"
        routes = {
            "/faehre.html": lambda: self.send(200, GOOD.read_bytes(), html),
            "/moved": lambda: self.redirect("/faehre.html"),
            "/moved-twice": lambda: self.redirect(f"http://localhost:{self.server.port}/moved"),
            "/to-metadata": lambda: self.redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-mapped": lambda: self.redirect("http://[::ffff:169.254.169.254]/"),
            "/to-file": lambda: self.redirect("file:///etc/passwd"),
            "/loop": lambda: self.redirect("/loop"),
            "/big.html": lambda: self.send(200, big_page(), html),
            "/big-unannounced.html": lambda: self.send(200, big_page(), html, length=False),
            "/report.pdf": lambda: self.send(200, b"%PDF-1.7\n" + b"0" * 1000, "application/pdf"),
            "/data.json": lambda: self.send(200, b'{"a": 1}', "application/json"),
            "/untyped": lambda: self.send(200, b"<p>Aktau</p>", ""),
            "/empty.html": lambda: self.send(200, b"<html><body></body></html>", html),
            "/gone": lambda: self.send(404, b"not here", "text/plain"),
        }
        if self.path == "/slow.html":
            time.sleep(SLOW_S)
            self.send(200, GOOD.read_bytes(), html)
            return
        if self.path == "/drip.html":  # a byte every 0.2 s: never a read time-out
            self.send_response(200)
            self.send_header("Content-Type", html)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in GOOD.read_bytes()[:int(SLOW_S / 0.2)]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            return
        routes.get(self.path, lambda: self.send(404, b"", "text/plain"))()


def big_page() -> bytes:
    paragraph = b"<p>" + "Der Hafen von Aktau wächst. ".encode() * 40 + b"</p>\n"
    return b"<html><body>" + paragraph * (BIG_BYTES // len(paragraph) + 1) + b"</body></html>"


@pytest.fixture(scope="module")
def site() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.seen = []
    server.port = server.server_address[1]
    server.base = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- fetch_page
def test_a_good_article_is_fetched_and_extracted(site):
    fetched = fetch_article(f"{site.base}/faehre.html", private_ok=True)
    assert fetched.url == f"{site.base}/faehre.html"
    assert "Im Hafen von Kuryk stehen die Lastwagen" in fetched.text
    assert "Cookies" not in fetched.text and "Impressum" not in fetched.text
    meta = fetched.metadata
    assert meta["title"] == "Die Fähre nach Baku ist ausgebucht"
    assert (meta["outlet"], meta["author"]) == ("Kaspischer Kurier", "Jonas Berger")
    assert (meta["date"], meta["language"]) == (dt.date(2025, 6, 2), "de")


def test_redirects_are_followed_and_the_final_address_kept(site):
    page = fetch_page(f"{site.base}/moved-twice", private_ok=True)  # -> localhost -> here
    assert page.final_url == f"http://localhost:{site.port}/faehre.html"
    assert page.url == f"{site.base}/moved-twice"
    assert "Kuryk" in page.html


def test_loopback_is_refused_before_connecting_unless_allowed(site, monkeypatch):
    before = list(site.seen)
    for url in (
        f"{site.base}/faehre.html",
        f"http://localhost:{site.port}/faehre.html",
        f"http://[::1]:{site.port}/faehre.html",
        f"http://[::ffff:127.0.0.1]:{site.port}/faehre.html",
        f"http://2130706433:{site.port}/faehre.html",  # 127.0.0.1 written as one number
    ):
        with pytest.raises(FetchError, match="loopback address"):
            fetch_page(url, private_ok=False)
    assert site.seen == before  # never connected
    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "1")
    assert "Kuryk" in fetch_page(f"{site.base}/faehre.html").html
    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "0")
    with pytest.raises(FetchError, match="loopback"):
        fetch_page(f"{site.base}/faehre.html")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/to-metadata", "169.254.169.254, a link-local address"),
        ("/to-mapped", "a link-local address"),
        ("/to-file", "Only http:// and https://"),
        ("/loop", "redirects more than 5 times"),
    ],
)
def test_each_redirect_is_checked_again(site, path, message):
    """Even with private addresses allowed, a redirect to a link-local address is refused."""
    started = time.monotonic()
    with pytest.raises(FetchError, match=message):
        fetch_page(f"{site.base}{path}", private_ok=True)
    assert time.monotonic() - started < 2.0  # refused at once, not a connect time-out


def test_a_page_that_answers_too_late_times_out(site, monkeypatch):
    monkeypatch.setattr(fetch, "READ_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="stopped sending for 1 s"):
        fetch_page(f"{site.base}/slow.html", private_ok=True)
    assert time.monotonic() - started < SLOW_S


def test_a_page_that_drips_in_byte_by_byte_meets_the_deadline(site, monkeypatch):
    monkeypatch.setattr(fetch, "TOTAL_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 1 s"):
        fetch_page(f"{site.base}/drip.html", private_ok=True)
    assert time.monotonic() - started < SLOW_S


def test_an_address_that_never_answers_times_out_on_connect(monkeypatch):
    """A TCP listener that never accepts: its backlog fills, so connecting hangs."""
    monkeypatch.setattr(fetch, "CONNECT_TIMEOUT_S", 1.0)
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(8):  # fill the accept queue so the next connect waits
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        started = time.monotonic()
        with pytest.raises(FetchError, match="did not answer within 1 s"):
            fetch_page(f"http://127.0.0.1:{port}/x.html", private_ok=True)
        assert time.monotonic() - started < 5.0
        for filler in fillers:
            filler.close()


@pytest.mark.parametrize("path", ["/big.html", "/big-unannounced.html"])
def test_a_5_mb_page_is_refused_by_the_size_cap(site, path):
    with pytest.raises(FetchError, match="too large|larger than the limit"):
        fetch_page(f"{site.base}{path}", private_ok=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/report.pdf", "content type 'application/pdf'"),
        ("/data.json", "content type 'application/json'"),
        ("/untyped", "content type 'none'"),
        ("/gone", "HTTP status 404"),
    ],
)
def test_non_html_responses_are_refused(site, path, message):
    with pytest.raises(FetchError, match=message):
        fetch_page(f"{site.base}{path}", private_ok=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/a.html", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("http://", "no host name"),
        ("http://user:pw@example.org/", "user name or password"),
        ("http://example.org:99999/", "not valid"),
        ("http://no-such-host.invalid/", "cannot be found"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(url, message):
    with pytest.raises(FetchError, match=message):
        fetch_page(url, private_ok=True)


def test_a_page_without_article_text_is_refused(site):
    with pytest.raises(IngestError, match="No article text"):
        fetch_article(f"{site.base}/empty.html", private_ok=True)


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Return the base URL of an https server for ``localhost`` and its self-signed certificate."""
    import ssl

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.seen, server.port = [], server.server_address[1]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.port}", cert
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_for_the_host_name(tls_site, monkeypatch):
    """The connection goes to the checked address, yet TLS still verifies the host's name."""
    base, cert = tls_site
    with pytest.raises(FetchError, match="secure connection to localhost failed"):
        fetch_page(f"{base}/faehre.html", private_ok=True)  # self-signed: not trusted
    monkeypatch.setattr(fetch, "CA_FILE", str(cert))
    page = fetch_page(f"{base}/faehre.html", private_ok=True)
    assert page.final_url == f"{base}/faehre.html" and "Kuryk" in page.html
    wrong_name = base.replace("localhost", "127.0.0.1")  # the certificate names localhost only
    with pytest.raises(FetchError, match="secure connection to 127.0.0.1 failed"):
        fetch_page(f"{wrong_name}/faehre.html", private_ok=True)


# --------------------------------------------------------------------------- into a store
def test_a_failed_fetch_or_geoparse_stores_nothing(site, tmp_path):
    from kzgeo.gazetteer import load_gazetteer

    opened = open_store(f"sqlite:///{tmp_path / 'kzgeo.sqlite3'}")
    with pytest.raises(IngestError, match="content type"):
        fetch_article(f"{site.base}/report.pdf", private_ok=True)
    fetched = fetch_article(f"{site.base}/faehre.html", private_ok=True)
    with pytest.raises(AttributeError):  # no gazetteer: the geoparse itself fails
        add_to_collection(opened, fetched.text, "T", "O", None, gazetteer=None, url=fetched.url)
    with opened.engine.connect() as conn:
        for table in (collections_table, articles_table):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    added = add_to_collection(
        opened, fetched.text, fetched.metadata["title"], fetched.metadata["outlet"],
        fetched.metadata["date"], load_gazetteer(), author=fetched.metadata["author"],
        url=fetched.url,
    )  # fmt: skip
    [stored] = opened.stored_articles(added.collection.id)
    assert stored.article.url == f"{site.base}/faehre.html"
    assert {"aktau", "baku", "astana", "almaty"} <= set(stored.places)
    opened.engine.dispose()


# --------------------------------------------------------------------------- the command line
def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}
    full_env.pop("KZGEO_CORPUS", None)
    return subprocess.run(
        [sys.executable, "-m", "kzgeo", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
        env=full_env, timeout=300,
    )  # fmt: skip


def test_cli_adds_by_url_to_a_new_collection_and_refuses_it_twice(site, tmp_path):
    database = f"sqlite:///{tmp_path / 'kzgeo.sqlite3'}"
    env = {"KZGEO_DATABASE_URL": database, "KZGEO_ALLOW_PRIVATE_URLS": "1"}
    refused = run_cli("add", "--url", f"{site.base}/report.pdf", "--collection", "new", env=env)
    assert refused.returncode == 2 and refused.stderr.startswith("error: ")
    assert "Traceback" not in refused.stderr
    added = run_cli("add", "--url", f"{site.base}/moved", "--collection", "new",
                    "--name", "Kaspisches Meer", env=env)
    assert added.returncode == 0, added.stderr
    lines = dict(line.split(": ", 1) for line in added.stdout.splitlines() if ": " in line)
    collection_id = lines["view link"].removeprefix("?collection=")
    token = lines["edit token"]
    opened = open_store(database)
    assert opened.collection(collection_id).name == "Kaspisches Meer"
    assert opened.can_edit(collection_id, token)
    [article] = opened.articles(collection_id)
    assert article.url == f"{site.base}/faehre.html"  # where the page really is
    assert (article.title, article.outlet, article.author, article.date) == (
        "Die Fähre nach Baku ist ausgebucht", "Kaspischer Kurier", "Jonas Berger",
        dt.date(2025, 6, 2),
    )  # fmt: skip
    again = run_cli("add", "--url", f"{site.base}/faehre.html", "--collection", collection_id,
                    env=env)
    assert again.returncode == 2 and "already holds this article" in again.stderr
    source = tmp_path / "notiz.txt"
    source.write_text("Neue Route\n\nDie Bahn von Almaty nach Urumqi fährt öfter.", "utf-8")
    from_file = run_cli("add", str(source), "--title", "Neue Route", "--outlet", "Eigen",
                        "--collection", collection_id, env=env)
    assert from_file.returncode == 0, from_file.stderr
    assert "(2 article(s))" in from_file.stdout and "edit token" not in from_file.stdout
    assert len(opened.articles(collection_id)) == 2
    opened.engine.dispose()


def test_cli_adds_by_url_to_a_corpus_with_the_url_in_the_manifest(site, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    env = {"KZGEO_ALLOW_PRIVATE_URLS": "1"}
    added = run_cli("add", "--url", f"{site.base}/faehre.html", "--corpus", str(folder), env=env)
    assert added.returncode == 0, added.stderr
    manifest = (folder / "manifest.toml").read_text(encoding="utf-8")
    assert f'url = "{site.base}/faehre.html"' in manifest
    [article] = load_corpus(folder).articles
    assert article.url == f"{site.base}/faehre.html" and article.outlet == "Kaspischer Kurier"
    assert article.date == dt.date(2025, 6, 2)
    out, csv_out = tmp_path / "out.geojson", tmp_path / "mentions.csv"
    exported = run_cli("export", str(out), "--csv", str(csv_out), "--corpus", str(folder), env={})
    assert exported.returncode == 0, exported.stderr
    features = {f["id"]: f for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    quotes = features["aktau"]["properties"]["quotes"]
    assert quotes and {q["url"] for q in quotes} == {f"{site.base}/faehre.html"}
    rows = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert rows and {row["url"] for row in rows} == {f"{site.base}/faehre.html"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "either FILE or --url"),
        (("x.txt", "--url", "http://example.org/"), "either FILE or --url"),
        (("--url", "http://127.0.0.1:9/", "--collection", "new", "--corpus", "c"), "not both"),
    ],
)
def test_cli_add_needs_one_source_and_one_target(args, message, tmp_path):
    result = run_cli("add", *args, env={"KZGEO_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 2 and message in result.stderr


def test_cli_refuses_loopback_without_the_setting(site, tmp_path):
    env = {"KZGEO_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "KZGEO_ALLOW_PRIVATE_URLS": ""}
    result = run_cli("add", "--url", f"{site.base}/faehre.html", "--collection", "new", env=env)
    assert result.returncode == 2 and "loopback address" in result.stderr


def test_the_app_prefills_its_form_from_a_web_address_and_keeps_it(site, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "1")
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180).run()
    app.text_input(key="add_url").set_value(f"{site.base}/faehre.html").run()
    app.button(key="add_fetch").click().run()
    assert not app.exception and not app.error
    assert app.text_input(key="add_title").value == "Die Fähre nach Baku ist ausgebucht"
    assert app.text_input(key="add_outlet").value == "Kaspischer Kurier"
    assert app.text_input(key="add_author").value == "Jonas Berger"
    assert app.text_input(key="add_date").value == "2025-06-02"
    assert "Im Hafen von Kuryk stehen die Lastwagen" in app.text_area(key="add_text").value
    app.button(key="add_go").click().run()
    assert not app.error, [e.value for e in app.error]
    collection = app.session_state["collection"]
    [article] = open_store().articles(collection)
    assert article.url == f"{site.base}/faehre.html"  # kept: its quotes link to the original
