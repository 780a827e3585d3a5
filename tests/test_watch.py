"""watch (#22): feeds served by a local HTTP server these tests start, followed by real
``python -m kzgeo watch`` processes into a corpus folder or a collection (SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kzgeo import freshness, watch
from kzgeo.config import PROJECT_ROOT
from kzgeo.corpus import load_corpus
from kzgeo.store import open_store

FIXTURES = Path(__file__).parent / "data" / "watch"

SLOW_S = 3.0  # the slow page waits this long before answering (the watcher gives up after 1 s)
HUGE_BYTES = 3_500_000  # over fetch.MAX_PAGE_BYTES

ARTICLE_PAGES = {  # path -> fixture file: the pages that hold an article in German or English
    "/artikel/aktau-hafen": "aktau-hafen.html",
    "/artikel/atyrau-pipeline": "atyrau-pipeline.html",
    "/en/almaty-trade": "almaty-trade.html",
    "/en/caspian-ferries": "caspian-ferries.html",
}
NEW_ENTRY = (
    "<item><title>Gipfeltreffen in Astana</title><link>{base}/artikel/astana-gipfel</link>"
    "<pubDate>Tue, 24 Nov 2026 12:00:00 GMT</pubDate></item>"
)
ROBOTS = "User-agent: *\nDisallow: /intern/\n"


@dataclass
class FeedSite:
    """A news site on loopback: feeds, article pages, robots.txt; it records every request."""

    base: str = ""
    extra_entries: str = ""
    slow: bool = True
    robots: str = ROBOTS
    robots_status: int = 200
    hold_pages_for: int = 0  # article pages wait until this many watchers have read main.rss
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each request

    def feed(self, name: str) -> bytes:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        return text.replace("{extra}", self.extra_entries).replace("{base}", self.base).encode()

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """Return (status, content type, body) for ``path``; the slow page sleeps first."""
        if path == "/robots.txt":
            return self.robots_status, "text/plain", self.robots.encode()
        if path == "/feeds/main.rss":
            return 200, "application/rss+xml", self.feed("main.rss")
        if path == "/feeds/steppe.atom":
            return 200, "application/atom+xml", self.feed("steppe.atom")
        if path == "/feeds/broken.rss":
            return 200, "application/rss+xml", (FIXTURES / "broken.rss").read_bytes()
        if path.startswith(("/artikel/", "/en/", "/syndiziert/")):
            self.hold()
        if path == "/syndiziert/aktau-hafen":  # the same article under another address
            return 200, "text/html; charset=utf-8", (FIXTURES / "aktau-hafen.html").read_bytes()
        if path in ARTICLE_PAGES:
            return 200, "text/html; charset=utf-8", (FIXTURES / ARTICLE_PAGES[path]).read_bytes()
        if path == "/artikel/astana-gipfel":
            return 200, "text/html; charset=utf-8", (FIXTURES / "astana-gipfel.html").read_bytes()
        if path == "/artikel/port-francais":
            return 200, "text/html; charset=utf-8", (FIXTURES / "port-francais.html").read_bytes()
        if path == "/rubriken":
            return 200, "text/html; charset=utf-8", (FIXTURES / "rubriken.html").read_bytes()
        if path == "/artikel/langsam":
            if self.slow:
                time.sleep(SLOW_S)
            page = (FIXTURES / "aktau-hafen.html").read_text(encoding="utf-8")
            page = page.replace("Aktau wird zum Tor nach Westen", "Langsame Seite über Taraz")
            page = page.replace("Der Hafen von Aktau", "Die Stadt Taraz im Süden und der Hafen")
            return 200, "text/html; charset=utf-8", page.encode()
        if path == "/artikel/riesig":
            return 200, "text/html", b"<html><body><p>" + b"x " * (HUGE_BYTES // 2) + b"</p>"
        return 404, "text/html", b"<html><body>Nicht gefunden</body></html>"

    def hold(self, timeout_s: float = 60.0) -> None:
        """Wait until ``hold_pages_for`` watchers have read the main feed (so they overlap)."""
        deadline = time.monotonic() + timeout_s
        while self.paths().count("/feeds/main.rss") < self.hold_pages_for:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]


def serve_site(site: FeedSite) -> Iterator[FeedSite]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            site.times.append(time.monotonic())
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            status, content_type, body = site.answer(self.path)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)  # the watcher may hang up on a huge page

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site() -> Iterator[FeedSite]:
    yield from serve_site(FeedSite())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a watch process: loopback allowed, its own data and build folders."""
    return {
        **os.environ,
        "KZGEO_ALLOW_PRIVATE_URLS": "1",
        "KZGEO_DATA_DIR": str(tmp_path / "data"),
        "KZGEO_BUILD_DIR": str(tmp_path / "build"),
        "PYTHONUNBUFFERED": "1",
    }


