"""The one print layout, on every print map: text never cut, legends with classes and counts, a true scale bar,
a north arrow, one colour per layer in every profile, every site listed, and places named as people find them."""
import re
import subprocess

import numpy as np
import pytest
from pyproj import Geod, Transformer

from audit.redaction import PROFILES, minimum_count, redact
from layers.i18n import using
from layers.workspace import Workspace
from mapping.outreach import OutreachParams, candidate_categories, plan_outreach
from mapping.outreach_export import compose_print as compose_plan
from mapping.outreach_export import plan_bundle
from mapping.print_layout import PrintDocument, Sheet, cut_texts, wrap
from mapping.print_style import layer_colors
from mapping.report import _report_map
from mapping.share_export import compose_print

RAW_CELL_ID = re.compile(r"-?\d+_-?\d+")


@pytest.fixture(scope="module")
def bundles(demo_file):
    with Workspace.open(demo_file) as ws:
        return {p: redact(ws, p) for p in PROFILES}


@pytest.fixture(scope="module")
def docs(bundles):
    made = {p: compose_print(b) for p, b in bundles.items()}
    yield made
    for doc in made.values():
        doc.close()


@pytest.fixture(scope="module")
def plan30(demo_file):
    with Workspace.open(demo_file) as ws:
        categories = [c["id"] for c in candidate_categories()]
        plan = plan_outreach(ws, OutreachParams(k=30, radius=400, categories=categories))
        return plan, plan_bundle(plan, ws)


def _all_texts(doc: PrintDocument) -> list[str]:
    return [t.get_text() for page in doc.pages for t in page.fig.texts + (page.ax.texts if page.ax else [])]


# -- text never cut ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "lv"])
@pytest.mark.parametrize("profile", PROFILES)
def test_no_text_of_a_shared_map_is_cut(bundles, profile, lang):
    with using(lang):
        doc = compose_print(bundles[profile])
    try:
        for page in doc.pages:
            assert cut_texts(page.fig) == []
        # the notes speak plain words: no parameter or field names ("min_m and max_m")
        assert not [t for t in _all_texts(doc) if re.search(r"\b[a-z]+_[a-z_]+\b", t)]
    finally:
        doc.close()


@pytest.mark.parametrize("lang", ["en", "lv"])
def test_no_text_of_the_outreach_map_is_cut(plan30, lang):
    plan, bundle = plan30
    with using(lang):
        doc = compose_plan(bundle, plan)
    try:
        assert all(cut_texts(page.fig) == [] for page in doc.pages)
    finally:
        doc.close()


def test_no_text_of_a_report_map_is_cut(bundles):
    bundle = bundles["police"]
    doc = _report_map(bundle, "Places of concern", [bundle.layers["places_of_concern"]], ["A note."])
    try:
        assert cut_texts(doc.first.fig) == []
    finally:
        doc.close()


def test_the_extent_check_sees_a_cut_text():
    """Positive control: a text running off the page is reported."""
    doc = PrintDocument(Sheet("Title", "PUBLIC", "2026-01-01"), "a4", "portrait")
    try:
        assert cut_texts(doc.first.fig) == []
        doc.first.fig.text(0.9, 0.5, "this sentence runs off the right edge of the page")
        assert cut_texts(doc.first.fig) == ["this sentence runs off the right edge of the page"]
    finally:
        doc.close()


def test_a_long_title_wraps_or_shrinks_and_keeps_every_word():
    title = "Outreach targeting map — " + " ".join(["Daugavpils valstspilsētas Jaunbūves apkaime"] * 4)
    doc = PrintDocument(Sheet(title, "IEROBEŽOTA PIEEJAMĪBA – sadarbībai ar policiju", "2026-01-01",
                              subtitle="A subtitle " * 20, method=["Plain words. " * 80]), "a4", "landscape")
    try:
        assert cut_texts(doc.first.fig) == []
        shown = " ".join(" ".join(t.get_text().split()) for t in doc.first.fig.texts)
        assert " ".join(title.split()) in shown
    finally:
        doc.close()


