"""XLSForm files: the workbook (openpyxl), its XForm (pyxform, checked by ODK Validate when Java is there)
and the plain CSV a form's ``select_one_from_file`` reads on the phone.

The CSV is UTF-8 *without* a byte-order mark and with ``\\n`` line ends: ODK Collect's form engine
(JavaRosa) reads a BOM as part of the first column's name, so "name" would not be found (getodk/javarosa
issue 687). It is a file for phones, not for spreadsheets; formula-like cells still get the spreadsheet
guard (layers.spreadsheet.safe_cell) in case someone opens it in one.
"""
from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

from layers.errors import LanternError
from layers.i18n import _
from layers.spreadsheet import safe_cell

#: the width of a workbook column, in characters (long labels wrap in a spreadsheet anyway)
_WIDTH = {"type": 34, "name": 22}
_DEFAULT_WIDTH = 40


@dataclass
class XForm:
    xml: str
    warnings: list[str]
    odk_validated: bool  # ODK Validate (JavaRosa, as on the phone) checked it, not only pyxform


def write_workbook(path: str | Path, sheets: dict[str, list[list]]) -> None:
    """An .xlsx with one sheet per entry; each sheet's first row is its header (bold, frozen)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([None if v == "" else v for v in row])  # an empty cell, not an empty string
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            sheet.column_dimensions[cell.column_letter].width = _WIDTH.get(cell.value, _DEFAULT_WIDTH)
        _as_text(sheet)
        sheet.freeze_panes = "A2"
    book.save(str(path))


def _as_text(sheet) -> None:
    """openpyxl stores a string starting with '=' as a formula; every cell here is text or a number."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"


def odk_validate_available() -> bool:
    """ODK Validate ships inside pyxform and needs a Java runtime."""
    from pyxform.validators import odk_validate

    return shutil.which("java") is not None and odk_validate.install_exists()


def convert(path: str | Path, validate: bool | None = None) -> XForm:
    """The XForm of the XLSForm at ``path``; a form pyxform (or ODK Validate) refuses raises LanternError."""
    from pyxform.errors import PyXFormError
    from pyxform.validators.odk_validate import ODKValidateError
    from pyxform.xls2xform import convert as pyxform_convert

    validate = odk_validate_available() if validate is None else validate
    warnings: list[str] = []
    try:
        result = pyxform_convert(str(path), warnings=warnings, validate=validate, pretty_print=True)
    except (PyXFormError, ODKValidateError) as exc:
        raise LanternError(_("{path}: the form could not be converted: {error}").format(path=path, error=exc)) \
            from exc
    return XForm(result.xform, list(warnings), validate)


def write_csv(path: str | Path, header: list[str], rows: list[list]) -> None:
    """A CSV for ODK Collect / KoBoToolbox media: UTF-8 without BOM, ``\\n`` line ends, guarded text."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else safe_cell(v) for v in row])
