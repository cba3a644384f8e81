"""The open copy's link to its shared workspace on the server (Qt-free): keep in step, say how it stands.

The window observes it as it observes the session: ``changed`` fires with a short state text after each sync.
Syncing is the window's to time (after an edit, when the server says another window committed, when asked);
here it is one call that never loses work: a server that cannot be reached leaves the changes in the copy,
waiting, and the copy stays usable offline.
"""
from __future__ import annotations

from pathlib import Path

from psygnal import Signal

from layers import server_sync
from layers.errors import LanternError, ServerError
from layers.i18n import _, ngettext
from layers.server import describe


def copies_folder() -> Path:
    """Where the window keeps its copies of shared workspaces (one per server, database and account)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("lantern", appauthor=False)) / "shared"


def copy_path_for(address: str) -> Path:
    """This installation's copy of the shared workspace at ``address`` (a stable, readable file name)."""
    import hashlib
    import re

    from layers.server import without_password

    plain = without_password(address)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", describe(address)).strip("_")[:60] or "shared"
    return copies_folder() / f"{name}-{hashlib.sha256(plain.encode()).hexdigest()[:8]}.gpkg"


class SharedLink:
    """Syncs the session's workspace (a copy) with its server; remembers the outcome for the views."""

    changed = Signal(str)  # the state in words, after each sync

    def __init__(self, session, address: str, password: str | None = None):
        self.session, self.address, self.password = session, address, password
        self.conflicts: list[server_sync.Conflict] = []
        self.offline: str | None = None  # why the server could not be reached, at the last try
        self.received = 0

    @classmethod
    def for_session(cls, session, password: str | None = None) -> "SharedLink | None":
        """A link when the session's workspace is a copy of a shared workspace, else None."""
        ws = session.workspace
        address = server_sync.server_of(ws) if ws is not None else None
        return cls(session, address, password) if address else None

    @property
    def server(self) -> str:
        return describe(self.address)

    def waiting(self) -> int:
        """Changes (history entries) made here that the server has not had yet."""
        ws = self.session.workspace
        return server_sync.unsent_entries(ws) if ws is not None else 0

    def sync(self, resolve: dict | None = None) -> server_sync.SyncResult | None:
        """Bring the copy and the server in step; the views re-read what others changed. None when offline."""
        ws = self.session.workspace
        if ws is None or ws.read_only or self.session.busy:
            return None
        try:
            result = server_sync.sync(ws, self.address, resolve=resolve, author=self.session.author,
                                      password=self.password)
        except ServerError as exc:
            self.offline = str(exc)
            self.changed.emit(self.state_text())
            return None
        self.offline = None
        self.conflicts = result.conflicts
        if result.received_entries or result.received_rows:
            self.received += result.received_entries
            self.session.reload(keep_view=True)
        self.changed.emit(self.state_text())
        return result

    def state_text(self) -> str:
        if self.conflicts:
            return ngettext("Shared ({server}): {n} row changed here and there — decide which to keep",
                            "Shared ({server}): {n} rows changed here and there — decide which to keep",
                            len(self.conflicts)).format(server=self.server, n=len(self.conflicts))
        waiting = self.waiting()
        if self.offline:
            return ngettext("Shared ({server}): offline, {n} change waits to be sent",
                            "Shared ({server}): offline, {n} changes wait to be sent", waiting).format(
                server=self.server, n=waiting)
        return _("Shared ({server}): in step").format(server=self.server)


def open_shared(session, address: str, password: str | None = None, progress=None) -> Path:
    """The path of this installation's copy of ``address``, pulled first when there is none yet."""
    path = copy_path_for(address)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        server_sync.pull(address, path, author=session.author or _("a Lantern window"), label=path.name,
                         password=password)
    return path


__all__ = ["SharedLink", "copy_path_for", "open_shared", "LanternError"]
