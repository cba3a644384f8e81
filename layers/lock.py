"""One writer per workspace: ``<workspace>.lock`` beside the file, held with ``flock``.

The lock file names its holder (process id, host, since when, what it is
doing), so a second writer is told who holds the workspace. The kernel drops
an ``flock`` when its process dies, so a lock left by a crashed or killed
process (a "stale" lock: its pid is gone) is simply taken over; the file's
old contents are overwritten. Readers (``check``, public exports, the map)
never take the lock: SQLite itself keeps them consistent.

Two ``WriteLock`` objects on the same workspace exclude each other even in
one process (``flock`` belongs to the open file, not to the process).
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from layers.errors import StorageError, WorkspaceError
from layers.i18n import _

LOCK_SUFFIX = ".lock"


def default_wait() -> float:
    """Seconds a second writer waits for the lock before it refuses (LANTERN_LOCK_WAIT overrides; default 3)."""
    try:
        return max(0.0, float(os.environ.get("LANTERN_LOCK_WAIT", "3")))
    except ValueError:
        return 3.0


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + LOCK_SUFFIX)


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    since: str
    what: str = ""

    def describe(self) -> str:
        text = _("process {pid} on {host} since {since}").format(pid=self.pid, host=self.host, since=self.since)
        return f"{text} ({self.what})" if self.what else text


class WorkspaceLocked(WorkspaceError):
    """Another writer holds the workspace. Names the file and the holder."""

    def __init__(self, path: str | Path, holder: Holder | None, waited: float):
        self.path, self.holder, self.waited = Path(path), holder, waited
        who = holder.describe() if holder else _("another program")
        super().__init__(_("{name} is being changed by {who}; waited {s:.0f} s, nothing was changed. "
                           "Try again when it is done.").format(name=self.path.name, who=who, s=waited))


def _read_holder(fd_or_path) -> Holder | None:
    try:
        if isinstance(fd_or_path, int):
            raw = os.pread(fd_or_path, 4096, 0)
        else:
            raw = Path(fd_or_path).read_bytes()[:4096]
        doc = json.loads(raw.decode("utf-8"))
        return Holder(int(doc["pid"]), str(doc["host"]), str(doc["since"]), str(doc.get("what", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _what() -> str:
    argv = [os.path.basename(sys.argv[0])] + sys.argv[1:2] if sys.argv and sys.argv[0] else []
    return " ".join(a for a in argv if a)


def holder(path: str | Path) -> Holder | None:
    """Who holds the write lock of the workspace ``path`` now, or None (free, or only a stale lock file)."""
    lp = lock_path(path)
    try:
        fd = os.open(lp, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder(0, "?", "?")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # nobody holds it: a stale file from a process that died
    finally:
        os.close(fd)


def _holder_soon(path: Path, patience: float = 0.5) -> Holder | None:
    """The holder, once it has written its name: it takes the lock a moment before it can say who it is."""
    deadline = time.monotonic() + patience
    while True:
        found = holder(path)
        if (found is not None and found.pid) or time.monotonic() >= deadline:
            return found if found is not None and found.pid else None
        time.sleep(0.02)


def _storage(path: Path, exc: OSError) -> StorageError:
    return StorageError(path, _("cannot create the lock file {lock} ({e})").format(
        lock=lock_path(path).name, e=exc.strerror or exc))


class WriteLock:
    """The write lock of one workspace file. ``acquire`` waits up to ``wait`` seconds, then raises WorkspaceLocked."""

    def __init__(self, path: str | Path, what: str | None = None):
        self.path = Path(path)
        self.what = _what() if what is None else what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float | None = None) -> None:
        if self._fd is not None:
            return
        wait = default_wait() if wait is None else wait
        lp = lock_path(self.path)
        started = time.monotonic()
        while True:
            try:
                fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise _storage(self.path, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                who = _read_holder(fd)
                os.close(fd)
                waited = time.monotonic() - started
                if waited >= wait:
                    raise WorkspaceLocked(self.path, who or _holder_soon(self.path), waited) from None
                time.sleep(min(0.1, max(0.01, wait - waited)))
                continue
            except OSError as exc:  # a file system without flock: no exclusion possible, say so
                os.close(fd)
                raise _storage(self.path, exc) from None
            # the holder before us may have removed the file between our open and our flock
            try:
                same = os.fstat(fd).st_ino == os.stat(lp).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since, "what": self.what})
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, info.encode("utf-8"), 0)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):  # a full disk must not stop the lock itself
                    os.close(fd)
                    raise _storage(self.path, exc) from None
            self._fd = fd
            return

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            lp = lock_path(self.path)
            if os.fstat(fd).st_ino == os.stat(lp).st_ino:
                lp.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)  # drops the flock

    def __del__(self):  # pragma: no cover - safety net; Workspace.close releases
        try:
            self.release()
        except Exception:  # noqa: BLE001
            pass


__all__ = ["WriteLock", "WorkspaceLocked", "Holder", "holder", "lock_path", "default_wait"]
