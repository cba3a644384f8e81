"""Outreach plan on the demo, and its exports re-read: structure, content, and nothing private inside."""
import csv
import re
import struct
import subprocess
from html.parser import HTMLParser

import numpy as np
import pyogrio
import pytest
import shapely

from layers.workspace import Workspace
from mapping.outreach import OutreachParams, plan_outreach
from mapping.outreach_export import export_plan, safe_cell
from mapping.risk_surface import SurfaceParams, compute

K = 4


@pytest.fixture(scope="module")
def exported(demo_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("outreach")
    with Workspace.open(demo_file) as ws:
        plan = plan_outreach(ws, OutreachParams(k=K, radius=450))
        files, _disclosure = export_plan(plan, ws, out, overwrite=True)
        cases = ws.read_layer("reported_cases")
        notes = ws.db.conn.execute("SELECT note, author, team FROM annotations").fetchall()
        basemap = [ws.read_layer(k) for k in ("basemap_roads", "basemap_buildings", "basemap_water", "basemap_railways")]
    return plan, files, cases, notes, basemap


def test_surface_components_and_small_counts(demo_file):
    with Workspace.open(demo_file) as ws:
        police = compute(ws, SurfaceParams(cell_size=250, profile="police")).cells.set_index("cell")
        # the same cells as police (their extents differ: the police one also covers cases and places)
        public = compute(ws, SurfaceParams(cell_size=250, profile="public")).cells.set_index("cell").reindex(police.index)
        partner = compute(ws, SurfaceParams(cell_size=250, profile="partner")).cells.set_index("cell").reindex(police.index)
        cases = ws.count("reported_cases")
    assert police["cases"].sum() == cases  # police: every case counted once, in some cell
    assert 0 < police["risk"].max() <= 100
    assert police["people"].sum() > 0 and police["places"].sum() > 0
    small = (police["cases"] > 0) & (police["cases"] < 5)
    assert small.any(), "the demo has cells with 1-4 cases: the control for the suppression below"
    # public: a cell with 1-4 cases is exactly an empty cell, and adds nothing to the index
    assert (public.loc[small, "cases"].fillna(0) == 0).all()
    assert (public.loc[~small & (police["cases"] > 0), "cases"] == police.loc[~small & (police["cases"] > 0), "cases"]).all()
    assert partner["people"].fillna(0).equals(police["people"])  # partners receive the estimates themselves
    assert public["people"].sum() > 0 and not public["people"].fillna(0).equals(police["people"])  # the public: bands


def test_cell_size_is_the_centre_distance(demo_file):
    with Workspace.open(demo_file) as ws:
        small = compute(ws, SurfaceParams(cell_size=150)).cells
        large = compute(ws, SurfaceParams(cell_size=300)).cells
    assert len(small) > 3 * len(large)
    assert small.geometry.area.iloc[0] == pytest.approx(np.sqrt(3) / 2 * 150 ** 2)


def test_plan_reports_quality_honestly(exported):
    plan = exported[0]
    assert len(plan.sites) == K and list(plan.sites["rank"]) == list(range(1, K + 1))
    assert 0 < plan.plan.share <= 1 and plan.plan.bound >= plan.plan.covered
    assert "of the total risk" in plan.quality_text()
    assert all(plan.sites["reason"].str.len() > 10)


def test_annotated_places_are_never_candidates_of_a_police_plan(demo_file):
    with Workspace.open(demo_file) as ws:
        plan = plan_outreach(ws, OutreachParams(k=K, radius=450, profile="police"))
        annotated = {row[0] for row in ws.db.conn.execute("SELECT place_fid FROM annotations WHERE place_table='places_of_concern'")}
    chosen = plan.candidates[plan.candidates["kind"] == "places_of_concern"]["fid"]
    assert not set(chosen) & annotated


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_html_is_self_contained(exported):
    html = exported[1]["outreach.html"].read_text(encoding="utf-8")
    parser = Links()
    parser.feed(html)
    assert parser.urls == []
    assert "window.lantern" in html and "Outreach targeting map" in html
    assert "tile.openstreetmap.org" not in html


def test_pdf_and_png_are_print_ready(exported):
    files = exported[1]
    info = subprocess.run(["pdfinfo", str(files["outreach.pdf"])], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info
    text = subprocess.run(["pdftotext", str(files["outreach.pdf"]), "-"], capture_output=True, text=True).stdout
    for expected in ("Outreach targeting map", "PUBLIC", "Risk index", "© OpenStreetMap contributors", "N"):
        assert expected in text, expected
    assert files["outreach.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sites_gpkg_and_csv(exported):
    plan, files = exported[0], exported[1]
    sites = pyogrio.read_dataframe(files["sites.gpkg"], layer="sites")
    assert list(sites["rank"]) == list(range(1, K + 1))
    assert {"name", "category", "marginal_gain", "covered_risk", "reason"} <= set(sites.columns)
    with open(files["sites.csv"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == list(plan.sites["name"])
    assert all(-180 <= float(r["lon"]) <= 180 for r in rows)


def test_csv_cells_cannot_become_formulas():
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("@SUM(A1)").startswith("'") and safe_cell("-1+2").startswith("'")
    assert safe_cell("Library") == "Library" and safe_cell(3) == 3


def test_no_case_location_note_or_author_in_any_exported_file(exported):
    plan, files, cases, notes, basemap = exported
    public_vertices = set()
    for frame in [*basemap, plan.sites, plan.coverage, plan.surface.to_wgs84()]:
        coords = shapely.get_coordinates(frame.geometry.values)
        public_vertices |= {(round(x, 7), round(y, 7)) for x, y in coords}
    pair = re.compile(rb"(-?\d{1,3}\.\d{4,})\s*,\s*(-?\d{1,2}\.\d{4,})")
    for name, path in files.items():
        data = path.read_bytes()
        for text in [n for row in notes for n in row if n]:
            assert text.encode("utf-8") not in data, (name, text)
        for match in pair.finditer(data):
            x, y = float(match.group(1)), float(match.group(2))
            for case in cases.geometry:
                if f"{x:.4f}" == f"{case.x:.4f}" and f"{y:.4f}" == f"{case.y:.4f}":
                    assert (round(x, 7), round(y, 7)) in public_vertices, (name, x, y)
        for case in cases.geometry:  # binary doubles (GeoPackage WKB) of a case position
            assert struct.pack("<d", case.x) + struct.pack("<d", case.y) not in data, name


def test_the_quality_text_names_its_bound_in_words_and_says_when_the_exact_search_stopped():
    from types import SimpleNamespace

    from layers.i18n import using
    from mapping.outreach import OutreachPlan
    from mapping.site_selection import Plan

    stopped = Plan([1, 2], [3.0, 2.0], 5.0, 10.0, 6.0, "exact (HiGHS), time limit reached", False, "HiGHS")
    finished = Plan([1, 2], [3.0, 2.0], 5.0, 10.0, 6.0, "greedy + swaps", False, "LP relaxation")
    text = lambda plan: OutreachPlan.quality_text(SimpleNamespace(plan=plan))  # noqa: E731
    with using("en"):
        assert "stopped at its time limit" in text(stopped) and "HiGHS solver bound" in text(stopped)
        assert "time limit" not in text(finished)  # control: a search that finished says nothing of the kind
    with using("lv"):
        assert "laika ierobežojuma" in text(stopped) and "LP relaksācija" in text(finished)
