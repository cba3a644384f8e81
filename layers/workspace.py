"""The workspace: one district = one GeoPackage 1.3 file.

Feature tables (one per layer kind, EPSG:4326) are created by GDAL through
pyogrio, so every GIS reads them. Edits go through one sqlite3 connection in
explicit transactions (``Workspace.atomic``): there is no unsaved state, and
a failed edit leaves the file exactly as it was. Non-spatial tables are
written with sqlite-utils and registered in ``gpkg_contents``.
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import shapely
import sqlite_utils

from layers import gpkg_geometry, history_store, i18n, lock, migrations, place_outline, replica, row_ids
from layers.catalogue import EXTRA_COLUMN, LayerKind, kind, layer_kinds
from layers.errors import LanternError, ReadOnlyWorkspace, StorageError, ValidationError, WorkspaceError
from layers.files import sibling_temp
from layers.i18n import _

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
SRS_ID = 4326
GEOMETRY_COLUMN = "geom"
FID_COLUMN = "fid"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _empty_frame(k: LayerKind):
    """An empty GeoDataFrame with the kind's column types, for GDAL to create the table."""
    import geopandas as gpd
    import pandas as pd

    dtypes = {"integer": "int64", "real": "float64", "boolean": "bool"}
    data = {f.name: pd.Series([], dtype=dtypes.get(f.type, "object")) for f in k.fields}
    if k.extra_allowed:
        data[EXTRA_COLUMN] = pd.Series([], dtype="object")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=f"EPSG:{SRS_ID}"))


def _create_feature_table(path: Path, k: LayerKind, first: bool) -> None:
    import pyogrio

    pyogrio.write_dataframe(
        _empty_frame(k),
        path,
        layer=k.id,
        driver="GPKG",
        geometry_type="Point" if k.geometry == "Geometry" else k.geometry,  # a place: its position (+ outline)
        promote_to_multi=k.geometry.startswith("Multi"),
        dataset_options={"VERSION": "1.3"} if first else None,
        layer_options={"FID": FID_COLUMN, "GEOMETRY_NAME": GEOMETRY_COLUMN, "DESCRIPTION": k.en},
        append=not first,
    )


def _connect(path: Path) -> sqlite_utils.Database:
    # timeout = busy_timeout: a reader waits out another process's commit instead of failing
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    gpkg_geometry.register_functions(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    replica.capture_changes(conn)  # a copy of a shared workspace records what changes in it
    return sqlite_utils.Database(conn)


# -- faults: one message naming the file ------------------------------------------------

_JOURNAL_MAGIC = b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"  # header of a live (hot) rollback journal


def storage_error(path: str | Path, exc: BaseException, nothing: str | None = None) -> LanternError | None:
    """The user's message for a storage fault (full disk, read-only place, no permission, I/O error,
    another writer), or None when ``exc`` is something else (a bug must stay visible)."""
    path = Path(path)
    nothing = nothing or _("nothing was changed")
    if isinstance(exc, LanternError):
        return exc
    text = str(exc).lower()
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    name = getattr(exc, "sqlite_errorname", "") or ""
    if code in (errno.ENOSPC, errno.EDQUOT) or name == "SQLITE_FULL" or "disk is full" in text \
            or "no space left" in text:
        problem = _("the disk is full")
    elif code == errno.EROFS or "read-only file system" in text or name.startswith("SQLITE_READONLY") \
            or "readonly database" in text:
        problem = _("the file or its folder is read-only")
    elif code in (errno.EACCES, errno.EPERM) or "permission denied" in text or name.startswith("SQLITE_CANTOPEN") \
            or "unable to open database file" in text:
        problem = _("permission denied (the file or its folder cannot be written)")
    elif code == errno.EIO or name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        problem = _("the disk reported an input/output error")
    elif name.startswith("SQLITE_BUSY") or "database is locked" in text:
        return lock.WorkspaceLocked(path, lock.holder(path), 5.0)
    else:
        return None
    return StorageError(path, f"{problem}; {nothing}")


def _has_hot_journal(path: Path) -> bool:
    try:
        with open(path.with_name(path.name + "-journal"), "rb") as fh:
            return fh.read(len(_JOURNAL_MAGIC)) == _JOURNAL_MAGIC
    except OSError:
        return False


def recover_interrupted_write(path: str | Path) -> bool:
    """Roll back a write that a crash interrupted (SQLite's "hot journal"); True if one was rolled back.

    SQLite undoes such a write on the next read-write open, never on a
    read-only one, which then misreads the file. So every command and
    :meth:`Workspace.open` call this first. A journal that belongs to a live
    writer (it holds the Lantern lock, or SQLite's own lock) is left alone.
    """
    path = Path(path)
    if not path.is_file() or not _has_hot_journal(path) or lock.holder(path) is not None:
        return False
    try:
        conn = sqlite3.connect(path, timeout=5.0)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read rolls back
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if storage_error(path, exc) is None:
            raise WorkspaceError(_("{name}: not a GeoPackage ({error})").format(name=path.name, error=exc)) from None
        raise StorageError(path, _(
            "a write was interrupted (a crash or power loss left {journal}), and it can only be undone with "
            "write access to the file and its folder ({e}). The data is not lost: copy both files to a place "
            "you can write and open the copy.").format(journal=path.name + "-journal", e=exc)) from None
    return not _has_hot_journal(path)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _read_only_place(path: Path) -> bool:
    folder = path.parent if str(path.parent) else Path(".")
    return not (os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK))


