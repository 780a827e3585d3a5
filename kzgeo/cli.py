"""The kzgeo command line: one subcommand per row of COMMANDS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from kzgeo.config import CORPUS_ENV_VAR, corpus_dir
from kzgeo.corpus import CorpusError, CorpusLoad, describe, load_corpus


def load_reporting(corpus: str | None) -> CorpusLoad:
    """Load the corpus and print its warnings to stderr."""
    loaded = load_corpus(corpus_dir(corpus))
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return loaded


def run_articles(args: argparse.Namespace) -> int:
    """Print the loaded articles, one line each."""
    loaded = load_reporting(args.corpus)
    for article in loaded.articles:
        print(describe(article))
    if args.removed:
        for removal in loaded.removed:
            print(f"removed [{removal.rule_id}] {removal.source_file}: {removal.text[:100]}")
        for duplicate in loaded.duplicates:
            print(f"duplicate dropped: {duplicate}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the GeoJSON of everything the map can show (and the mentions CSV), from the quote
    store the app serves (built first where it is missing or stale)."""
    from kzgeo.export import export_corpus
    from kzgeo.quotestore import serve_store

    store = serve_store(corpus_dir(args.corpus))
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    csv_path = Path(args.csv) if args.csv else None
    try:
        export_corpus(store, Path(args.out), csv_path)
    except OSError as error:
        print(f"error: the export could not be written: {error}", file=sys.stderr)
        return 1
    quoted = sum(1 for count in store.quote_counts().values() if count)
    print(
        f"wrote {args.out}: {len(store.features)} features, {quoted} with quotes, "
        f"from {len(store.articles)} articles"
        + (f"; mentions in {args.csv}" if csv_path else "")
    )
    return 0


def run_build(args: argparse.Namespace) -> int:
    """Build (or check) the gazetteer and the corpus' quote store, what the app serves."""
    from kzgeo.engines import EngineError, build_artifacts
    from kzgeo.gazetteer import ARTIFACT_PATH, ensure_artifact, load_gazetteer

    ensure_artifact(rebuild=args.rebuild_gazetteer)  # loaded only where a batch is built
    print(f"gazetteer: {ARTIFACT_PATH}")
    folder = corpus_dir(args.corpus)
    try:
        store, built = build_artifacts(folder, args.engine, args.scheduler, args.workers,
                                       args.rebuild, open_store=False)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: the quote store could not be written: {error}", file=sys.stderr)
        return 1
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.ship:
        from kzgeo.geocache import write_shipped

        shipped = write_shipped(load_corpus(folder).articles, load_gazetteer())
        print(f"shipped geoparse: {shipped} (commit it: a fresh clone's first map reads it)")
    print(
        f"quote store: {store.folder} ({'built' if built else 'up to date'}"
        f"{' by the ' + args.engine + ' engine' if built else ''}; "
        f"{store.articles} articles, {store.features} features, {store.quoted} with quotes)"
    )
    return 0


def run_geoparse_files(args: argparse.Namespace) -> int:
    """Print one JSON object per FILE (JSON Lines): its mentions, offsets into its text as is."""
    import json

    from kzgeo.gazetteer import load_gazetteer
    from kzgeo.ingest import guess_language
    from kzgeo.resolve import geoparse_text

    gazetteer = load_gazetteer()
    status = 0
    for name in args.files:
        try:
            text = Path(name).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"error: {name}: {error}", file=sys.stderr)
            status = 2
            continue
        language = args.language or guess_language(text)
        record = {"file": name, "language": language,
                  "mentions": geoparse_text(text, gazetteer, language)}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return status


def run_geoparse(args: argparse.Namespace) -> int:
    """Print each article's place mentions and how they were resolved."""
    from kzgeo.gazetteer import load_gazetteer
    from kzgeo.resolve import explain, geoparse

    if args.json or args.files:
        if not (args.json and args.files):
            print("error: geoparse FILE... needs --json (and --json needs files)", file=sys.stderr)
            return 2
        return run_geoparse_files(args)
    gazetteer = load_gazetteer()
    if args.text is not None:
        print(explain(args.text, gazetteer))
        return 0
    articles = load_reporting(args.corpus).articles
    if args.article:
        articles = tuple(a for a in articles if a.id == args.article)
        if not articles:
            print(f"error: no article with id '{args.article}'", file=sys.stderr)
            return 2
    if args.explain:
        for article in articles:
            print(f"== {article.id}: {article.title}")
            print(explain(article, gazetteer))
        return 0
    for place in geoparse(articles, gazetteer).places:
        print(
            f"{place.id:32} {place.kind:16} {place.precision:10} "
            f"{place.confidence:.2f}  {place.mention_count:4}  {', '.join(place.names[:4])}"
        )
    return 0