def test_wrap_breaks_a_word_longer_than_the_line():
    doc = PrintDocument(Sheet("T", "M", "D"), "a4", "portrait")
    try:
        lines = wrap(doc.first.fig, "x" * 400, 8, 2.0)
        assert len(lines) > 1 and "".join(lines) == "x" * 400
    finally:
        doc.close()


# -- legend, scale bar, north arrow, grid --------------------------------------------------------------

def _entries(doc, layer=None):
    return [b.entry for b in doc.blocks if b.entry is not None and (layer is None or b.entry.layer == layer)]


def test_the_public_hex_map_has_classes_with_counts_and_shows_suppression(docs, bundles):
    cells = bundles["public"].layers["places_of_concern"].frame
    entries = _entries(docs["public"], "places_of_concern")
    counts = [int(re.search(r": (\d+) cells?$", e.label).group(1)) for e in entries]
    assert len(entries) >= 3 and sum(counts) == len(cells)
    assert re.match(r"^5–9: \d+ cells?$", entries[0].label)
    assert any("fewer than 5" in b.entry.label for b in docs["public"].blocks if b.entry and b.entry.kind == "blank")
    assert len({e.color for e in entries}) == len(entries)  # classed, not one colour


def test_cell_labels_show_only_published_counts(docs, bundles):
    """Every number written in a cell is a count the profile publishes (never one below the minimum)."""
    published = sorted(int(c) for c in bundles["public"].layers["places_of_concern"].frame["count"])
    ax = docs["public"].ax
    labels = sorted(int(t.get_text()) for t in ax.texts if t.get_text().isdigit() and t.get_gid() != "grid_label")
    assert labels == published and min(labels) >= minimum_count()


def _scalebar(doc):
    return next(a for a in doc.ax.get_children() if a.get_gid() == "scalebar")


@pytest.mark.parametrize("profile", PROFILES)
def test_the_scale_bar_is_true_on_the_ground(docs, bundles, profile):
    doc = docs[profile]
    doc.first.fig.canvas.draw()
    info = _scalebar(doc).info
    metres = info.value * {"m": 1, "km": 1000}[info.units]
    x0, x1 = doc.ax.get_xlim()
    y = sum(doc.ax.get_ylim()) / 2
    to_geo = Transformer.from_crs(bundles[profile].crs, 4326, always_xy=True)
    (lon0, lon1), (lat0, lat1) = to_geo.transform([x0, x0 + info.length_px], [y, y])
    ground = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2]
    assert ground == pytest.approx(metres, rel=0.05)
    # and on paper: the bar's share of the frame is its share of the frame's width in metres
    frame = doc.ax.get_window_extent()
    px = doc.ax.transData.transform([(x0, y), (x0 + info.length_px, y)])
    assert (px[1][0] - px[0][0]) / frame.width == pytest.approx(info.length_px / (x1 - x0), rel=1e-6)


def test_a_north_arrow_points_north(docs):
    ax = docs["public"].ax
    arrow = next(a for a in ax.get_children() if a.get_gid() == "north_arrow")
    (tx, ty), (sx, sy) = arrow.xy, arrow.xyann
    assert ty > sy and abs(tx - sx) < 0.2 * (ty - sy)
    assert any(t.get_gid() == "north_label" for t in ax.texts)


def test_the_grid_reference_names_squares_from_the_top_left(docs):
    grid = docs["public"].grid
    x0, x1 = docs["public"].ax.get_xlim()
    y0, y1 = docs["public"].ax.get_ylim()
    assert grid.label(x0 + 1, y1 - 1) == "A1"
    assert grid.label(x0 + grid.step * 2.5, y1 - grid.step * 3.5) == "C4"
    assert grid.label(x1 + 10, y0) == "—"
    letters = {t.get_text() for t in docs["public"].ax.texts if t.get_gid() == "grid_label"}
    assert {"A", "B", "1", "2"} <= letters


# -- one colour per layer ---------------------------------------------------------------------------

