"""Edit → Find feature (Ctrl+F): a search box over the workspace's names and addresses, offline.

The search (layers.search) runs in one worker thread on that thread's own
read-only connection, a moment after the user stops typing; answers to an
older query are dropped. Choosing a result selects a workspace feature (the
map pans to it) or, for a street or another basemap feature, shows it on the map.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QLineEdit

from gui.background import Background
from layers.catalogue import kind as get_kind
from layers.i18n import _
from layers.search import Hit, search

DEBOUNCE_MS = 200
POINT_ZOOM = 17
HIT_ROLE = Qt.ItemDataRole.UserRole + 1


def zoom_for(hit: Hit, width_px: int) -> int:
    """The Leaflet zoom at which the hit's box fits a map ``width_px`` wide (a point: street level)."""
    return POINT_ZOOM if hit.bbox is None else fit_zoom(hit.bbox, width_px)


def fit_zoom(bbox, width_px: int) -> int:
    """The Leaflet zoom at which a box (west, south, east, north) fits a map ``width_px`` wide, at most street
    level."""
    west, south, east, north = bbox
    if not all(math.isfinite(v) for v in bbox):
        return POINT_ZOOM
    lat = (south + north) / 2
    span = max(east - west, (north - south) / max(math.cos(math.radians(lat)), 0.1), 1e-6)
    return max(3, min(POINT_ZOOM, int(math.log2(max(width_px, 256) * 360 / (256 * span)))))


class FindBar(QLineEdit):
    """The find box; its popup lists what matches, best first."""


    def __init__(self, session, map_view, notify, parent=None):
        super().__init__(parent)
        self.session, self.map_view, self.notify = session, map_view, notify
        self.setPlaceholderText(_("Find a place, street or address… (Ctrl+F)"))
        self.setAccessibleName(_("Find a feature by name or address"))
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(280)
        self.hits: list[Hit] = []
        self.model = QStandardItemModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.setCompleter(self.completer)
        self.completer.activated[QModelIndex].connect(self._on_activated)
        self._search = Background("lantern-find")
        self._query = 0
        self.answered = 0  # the query whose hits are shown
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self._start)
        self.textEdited.connect(lambda _text: self._timer.start())
        self.returnPressed.connect(self._on_return)
        self._search.answered.connect(self._on_found)
        session.opened.connect(self._reset)

    def start(self) -> None:
        """Ctrl+F: put the cursor in the box."""
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.selectAll()

    @property
    def settled(self) -> bool:
        """The hits shown answer what is in the box now."""
        return not self._timer.isActive() and self.answered == self._query

    def _reset(self) -> None:
        self._query += 1
        self.hits = []
        self.model.clear()
        self.clear()

    def _start(self) -> None:
        self._query += 1
        number, text, frames = self._query, self.text(), self.session.frames
        if self.session.workspace is None or not text.strip():
            self._on_found(number, [])
            return

        def run():
            return search(frames.connection(), text)

        self._search.submit(number, run)

    def _on_found(self, number: int, hits) -> None:
        if number != self._query:
            return  # an answer to what the user typed before
        self.answered = number
        if isinstance(hits, BaseException):
            self.notify.status(_("The search failed: {error}").format(error=hits), 8000)
            hits = []
        self.hits = list(hits)
        self.model.clear()
        for hit in self.hits:
            item = QStandardItem(_("{label} — {layer}").format(label=hit.label, layer=get_kind(hit.kind).label))
            item.setData(hit, HIT_ROLE)
            self.model.appendRow(item)
        if self.hits and self.hasFocus():
            self.completer.complete()
        elif not self.hits and self.text().strip():
            self.notify.status(_("Nothing named “{text}” in this workspace").format(text=self.text().strip()), 4000)

    def _on_return(self) -> None:
        if self.hits and not self.completer.popup().isVisible():
            self.choose(self.hits[0])

    def _on_activated(self, index: QModelIndex) -> None:
        hit = index.data(HIT_ROLE)
        if hit is not None:
            self.choose(hit)

    def choose(self, hit: Hit) -> None:
        """Select a workspace feature, or show a basemap feature (a street) on the map."""
        if hit.kind in self.session.frames and not get_kind(hit.kind).is_basemap:
            self.session.select(hit.kind, hit.fid, pan=True)
        elif hit.lat is not None:
            zoom = zoom_for(hit, self.map_view.width())
            self.map_view.run_js(f"lantern.setView({float(hit.lat)!r}, {float(hit.lon)!r}, {int(zoom)});")
        self.notify.status(_("Found: {label}").format(label=hit.label), 6000)

    def dispose(self) -> None:
        self._query += 1
        self._search.shutdown()
