"""Faults get one message and lose nothing: interrupted writes, full disks, read-only places,
a second writer, changes on disk, a newer schema (issue 11, item 4)."""
from __future__ import annotations

import errno
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import main as cli
from audit.check import check_workspace
from layers import lock, migrations
from layers.errors import LanternError, ReadOnlyWorkspace, StorageError
from layers.lock import WorkspaceLocked
from layers.workspace import Workspace, recover_interrupted_write
from tests.conftest import file_digest

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _hubs_file(path: Path, n: int) -> Path:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"name": [f"Stop {i} " + "x" * 200 for i in range(n)], "hub_type": ["bus_station"] * n},
        geometry=[shapely.Point(24.9 + i * 1e-5, 60.1 + i * 1e-5) for i in range(n)], crs=4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def _run(argv, capsys):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_message(err: str, *needles: str) -> None:
    assert "Traceback" not in err and "database is locked" not in err, err
    lines = [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def _full_after(monkeypatch, extra_pages: int = 2):
    """Every workspace connection may grow the file by ``extra_pages`` pages only: SQLITE_FULL, as on a full disk."""
    import layers.workspace as wsmod

    real = wsmod._connect

    def connect(path):
        db = real(path)
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}")
        return db

    monkeypatch.setattr(wsmod, "_connect", connect)


# -- an interrupted write (hot journal) -----------------------------------------------------

def _crash_mid_write(path: Path) -> None:
    """A process that dies (SIGKILL) half-way through a big transaction, after SQLite spilled pages into the file."""
    code = textwrap.dedent(f"""
        import os, sqlite3
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("PRAGMA cache_size = 5")
        conn.execute("BEGIN")
        for i in range(3000):
            conn.execute("INSERT INTO workspace_meta (key, value) VALUES (?, ?)", (f"junk{{i}}", "x" * 500))
        os.kill(os.getpid(), 9)
    """)
    subprocess.run([PY, "-c", code], check=False)
    journal = path.with_name(path.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0


def test_open_rolls_back_an_interrupted_write_and_says_so(workspace, capsys):
    path = workspace.path
    workspace.set_metadata("marker", "before the crash")
    workspace.close()
    _crash_mid_write(path)
    with Workspace.open(path) as ws:
        assert ws.recovered
        assert any("rolled back" in n for n in ws.notices)
        assert ws.metadata["marker"] == "before the crash"
        assert not any(k.startswith("junk") for k in ws.metadata)
    assert not path.with_name(path.name + "-journal").exists()
    assert check_workspace(path).ok


def test_check_command_recovers_first_never_calls_it_not_a_database(workspace, capsys):
    path = workspace.path
    workspace.close()
    _crash_mid_write(path)
    rc, out, err = _run(["check", path], capsys)
    assert rc == 0, err
    assert "rolled back" in err and "not an SQLite database" not in out + err
    assert "OK" in out


def test_every_command_recovers_first(workspace, tmp_path, capsys):
    path = workspace.path
    workspace.close()
    _crash_mid_write(path)
    rc, out, err = _run(["referral", path], capsys)
    assert rc == 0, err
    assert "note:" in err and "rolled back" in err


def test_a_live_writers_journal_is_left_alone(workspace):
    """Recovery must never roll back a transaction that a live Lantern writer is still making."""
    workspace.claim()
    with workspace.atomic() as db:
        db.conn.execute("PRAGMA cache_size = 5")
        for i in range(2000):
            db.conn.execute("INSERT INTO workspace_meta (key, value) VALUES (?, ?)", (f"k{i}", "x" * 500))
        assert recover_interrupted_write(workspace.path) is False
    assert workspace.metadata["k1999"] == "x" * 500


# -- a newer schema -------------------------------------------------------------------------

def _from_the_future(path: Path) -> int:
    version = migrations.latest_version() + 1
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE workspace_meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    return version


def test_a_newer_schema_opens_read_only_and_every_write_is_refused(workspace, tmp_path, capsys):
    path = workspace.path
    workspace.close()
    version = _from_the_future(path)
    before = file_digest(path)
    with Workspace.open(path) as ws:
        assert ws.read_only and "newer version of Lantern" in ws.read_only and str(version) in ws.read_only
        assert ws.notices == [ws.read_only]
        with pytest.raises(ReadOnlyWorkspace, match="newer version"):
            ws.set_metadata("name", "changed")
        with pytest.raises(sqlite3.OperationalError):  # even a write around atomic() is refused
            ws.db.conn.execute("UPDATE workspace_meta SET value = 'x' WHERE key = 'name'")
        assert ws.count("transport_hubs") == 0  # reading works
    src = _hubs_file(tmp_path / "hubs.geojson", 3)
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", path], capsys)
    assert rc == 2
    _one_message(err, "newer version of Lantern")
    assert file_digest(path) == before


# -- a full disk (injected: SQLite's max_page_count gives SQLITE_FULL) -----------------------

def test_disk_full_during_import_gives_one_message_and_changes_nothing(workspace, tmp_path, monkeypatch, capsys):
    path = workspace.path
    workspace.close()
    src = _hubs_file(tmp_path / "hubs.geojson", 3000)
    before = file_digest(path)
    _full_after(monkeypatch)
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", path], capsys)
    assert rc == 2
    _one_message(err, str(path), "the disk is full")
    assert file_digest(path) == before
    assert not lock.lock_path(path).exists()
    monkeypatch.undo()
    assert check_workspace(path).ok


def test_disk_full_during_import_osm_into_a_workspace(workspace, monkeypatch, capsys):
    from layers.osm import helsinki_extract

    path = workspace.path
    workspace.close()
    before = file_digest(path)
    _full_after(monkeypatch)
    rc, out, err = _run(["import-osm", helsinki_extract(), "--out", path], capsys)
    assert rc == 2
    _one_message(err, str(path), "the disk is full")
    assert file_digest(path) == before


def test_disk_full_during_an_edit(workspace, monkeypatch):
    from audit.annotations import new_place
    from audit.commands import History

    path = workspace.path
    workspace.close()
    before = file_digest(path)
    _full_after(monkeypatch, extra_pages=0)
    with Workspace.open(path) as ws:
        with pytest.raises(StorageError, match="the disk is full") as err:
            for i in range(200):
                History(ws, "A").do(new_place("places_of_concern", 24.9, 60.1, {"name": "p" * 2000,
                                                                                 "category": "clinic"}))
        assert str(path) in str(err.value)
    monkeypatch.undo()
    assert check_workspace(path).ok


@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
def test_disk_full_during_export_gives_one_message_and_leaves_nothing(demo_copy, tmp_path, monkeypatch, capsys, fmt):
    import mapping.share_export as share

    real = getattr(share, f"write_{fmt}")

    def writer(bundle, where):  # writes part of the export, then the disk is full
        real(bundle, where)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(share, f"write_{fmt}", writer)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / ("share.gpkg" if fmt == "gpkg" else "share")
    before = file_digest(demo_copy)
    rc, out, err = _run(["export", demo_copy, "--profile", "public", "--format", fmt, "--out", target], capsys)
    assert rc == 2
    _one_message(err, str(target), "the disk is full", "nothing was written")
    assert list(out_dir.iterdir()) == []  # no partial files
    assert file_digest(demo_copy) == before


def test_permission_denied_on_export_names_the_file(demo_copy, tmp_path, monkeypatch, capsys):
    import mapping.share_export as share

    def writer(bundle, where):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(where))

    monkeypatch.setattr(share, "write_html", writer)
    target = tmp_path / "map.html"
    rc, out, err = _run(["export", demo_copy, "--profile", "public", "--format", "html", "--out", target], capsys)
    assert rc == 2
    _one_message(err, str(target), "permission denied")


