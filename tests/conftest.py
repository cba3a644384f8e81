"""Shared fixtures. Qt runs offscreen; Chromium needs --no-sandbox as root."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the suite speaks English whatever the machine's locale; tests of Latvian or of locale detection say so
os.environ["LANTERN_LANG"] = "en"
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " --no-sandbox").strip()

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's data directory or settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture
def workspace(tmp_path):
    from layers.workspace import Workspace

    ws = Workspace.create(tmp_path / "district.gpkg", name="Test district")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    from audit.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.gpkg"
    build_demo(path).close()
    return path


@pytest.fixture
def demo_copy(demo_file, tmp_path) -> Path:
    path = tmp_path / "demo.gpkg"
    shutil.copy(demo_file, path)
    return path


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_EXIT = {"status": 0}


def pytest_sessionfinish(session, exitstatus):
    _EXIT["status"] = int(exitstatus)


def pytest_unconfigure(config):
    """Leave without Python's final garbage collection once pytest has reported.

    PySide6 6.12 with QtWebEngine has been seen to abort while the interpreter
    finalises ("bool_dealloc … refcount error in a C extension"), after every
    test passed and the summary was printed. Exiting here keeps pytest's own
    status (failures still fail) and skips only that teardown.
    """
    import sys

    if "PySide6" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT["status"])


@pytest.fixture
def session(demo_copy):
    """A Qt-free session (mapping.session) on a fresh copy of the demo, closed afterwards."""
    from mapping.session import Session

    s = Session(author="Tester")
    s.open(demo_copy)
    yield s
    s.close()


# -- a real PostgreSQL/PostGIS server (tests/pg_cluster.py) ----------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway cluster for the whole run. Skips with the reason only where PostgreSQL/PostGIS is not installed;
    with LANTERN_REQUIRE_POSTGRES=1 (CI) a missing server fails instead of skipping."""
    from tests import pg_cluster as pc

    reason = pc.missing_reason()
    if reason:
        if os.environ.get("LANTERN_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = pc.Cluster()
    yield cluster
    cluster.stop()


_PG_DATABASES = {"n": 0}


@pytest.fixture
def pg_db(pg_cluster):
    """A fresh PostGIS database for one test: its superuser connection string."""
    from tests import pg_cluster as pc

    _PG_DATABASES["n"] += 1
    return pc.new_database(pg_cluster, f"t{os.getpid()}_{_PG_DATABASES['n']}")
