"""The change of the risk surface between two rounds, its suppression per profile (attacks with positive
controls), and the comparison's files."""
import csv
import json
import shutil
import subprocess

import numpy as np
import pytest

from audit.annotations import annotate
from audit.commands import History
from audit.export_log import ConfirmationRequired
from layers import hexgrid
from layers.workspace import Workspace
from mapping.round_change import change_surface, round_summary
from mapping.round_export import TABLES, export_comparison
from tests.rounds_fixture import ROUND_A, ROUND_B, add_place, build, lonlat, note


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    path = tmp_path_factory.mktemp("rounds") / "district.gpkg"
    build(path)
    with Workspace.open(path) as ws:  # one case reported in round B, police-only
        _add_case(ws, 2000, 2000, ROUND_B[2].isoformat()[:7])
    return path


@pytest.fixture
def copy(district, tmp_path):
    path = tmp_path / "copy.gpkg"
    shutil.copy(district, path)
    return path


def _add_case(ws, x: float, y: float, month: str) -> None:
    import shapely

    from layers import gpkg_geometry

    with ws.atomic():
        ws.insert_row("reported_cases", {"reported": month, "forms": "labour", "status": "potential",
                                         "geom": gpkg_geometry.encode([shapely.Point(*lonlat(x, y))])[0]})


def _cell_of(surface, x: float, y: float):
    """The row of ``surface.cells`` holding the point ``x``, ``y`` m from the fixture's origin (None: no row)."""
    from pyproj import Transformer

    mx, my = Transformer.from_crs(4326, surface.crs, always_xy=True).transform(*lonlat(x, y))
    q, r = hexgrid.axial(np.array([mx]), np.array([my]), surface.params.cell_size)
    found = surface.cells[(surface.cells["q"] == q[0]) & (surface.cells["r"] == r[0])]
    return found.iloc[0] if len(found) else None


def test_the_change_per_cell_follows_the_places_and_the_cases(district):
    with Workspace.open(district) as ws:
        police = change_surface(ws, "Round A", "Round B", "police")
    new, gone, up = _cell_of(police, 500, 1500), _cell_of(police, 1500, 1500), _cell_of(police, 500, 500)
    assert new["places_from"] == 0 and new["places_to"] == 2 and new["risk_from"] == 0 and new["change"] > 0
    assert gone["places_to"] == 0 and gone["change"] < 0
    assert (up["places_from"], up["places_to"]) == (1, 4) and up["change"] > 0
    case = _cell_of(police, 2000, 2000)
    assert (case["cases_from"], case["cases_to"]) == (0, 1)
    assert 0 < police.cells["risk_from"].max() <= 100 and 0 < police.cells["risk_to"].max() <= 100
    # one scale for both rounds: the place weight 4 of round B's top cell counts 1/3 of the index in both
    assert up["risk_to"] == pytest.approx(100 / 3 * 4 / 4 + 0, abs=0.1) and up["risk_from"] == pytest.approx(
        100 / 3 * 1 / 4, abs=0.1)
    assert np.allclose(police.cells["change"], police.cells["risk_to"] - police.cells["risk_from"], atol=0.11)


def test_suppressed_in_both_rounds_before_the_difference(copy):
    """4 assessed places in round A, 6 in round B at one spot: public and partner see round A's 4 exactly as an
    empty cell — the change there is computed from nothing suppressed."""
    with Workspace.open(copy) as ws:
        history = History(ws, "Tester")
        for i in range(6):
            fid = add_place(history, 2500, 1500, f"Cluster {i}")
            if i < 4:
                history.do(annotate(note(fid, ["gen_minor"], ROUND_A[2])))
            history.do(annotate(note(fid, ["gen_minor"], ROUND_B[2])))
        surfaces = {p: change_surface(ws, "Round A", "Round B", p) for p in ("police", "partner", "public")}
    police, partner, public = (_cell_of(surfaces[p], 2500, 1500) for p in ("police", "partner", "public"))
    assert (police["places_from"], police["places_to"]) == (4, 6) and police["risk_from"] > 0
    for cell in (partner, public):
        assert cell["places_from"] == 0 and cell["risk_from"] == 0  # 4 < 5: like no place at all
        assert cell["places_to"] == 6 and cell["risk_to"] > 0 and cell["change"] == cell["risk_to"]


def _outputs(path, tmp_path, profile: str, tag: str) -> dict:
    """What a comparison for ``profile`` publishes: its CSV files (bytes) and its rows."""
    out = tmp_path / f"{profile}-{tag}"
    with Workspace.open(path) as ws:
        files, _disclosure, result = export_comparison(ws, "Round A", "Round B", out, profile, recipient="Inspector",
                                                       confirm_police=True, author="Tester")
    c = result.comparison
    tables = {f.name: f.read_bytes() for f in files if f.suffix == ".csv"}
    return {"csv": tables, "rows": json.dumps([c.places, c.drivers, c.estimates, c.estimate_areas, c.indicators],
                                              default=str)}


def _one_more_annotated_place(path) -> None:
    with Workspace.open(path) as ws:
        history = History(ws, "Tester")
        fid = add_place(history, 3000, 1000, "Attack place")  # an empty cell, far from everything
        history.do(annotate(note(fid, ["sex_pimp", "sex_threats", "sex_no_choice"], ROUND_B[2])))  # high risk


def _one_more_case(path) -> None:
    with Workspace.open(path) as ws:
        _add_case(ws, 3000, 1000, ROUND_B[2].isoformat()[:7])