# -- a real small disk and a read-only place (tmpfs) -------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / "disk"
    where.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the injected-failure tests cover the same paths")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the injected-failure tests cover it")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=20)


def _fill(folder: Path) -> None:
    # unbuffered: a buffered file would try to flush its last block again on close and fail a second time
    with open(folder / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_really_full_disk(small_disk, demo_file, tmp_path, capsys):
    path = small_disk / "demo.gpkg"
    shutil.copy(demo_file, path)
    src = _hubs_file(tmp_path / "hubs.geojson", 3000)
    _fill(small_disk)
    before = file_digest(path)
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", path], capsys)
    assert rc == 2
    _one_message(err, str(path), "the disk is full")
    for fmt, name in (("gpkg", "share.gpkg"), ("csv", "share")):
        rc, out, err = _run(["export", path, "--profile", "public", "--format", fmt, "--out", small_disk / name], capsys)
        assert rc == 2, (fmt, out)
        _one_message(err, str(small_disk / name), "the disk is full")
    assert file_digest(path) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["demo.gpkg", "filler"]
    rc, out, err = _run(["check", path], capsys)
    assert rc == 0, err


def test_a_read_only_place(small_disk, demo_file, tmp_path, capsys):
    path = small_disk / "demo.gpkg"
    shutil.copy(demo_file, path)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True, timeout=20)
    with Workspace.open(path) as ws:
        assert ws.read_only and "cannot be written" in ws.read_only
        with pytest.raises(ReadOnlyWorkspace):
            ws.set_metadata("name", "x")
        assert ws.count("transport_hubs") > 0
    src = _hubs_file(tmp_path / "hubs.geojson", 3)
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", path], capsys)
    assert rc == 2
    _one_message(err, "demo.gpkg", "read-only")
    rc, out, err = _run(["export", tmp_path / "demo2.gpkg" if False else path, "--profile", "public", "--format",
                         "html", "--out", small_disk / "map.html"], capsys)
    assert rc == 2
    _one_message(err, str(small_disk / "map.html"), "read-only")
    rc, out, err = _run(["check", path], capsys)
    assert rc == 0, err


# -- one writer --------------------------------------------------------------------------------

