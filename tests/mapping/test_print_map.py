"""Print the current view: the profile's redaction and disclosure check, as for every share export."""
import subprocess

import numpy as np
import pytest
from pyproj import Transformer

import mapping.share_export as share_export
from audit.disclosure import DisclosureError
from audit.export_log import ConfirmationRequired
from audit.redaction import redact
from layers.workspace import Workspace
from mapping.print_map import print_map, view_extent


def _drawn_points(doc) -> np.ndarray:
    """Every marker position drawn on the map (scatter offsets, in the map's CRS)."""
    found = [c.get_offsets() for c in doc.ax.collections if len(getattr(c, "get_offsets", lambda: [])())]
    return np.vstack(found) if found else np.empty((0, 2))


def _cases_drawn(doc, cases, crs) -> int:
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(cases.geometry.x.values, cases.geometry.y.values)
    drawn = _drawn_points(doc)
    return sum(bool(len(drawn)) and np.hypot(drawn[:, 0] - cx, drawn[:, 1] - cy).min() < 1.0 for cx, cy in zip(x, y))


@pytest.fixture
def spy(monkeypatch):
    """Keep the bundle and the drawn document of every print, without changing what is written."""
    seen = {}
    compose = share_export.compose_print

    def keep(bundle, options=None):
        seen["bundle"] = bundle
        seen["doc"] = compose(bundle, options)
        seen["doc"].close = lambda: None  # kept open for the test
        return seen["doc"]

    monkeypatch.setattr(share_export, "compose_print", keep)
    return seen


def test_a_public_print_holds_no_case_and_no_police_field(demo_copy, tmp_path, spy):
    with Workspace.open(demo_copy) as ws:
        cases = ws.read_layer("reported_cases")
        names = [n for n in ws.read_layer("places_of_concern")["name"] if isinstance(n, str) and len(n) > 3]
        out = print_map(ws, out=tmp_path / "map.pdf", profile="public")
    bundle, doc = spy["bundle"], spy["doc"]
    assert out == [tmp_path / "map.pdf"] and out[0].read_bytes()[:5] == b"%PDF-"
    assert "reported_cases" not in bundle.layers and bundle.layers["places_of_concern"].form == "hex_counts"
    for layer in bundle.layers.values():
        police_only = {"description", "risk_level", "risk_drivers", "note", "author", "osm_tags"}
        assert not police_only & set(layer.frame.columns)
    assert _cases_drawn(doc, cases, bundle.crs) == 0
    text = subprocess.run(["pdftotext", str(out[0]), "-"], capture_output=True, text=True).stdout
    assert "PUBLIC" in text and not [n for n in names if n in text]


def test_the_same_check_finds_cases_when_redaction_is_bypassed(demo_copy):
    """Positive control: drawn without redaction (the police bundle), the case points are found."""
    with Workspace.open(demo_copy) as ws:
        cases = ws.read_layer("reported_cases")
        bundle = redact(ws, "police")
    doc = share_export.compose_print(bundle)
    try:
        assert _cases_drawn(doc, cases, bundle.crs) == len(cases) > 0
    finally:
        doc.close()


def test_a_bundle_that_would_leak_is_stopped_and_nothing_is_written(demo_copy, tmp_path, monkeypatch):
    """Attack: redaction replaced by the police bundle under a public label; the disclosure check stops it."""
    def leaky(workspace, profile, extent=None, only=None):
        bundle = redact(workspace, "police", extent, only)
        bundle.profile = profile
        return bundle

    monkeypatch.setattr(share_export, "redact", leaky)
    with Workspace.open(demo_copy) as ws, pytest.raises(DisclosureError, match="reported_cases"):
        print_map(ws, out=tmp_path / "leak.png", profile="public")
    assert not (tmp_path / "leak.png").exists()


def test_a_police_print_needs_its_confirmation(demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        with pytest.raises(ConfirmationRequired):
            print_map(ws, out=tmp_path / "police.pdf", profile="police")
        files = print_map(ws, out=tmp_path / "police.png", profile="police", recipient="Liaison officer",
                          confirm_police=True, paper="A3", orientation="portrait")
        logged = ws.db.conn.execute("SELECT count(*) FROM change_log WHERE action = 'export' "
                                    "AND after LIKE '%police.png%'").fetchone()
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and logged[0] >= 1


def test_only_the_chosen_layers_within_the_extent(demo_copy, tmp_path, spy):
    with Workspace.open(demo_copy) as ws:
        hubs = ws.read_layer("transport_hubs")
        w, s, e, n = hubs.total_bounds
        box = (w, s, (w + e) / 2, (s + n) / 2)
        print_map(ws, out=tmp_path / "hubs.png", layers=["transport_hubs"], extent=box, title="Hubs",
                  subtitle="South-west")
    bundle = spy["bundle"]
    thematic = {k for k in bundle.layers if not k.startswith("basemap")}
    assert thematic == {"transport_hubs"}
    inside = hubs.cx[box[0]:box[2], box[1]:box[3]]
    assert 0 < len(bundle.layers["transport_hubs"].frame) == len(inside) < len(hubs)
    texts = [t.get_text() for t in spy["doc"].first.fig.texts]
    assert "Hubs" in texts and "South-west" in texts


def test_unknown_options_are_refused_before_anything_is_written(demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        for bad in (dict(paper="A5"), dict(orientation="sideways"), dict(layers=["nope"]), dict(fmt="svg")):
            with pytest.raises(ValueError):
                print_map(ws, out=tmp_path / "x.pdf", **bad)
    assert not (tmp_path / "x.pdf").exists()


def test_view_extent_of_a_leaflet_view():
    w, s, e, n = view_extent(60.17, 24.94, 15, 1024, 768)
    assert (w + e) / 2 == pytest.approx(24.94)
    assert e - w == pytest.approx(1024 * 360 / (256 * 2 ** 15))
    assert s < 60.17 < n and (n - s) < (e - w)  # at 60° N a degree of latitude is longer on the map


def test_the_cli_prints_a_map(demo_copy, tmp_path):
    from main import main

    out = tmp_path / "cli.png"
    assert main(["print-map", str(demo_copy), "--out", str(out), "--layers", "transport_hubs,worksites",
                 "--paper", "a3", "--orientation", "portrait", "--title", "Hubs"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
