"""layers.spreadsheet: empty cells stay empty, numbers keep their sign, and the formula guard neutralises
exactly what a spreadsheet would evaluate."""
import csv
import math

import numpy as np
import pandas as pd
import pytest

from layers.errors import LanternError
from layers.spreadsheet import cell, csv_writer, dialect, safe_cell, using_dialect

# cells that Excel, LibreOffice or Google Sheets evaluate (OWASP's CSV-injection list and its variants)
FORMULAS = ["=1+1", "=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+1+1", "-1+1", "-1-1", "+A1", "-A1", "-2*3",
            "=HYPERLINK(\"http://x\",\"y\")", "\t=1+1", "\r=1+1", "\n=1", "\0=1", "-1,5+2", "+1e3+1",
            "\uff1d1+1", "\uff20SUM(A1)", "-(1)", "--1", "-1_2+3", "-SUM(A1)", "+", "=", "@"]
# harmless cells that must come through unchanged
HARMLESS = ["-13867_30817", "-12.5", "-12,5", "+371", "-0.000123", "-1e-5", "-3", "-", "Brīvības iela 1",
            "a=b", "x-1", "e-mail", "1+1", ""]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_neutralised(text):
    assert safe_cell(text) == "'" + text  # positive control: the guard does act
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_a_harmless_cell_is_left_alone(text):
    assert safe_cell(text) == text and cell(text) == text


def test_no_nan_in_empty_cells():
    for missing in (None, float("nan"), np.float64("nan"), pd.NA, pd.NaT, np.datetime64("NaT")):
        assert cell(missing) == "", missing
    assert cell(0) == "0" and cell(0.0) == "0.0" and cell(False) == "False"  # zero and False are not missing
    assert cell(np.int64(-4)) == "-4" and cell(-2.5, ",") == "-2,5"


def test_excel_lv_dialect_writes_semicolons_decimal_commas_and_a_bom(tmp_path):
    path = tmp_path / "t.csv"
    with using_dialect("excel-lv"), csv_writer(path) as write:
        write(["name", "value", "note"])
        write(["Brīvības; iela", 56.95, float("nan")])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows == [["name", "value", "note"], ["Brīvības; iela", "56,95", ""]]
    assert math.isclose(float(rows[1][1].replace(",", ".")), 56.95)


def test_unknown_dialect_is_refused():
    with pytest.raises(LanternError, match="excel-lv"):
        dialect("excel-fr")
    with pytest.raises(LanternError):
        with using_dialect("tsv"):
            pass
