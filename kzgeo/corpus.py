"""Load the corpus: manifest + text files -> cleaned, split, de-duplicated Article records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Article:
    """One article: its metadata and its cleaned text (quotes are offsets into ``text``)."""

    id: str
    title: str
    outlet: str
    author: str | None
    date: dt.date
    language: str
    source_file: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class CorpusLoad:
    """What loading a corpus folder gave: the articles and a warning per skipped input."""

    articles: tuple[Article, ...]
    warnings: tuple[str, ...] = field(default=())


def load_corpus(folder: Path) -> CorpusLoad:
    """Load every article in ``folder``; skip unreadable files with a warning."""
    raise NotImplementedError  # filled in by the Foundation work
