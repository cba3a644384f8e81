"""An attacking disclosure suite: every profile × every output, byte-scanned for what must never leave.

Planted in a copy of the demo: a place of concern with a name, an OSM id, an
address tag and a QGIS-style extra column; annotations with a note, author
and team on it and on a named worksite (so the worksite has an audit finding);
a free-text answer. Every output file of every format — inside folders too,
PDFs also as extracted text — is scanned for case coordinates (3 decimals and
more, either order, and as packed doubles), the planted texts (raw and
escaped), the OSM ids of masked places, the worksite's audit finding and the
geomask secret. Police outputs are the positive control: the same scanner must
find the planted data there.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest

from audit import redaction
from audit.annotations import annotate, annotation_values, new_place, place_assessments
from audit.assessment import answer
from audit.commands import History
from audit.disclosure import DisclosureError, disclose, require
from layers.errors import StorageError
from layers.output import DestinationError
from layers.workspace import Workspace
from mapping.outreach import OutreachParams, plan_outreach
from mapping.outreach_export import export_plan
from mapping.share_export import export

PROFILES = ["public", "partner", "police"]
FORMATS = ["html", "pdf", "png", "gpkg", "csv", "geojson", "report", "outreach"]
PLANTED = {
    "note": "PLANTED-NOTE seen at the back door at night",
    "author": "PLANTED-AUTHOR Jānis Bērziņš",
    "team": "PLANTED-TEAM Nord <b>",
    "place": "PLANTED Place Ūdens & \"Co\"",
    "address": "Plantedstraße 77",
    "extra": "PLANTED-EXTRA written by QGIS",
    "answer": "PLANTED-ANSWER a recruiter called X",
}
PLANTED_OSM_ID = 987654321012
FIXED_NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
FIXED_ANCHOR = {"head": "ab" * 32, "fingerprint": "0000 1111 2222 3333 4444 5555 6666 7777"}


def _fix_dates_and_hashes(monkeypatch) -> None:
    """The property allows dates and hashes to differ: fix both (the history head changes with every edit)."""
    monkeypatch.setattr(redaction, "now", lambda: FIXED_NOW)
    monkeypatch.setattr(redaction, "history", lambda workspace: dict(FIXED_ANCHOR))


def _plant(ws: Workspace) -> None:
    history = History(ws, PLANTED["author"])
    hub = ws.read_layer("transport_hubs").geometry.iloc[0]
    tags = json.dumps({"addr:street": PLANTED["address"], "amenity": "bar"})
    place = new_place("places_of_concern", hub.x + 0.002, hub.y + 0.001,
                      {"name": PLANTED["place"], "category": "gathering_place", "osm_type": "node",
                       "osm_id": PLANTED_OSM_ID, "osm_tags": tags})
    history.do(place)
    ws.db.conn.execute("UPDATE places_of_concern SET extra = ? WHERE fid = ?",
                       (json.dumps({"qgis_note": PLANTED["extra"]}), place.row_id))  # as another tool would
    ws.db.conn.commit()
    worksites = ws.read_layer("worksites")
    worksite = int(worksites[worksites["name"].notna()].index[0])
    for table, fid in (("places_of_concern", place.row_id), ("worksites", worksite)):
        history.do(annotate(annotation_values(
            table, fid, indicators_seen=["gen_controlled", "gen_no_documents", "gen_minor"], observed="2026-11-01",
            confidence="high", source="police", author=PLANTED["author"], team=PLANTED["team"],
            note=PLANTED["note"])))
    history.do(answer(ws, "offenders.known", text=PLANTED["answer"], author=PLANTED["author"]))


@pytest.fixture(scope="module")
def planted(demo_file, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("planted") / "demo.gpkg"
    shutil.copy(demo_file, path)
    with Workspace.open(path) as ws:
        _plant(ws)
    return path


class Secrets:
    """What must not leave a public or partner output, read from the workspace itself."""

    def __init__(self, path: Path):
        with Workspace.open(path) as ws:
            self.cases = [(g.x, g.y) for g in ws.read_layer("reported_cases").geometry]
            rows = ws.db.conn.execute("SELECT note, author, team FROM annotations").fetchall()
            self.texts = sorted({t for row in rows for t in row if t} | set(PLANTED.values()))
            places = ws.read_layer("places_of_concern")
            self.osm_ids = sorted({int(i) for i in places["osm_id"].dropna()})
            # names only places of concern carry (a building or station of the same name is public anyway)
            public = {n for k in ("basemap_buildings", "basemap_roads", "basemap_water", "basemap_railways",
                                  "transport_hubs", "worksites", "services", "shelters")
                      for n in ws.read_layer(k)["name"].dropna()}
            self.place_names = sorted({n for n in places["name"].dropna()
                                       if len(n) >= 6 and not any(n in p for p in public)})
            findings = {k: a for k, a in place_assessments(ws).items() if k[0] == "worksites" and a.drivers}
            self.findings = sorted({a.explain() for a in findings.values()})
            redaction.geomask_secret(ws)
            self.secret = ws.metadata[redaction.SECRET_KEY]


NUMBER = re.compile(rb"-?\d{1,3}\.(\d{3,})")


def _coordinate_hits(data: bytes, cases) -> list:
    """Consecutive numbers (lon, lat or lat, lon) that are a case position at the precision they are written."""
    tokens = [(float(m.group(0)), len(m.group(1))) for m in NUMBER.finditer(data)]
    hits = []
    for (a, da), (b, db) in zip(tokens, tokens[1:]):
        for x, y, dx, dy in ((a, b, da, db), (b, a, db, da)):
            tol_x, tol_y = 0.5 * 10 ** -dx, 0.5 * 10 ** -dy
            hits += [(x, y) for cx, cy in cases if abs(x - cx) <= tol_x + 1e-12 and abs(y - cy) <= tol_y + 1e-12]
    for cx, cy in cases:
        for order in ("<", ">"):
            if struct.pack(f"{order}dd", cx, cy) in data:
                hits.append((cx, cy))
    return hits


def _variants(text: str) -> set[bytes]:
    import html

    def js(t: str) -> str:  # as a <script> writer spells it: also &, <, > as \u escapes
        return json.dumps(t)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")

    once = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], js(text)}
    twice = {json.dumps(t, ensure_ascii=a)[1:-1] for t in once for a in (True, False)}  # JSON inside JSON (tags)
    forms = {text, text.replace('"', '""'), html.escape(text), html.escape(text, quote=False), *once, *twice}
    return {f.encode("utf-8") for f in forms}


def _blobs(files: list[Path]) -> dict[str, bytes]:
    """Every file (folders expanded); a PDF also as its extracted text, where its words really are."""
    out = {}
    for f in files:
        for p in (sorted(x for x in f.rglob("*") if x.is_file()) if f.is_dir() else [f]):
            out[str(p)] = p.read_bytes()
            if p.suffix == ".gpkg":  # a long row spills over SQLite pages: scan its values too
                conn = sqlite3.connect(p)
                # the rows' values as text; blob literals (X'0A96…', geometries) are left out: their hex digits
                # spell any short number by chance (an OSM id 9630 was "found" in a masked point's bytes)
                dump = "\n".join(conn.iterdump())
                out[f"{p} (rows)"] = re.sub(r"X'[0-9A-Fa-f]*'", "X''", dump).encode("utf-8")
                conn.close()
            if p.suffix == ".pdf":
                text = subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True).stdout
                out[f"{p} (text)"] = text
    return out


def _textual(name: str) -> bool:
    """Text as a reader sees it: text files, a PDF's extracted text, a GeoPackage's rows."""
    return name.endswith(("(text)", "(rows)")) or Path(name).suffix in {".csv", ".geojson", ".html", ".txt", ".json"}


#: a picture embedded in HTML (data: URI): pixels, scanned as such elsewhere, not text
EMBEDDED = re.compile(rb"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+")


def scan(files: list[Path], secrets: Secrets) -> dict[str, list]:
    found: dict[str, list] = {"cases": [], "texts": [], "osm_ids": [], "names": [], "findings": [], "secret": []}
    for name, data in _blobs(files).items():
        found["cases"] += [(name, h) for h in _coordinate_hits(data, secrets.cases)]
        found["texts"] += [(name, t) for t in secrets.texts if any(v in data for v in _variants(t))]
        if _textual(name):  # digits inside compressed or binary bytes match by chance; their text is scanned
            text = EMBEDDED.sub(b"", data)  # so do digits inside an embedded picture's base64 (a report's map)
            found["osm_ids"] += [(name, i) for i in secrets.osm_ids if re.search(rb"(?<!\d)%d(?!\d)" % i, text)]
        found["names"] += [(name, n) for n in secrets.place_names if any(v in data for v in _variants(n))]
        found["findings"] += [(name, f) for f in secrets.findings if any(v in data for v in _variants(f))]
        if secrets.secret.encode() in data:
            found["secret"].append(name)
    return found


def _export(path: Path, profile: str, fmt: str, out: Path) -> list[Path]:
    with Workspace.open(path) as ws:
        if fmt == "outreach":
            plan = plan_outreach(ws, OutreachParams(k=3, radius=400, profile=profile))
            return list(export_plan(plan, ws, out, recipient="Inspector", confirm_police=True)[0].values())
        target = out if fmt in ("csv", "geojson") else out.with_suffix(".pdf" if fmt == "report" else f".{fmt}")
        return export(ws, profile, fmt, target, recipient="Inspector", confirm_police=True, author="Liaison")[0]


@pytest.fixture(scope="module")
def secrets_of(planted) -> Secrets:
    return Secrets(planted)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", PROFILES)
def test_nothing_identifying_leaves(planted, secrets_of, tmp_path, profile, fmt):
    found = scan(_export(planted, profile, fmt, tmp_path / "out"), secrets_of)
    assert found["secret"] == []  # never, whatever the profile
    if profile != "police":
        assert {k: v[:3] for k, v in found.items() if v} == {}
        return
    # positive controls: the same scanner sees police data wherever a police file carries it
    texts = {t for _, t in found["texts"]}
    if fmt in ("gpkg", "csv", "geojson"):
        assert found["cases"] and found["osm_ids"] and found["findings"]
        assert texts >= {PLANTED["note"], PLANTED["place"], PLANTED["address"], PLANTED["author"], PLANTED["team"],
                         PLANTED["extra"]}
    if fmt == "html":  # the police map: case points, and the latest note in the place's tooltip
        assert found["cases"] and texts >= {PLANTED["note"], PLANTED["place"]}
    if fmt == "report":
        assert PLANTED["answer"] in {t for _, t in found["texts"]}


def test_scanner_sees_texts_however_they_are_escaped():
    text = PLANTED["place"]
    for spelled in (json.dumps({"name": text}), json.dumps(json.dumps({"tags": text})), "<td>" + __import__("html").escape(text),
                    '"' + json.dumps(text)[1:-1].replace("&", "\\u0026") + '"'):
        assert any(v in spelled.encode() for v in _variants(text)), spelled
    assert not any(v in b"PLANTED Place Udens" for v in _variants(text))


def test_scanner_sees_coordinates_at_every_precision_and_order(secrets_of):
    x, y = secrets_of.cases[0]
    for digits in (3, 4, 5, 6, 7):
        assert _coordinate_hits(f"[{y:.{digits}f}, {x:.{digits}f}]".encode(), [(x, y)])
        assert _coordinate_hits(f"{x:.{digits}f},{y:.{digits}f}".encode(), [(x, y)])
    assert _coordinate_hits(b"xx" + struct.pack("<dd", x, y), [(x, y)])
    assert not _coordinate_hits(f"{x + 0.01:.3f},{y:.3f}".encode(), [(x, y)])


def test_masked_places_keep_nothing_that_joins_them_back(planted):
    with Workspace.open(planted) as ws:
        layer = redaction.redact(ws, "partner").layers["places_of_concern"]
        true = ws.read_layer("places_of_concern")
    assert layer.form == "geomasked" and list(layer.frame.columns) == ["category", "geometry"]
    combos = layer.frame["category"].dropna().value_counts()
    assert (combos >= 5).all()  # no category that fewer than 5 masked places share
    rare = true["category"].value_counts()
    assert (rare < 5).any(), "the control: the demo has rare categories, and they were withheld"


def test_audit_findings_leave_only_at_police_level(planted):
    with Workspace.open(planted) as ws:
        bundles = {p: redaction.redact(ws, p) for p in PROFILES}
    for profile, bundle in bundles.items():
        columns = {c for layer in bundle.layers.values() for c in layer.frame.columns}
        assert ("risk_level" in columns) == (profile == "police")
        assert ("annotations" in bundle.layers) == (profile == "police")
    worksites = bundles["police"].layers["worksites"].frame
    assert (worksites["risk_level"] != "none").any()


def test_a_column_added_by_another_tool_never_leaves(planted, tmp_path, monkeypatch, secrets_of):
    original = Workspace.read_layer

    def with_added_column(self, kind_id):
        frame = original(self, kind_id)
        return frame.assign(qgis_added=PLANTED["extra"] + " (new column)")

    monkeypatch.setattr(Workspace, "read_layer", with_added_column)
    with Workspace.open(planted) as ws:
        assert "qgis_added" in ws.read_layer("worksites").columns  # control: the column is really there
        for profile in PROFILES:
            files = export(ws, profile, "geojson", tmp_path / profile, recipient="Inspector", confirm_police=True)[0]
            data = b"".join(p.read_bytes() for p in files)
            assert b"qgis_added" not in data and b"(new column)" not in data, profile


def test_disclosure_check_refuses_what_the_allow_list_does_not_name(planted):
    with Workspace.open(planted) as ws:
        partner = redaction.redact(ws, "partner")
        police = redaction.redact(ws, "police")
        public = redaction.redact(ws, "public")
    assert disclose(partner).ok and disclose(public).ok and disclose(police).ok
    masked = partner.layers["places_of_concern"]
    masked.frame = masked.frame.assign(name="x")  # a name joins a masked point back to its place
    assert any("places_of_concern.name" in p for p in disclose(partner).problems)
    public.layers["reported_cases"] = police.layers["reported_cases"]
    assert any("reported_cases" in p for p in disclose(public).problems)
    with pytest.raises(DisclosureError):
        require(public)


def test_public_plans_choose_only_public_places(planted):
    with Workspace.open(planted) as ws:
        categories = ["transport_hub", "social_service", "library", "clinic"]
        public = plan_outreach(ws, OutreachParams(k=3, radius=400, categories=categories, profile="public"))
        partner = plan_outreach(ws, OutreachParams(k=3, radius=400, categories=categories, profile="partner"))
    assert set(public.candidates["kind"]) <= {"transport_hubs", "services", "worksites"}
    assert "shelters" in set(partner.candidates["kind"])  # control: shelters are candidates one level up
    assert "places_of_concern" not in set(partner.candidates["kind"])  # masked at partner level


def _normalised(blobs: dict[str, bytes]) -> dict[str, bytes]:
    """Outputs compared apart from dates, timestamps and folium's random element ids."""
    out = {}
    for name, data in blobs.items():
        if name.endswith(".gpkg"):
            continue  # compared through its rows (the "(rows)" entry), not its page layout
        data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", b"<time>", data)
        # a package's digest of its whole file covers those timestamps too, and the signature covers the digest
        data = re.sub(rb"'content','\"[0-9a-f]{64}\"'", b"'content','<digest>'", data)
        data = re.sub(rb"'signature','\"[^']*\"'", b"'signature','<signature>'", data)
        out[Path(name).name] = re.sub(rb"_[0-9a-f]{32}", b"_<id>", data)
    assert out, "nothing to compare"
    return out


