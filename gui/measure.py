"""Tools → Measure (Ctrl+Shift+M): click points on the map; the length of the path and the area it
encloses are shown in the status bar, measured on the ellipsoid (mapping/measure.py).

It borrows the map's polygon-drawing mode (the page draws the points and the
outline as you click; double-click or Enter finishes, Esc cancels), so a
measurement needs three points; the length is that of the open path through
them, in the order clicked, and the area that of the closed shape.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from layers.i18n import _, ngettext
from mapping.measure import area_and_perimeter, format_area, format_length, path_length, polygon_points


class MeasureTool(QWidget):
    """The measure command and its status-bar panel (shown while measuring or showing a result)."""

    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.points: list[tuple[float, float]] = []
        self.result: dict | None = None
        self.label = QLabel(self)
        self.label.setAccessibleName(_("Measurement"))
        self.again = QPushButton(_("Measure again"), self)
        self.close_button = QPushButton(_("Close"), self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.again, self.close_button):
            layout.addWidget(w)
        self.again.clicked.connect(lambda: self.toggle(True))
        self.close_button.clicked.connect(lambda: self.toggle(False))
        session.polygon_drawn.connect(self._on_drawn)
        session.mode_changed.connect(self._on_mode)
        self.hide()

    @property
    def measuring(self) -> bool:
        return self.session.mode == "polygon" and self.session.mode_owner is self

    def toggle(self, on: bool | None = None) -> None:
        """Start measuring (the next clicks on the map draw), or stop and hide the panel."""
        if on is None:
            on = not self.measuring
        if on:
            self.result = None
            self.session.set_mode("polygon", owner=self)
            self.label.setText(_("Measure: click points on the map; double-click or Enter to finish, Esc to cancel"))
            self.again.hide()
            self.show()
        else:
            if self.measuring:
                self.session.set_mode(None)
            self.hide()

    def _on_mode(self, _mode) -> None:
        if not self.measuring and self.result is None:
            self.hide()  # cancelled (Esc), or another tool took the map

    def _on_drawn(self, owner, polygon) -> None:
        if owner is not self:
            return
        self.show_result(polygon_points(polygon))

    def show_result(self, points: list[tuple[float, float]]) -> dict:
        """Measure the path through ``points`` ((lon, lat)) and the shape they close; show and return it."""
        self.points = list(points)
        length = path_length(self.points)
        area, perimeter = area_and_perimeter(self.points)
        self.result = {"length_m": length, "area_m2": area, "perimeter_m": perimeter}
        self.label.setText(ngettext("{n} point · path {length} · area {area} (perimeter {perimeter})",
                                    "{n} points · path {length} · area {area} (perimeter {perimeter})",
                                    len(self.points)).format(
            n=len(self.points), length=format_length(length), area=format_area(area),
            perimeter=format_length(perimeter)))
        self.again.show()
        self.show()
        return self.result
