"""The attribute table: a Qt model over a layer's data frame, and its view."""
from __future__ import annotations

import sys

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTableView

from audit.annotations import PLACE_KINDS
from audit.commands import UpdateRow
from gui.background import Background
from gui.notify import do_command
from layers.catalogue import LayerKind
from layers.catalogue import kind as get_kind
from layers.i18n import _, integer, ngettext
from layers.values import coerce, is_missing, stored_ids
from mapping.table_rows import PAGE, PENDING, PagedRows, table_rows

#: what a cell shows while its page of a big layer is being read
PLACEHOLDER = "…"


def column_display(kind: LayerKind | None, column: str):
    """How a column's cells are shown: labels for enum ids, ✓/— for booleans, else the value. Never HTML.

    Worked out once per column, so showing a cell is a dictionary lookup (a city's table has a million)."""
    f = kind.field(column) if kind is not None and column in kind.field_names else None
    if f is not None and f.type == "boolean":
        return lambda value: "✓" if bool(value) else "—"
    if f is not None and f.choices:
        labels = {c.id: c.label for c in f.choices}
        if f.type == "multi_enum":
            return lambda value: ", ".join(labels.get(i, str(i)) for i in stored_ids(value))
        return lambda value: labels.get(value, str(value))
    return str


class FrameTableModel(QAbstractTableModel):
    """Model over a (Geo)DataFrame whose index is the fid.

    Declared fields are editable; an edit is not written here but handed to
    ``editor(fid, field, text)``, which runs it as an undoable command.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.editor = None
        self._frame = None  # FrameRows or PagedRows (mapping.table_rows): a big layer is read a page at a time
        self._kind: LayerKind | None = None
        self._columns: list[str] = []
        self._shows: list = []
        # a big layer's pages are read in a worker: a cell of a page not read yet shows PLACEHOLDER until then
        self._pages = Background("lantern-table-pages")
        self._pages.answered.connect(self._on_page)
        self._shown = 0  # which frame the pages asked for belong to
        self._asked: set[int] = set()

    def set_frame(self, frame, kind: LayerKind | None) -> None:
        """Show a data frame (index = fid), a layer's PagedRows, or nothing (None)."""
        self.beginResetModel()
        self._shown += 1
        self._asked = set()
        self._kind = kind
        self._frame = table_rows(frame)
        self._columns = [] if self._frame is None else list(self._frame.columns)
        self._shows = [column_display(kind, c) for c in self._columns]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() or self._frame is None else len(self._frame)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._frame is None:
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.EditRole):
            return None
        value = self._value(index.row(), index.column())
        if value is PENDING:
            return PLACEHOLDER if role == Qt.ItemDataRole.DisplayRole else None
        if is_missing(value):
            return ""
        return str(value) if role == Qt.ItemDataRole.EditRole else self._shows[index.column()](value)

    def _value(self, row: int, column: int):
        """A cell's value; PENDING (and its page asked for) where a big layer's page is not read yet."""
        if not isinstance(self._frame, PagedRows):
            return self._frame.value(row, column)
        value = self._frame.peek(row, column)
        if value is PENDING:
            self._want(row)
        return value

    def _want(self, row: int) -> None:
        number = row // PAGE
        if number not in self._asked:
            self._asked.add(number)
            self._pages.submit((self._shown, number), self._frame.load, number)

    def _on_page(self, ticket, page) -> None:
        shown, number = ticket
        if shown != self._shown:
            return  # a page of rows no longer shown
        if isinstance(page, BaseException):
            print(_("A page of the attribute table could not be read: {error}").format(error=page), file=sys.stderr)
            return  # its cells keep the placeholder; asking again would fail again
        self._asked.discard(number)
        first, last = number * PAGE, min(len(self._frame), (number + 1) * PAGE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, max(0, len(self._columns) - 1)))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, first, last)

    @property
    def paged(self) -> bool:
        """The rows shown are a big layer's, read a page at a time."""
        return isinstance(self._frame, PagedRows)

    @property
    def shown(self) -> int:
        """Which rows are shown: changes with every set_frame."""
        return self._shown

    @property
    def pages_pending(self) -> int:
        """Pages asked for and not in yet."""
        return len(self._asked)

    def _editable(self, column: str) -> bool:
        return (self.editor is not None and self._kind is not None and column in self._kind.field_names
                and not column.startswith("osm_"))

    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if index.isValid() and self._editable(self._columns[index.column()]):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 - Qt API
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        column = self._columns[index.column()]
        if not self._editable(column):
            return False
        return bool(self.editor(self._frame.fid_at(index.row()), column, value))

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt API
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            name = self._columns[section]
            if self._kind is not None and name in self._kind.field_names:
                return self._kind.field(name).label
            return name
        if isinstance(self._frame, PagedRows):
            fid = self._frame.peek_fid(section)
            if fid is PENDING:
                self._want(section)
                return ""
            return str(fid)
        return str(self._frame.fid_at(section))

    def fid_at(self, row: int) -> int:
        return self._frame.fid_at(row)

    def column_of(self, name: str) -> int:
        return self._columns.index(name) if name in self._columns else -1

    def row_of(self, fid: int) -> int:
        return -1 if self._frame is None else self._frame.row_of(fid)


