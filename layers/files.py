"""Writing files so that a failure never leaves a half-written one behind."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def sibling_temp(path: str | Path, prefix: str = ".lantern-") -> Iterator[Path]:
    """A fresh, not yet existing path beside ``path``, to build a file in.

    Beside, so ``os.replace(tmp, path)`` is atomic (same filesystem). If the
    block raises, whatever was written there is removed; on success it is the
    caller's: moved into place, or handed on.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=path.suffix or ".tmp", dir=path.parent, prefix=prefix)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
