"""Map bookmarks live in the workspace, with history, and never leave it in a share export."""
from __future__ import annotations

import sqlite3

import pytest

from audit.check import check_workspace
from layers.bookmarks import TABLE, add_bookmark, delete_bookmark, list_bookmarks
from layers.errors import LanternError
from layers.workspace import Workspace


def test_no_table_until_the_first_bookmark(workspace):
    assert list_bookmarks(workspace.db.conn) == []
    assert workspace.db.conn.execute("SELECT 1 FROM sqlite_master WHERE name=?", (TABLE,)).fetchone() is None


def test_add_list_delete_and_the_workspace_still_checks_clean(workspace):
    a = add_bookmark(workspace, "  Centrālā stacija ", 56.946, 24.121, 16, author="Anna")
    add_bookmark(workspace, "Āgenskalns", 56.93, 24.07, 15)
    assert [b.name for b in list_bookmarks(workspace.db.conn)] == ["Āgenskalns", "Centrālā stacija"]
    assert (a.lat, a.lng, a.zoom) == (56.946, 24.121, 16.0)
    kind = workspace.db.conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name=?", (TABLE,)).fetchone()
    assert kind == ("attributes",)
    delete_bookmark(workspace, a.id)
    assert [b.name for b in list_bookmarks(workspace.db.conn)] == ["Āgenskalns"]
    actions = [r[0] for r in workspace.db.conn.execute("SELECT action FROM change_log WHERE table_name=?", (TABLE,))]
    assert actions == ["add bookmark", "add bookmark", "delete bookmark"]
    path = workspace.path
    workspace.close()
    result = check_workspace(path)
    assert result.ok, result.problems
    assert result.outside_edits == []


def test_an_edit_behind_the_logs_back_is_caught(workspace):
    """Positive control for the check above: the bookmarks table is one the history describes."""
    add_bookmark(workspace, "Tirgus", 56.94, 24.11, 16)
    path = workspace.path
    workspace.close()
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE {TABLE} SET lat = 0")
    conn.commit()
    conn.close()
    assert check_workspace(path).outside_edits


def test_empty_name_is_refused(workspace):
    with pytest.raises(ValueError):
        add_bookmark(workspace, "   ", 1, 2, 3)
    assert list_bookmarks(workspace.db.conn) == []


def test_read_only_workspace_refuses_and_keeps_nothing(workspace):
    workspace.claim()  # this program writes the file: a second window opens it read-only
    other = Workspace.open(workspace.path, lock_now="try")
    try:
        assert other.read_only
        with pytest.raises(LanternError):
            add_bookmark(other, "x", 1, 2, 3)
    finally:
        other.close()
    assert list_bookmarks(workspace.db.conn) == []
    add_bookmark(workspace, "x", 1, 2, 3)  # positive control: the writer may
    assert len(list_bookmarks(workspace.db.conn)) == 1
