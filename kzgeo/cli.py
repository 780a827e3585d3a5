"""The kzgeo command line: one subcommand per row of COMMANDS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
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


class Command(NamedTuple):
    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None]


def add_articles_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--removed", action="store_true", help="also list the boilerplate removed, by rule"
    )


COMMANDS: list[Command] = [
    Command("articles", "list the articles of the corpus", run_articles, add_articles_arguments),
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
