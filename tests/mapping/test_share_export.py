"""Sharing exports that try to break it: leaks, differencing, hostile content, police confirmation."""
import re
import shutil
import sqlite3
import struct

import pandas as pd
import pytest
import shapely

from audit.disclosure import DisclosureError, disclose
from audit.redaction import redact
from layers.workspace import Workspace
from tests.mapping.conftest import annotated_copy
from mapping.share_export import ConfirmationRequired, export

XSS_NOTE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> pay withheld'
HOSTILE_AUTHOR = "Auditor <b>Hostile</b> =cmd|' /C calc'!A0"
FORMATS = ["html", "pdf", "png", "gpkg", "csv", "geojson"]


@pytest.fixture(scope="module")
def hostile_demo(demo_file, tmp_path_factory):
    return annotated_copy(demo_file, tmp_path_factory.mktemp("share"), HOSTILE_AUTHOR, [XSS_NOTE])


def _secrets(path):
    with Workspace.open(path) as ws:
        cases = [(g.x, g.y) for g in ws.read_layer("reported_cases").geometry]
        rows = ws.db.conn.execute("SELECT note, author, team FROM annotations").fetchall()
    texts = sorted({t for row in rows for t in row if t})
    return cases, texts


NUMBER_PAIR = re.compile(rb"(-?\d{1,3}\.(\d{4,}))\s*[, ]\s*(-?\d{1,2}\.(\d{4,}))")


def _case_leaks(data: bytes, cases) -> list:
    """Coordinate pairs in the bytes that are a case position at the precision they are written with."""
    leaks = []
    for m in NUMBER_PAIR.finditer(data):
        x, y = float(m.group(1)), float(m.group(3))
        tol_x, tol_y = 0.5 * 10 ** -len(m.group(2)), 0.5 * 10 ** -len(m.group(4))
        for cx, cy in cases:
            if abs(x - cx) <= max(tol_x, 1e-9) and abs(y - cy) <= max(tol_y, 1e-9):
                leaks.append((x, y))
    for cx, cy in cases:  # binary doubles, as in GeoPackage geometry blobs
        if struct.pack("<d", cx) + struct.pack("<d", cy) in data:
            leaks.append((cx, cy))
    return leaks


def _variants(text: str) -> set[bytes]:
    """The text as it may be spelled inside a file: raw, JSON-, CSV-, HTML-escaped."""
    import html
    import json

    forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], text.replace('"', '""'),
             html.escape(text), html.escape(text, quote=False)}
    return {f.encode("utf-8") for f in forms}


def _found(data: bytes, text: str) -> bool:
    return any(v in data for v in _variants(text))