NEW_COLLECTION = "new"  # ``add --collection new`` starts a collection


def add_source(args: argparse.Namespace) -> tuple[str, dict, str | None, str]:
    """Return (text, guessed metadata, url, where from) of the article to add: FILE or --url."""
    from kzgeo.ingest import extract_text, fetch_article, read_source

    if args.url:
        fetched = fetch_article(args.url)
        return fetched.text, fetched.metadata, fetched.url, fetched.url
    path = Path(args.file)
    return extract_text(read_source(path), path.name), {}, None, path.name


def chosen(args: argparse.Namespace, guessed: dict, key: str) -> object:
    """Return the value given on the command line for ``key``, else the page's."""
    given = getattr(args, key)
    return given if given not in (None, "") else guessed.get(key)


def run_add(args: argparse.Namespace) -> int:
    """Add an article (a file or a web address) to the corpus folder or to a collection."""
    from kzgeo.ingest import IngestError, add_text_to_corpus, add_to_collection
    from kzgeo.store import CollectionError, StoreUnavailable, open_store

    if bool(args.file) == bool(args.url):
        print("error: give either FILE or --url URL (one of them)", file=sys.stderr)
        return 2
    if args.collection and args.corpus:
        print("error: give either --corpus DIR or --collection ID, not both", file=sys.stderr)
        return 2
    try:
        text, guessed, url, source = add_source(args)
        meta = {key: chosen(args, guessed, key)
                for key in ("title", "outlet", "date", "author", "language")}
        if not args.collection:
            folder = corpus_dir(args.corpus)
            article = add_text_to_corpus(text, folder, **meta, url=url, added_from=source)
            print(f"added {article.id} ({len(article.text):,} chars) to {folder}: "
                  f"{article.source_file}")
            return 0
        from kzgeo.gazetteer import load_gazetteer

        new = args.collection == NEW_COLLECTION
        added = add_to_collection(
            open_store(), text, gazetteer=load_gazetteer(), **meta, url=url,
            collection_id=None if new else args.collection, check_token=False,
            name=args.name or "",
        )  # fmt: skip
    except (IngestError, CollectionError, StoreUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    collection = added.collection
    print(f"added {added.article.id} ({len(added.article.text):,} chars) to collection "
          f"{collection.id} ({collection.article_count} article(s))")
    if added.edit_token:
        print(f"view link: ?collection={collection.id}")
        print(f"edit token: {added.edit_token}")
        print("(the edit token is shown only now: keep it private, it allows renaming the "
              "collection and removing articles)")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """Follow news feeds: add each new entry's article, once or every MINUTES until stopped."""
    import dataclasses
    import logging

    from kzgeo import watch
    from kzgeo.store import CollectionError, StoreUnavailable

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    if args.collection and args.corpus:
        print("error: give either --corpus DIR or --collection ID, not both", file=sys.stderr)
        return 2
    try:
        feeds_file = Path(args.feeds) if args.feeds else watch.FEEDS_FILE
        settings = watch.Settings()
        if args.feed_urls:
            feeds = [watch.Feed(url) for url in args.feed_urls]
            if args.feeds:
                settings = watch.read_feeds(feeds_file)[1]
        else:
            feeds, settings = watch.read_feeds(feeds_file)
            if not feeds:
                print(f"error: {feeds_file} lists no [[feed]]", file=sys.stderr)
                return 2
        given = {"every_min": args.every, "delay_s": args.delay, "timeout_s": args.timeout}
        settings = dataclasses.replace(
            settings, **{key: value for key, value in given.items() if value is not None}
        )
        target = (watch.CollectionTarget(args.collection) if args.collection
                  else watch.CorpusTarget(corpus_dir(args.corpus)))
    except (watch.WatchError, CollectionError, StoreUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reports = watch.watch(feeds, target, settings, once=args.once)
    added = sum(len(report.added) for report in reports)
    print(f"watch: {added} article(s) added in {len(reports)} round(s)")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """Benchmark the whole path on synthetic corpora; print the table (and write JSON)."""
    from kzgeo import bench

    report = bench.run_bench(
        corpus_dir(args.corpus),
        scales=args.scale or bench.DEFAULT_SCALES,
        repeat=args.repeat,
        workers=args.workers,
        app_scales=[] if args.no_app else args.app_scale,
        server=not args.no_server,
        dask=not args.no_dask,
        fresh_clone=not args.no_fresh_clone,
        in_memory=not args.no_in_memory,
        progress=lambda message: print(f"... {message}", file=sys.stderr, flush=True),
    )
    print(f"kzgeo bench on {bench.describe_machine(report.machine)}; "
          f"median of {args.repeat} run(s)")
    print(bench.format_table(report))
    for note in report.notes:
        print(f"- {note}")
    if args.json:
        print(f"wrote {bench.write_json(report, Path(args.json))}")
    return 0


def run_loadtest(args: argparse.Namespace) -> int:
    """Drive many browser sessions clicking places on one app server; print the figures."""
    from kzgeo import loadtest

    try:
        report = loadtest.run_loadtest(
            corpus_dir(args.corpus),
            sessions=args.sessions,
            duration_s=args.duration,
            url=args.url,
            pause_s=args.pause,
            click_timeout_s=args.click_timeout,
        )
    except loadtest.LoadTestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(loadtest.describe(report))
    print(loadtest.format_table(report))
    if report.first_errors:
        print(f"first {len(report.first_errors)} of {report.errors} error(s):")
        print(loadtest.format_errors(report))
    if args.json:
        print(f"wrote {loadtest.write_json(report, Path(args.json))}")
    return 1 if report.errors or not report.figures["clicks"] else 0


class Command(NamedTuple):
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None]


def add_articles_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--removed", action="store_true", help="also list the boilerplate removed, by rule"
    )


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT.geojson", help="where to write the GeoJSON")
    parser.add_argument("--csv", metavar="OUT.csv", help="also write every mention as CSV")


