"""Follow news feeds: each new entry's page is fetched and added, so the map moves with the news.

``run_round`` reads RSS and Atom feeds (feedparser), fetches each new entry's page the way
add-by-URL does (``kzgeo.fetch``: the same safety rules; trafilatura for the text) and adds it to
a corpus folder or a collection with its URL, outlet, author, date and language. It is polite
(a User-Agent naming kzgeo, robots.txt honoured, conditional GET, a delay between two requests
to one host, back-off after errors) and fault-tolerant (a dead or malformed feed, an HTTP error,
a time-out, a page without article text, a huge page or one in another language is logged with
its reason and skipped; the next round retries what failed for a transient reason).

What a round remembers (ETag / Last-Modified per feed, failures, entries done or to retry) is
a JSON state file in the data folder, read and written under a file lock. Additions to a corpus
folder are made under a second lock, so two ``watch`` processes never add an article twice; a
collection relies on the database's uniqueness constraints. ``feeds.toml`` lists the feeds.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import re
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from kzgeo.config import PROJECT_ROOT, data_dir
from kzgeo.files import write_atomic

log = logging.getLogger("kzgeo.watch")

FEEDS_FILE = PROJECT_ROOT / "feeds.toml"
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "application/x-rss+xml", "text/rss+xml",
})  # fmt: skip
ROBOTS_TYPES = frozenset({"text/plain"})
ROBOTS_AGENT = "kzgeo"  # the name robots.txt rules address
MAX_FEED_BYTES = 5_000_000
ROBOTS_MAX_BYTES = 500_000
ROBOTS_KEEP_S = 24 * 3600  # a robots.txt is read again after a day
ROBOTS_RETRY_S = 15 * 60  # a robots.txt that could not be read now is asked for again after this
MAX_CRAWL_DELAY_S = 120.0  # a longer Crawl-delay is cut to this (the host is still asked rarely)
DEFAULT_EVERY_MIN = 30.0
DEFAULT_DELAY_S = 5.0  # between two requests to one host (a robots.txt Crawl-delay may ask more)
DEFAULT_TIMEOUT_S = 10.0  # a page that stops sending this long is skipped (retried next round)
LANGUAGES = ("de", "en")  # what the geoparser reads
DETECT_LANGUAGES = ("de", "en", "fr", "es", "it", "ru")  # what simplemma tells apart here
MIN_ARTICLE_WORDS = 60  # less extracted text is a menu, a gallery or a teaser, not an article
MAX_ENTRY_ATTEMPTS = 5  # transient failures of one page before it is given up
MAX_DONE = 20_000  # entries remembered as done (added or skipped for good), newest kept


class WatchError(ValueError):
    """The feeds cannot be watched as asked (unreadable feeds.toml, unknown target)."""


# --------------------------------------------------------------------------- pure helpers
BACKOFF_BASE_MIN = 5.0
BACKOFF_CAP_MIN = 24 * 60.0


def backoff_minutes(
    failures: int, base: float = BACKOFF_BASE_MIN, cap: float = BACKOFF_CAP_MIN
) -> float:
    """Return how long to leave a feed alone after ``failures`` failures in a row (minutes).

    Doubling from ``base``, at most ``cap``; no failure, no wait.

    >>> [backoff_minutes(n) for n in (0, 1, 2, 3)]
    [0.0, 5.0, 10.0, 20.0]
    >>> backoff_minutes(30), backoff_minutes(-1)
    (1440.0, 0.0)
    """
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 60)))


def host_wait(last: float | None, now: float, delay: float) -> float:
    """Return how many seconds to wait before the next request to a host asked at ``last``.

    >>> host_wait(None, 10.0, 5.0), host_wait(8.0, 10.0, 5.0), host_wait(1.0, 10.0, 5.0)
    (0.0, 3.0, 0.0)
    """
    if last is None:
        return 0.0
    return max(0.0, last + delay - now)


def host_of(url: str) -> str:
    """Return the host (with a port other than the default) a per-host delay applies to.

    >>> host_of("https://www.rnd.de/politik/x.html"), host_of("http://127.0.0.1:8080/feed")
    ('www.rnd.de', '127.0.0.1:8080')
    """
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


def conditional_headers(feed_state: Mapping[str, Any]) -> dict[str, str]:
    """Return the headers of a conditional GET from what the last answer said.

    >>> conditional_headers({"etag": '"v1"', "last_modified": "Sat, 05 Dec 2026 10:00:00 GMT"})
    {'If-None-Match': '"v1"', 'If-Modified-Since': 'Sat, 05 Dec 2026 10:00:00 GMT'}
    >>> conditional_headers({})
    {}
    """
    headers = {}
    if feed_state.get("etag"):
        headers["If-None-Match"] = feed_state["etag"]
    if feed_state.get("last_modified"):
        headers["If-Modified-Since"] = feed_state["last_modified"]
    return headers


def detect_language(text: str) -> str:
    """Return the language of ``text`` among DETECT_LANGUAGES ('unk' when none fits).

    >>> detect_language("Der Hafen von Aktau liegt am Kaspischen Meer und wächst jedes Jahr.")
    'de'
    """
    from simplemma import langdetect

    sample = " ".join(text.split()[:400])
    return langdetect(sample, lang=DETECT_LANGUAGES)[0][0]


def entry_date(entry: Mapping[str, Any]) -> dt.date | None:
    """Return the date a feed entry was published (or updated), in UTC, or None."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC).date()
            except (OverflowError, ValueError, TypeError):
                continue
    return None