@pytest.mark.parametrize("add", [_one_more_annotated_place, _one_more_case], ids=["annotation", "case"])
def test_one_more_record_in_an_empty_cell_changes_no_public_or_partner_output(copy, tmp_path, add):
    before = {p: _outputs(copy, tmp_path, p, "before") for p in ("public", "partner", "police")}
    add(copy)
    after = {p: _outputs(copy, tmp_path, p, "after") for p in ("public", "partner", "police")}
    for profile in ("public", "partner"):
        assert after[profile] == before[profile], profile
    assert after["police"] != before["police"]  # positive control: the record is there, and police see it


def test_the_attack_test_sees_a_published_change(copy, tmp_path):
    """Positive control of the threshold: five more assessed places in one cell do reach public output."""
    before = _outputs(copy, tmp_path, "public", "before")
    with Workspace.open(copy) as ws:
        history = History(ws, "Tester")
        for i in range(5):
            fid = add_place(history, 3000, 1000, f"Cluster {i}")
            history.do(annotate(note(fid, ["gen_minor", "gen_controlled"], ROUND_B[2])))
    after = _outputs(copy, tmp_path, "public", "after")
    assert after["csv"]["cells.csv"] != before["csv"]["cells.csv"]
    assert after["csv"]["places.csv"] != before["csv"]["places.csv"]  # 7 new places now: at least 5


def test_the_files_of_a_comparison(district, tmp_path):
    with Workspace.open(district) as ws:
        files, disclosure, _result = export_comparison(ws, "Round A", "Round B", tmp_path / "out", "partner")
    names = sorted(f.name for f in files)
    assert names == sorted([*TABLES, "change_map.pdf", "change_map.png"])
    assert {r["layer"] for r in disclosure.rows} >= set(TABLES.values())
    raw = (tmp_path / "out" / "cells.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as every CSV Lantern writes
    with open(tmp_path / "out" / "estimates.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["marking"] == "PARTNER — not for publication"
    assert {r["risk_group"]: r["change"] for r in rows} == {"prostitution": "", "migrant_workers": "40",
                                                           "begging_crime": "", "homeless": "30"}
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "out" / "change_map.pdf"), "-"],
                                   capture_output=True, text=True).stdout.split())
    for expected in ("What changed: Round A", "PARTNER", "Change of the risk index (cells)", "Grid squares"):
        assert expected in text, expected
    assert (tmp_path / "out" / "change_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_police_comparisons_need_a_confirmation_are_logged_and_guard_formulas(copy, tmp_path):
    with Workspace.open(copy) as ws:
        with pytest.raises(ConfirmationRequired):
            export_comparison(ws, "Round A", "Round B", tmp_path / "police", "police")
        assert not (tmp_path / "police").exists()
        History(ws, "Tester").do(_rename(ws, "=HYPERLINK(\"http://x\")"))
        files, _d, _r = export_comparison(ws, "Round A", "Round B", tmp_path / "police", "police",
                                          recipient="Inspector", confirm_police=True, author="Tester")
        entry = ws.db.conn.execute("SELECT action, after FROM change_log ORDER BY id DESC").fetchone()
    assert entry[0] == "export" and json.loads(entry[1])["format"] == "round comparison"
    places = (tmp_path / "police" / "places.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in places and "Place down" in places  # the formula guarded, like every CSV cell


def _rename(ws, name: str):
    from audit.commands import UpdateRow

    fid = int(ws.db.conn.execute("SELECT fid FROM places_of_concern WHERE name = 'Place up'").fetchone()[0])
    return UpdateRow("places_of_concern", fid, {"name": name})


def test_latvian_files(district, tmp_path):
    with Workspace.open(district) as ws:
        export_comparison(ws, "Round A", "Round B", tmp_path / "lv", "public", lang="lv")
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "lv" / "change_map.pdf"), "-"],
                                   capture_output=True, text=True).stdout.split())
    # (pdftotext splits some letters of bold headings; the body's plain text reads whole)
    assert "PUBLISKS" in text and "profils: publisks" in text and "vēlākās kārtas indekss" in text
    assert "Change of the risk index" not in text and "compared with" not in text


def test_round_summary_is_plain_data_cut_to_the_profile(district):
    with Workspace.open(district) as ws:
        public = round_summary(ws, "Round A", "Round B", "public")
        police = round_summary(ws, "Round A", "Round B", "police")
    json.dumps(public)
    json.dumps(police)
    assert "teams" not in public["from"] and police["from"]["teams"] == ["Team"]
    assert public["cells"]["cells"] > 0 and public["cells"]["rose"] + public["cells"]["fell"] > 0
    assert all("name" not in row for row in public["places"])
    assert {row["name"] for row in police["places"]} >= {"Place up", "Place new"}


def _file_texts(folder) -> str:
    texts = [p.read_text(encoding="utf-8-sig") for p in sorted(folder.glob("*.csv"))]
    texts.append(subprocess.run(["pdftotext", str(folder / "change_map.pdf"), "-"], capture_output=True,
                                text=True).stdout)
    return "\n".join(texts)


def test_no_place_of_concern_is_named_below_police(district, tmp_path):
    from tests.rounds_fixture import PLACES

    names = [f"Place {name}" for name in PLACES if name != "deleted"]
    with Workspace.open(district) as ws:
        for profile in ("public", "partner", "police"):
            export_comparison(ws, "Round A", "Round B", tmp_path / profile, profile, recipient="Inspector",
                              confirm_police=True)
    for profile in ("public", "partner"):
        text = _file_texts(tmp_path / profile)
        assert not [n for n in names if n in text], profile
        assert "places_of_concern" not in text and "Synthetic" not in text
    police = _file_texts(tmp_path / "police")
    assert all(n in police for n in names)  # positive control: the same search finds them in police files
