"""The window's side of a shared workspace: connect, keep the copy in step, hear other windows, ask on conflicts.

A copy syncs shortly after each edit here and as soon as the server says another window committed
(LISTEN/NOTIFY, heard by a thread of its own); what others changed is read again into the views. The state
(in step, offline with changes waiting, conflicts) is in the status bar.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtWidgets import QLabel

from gui.conflict_dialog import ConflictDialog
from gui.connect_dialog import ConnectDialog
from gui.tasks import run_with_progress
from layers import server_secrets
from layers.errors import LanternError, ServerError
from layers.i18n import _
from layers.server import is_server_address, password_in, without_password
from layers.server_sync import ChangeListener
from mapping.shared_link import SharedLink, copy_path_for, open_shared

SYNC_DELAY_MS = 300  # after an edit: a burst of edits is sent as one sync
CATCH_UP_MS = 30_000  # and now and then anyway: a notification lost with a dropped connection is made up for
LISTEN_SLICE_S = 0.5  # how often the listening thread looks whether it should stop


class _Listener(QThread):
    """Waits for the server's notifications on a connection of its own; never touches the workspace."""

    heard = Signal(object)  # the set of tables another window changed

    def __init__(self, address: str, password: str | None, parent=None):
        super().__init__(parent)
        self.address, self.password = address, password

    def run(self) -> None:
        try:
            listener = ChangeListener(self.address, self.password)
        except ServerError:
            return  # offline: the copy works on, and syncs after each edit
        try:
            while not self.isInterruptionRequested():
                tables = listener.wait(LISTEN_SLICE_S)
                if tables:
                    self.heard.emit(tables)
        except Exception:  # the connection dropped: the next edit's sync says so in the status bar
            return
        finally:
            listener.close()


class SharedController(QObject):
    def __init__(self, session, notify, settings, window):
        super().__init__(window)
        self.session, self.notify, self.settings, self.window = session, notify, settings, window
        self.link: SharedLink | None = None
        self.listener: _Listener | None = None
        self.passwords: dict[str, str] = {}  # per address, for this session only
        self.label = QLabel()
        window.statusBar().addPermanentWidget(self.label)
        self.timer = QTimer(self, singleShot=True, interval=SYNC_DELAY_MS, timeout=self.sync_now)
        self.catch_up = QTimer(self, interval=CATCH_UP_MS, timeout=self.sync_now)
        session.opened.connect(self._on_opened)
        session.edited.connect(lambda *_a: self.link is not None and self.timer.start())

    # -- connecting -------------------------------------------------------------------------------

    def connect_dialog(self) -> None:
        """File → Connect to shared workspace…"""
        dialog = ConnectDialog(str(self.settings.value("shared/last_address", "")), self.window)
        if dialog.exec():
            self.open_address(*dialog.chosen())

    def open_address(self, address: str, password: str | None = None, remember: bool = False):
        """Open this installation's copy of the shared workspace at ``address`` (pulled first when new)."""
        self.settings.setValue("shared/last_address", without_password(address))  # never a password
        password = password or password_in(address)
        if password:
            self.passwords[without_password(address)] = password
            if remember and not server_secrets.store(address, password):
                self.notify.status(_("No keyring on this computer: the password is used for this session only."))
        if copy_path_for(address).exists():
            return self.window.open_workspace(copy_path_for(address))
        return run_with_progress(
            self.window, _("Making a copy of the shared workspace…"),
            lambda _progress, _cancelled: open_shared(self.session, address, password),
            on_done=self.window.open_workspace, notifier=self.notify,
            failure_title=_("Cannot connect to the shared workspace"), cancellable=False, owner=self)

    # -- keeping in step --------------------------------------------------------------------------

    def _on_opened(self) -> None:
        self.stop()
        ws = self.session.workspace
        link = SharedLink.for_session(self.session) if ws is not None else None
        if link is None:
            self.label.clear()
            return
        link.password = self.passwords.get(link.address)
        self.link = link
        link.changed.connect(lambda text: self.label.setText(text))
        self.catch_up.start()
        self.sync_now()

    def _listen(self) -> None:
        """(Again) listen for other windows' commits: at opening, and after the server was out of reach."""
        if self.listener is not None and self.listener.isRunning():
            return
        self.listener = _Listener(self.link.address, self.link.password, self)
        self.listener.heard.connect(lambda _tables: self.timer.start())
        self.listener.start()

    def sync_now(self) -> None:
        if self.link is None:
            return
        try:
            result = self.link.sync()
        except LanternError as exc:
            self.notify(_("Cannot sync with the shared workspace"), str(exc))
            return
        if result is not None:
            self._listen()
        if result is not None and result.conflicts:
            self.decide(result.conflicts)

    def decide(self, conflicts) -> None:
        """Ask which version of each row to keep; answered, sync again with the decisions."""
        if getattr(self, "conflict_dialog", None) is not None and self.conflict_dialog.isVisible():
            return  # already asking
        self.conflict_dialog = dialog = ConflictDialog(conflicts, self.link.server, self.window)
        dialog.accepted.connect(lambda: self.link is not None and self.link.sync(resolve=dialog.decisions()))
        dialog.open()

    def where(self) -> str | None:
        """For the window's title: the server a shared copy belongs to (its file name means nothing to people)."""
        return _("shared: {server}").format(server=self.link.server) if self.link is not None else None

    def stop(self) -> None:
        self.timer.stop()
        self.catch_up.stop()
        if self.listener is not None:
            self.listener.requestInterruption()
            self.listener.wait()
            self.listener = None
        self.link = None


def is_shared_address(text) -> bool:
    return is_server_address(str(text))
