"""Field submissions as ODK Central and KoBoToolbox export them: rows of the field form's answers, and photos.

Layouts read (as documented; the tests write synthetic exports in these layouts):

- **ODK Central, CSV zip** ("Download all records"): ``<form id>.csv`` at the top of the zip, one
  ``<form id>-<repeat>.csv`` per repeat group (rows tied to their submission by ``PARENT_KEY``) and the
  attachments in ``media/`` (ruODK's ``submission_export`` documentation: attachment names are relative to
  ``media/``). Columns are named by group path joined with ``-`` (``meta-instanceID``), plus
  ``SubmissionDate``, ``KEY`` and ``FormVersion``; a geopoint is split into ``<name>-Latitude``,
  ``-Longitude``, ``-Altitude``, ``-Accuracy`` (getodk/central issue 73); a select_multiple is one cell of
  space-separated choice names.
- **KoBoToolbox, CSV or XLSX** (its export API: ``grp_sep`` "/" and ``fsep`` ";" by default, ``multi_sel``
  "both", as KoboconnectR documents ``kobo_export_create``): group prefixes joined with ``/``, ``_uuid``,
  ``_submission_time``, ``meta/instanceID``, ``__version__``; a geopoint as ``_<name>_latitude``,
  ``_longitude``, ``_altitude``, ``_precision``; a select_multiple as the space-separated cell *and* one
  0/1 column ``<name>/<choice>`` per choice (read when the cell is empty; an export with only the 0/1 columns,
  ``multi_sel`` "details", is not understood). A CSV may start with a byte-order mark. In an XLSX export
  each repeat group is a sheet of its own, tied by ``_submission__uuid`` (or ``_parent_index``). The
  attachments folder holds ``attachments/<…>/<submission uuid>/<file>``.

An export is given as the zip, as the folder it was unpacked to, or as the CSV/XLSX file itself (its
``media/`` or ``attachments/`` folder beside it). ODK Central's OData feed is read by
layers.importers.odk_central, which lays each submission out as a row of the CSV export and reads it with
``odk_submission``, so both give the same submissions.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from layers.errors import InputError
from layers.i18n import _
from layers.photos import is_photo_name

ODK_CSV, KOBO_CSV, KOBO_XLSX = "odk-central-csv", "kobo-csv", "kobo-xlsx"
_GEO_ODK = {"Latitude": "lat", "Longitude": "lon", "Altitude": "alt", "Accuracy": "acc"}
_GEO_KOBO = re.compile(r"^_(?P<name>.+)_(?P<part>latitude|longitude|altitude|precision)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class RawSubmission:
    """One submission's answers by field name (group prefixes removed), its position and its photos."""
    instance_id: str
    submitted: str | None
    form_id: str
    form_version: str
    fields: dict[str, str]
    lon: float | None = None
    lat: float | None = None
    photos: list[str] = field(default_factory=list)  # attachment file names, as the export lists them
    repeat_rows: int = 0


class Attachments(Protocol):
    """Where an export's attachments come from: its files (``_Files``), or a server (odk_central)."""

    def attachment(self, source: str, instance_id: str, name: str) -> bytes | None: ...

    def close(self) -> None: ...


@dataclass
class SubmissionExport:
    source: str  # ODK_CSV, KOBO_CSV, KOBO_XLSX or odk_central.ODK_ODATA
    path: Path
    submissions: list[RawSubmission]
    files: Attachments
    label: str = ""  # what the change log names as the import's source (default: the file's name)

    @property
    def name(self) -> str:
        return self.label or self.path.name

    def photo(self, sub: RawSubmission, name: str) -> bytes | None:
        """The attachment ``name`` of ``sub`` as stored in the export, or None when it is missing."""
        return self.files.attachment(self.source, sub.instance_id, name)


