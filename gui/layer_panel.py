"""The layer panel: visibility, drawing order (drag), feature count, swatch."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from gui.swatch import swatch_icon
from gui.tooltips import plain_tip
from layers.catalogue import kind as get_kind
from layers.i18n import _, integer, ngettext

ID_ROLE = Qt.ItemDataRole.UserRole


class LayerPanel(QListWidget):
    """Top of the list = drawn on top, as in every desktop GIS."""

    visibilityChanged = Signal(str, bool)
    orderChanged = Signal(list)  # layer ids, bottom to top
    currentLayerChanged = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(self.iconSize().expandedTo(self.iconSize().__class__(18, 18)))
        self.setAccessibleName(_("Layers"))
        self._updating = False
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current_item_changed)
        self.model().rowsMoved.connect(self._on_rows_moved)
        session.reloaded.connect(self._show_session)
        session.layers_changed.connect(self._update_counts)
        session.current_layer_changed.connect(self.select_layer)
        session.visibility_changed.connect(self.set_visible)
        self.visibilityChanged.connect(session.set_visible)
        self.orderChanged.connect(session.set_order)
        self.currentLayerChanged.connect(session.set_current_layer)

    def _show_session(self, _keep_view: bool = False) -> None:
        self.set_layers(self.session.layer_rows())
        self.select_layer(self.session.current_layer)

    def _update_counts(self, kinds) -> None:
        for k in kinds:
            self.update_count(k, self.session.counts[k])

    def set_layers(self, layers: list[dict]) -> None:
        """``layers``: dicts with id, count, visible, synthetic; bottom to top."""
        self._updating = True
        self.clear()
        for layer in reversed(layers):
            if layer.get("partner"):
                read_only = _("read-only")
                item = QListWidgetItem(f"{layer['label']}  ({integer(layer['count'])})  [{read_only}]")
                item.setData(ID_ROLE, layer["id"])
                item.setToolTip(_("Imported from a partner package; read-only.\n{label}").format(label=layer["label"]))
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            else:
                k = get_kind(layer["id"])
                item = QListWidgetItem(swatch_icon(k.style, k.geometry), "")
                item.setData(ID_ROLE, k.id)
                self._label(item, k.label, layer["count"], layer.get("synthetic", False))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
            item.setCheckState(Qt.CheckState.Checked if layer.get("visible", True) else Qt.CheckState.Unchecked)
            self.addItem(item)
        self._updating = False
        if self.count():
            self.setCurrentRow(0)

    def _label(self, item: QListWidgetItem, label: str, count: int, synthetic: bool) -> None:
        from audit.redaction import layer_level

        level = layer_level(item.data(ID_ROLE))
        text = f"{label}  ({integer(count)})  [{self._level_text(level)}]"
        tip = ngettext("{label}: {count} feature", "{label}: {count} features", count).format(label=label,
                                                                                           count=integer(count))
        tip += "\n" + _("Sensitivity: {level} — shared only with that level or above").format(
            level=self._level_text(level))
        if synthetic:
            text += " · " + _("synthetic")
            tip += "\n" + _("Synthetic demo data: invented, not real places or cases.")
            font = item.font()
            font.setItalic(True)
            item.setFont(font)
        else:
            item.setFont(QFont())
        item.setText(text)
        item.setToolTip(plain_tip(tip))

    def update_count(self, layer_id: str, count: int) -> None:
        item = self.item_for(layer_id)
        if item is not None:
            self._updating = True
            self._label(item, get_kind(layer_id).label, count, item.font().italic())
            self._updating = False

    def _level_text(self, level: str) -> str:
        return {"public": _("public"), "partner": _("partner"), "police": _("police"),
                "confidential": _("confidential")}.get(level, level)

    def layer_ids(self) -> list[str]:
        """Bottom to top."""
        return [self.item(i).data(ID_ROLE) for i in reversed(range(self.count()))]

    def item_for(self, layer_id: str) -> QListWidgetItem | None:
        for i in range(self.count()):
            if self.item(i).data(ID_ROLE) == layer_id:
                return self.item(i)
        return None

    def current_layer(self) -> str | None:
        item = self.currentItem()
        return item.data(ID_ROLE) if item else None

    def select_layer(self, layer_id: str) -> None:
        item = self.item_for(layer_id)
        if item is not None:
            self.setCurrentItem(item)

    def is_visible(self, layer_id: str) -> bool:
        item = self.item_for(layer_id)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_visible(self, layer_id: str, visible: bool) -> None:
        item = self.item_for(layer_id)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if not self._updating:
            self.visibilityChanged.emit(item.data(ID_ROLE), item.checkState() == Qt.CheckState.Checked)

    def _on_current_item_changed(self, current, _previous) -> None:
        if current is not None and not self._updating:
            self.currentLayerChanged.emit(current.data(ID_ROLE))

    def _on_rows_moved(self, *_args) -> None:
        if not self._updating:
            self.orderChanged.emit(self.layer_ids())
