"""Tools and Help menu handlers: the referral helper, local actors, the field form, service gaps, the method, About."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from audit.gaps import GAP_DISTANCE
from gui.field_form_dialog import FieldFormDialog
from gui.referral_dialog import ReferralDialog
from gui.tasks import Task, run_with_progress
from layers.i18n import _, ngettext
from mapping.campaign_map import CampaignOverlay
from mapping.risk_surface import method_text
from mapping.session import Session


class ToolsController(QObject):
    def __init__(self, session: Session, notify, parent):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.parent_widget = parent
        self.campaign_overlay = CampaignOverlay(session)  # campaigns' locations on the map, kept up to date

    def open_referral(self, _checked=False, interactive: bool = True) -> ReferralDialog | None:
        """Suitable services for a situation, nearest first from the selected feature."""
        if self.session.workspace is None:
            return None
        dialog = ReferralDialog(self.session, self.session.selected_location(), self.parent_widget)
        if interactive:
            dialog.open()
        return dialog

    def open_actors(self, _checked=False, interactive: bool = True):
        """Tools → Local actors…: the register of the local network, each change an undoable step."""
        from gui.actors_dialog import ActorsDialog

        if self.session.workspace is None:
            return None
        dialog = ActorsDialog(self.session, self.notify, self.parent_widget)
        if interactive:
            dialog.open()
        return dialog

    def open_campaigns(self, _checked=False, interactive: bool = True):
        """Tools → Campaigns…: the campaigns and their evaluation; new locations can come from the current
        outreach plan (the Outreach planning tab's)."""
        from gui.campaign_dialog import CampaignsDialog

        if self.session.workspace is None:
            return None
        panel = getattr(self.parent_widget, "outreach_panel", None)
        self.campaigns_dialog = CampaignsDialog(self.session, self.notify, self.parent_widget,
                                                plan=lambda: getattr(panel, "result", None),
                                                open_contacts=lambda: self.open_contacts())
        if interactive:
            self.campaigns_dialog.show()
        return self.campaigns_dialog

    def open_contacts(self, _checked=False, interactive: bool = True):
        """Tools → Monthly contacts…: hotline and service contacts per month and area, each change undoable."""
        from gui.contacts_editor import ContactsEditor

        if self.session.workspace is None:
            return None
        self.contacts_editor = ContactsEditor(self.session, self.notify, self.parent_widget)
        if interactive:
            self.contacts_editor.open()
        return self.contacts_editor

    def open_field_form(self, _checked=False, interactive: bool = True) -> FieldFormDialog | None:
        """Tools → Field form…: choose, then write the form in a worker (``interactive=False``: tests drive it)."""
        if self.session.workspace is None:
            return None
        dialog = FieldFormDialog(self.session, self.parent_widget)
        if interactive and dialog.exec() == FieldFormDialog.DialogCode.Accepted:
            self.write_field_form(dialog)
        return dialog

    def write_field_form(self, dialog: FieldFormDialog) -> Task:
        self.field_form_task = run_with_progress(
            self.parent_widget, _("Writing the field form…"), dialog.job(),
            on_done=lambda result: self.notify.finished(ngettext(
                "Field form written: {n} file in {where}", "Field form written: {n} files in {where}",
                len(result.files)).format(n=len(result.files), where=result.files[0].parent), result.files),
            notifier=self.notify, failure_title=_("The field form was not written"), cancellable=False, owner=self)
        return self.field_form_task

    def open_round_compare(self, _checked=False, interactive: bool = True):
        """Tools → Compare rounds…: two audit rounds, a profile, the tables and the change map."""
        from gui.round_compare_dialog import RoundCompareDialog

        if self.session.workspace is None:
            return None
        self.round_compare_dialog = RoundCompareDialog(self.session, self.notify, self.parent_widget)
        if interactive:
            self.round_compare_dialog.show()
        return self.round_compare_dialog

    def ask_gaps(self) -> None:
        distance, ok = QInputDialog.getInt(self.parent_widget, _("Service gaps"),
                                           _("No service offering crisis intervention within (m):"),
                                           GAP_DISTANCE, 50, 10000, 50)
        if ok:
            self.show_gaps(distance)

    def show_gaps(self, distance: float = GAP_DISTANCE, assistance: str | None = "crisis_intervention") -> Task | None:
        """Risk areas and cells without a suitable service within a distance, computed in a worker (a whole city
        takes a while), then shown as a map layer with a count."""
        if self.session.workspace is None:
            return None
        session = self.session
        self.gaps_task = run_with_progress(
            self.parent_widget, _("Looking for service gaps…"),
            lambda report, cancelled: session.compute_gaps(distance, assistance),
            on_done=lambda result: self._show_gaps(result, distance), notifier=self.notify,
            failure_title=_("Service gaps were not computed"), owner=self)
        return self.gaps_task

    def _show_gaps(self, result, distance: float) -> None:
        gaps, overlay = result
        self.gaps = gaps
        self.session.set_overlay("gaps", overlay)
        self.notify.status(ngettext("{n} gap: a risk area or cell farther than {d:.0f} m from a suitable service",
                                    "{n} gaps: risk areas or cells farther than {d:.0f} m from a suitable service",
                                    len(gaps)).format(n=len(gaps), d=distance), 10000)

    def method_help(self) -> None:
        text = method_text() + "\n\n" + _(
            "Campaign sites: Lantern chooses k candidate sites so that as much of the risk as possible lies within "
            "walking distance r of at least one site (the maximal covering location problem). The fast method adds "
            "sites one by one; the plan reports the share of the total risk it covers and a certified upper bound on "
            "the best possible plan, so you can see how close it is. The exact method solves the same problem with "
            "the HiGHS solver and says whether it proved the plan optimal within its time limit.")
        box = QMessageBox(QMessageBox.Icon.Information, _("Method"), text, QMessageBox.StandardButton.Ok,
                          self.parent_widget)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def about(self) -> None:
        QMessageBox.about(self.parent_widget, _("About Lantern"), _(
            "Lantern — a desktop GIS for municipal teams working against human trafficking.\n\n"
            "Works offline; online tiles only when you switch them on. "
            "Reported cases carry no personal identifiers."))