#: a photo file larger than this is refused unread (phones write 2–15 MB)
MAX_PHOTO_BYTES = 50_000_000
#: the largest cell a CSV export may hold (Python's csv module refuses more than 131,072 characters by default)
MAX_CELL = 16_000_000
_UUID_FOLDER = re.compile(r"^(uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _loose_attachment(name: str) -> bool:
    """A file under attachments/ that sits in no submission's own folder (a KoBo export laid out by hand): it
    may be matched by its name alone; one in another submission's folder is that submission's."""
    parts = PurePosixPath(name).parts[:-1]
    return "attachments" in parts and not any(_UUID_FOLDER.match(p) for p in parts)


class _Files:
    """The export's files, from a zip or a folder, by POSIX path relative to its top."""

    def __init__(self, path: Path):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self._names = {p.relative_to(path).as_posix(): p for p in path.rglob("*") if p.is_file()}
        elif path.suffix.lower() not in (".csv", ".xlsx") and zipfile.is_zipfile(path):  # (a workbook is a zip too)
            self._zip = zipfile.ZipFile(path)
            self._names = {n: n for n in self._zip.namelist() if not n.endswith("/")}
        else:  # the table itself: its media/attachments folder beside it
            self._names = {path.name: path}
            for folder in ("media", "attachments"):
                if (path.parent / folder).is_dir():
                    self._names.update({p.relative_to(path.parent).as_posix(): p
                                        for p in (path.parent / folder).rglob("*") if p.is_file()})
        self._by_base: dict[str, list[str]] = {}
        for name in self._names:
            self._by_base.setdefault(PurePosixPath(name).name, []).append(name)

    def names(self) -> list[str]:
        return sorted(self._names)

    def size(self, name: str) -> int:
        ref = self._names[name]
        return self._zip.getinfo(ref).file_size if self._zip is not None else Path(ref).stat().st_size

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The file's bytes; ValueError when it is larger than ``limit`` (checked before anything is read: a
        zip bomb's few kilobytes can unpack to gigabytes)."""
        if limit is not None and self.size(name) > limit:
            raise ValueError(_("{name} is {mb:.0f} MB, more than the {limit:.0f} MB a photo may have").format(
                name=PurePosixPath(name).name, mb=self.size(name) / 1e6, limit=limit / 1e6))
        ref = self._names[name]
        return self._zip.read(ref) if self._zip is not None else Path(ref).read_bytes()

    def head(self, name: str, n: int = 4096) -> bytes:
        """The first ``n`` bytes of a file, without reading the rest."""
        ref = self._names[name]
        with (self._zip.open(ref) if self._zip is not None else open(ref, "rb")) as f:
            return f.read(n)

    def attachment(self, source: str, instance_id: str, name: str) -> bytes | None:
        base = PurePosixPath(name.replace("\\", "/")).name
        candidates = self._by_base.get(base, [])
        if source == ODK_CSV:
            found = [c for c in candidates if "media" in PurePosixPath(c).parts[:-1]]
        else:
            uuid = instance_id.removeprefix("uuid:")
            found = [c for c in candidates if uuid in PurePosixPath(c).parts[:-1]] or \
                (candidates if len(candidates) == 1 and _loose_attachment(candidates[0]) else [])
        return self.read(found[0], limit=MAX_PHOTO_BYTES) if found else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


# -- reading tables -------------------------------------------------------------------------------------------


def _csv_rows(data: bytes, path: Path, name: str) -> list[dict[str, str]]:
    """A CSV's rows as dicts: UTF-8 (a byte-order mark dropped), ``;`` or ``,`` separated, whichever the
    header uses."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, _("{name} is not UTF-8 text (byte {pos})").format(name=name, pos=exc.start)) from exc
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL))  # one long note must not refuse the export
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(path, _("{name} is not a readable CSV file: {error}").format(name=name, error=exc)) from exc
    if not rows:
        raise InputError(path, _("{name} is empty").format(name=name))
    head = [h.strip() for h in rows[0]]
    return [dict(zip(head, r)) for r in rows[1:] if any(c.strip() for c in r)]


def cell_text(value) -> str:
    """A spreadsheet or JSON value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _xlsx_sheets(data: bytes, path: Path) -> list[tuple[str, list[dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InputError(path, _("not a readable XLSX workbook: {error}").format(error=exc)) from exc
    sheets = []
    for sheet in book.worksheets:
        rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        if rows:
            head = [h.strip() for h in rows[0]]
            sheets.append((sheet.title, [dict(zip(head, r)) for r in rows[1:] if any(c.strip() for c in r)]))
    book.close()
    return sheets


# -- the rows' meaning --------------------------------------------------------------------------------------------


def _instance_id(value: str) -> str:
    value = (value or "").strip()
    if not value.removeprefix("uuid:").strip():
        return ""
    return f"uuid:{value}" if _UUID.match(value) else value


def _number(text: str) -> float | None:
    try:
        return float(text) if str(text).strip() != "" else None
    except ValueError:
        return None


def _leaf_fields(row: dict[str, str], sep: str) -> dict[str, str]:
    """Answers by field name: group prefixes dropped; KoBo's 0/1 choice columns folded into their question."""
    fields: dict[str, str] = {}
    choices: dict[str, list[str]] = {}
    for column, value in row.items():
        value = (value or "").strip()
        parts = column.split(sep)
        parent = sep.join(parts[:-1])
        if sep == "/" and parent in row and len(parts) > 1:  # "<question>/<choice>" 0/1 column
            if value in ("1", "True", "true"):
                choices.setdefault(parts[-2], []).append(parts[-1])
            continue
        if column.endswith("_URL"):  # KoBo's link beside an attachment's file name
            continue
        leaf = parts[-1]
        if value and not fields.get(leaf):
            fields[leaf] = value
    for question, picked in choices.items():
        if not fields.get(question):
            fields[question] = " ".join(picked)
    return fields


def _geopoint(row: dict[str, str], fields: dict[str, str], sep: str) -> tuple[float | None, float | None]:
    lat = lon = None
    for column, value in row.items():
        if sep == "-" and "-" in column and column.rsplit("-", 1)[1] in _GEO_ODK:
            part = _GEO_ODK[column.rsplit("-", 1)[1]]
        elif sep == "/" and _GEO_KOBO.match(column.split("/")[-1]):
            part = {"latitude": "lat", "longitude": "lon"}.get(_GEO_KOBO.match(column.split("/")[-1])["part"])
        else:
            continue
        if part == "lat" and lat is None:
            lat = _number(value)
        elif part == "lon" and lon is None:
            lon = _number(value)
    if lat is None or lon is None:  # the geopoint as one cell: "lat lon altitude accuracy"
        numbers = [_number(x) for x in fields.get("location", "").split()]
        if len(numbers) >= 2 and None not in numbers[:2]:
            lat, lon = numbers[0], numbers[1]
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)) or \
            not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None  # no position, or one no phone can have taken: the reviewer places it
    return lon, lat


def _photos(row: dict[str, str]) -> list[str]:
    return [v.strip() for c, v in row.items() if not c.endswith("_URL") and is_photo_name(v)]


# -- ODK Central ---------------------------------------------------------------------------------------------


def _odk_tables(files: _Files) -> tuple[str, list[str]]:
    """The root CSV (top level, no PARENT_KEY) and the repeat groups' CSVs."""
    tops = [n for n in files.names() if "/" not in n and n.lower().endswith(".csv")]
    roots = [n for n in tops if not any(n != o and n.startswith(o[:-4] + "-") for o in tops)]
    return (roots[0] if len(roots) == 1 else ""), [n for n in tops if n not in roots]


def odk_submission(row: dict[str, str], form_id: str) -> RawSubmission:
    """One row of ODK Central's CSV export (columns named by group path joined with ``-``) as a submission."""
    fields = _leaf_fields(row, "-")
    iid = _instance_id(row.get("meta-instanceID") or fields.get("instanceID", "")) or _instance_id(row.get("KEY", ""))
    lon, lat = _geopoint(row, fields, "-")
    return RawSubmission(iid, row.get("SubmissionDate") or None, form_id, row.get("FormVersion", ""), fields, lon, lat,
                         _photos(row))


def add_repeat_row(parent: RawSubmission, row: dict[str, str]) -> None:
    """A repeat group's row: its photos belong to the submission."""
    parent.photos += _photos(row)
    parent.repeat_rows += 1


def _read_odk(files: _Files, path: Path, root: str, repeats: list[str]) -> list[RawSubmission]:
    form_id = root[:-4]
    subs, by_key = [], {}
    for row in _csv_rows(files.read(root), path, root):
        sub = odk_submission(row, form_id)
        iid = sub.instance_id
        subs.append(sub)
        by_key[row.get("KEY") or iid] = sub
    for name in repeats:
        for row in _csv_rows(files.read(name), path, name):
            parent = by_key.get((row.get("PARENT_KEY") or "").split("/")[0])
            if parent is not None:
                add_repeat_row(parent, row)
    return subs


# -- KoBoToolbox ------------------------------------------------------------------------------------------------


def _kobo_submission(row: dict[str, str], form_id: str) -> RawSubmission:
    fields = _leaf_fields(row, "/")
    iid = _instance_id(row.get("meta/instanceID", "")) or _instance_id(row.get("_uuid", ""))
    lon, lat = _geopoint(row, fields, "/")
    return RawSubmission(iid, row.get("_submission_time") or None, row.get("_xform_id_string") or form_id,
                         row.get("__version__", ""), fields, lon, lat, _photos(row))


def _read_kobo(files: _Files, path: Path, table: str) -> tuple[str, list[RawSubmission]]:
    form_id = PurePosixPath(table).stem
    if table.lower().endswith(".csv"):
        return KOBO_CSV, [_kobo_submission(r, form_id) for r in _csv_rows(files.read(table), path, table)]
    sheets = _xlsx_sheets(files.read(table), path)
    if not sheets:
        raise InputError(path, _("{name} has no sheet of submissions").format(name=table))
    main = [_kobo_submission(r, form_id) for r in sheets[0][1]]
    by_uuid = {s.instance_id: s for s in main}
    by_index = {r.get("_index"): s for r, s in zip(sheets[0][1], main)}
    for _title, rows in sheets[1:]:  # repeat groups
        for row in rows:
            parent = by_uuid.get(_instance_id(row.get("_submission__uuid", ""))) or \
                by_index.get(row.get("_parent_index"))
            if parent is not None:
                parent.photos += _photos(row)
                parent.repeat_rows += 1
    return KOBO_XLSX, main


# -- the export ------------------------------------------------------------------------------------------------


def _kobo_table(files: _Files) -> str:
    tables = [n for n in files.names() if n.lower().endswith((".csv", ".xlsx"))
              and "attachments" not in PurePosixPath(n).parts and "media" not in PurePosixPath(n).parts]
    return tables[0] if len(tables) == 1 else ""


def _header(files: _Files, name: str) -> str:
    if name.lower().endswith(".xlsx"):
        return "_uuid"  # only KoBo exports are read as workbooks
    return files.head(name).decode("utf-8-sig", errors="replace").split("\n", 1)[0]


def read_export(path: str | Path) -> SubmissionExport:
    """The submissions of an ODK Central or KoBoToolbox export; raises InputError naming the file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, _("no such file or folder"))
    try:
        files = _Files(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path, _("cannot be read: {error}").format(error=exc)) from exc
    root, repeats = _odk_tables(files)
    if root and ("meta-instanceID" in _header(files, root) or "SubmissionDate" in _header(files, root)):
        subs, source = _read_odk(files, path, root, repeats), ODK_CSV
    else:
        table = _kobo_table(files)
        if not table or not re.search(r"_uuid|meta/instanceID|_submission_time", _header(files, table)):
            files.close()
            raise InputError(path, _("not an ODK Central or KoBoToolbox export of submissions (no instance ids "
                                     "found)"))
        source, subs = _read_kobo(files, path, table)
    missing = [i + 2 for i, s in enumerate(subs) if not s.instance_id]
    if missing:
        files.close()
        raise InputError(path, _("rows without an instance id: {rows}").format(rows=", ".join(map(str, missing[:10]))))
    return SubmissionExport(source, path, subs, files)