def add_geoparse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--explain",
        action="store_true",
        help="show every mention with the candidates it rejected and why",
    )
    parser.add_argument("--article", metavar="ID", help="only this article")
    parser.add_argument("--text", help="geoparse this text instead of the corpus (explained)")
    parser.add_argument("--json", action="store_true",
                        help="geoparse FILE... and print one JSON object per file (JSON Lines)")
    parser.add_argument("--language", choices=("de", "en"),
                        help="language of the files (default: guessed per file)")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="UTF-8 text files to geoparse (with --json)")


def add_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="the article: .txt, .md or .html (UTF-8)")
    parser.add_argument("--url", metavar="URL",
                        help="fetch the article from this web address instead (http/https)")
    parser.add_argument("--collection", metavar="ID",
                        help="add to this collection in the database instead of the corpus "
                             f"('{NEW_COLLECTION}': start one and print its id and edit token)")
    parser.add_argument("--name", help="the name of a collection started with --collection new")
    parser.add_argument("--title", help="the article's headline (with --url: the page's)")
    parser.add_argument("--outlet",
                        help="newspaper, site or broadcaster (with --url: the page's site)")
    parser.add_argument("--date", metavar="YYYY-MM-DD",
                        help="publication date (with --url: the page's); needed for the corpus")
    parser.add_argument("--author", help="the author, if known")
    parser.add_argument(
        "--language", choices=("de", "en"), help="language of the text (default: guessed)"
    )


