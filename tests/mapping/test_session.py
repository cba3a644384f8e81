"""The Qt-free session: what is open and shown, its events, filters and map layers — no QtWebEngine here."""
from __future__ import annotations

import pytest
import shapely

from audit.commands import UpdateRow
from audit.filters import FilterState
from layers.errors import LanternError
from mapping.session import Overlay, Session


def record(signal):
    """Collect what a psygnal signal emits."""
    seen = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def test_the_session_needs_no_qt():
    import ast
    from pathlib import Path

    tree = ast.parse(Path("mapping/session.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not [m for m in imported if m and (m.startswith("PySide6") or m.startswith("gui"))]


def test_opening_reads_every_layer_and_tells_the_views(demo_copy):
    s = Session()
    opened, reloaded = record(s.opened), record(s.reloaded)
    s.open(demo_copy)
    assert opened == [()] and reloaded == [(False,)]
    assert s.frames["reported_cases"].shape[0] > 0 and s.synthetic["reported_cases"] is True
    assert s.current_layer == s.order[-1]
    rows = s.layer_rows()
    assert [r["id"] for r in rows if not r.get("partner")] == s.order
    assert all(r["count"] == len(s.frames[r["id"]]) for r in rows if not r.get("partner"))
    s.close()


def test_a_bad_file_leaves_the_open_workspace(session, tmp_path):
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    before = session.workspace.path
    with pytest.raises(LanternError):
        session.open(bad)
    assert session.workspace.path == before and session.frames


def test_map_layers_carry_risk_levels_and_follow_visibility(session):
    layers = {layer.id: layer for layer in session.map_layers()}
    assert set(session.order) <= set(layers)
    assessed = {fid for (table, fid), a in session.assessments.items() if table == "places_of_concern"}
    drawn = {f["properties"]["fid"]: f["properties"].get("risk") for f in layers["places_of_concern"].geojson["features"]}
    assert assessed and all(drawn[fid] == session.assessments[("places_of_concern", fid)].level for fid in assessed)
    changes = record(session.visibility_changed)
    session.set_visible("worksites", False)
    session.set_visible("worksites", False)  # no change, no event
    assert changes == [("worksites", False)]
    assert session.map_layer("worksites").visible is False


def test_filters_narrow_the_table_and_the_assessments(session):
    cases = session.frames["reported_cases"]
    first_form = sorted({f for v in cases["forms"] for f in str(v).replace("[", "").replace("]", "").replace('"', "").split(",") if f.strip()})[0].strip()
    seen = record(session.filters_changed)
    state = FilterState(forms=frozenset({first_form}))
    session.set_filters(state)
    assert seen == [(state,)]
    frame, kind, total = session.table("reported_cases")
    assert kind.id == "reported_cases" and total == len(cases)
    assert 0 < len(frame) < total
    assert session.shown_counts()["reported_cases"] == len(frame)
    session.set_filters(FilterState())
    assert len(session.table("reported_cases")[0]) == len(cases)


def test_an_edit_is_one_undoable_step_and_the_views_hear_which_layers_changed(session):
    fid = int(session.frames["worksites"].index[0])
    changed, edited = record(session.layers_changed), record(session.edited)
    session.do(UpdateRow("worksites", fid, {"name": "Renamed by the test"}, label="rename"))
    assert session.frames["worksites"].loc[fid, "name"] == "Renamed by the test"
    assert changed == [(("worksites",),)] and edited == [(("worksites",),)]
    assert session.history.can_undo and session.history.undo_stack[-1].label == "rename"
    session.undo()
    assert session.frames["worksites"].loc[fid, "name"] != "Renamed by the test"
    session.redo()
    assert session.frames["worksites"].loc[fid, "name"] == "Renamed by the test"


def test_a_refused_edit_raises_and_changes_nothing(session):
    before = session.frames["worksites"].copy()
    with pytest.raises((LanternError, ValueError, KeyError)):
        session.do(UpdateRow("worksites", 10**9, {"name": "nobody"}, label="bad"))
    session.refresh(["worksites"])
    assert session.frames["worksites"].equals(before)
    assert not session.history.can_undo


def test_selection_follows_the_current_layer(session):
    services = session.frames["services"]
    fid = int(services.index[services.geometry.notna()][0])
    seen = record(session.selection_changed)
    session.select("services", fid, pan=True)
    assert session.current_layer == "services" and session.selection == ("services", fid)
    assert seen == [("services", fid, True)]
    assert session.selected_location() is not None
    session.set_current_layer("worksites")  # another layer: the selection does not carry over
    assert session.selection is None and session.selected_row() is None


def test_map_modes_answer_only_their_owner(session):
    picked, polygons = record(session.point_picked), record(session.polygon_drawn)
    session.pick_point(24.94, 60.17)  # no mode: a plain click picks nothing
    assert picked == []
    session.set_mode("place", "outreach site")
    session.pick_point(24.94, 60.17)
    assert picked == [("outreach site", 24.94, 60.17)] and session.mode is None
    session.set_mode("polygon", "estimate area")
    square = shapely.box(24.94, 60.17, 24.95, 60.175)
    session.finish_polygon(square)
    assert polygons == [("estimate area", square)] and session.mode_owner is None


def test_density_and_gaps_are_overlays_computed_without_a_window(session):
    spec = session.show_density("homeless")
    assert spec is not None and spec["breaks"] and session.is_visible("risk_group_estimates")
    assert session.show_density(None) is None
    overlays = record(session.overlay_changed)
    gaps = session.show_gaps(300)
    assert overlays == [("gaps",)]
    assert len(session.overlays["gaps"].layers[0].geojson["features"]) == len(gaps)
    session.set_overlay("gaps", None)
    assert "gaps" not in session.overlays
    session.set_overlay("plan", Overlay([], [{"title": "x", "rows": []}]))
    assert session.overlays["plan"].legends


def test_the_date_span_covers_cases_estimates_and_annotations(session):
    first, last = session.date_span()
    months = sorted(m for m in session.frames["reported_cases"]["reported"] if m)
    assert first.isoformat()[:7] <= months[0] and last.isoformat()[:7] >= months[-1]
