"""Reading a register of local actors from a CSV file (the checks of its values are in audit.actor_import).

UTF-8 (with or without BOM), or Windows-1257 when that gives Latvian letters (with a notice, as every CSV
import); comma or semicolon delimited (Latvian Excel writes semicolons). Cells are text, stripped.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from layers.errors import InputError
from layers.i18n import _
from layers.importers import encoding as text_encoding


def _blocks(path: Path):
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            yield block


def _encoding(path: Path) -> tuple[str, list[str]]:
    found = text_encoding.detect(lambda: _blocks(path))
    if found is None:
        raise InputError(path, _("cannot be read as CSV: it is not UTF-8 text; save it as \"CSV UTF-8\" and try again"))
    if found == text_encoding.BALTIC:
        return found, [text_encoding.notice(path, found)]
    return "utf-8-sig", []


def read_rows(path: str | Path) -> tuple[list[str], list[dict], list[str]]:
    """(header, rows as dicts of stripped text, notices). Refuses a missing, empty or binary file, naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, _("no such file"))
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise InputError(path, _("cannot be read as CSV: the file holds binary data, not text"))
    codec, notices = _encoding(path)
    text = data.decode(codec)
    if not text.strip():
        raise InputError(path, _("the file is empty"))
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    rows = [{h: (cell or "").strip() for h, cell in zip(header, cells)}
            for cells in reader if any(c.strip() for c in cells)]
    if not rows:
        raise InputError(path, _("the file is empty"))
    return header, rows, notices