def _open_database(path: Path) -> tuple[sqlite_utils.Database, int]:
    """Connect to a Lantern workspace and read its schema version; anything else is refused."""
    try:
        db = _connect(path)
        app_id = db.conn.execute("PRAGMA application_id").fetchone()[0]
        version = migrations.current_version(db.conn)
    except sqlite3.DatabaseError as exc:
        error = storage_error(path, exc)
        if isinstance(error, StorageError):
            raise error from None
        raise WorkspaceError(_("{name}: not a GeoPackage ({error})").format(name=path.name, error=exc)) from exc
    if app_id != GPKG_APPLICATION_ID:
        db.close()
        raise WorkspaceError(_("{name}: not a GeoPackage file").format(name=path.name))
    if version == 0:
        db.close()
        raise WorkspaceError(_("{name}: a GeoPackage, but not a Lantern workspace").format(name=path.name))
    return db, version


#: called with each notice of a workspace when it is opened (the CLI prints them on stderr)
notice_hooks: list = []


class Workspace:
    """An open workspace file. Use :meth:`create` or :meth:`open`.

    ``recovered``: an interrupted write was rolled back when it was opened.
    ``read_only``: None, or why every write is refused (a newer schema, a
    read-only place, another writer holding it). ``notices``: what to tell the
    user about this file (recovery, read-only) — the CLI prints them, the
    window shows them in its status bar.
    """

    def __init__(self, path: Path, db: sqlite_utils.Database, what: str | None = None):
        self.path = path
        self.db = db
        self.recovered = False
        self.read_only: str | None = None
        self.notices: list[str] = []
        self._lock = lock.WriteLock(path, what)
        self._seen_identity = _identity(path)
        self._seen_version: tuple[int, int] | None = None
        self._remember_version()

    # -- life cycle -----------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, name: str = "", overwrite: bool = False) -> "Workspace":
        """Create a new, empty workspace. Written to a temporary file first, so
        a failure never leaves a half-made workspace behind."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise WorkspaceError(_("{path} already exists").format(path=path))
        if path.exists() and lock.holder(path) is not None:
            raise lock.WorkspaceLocked(path, lock.holder(path), 0)
        try:
            cls._build(path, name)
        except (OSError, sqlite3.Error) as exc:
            raise (storage_error(path, exc, _("no workspace was written")) or exc) from exc
        return cls.open(path)

    @classmethod
    def _build(cls, path: Path, name: str) -> None:
        with sibling_temp(path) as tmp:
            for i, k in enumerate(layer_kinds().values()):
                _create_feature_table(tmp, k, first=(i == 0))
            db = _connect(tmp)
            try:
                migrations.migrate(db)
                with db.atomic():
                    migrations.set_meta(db, "name", name or path.stem)
                    migrations.set_meta(db, "created", _now())
                    migrations.set_meta(db, "application", "Lantern")
            finally:
                db.close()
            os.replace(tmp, path)

    @classmethod
    def open(cls, path: str | Path, *, lock_now: bool | str = False, what: str | None = None) -> "Workspace":
        """Open a workspace: roll back an interrupted write, check the schema, apply pending migrations.

        The write lock is taken at the first write (:meth:`atomic`) and held
        until :meth:`close`. ``lock_now=True`` takes it at once (waiting
        briefly, then raising :class:`layers.lock.WorkspaceLocked`);
        ``lock_now="try"`` does the same but opens read-only, saying who holds
        it, instead of raising (the window). A workspace of a newer schema, or
        in a place that cannot be written, opens read-only with a message.
        """
        path = Path(path)
        if not path.is_file():
            raise WorkspaceError(_("{path}: no such file").format(path=path))
        recovered = recover_interrupted_write(path)
        db, version = _open_database(path)
        ws = cls(path, db, what)
        ws._note_recovery(recovered)
        try:
            ws._settle(version, lock_now)
        except BaseException:
            ws.close()
            raise
        ws._announce_notices()
        return ws

    def _note_recovery(self, recovered: bool) -> None:
        """Remember whether an interrupted write was rolled back on opening, and tell the user if so."""
        self.recovered = recovered
        if recovered:
            self.notices.append(_("{name}: a write interrupted by a crash was rolled back; the workspace is as it "
                                  "was after the last completed change").format(name=self.path.name))

    def _settle(self, version: int, lock_now: bool | str) -> None:
        """Open read-only (newer schema, read-only place), or take the lock as asked and migrate what is pending."""
        name = self.path.name
        if version > migrations.latest_version():
            self._set_read_only(_("{name} was written by a newer version of Lantern (schema {v}; this version "
                                  "knows up to {latest}). It is open read-only: update Lantern to change it.")
                                .format(name=name, v=version, latest=migrations.latest_version()))
        elif _read_only_place(self.path):
            self._set_read_only(_("{name} is in a place that cannot be written (the file or its folder is "
                                  "read-only). It is open read-only.").format(name=name))
        else:
            pending = version < migrations.latest_version() or self._missing_kinds()
            if pending or lock_now is True:
                self.claim()
            elif lock_now == "try":
                self._try_claim()
            if pending:
                self._migrate_on_open()
            if not self.read_only:
                self._upkeep()

    def _upkeep(self) -> None:
        """What opening keeps true, when it is not: the outline copies GIS programs read (remade if a program
        changed them) and QGIS's styles, aliases and value lists in the user's language. Never waits for
        the write lock: when another writer holds it, the next open does it. A lock taken here is let go."""
        kinds = layer_kinds().values()
        stale = place_outline.copy_differences(self.db.conn, kinds)
        language = self.metadata.get("qgis_language") != i18n.language()
        if not stale and not language:
            return
        held = self.holds_lock
        if not held:
            try:
                self.claim(wait=0)
            except lock.WorkspaceLocked:
                return
        try:
            with self.atomic():
                for k in kinds:
                    if place_outline.outline_table(k.id) in stale:
                        place_outline.create_outline_table(self.db.conn, k)
                migrations.write_qgis_metadata(self.db)
        except (sqlite3.Error, LanternError) as exc:  # upkeep: the workspace opens all the same
            self.notices.append(_("{name}: could not bring up to date what GIS programs read ({e}); the next "
                                  "opening tries again").format(name=self.path.name, e=exc))
            return
        finally:
            if not held:
                self._lock.release()
        if stale:
            self.notices.append(_("{name}: made again {tables}, the copy of the places' outlines that GIS programs "
                                  "show (a program had changed it)").format(name=self.path.name,
                                                                             tables=", ".join(sorted(stale))))

    def _try_claim(self) -> None:
        """Take the write lock, or open read-only saying who holds it."""
        try:
            self.claim()
        except lock.WorkspaceLocked as exc:
            who = exc.holder.describe() if exc.holder else _("another program")
            self._set_read_only(_("{name} is being changed by {who}; it is open read-only here").format(
                name=self.path.name, who=who))

    def _migrate_on_open(self) -> None:
        """Apply pending migrations and add missing layer tables; a storage failure says nothing was upgraded."""
        try:
            migrations.migrate(self.db)
            self._ensure_kind_tables()
        except (OSError, sqlite3.Error) as exc:
            raise (storage_error(self.path, exc, _("the workspace was not upgraded")) or exc) from exc

    def _announce_notices(self) -> None:
        """Pass every notice of this workspace to the notice hooks (the CLI prints them)."""
        for notice in self.notices:
            for hook in notice_hooks:
                hook(notice)

    def _set_read_only(self, reason: str) -> None:
        self.read_only = reason
        self.notices.append(reason)
        self.db.conn.execute("PRAGMA query_only = ON")  # even a write that bypasses atomic() is refused

    def _missing_kinds(self) -> list:
        return [k for k in layer_kinds().values() if not self.db[k.id].exists()]

    def _ensure_kind_tables(self) -> None:
        """Kinds added to the catalogue after the workspace was made get their table."""
        missing = self._missing_kinds()
        if not missing:
            return
        self.db.close()
        try:
            for k in missing:
                _create_feature_table(self.path, k, first=False)
        finally:
            self.db = _connect(self.path)
            self._remember_version()
        with self.db.atomic():
            for k in missing:
                migrations.fit_kind_table(self.db, k)
            migrations.write_qgis_metadata(self.db)

    # -- one writer -----------------------------------------------------------------------

    def claim(self, wait: float | None = None) -> None:
        """Take the workspace's write lock (held until :meth:`close`); another writer waits, then gets
        WorkspaceLocked naming the holder. Raises ReadOnlyWorkspace when the workspace is read-only."""
        if self.read_only:
            raise ReadOnlyWorkspace(self.read_only)
        self._lock.acquire(wait)

    @property
    def holds_lock(self) -> bool:
        return self._lock.held

    # -- changes made by others -------------------------------------------------------------

    def _remember_version(self) -> None:
        try:
            self._seen_version = (id(self.db.conn), self.db.conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self._seen_version = None

    def changed_on_disk(self) -> str | None:
        """What happened to the file since we last looked: None, "changed" (another connection or program
        committed a change), "replaced" (another file now has this name) or "missing". Cheap; poll it."""
        identity = _identity(self.path)
        if identity is None:
            return "missing"
        if identity != self._seen_identity:
            return "replaced"
        try:
            version = self.db.conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return None
        if self._seen_version is None or self._seen_version[0] != id(self.db.conn):
            self._remember_version()  # a new connection of our own (after a GDAL write): new baseline
            return None
        if version != self._seen_version[1]:
            self._remember_version()
            return "changed"
        return None

    def sync_with_disk(self) -> str | None:
        """Follow changes made on disk by someone else; returns a message for the user, or None.

        A changed file needs only a re-read (the caller reloads); a replaced
        file is reopened under this same object (connection swapped, lock kept).
        """
        what = self.changed_on_disk()
        if what is None:
            return None
        if what == "missing":
            return _("{name} was moved or deleted on disk; what is shown is the last state read").format(
                name=self.path.name)
        if what == "replaced":
            if self.db.conn.in_transaction:
                return None
            recover_interrupted_write(self.path)
            old = self.db
            try:
                self.db = _connect(self.path)
            except sqlite3.Error:
                return None
            old.close()
            self._seen_identity = _identity(self.path)
            self._remember_version()
            if self.read_only:
                self.db.conn.execute("PRAGMA query_only = ON")
            return _("{name} was replaced on disk by another program; reloaded").format(name=self.path.name)
        return _("{name} was changed by another program; reloaded").format(name=self.path.name)

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self._lock.release()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def save_as(self, path: str | Path) -> "Workspace":
        """Copy the workspace to ``path`` (SQLite's online backup) and open the copy."""
        path = Path(path)
        if path.resolve() == self.path.resolve():
            return self
        with sibling_temp(path) as tmp:
            copy_database(self.path, tmp, source=self.db.conn)
            os.replace(tmp, path)
        return Workspace.open(path)

    # -- transactions -----------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        """A transaction: everything inside is committed together or not at all.

        Takes the write lock first (see :meth:`claim`). A full disk, a
        read-only place or an I/O error ends in one StorageError naming the
        file, after the transaction was rolled back.
        """
        outer = not self.db.conn.in_transaction
        if outer:
            self.claim()
        try:
            with self.db.atomic():
                yield self.db
        except (sqlite3.Error, OSError) as exc:
            error = storage_error(self.path, exc)
            if error is None:
                raise
            raise error from exc
        finally:
            if outer:
                self._remember_version()

    # -- metadata ---------------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db[migrations.META_TABLE].rows}

    @property
    def name(self) -> str:
        return self.metadata.get("name", self.path.stem)

    @property
    def schema_version(self) -> int:
        return migrations.current_version(self.db.conn)

    def set_metadata(self, key: str, value: str) -> None:
        with self.atomic() as db:
            migrations.set_meta(db, key, value)

    def layer_info(self, kind_id: str) -> dict:
        rows = list(self.db[migrations.LAYER_INFO_TABLE].rows_where("table_name = ?", [kind_id]))
        info = rows[0] if rows else {"table_name": kind_id, "synthetic": 0, "source": "", "updated": ""}
        info.pop("id", None)
        return info

    def set_layer_info(self, kind_id: str, *, synthetic: bool | None = None, source: str | None = None) -> None:
        info = self.layer_info(kind_id)
        if synthetic is not None:
            info["synthetic"] = int(synthetic)
        if source is not None:
            info["source"] = source
        info["updated"] = _now()
        columns = ", ".join(info)
        updates = ", ".join(f"{c} = excluded.{c}" for c in info if c != "table_name")
        with self.atomic() as db:
            db.conn.execute(
                f"INSERT INTO {migrations.LAYER_INFO_TABLE} ({columns}) VALUES ({', '.join('?' * len(info))})"
                f" ON CONFLICT(table_name) DO UPDATE SET {updates}",
                list(info.values()),
            )

    def set_partner_layer(self, table: str, label: str) -> None:
        """Mark an imported partner table: read-only, labelled with its origin."""
        with self.atomic() as db:
            db.conn.execute(
                f"INSERT INTO {migrations.LAYER_INFO_TABLE} (table_name, synthetic, source, updated) VALUES (?, 0, ?, ?)"
                " ON CONFLICT(table_name) DO UPDATE SET source = excluded.source",
                (table, label, _now()),
            )

    def partner_layers(self) -> dict[str, str]:
        """Imported partner tables (read-only) and their labels."""
        rows = self.db.conn.execute(
            f"SELECT table_name, source FROM {migrations.LAYER_INFO_TABLE} WHERE source LIKE 'Partner: %'"
        ).fetchall()
        return {t: label for t, label in rows if self.db[t].exists()}

    def read_table(self, table: str):
        """An attributes table (annotations, answers, action plan) as a DataFrame, in row order."""
        import pandas as pd

        columns = list(self.db[table].columns_dict)
        return pd.DataFrame(list(self.db[table].rows_where(order_by="rowid")), columns=columns)

    def read_partner_layer(self, table: str):
        import pyogrio

        return place_outline.join_frame(pyogrio.read_dataframe(self.path, layer=table))

    # -- rows: get / insert / update / delete (thin wrappers over sqlite-utils) -------------

    @staticmethod
    def primary_key(table: str) -> str:
        """The key column of ``table``: ``fid`` for feature tables, ``id`` for attributes tables."""
        return FID_COLUMN if table in layer_kinds() else "id"

    def get_row(self, table: str, row_id: int) -> dict | None:
        """The row ``row_id`` of ``table`` as a dict of every column, or None when there is none."""
        try:
            return self.db[table].get(row_id)
        except sqlite_utils.db.NotFoundError:
            return None

    def insert_row(self, table: str, values: dict) -> int:
        """Insert one row (call inside :meth:`atomic`); its rowid (from this copy's id block, when shared)."""
        new_id = row_ids.next_ids(self.db.conn, table)
        if new_id is not None:
            values = {self.db[table].pks[0]: new_id, **values}
        return self.db[table].insert(values).last_rowid

    def update_row(self, table: str, row_id: int, values: dict) -> None:
        """Set ``values`` on the row ``row_id`` (call inside :meth:`atomic`)."""
        self.db[table].update(row_id, values)

    def delete_row(self, table: str, row_id: int) -> None:
        """Delete the row ``row_id`` (call inside :meth:`atomic`)."""
        self.db[table].delete(row_id)

    # -- features ---------------------------------------------------------------------

    def count(self, kind_id: str) -> int:
        """Rows of a layer: GeoPackage's own count where its triggers keep it (a lookup, where counting a
        city's 300,000 buildings reads the table), else counted."""
        from layers.queries import kept_feature_count

        kind(kind_id)
        kept = kept_feature_count(self.db.conn, kind_id)
        if kept is not None:
            return kept
        return self.db.conn.execute(f'SELECT count(*) FROM "{kind_id}"').fetchone()[0]

    def read_layer(self, kind_id: str):
        """The layer as a GeoDataFrame indexed by fid (EPSG:4326)."""
        from layers.layer_reader import read_frame

        return read_frame(self.db.conn, kind_id)

    def insert_rows(self, kind_id: str, rows: list[dict], geometries) -> list[int]:
        """Insert already-validated rows (see layers.features) in one transaction.

        Returns the new fids. Call inside :meth:`atomic` to combine with other edits.
        """
        kind(kind_id)
        if len(rows) != len(geometries):
            raise ValidationError("rows and geometries differ in length")
        columns = {c: [row.get(c) for row in rows] for c in kind(kind_id).columns}
        return list(self.insert_columns(kind_id, columns, geometries))

    def insert_columns(self, kind_id: str, columns: dict[str, list], geometries) -> range:
        """Insert already-validated rows given column by column (PreparedFeatures.columns); the new fids."""
        with self.atomic():
            bulk = self.bulk_insert(kind_id)
            fids = bulk.add(columns, geometries)
            bulk.close()
        return fids

    def bulk_insert(self, kind_id: str, source: str | None = None, author: str = "") -> "BulkInsert":
        """A writer that appends batches of rows to a layer inside the current transaction (call inside
        :meth:`atomic`, and ``close`` it before the transaction ends). With ``source`` each batch is
        logged as an import entry of the change log."""
        return BulkInsert(self, kind_id, source, author)

    def log_import(self, kind_id: str, source: str, fids: list[int], author: str = "") -> None:
        """One change-log entry for a bulk import: what came from where, and a digest of the rows."""
        fids = sorted(int(f) for f in fids)
        hashes = history_store.row_hashes(self.db.conn, kind_id, fids)
        _log_rows(self, kind_id, {"source": source}, hashes, author)

    def delete_rows(self, kind_id: str, fids: list[int]) -> None:
        kind(kind_id)
        with self.atomic() as db:
            db.conn.executemany(f'DELETE FROM "{kind_id}" WHERE {FID_COLUMN} = ?', [(int(f),) for f in fids])
            self._touch_contents(kind_id)

    def touch(self, table: str, geometry: bool = True) -> None:
        """Record an edit of ``table`` in gpkg_contents (and its extent, for feature tables whose geometries may
        have changed: reading every geometry again for a renamed place cost 0.15 s on a city's layer)."""
        if table in layer_kinds() and geometry:
            self._touch_contents(table)
        else:
            self.db.conn.execute("UPDATE gpkg_contents SET last_change=? WHERE table_name=?", (_now(), table))

    def _touch_contents(self, kind_id: str, extent: tuple | None = None) -> None:
        """Keep gpkg_contents' extent and last_change true after an edit (``extent``: the exact extent,
        when the caller knows it; else it is read from every row)."""
        g = GEOMETRY_COLUMN  # exact bounds: the R-tree holds rounded 32-bit floats
        ext = extent or self.db.conn.execute(
            f'SELECT min(ST_MinX("{g}")), min(ST_MinY("{g}")), max(ST_MaxX("{g}")), max(ST_MaxY("{g}"))'
            f' FROM "{kind_id}"'
        ).fetchone()
        self.db.conn.execute(
            "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? WHERE table_name=?",
            (*ext, _now(), kind_id),
        )
        if place_outline.has_outline(kind(kind_id)):
            place_outline.update_outline_extent(self.db.conn, kind_id)

    def bounds(self, tables=None) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of ``tables`` (default: every feature table), or None when empty."""
        names = list(tables if tables is not None else layer_kinds())
        kinds = layer_kinds()
        names += [place_outline.outline_table(n) for n in names if n in kinds and place_outline.has_outline(kinds[n])]
        marks = ",".join("?" * len(names))
        row = self.db.conn.execute(
            f"SELECT min(min_x), min(min_y), max(max_x), max(max_y) FROM gpkg_contents"
            f" WHERE data_type='features' AND table_name IN ({marks})",
            names,
        ).fetchone()
        return None if row[0] is None else tuple(row)


def copy_database(src: Path, dst: Path, source: sqlite3.Connection | None = None) -> None:
    """A consistent copy (SQLite's online backup), even while the file is open elsewhere."""
    own = source is None
    source = source or sqlite3.connect(src)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        if own:
            source.close()


def _sql_value(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):  # SQLite stores NaN as NULL, and -0.0 as 0.0
        return None if value != value else value + 0.0
    if isinstance(value, bool):
        return int(value)
    return value


def _sql_column(values: list | None, n: int) -> list:
    """``_sql_value`` over a column; text and integers (most columns) pass as they are."""
    if values is None:
        return [None] * n
    if set(map(type, values)) <= {str, int, type(None)}:
        return list(values)
    return [_sql_value(v) for v in values]


# -- bulk inserts ----------------------------------------------------------------------------

#: SQLite type affinity → the Python types it stores unchanged (values of other types are converted)
_KEPT_TYPES = {"TEXT": {str}, "INTEGER": {int}, "REAL": {float}, "NUMERIC": {int}, "BLOB": {str, int, float, bytes}}


def _affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (section 3.1 of its datatype rules)."""
    t = (declared or "").upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if "BLOB" in t or not t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def _stored_as_given(columns: list[list], affinities: list[str]) -> bool:
    """Whether SQLite stores these values unchanged (so their row hashes can be computed from them)."""
    for values, affinity in zip(columns, affinities):
        kinds = set(map(type, values)) - {type(None)}
        if not kinds <= _KEPT_TYPES[affinity] | {bytes}:
            return False
    return True


def _log_rows(ws: "Workspace", kind_id: str, after: dict, hashes: dict[str, str], author: str = "") -> None:
    """One import entry: ``after`` plus the rows' count, fid range and digest; their hashes in row_hashes."""
    fids = [int(f) for f in hashes]
    history_store.append(ws.db, author=author, action="import", table=kind_id, row_id=None, before=None,
                         after={**after, "count": len(fids), "first_fid": min(fids, default=None),
                                "last_fid": max(fids, default=None),
                                "rows_sha256": history_store.rows_digest(hashes[str(f)] or "" for f in sorted(fids))},
                         hashed={kind_id: hashes})


class BulkInsert:
    """Appends batches of rows to a feature table inside the workspace's current transaction.

    GDAL's per-row insert triggers (R-tree entry, feature count) are set aside while it writes and put
    back, unchanged, by :meth:`close`; their work is done a batch at a time instead (the R-tree
    from the batch's bounds, the count once). Rows are written with ``executemany``, fids given
    explicitly (as AUTOINCREMENT would give them). With a ``source`` each batch is one signed import
    entry of the change log, its row hashes computed from the values written (or read back when SQLite
    would convert one); a rollback of the transaction undoes all of it.
    """

    def __init__(self, ws: "Workspace", kind_id: str, source: str | None, author: str):
        self.ws, self.kind, self.source, self.author = ws, kind(kind_id), source, author
        conn = ws.db.conn
        t = kind_id
        info = conn.execute(f'PRAGMA table_info("{t}")').fetchall()
        declared = {r[1]: r[2] for r in info}
        self.defaults = any(r[4] is not None for r in info if r[1] not in (FID_COLUMN, GEOMETRY_COLUMN, *self.kind.columns))
        self.outline = place_outline.has_outline(self.kind)
        self.names = [FID_COLUMN, GEOMETRY_COLUMN, *([place_outline.OUTLINE_COLUMN] if self.outline else []),
                      *self.kind.columns]
        self.affinities = [_affinity(declared.get(c, "")) for c in self.names]
        self.sql = (f'INSERT INTO "{t}" ({", ".join(chr(34) + c + chr(34) for c in self.names)})'
                    f' VALUES ({", ".join("?" * len(self.names))})')
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (t,)).fetchone() \
            if history_store.table_exists(conn, "sqlite_sequence") else None
        top = conn.execute(f'SELECT max({FID_COLUMN}), count(*) FROM "{t}"').fetchone()
        self.next_fid = row_ids.next_ids(conn, t) or max(top[0] or 0, (seq or (0,))[0] or 0) + 1
        self.had_rows = bool(top[1])
        self.triggers = _set_aside_triggers(conn, t)
        self.extent = [np.inf, np.inf, -np.inf, -np.inf]
        self.count, self.parts, self.pending = 0, 0, None
        self.index: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, columns: dict[str, list], geometries) -> range:
        """Write one batch (stored column → values, and the geometries); its fids."""
        geoms = np.asarray(geometries, dtype=object)
        n = len(geoms)
        fids = range(self.next_fid, self.next_fid + n)
        if self.outline:  # a place: its position, and its outline when it is an area (layers.place_outline)
            geoms, outlines = place_outline.split(geoms)
            blobs = [gpkg_geometry.encode(geoms, SRS_ID), gpkg_geometry.encode(outlines, SRS_ID)]
        else:
            blobs = [gpkg_geometry.encode(geoms, SRS_ID)]
        values = [list(fids), *blobs, *(_sql_column(columns.get(c), n) for c in self.kind.columns)]
        conn = self.ws.db.conn
        conn.executemany(self.sql, zip(*values))
        self._index(fids, geoms)
        self.next_fid += n
        self.count += n
        if self.source is not None:
            self._log_pending()
            self.pending = (fids, self._hashes(fids, values))
        return fids

    def _index(self, fids: range, geoms: np.ndarray) -> None:
        """The batch's R-tree entries (when GDAL's trigger was set aside) and its share of the extent."""
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not present.any():
            return
        b = shapely.bounds(geoms[present])
        self.extent = [min(self.extent[0], b[:, 0].min()), min(self.extent[1], b[:, 1].min()),
                       max(self.extent[2], b[:, 2].max()), max(self.extent[3], b[:, 3].max())]
        if self.triggers.get("rtree"):  # entries kept compact (24 bytes each) and packed by close()
            self.index.append((np.asarray(fids, dtype=np.int64)[present], gpkg_geometry.rtree_bounds(b)))

    def _hashes(self, fids: range, values: list[list]) -> dict[str, str]:
        """The row hashes of the batch just written: from its values, or read back when SQLite converted one."""
        if self.defaults or not _stored_as_given(values, self.affinities):
            return history_store.row_hashes(self.ws.db.conn, self.kind.id, fids)
        return dict(zip(map(str, fids), history_store.hash_columns(self.names, values)))

    def _log_pending(self, last: bool = False) -> None:
        if self.pending is None:
            return
        fids, hashes = self.pending
        self.parts += 1
        after = {"source": self.source}
        if self.parts > 1 or not last:
            after["part"] = self.parts
        if last and self.parts > 1:
            after.update(parts=self.parts, total=self.count)
        _log_rows(self.ws, self.kind.id, after, hashes, self.author)
        self.pending = None

    def close(self) -> None:
        """Put GDAL's triggers back, count the rows in gpkg_ogr_contents, record the extent, log the last batch."""
        conn = self.ws.db.conn
        self._fill_rtree()
        _restore_triggers(conn, self.triggers)
        if self.triggers.get("count"):
            conn.execute("UPDATE gpkg_ogr_contents SET feature_count = feature_count + ? "
                         "WHERE lower(table_name) = lower(?)", (self.count, self.kind.id))
        self._log_pending(last=True)
        known = conn.execute("SELECT min_x FROM gpkg_contents WHERE table_name=?", (self.kind.id,)).fetchone()
        exact = not self.had_rows or (known is not None and known[0] is not None)
        self.ws._touch_contents(self.kind.id, self._joined_extent() if exact else None)

    def _fill_rtree(self) -> None:
        """The R-tree of the whole layer, packed: the entries it held and the new ones."""
        rtree = self.triggers.get("rtree")
        if not rtree or not self.index:
            return
        held = self.ws.db.conn.execute(f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"').fetchall() \
            if self.had_rows else []
        ids = [np.array([r[0] for r in held], dtype=np.int64)] + [i for i, _b in self.index]
        boxes = [np.array([r[1:] for r in held], dtype=np.float32).reshape(-1, 4)] + [b for _i, b in self.index]
        gpkg_geometry.fill_rtree(self.ws.db.conn, rtree, np.concatenate(ids), np.concatenate(boxes))
        self.index = []

    def _joined_extent(self) -> tuple | None:
        row = self.ws.db.conn.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name=?",
                                      (self.kind.id,)).fetchone()
        ext = list(self.extent)
        if self.had_rows and row is not None and row[0] is not None:
            ext = [min(ext[0], row[0]), min(ext[1], row[1]), max(ext[2], row[2]), max(ext[3], row[3])]
        if not np.isfinite(ext).all():
            return (None, None, None, None) if not self.had_rows else None
        return tuple(float(v) for v in ext)


def _set_aside_triggers(conn: sqlite3.Connection, table: str) -> dict:
    """Drop GDAL's per-row insert triggers of ``table`` (R-tree entry, feature count); what ``_restore_triggers``
    needs to put them back, and the R-tree table to fill instead."""
    out: dict = {"sql": []}
    rtree_trigger = f"rtree_{table}_{GEOMETRY_COLUMN}_insert"
    count_trigger = f"trigger_insert_feature_count_{table}"
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=?",
                                  (table,)).fetchall():
        if name in (rtree_trigger, count_trigger):
            out["sql"].append(sql)
            conn.execute(f'DROP TRIGGER "{name}"')
            out["rtree" if name == rtree_trigger else "count"] = f"rtree_{table}_{GEOMETRY_COLUMN}" \
                if name == rtree_trigger else True
    return out


def _restore_triggers(conn: sqlite3.Connection, triggers: dict) -> None:
    for sql in triggers["sql"]:
        conn.execute(sql)
    triggers["sql"] = []