# --------------------------------------------------------------------------- feeds
@dataclass(frozen=True)
class Feed:
    """A feed to follow: its address, the outlet it belongs to and its language (if known)."""

    url: str
    outlet: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Entry:
    """One item of a feed: the page to fetch and what the feed says about it."""

    url: str
    feed: str
    title: str = ""
    author: str | None = None
    date: str | None = None  # ISO date
    outlet: str = ""
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


@dataclass(frozen=True)
class Settings:
    """How a watcher behaves (``[watch]`` in feeds.toml, overridden by the command line)."""

    every_min: float = DEFAULT_EVERY_MIN
    delay_s: float = DEFAULT_DELAY_S
    timeout_s: float = DEFAULT_TIMEOUT_S


def read_feeds(path: Path = FEEDS_FILE) -> tuple[list[Feed], Settings]:
    """Return the feeds and settings in a feeds.toml; raise WatchError saying what is wrong."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise WatchError(f"Cannot read {path}: {error.strerror or error}.") from error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise WatchError(f"{path} is not valid TOML: {error}.") from error
    feeds = []
    for number, row in enumerate(table.get("feed", []), start=1):
        url = str(row.get("url") or "").strip() if isinstance(row, dict) else ""
        if not url:
            raise WatchError(f"{path}: feed {number} has no url.")
        language = row.get("language")
        if language is not None and language not in LANGUAGES:
            raise WatchError(
                f"{path}: feed {url} has language '{language}'; use {' or '.join(LANGUAGES)}."
            )
        feeds.append(Feed(url, str(row.get("outlet") or "").strip(), language))
    options = table.get("watch", {})
    try:
        settings = Settings(
            every_min=float(options.get("every", DEFAULT_EVERY_MIN)),
            delay_s=float(options.get("delay", DEFAULT_DELAY_S)),
            timeout_s=float(options.get("timeout", DEFAULT_TIMEOUT_S)),
        )
    except (TypeError, ValueError) as error:
        raise WatchError(f"{path}: [watch] has a value that is not a number: {error}.") from error
    return feeds, settings


def parse_feed(body: bytes, feed: Feed) -> tuple[list[Entry], str | None]:
    """Return the entries of a feed document and, when it cannot be read, the reason.

    A feed with recoverable flaws (feedparser's "bozo" with entries) still gives its entries.
    """
    import feedparser

    parsed = feedparser.parse(body)
    linked = [item for item in parsed.entries if str(item.get("link") or "").strip()]
    if parsed.bozo and not linked:
        problem = parsed.get("bozo_exception")
        return [], f"malformed feed ({problem or 'no entries could be read'})"
    if not parsed.get("version"):
        return [], "not an RSS or Atom feed"
    outlet = feed.outlet or str(parsed.feed.get("title") or "").strip()
    declared = str(parsed.feed.get("language") or "")[:2].lower() or None
    entries = []
    for item in linked:
        link = str(item.get("link")).strip()
        date = entry_date(item)
        entries.append(Entry(
            url=link,
            feed=feed.url,
            title=" ".join(str(item.get("title") or "").split()),
            author=" ".join(str(item.get("author") or "").split()) or None,
            date=date.isoformat() if date else None,
            outlet=outlet,
            language=feed.language or (declared if declared in LANGUAGES else None),
        ))  # fmt: skip
    return entries, None


# --------------------------------------------------------------------------- state
@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def empty_state() -> dict[str, Any]:
    return {"feeds": {}, "pending": {}, "done": {}}


class StateFile:
    """The watcher's memory in a JSON file; every change is read, made and written under a lock."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = path.with_suffix(".state.lock")

    def read(self) -> dict[str, Any]:
        try:
            found = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return empty_state()
        except (OSError, ValueError) as error:
            log.warning("state file %s unreadable (%s): starting afresh", self.path, error)
            return empty_state()
        state = empty_state()
        state.update({k: v for k, v in found.items() if isinstance(v, dict)})
        return state

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the stored state and write it back atomically; return it."""
        with file_lock(self.lock):
            state = self.read()
            change(state)
            done = state["done"]
            if len(done) > MAX_DONE:
                newest = sorted(done.items(), key=lambda item: item[1].get("at", 0))[-MAX_DONE:]
                state["done"] = dict(newest)
            write_atomic(self.path, json.dumps(state, ensure_ascii=False, indent=1))
            return state


def state_path(target_key: str, env: Mapping[str, str] | None = None) -> Path:
    """Return the state file of a watch target (a corpus folder or a collection)."""
    name = hashlib.sha256(target_key.encode("utf-8")).hexdigest()[:16]
    return data_dir(env) / "watch" / f"watch-{name}.json"


# --------------------------------------------------------------------------- targets
class Duplicate(Exception):
    """The target already holds this article (same address or same text)."""


class Target(Protocol):
    key: str

    def known_urls(self) -> set[str]: ...

    def add(self, text: str, meta: dict[str, Any], url: str) -> str: ...


DUPLICATE = re.compile(r"already (holds|has|exists)")  # the words ingest and store use


class CorpusTarget:
    """A corpus folder: additions under a file lock, so concurrent watchers add each once."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise WatchError(f"Corpus folder not found: {folder}")
        self.key = f"corpus:{self.folder.resolve()}"
        self.lock = state_path(self.key).with_suffix(".add.lock")

    def known_urls(self) -> set[str]:
        from kzgeo.corpus import read_manifest

        entries, _warnings = read_manifest(self.folder)
        return {str(e[k]) for e in entries for k in ("url", "added_from") if e.get(k)}

    def add(self, text: str, meta: dict[str, Any], url: str) -> str:
        from kzgeo.ingest import IngestError, add_text_to_corpus

        with file_lock(self.lock):
            if url in self.known_urls():
                raise Duplicate(f"the corpus already holds {url}")
            try:
                article = add_text_to_corpus(text, self.folder, **meta, url=url, added_from=url)
            except IngestError as error:
                if DUPLICATE.search(str(error)):
                    raise Duplicate(str(error)) from error
                raise
        return article.id


class CollectionTarget:
    """A collection in the database: its uniqueness constraints keep each article once."""

    def __init__(self, collection_id: str, store: Any = None):
        from kzgeo.store import open_store

        self.store = store or open_store()
        self.collection_id = collection_id
        self.store.collection(collection_id)  # CollectionError for an unknown id
        self.key = f"collection:{self.store.where}:{collection_id}"
        self._gazetteer = None

    def known_urls(self) -> set[str]:
        return {a.url for a in self.store.articles(self.collection_id) if a.url}

    def add(self, text: str, meta: dict[str, Any], url: str) -> str:
        from kzgeo.gazetteer import load_gazetteer
        from kzgeo.ingest import add_to_collection
        from kzgeo.store import CollectionError

        if self._gazetteer is None:
            self._gazetteer = load_gazetteer()
        try:
            added = add_to_collection(
                self.store, text, gazetteer=self._gazetteer, **meta, url=url,
                collection_id=self.collection_id, check_token=False,
            )  # fmt: skip
        except CollectionError as error:
            if DUPLICATE.search(str(error)):
                raise Duplicate(str(error)) from error
            raise
        return added.article.id


# --------------------------------------------------------------------------- politeness
class Skip(Exception):
    """An entry or feed is skipped; ``transient`` says whether a later round may succeed."""

    def __init__(self, reason: str, transient: bool = False):
        super().__init__(reason)
        self.transient = transient


@dataclass
class Polite:
    """Per-host pacing and robots.txt rules for one watcher process."""

    settings: Settings
    sleep: Callable[[float], Any] = time.sleep
    clock: Callable[[], float] = time.monotonic
    last: dict[str, float] = field(default_factory=dict)
    robots: dict[str, tuple[float, RobotFileParser | None]] = field(default_factory=dict)
    unavailable: dict[str, tuple[float, str]] = field(default_factory=dict)  # host: (until, why)

    def delay_for(self, host: str) -> float:
        rules = self.robots.get(host, (0.0, None))[1]
        crawl_delay = rules.crawl_delay(ROBOTS_AGENT) if rules is not None else None
        return max(self.settings.delay_s, min(MAX_CRAWL_DELAY_S, float(crawl_delay or 0)))

    def wait_turn(self, url: str) -> None:
        """Sleep until the host of ``url`` may be asked again; note that it is asked now."""
        host = host_of(url)
        wait = host_wait(self.last.get(host), self.clock(), self.delay_for(host))
        if wait > 0:
            self.sleep(wait)
        self.last[host] = self.clock()

    def check_robots(self, url: str) -> None:
        """Raise Skip when the site's robots.txt does not let kzgeo fetch ``url``."""
        from kzgeo.fetch import FetchError, fetch_resource

        host = host_of(url)
        until, why = self.unavailable.get(host, (0.0, ""))
        if self.clock() < until:
            raise Skip(why, True)
        read_at, rules = self.robots.get(host, (None, None))
        if read_at is None or self.clock() - read_at > ROBOTS_KEEP_S:
            parts = urlsplit(url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            self.wait_turn(robots_url)
            rules = RobotFileParser(robots_url)
            try:
                found = fetch_resource(
                    robots_url, ROBOTS_TYPES, max_bytes=ROBOTS_MAX_BYTES,
                    read_timeout=self.settings.timeout_s,
                )  # fmt: skip
                rules.parse(found.body.decode("utf-8", errors="replace").splitlines())
            except FetchError as error:
                if error.transient:  # RFC 9309: an unreachable robots.txt means "not now"
                    reason = f"robots.txt of {host} cannot be read now ({error})"
                    self.unavailable[host] = (self.clock() + ROBOTS_RETRY_S, reason)
                    raise Skip(reason, True) from error
                rules = None  # missing (4xx) or not a robots.txt: no rules
            self.robots[host] = (self.clock(), rules)
        if rules is not None and not rules.can_fetch(ROBOTS_AGENT, url):
            raise Skip(f"robots.txt of {host} does not allow {url}")


# --------------------------------------------------------------------------- one round
@dataclass
class RoundReport:
    """What one round did: ids added, and (url, reason) of what was skipped or failed."""

    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    retry: list[tuple[str, str]] = field(default_factory=list)


def fetch_entry_text(entry: Entry, polite: Polite) -> tuple[str, dict[str, Any], str]:
    """Return (text, metadata, final URL) of an entry's page; raise Skip saying why not.

    The page is fetched and extracted as add-by-URL does; it must hold an article (at least
    MIN_ARTICLE_WORDS words) in German or English.
    """
    from kzgeo.fetch import FetchError, fetch_page
    from kzgeo.ingest import IngestError, check_text, guess_metadata, html_to_text, outlet_of

    try:
        page = fetch_page(
            entry.url, read_timeout=polite.settings.timeout_s,
            total_timeout=3 * polite.settings.timeout_s,
        )  # fmt: skip
    except FetchError as error:
        raise Skip(str(error), error.transient) from error
    text = html_to_text(page.html)
    words = len(text.split())
    if words < MIN_ARTICLE_WORDS:
        raise Skip(f"no article text on the page ({words} words extracted)")
    try:
        text = check_text(text)
    except IngestError as error:
        raise Skip(str(error)) from error
    language = detect_language(text)
    if language not in LANGUAGES:
        raise Skip(f"the page is in another language ({language}), not {' or '.join(LANGUAGES)}")
    guessed = guess_metadata(text, page.html)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    meta = {
        "title": guessed.get("title") or entry.title,  # the page's: a copy reads the same
        "outlet": entry.outlet or guessed.get("outlet") or outlet_of(page.final_url),
        "author": entry.author or guessed.get("author"),
        "date": entry.date or guessed.get("date") or today,
        "language": language,
    }
    return text, meta, page.final_url


def poll_feed(feed: Feed, state: StateFile, polite: Polite, now: float) -> list[Entry]:
    """Return a feed's entries (none when unchanged, backed off or failing: logged why).

    Entries not done yet are saved as pending in the state, with the feed's validators.
    """
    from kzgeo.fetch import NOT_MODIFIED, FetchError, fetch_resource

    known = state.read()["feeds"].get(feed.url, {})
    if known.get("next_try", 0) > now:
        log.info("feed %s: backing off after %d failure(s) (%s)", feed.url,
                 known.get("failures", 0), known.get("error", ""))
        return []
    try:
        polite.check_robots(feed.url)
        polite.wait_turn(feed.url)
        found = fetch_resource(
            feed.url, FEED_TYPES, max_bytes=MAX_FEED_BYTES, read_timeout=polite.settings.timeout_s,
            headers=conditional_headers(known),
        )  # fmt: skip
        if found.status == NOT_MODIFIED:
            log.info("feed %s: not modified", feed.url)
            entries: list[Entry] = []
        else:
            entries, problem = parse_feed(found.body, feed)
            if problem:
                raise Skip(problem)
            log.info("feed %s: %d entries", feed.url, len(entries))
    except (FetchError, Skip) as error:
        reason = str(error)

        def failed(s: dict[str, Any]) -> None:
            row = s["feeds"].setdefault(feed.url, {})
            row["failures"] = row.get("failures", 0) + 1
            row["error"] = reason
            row["next_try"] = now + 60 * backoff_minutes(row["failures"])

        failures = state.update(failed)["feeds"][feed.url]["failures"]
        log.warning("feed %s skipped: %s (failure %d; next try in %g min)", feed.url, reason,
                    failures, backoff_minutes(failures))
        return []

    def succeeded(s: dict[str, Any]) -> None:
        # The validators and the new entries are saved together: once a later GET answers 304,
        # the entries wait in "pending" for whichever round or watcher handles them first.
        row = s["feeds"].setdefault(feed.url, {})
        row.update(failures=0, error="", next_try=0, checked=now)
        if found.status != NOT_MODIFIED:
            row["etag"] = found.headers.get("etag")
            row["last_modified"] = found.headers.get("last-modified")
        for entry in entries:
            if entry.url not in s["done"] and entry.url not in s["pending"]:
                s["pending"][entry.url] = {"entry": entry.to_dict(), "attempts": 0, "at": now}

    state.update(succeeded)
    return entries


def handle_entry(
    entry: Entry, target: Target, state: StateFile, polite: Polite, report: RoundReport,
    now: float,
) -> None:
    """Fetch and add one entry; record in the state whether it is done or to be retried."""
    if entry.url in state.read()["done"]:  # another watcher handled it meanwhile
        return
    reason, transient, added = "", False, None
    try:
        polite.check_robots(entry.url)
        polite.wait_turn(entry.url)
        text, meta, final_url = fetch_entry_text(entry, polite)
        added = target.add(text, meta, final_url)
    except Skip as error:
        reason, transient = str(error), error.transient
    except Duplicate as error:
        reason = f"already added ({error})"
    except ValueError as error:  # IngestError, CollectionError: the article cannot be added
        reason = str(error)

    def record(s: dict[str, Any]) -> None:
        pending = s["pending"].pop(entry.url, None) or {}
        if transient and pending.get("attempts", 0) + 1 < MAX_ENTRY_ATTEMPTS:
            s["pending"][entry.url] = {
                "entry": entry.to_dict(), "attempts": pending.get("attempts", 0) + 1,
                "reason": reason, "at": now,
            }  # fmt: skip
        elif added or entry.url not in s["done"]:  # another watcher's addition stays recorded
            s["done"][entry.url] = {"result": added or "skipped", "reason": reason, "at": now}

    state.update(record)
    if added:
        report.added.append(added)
        log.info("added %s: %s", added, entry.url)
    elif transient:
        report.retry.append((entry.url, reason))
        log.warning("skipped %s for now (retried next round): %s", entry.url, reason)
    else:
        report.skipped.append((entry.url, reason))
        log.warning("skipped %s: %s", entry.url, reason)


def run_round(
    feeds: Sequence[Feed],
    target: Target,
    settings: Settings,
    state: StateFile | None = None,
    stop: Callable[[], bool] = lambda: False,
    polite: Polite | None = None,
) -> RoundReport:
    """Poll every feed once and add each new entry; return what was added and skipped.

    ``stop`` is asked before each feed and each entry: a stop request lets the current
    addition finish (each is written whole or not at all) and ends the round.
    """
    state = state or StateFile(state_path(target.key))
    polite = polite or Polite(settings)
    report = RoundReport()
    now = time.time()
    for feed in feeds:
        if stop():
            return report
        poll_feed(feed, state, polite, now)
    known = target.known_urls()

    def settle_known(s: dict[str, Any]) -> None:  # pending entries the target holds already
        for url in [url for url in s["pending"] if url in known]:
            del s["pending"][url]
            s["done"][url] = {"result": "skipped", "reason": "already added", "at": now}

    remembered = state.update(settle_known)
    entries = []
    for row in remembered["pending"].values():  # new ones, and transient failures of before
        try:
            entries.append(Entry(**row["entry"]))
        except (TypeError, KeyError):
            continue
    for entry in entries:
        if stop():
            break
        handle_entry(entry, target, state, polite, report, now)
    log.info("round done: %d added, %d skipped, %d to retry", len(report.added),
             len(report.skipped), len(report.retry))
    return report


# --------------------------------------------------------------------------- rounds until stopped
def watch(
    feeds: Sequence[Feed],
    target: Target,
    settings: Settings,
    once: bool = False,
    stop_event: Any = None,
) -> list[RoundReport]:
    """Run rounds every ``settings.every_min`` minutes until ``stop_event`` is set (or once).

    SIGTERM and SIGINT set the event (in the main thread): the current addition finishes, the
    round ends, and the function returns.
    """
    import signal
    import threading

    stop_event = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda _n, _f: stop_event.set())
    state = StateFile(state_path(target.key))
    polite = Polite(settings)
    reports = []
    while not stop_event.is_set():
        reports.append(run_round(feeds, target, settings, state, stop_event.is_set, polite))
        if once:
            break
        log.info("next round in %g min", settings.every_min)
        stop_event.wait(settings.every_min * 60)
    if stop_event.is_set():
        log.info("stopped")
    return reports
