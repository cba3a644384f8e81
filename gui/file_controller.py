"""File menu handlers: new, open, recent, save as, imports, partner packages, exports and the report.

Each asks for a file, hands the work to the session or to layers/ and mapping/
(long work in a worker with a progress dialog), and reports through notify.
A refusal leaves the workspace as it was.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QProgressDialog

from audit.demo import is_demo_copy
from audit.submissions import import_from_odk_central, import_submissions
from gui.export_dialog import ExportDialog
from gui.import_dialog import ImportDialog
from gui.notify import output_folder
from gui.submissions_summary import submissions_summary
from gui.tasks import Task, run_with_progress
from gui.tooltips import plain_tip
from layers.errors import LanternError
from layers.i18n import N_, _, ngettext
from layers.importers import import_file
from layers.importers.odk_central import parse_form
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE
from layers.osm import Cancelled, prepare_extract, write_extract
from layers.packages import import_package
from mapping.session import Session
from mapping.share_export import export

MAX_RECENT = 8
# file-dialog filters, translated where shown (the patterns in brackets stay as they are)
GPKG_FILTER = N_("Lantern workspace (*.gpkg)")
IMPORT_FILTER = N_("GIS files (*.geojson *.json *.gpkg *.shp *.zip *.csv);;All files (*)")
OSM_FILTER = N_("OpenStreetMap extracts (*.osm.pbf *.pbf);;All files (*)")
SUBMISSIONS_FILTER = N_("ODK Central or KoBoToolbox exports (*.zip *.csv *.xlsx);;All files (*)")


class FileController(QObject):
    busyChanged = Signal(bool)  # a long import runs: opening or importing again waits
    submissionsImported = Signal(int)  # field submissions were added to the Incoming queue (how many)

    def __init__(self, session: Session, notify, settings: QSettings, parent):
        super().__init__(parent)
        self.session, self.notify, self.settings = session, notify, settings
        self.parent_widget = parent
        self.recent_menu = None

    # -- workspaces -------------------------------------------------------------------

    def open_workspace(self, path: str | Path) -> bool:
        """Open a workspace file; on failure show why and keep the current one."""
        try:
            self.session.open(path)
        except LanternError as exc:
            self.notify(_("Cannot open workspace"), str(exc))
            return False
        if not is_demo_copy(path):  # a demo copy is deleted when the app exits
            self.remember_recent(Path(path))
        return True

    def new(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self.parent_widget, _("New workspace"), "", _(GPKG_FILTER))
        if not path:
            return
        path = Path(path).with_suffix(".gpkg")
        try:
            self.session.create(path)
        except LanternError as exc:
            self.notify(_("Cannot create workspace"), str(exc))
            return
        self.remember_recent(path)

    def open(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self.parent_widget, _("Open workspace"), "", _(GPKG_FILTER))
        if path:
            self.open_workspace(path)

    def save_as(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self.parent_widget, _("Save workspace as"), "", _(GPKG_FILTER))
        if not path:
            return
        try:
            copy = self.session.save_as(Path(path).with_suffix(".gpkg"))
        except (LanternError, OSError) as exc:
            self.notify(_("Cannot save workspace"), str(exc))
            return
        self.remember_recent(copy.path)

    # -- recent files -------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def remember_recent(self, path: Path) -> None:
        path_s = str(Path(path).resolve())
        recent = [path_s] + [p for p in self.recent_files() if p != path_s]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self.fill_recent(self.recent_menu)

    def fill_recent(self, menu) -> None:
        """File → Open recent (the actions table hands over its submenu)."""
        self.recent_menu = menu
        menu.clear()
        recent = self.recent_files()
        for i, path in enumerate(recent):
            action = menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(plain_tip(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_workspace(p))
        menu.setEnabled(bool(recent))

    # -- imports ----------------------------------------------------------------------

    def import_layer(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self.parent_widget, _("Import layer"), "", _(IMPORT_FILTER))
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path, kind_id: str | None = None, interactive: bool = True) -> bool:
        """Run the import dialog for ``path``; on success reload the map."""
        dialog = ImportDialog(path, kind_id or self.session.current_layer, self.parent_widget)
        if interactive and dialog.exec() != ImportDialog.DialogCode.Accepted:
            return False
        try:
            report = import_file(self.session.workspace, path, dialog.kind_id, dialog.layer, dialog.mapping(),
                                 constants=dialog.constants(), skip_invalid=dialog.skip_invalid,
                                 **dialog.import_options())
        except LanternError as exc:
            self.notify(_("Import failed — the workspace is unchanged"), str(exc))
            return False
        self.session.reload()
        self.session.set_current_layer(report.kind_id)
        self.notify.status(report.summary())
        return True

    def import_osm(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self.parent_widget, _("Import OpenStreetMap extract"), "",
                                                    _(OSM_FILTER))
        if path:
            self.import_osm_extract(path)

    def import_osm_extract(self, path: str | Path, bbox=None) -> Task:
        """Read an OSM extract in a worker with a cancellable progress dialog, then write it in one transaction.

        The worker only reads and validates (writing nothing), so a cancel or an
        error changes nothing and the file is never swapped under the connection.
        """
        progress = QProgressDialog(_("Reading {name}…").format(name=Path(path).name), _("Cancel"),
                                   0, 100, self.parent_widget)
        progress.setWindowTitle(_("Import OpenStreetMap extract"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setValue(0)
        task = Task(lambda report, cancelled: prepare_extract(path, bbox, progress=report, cancelled=cancelled), self)
        task.progressed.connect(lambda fraction, message: (progress.setValue(int(fraction * 100)),
                                                           progress.setLabelText(message)))
        progress.canceled.connect(task.cancel)
        task.succeeded.connect(lambda result: self._on_osm_read(result, task, progress))
        task.failed.connect(lambda exc: self._on_osm_failed(exc, progress))
        self.osm_task, self.osm_progress = task, progress
        self.busyChanged.emit(True)
        task.start()
        return task

    def _on_osm_read(self, extract, task: Task, progress: QProgressDialog) -> None:
        if task.cancel_requested:  # Cancel pressed while the last objects were read: nothing is written
            self._on_osm_failed(Cancelled(_("Import cancelled; nothing was changed.")), progress)
            return
        progress.close()
        self.busyChanged.emit(False)
        try:  # written in place, in one transaction
            report = write_extract(self.session.workspace, extract)
        except LanternError as exc:
            self.notify(_("OpenStreetMap import failed — the workspace is unchanged"), str(exc))
            return
        self.session.reload()
        self.notify.status(report.summary(), 15000)

    def _on_osm_failed(self, exc: BaseException, progress: QProgressDialog) -> None:
        progress.close()
        self.busyChanged.emit(False)
        if isinstance(exc, Cancelled):
            self.notify.status(str(exc))
            self.notify.last_error = str(exc)
            return
        detail = str(exc) if isinstance(exc, LanternError) else \
            f"{type(exc).__name__}: {exc}\n\n{getattr(exc, 'formatted', '')}"
        self.notify(_("OpenStreetMap import failed — the workspace is unchanged"), detail)

    def import_package(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self.parent_widget, _("Import partner package"), "",
                                                    _(GPKG_FILTER))
        if path:
            self.import_package_file(path)

    def import_package_file(self, path) -> bool:
        try:
            report = import_package(self.session.workspace, path, ask=lambda signer: self._ask_trust(signer, path))
        except LanternError as exc:
            self.notify(_("Package refused — the workspace is unchanged"), str(exc))
            return False
        self.session.reload(keep_view=True)
        self.notify.status(report.summary(), 10000)
        return True

    def _ask_trust(self, signer, path) -> bool:
        """First package from a new key: show its fingerprint and municipality (as plain text) and ask."""
        box = QMessageBox(QMessageBox.Icon.Question, _("Trust this partner's key?"), signer.question(path),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.parent_widget)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    # -- field submissions ------------------------------------------------------------

    def import_submissions(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self.parent_widget, _("Import field submissions"), "",
                                                    _(SUBMISSIONS_FILTER))
        if path:
            self.import_submissions_file(path)

    def import_submissions_file(self, path) -> Task:
        """Read an ODK Central or KoBoToolbox export into the Incoming queue (see _run_submissions_import)."""
        ws, author = self.session.workspace, self.session.author
        return self._run_submissions_import(
            _("Reading {name}…").format(name=Path(path).name),
            lambda progress: import_submissions(ws, path, author=author, progress=progress))

    def import_odk_central(self) -> None:
        """File → Import from ODK Central…: the form as PROJECT_ID/FORM_ID; the server and the login come from
        pyodk's own configuration file (Lantern keeps no address or password)."""
        text, ok = QInputDialog.getText(
            self.parent_widget, _("Import from ODK Central"),
            _("The form, as PROJECT_ID/FORM_ID (e.g. 7/lantern_field_all).\nThe server and the login are read from "
              "pyodk's configuration file (~/.pyodk_config.toml)."),
            text=str(self.settings.value("odk/form", "") or ""))
        if ok and text.strip():
            self.import_odk_central_form(text.strip())

    def import_odk_central_form(self, text: str, client=None) -> Task | None:
        try:
            project_id, form_id = parse_form(text)
        except LanternError as exc:
            self.notify(_("Field submissions not imported — the workspace is unchanged"), str(exc))
            return None
        self.settings.setValue("odk/form", text)
        ws, author = self.session.workspace, self.session.author
        return self._run_submissions_import(
            _("Reading submissions from ODK Central…"),
            lambda progress: import_from_odk_central(ws, project_id, form_id, author=author, progress=progress,
                                                     client=client))

    def _run_submissions_import(self, label: str, read) -> Task:
        """Run ``read(progress)`` in a worker (cleaning a thousand photos takes most of a minute), cancellable:
        the import is one transaction, so a cancel or a failure leaves the workspace as it was. The window is
        busy meanwhile (no other edit, no disk check: the worker writes through the window's connection)."""
        def work(report, cancelled):
            def progress(fraction, message):
                if cancelled() and fraction < 1.0:  # at 1.0 the transaction is committed: too late to stop
                    raise Cancelled(_("Import cancelled; nothing was changed."))
                report(fraction, message)
            return read(progress)

        self.busyChanged.emit(True)
        task = run_with_progress(self.parent_widget, label, work, on_done=self._submissions_imported,
                                 notifier=self.notify,
                                 failure_title=_("Field submissions not imported — the workspace is unchanged"),
                                 owner=self)
        task.done.connect(lambda: self.busyChanged.emit(False))
        self.submissions_task = task
        return task

    def _submissions_imported(self, report) -> None:
        self.session.tables_changed((SUBMISSIONS_TABLE, PHOTOS_TABLE))
        self.submissionsImported.emit(report.added)
        text = "\n".join(submissions_summary(report))
        self.notify.status(text.splitlines()[0], 15000)
        box = QMessageBox(QMessageBox.Icon.Information, _("Field submissions imported"), text,
                          QMessageBox.StandardButton.Ok, self.parent_widget)
        box.setTextFormat(Qt.TextFormat.PlainText)  # ids and file names are data, never markup
        box.open()
        self.submissions_box = box

    # -- exports ----------------------------------------------------------------------

    def share(self, _checked=False, fmt: str | None = None) -> None:
        dialog = ExportDialog(self.session, self.parent_widget)
        if fmt:
            dialog.format.setCurrentIndex(dialog.format.findData(fmt))
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        self.run_share(dialog.export_job())

    def run_share(self, job) -> Task:
        """Run an export in a worker (a city's export takes a while); say where the files went.

        Not cancellable: the files are staged and moved in at the end, so it is let finish."""
        self.share_task = run_with_progress(
            self.parent_widget, _("Exporting…"), lambda report, cancelled: job(), on_done=self._shared,
            notifier=self.notify, failure_title=_("Export stopped — nothing was shared"), cancellable=False,
            owner=self)
        return self.share_task

    def _shared(self, files) -> None:
        where = output_folder(files) if files else ""
        self.notify.finished(ngettext("Exported {n} file to {where}", "Exported {n} files to {where}",
                                      len(files)).format(n=len(files), where=where), files)

    def report(self) -> None:
        """The district report is one format of Export for sharing: the same dialog, set to the report."""
        self.share(fmt="report")

    def export_report(self, path, lang: str = "en", profile: str = "public", recipient: str = "",
                      confirm_police: bool = False, overwrite: bool = False) -> Task:
        """Write the district report in a worker (the same export path, checks and log as every shared file)."""
        ws, author = self.session.workspace, self.session.author

        def write(report, cancelled):
            return export(ws, profile, "report", path, recipient=recipient, confirm_police=confirm_police,
                          author=author, overwrite=overwrite, lang=lang)[0]

        self.report_task = run_with_progress(
            self.parent_widget, _("Writing the report…"), write, on_done=lambda files: self.notify.finished(
                _("Report written: {pdf} and {html}").format(pdf=files[0], html=files[1]), files),
            notifier=self.notify, failure_title=_("The report was not written"), cancellable=False, owner=self)
        return self.report_task