def test_a_layer_has_its_colour_in_every_profile(docs):
    colours = {p: {} for p in PROFILES}
    for profile, doc in docs.items():
        for entry in _entries(doc):
            if entry.layer:
                colours[profile].setdefault(entry.layer, set()).add(entry.color)
    shared = set.intersection(*(set(c) for c in colours.values()))
    assert {"transport_hubs", "worksites", "services", "places_of_concern"} <= shared
    for layer in set().union(*colours.values()):
        seen = [colours[p][layer] for p in PROFILES if layer in colours[p]]
        assert all(layer_colors(layer)[0] in s for s in seen), layer  # its own colour, in every profile
    assert colours["public"]["transport_hubs"] == colours["partner"]["transport_hubs"] == \
        colours["police"]["transport_hubs"]


# -- the outreach map lists every site ------------------------------------------------------------------

def test_the_outreach_print_lists_every_site(plan30, tmp_path):
    from mapping.outreach_export import render_print

    plan, bundle = plan30
    assert len(plan.sites) == 30
    pdf = render_print(bundle, plan, tmp_path / "outreach.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    rows = re.findall(r"^(\d+)\. .+ — .+ · (\S+)$", text, re.M)
    assert sorted(int(rank) for rank, _square in rows) == list(range(1, 31))
    # every site is on the map, and found by its grid square
    assert all(re.fullmatch(r"[A-Z]\d+", square) for _rank, square in rows)
    assert "(30)" in text


# -- places named as people find them -------------------------------------------------------------------

def test_cells_are_named_by_street_or_position_never_by_id(demo_file):
    from audit.gaps import cell_names
    from mapping.risk_surface import compute

    with Workspace.open(demo_file) as ws:
        cells = compute(ws).cells.head(5)
        roads = ws.read_layer("basemap_roads")
    by_street = cell_names(cells, roads)
    assert all(n.startswith("near ") and len(n) > 6 for n in by_street)
    by_position = cell_names(cells)
    assert all(re.match(r"at \d+\.\d{4}° N, \d+\.\d{4}° E$", n) for n in by_position)
    assert not any(RAW_CELL_ID.search(n) for n in by_street + by_position)
    assert RAW_CELL_ID.search(f"{cells['q'].iloc[0]}_{cells['r'].iloc[0]}")  # the control: an id would be seen


def test_the_report_gaps_table_has_grid_squares_not_cell_ids(demo_copy, tmp_path):
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        files, _ = export(ws, "police", "report", tmp_path / "report.pdf", recipient="Liaison", confirm_police=True)
        ids = list(redact(ws, "partner").layers["reported_cases"].frame["cell"])
    text = subprocess.run(["pdftotext", "-layout", str(files[0]), "-"], capture_output=True, text=True).stdout
    section = text[text.index("Service gaps\n"):text.index("Assessment questionnaire")]
    assert "Grid square" in section and re.search(r"risk cell\s+[A-Z]\d+\s+near \S", section)
    assert not RAW_CELL_ID.search(section)
    assert ids and all(RAW_CELL_ID.search(i) for i in ids)  # the control: the regex finds real cell ids


def test_the_report_footer_is_never_cut(demo_copy, tmp_path):
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        long_name = "Pilsētas centrs — " + "ļoti garš nosaukums ar daudziem vārdiem " * 4 + "annotations"
        ws.set_metadata("name", long_name)
        files, _ = export(ws, "public", "report", tmp_path / "report.pdf")
    text = " ".join(subprocess.run(["pdftotext", str(files[0]), "-"], capture_output=True, text=True).stdout.split())
    info = subprocess.run(["pdfinfo", str(files[0])], capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert len(re.findall(r"vārdiem annotations · \d{4}-\d\d-\d\d · \d+", text)) == pages


def test_class_colours_run_from_light_through_the_layer_colour():
    from mapping.print_style import ramp

    for n in (1, 4, 5):
        colours = ramp("reported_cases", n)
        assert len(colours) == n and layer_colors("reported_cases")[0] in colours
    lightness = [np.mean([int(c[i:i + 2], 16) for i in (1, 3, 5)]) for c in ramp("places_of_concern", 5)]
    assert lightness == sorted(lightness, reverse=True)
