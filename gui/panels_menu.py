"""View → Show panel: bring a tab of the side panel forward by menu or key (Alt+1 … Alt+9)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

PANEL_ORDER = ("layers_dock", "filters_dock", "outreach_dock", "assessment_dock", "incoming_dock")


def fill_panels_menu(window, menu) -> None:
    """One entry per tab of the left side panel, in the tabs' order (e.g. Incoming again after a break)."""
    docks = [d for d in window.findChildren(QDockWidget)
             if window.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea]
    docks.sort(key=lambda d: PANEL_ORDER.index(d.objectName()) if d.objectName() in PANEL_ORDER else 99)
    for n, dock in enumerate(docks, start=1):
        action = menu.addAction(dock.windowTitle().split(" (")[0])
        action.setShortcut(QKeySequence(f"Alt+{n}"))
        action.triggered.connect(lambda _checked=False, d=dock: (d.show(), d.raise_(), d.widget().setFocus()))
