"""Police exports: the confirmation and recipient they need, and their change-log entry.

Every output made for the police profile — shared files, the district
report, an outreach plan — passes ``require_confirmation`` before anything
is computed and ``log_export`` after its files are in place, so no path
leaves full detail without a named recipient and a trace.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from audit.redaction import now
from layers.errors import LanternError
from layers.i18n import _


class ConfirmationRequired(LanternError):
    """A police export was asked for without the explicit confirmation."""


def require_confirmation(profile: str, recipient: str, confirm_police: bool) -> None:
    if profile != "police":
        return
    if not confirm_police:
        raise ConfirmationRequired(_("A police export needs an explicit confirmation (--confirm-police); "
                                     "nothing was written."))
    if not (recipient or "").strip():
        raise ConfirmationRequired(_("A police export needs the recipient's name; nothing was written."))


def log_export(workspace, profile: str, fmt: str, recipient: str, author: str, files: list[Path]) -> None:
    """Write a police export to the change log: recipient, time, profile, format, each file's SHA-256."""
    from audit import changelog

    if profile != "police":
        return
    record = {"recipient": recipient.strip(), "profile": profile, "format": fmt,
              "time": now().isoformat(timespec="seconds"),
              "files": {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in files}}
    with workspace.atomic() as db:
        changelog.append(db, author=author, action="export", table="*", row_id=None, before=None, after=record)