def _empty_cell_point(path: Path):
    """A point inside the district, in a hexagonal cell that holds no case."""
    from mapping.risk_surface import SurfaceParams, compute

    with Workspace.open(path) as ws:
        cells = compute(ws, SurfaceParams(profile="police")).cells
    empty = cells[(cells["cases"] == 0)]
    centre = gpd.GeoSeries([empty.geometry.iloc[len(empty) // 2].centroid], crs=cells.crs).to_crs(4326).iloc[0]
    return centre.x, centre.y


def _with_more_cases(planted: Path, tmp_path: Path, n: int) -> tuple[Path, Path]:
    """Two copies of the workspace; the second has ``n`` more cases at one point in an empty cell."""
    before, after = tmp_path / "before.gpkg", tmp_path / "after.gpkg"
    with Workspace.open(planted) as ws:  # one workspace, one geomask secret (made at its first export otherwise:
        redaction.geomask_secret(ws)     # two copies would each make their own, and mask places differently)
    shutil.copy(planted, before)
    shutil.copy(planted, after)
    lon, lat = _empty_cell_point(before)
    with Workspace.open(after) as ws:
        for _ in range(n):
            History(ws, "A").do(new_place("reported_cases", lon, lat, {"reported": "2026-05", "forms": "labour",
                                                                        "status": "potential"}))
        assert ws.count("reported_cases") == Workspace.open(before).count("reported_cases") + n  # control
    return before, after


@pytest.mark.parametrize("profile", ["public", "partner"])
def test_one_more_case_in_an_empty_area_changes_no_output(planted, tmp_path, monkeypatch, profile):
    _fix_dates_and_hashes(monkeypatch)
    before, after = _with_more_cases(planted, tmp_path, 1)
    for fmt in FORMATS:
        a = _normalised(_blobs(_export(before, profile, fmt, tmp_path / "a" / fmt / "out")))
        b = _normalised(_blobs(_export(after, profile, fmt, tmp_path / "b" / fmt / "out")))
        assert a.keys() == b.keys(), fmt
        changed = [name for name in a if a[name] != b[name]]
        assert changed == [], (fmt, changed)


def test_the_property_test_sees_a_published_change(planted, tmp_path, monkeypatch):
    """Control: five more cases in one cell do change the partner output (the comparison is not blind)."""
    _fix_dates_and_hashes(monkeypatch)
    before, after = _with_more_cases(planted, tmp_path, 5)
    a = _normalised(_blobs(_export(before, "partner", "csv", tmp_path / "a" / "out")))
    b = _normalised(_blobs(_export(after, "partner", "csv", tmp_path / "b" / "out")))
    assert a["reported_cases.csv"] != b["reported_cases.csv"]


# -- the workspace as a destination --------------------------------------------------------

def _destinations(ws_path: Path, tmp_path: Path) -> dict[str, Path]:
    hard = tmp_path / "hard.gpkg"
    os.link(ws_path, hard)
    soft = tmp_path / "soft.gpkg"
    soft.symlink_to(ws_path)
    return {"same path": ws_path, "another spelling": ws_path.parent / "." / ws_path.name, "hard link": hard,
            "symlink": soft, "journal": Path(f"{ws_path}-journal"), "wal": Path(f"{ws_path}-wal")}


@pytest.mark.parametrize("fmt", ["gpkg", "html", "pdf", "png"])
def test_an_export_never_writes_onto_its_workspace(demo_copy, tmp_path, fmt):
    from tests.conftest import file_digest

    before = file_digest(demo_copy)
    with Workspace.open(demo_copy) as ws:
        log = ws.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
        for what, target in _destinations(demo_copy, tmp_path).items():
            for overwrite in (False, True):
                with pytest.raises(DestinationError):
                    export(ws, "police", fmt, target, recipient="Inspector", confirm_police=True, overwrite=overwrite)
        assert ws.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == log  # nothing logged
    assert file_digest(demo_copy) == before
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_the_report_twin_never_lands_on_the_workspace(demo_file, tmp_path):
    """A report writes OUT.pdf and OUT.html: a workspace that happens to be named OUT.html is refused."""
    from tests.conftest import file_digest

    odd = tmp_path / "district.html"
    shutil.copy(demo_file, odd)
    before = file_digest(odd)
    with Workspace.open(odd) as ws, pytest.raises(DestinationError):
        export(ws, "public", "report", tmp_path / "district.pdf", overwrite=True)
    assert file_digest(odd) == before and not (tmp_path / "district.pdf").exists()


def test_a_folder_export_never_lands_on_the_workspace_folder(demo_copy, tmp_path):
    from tests.conftest import file_digest

    before = file_digest(demo_copy)
    with Workspace.open(demo_copy) as ws:
        for fmt in ("csv", "geojson"):
            with pytest.raises(DestinationError):
                export(ws, "public", fmt, demo_copy.parent, overwrite=True)
        with pytest.raises(DestinationError):
            plan = plan_outreach(ws, OutreachParams(k=2, radius=400))
            export_plan(plan, ws, demo_copy.parent, overwrite=True)
    assert file_digest(demo_copy) == before


def test_existing_files_are_replaced_only_when_asked(demo_copy, tmp_path):
    target = tmp_path / "share.html"
    target.write_text("someone's earlier file")
    with Workspace.open(demo_copy) as ws:
        with pytest.raises(DestinationError, match="overwrite"):
            export(ws, "public", "html", target)
        assert target.read_text() == "someone's earlier file"
        export(ws, "public", "html", target, overwrite=True)
    assert "Lantern map" in target.read_text(encoding="utf-8")


def test_a_failing_writer_leaves_no_half_written_file(demo_copy, tmp_path, monkeypatch):
    import mapping.share_export as share

    target = tmp_path / "p.gpkg"
    target.write_bytes(b"old package")

    def broken(bundle, path):
        Path(path).write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(share, "write_gpkg", broken)
    with Workspace.open(demo_copy) as ws, pytest.raises(StorageError, match="disk is full"):
        share.export(ws, "partner", "gpkg", target, overwrite=True)
    assert target.read_bytes() == b"old package"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.gpkg", demo_copy.name])


# -- the report is one more export format ------------------------------------------------------

def test_police_report_needs_confirmation_and_is_logged(planted, tmp_path):
    import hashlib

    from mapping.share_export import ConfirmationRequired

    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        for kwargs in ({}, {"confirm_police": True}, {"recipient": "Inspector"}):
            with pytest.raises(ConfirmationRequired):
                export(ws, "police", "report", tmp_path / "r.pdf", **kwargs)
        assert not (tmp_path / "r.pdf").exists()
        files, _ = export(ws, "police", "report", tmp_path / "r.pdf", recipient="Inspector", confirm_police=True)
        record = json.loads(ws.db.conn.execute(
            "SELECT after FROM change_log WHERE action = 'export' ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert record["format"] == "report" and record["recipient"] == "Inspector"
    assert record["files"] == {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    text = subprocess.run(["pdftotext", str(files[0]), "-"], capture_output=True, text=True).stdout
    assert "RESTRICTED" in text


def test_report_cli_takes_recipient_and_confirmation(planted, tmp_path):
    import sys

    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    root = Path(__file__).resolve().parents[2]
    run = [sys.executable, str(root / "main.py"), "report", str(copy), "--profile", "police", "--out"]
    refused = subprocess.run([*run, str(tmp_path / "a.pdf")], capture_output=True, text=True, cwd=root)
    assert refused.returncode == 2 and "confirm" in refused.stderr and not (tmp_path / "a.pdf").exists()
    done = subprocess.run([*run, str(tmp_path / "b.pdf"), "--confirm-police", "--recipient", "Inspector"],
                          capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.pdf").exists() and (tmp_path / "b.html").exists()
    again = subprocess.run([*run, str(tmp_path / "b.pdf"), "--confirm-police", "--recipient", "Inspector"],
                           capture_output=True, text=True, cwd=root)
    assert again.returncode == 2 and "--overwrite" in again.stderr


# -- attacks found by review: each closes one path -------------------------------------------

def test_an_extent_edge_cannot_find_a_masked_place(planted):
    """Clipping happens on the masked position, so moving a --bbox edge never reveals the true one."""
    with Workspace.open(planted) as ws:
        full = redaction.redact(ws, "partner").layers["places_of_concern"].frame
        true = ws.read_layer("places_of_concern").geometry.representative_point()
        w, s, e, n = full.total_bounds
        box = (w, s, (w + e) / 2, n)
        part = redaction.redact(ws, "partner", extent=box).layers["places_of_concern"].frame
    inside = full[full.geometry.x.between(box[0], box[2]) & full.geometry.y.between(box[1], box[3])]
    assert sorted(map(tuple, part.geometry.get_coordinates().to_numpy())) == \
        sorted(map(tuple, inside.geometry.get_coordinates().to_numpy()))
    true_inside = int((true.x.between(box[0], box[2]) & true.y.between(box[1], box[3])).sum())
    assert true_inside != len(part) or len(part), "the control: the box cuts through the layer"


def test_a_reimported_place_gets_the_same_mask():
    import shapely

    frame = gpd.GeoDataFrame({"osm_type": ["node", "node", None], "osm_id": [5.0, 5.0, None]},
                             geometry=[shapely.Point(24.94, 60.17)] * 3, crs=4326, index=[1, 2, 3])
    masked = redaction.geomask(frame, b"secret", 50, 150)
    assert masked.geometry.iloc[0].equals(masked.geometry.iloc[1])  # two copies: one donut, nothing to intersect
    assert not masked.geometry.iloc[0].equals(masked.geometry.iloc[2])  # control: another key moves elsewhere


def test_public_extent_comes_only_from_what_the_public_sees(planted, tmp_path):
    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        before = {p: redaction.redact(ws, p, only=[]).bounds for p in ("public", "partner")}
        w, s, e, n = before["partner"]
        History(ws, "A").do(new_place("shelters", e + 0.05, n + 0.05, {"name": "Safe house", "service_type": "safe_housing"}))
        History(ws, "A").do(new_place("reported_cases", w - 0.05, s - 0.05, {"reported": "2026-05", "forms": "labour",
                                                                            "status": "potential"}))
        after = {p: redaction.redact(ws, p, only=[]).bounds for p in ("public", "partner")}
    assert after["public"] == before["public"]  # neither the shelter nor the case moves the public extent
    assert after["partner"] != before["partner"]  # control: partners do receive the shelter's position


def test_public_plans_do_not_depend_on_the_audit(planted, tmp_path):
    """Leaving audited places out of public candidates would tell which were audited: they stay in."""
    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        params = {"k": 3, "radius": 400, "categories": ["transport_hub", "social_service"]}
        before = {p: plan_outreach(ws, OutreachParams(**params, profile=p)).candidates for p in PROFILES}
        public = before["public"]
        hub = int(public[public["kind"] == "transport_hubs"]["fid"].iloc[0])  # a candidate hub, now audited
        History(ws, "A").do(annotate(annotation_values(
            "transport_hubs", hub, indicators_seen=["gen_controlled"], observed="2026-11-02", confidence="high",
            source="police", author="A")))
        after = {p: plan_outreach(ws, OutreachParams(**params, profile=p)).candidates for p in PROFILES}
    for profile in ("public", "partner"):
        assert after[profile].drop(columns="geometry").equals(before[profile].drop(columns="geometry")), profile
    assert len(after["police"]) == len(before["police"]) - 1  # control: the police plan leaves it out


def test_filtered_or_coarser_plans_reveal_no_more_than_the_published_counts(planted):
    """A form filter or another cell size cannot be differenced into a small count (public and partner)."""
    from mapping.risk_surface import SurfaceParams, compute

    with Workspace.open(planted) as ws:
        def surface(profile, **kw):
            return compute(ws, SurfaceParams(profile=profile, weights={"people": 0, "places": 0, "cases": 1}, **kw))
        for profile in ("public", "partner"):
            plain, filtered = surface(profile), surface(profile, forms=frozenset({"labour"}))
            assert plain.cells["cases"].equals(filtered.cells["cases"]), profile  # the filter does not apply
        police = surface("police").cells["cases"]
        assert not police.equals(surface("police", forms=frozenset({"labour"})).cells["cases"])  # control
        published = redaction.redact(ws, "partner").layers["reported_cases"].frame
        coarse = surface("partner", cell_size=1000).cells
    assert coarse["cases"].sum() == published["count"].sum()  # a 1 km plan holds exactly the published counts
    assert police.sum() > published["count"].sum()  # control: some cases sit in small cells


def test_public_surface_uses_estimates_only_as_bands(planted, tmp_path):
    from mapping.risk_surface import SurfaceParams, compute

    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        before = {p: compute(ws, SurfaceParams(profile=p)).cells["people"] for p in ("public", "partner")}
        est = ws.read_layer("risk_group_estimates")
        fid, n = next((int(f), int(v)) for f, v in zip(est.index, est["estimate"]) if 55 <= v <= 190)
        with ws.atomic() as db:  # a change inside the same band (50-199)
            db.conn.execute("UPDATE risk_group_estimates SET estimate = ? WHERE fid = ?", (n + 5, fid))
        after = {p: compute(ws, SurfaceParams(profile=p)).cells["people"] for p in ("public", "partner")}
    assert after["public"].equals(before["public"])
    assert not after["partner"].equals(before["partner"])  # control: partners see the number itself


def test_indicator_counts_count_places_not_visits(planted, tmp_path):
    from mapping.report import _indicator_counts

    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        fid = int(ws.read_layer("worksites").index[5])
        for day in range(1, 7):  # six visits to one place
            History(ws, "A").do(annotate(annotation_values(
                "worksites", fid, indicators_seen=["lab_no_contract"], observed=f"2026-10-0{day}", confidence="low",
                source="own_observation", author="A")))
        public, police = _indicator_counts(ws, "public"), _indicator_counts(ws, "police")
    assert "lab_no_contract" not in set(public["indicator"])
    assert int(police.loc[police["indicator"] == "lab_no_contract", "count"].iloc[0]) == 1


def test_public_report_sources_hold_no_file_names(planted, tmp_path):
    with Workspace.open(planted) as ws:
        files, _ = export(ws, "public", "report", tmp_path / "r.pdf")
        sources = set(ws.read_table("layer_info")["source"].dropna())
    page = files[1].read_text(encoding="utf-8")
    assert sources and not [s for s in sources if s and s in page and not s.startswith("OpenStreetMap")]


def test_replacing_a_folder_export_leaves_nothing_of_the_earlier_one(planted, tmp_path):
    folder = tmp_path / "share"
    with Workspace.open(planted) as ws:
        export(ws, "police", "csv", folder, recipient="Inspector", confirm_police=True)
        assert (folder / "annotations.csv").exists()  # control
        export(ws, "public", "csv", folder, overwrite=True)
    names = {p.name for p in folder.iterdir()}
    assert "annotations.csv" not in names and "reported_cases.csv" not in names
    assert all(b"RESTRICTED" not in p.read_bytes() for p in folder.iterdir())
    (folder / "my notes.txt").write_text("the user's own file")
    with Workspace.open(planted) as ws, pytest.raises(DestinationError, match="not a Lantern"):
        export(ws, "public", "csv", folder, overwrite=True)
    assert (folder / "my notes.txt").read_text() == "the user's own file"


def test_police_plans_need_confirmation_and_are_logged(planted, tmp_path):
    from mapping.share_export import ConfirmationRequired

    copy = tmp_path / "ws.gpkg"
    shutil.copy(planted, copy)
    with Workspace.open(copy) as ws:
        plan = plan_outreach(ws, OutreachParams(k=2, radius=400, profile="police"))
        with pytest.raises(ConfirmationRequired):
            export_plan(plan, ws, tmp_path / "plan")
        assert not (tmp_path / "plan").exists()
        files, _ = export_plan(plan, ws, tmp_path / "plan", recipient="Inspector", confirm_police=True)
        record = json.loads(ws.db.conn.execute(
            "SELECT after FROM change_log WHERE action = 'export' ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert record["format"] == "outreach" and set(record["files"]) == {str(f) for f in files.values()}


def test_demo_never_replaces_a_workspace_unasked(tmp_path):
    import sys

    root = Path(__file__).resolve().parents[2]
    mine = tmp_path / "mine.gpkg"
    mine.write_bytes(b"a real workspace")
    result = subprocess.run([sys.executable, str(root / "main.py"), "demo", str(mine)], capture_output=True, text=True,
                            cwd=root)
    assert result.returncode == 2 and "--overwrite" in result.stderr and mine.read_bytes() == b"a real workspace"


def test_the_rows_scan_ignores_blob_hex_but_sees_values(tmp_path):
    """The id scan reads a GeoPackage's values, not the hex of its blobs (a short id appears in hex by chance)."""
    path = tmp_path / "t.gpkg"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER, tags TEXT, geom BLOB)")
    conn.execute("INSERT INTO t VALUES (1, 'none', X'0A9630FF')")
    conn.commit()
    conn.close()
    rows = _blobs([path])[f"{path} (rows)"]
    assert not re.search(rb"(?<!\d)9630(?!\d)", rows)  # the blob's hex is not read as a number
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO t VALUES (2, '{\"osm_id\": 9630}', NULL)")  # control: a real value is seen
    conn.commit()
    conn.close()
    assert re.search(rb"(?<!\d)9630(?!\d)", _blobs([path])[f"{path} (rows)"])


def test_the_scanner_ignores_digits_inside_an_embedded_picture_but_not_in_text(tmp_path):
    """A 4-digit OSM id turns up in a base64 picture by chance (one CI run); in the text it is still found."""
    class Few:
        cases, texts, place_names, findings, secret, osm_ids = [], [], [], [], "x" * 40, [9630]

    picture = tmp_path / "a.html"
    picture.write_bytes(b'<img src="data:image/png;base64,iVBORw0KGgoA9630Bq+/=">')
    assert scan([picture], Few())["osm_ids"] == []
    text = tmp_path / "b.html"
    text.write_bytes(b'<img src="data:image/png;base64,iVBORw0KGgo="><td>way 9630</td>')
    assert [i for _name, i in scan([text], Few())["osm_ids"]] == [9630]
