"""The open workspace's layers, read when first asked for, from whichever thread asks.

Opening a city workspace used to read every layer (300,000 buildings, a
million cases: 27 s) before the window could show anything. Now a layer is
read the first time something needs its rows; the window's map asks only
for what is in view (:mod:`mapping.viewport_index`), and a worker may read a
layer ahead of need. Reads from another thread use their own read-only
connection, so they never touch the window's connection.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping

from layers.layer_reader import ThreadConnections, read_frame


class LayerFrames(Mapping):
    """kind id → GeoDataFrame, loaded on first access (``in`` and iteration load nothing)."""

    def __init__(self, workspace=None, kinds=()):
        self._ws = workspace
        self._kinds = list(kinds)
        self._frames: dict = {}
        self._locks = {k: threading.Lock() for k in self._kinds}
        self._owner = threading.get_ident()
        self._conns = ThreadConnections(workspace.path) if workspace is not None else None

    def __getitem__(self, kind_id: str):
        if kind_id not in self._locks:
            raise KeyError(kind_id)
        frame = self._frames.get(kind_id)
        if frame is not None:
            return frame
        with self._locks[kind_id]:
            frame = self._frames.get(kind_id)
            if frame is None:
                frame = self._frames[kind_id] = read_frame(self.connection(), kind_id)
        return frame

    def connection(self):
        """The workspace's connection in the thread that opened it, else this thread's read-only one."""
        return self._ws.db.conn if threading.get_ident() == self._owner else self._conns.get()

    def __contains__(self, kind_id) -> bool:
        return kind_id in self._locks

    def __iter__(self):
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def is_loaded(self, kind_id: str) -> bool:
        return kind_id in self._frames

    def invalidate(self, kind_id: str) -> None:
        """Forget a layer's rows (it changed): the next access reads it again."""
        self._frames.pop(kind_id, None)

    def close(self) -> None:
        self._frames.clear()
        if self._conns is not None:
            self._conns.close()
