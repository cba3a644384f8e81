"""Export destinations: the workspace is never written, nothing is destroyed on failure."""
import os
import sqlite3
from pathlib import Path

import pytest

from layers.output import DestinationError, check_destination, staged_files, staged_folder


@pytest.fixture
def ws(tmp_path):
    path = tmp_path / "proj" / "ws.gpkg"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES ('precious')")
    db.close()
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".partial" in p.name)


def _same_path(ws, tmp_path, monkeypatch):
    return ws


def _respelled(ws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (ws.parent / "sub").mkdir()
    return Path("proj/sub/../ws.gpkg")


def _symlink(ws, tmp_path, monkeypatch):
    (tmp_path / "link.gpkg").symlink_to(ws)
    return tmp_path / "link.gpkg"


def _symlinked_folder(ws, tmp_path, monkeypatch):
    (tmp_path / "alias").symlink_to(ws.parent, target_is_directory=True)
    return tmp_path / "alias" / "ws.gpkg"


def _hardlink(ws, tmp_path, monkeypatch):
    os.link(ws, tmp_path / "hard.gpkg")
    return tmp_path / "hard.gpkg"


def _sidecar(suffix, exists):
    def make(ws, tmp_path, monkeypatch):
        side = ws.with_name(ws.name + suffix)
        if exists:
            side.write_bytes(b"sidecar")
        return side
    make.__name__ = f"{suffix}{'-existing' if exists else '-missing'}"
    return make


def _inside(ws, tmp_path, monkeypatch):
    return ws / "out.csv"


def _own_folder(ws, tmp_path, monkeypatch):
    return ws.parent


def _grandparent(ws, tmp_path, monkeypatch):
    return tmp_path


FILE_CASES = [_same_path, _respelled, _symlink, _symlinked_folder, _hardlink, _inside]
FILE_CASES += [_sidecar(s, e) for s in ("-journal", "-wal", "-shm") for e in (True, False)]
FOLDER_CASES = [_own_folder, _grandparent]


@pytest.mark.parametrize("make", FILE_CASES + FOLDER_CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("folder", [False, True])
def test_the_workspace_is_refused_even_with_overwrite(ws, tmp_path, monkeypatch, make, folder):
    before = ws.read_bytes()
    target = make(ws, tmp_path, monkeypatch)
    with pytest.raises(DestinationError):
        check_destination(target, ws, overwrite=True, folder=folder)
    stage = staged_folder(target, ws, True) if folder else staged_files([target], ws, True)
    with pytest.raises(DestinationError):
        with stage as staged:
            (staged.path / "x.csv" if folder else staged.paths[0]).write_bytes(b"boom")
    assert ws.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_the_message_names_the_path_and_the_problem(ws):
    with pytest.raises(DestinationError, match=r"ws\.gpkg: this is the workspace being exported; choose another file"):
        check_destination(ws, ws, overwrite=True)


def test_control_an_unguarded_write_through_the_hard_link_changes_the_workspace(ws, tmp_path):
    before = ws.read_bytes()
    os.link(ws, tmp_path / "hard.gpkg")
    (tmp_path / "hard.gpkg").write_bytes(b"boom")
    assert ws.read_bytes() != before


def test_a_hard_link_made_during_the_export_is_refused_at_commit(ws, tmp_path):
    before = ws.read_bytes()
    target = tmp_path / "out.gpkg"
    with pytest.raises(DestinationError, match="workspace"):
        with staged_files([target], ws, overwrite=True) as staged:
            staged.paths[0].write_bytes(b"new")
            os.link(ws, target)
    assert ws.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_existing_file_needs_overwrite(tmp_path, overwrite):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    if not overwrite:
        with pytest.raises(DestinationError, match="exists.*--overwrite"):
            check_destination(target, None, overwrite)
        return
    with staged_files([target], None, overwrite) as staged:
        staged.paths[0].write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert staged.files == [target]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_non_empty_folder_needs_overwrite(tmp_path, overwrite):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    if not overwrite:
        with pytest.raises(DestinationError, match="not empty.*--overwrite"):
            check_destination(tmp_path / "out", None, overwrite, folder=True)
    else:
        check_destination(tmp_path / "out", None, overwrite, folder=True)


def test_an_empty_folder_is_accepted(tmp_path):
    (tmp_path / "out").mkdir()
    check_destination(tmp_path / "out", None, overwrite=False, folder=True)


@pytest.mark.parametrize("folder, existing, match", [
    (False, "dir", "is a folder"),
    (True, "file", "is a file"),
    (False, "parent-file", "not a folder"),
    (True, "parent-file", "not a folder"),
])
def test_wrong_kind_of_destination_is_refused(tmp_path, folder, existing, match):
    target = tmp_path / "out"
    if existing == "dir":
        target.mkdir()
    else:
        target.write_bytes(b"x")
    if existing == "parent-file":
        target = target / "deeper" / "x.csv"
    with pytest.raises(DestinationError, match=match):
        check_destination(target, None, overwrite=True, folder=folder)


def test_success_replaces_the_target_through_a_hidden_temp_with_the_same_suffix(tmp_path):
    target = tmp_path / "new" / "map.pdf"
    with staged_files([target], None, overwrite=False) as staged:
        tmp = staged.paths[0]
        assert tmp.parent == target.parent and tmp.name.startswith(".map.pdf.partial-") and tmp.suffix == ".pdf"
        assert not tmp.exists()
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_a_writer_failing_halfway_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.gpkg"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with staged_files([target], None, overwrite=True) as staged:
            staged.paths[0].write_bytes(b"half")
            staged.paths[0].with_name(staged.paths[0].name + "-journal").write_bytes(b"j")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


@pytest.mark.parametrize("leftover", ["missing", "hot-journal"])
def test_an_unwritten_or_unfinished_temp_replaces_nothing(tmp_path, leftover):
    first, second = tmp_path / "a.csv", tmp_path / "b.gpkg"
    first.write_bytes(b"old")
    with pytest.raises(DestinationError, match="nothing was replaced"):
        with staged_files([first, second], None, overwrite=True) as staged:
            staged.paths[0].write_bytes(b"new")
            if leftover == "hot-journal":
                staged.paths[1].write_bytes(b"half")
                staged.paths[1].with_name(staged.paths[1].name + "-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7")
    assert first.read_bytes() == b"old" and not second.exists()
    assert _leftovers(tmp_path) == []


def test_staged_folder_moves_files_in_and_keeps_the_users_other_files(tmp_path):
    target = tmp_path / "share"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    (target / "a.csv").write_text("old")
    with staged_folder(target, None, overwrite=True) as staged:
        assert staged.path.parent == tmp_path and staged.path.name.startswith(".share.partial-")
        (staged.path / "a.csv").write_text("new")
        (staged.path / "sub").mkdir()
        (staged.path / "sub" / "b.png").write_text("img")
    assert staged.files == [target / "a.csv", target / "sub" / "b.png"]
    assert (target / "a.csv").read_text() == "new" and (target / "mine.txt").read_text() == "keep"
    assert _leftovers(tmp_path) == []


def test_staged_folder_failing_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "share"
    with pytest.raises(RuntimeError):
        with staged_folder(target, None, overwrite=False) as staged:
            (staged.path / "a.csv").write_text("half")
            raise RuntimeError("boom")
    assert sorted(os.listdir(tmp_path)) == []


def test_staged_folder_refuses_a_hard_link_to_the_workspace_before_moving_anything(ws, tmp_path):
    before = ws.read_bytes()
    target = tmp_path / "share"
    target.mkdir()
    os.link(ws, target / "b.gpkg")
    with pytest.raises(DestinationError, match="workspace"):
        with staged_folder(target, ws, overwrite=True) as staged:
            (staged.path / "a.csv").write_text("new")
            (staged.path / "b.gpkg").write_bytes(b"boom")
    assert ws.read_bytes() == before
    assert sorted(os.listdir(target)) == ["b.gpkg"]
    assert _leftovers(tmp_path) == []
