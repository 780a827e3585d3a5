"""Where things are: the project's folders and the configurable corpus folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"
GEODATA_DIR = PROJECT_ROOT / "geodata"
CORPUS_ENV_VAR = "KZGEO_CORPUS"
BUILD_ENV_VAR = "KZGEO_BUILD_DIR"  # where built artifacts go (gazetteer, index); default build/
DATA_ENV_VAR = "KZGEO_DATA_DIR"  # what users add (the SQLite collections file); default data/


def build_dir() -> Path:
    """Return where built artifacts go: ``$KZGEO_BUILD_DIR``, else ``build/`` (read each call)."""
    return Path(os.environ.get(BUILD_ENV_VAR) or PROJECT_ROOT / "build").expanduser()


BUILD_DIR = build_dir()  # as the process started (the gazetteer's artifact lives here)


def corpus_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Return the corpus folder: ``explicit``, else ``$KZGEO_CORPUS``, else ``corpus/``."""
    chosen = explicit or os.environ.get(CORPUS_ENV_VAR) or DEFAULT_CORPUS_DIR
    return Path(chosen).expanduser()


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return where user data lives: ``$KZGEO_DATA_DIR``, else ``data/`` (never a build folder).

    >>> data_dir({"KZGEO_DATA_DIR": "/srv/kzgeo"})
    PosixPath('/srv/kzgeo')
    """
    env = os.environ if env is None else env
    return Path(env.get(DATA_ENV_VAR) or PROJECT_ROOT / "data").expanduser()
