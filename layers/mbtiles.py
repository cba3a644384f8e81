"""MBTiles 1.3 files (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md): a SQLite file with a
``metadata`` table (name, value) and a ``tiles`` table (zoom_level, tile_column, tile_row, tile_data).

Tiles are addressed here as web maps address them (XYZ: row 0 at the north); the file stores TMS rows (row 0
at the south), so every row is flipped on the way in and out. The writer only ever writes a fresh file (the
caller stages it beside its destination and moves it into place, ``layers.output.staged_files``)."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterator


def tms_row(z: int, y: int) -> int:
    """The TMS row of XYZ row ``y`` at zoom ``z`` (and back: the flip is its own inverse)."""
    return (1 << z) - 1 - y


class MBTilesWriter:
    """Writes a new MBTiles file: ``add`` tiles, ``set_metadata``, then ``close`` (one transaction)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(self.path)
        self.conn = sqlite3.connect(self.path)
        # a fresh file nobody else reads, moved into place only when complete: no journal needed
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA application_id=0x4d504258")  # 'MPBX', as the spec recommends
        self.conn.execute("CREATE TABLE metadata (name text, value text)")
        self.conn.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
                          " tile_data blob)")
        self.conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")

    def add(self, z: int, x: int, y: int, data: bytes) -> None:
        """Store the tile of XYZ address ``z/x/y``."""
        self.conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, tms_row(z, y), sqlite3.Binary(data)))

    def set_metadata(self, values: dict[str, str]) -> None:
        self.conn.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata table of an MBTiles file."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as conn:
        return dict(conn.execute("SELECT name, value FROM metadata").fetchall())


def read_tiles(path: str | Path) -> Iterator[tuple[int, int, int, bytes]]:
    """Every tile of an MBTiles file as (z, x, XYZ row y, data)."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as conn:
        for z, x, row, data in conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
            yield z, x, tms_row(z, row), bytes(data)


def table_names(path: str | Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
