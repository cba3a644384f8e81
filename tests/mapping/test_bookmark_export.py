"""Bookmarks are the team's working views: a share export never carries them."""
from __future__ import annotations

import sqlite3

from layers.bookmarks import TABLE, add_bookmark
from layers.workspace import Workspace
from mapping.share_export import export

SECRET = "Bookmark-Kuģu-iela-stakeout"


def test_share_export_holds_no_bookmark_table(demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        add_bookmark(ws, SECRET, 56.95, 24.1, 16)
        name = ws.db.conn.execute("SELECT name FROM services WHERE name IS NOT NULL LIMIT 1").fetchone()[0]
        files, _ = export(ws, "partner", "gpkg", tmp_path / "out.gpkg", author="t")
    data = b"".join(f.read_bytes() for f in files)
    assert name.encode() in data  # positive control: the export does carry the workspace's named services
    assert SECRET.encode() not in data
    out = next(f for f in files if f.suffix == ".gpkg")
    conn = sqlite3.connect(out)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "services" in tables and TABLE not in tables
