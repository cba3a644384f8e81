"""View → Bookmarks: named map views kept in the workspace (Ctrl+B adds the current one).

The storage is layers/bookmarks.py; this module asks for a name, fills the
menu each time it opens, moves the map, and offers a small dialog to delete.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from layers.bookmarks import Bookmark, add_bookmark, delete_bookmark, list_bookmarks
from layers.errors import LanternError
from layers.i18n import _, decimal


def _go(map_view, bookmark: Bookmark) -> None:
    map_view.run_js(f"lantern.setView({float(bookmark.lat)!r}, {float(bookmark.lng)!r}, {float(bookmark.zoom)!r});")


class Bookmarks(QObject):
    """The commands: add the current view, go to a bookmark, manage (delete) them."""

    def __init__(self, session, map_view, notify, parent=None):
        super().__init__(parent)
        self.session, self.map_view, self.notify = session, map_view, notify
        self.ask: QInputDialog | None = None
        self.dialog: ManageBookmarks | None = None

    def list(self) -> list[Bookmark]:
        ws = self.session.workspace
        return [] if ws is None else list_bookmarks(ws.db.conn)

    def add(self, *_checked) -> None:
        """Ctrl+B: keep the map's current view under a name the user gives."""
        self.add_named(None)

    def add_named(self, name: str | None) -> Bookmark | None:
        """Keep the map's current view under ``name`` (None: ask for it)."""
        ws = self.session.workspace
        if ws is None:
            return None
        if ws.read_only:
            self.notify(_("Bookmarks"), _("This workspace is open read-only, so bookmarks cannot be saved in it. "
                                          "Save a copy to keep bookmarks."))
            return None
        view = self.map_view.last_view
        if view is None:
            # the page reports its view when it moves; before that it shows the whole district
            self.notify.status(_("Move the map to the view you want to keep, then add the bookmark"), 6000)
            return None
        if name is None:
            self._ask_name(view)
            return None
        return self._save(name, view)

    def _ask_name(self, view) -> None:
        self.ask = ask = QInputDialog(self.parent())
        ask.setWindowTitle(_("Add bookmark"))
        ask.setLabelText(_("Name of this map view:"))
        ask.setTextValue(_("View at {lat}, {lng}").format(lat=decimal(view[0], 4), lng=decimal(view[1], 4)))
        ask.textValueSelected.connect(lambda text: self._save(text, view))
        ask.open()

    def _save(self, name: str, view) -> Bookmark | None:
        try:
            bookmark = add_bookmark(self.session.workspace, name, *view, author=self.session.author)
        except ValueError:
            self.notify.status(_("A bookmark needs a name"), 4000)
            return None
        except LanternError as exc:
            self.notify(_("Bookmarks"), str(exc))
            return None
        self.notify.status(_("Bookmark “{name}” added").format(name=bookmark.name), 4000)
        return bookmark

    def go(self, bookmark: Bookmark) -> None:
        _go(self.map_view, bookmark)
        self.notify.status(_("Bookmark: {name}").format(name=bookmark.name), 4000)

    def fill_menu(self, menu) -> None:
        """View → Bookmarks: rebuilt each time it opens (bookmarks belong to the open workspace)."""
        menu.aboutToShow.connect(lambda: self._refill(menu))
        self._refill(menu)

    def _refill(self, menu) -> None:
        menu.clear()
        marks = self.list()
        for bookmark in marks:
            action = menu.addAction(bookmark.name)
            action.triggered.connect(lambda _checked=False, b=bookmark: self.go(b))
        if not marks:
            menu.addAction(_("No bookmarks in this workspace")).setEnabled(False)
        menu.addSeparator()
        manage = menu.addAction(_("Manage bookmarks…"))
        manage.setEnabled(bool(marks))
        manage.triggered.connect(self.manage)

    def manage(self) -> "ManageBookmarks":
        self.dialog = ManageBookmarks(self, self.parent())
        self.dialog.open()
        return self.dialog

    def delete(self, bookmark: Bookmark) -> bool:
        try:
            delete_bookmark(self.session.workspace, bookmark.id, author=self.session.author)
        except LanternError as exc:
            self.notify(_("Bookmarks"), str(exc))
            return False
        return True


class ManageBookmarks(QDialog):
    """The workspace's bookmarks: go to one, or delete it."""

    def __init__(self, bookmarks: Bookmarks, parent=None):
        super().__init__(parent)
        self.bookmarks = bookmarks
        self.setWindowTitle(_("Bookmarks"))
        layout = QVBoxLayout(self)
        read_only = bookmarks.session.workspace is not None and bookmarks.session.workspace.read_only
        if read_only:
            layout.addWidget(QLabel(_("This workspace is open read-only: bookmarks cannot be deleted.")))
        self.list = QListWidget(self)
        self.list.setAccessibleName(_("Bookmarks"))
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.go_button = QPushButton(_("&Go to"), self)
        self.delete_button = QPushButton(_("&Delete"), self)
        self.delete_button.setEnabled(not read_only)
        buttons.addButton(self.go_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.go_button.clicked.connect(self._go)
        self.delete_button.clicked.connect(self._delete)
        self.list.itemDoubleClicked.connect(lambda _item: self._go())
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for bookmark in self.bookmarks.list():
            item = QListWidgetItem(bookmark.name)
            item.setData(256, bookmark)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _current(self) -> Bookmark | None:
        item = self.list.currentItem()
        return None if item is None else item.data(256)

    def _go(self) -> None:
        bookmark = self._current()
        if bookmark is not None:
            self.bookmarks.go(bookmark)

    def _delete(self) -> None:
        bookmark = self._current()
        if bookmark is not None and self.bookmarks.delete(bookmark):
            self._fill()