def watch_command(site: FeedSite, *extra: str, feeds: tuple[str, ...] = ()) -> list[str]:
    feeds = feeds or ("/feeds/main.rss", "/feeds/steppe.atom", "/feeds/broken.rss",
                      "/feeds/tot.rss")
    return [sys.executable, "-m", "kzgeo", "watch", *(site.base + f for f in feeds),
            "--delay", "0", "--timeout", "1", *extra]  # fmt: skip


def run_watch(site: FeedSite, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        watch_command(site, "--once", *extra), env=env, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def manifest_urls(folder: Path) -> list[str]:
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    return [entry["url"] for entry in manifest["article"]]


# --------------------------------------------------------------------------- pure parts
@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, 0.0), (1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (8, 640.0), (9, 1280.0), (10, 1440.0),
     (50, 1440.0), (-3, 0.0)],
)  # fmt: skip
def test_backoff_doubles_up_to_a_day(failures: int, minutes: float):
    assert watch.backoff_minutes(failures) == minutes


@pytest.mark.parametrize(
    ("last", "now", "delay", "wait"),
    [(None, 100.0, 5.0, 0.0), (98.0, 100.0, 5.0, 3.0), (95.0, 100.0, 5.0, 0.0),
     (100.0, 100.0, 0.0, 0.0), (99.5, 100.0, 2.0, 1.5)],
)  # fmt: skip
def test_host_wait(last, now, delay, wait):
    assert watch.host_wait(last, now, delay) == pytest.approx(wait)


def test_parse_rss_and_atom_entries_with_their_metadata():
    feed = watch.Feed("http://example.org/feed", outlet="", language=None)
    rss = (FIXTURES / "main.rss").read_text().replace("{base}", "http://x").replace("{extra}", "")
    entries, problem = watch.parse_feed(rss.encode(), feed)
    assert problem is None
    first = entries[0]
    assert (first.url, first.title, first.author, first.date, first.outlet, first.language) == (
        "http://x/artikel/aktau-hafen", "Aktau wird zum Tor nach Westen", "Dana Sultanowa",
        "2026-11-20", "Kaspische Rundschau", "de",
    )
    atom = (FIXTURES / "steppe.atom").read_text().replace("{base}", "http://x")
    entries, problem = watch.parse_feed(atom.encode(), watch.Feed("f", "Steppe", "en"))
    assert problem is None
    assert [(e.url, e.author, e.date, e.outlet, e.language) for e in entries] == [
        ("http://x/en/almaty-trade", "Alice Wong", "2026-11-22", "Steppe", "en"),
        ("http://x/en/caspian-ferries", None, "2026-11-23", "Steppe", "en"),
    ]
    entries, problem = watch.parse_feed((FIXTURES / "broken.rss").read_bytes(), feed)
    assert entries == [] and problem.startswith("malformed feed")
    assert watch.parse_feed(b"<html><p>Hallo</p></html>", feed)[0] == []


