"""Write built files atomically: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and os.replace.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "eins").read_text()
    'eins'
    >>> write_atomic(folder / "a.txt", b"zwei").read_text(), [p.name for p in folder.iterdir()]
    ('zwei', ['a.txt'])
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return write_atomic_with(path, lambda handle: handle.write(payload))


def pickle_atomic(path: str | os.PathLike, value: Any) -> Path:
    """Pickle ``value`` to ``path`` atomically, streamed (no copy of the whole pickle in memory).

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "v.pickle"
    >>> pickle.loads(pickle_atomic(target, {"a": (1, 2)}).read_bytes())
    {'a': (1, 2)}
    """
    return write_atomic_with(
        path, lambda handle: pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL))


def write_atomic_with(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write`` with a binary file that becomes ``path`` once it returns (temp file in the
    same folder, fsync, os.replace); on an error the previous file stays and the temp goes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