def _export(path, profile, fmt, out):
    with Workspace.open(path) as ws:
        return export(ws, profile, fmt, out, recipient="Detective Inspector", confirm_police=True, author="Liaison")[0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", ["public", "partner", "police"])
def test_exports_hold_exactly_what_the_profile_may_see(hostile_demo, tmp_path, profile, fmt):
    cases, texts = _secrets(hostile_demo)
    out = tmp_path / ("out" if fmt in ("csv", "geojson") else f"out.{fmt}")
    files = _export(hostile_demo, profile, fmt, out)
    data = b"".join(f.read_bytes() for f in files)
    leaks = _case_leaks(data, cases)
    found_texts = [t for t in texts if _found(data, t)]
    if profile in ("public", "partner"):
        assert leaks == [], leaks[:3]
        assert found_texts == []
    elif fmt in ("gpkg", "csv", "geojson"):  # police data files carry everything: the scan itself works
        assert leaks and XSS_NOTE in found_texts
    if fmt == "csv":
        assert all(b"RESTRICTED" in f.read_bytes() for f in files) == (profile == "police")
        assert b"\n=" not in data and b",=" not in data  # formula cells neutralised
    if fmt in ("html", "geojson", "csv", "gpkg"):
        assert (b"RESTRICTED" in data) == (profile == "police")


def test_police_export_needs_confirmation_and_writes_nothing(hostile_demo, tmp_path):
    with Workspace.open(hostile_demo) as ws:
        entries = ws.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
        for kwargs in ({}, {"confirm_police": True}):  # no confirmation; confirmation but no recipient
            with pytest.raises(ConfirmationRequired):
                export(ws, "police", "html", tmp_path / "p.html", **kwargs)
        assert list(tmp_path.iterdir()) == []
        assert ws.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == entries


def test_police_exports_are_logged_with_recipient_and_hashes(hostile_demo, tmp_path):
    import hashlib
    import json

    _export(hostile_demo, "police", "pdf", tmp_path / "p.pdf")
    conn = sqlite3.connect(hostile_demo)
    action, after = conn.execute("SELECT action, after FROM change_log ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    record = json.loads(after)
    assert action == "export" and record["recipient"] == "Detective Inspector" and record["profile"] == "police"
    assert record["files"] == {str(tmp_path / "p.pdf"): hashlib.sha256((tmp_path / "p.pdf").read_bytes()).hexdigest()}
    from audit.check import check_workspace

    assert check_workspace(hostile_demo).ok


def test_public_and_partner_exports_are_not_logged_as_police(hostile_demo, tmp_path):
    conn = sqlite3.connect(hostile_demo)
    before = conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
    _export(hostile_demo, "partner", "html", tmp_path / "p.html")
    assert conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == before
    conn.close()


def test_disclosure_check_stops_a_leaking_bundle(hostile_demo):
    with Workspace.open(hostile_demo) as ws:
        bundle = redact(ws, "partner")
        police = redact(ws, "police")
    assert disclose(bundle).ok
    bundle.layers["annotations"] = police.layers["annotations"]  # smuggle the notes in
    result = disclose(bundle)
    assert not result.ok and any("annotations" in p for p in result.problems)
    bundle = redact(Workspace.open(hostile_demo), "public")
    bundle.layers["reported_cases"] = police.layers["reported_cases"]
    assert any("reported cases" in p or "reported_cases" in p for p in disclose(bundle).problems)
    from audit.disclosure import require

    with pytest.raises(DisclosureError):
        require(bundle)


def test_geomask_is_stable_within_the_donut_and_secret_not_exported(hostile_demo, tmp_path):
    import geopandas as gpd

    with Workspace.open(hostile_demo) as ws:
        true = ws.read_layer("places_of_concern")
        secret = ws.metadata["geomask_secret"] if "geomask_secret" in ws.metadata else None
        a = redact(ws, "partner").layers["places_of_concern"].frame
        b = redact(ws, "partner").layers["places_of_concern"].frame
        secret = ws.metadata["geomask_secret"]
    assert a.geometry.equals(b.geometry)  # same mask every time: no averaging attack
    metric = true.estimate_utm_crs()
    moved = gpd.GeoSeries(a.geometry.values, crs=4326).to_crs(metric).distance(
        gpd.GeoSeries(true.geometry.representative_point().values, crs=4326).to_crs(metric))
    assert moved.min() >= 49.9 and moved.max() <= 150.1
    files = _export(hostile_demo, "partner", "gpkg", tmp_path / "p.gpkg")
    assert secret.encode() not in files[0].read_bytes()


def test_suppressed_counts_cannot_be_recovered_by_differencing_two_exports(tmp_path):
    """Two partner exports with overlapping extents: shared cells agree, nothing below 5 is ever shown."""
    import geopandas as gpd
    import numpy as np

    from layers.importers import import_file

    path = tmp_path / "w.gpkg"
    rng = np.random.default_rng(1)
    clusters = [(24.940, 60.170, 12), (24.946, 60.171, 3), (24.952, 60.169, 7), (24.943, 60.166, 1)]
    pts, rows = [], []
    for lon, lat, n in clusters:
        for _ in range(n):
            pts.append(shapely.Point(lon + rng.normal(0, 2e-4), lat + rng.normal(0, 1e-4)))
            rows.append({"reported": "2025-05", "forms": "labour", "status": "potential"})
    src = tmp_path / "cases.geojson"
    gpd.GeoDataFrame(rows, geometry=pts, crs=4326).to_file(src)
    with Workspace.create(path) as ws:
        import_file(ws, src, "reported_cases")
        a = redact(ws, "partner", extent=(24.930, 60.160, 24.948, 60.180)).layers["reported_cases"].frame
        b = redact(ws, "partner", extent=(24.938, 60.160, 24.960, 60.180)).layers["reported_cases"].frame
    shared = set(a["cell"]) & set(b["cell"])
    assert shared, "the extents overlap"
    for cell in shared:
        ra, rb = a[a["cell"] == cell].iloc[0], b[b["cell"] == cell].iloc[0]
        assert int(ra["count"]) == int(rb["count"])
    # every published count is the cell's true, full count (computed independently), never a clipped part
    from layers import hexgrid

    metric = gpd.GeoSeries(pts, crs=4326).estimate_utm_crs()
    xy = gpd.GeoSeries(pts, crs=4326).to_crs(metric)
    q, r = hexgrid.axial(xy.x.to_numpy(), xy.y.to_numpy(), 250)
    true = {}
    for key in zip(q, r):
        true[f"{key[0]}_{key[1]}"] = true.get(f"{key[0]}_{key[1]}", 0) + 1
    for frame in (a, b):
        assert frame["count"].notna().all() and (frame["count"] >= 5).all()  # a small cell is not there at all
        assert all(int(c) == true[cell] for cell, c in zip(frame["cell"], frame["count"]))
        assert list(frame.columns) == ["cell", "count", "geometry"]
    small = {cell for cell, n in true.items() if n < 5}
    assert small, "the control: some cells hold 1-4 cases"
    assert not small & (set(a["cell"]) | set(b["cell"]))
    assert len(a) and len(b)


def test_partner_package_round_trip_and_tampering(hostile_demo, tmp_path):
    from layers.errors import InputError
    from layers.packages import import_package, verify

    package = tmp_path / "pkg.gpkg"
    _export(hostile_demo, "partner", "gpkg", package)
    manifest = verify(package)
    assert manifest["profile"] == "partner" and "reported_cases" in manifest["layers"]
    from layers.keys import installation_key

    assert manifest["signer"] == installation_key().public.text  # signed by this installation: trusted implicitly
    receiver = tmp_path / "other.gpkg"
    with Workspace.create(receiver, name="Neighbour") as ws:
        own = ws.count("risk_areas")
        report = import_package(ws, package)
        assert len(report.tables) == len(manifest["layers"])
        assert all(t.startswith("partner_") for t in report.tables)
        assert ws.count("risk_areas") == own  # own data untouched
        labels = ws.partner_layers()
        assert all(label.startswith("Partner: ") for label in labels.values())
        with pytest.raises(InputError, match="already in the workspace"):
            import_package(ws, package)
    # tamper with one value: the import is refused and changes nothing
    tampered = tmp_path / "tampered.gpkg"
    shutil.copy(package, tampered)
    conn = sqlite3.connect(tampered)
    from layers.gpkg_geometry import register_functions

    register_functions(conn)  # GDAL's R-tree triggers call ST_* functions
    conn.execute("UPDATE risk_areas SET name = 'Changed' WHERE fid = (SELECT min(fid) FROM risk_areas)")
    conn.commit()
    conn.close()
    receiver2 = tmp_path / "third.gpkg"
    Workspace.create(receiver2).close()
    from tests.conftest import file_digest

    before = file_digest(receiver2)
    with Workspace.open(receiver2) as ws, pytest.raises(InputError, match="content differs from what was signed"):
        import_package(ws, tampered)
    assert file_digest(receiver2) == before


def test_export_into_a_new_folder(hostile_demo, tmp_path):
    files = _export(hostile_demo, "public", "png", tmp_path / "new" / "deeper" / "map.png")
    assert files == [tmp_path / "new" / "deeper" / "map.png"] and files[0].stat().st_size > 1000