RESIZE_ROWS = 200
PAGED_RESIZE_ROWS = 40


class AttributeTable(QTableView):
    """The current layer's rows, filtered as the map is; edits become undoable commands.

    Double-click on a place's row opens its annotation form (as on the map); F2 or the row's menu edits
    a cell. In other layers double-click edits, as in any table."""

    featureSelected = Signal(int)
    summaryChanged = Signal(str)  # "Layer: n features (m shown by the filters)"

    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.table_model = FrameTableModel(self)
        self.table_model.editor = self.edit_value
        self.setModel(self.table_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.doubleClicked.connect(self._on_double_clicked)
        self.setAccessibleName(_("Attribute table"))
        self.setToolTip(_("Double-click a place to annotate it; F2 or the right-click menu edits a cell"))
        self.horizontalHeader().setStretchLastSection(True)
        # columns are sized from the first rows shown, not all of them (a city's layer has a million)
        self.horizontalHeader().setResizeContentsPrecision(RESIZE_ROWS)
        self.verticalHeader().setDefaultSectionSize(22)
        self._silent = False
        # a big layer's rows are counted (and its first page read) in a worker: the UI thread never scans
        self._rows = Background("lantern-table-rows")
        self._rows.answered.connect(self._on_rows)
        self._question = self._answered = 0  # the latest show_current, and the one shown; older answers are dropped
        self._locate = Background("lantern-table-locate")
        self._locate.answered.connect(self._on_located)
        self._locating = None  # (rows shown, fid) whose row a worker is finding
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        for event in (session.reloaded, session.current_layer_changed, session.filters_changed):
            event.connect(self.show_current)
        session.layers_changed.connect(lambda kinds: self.show_current() if session.current_layer in kinds else None)
        session.selection_changed.connect(self._on_session_selection)
        self.featureSelected.connect(lambda fid: session.select(session.current_layer, fid, pan=True))

    def show_current(self, *_args) -> None:
        """Show the session's current layer, keeping the selected row.

        A big layer's rows are counted in a worker; until they are, the table keeps what it showed and the
        summary says it is counting."""
        self._question += 1
        layer_id = self.session.current_layer
        if self.session.is_paged(layer_id):
            kind = get_kind(layer_id)
            self.summaryChanged.emit(_("{layer}: counting the rows within the filters…").format(layer=kind.label))
            self._rows.submit((self._question, layer_id), self.session.paged_rows, layer_id)
            return
        self._show(layer_id, *self.session.table(layer_id))

    @property
    def settled(self) -> bool:
        """The table shows the current layer's rows (no count, page or selected row still being found)."""
        return self._question == self._answered and not self.table_model.pages_pending and self._locating is None

    def _on_rows(self, ticket, rows) -> None:
        question, layer_id = ticket
        if question != self._question:
            return  # the layer or the filters changed meanwhile: a newer answer is coming
        if isinstance(rows, BaseException):
            self._answered = question
            self.set_frame(None, None)
            self.summaryChanged.emit(_("The rows of {layer} could not be read: {error}").format(
                layer=get_kind(layer_id).label, error=rows))
            return
        self._show(layer_id, rows, get_kind(layer_id), self.session.counts.get(layer_id, len(rows)))

    def _show(self, layer_id, frame, kind, total) -> None:
        self._answered = self._question
        edit = QAbstractItemView.EditTrigger  # a double-click on a place opens its annotation form instead
        self.setEditTriggers(edit.EditKeyPressed if layer_id in PLACE_KINDS
                             else edit.DoubleClicked | edit.EditKeyPressed)
        selected = self.selected_fid() if self.table_model.rowCount() else None
        self.set_frame(frame, kind)
        if selected is not None:
            self.select_fid(selected)
        if frame is None:
            text = ""
        elif kind is None:
            text = ngettext("Partner layer (read-only): {n} feature", "Partner layer (read-only): {n} features",
                            total).format(n=integer(total))
        else:
            text = ngettext("{layer}: {n} feature", "{layer}: {n} features", total).format(layer=kind.label,
                                                                                           n=integer(total))
            if len(frame) != total:
                text += " " + _("({n} shown by the filters)").format(n=integer(len(frame)))
        self.summaryChanged.emit(text)

    def _on_session_selection(self, layer_id, fid, _pan) -> None:
        if fid is None:
            self.clearSelection()
        elif layer_id == self.session.current_layer:
            self.select_fid(fid)

    def edit_value(self, fid: int, field_name: str, text) -> bool:
        """An edit in the table: checked against the field, then run as an undoable command."""
        layer_id = self.session.current_layer
        try:
            value = coerce(get_kind(layer_id).field(field_name), text)
        except ValueError as exc:
            self.notify(_("Not a valid value"), f"{field_name}: {exc}")
            return False
        return do_command(self.session, self.notify,
                          UpdateRow(layer_id, fid, {field_name: value}, label=_("Edit {field}").format(field=field_name)))

    # -- a row's commands -------------------------------------------------------------

    def annotatable(self) -> bool:
        return self.session.current_layer in PLACE_KINDS and self.session.writable

    def annotate_row(self, row: int) -> None:
        """Open the annotation form of the place in ``row`` (the audit controller listens to the session)."""
        self.session.activate(self.session.current_layer, self.table_model.fid_at(row))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid() and self.session.current_layer in PLACE_KINDS:
            self.annotate_row(index.row())

    def row_menu(self, index: QModelIndex) -> QMenu:
        """Annotate (places), Edit the cell, Zoom to the feature."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.session.current_layer in PLACE_KINDS:
            annotate = menu.addAction(_("Annotate…"), lambda: self.annotate_row(index.row()))
            annotate.setEnabled(self.annotatable())
            menu.setDefaultAction(annotate)
        edit = menu.addAction(_("Edit"), lambda: self.edit(index))
        edit.setShortcut("F2")
        edit.setEnabled(bool(self.table_model.flags(index) & Qt.ItemFlag.ItemIsEditable))
        fid = self.table_model.fid_at(index.row())
        menu.addAction(_("Zoom to feature"), lambda: self.session.select(self.session.current_layer, fid, pan=True))
        return menu

    def _on_context_menu(self, pos) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        self.selectRow(index.row())
        self.row_menu(index).popup(self.viewport().mapToGlobal(pos))

    def set_frame(self, frame, kind) -> None:
        self._silent = True
        # a paged layer is sized from its first rows only (each row shown is a read)
        self.horizontalHeader().setResizeContentsPrecision(PAGED_RESIZE_ROWS if isinstance(frame, PagedRows)
                                                           else RESIZE_ROWS)
        self.table_model.set_frame(frame, kind)
        self.resizeColumnsToContents()
        self._silent = False

    def select_fid(self, fid: int) -> None:
        """Select the row of ``fid`` without re-emitting featureSelected.

        In a big layer, finding the row is a count of the rows before it (up to a million): a worker
        finds it, and the row is selected when it answers, if the table still shows the same rows."""
        model = self.table_model
        if model.paged:
            self._locating = (model.shown, fid)
            self._locate.submit(self._locating, model.row_of, fid)
            return
        self._select_row(model.row_of(fid))

    def _on_located(self, ticket, row) -> None:
        if ticket != self._locating or ticket[0] != self.table_model.shown:
            return  # another feature was selected meanwhile, or the table shows other rows now
        self._locating = None
        self._select_row(-1 if isinstance(row, BaseException) else row)

    def _select_row(self, row: int) -> None:
        self._silent = True
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)
            self.scrollTo(self.table_model.index(row, 0))
        self._silent = False

    def selected_fid(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return self.table_model.fid_at(rows[0].row()) if rows else None

    def _on_selection_changed(self, *_args) -> None:
        if self._silent:
            return
        fid = self.selected_fid()
        if fid is not None:
            self.featureSelected.emit(fid)
