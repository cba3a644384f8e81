"""Import layer…: pick the source layer and target kind, the text encoding and (CSV) the coordinate system,
map fields, check, import."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from layers import importers
from layers.catalogue import kind as get_kind
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.features import IGNORE, KEEP_EXTRA, auto_mapping
from layers.i18n import _, ngettext


class ImportDialog(QDialog):
    """Reads the file once per chosen layer, proposes a mapping, and checks it
    (layers.features.prepare) before the user can press Import."""

    def __init__(self, path: str | Path, default_kind: str | None = None, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.frame = None
        self.setWindowTitle(_("Import layer — {name}").format(name=self.path.name))
        self.resize(640, 520)

        self.layer_combo = QComboBox()
        self.encoding_combo = _editable_combo([(_("Automatic (.cpg, else detected)"), ""), ("UTF-8", "utf-8"),
                                               (_("Windows-1257 (Baltic)"), "cp1257")])
        self.crs_combo = _editable_combo([(_("Longitude/latitude (EPSG:4326)"), ""),
                                          (_("LKS-92 / Latvia TM (EPSG:3059)"), "EPSG:3059")])
        self.kind_combo = QComboBox()
        for k in layer_kinds().values():
            self.kind_combo.addItem(k.label, k.id)
        if default_kind:
            self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(default_kind)))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([_("Column in file"), _("Lantern field")])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        # a constant value per field: every imported feature gets it (the CLI's --set FIELD=VALUE)
        self.constants_table = QTableWidget(0, 2)
        self.constants_table.setHorizontalHeaderLabels([_("Lantern field"), _("Constant value")])
        self.constants_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.constants_table.verticalHeader().hide()
        self.skip_invalid_box = QCheckBox(_(
            "Skip rows that cannot be imported (they are listed, with the reasons, in a file beside the source)"))
        self.skip_invalid_box.toggled.connect(self._check)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Import"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self._layout()
        self._load_layers()
        csv_file = self.path.suffix.lower() == ".csv"
        self.crs_combo.setEnabled(csv_file)
        self.encoding_combo.setEnabled(csv_file or self.path.suffix.lower() in (".shp", ".zip") or self.path.is_dir())
        self.layer_combo.currentIndexChanged.connect(self._read)
        for combo in (self.encoding_combo, self.crs_combo):
            combo.currentIndexChanged.connect(self._read)
            combo.lineEdit().editingFinished.connect(self._read)
        self.kind_combo.currentIndexChanged.connect(self._fill_mapping)
        self._read()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow(_("Source layer:"), self.layer_combo)
        form.addRow(_("Text encoding:"), self.encoding_combo)
        form.addRow(_("Coordinate system (CSV x/y):"), self.crs_combo)
        form.addRow(_("Import into:"), self.kind_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(_("Field mapping (unknown columns are kept in 'extra'):")))
        layout.addWidget(self.table)
        layout.addWidget(QLabel(_("Constant values (empty: from the file, or the field's default):")))
        layout.addWidget(self.constants_table)
        layout.addWidget(self.skip_invalid_box)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _load_layers(self) -> None:
        try:
            names = importers.list_layers(self.path)
        except LanternError as exc:
            self._fail(str(exc))
            names = []
        for name in names:
            self.layer_combo.addItem(name, name)
        self.layer_combo.setEnabled(len(names) > 1)

    @property
    def kind_id(self) -> str:
        return self.kind_combo.currentData()

    @property
    def layer(self) -> str | None:
        return self.layer_combo.currentData()

    @property
    def encoding(self) -> str | None:
        """The text encoding chosen or typed (None: automatic)."""
        return _combo_value(self.encoding_combo)

    @property
    def crs(self) -> str | None:
        """The coordinate system of a CSV's x/y columns, chosen or typed (None: longitude/latitude)."""
        return _combo_value(self.crs_combo) if self.crs_combo.isEnabled() else None

    def import_options(self) -> dict:
        """The reading's settings, as ``layers.importers.import_file`` takes them."""
        return {"encoding": self.encoding, "crs": self.crs}

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #a00000;")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

    def _read(self) -> None:
        try:
            self.frame = importers.read_source(self.path, self.layer, encoding=self.encoding, crs=self.crs)
        except LanternError as exc:
            self.frame = None
            self.table.setRowCount(0)
            self._fail(str(exc))
            return
        self._fill_mapping()

    def _fill_mapping(self) -> None:
        if self.frame is None:
            return
        k = get_kind(self.kind_id)
        columns = [c for c in self.frame.columns if c != self.frame.geometry.name]
        proposed = auto_mapping(columns, k)
        self.table.setRowCount(len(columns))
        for row, col in enumerate(columns):
            item = QTableWidgetItem(str(col))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, item)
            combo = QComboBox()
            if k.extra_allowed:
                combo.addItem(_("(keep in 'extra')"), KEEP_EXTRA)
            combo.addItem(_("(ignore)"), "__ignore__")
            for f in k.fields:
                combo.addItem(f"{f.label} [{f.name}]", f.name)
            if col in proposed:
                combo.setCurrentIndex(max(0, combo.findData(proposed[col])))
            else:  # refused unless the user maps or ignores it
                combo.insertItem(0, _("— choose (refused as is) —"), "__unmapped__")
                combo.setCurrentIndex(0)
            combo.currentIndexChanged.connect(self._check)
            self.table.setCellWidget(row, 1, combo)
        self._fill_constants(k)
        self._check()

    def _fill_constants(self, k) -> None:
        self.constants_table.setRowCount(len(k.fields))
        for row, f in enumerate(k.fields):
            item = QTableWidgetItem(f"{f.label} [{f.name}]")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            item.setData(Qt.ItemDataRole.UserRole, f.name)
            self.constants_table.setItem(row, 0, item)
            if f.type == "enum":
                editor = QComboBox()
                editor.addItem(_("(from the file)"), None)
                for c in f.choices:
                    editor.addItem(c.label, c.id)
                editor.currentIndexChanged.connect(self._check)
            else:
                editor = QLineEdit()
                editor.setPlaceholderText(_("(from the file)"))
                editor.editingFinished.connect(self._check)
            self.constants_table.setCellWidget(row, 1, editor)

    def constants(self) -> dict:
        """Field → constant value chosen in the dialog (fields left empty are not included)."""
        out = {}
        for row in range(self.constants_table.rowCount()):
            name = self.constants_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            editor = self.constants_table.cellWidget(row, 1)
            value = editor.currentData() if isinstance(editor, QComboBox) else editor.text().strip()
            if value:
                out[name] = value
        return out

    @property
    def skip_invalid(self) -> bool:
        return self.skip_invalid_box.isChecked()

    def mapping(self) -> dict:
        out = {}
        for row in range(self.table.rowCount()):
            col = self.table.item(row, 0).text()
            target = self.table.cellWidget(row, 1).currentData()
            if target == "__unmapped__":
                continue
            out[col] = IGNORE if target == "__ignore__" else target
        return out

    def _check(self) -> None:
        from layers.features import prepare

        try:
            prepared = prepare(self.path, self.frame, get_kind(self.kind_id), self.mapping(),
                               constants=self.constants(), skip_invalid=self.skip_invalid)
        except LanternError as exc:
            self._fail(str(exc))
            return
        text = ngettext("Ready: {n} feature will be added to '{kind}'.",
                        "Ready: {n} features will be added to '{kind}'.", len(prepared)).format(
            n=len(prepared), kind=get_kind(self.kind_id).label)
        if prepared.repaired:
            text += " " + ngettext("{n} invalid geometry will be repaired.", "{n} invalid geometries will be repaired.",
                                   prepared.repaired).format(n=prepared.repaired)
        for notice in [*self.frame.attrs.get("notices", []), *prepared.notices]:
            text += " " + _("Notice: {notice}.").format(notice=notice)
        if prepared.skipped:
            text += " " + ngettext("{n} row will be skipped and listed in {file}.",
                                   "{n} rows will be skipped and listed in {file}.", len(prepared.skipped)).format(
                n=len(prepared.skipped), file=self.path.name + ".skipped.csv")
        self.status.setText(text)
        self.status.setStyleSheet("color: #1b5e20;")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)


def _editable_combo(choices: list[tuple[str, str]]) -> QComboBox:
    """A combo box of named choices that also takes a typed value (another encoding, another EPSG code)."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    for label, value in choices:
        combo.addItem(label, value)
    return combo


def _combo_value(combo: QComboBox) -> str | None:
    """The chosen item's value, or the typed text when it names no item; None for the automatic choice."""
    text = combo.currentText().strip()
    index = combo.findText(text)
    value = combo.itemData(index) if index >= 0 else text
    return value or None
