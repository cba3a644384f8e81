"""Verify a workspace: SQLite integrity, GeoPackage registration, the change-log hash chain."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from audit import changelog
from layers.i18n import _
from layers.migrations import CHANGE_LOG_TABLE, META_TABLE

GPKG_APPLICATION_ID = 0x47504B47


@dataclass
class CheckResult:
    problems: list[str]
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _user_tables(conn) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    skip = ("gpkg_", "rtree_", "sqlite_")
    return [r[0] for r in rows if not r[0].startswith(skip)]


def check_workspace(path: str | Path) -> CheckResult:
    path = Path(path)
    if not path.is_file():
        return CheckResult([_("{name}: no such file").format(name=path.name)])
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            integrity = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return CheckResult([_("{name}: not an SQLite database ({e})").format(name=path.name, e=exc)])
        problems = []
        if integrity != [("ok",)]:
            problems.append(_("SQLite integrity check failed: {r}").format(r="; ".join(r[0] for r in integrity[:3])))
        if conn.execute("PRAGMA application_id").fetchone()[0] != GPKG_APPLICATION_ID:
            problems.append(_("not a GeoPackage (application_id)"))
        registered = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        for table in _user_tables(conn):
            if table not in registered:
                problems.append(_("table {t} is not registered in gpkg_contents").format(t=table))
        geometry_tables = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")}
        for table, data_type in registered.items():
            if data_type == "features" and table not in geometry_tables:
                problems.append(_("feature table {t} has no entry in gpkg_geometry_columns").format(t=table))
        entries = 0
        if CHANGE_LOG_TABLE in registered:
            entries = conn.execute(f"SELECT count(*) FROM {CHANGE_LOG_TABLE}").fetchone()[0]
            head = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (changelog.HEAD_KEY,)).fetchone()
            problem = changelog.verify(conn, head[0] if head else None)
            if problem is not None:
                problems.append(str(problem))
        return CheckResult(problems, entries)
    finally:
        conn.close()
