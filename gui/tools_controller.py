"""Tools and Help menu handlers: the referral helper, service gaps, the method, About."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from audit.gaps import GAP_DISTANCE
from gui.referral_dialog import ReferralDialog
from mapping import site_selection
from mapping.risk_surface import method_text
from mapping.session import Session


class ToolsController(QObject):
    def __init__(self, session: Session, notify, parent):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.parent_widget = parent

    def open_referral(self, _checked=False, interactive: bool = True) -> ReferralDialog | None:
        """Suitable services for a situation, nearest first from the selected feature."""
        if self.session.workspace is None:
            return None
        dialog = ReferralDialog(self.session, self.session.selected_location(), self.parent_widget)
        if interactive:
            dialog.open()
        return dialog

    def ask_gaps(self) -> None:
        distance, ok = QInputDialog.getInt(self.parent_widget, self.tr("Service gaps"),
                                           self.tr("No service offering crisis intervention within (m):"),
                                           GAP_DISTANCE, 50, 10000, 50)
        if ok:
            self.show_gaps(distance)

    def show_gaps(self, distance: float = GAP_DISTANCE, assistance: str | None = "crisis_intervention"):
        """Risk areas and cells without a suitable service within a distance: a map layer and a count."""
        if self.session.workspace is None:
            return None
        gaps = self.session.show_gaps(distance, assistance)
        self.notify.status(self.tr("{n} gap(s): risk areas or cells farther than {d:.0f} m from a suitable "
                                   "service").format(n=len(gaps), d=distance), 10000)
        return gaps

    def method_help(self) -> None:
        text = method_text() + "\n\n" + (site_selection.__doc__ or "").strip()
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Method"), text, QMessageBox.StandardButton.Ok,
                          self.parent_widget)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def about(self) -> None:
        QMessageBox.about(self.parent_widget, self.tr("About Lantern"), self.tr(
            "Lantern — a desktop GIS for municipal teams working against human trafficking.\n\n"
            "Works offline; online tiles only when you switch them on. "
            "Reported cases carry no personal identifiers."))