def test_the_bundled_feeds_toml_reads_and_bad_ones_say_why(tmp_path: Path):
    feeds, settings = watch.read_feeds(PROJECT_ROOT / "feeds.toml")
    assert len(feeds) >= 4 and all(f.url.startswith("https://") and f.outlet for f in feeds)
    assert {f.language for f in feeds} <= {"de", "en"} and settings.every_min > 0
    bad = tmp_path / "feeds.toml"
    for text, message in [
        ("[[feed]]\noutlet = 'X'\n", "has no url"),
        ("[[feed]]\nurl = 'https://a.example/f'\nlanguage = 'fr'\n", "language 'fr'"),
        ("[[feed]\n", "not valid TOML"),
        ("[watch]\nevery = 'oft'\n", "not a number"),
    ]:
        bad.write_text(text)
        with pytest.raises(watch.WatchError, match=message):
            watch.read_feeds(bad)
    with pytest.raises(watch.WatchError, match="Cannot read"):
        watch.read_feeds(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- a corpus folder
def test_watch_once_adds_new_articles_skips_bad_ones_and_retries_transient(
    site: FeedSite, env: dict[str, str], tmp_path: Path
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = run_watch(site, env, "--corpus", str(corpus))
    log = first.stderr
    # the four articles, German and English, with URL, outlet, author, date and language
    loaded = load_corpus(corpus)
    by_url = {a.url: a for a in loaded.articles}
    assert sorted(by_url) == sorted(site.base + path for path in ARTICLE_PAGES)
    aktau = by_url[site.base + "/artikel/aktau-hafen"]
    assert (aktau.title, aktau.outlet, aktau.author, str(aktau.date), aktau.language) == (
        "Aktau wird zum Tor nach Westen", "Kaspische Rundschau", "Dana Sultanowa",
        "2026-11-20", "de",
    )
    assert "Kaspischen Meer" in aktau.text
    almaty = by_url[site.base + "/en/almaty-trade"]
    assert (almaty.outlet, almaty.author, str(almaty.date), almaty.language) == (
        "Steppe Review", "Alice Wong", "2026-11-22", "en",
    )
    # each bad one skipped with its reason
    for url, reason in [
        ("/feeds/broken.rss", "malformed feed"),
        ("/feeds/tot.rss", "HTTP status 404"),
        ("/artikel/gibt-es-nicht", "HTTP status 404"),
        ("/artikel/langsam", "stopped sending for 1 s"),
        ("/rubriken", "no article text on the page"),
        ("/artikel/port-francais", "another language (fr)"),
        ("/artikel/riesig", "too large"),
        ("/syndiziert/aktau-hafen", "already added"),
        ("/intern/notiz", "robots.txt of 127.0.0.1"),
    ]:
        assert any(site.base + url in line and reason in line for line in log.splitlines()), (
            url, reason, log)
    assert "/intern/notiz" not in site.paths()  # robots.txt honoured: never asked
    assert all("kzgeo/" in headers["user-agent"] and "+http" in headers["user-agent"]
               for _path, headers in site.requests)

    # a second round adds nothing: the feeds answer 304 to the conditional GET, and the
    # permanent failures are not asked again; the slow page (transient) is asked again
    site.requests.clear()
    second = run_watch(site, env, "--corpus", str(corpus))
    assert "0 article(s) added" in second.stdout
    main_feed = [h for p, h in site.requests if p == "/feeds/main.rss"]
    assert main_feed and "if-none-match" in main_feed[0]
    assert "not modified" in second.stderr
    assert "/artikel/gibt-es-nicht" not in site.paths() and "/rubriken" not in site.paths()
    assert "/feeds/tot.rss" not in site.paths()  # a dead feed is backed off
    assert "backing off" in second.stderr
    assert "/artikel/langsam" in site.paths()
    assert len(load_corpus(corpus).articles) == 4

    # the feed gains one entry: exactly that one is added
    site.extra_entries = NEW_ENTRY.format(base=site.base)
    third = run_watch(site, env, "--corpus", str(corpus))
    assert "1 article(s) added" in third.stdout
    assert manifest_urls(corpus)[-1] == site.base + "/artikel/astana-gipfel"
    assert len(load_corpus(corpus).articles) == 5

    # the slow page answers in time now: the transient failure is retried and added
    site.slow = False
    fourth = run_watch(site, env, "--corpus", str(corpus))
    assert "1 article(s) added" in fourth.stdout
    assert manifest_urls(corpus)[-1] == site.base + "/artikel/langsam"
    urls = manifest_urls(corpus)
    assert len(urls) == len(set(urls)) == 6
    assert not load_corpus(corpus).warnings

    # what the app reads to show freshness: every watched article's arrival, newest first
    articles = load_corpus(corpus).articles
    arrivals = freshness.corpus_arrivals(corpus, env)
    assert set(arrivals) == {a.id for a in articles}
    now = dt.datetime.now(dt.UTC)
    assert all(freshness.is_new(t, now) for t in arrivals.values())
    assert freshness.newest_first(articles, arrivals)[0].url == site.base + "/artikel/langsam"


def test_two_watchers_at_once_add_each_article_once(
    site: FeedSite, env: dict[str, str], tmp_path: Path
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(
        f'[watch]\ndelay = 0\ntimeout = 1\n\n'
        f'[[feed]]\nurl = "{site.base}/feeds/main.rss"\noutlet = "Rundschau"\nlanguage = "de"\n\n'
        f'[[feed]]\nurl = "{site.base}/feeds/steppe.atom"\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "kzgeo", "watch", "--once", "--corpus", str(corpus),
               "--feeds", str(feeds_file)]
    site.hold_pages_for = 2  # no page before both have read the feeds: they surely overlap
    runs = [subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=240) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    urls = manifest_urls(corpus)
    assert sorted(urls) == sorted(site.base + path for path in ARTICLE_PAGES)
    assert len(list(corpus.glob("*.txt"))) == 4
    outlets = {a.url.rsplit("/", 1)[1]: a.outlet for a in load_corpus(corpus).articles}
    assert (outlets["aktau-hafen"], outlets["almaty-trade"]) == ("Rundschau", "Steppe Review")
    pages = [p for p in site.paths() if p in ARTICLE_PAGES]
    assert len(pages) > 4, outputs  # some pages were fetched by both …
    assert sum("already added" in err for _out, err in outputs) >= 1  # … and added once


def test_sigterm_finishes_the_current_addition_and_exits_cleanly(
    site: FeedSite, env: dict[str, str], tmp_path: Path
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = watch_command(site, "--corpus", str(corpus), "--every", "60",
                            feeds=("/feeds/main.rss", "/feeds/steppe.atom"))
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stderr:  # wait for the first addition, then stop it mid-round
        lines.append(line)
        if " added " in line:
            process.send_signal(signal.SIGTERM)
            break
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + err
    assert "stopped" in err
    added = manifest_urls(corpus)
    assert 1 <= len(added) < 4  # the round ended early …
    assert len(list(corpus.glob("*.txt"))) == len(added)  # … with nothing half-written
    assert not load_corpus(corpus).warnings


def test_requests_to_one_host_keep_the_delay_robots_txt_asks_for(
    site: FeedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("KZGEO_DATA_DIR", str(tmp_path / "data"))
    site.robots = "User-agent: kzgeo\nCrawl-delay: 1\nDisallow: /intern/\n"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = watch.Settings(delay_s=0.2, timeout_s=2.0)
    report = watch.run_round([watch.Feed(site.base + "/feeds/steppe.atom", "Steppe", "en")],
                             watch.CorpusTarget(corpus), settings)
    assert len(report.added) == 2
    assert site.paths() == ["/robots.txt", "/feeds/steppe.atom", "/en/almaty-trade",
                            "/en/caspian-ferries"]
    gaps = [b - a for a, b in zip(site.times, site.times[1:], strict=False)]
    assert min(gaps) >= 0.95, gaps  # the Crawl-delay, not the shorter delay of the settings


def test_entries_read_but_not_handled_wait_for_the_next_round(
    site: FeedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A round stopped after reading a feed (or a watcher that died there) loses nothing, even
    though the feed answers the next round's conditional GET with 304."""
    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("KZGEO_DATA_DIR", str(tmp_path / "data"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feeds = [watch.Feed(site.base + "/feeds/steppe.atom", "Steppe", "en")]
    settings = watch.Settings(delay_s=0.0, timeout_s=2.0)
    asked = iter([False, True])  # go on for the feed, stop before the first entry
    first = watch.run_round(feeds, watch.CorpusTarget(corpus), settings,
                            stop=lambda: next(asked, True))
    assert first.added == [] and "/en/almaty-trade" not in site.paths()
    site.requests.clear()
    second = watch.run_round(feeds, watch.CorpusTarget(corpus), settings)
    feed_requests = [h for p, h in site.requests if p == "/feeds/steppe.atom"]
    assert feed_requests and "if-none-match" in feed_requests[0]  # answered 304
    assert len(second.added) == 2
    assert sorted(a.url for a in load_corpus(corpus).articles) == [
        site.base + "/en/almaty-trade", site.base + "/en/caspian-ferries"]


def test_sigterm_between_rounds_exits_at_once(site: FeedSite, env: dict[str, str],
                                              tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = watch_command(site, "--corpus", str(corpus), "--every", "60",
                            feeds=("/feeds/steppe.atom",))
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if "next round in 60 min" in line:
            break
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopped" in err
    assert time.monotonic() - started < 5
    assert "2 article(s) added in 1 round(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--corpus", "{tmp}/missing"], "Corpus folder not found"),
     (["--feeds", "{tmp}/missing.toml"], "Cannot read"),
     (["--feeds", "{tmp}/empty.toml"], "lists no [[feed]]"),
     (["--collection", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], "no collection with this id"),
     (["--corpus", "{tmp}", "--collection", "x", "http://a.example/f"], "not both")],
)  # fmt: skip
def test_watch_refuses_what_it_cannot_do_with_a_clear_message(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
):
    from kzgeo.cli import main

    monkeypatch.setenv("KZGEO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KZGEO_DATABASE_URL", raising=False)  # an SQLite file in the data folder
    (tmp_path / "empty.toml").write_text("[watch]\nevery = 5\n")
    argv = ["watch", "--once", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    if "--feeds" not in args and not any(a.startswith("http") for a in args):
        argv.append("http://a.example/feed")
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_robots_txt_that_cannot_be_read_now_keeps_the_site_alone(
    site: FeedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """RFC 9309: a robots.txt answering 5xx means "do not crawl now"; asked once, not per URL."""
    monkeypatch.setenv("KZGEO_ALLOW_PRIVATE_URLS", "1")
    monkeypatch.setenv("KZGEO_DATA_DIR", str(tmp_path / "data"))
    site.robots_status = 503
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    feeds = [watch.Feed(site.base + path, "X", "de")
             for path in ("/feeds/main.rss", "/feeds/steppe.atom")]
    report = watch.run_round(feeds, watch.CorpusTarget(corpus), watch.Settings(delay_s=0.0))
    assert report.added == [] and site.paths() == ["/robots.txt"]
    assert "robots.txt of 127.0.0.1" in caplog.text and "cannot be read now" in caplog.text


# --------------------------------------------------------------------------- a collection


def test_two_watchers_into_one_collection_store_each_article_once(
    site: FeedSite, env: dict[str, str], db_url: str
):
    store = open_store(db_url)
    collection, _token = store.create_collection("Kaspische Nachrichten")
    env = {**env, "KZGEO_DATABASE_URL": db_url}
    command = watch_command(site, "--once", "--collection", collection.id,
                            feeds=("/feeds/main.rss", "/feeds/steppe.atom"))
    site.hold_pages_for = 2  # no page before both have read the feeds: they surely overlap
    runs = [subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stored = store.stored_articles(collection.id)
    assert sorted(s.article.url for s in stored) == sorted(
        site.base + path for path in ARTICLE_PAGES)
    aktau = next(s for s in stored if s.article.url.endswith("/aktau-hafen"))
    assert "aktau" in aktau.places
    assert (aktau.article.author, str(aktau.article.date), aktau.article.language) == (
        "Dana Sultanowa", "2026-11-20", "de")
    # a later round adds nothing more
    again = run_watch(site, env, "--collection", collection.id)
    assert "0 article(s) added" in again.stdout
    assert len(store.stored_articles(collection.id)) == 4
    store.engine.dispose()
