"""Safe destinations for every export: an export must never destroy anything.

An export once deleted the very workspace it was reading: the user picked the
workspace file (through another spelling of its path) as the destination, and
the writer ``unlink()``-ed the destination before writing. Every export writer
therefore writes through this module:

* :func:`check_destination` refuses a destination that is the workspace (same
  path, another spelling, a symlink, a hard link), one of its SQLite sidecars
  (``-journal``, ``-wal``, ``-shm``), a path inside it, a folder that holds it,
  or an existing file/non-empty folder when overwriting was not asked for.
* :func:`staged_files` and :func:`staged_folder` let the writer write into
  temporary names beside the destination; only a finished export is moved into
  place with ``os.replace``. A failed export leaves no temporary files and the
  old destination untouched. Nothing is ever deleted to make room.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from layers.errors import LanternError
from layers.i18n import _

SIDECARS = ("-journal", "-wal", "-shm")
_HOT_JOURNAL = b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"  # SQLite rollback journal header magic


class DestinationError(LanternError):
    """An export destination cannot be written without risk. Names the path and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# --- identity of paths -------------------------------------------------------

def _abs(p: Path) -> Path:
    return Path(os.path.abspath(p))


def _stat_id(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _case_insensitive(p: Path) -> bool:
    """Whether the folder holding the existing ``p`` ignores case (``p`` is found under another case)."""
    other = p.with_name(p.name.swapcase())
    return other.name != p.name and _stat_id(p) is not None and _stat_id(other) == _stat_id(p)


def _same(a: Path, b: Path, nocase: bool = False) -> bool:
    """``a`` and ``b`` name the same file: same resolved path, or the same inode when both exist."""
    if a.resolve() == b.resolve():
        return True
    ia, ib = _stat_id(a), _stat_id(b)
    if ia is not None and ia == ib:
        return True
    if nocase and a.name.casefold() == b.name.casefold():
        return _same(a.parent, b.parent)
    return False


def _is_workspace(target: Path, protected: Path) -> str | None:
    """A problem text if ``target`` is the workspace or one of its SQLite sidecars."""
    nocase = _case_insensitive(protected)
    if _same(target, protected, nocase):
        return _("this is the workspace being exported; choose another file")
    bases = {_abs(protected), protected.resolve()}
    for base in bases:
        for suffix in SIDECARS:
            if _same(target, base.with_name(base.name + suffix), nocase):
                return _("this is a working file of the workspace being exported (SQLite {suffix}); choose another file").format(
                    suffix=suffix
                )
    return None


def _holds_workspace(folder: Path, protected: Path) -> bool:
    """Whether ``folder`` is the workspace's folder or any folder above it."""
    for base in {_abs(protected), protected.resolve()}:
        for ancestor in base.parents:
            if _same(folder, ancestor):
                return True
    return False


# --- the check ---------------------------------------------------------------

def check_destination(target: Path, protected: Path | None, overwrite: bool, folder: bool = False) -> None:
    """Raise :class:`DestinationError` unless writing ``target`` is safe.

    ``protected`` is the workspace being exported (or None). ``folder`` says the
    export is a folder of files rather than one file. Refused always, even with
    ``overwrite``: the workspace itself (any spelling, symlink or hard link), its
    ``-journal``/``-wal``/``-shm`` sidecars, a path inside it, a folder holding
    it, a file where a folder is expected and the other way round, and a parent
    path running through a file. Refused without ``overwrite``: an existing file,
    or for ``folder=True`` a non-empty folder (an empty one is fine).
    """
    target = Path(target)
    if protected is not None:
        protected = Path(protected)
        problem = _is_workspace(target, protected)
        if problem:
            raise DestinationError(target, problem)
        for above in _abs(target).parents:
            if _same(above, protected):
                raise DestinationError(target, _("this is inside the workspace being exported; choose another place"))
        if _holds_workspace(target, protected):
            raise DestinationError(
                target, _("this folder holds the workspace being exported ({ws}); choose another folder").format(ws=protected)
            )
    for above in reversed(_abs(target).parents):
        if os.path.lexists(above) and not above.is_dir():
            raise DestinationError(target, _("{part} is a file, not a folder; choose another place").format(part=above))
    if folder:
        if os.path.lexists(target) and not target.is_dir():
            raise DestinationError(target, _("this is a file; the export needs a folder, choose another name"))
        if target.is_dir() and any(target.iterdir()) and not overwrite:
            raise DestinationError(
                target,
                _("the folder exists and is not empty; use --overwrite (or agree to replace in the dialog) to replace files in it"),
            )
    else:
        if target.is_dir():
            raise DestinationError(target, _("this is a folder; the export needs a file name"))
        if os.path.lexists(target) and not overwrite:
            raise DestinationError(
                target, _("the file exists; use --overwrite (or agree to replace in the dialog) to replace it")
            )


# --- staging -----------------------------------------------------------------

def _partial_name(target: Path) -> str:
    """``.<name>.partial-<random><suffixes>``: hidden, beside the target, same suffix for format detection."""
    token = secrets.token_hex(4)
    keep = "".join(target.suffixes)
    if len(keep) > 16:
        keep = target.suffix
    name = f".{target.name}.partial-{token}{keep}"
    if len(name.encode()) > 240:
        name = f".partial-{token}{target.suffix}"
    return name


def _remove(path: Path) -> None:
    for p in [path] + [path.with_name(path.name + s) for s in SIDECARS]:
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                p.unlink()
        except OSError:
            pass


def _unfinished(path: Path) -> str | None:
    """The sidecar showing a SQLite file was left mid-write (non-empty -wal or hot -journal), if any."""
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        return wal.name
    journal = path.with_name(path.name + "-journal")
    if journal.is_file():
        with open(journal, "rb") as fh:
            if fh.read(len(_HOT_JOURNAL)) == _HOT_JOURNAL:
                return journal.name
    return None


@dataclass
class StagedFiles:
    """What :func:`staged_files` yields: write to ``paths[i]``; ``files`` lists the targets once committed."""

    paths: list[Path]
    targets: list[Path]
    files: list[Path] = field(default_factory=list)


@dataclass
class StagedFolder:
    """What :func:`staged_folder` yields: fill the folder ``path``; ``files`` lists the final files once committed."""

    path: Path
    target: Path
    files: list[Path] = field(default_factory=list)


def _raise_storage(target: Path, exc: BaseException) -> None:
    """A full disk, a read-only place or a refused permission while writing an export: one message
    naming the destination (the temporary files are already gone, the old destination untouched)."""
    if isinstance(exc, LanternError) or not isinstance(exc, Exception):
        return
    from layers.workspace import storage_error

    error = storage_error(target, exc, _("nothing was written and nothing was replaced"))
    if error is not None:
        raise error from exc


@contextmanager
def staged_files(targets: list[Path], protected: Path | None, overwrite: bool) -> Iterator[StagedFiles]:
    """Write one or more files through temporary names and move them into place only on success.

    Every target is checked with :func:`check_destination` before anything is
    created; then parent folders are made and a :class:`StagedFiles` is yielded
    whose ``paths[i]`` is a not-yet-existing hidden name in the folder of
    ``targets[i]`` ending in the same suffix. On normal exit every target is
    checked again, every temporary file must exist (else DestinationError,
    nothing replaced), and each is ``os.replace``-d onto its target; ``files``
    then lists the targets. On an exception all temporary files and their
    SQLite sidecars are removed, existing targets are untouched, and the
    exception propagates. A format that writes several files per target (e.g.
    a shapefile) belongs in :func:`staged_folder` instead.
    """
    targets = [Path(t) for t in targets]
    seen: list[Path] = []
    for t in targets:
        check_destination(t, protected, overwrite)
        if any(_same(t, s) for s in seen):
            raise DestinationError(t, _("this file is named twice in one export"))
        seen.append(t)
    for t in targets:
        try:
            t.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _raise_storage(t, exc)
            raise
    staged = StagedFiles(paths=[t.with_name(_partial_name(t)) for t in targets], targets=targets)
    try:
        yield staged
        for tmp, t in zip(staged.paths, targets):
            if not tmp.is_file():
                raise DestinationError(t, _("the export did not write this file; nothing was replaced"))
            left = _unfinished(tmp)
            if left:
                raise DestinationError(t, _("the export was not finished ({file} remains); nothing was replaced").format(file=left))
        for t in targets:
            check_destination(t, protected, overwrite)
        for tmp, t in zip(staged.paths, targets):
            os.replace(tmp, t)
            _remove(tmp)  # only empty or stale sidecars can remain here
    except BaseException as exc:
        for tmp in staged.paths:
            _remove(tmp)
        _raise_storage(targets[0] if targets else Path("."), exc)
        raise
    staged.files = list(targets)


def _walk_files(root: Path) -> list[Path]:
    """Every non-folder under ``root``, relative to it (symlinks are moved as links)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            found.append((base / name).relative_to(root))
    return sorted(found)


@contextmanager
def staged_folder(target: Path, protected: Path | None, overwrite: bool) -> Iterator[StagedFolder]:
    """Write a folder of files into a temporary folder beside ``target``, then move the files in.

    ``target`` is checked with ``check_destination(..., folder=True)``; then its
    parent is made and a :class:`StagedFolder` is yielded whose ``path`` is a
    fresh hidden folder ``.<name>.partial-<random>`` beside ``target``. The writer
    fills it (sub-folders allowed). On normal exit the target is created if
    missing, every final path is checked with :func:`check_destination` before
    anything moves, then each file is ``os.replace``-d into place and the
    temporary folder removed; ``files`` then lists the final paths, sorted.
    Files already in ``target`` that the export did not write are left alone.
    Writing no file at all is an error. On an exception the temporary folder is
    removed, ``target`` is untouched, and the exception propagates.
    """
    target = Path(target)
    check_destination(target, protected, overwrite, folder=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = StagedFolder(path=Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent)),
                              target=target)
    except OSError as exc:
        _raise_storage(target, exc)
        raise
    created = False
    try:
        yield staged
        relative = _walk_files(staged.path)
        if not relative:
            raise DestinationError(target, _("the export wrote no files; nothing was changed"))
        check_destination(target, protected, overwrite, folder=True)
        if not target.exists():
            target.mkdir()
            created = True
        finals = [target / rel for rel in relative]
        for final in finals:
            check_destination(final, protected, overwrite)
        for rel, final in zip(relative, finals):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged.path / rel, final)
    except BaseException as exc:
        shutil.rmtree(staged.path, ignore_errors=True)
        if created:
            try:
                target.rmdir()  # only if still empty: nothing was moved
            except OSError:
                pass
        _raise_storage(target, exc)
        raise
    shutil.rmtree(staged.path, ignore_errors=True)
    staged.files = sorted(finals)