def test_a_second_writer_is_told_who_holds_the_workspace(workspace, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LANTERN_LOCK_WAIT", "0.5")
    src = _hubs_file(tmp_path / "hubs.geojson", 3)
    workspace.claim()
    before = file_digest(workspace.path)
    started = time.monotonic()
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", workspace.path], capsys)
    waited = time.monotonic() - started
    assert rc == 2
    _one_message(err, workspace.path.name, f"process {os.getpid()} on {socket.gethostname()} since ")
    assert 0.5 <= waited < 5
    assert file_digest(workspace.path) == before
    with Workspace.open(workspace.path) as other:  # a reader is never blocked
        assert other.count("transport_hubs") == 0
        with pytest.raises(WorkspaceLocked):
            other.set_metadata("x", "y")
    rc, out, err = _run(["check", workspace.path], capsys)
    assert rc == 0, err
    workspace.close()
    rc, out, err = _run(["import", src, "--kind", "transport_hubs", "--into", workspace.path], capsys)
    assert rc == 0, err


def test_the_second_writer_waits_briefly_and_gets_in_when_the_first_is_done(workspace):
    other = Workspace.open(workspace.path)
    workspace.claim()
    import threading

    threading.Timer(0.4, workspace.close).start()
    started = time.monotonic()
    other.set_metadata("after", "the first writer")
    assert 0.3 < time.monotonic() - started < 3
    other.close()


def _holder_process(path: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from layers.workspace import Workspace
        ws = Workspace.open({str(path)!r}, lock_now=True, what="test holder")
        print("held", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_two_commands_one_holds_the_other_is_refused(workspace, tmp_path):
    path = workspace.path
    workspace.close()
    src = _hubs_file(tmp_path / "hubs.geojson", 3)
    holder = _holder_process(path)
    try:
        env = dict(os.environ, LANTERN_LOCK_WAIT="1")
        done = subprocess.run([PY, str(ROOT / "main.py"), "import", str(src), "--kind", "transport_hubs",
                               "--into", str(path)], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 2
        _one_message(done.stderr, f"process {holder.pid} on {socket.gethostname()}", "test holder")
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: its lock file stays, and is taken over
    assert lock.lock_path(path).exists() and lock.holder(path) is None
    done = subprocess.run([PY, str(ROOT / "main.py"), "import", str(src), "--kind", "transport_hubs",
                           "--into", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with Workspace.open(path) as ws:
        assert ws.count("transport_hubs") == 3


def test_two_imports_at_once(workspace, tmp_path):
    """Started together: each one either succeeds or is refused naming the holder; never a traceback."""
    path = workspace.path
    workspace.close()
    src = _hubs_file(tmp_path / "hubs.geojson", 4000)
    env = dict(os.environ, LANTERN_LOCK_WAIT="0")
    argv = [PY, str(ROOT / "main.py"), "import", str(src), "--kind", "transport_hubs", "--into", str(path)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    ok = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert ok, results
    for rc, out, err in refused:
        assert rc == 2
        _one_message(err, "is being changed by process", socket.gethostname())
    with Workspace.open(path) as ws:
        assert ws.count("transport_hubs") == 4000 * len(ok)
    assert check_workspace(path).ok


def test_import_osm_refuses_while_another_writer_holds_the_workspace(workspace, monkeypatch, capsys):
    from layers.osm import helsinki_extract

    monkeypatch.setenv("LANTERN_LOCK_WAIT", "0.2")
    workspace.claim()
    before = file_digest(workspace.path)
    rc, out, err = _run(["import-osm", helsinki_extract(), "--out", workspace.path], capsys)
    assert rc == 2
    _one_message(err, f"process {os.getpid()}")
    assert file_digest(workspace.path) == before


# -- changes on disk ---------------------------------------------------------------------------

def test_import_osm_writes_in_place_and_an_open_workspace_sees_it(workspace, capsys):
    from layers.osm import helsinki_extract

    path = workspace.path
    inode = path.stat().st_ino
    assert workspace.changed_on_disk() is None
    rc, out, err = _run(["import-osm", helsinki_extract(), "--out", path], capsys)
    assert rc == 0, err
    assert path.stat().st_ino == inode  # never swapped under an open connection
    assert workspace.changed_on_disk() == "changed"
    assert workspace.changed_on_disk() is None
    assert workspace.count("transport_hubs") > 20
    workspace.set_metadata("still", "writable")  # no "attempt to write a readonly database"


def test_a_replaced_file_is_noticed_and_reopened(workspace, tmp_path):
    path = workspace.path
    other = Workspace.create(tmp_path / "other.gpkg", name="The replacement")
    other.close()
    os.replace(other.path, path)
    assert workspace.changed_on_disk() == "replaced"
    message = workspace.sync_with_disk()
    assert message and "replaced" in message
    assert workspace.name == "The replacement"
    assert workspace.changed_on_disk() is None
    workspace.set_metadata("after", "reopen")


def test_own_writes_are_not_reported_as_outside_changes(workspace):
    workspace.set_metadata("a", "b")
    assert workspace.changed_on_disk() is None
    with sqlite3.connect(workspace.path) as conn:  # QGIS, sqlite3, another program
        conn.execute("UPDATE workspace_meta SET value = 'outside' WHERE key = 'a'")
    assert workspace.sync_with_disk() and workspace.metadata["a"] == "outside"
