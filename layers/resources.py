"""The one place that finds files bundled with Lantern (catalogues, demo data).

Uses importlib.resources so the same lookup works from a checkout, an
installed wheel and a frozen desktop bundle.
"""
from __future__ import annotations

import importlib.util
import json
import os
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any, Iterator


def _package_root(package: str):
    try:
        return files(package)
    except NotADirectoryError:
        # data/ is a namespace package (no code in it); setuptools' editable
        # installs add a non-directory path-hook entry to such packages, which
        # Python 3.11's MultiplexedPath rejects. Use the real directory.
        spec = importlib.util.find_spec(package)
        locations = spec.submodule_search_locations if spec else []
        return Path(next(p for p in locations if os.path.isdir(p)))


def package_file(package: str, name: str):
    """A Traversable for ``<package>/<name>`` (``name`` may contain slashes)."""
    node = _package_root(package)
    for part in name.split("/"):
        node = node / part
    return node


def resource(name: str):
    """A Traversable for ``data/<name>``: catalogues, translations, demo data."""
    return package_file("data", name)


@contextmanager
def resource_path(name: str) -> Iterator[Path]:
    """A real filesystem path for a bundled file, for libraries that need one."""
    with as_file(resource(name)) as path:
        yield Path(path)


@lru_cache(maxsize=None)
def load_json(name: str) -> Any:
    """Parse a bundled JSON catalogue (cached: catalogues are read-only)."""
    return json.loads(resource(name).read_text(encoding="utf-8"))
