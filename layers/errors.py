"""One exception type per kind of failure, each with a message for the user."""
from __future__ import annotations

from pathlib import Path


class LanternError(Exception):
    """Base class: the message is meant to be shown to the user as is."""


class InputError(LanternError):
    """A file the user gave us cannot be used. Names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class WorkspaceError(LanternError):
    """The workspace file is missing, not a Lantern workspace, or damaged."""


class ValidationError(LanternError):
    """Feature values do not fit the layer kind's declaration."""


class StorageError(LanternError):
    """The disk is full, the place is read-only, or the system refused access. Names the file; nothing was changed."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ReadOnlyWorkspace(WorkspaceError):
    """The workspace is open read-only (newer schema, read-only file, another writer); the message says why."""


class ServerError(LanternError):
    """A shared workspace server refused, could not be reached, or holds something Lantern cannot use.

    The message names the server (never its password) and the problem; nothing was changed."""