def add_watch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feed_urls", metavar="FEED_URL", nargs="*",
                        help="RSS or Atom feeds to follow (default: the feeds in feeds.toml)")
    parser.add_argument("--collection", metavar="ID",
                        help="add to this collection in the database instead of the corpus")
    parser.add_argument("--every", type=float, metavar="MINUTES",
                        help="minutes between rounds (default: feeds.toml's, else 30)")
    parser.add_argument("--once", action="store_true",
                        help="one round, then exit (for cron or a scheduled job)")
    parser.add_argument("--feeds", metavar="FILE",
                        help="the feeds.toml to read (default: the project's)")
    parser.add_argument("--delay", type=float, metavar="S",
                        help="seconds between two requests to one host (default: 5)")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="a page that sends nothing for S seconds is skipped (default: 10)")


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rebuild", action="store_true",
                        help="build the index even when its artifact is up to date")
    parser.add_argument("--rebuild-gazetteer", action="store_true",
                        help="build the gazetteer even when its artifact is up to date")
    parser.add_argument("--workers", type=int, metavar="W",
                        help="processes for the geoparse (default: every core)")
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                        help="where the geoparse runs: this machine's processes (default) or "
                             "Dask tasks (dask.distributed)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --engine dask: the Dask scheduler (e.g. tcp://host:8786); "
                             "default a local cluster of --workers processes")
    parser.add_argument("--ship", action="store_true",
                        help="also write prebuilt/geoparse.jsonl, the corpus' geoparse that a "
                             "fresh clone starts from (commit it when the geoparser changes)")


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=int, action="append", metavar="N",
                        help="corpus size in articles, repeatable (default: 1, 12, 100, 2000)")
    parser.add_argument("--repeat", type=int, default=3, metavar="R",
                        help="runs per figure; the median is reported (default: 3)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--workers", type=int, metavar="W",
                        help="processes for the index build (default: every core)")
    parser.add_argument("--app-scale", type=int, action="append", metavar="N",
                        help="scales to measure the app at (default: smallest, 12, largest)")
    parser.add_argument("--no-app", action="store_true", help="skip the app figures")
    parser.add_argument("--no-dask", action="store_true",
                        help="skip the Dask geoparse on 1 and 2 local workers")
    parser.add_argument("--no-fresh-clone", action="store_true",
                        help="skip the fresh clone's first map (streamlit run + Chromium)")
    parser.add_argument("--no-server", action="store_true",
                        help="skip the server memory figure (streamlit run + Chromium)")
    parser.add_argument("--no-in-memory", action="store_true",
                        help="skip the single-process geoparse and the in-memory index stages "
                             "(they hold the whole corpus: about 20 GB at N = 100,000)")


def add_loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    from kzgeo.loadtest import (
        CLICK_TIMEOUT_S,
        DEFAULT_DURATION_S,
        DEFAULT_PAUSE_S,
        DEFAULT_SESSIONS,
    )

    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, metavar="N",
                        help=f"concurrent browser sessions (default: {DEFAULT_SESSIONS})")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, metavar="S",
                        help="seconds of clicking once every session has opened the app "
                             f"(default: {DEFAULT_DURATION_S:g})")
    parser.add_argument("--url", help="test this running app instead of starting one")
    parser.add_argument("--pause", type=float, default=DEFAULT_PAUSE_S, metavar="S",
                        help="seconds each session waits after a quote before its next click "
                             f"(default: {DEFAULT_PAUSE_S:g})")
    parser.add_argument("--click-timeout", type=float, default=CLICK_TIMEOUT_S, metavar="S",
                        help="a click whose quote takes longer is a timeout error "
                             f"(default: {CLICK_TIMEOUT_S:g})")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")


COMMANDS: list[Command] = [
    Command("articles", "list the articles of the corpus", run_articles, add_articles_arguments),
    Command(
        "export",
        "write a GeoJSON FeatureCollection (EPSG:4326) of every place, layer and quote",
        run_export,
        add_export_arguments,
    ),
    Command(
        "build",
        "build the artifacts the app serves (gazetteer, index); only what is stale, unless asked",
        run_build,
        add_build_arguments,
    ),
    Command(
        "geoparse",
        "list the resolved places (with --explain: every decision)",
        run_geoparse,
        add_geoparse_arguments,
    ),
    Command(
        "add",
        "add an article (a .txt, .md or .html file, or a web address) to the corpus and its "
        "manifest, or to a collection in the database",
        run_add,
        add_add_arguments,
    ),
    Command(
        "watch",
        "follow RSS and Atom feeds: add each new entry's article to the corpus or a "
        "collection, once or every MINUTES until stopped",
        run_watch,
        add_watch_arguments,
    ),
    Command(
        "bench",
        "benchmark gazetteer, geoparse, index build and app on corpora of N articles",
        run_bench,
        add_bench_arguments,
    ),
    Command(
        "loadtest",
        "drive N headless Chromium sessions clicking places on one app server; "
        "report click-to-quote latency, errors and server memory",
        run_loadtest,
        add_loadtest_arguments,
    ),
]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="python -m kzgeo",
        description="Map what German-language reporting says about Kazakhstan and its neighbours.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        sub.add_argument(
            "--corpus",
            metavar="DIR",
            help=f"corpus folder (default: ${CORPUS_ENV_VAR}, else the project's corpus/)",
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
