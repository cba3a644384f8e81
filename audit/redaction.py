"""One redaction step for every export: a workspace + a profile → exactly what that audience may see.

What may leave is an allow-list in ``data/sensitivity.json``: for each
profile, each layer names the one *form* it leaves in and the exact fields
that go with it. A layer or field not listed never leaves — including
columns other tools add later — so a new field is private until someone
decides otherwise.

- **public**: public layers with their public fields; no reported cases;
  places of concern only as hex-cell counts; estimates only as bands;
  no notes, authors, sources, free text or audit findings.
- **partner**: adds partner layers; reported cases only as hex-cell counts
  (cells with fewer than 5 are not published at all, on a grid anchored to
  the projection's origin and counted over the whole workspace, so
  overlapping exports cannot be differenced); places of concern geomasked
  with nothing that joins them back to a place (no name, OSM id, tags or
  rare value combinations); no notes, authors or audit findings.
- **police**: full detail including case points, annotations, notes,
  authors and the audit's risk levels; stamped RESTRICTED.
Confidential tables (change log, metadata) never leave the workspace.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

import numpy as np

from layers import hexgrid
from layers.crs import metric_crs, metric_crs_for
from layers.i18n import N_, _, label
from layers.resources import load_json

PROFILES = ("public", "partner", "police")
POLICE_STAMP = N_("RESTRICTED – police liaison")  # English; shown through _()
SECRET_KEY = "geomask_secret"
ATTRIBUTE_TABLES = ("annotations", "assessment_answers", "action_plan")


def now() -> dt.datetime:
    """The export's time (one place, so tests can fix it and compare whole files)."""
    return dt.datetime.now(dt.timezone.utc)


def history(workspace) -> dict:
    """The history's head hash and signer fingerprint, printed on every output (tests fix it like ``now``)."""
    from audit.changelog import history_anchor

    return history_anchor(workspace)


def _doc() -> dict:
    return load_json("sensitivity.json")


def levels() -> list[str]:
    return _doc()["levels"]


def rank(level: str) -> int:
    return levels().index(level)


def layer_level(name: str) -> str:
    """The sensitivity level shown for a layer (what it holds before redaction)."""
    return _doc()["layers"].get(name, {}).get("level", "confidential")


def share_rule(name: str, profile: str) -> dict | None:
    """{"form", "fields"} for ``name`` (a layer, table or derived result) in ``profile``; None: it never leaves."""
    doc = _doc()
    entry = doc["layers"].get(name) or doc["derived"].get(name) or {}
    return entry.get("share", {}).get(profile)


def minimum_count() -> int:
    """The smallest count of records any public or partner output may show (or be computed from)."""
    return int(_doc()["hex_counts"]["minimum"])


def fixed_cell_size() -> float:
    """The one grid on which counts of confidential records are ever published (metres, centre to centre)."""
    return float(_doc()["hex_counts"]["cell_size_m"])


def about(entry: dict) -> str:
    """A catalogue entry's explanation in the current language ({"en", "lv"}, or plain English text)."""
    text = entry.get("about", "")
    return label(text) if isinstance(text, dict) else text


def derived_about(name: str) -> str:
    return about(_doc()["derived"].get(name, {}))


def select_fields(frame, fields: list[str]):
    """Only the allow-listed columns (in the allow-list's order), plus the geometry."""
    keep = [c for c in fields if c in frame.columns]
    if "geometry" in frame.columns:
        keep.append("geometry")
    return frame[keep]


def exact_tables(profile: str = "public") -> list[str]:
    """Layers ``profile`` receives at exact positions: only they may decide an output's extent.

    Police-level records (cases, places of concern) and, for public output,
    partner-level ones (shelters, risk areas) never move the extent, grid or
    projection of what that audience sees.
    """
    from layers.catalogue import layer_kinds

    return [name for name in layer_kinds() if (share_rule(name, profile) or {}).get("form") == "features"]


def district_bounds(workspace, profile: str = "public"):
    """W, S, E, N of the layers ``profile`` receives exactly; None when there are none (never the cases)."""
    return workspace.bounds(exact_tables(profile))


def district_crs(workspace):
    """LKS-92 (EPSG:3059) in Latvia, else the UTM zone of the district's public layers (layers.crs)."""
    return metric_crs_for(district_bounds(workspace) or workspace.bounds())  # a fallback's box only picks the zone


@dataclass
class SharedLayer:
    name: str
    label: str
    frame: object  # GeoDataFrame (EPSG:4326) or DataFrame for tables
    level: str  # the profile it was made for
    form: str = "features"  # the allow-list's form: features | hex_counts | geomasked | banded | table | cells | ...
    note: str = ""
    sources: tuple[str, ...] = ()  # layers a derived result was taken from (checked against the allow-list)

    @property
    def spatial(self) -> bool:
        return hasattr(self.frame, "geometry") and "geometry" in getattr(self.frame, "columns", [])


@dataclass
class Bundle:
    profile: str
    workspace_name: str
    created: str
    layers: dict[str, SharedLayer] = field(default_factory=dict)
    attribution: str | None = None
    notes: list[str] = field(default_factory=list)
    bounds: tuple | None = None  # W, S, E, N of the layers this profile receives exactly (nothing else)
    crs: object = None  # the district's metric CRS
    synthetic: bool = False
    anchor: dict = field(default_factory=dict)  # {"head", "fingerprint"} of the workspace's history

    @property
    def anchor_text(self) -> str:
        """One line that ties this output to the history it came from (see ``check``)."""
        if not self.anchor.get("head"):
            return ""
        return _("History head {head} · signed by key {fp}").format(
            head=self.anchor["head"], fp=self.anchor.get("fingerprint") or "—")

    @property
    def stamp(self) -> str | None:
        return _(POLICE_STAMP) if self.profile == "police" else None

    @property
    def marking(self) -> str:
        return {"public": _("PUBLIC"), "partner": _("PARTNER — not for publication"),
                "police": _(POLICE_STAMP)}[self.profile]

    def add(self, layer: SharedLayer) -> None:
        self.layers[layer.name] = layer
        if layer.note:
            self.notes.append(f"{layer.label}: {layer.note}")


def geomask_secret(workspace) -> bytes:
    """The workspace's secret for geomasking (created once; confidential metadata, never exported)."""
    secret = workspace.metadata.get(SECRET_KEY)
    if not secret:
        secret = secrets.token_hex(32)
        workspace.set_metadata(SECRET_KEY, secret)
    return bytes.fromhex(secret)


def mask_keys(frame) -> list[str]:
    """A stable identity per place: its OSM object when it has one, else its fid.

    The same OSM place imported twice gets the same mask, so two copies never
    give two donuts to intersect.
    """
    types = frame["osm_type"] if "osm_type" in frame.columns else [None] * len(frame)
    ids = frame["osm_id"] if "osm_id" in frame.columns else [None] * len(frame)
    keys = []
    for fid, t, i in zip(frame.index, types, ids):
        known = isinstance(t, str) and t and i is not None and i == i
        keys.append(f"osm/{t}/{int(i)}" if known else f"fid/{int(fid)}")
    return keys


def geomask(frame, secret: bytes, min_m: float, max_m: float, metric=None):
    """Donut masking: move each feature's point between min_m and max_m, deterministically per place."""
    import geopandas as gpd
    import shapely

    if len(frame) == 0:
        return frame
    metric = metric or metric_crs(frame)
    points = frame.geometry.representative_point().to_crs(metric)
    u = np.array([[int.from_bytes(d[:8], "big") / 2**64, int.from_bytes(d[8:16], "big") / 2**64]
                  for d in (hashlib.sha256(secret + key.encode()).digest() for key in mask_keys(frame))])
    radius = np.sqrt(min_m**2 + u[:, 0] * (max_m**2 - min_m**2))  # uniform over the donut's area
    angle = 2 * np.pi * u[:, 1]
    moved = shapely.points(points.x.to_numpy() + radius * np.cos(angle), points.y.to_numpy() + radius * np.sin(angle))
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=gpd.GeoSeries(moved, crs=metric).to_crs(4326).values,
                            crs=4326)


def withhold_rare(frame, fields: list[str], k: int):
    """Blank the listed fields of every row whose value combination fewer than ``k`` rows share.

    A masked point that says "the only mosque" or "the only embassy with a
    high risk level" is found again on any map; a value shared by k rows is not.
    """
    columns = [c for c in fields if c in frame.columns]
    if not columns or len(frame) == 0:
        return frame
    combo = frame[columns].astype("string").fillna("\x00").agg("\x1f".join, axis=1)
    rare = combo.map(combo.value_counts()) < k
    out = frame.copy()
    out[columns] = out[columns].astype(object)
    out.loc[rare, columns] = None
    return out


def hex_counts(frame, cell_size: float, minimum: int, metric, extent=None):
    """Cells of an origin-anchored grid with at least ``minimum`` records; cells with fewer are not there at all."""
    points = frame.geometry.dropna().representative_point().to_crs(metric)
    keys, counts, _sums = hexgrid.populated(points.x.to_numpy(), points.y.to_numpy(), cell_size, minimum)
    return _count_cells(keys, counts, cell_size, metric, extent)


def layer_hex_counts(workspace, name: str, cell_size: float, minimum: int, metric, extent=None):
    """``hex_counts`` of a workspace layer, counted a batch at a time (a million cases never sit in memory
    as one frame); the same cells and counts."""
    from pyproj import Transformer

    from layers.point_batches import CellTally, point_batches

    to_metric = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    tally = CellTally(cell_size)
    for batch in point_batches(workspace, name):
        tally.add(*to_metric.transform(batch.x, batch.y))
    keys, counts, _sums = tally.result(minimum)
    return _count_cells(keys, counts, cell_size, metric, extent)


def _count_cells(keys, counts, cell_size: float, metric, extent=None):
    import geopandas as gpd
    import pandas as pd

    if extent is not None and len(keys):
        w, s, e, n = extent
        cx, cy = hexgrid.centres(keys[:, 0], keys[:, 1], cell_size)
        centres = gpd.GeoSeries.from_xy(cx, cy, crs=metric).to_crs(4326)
        inside = ((centres.x >= w) & (centres.x <= e) & (centres.y >= s) & (centres.y <= n)).to_numpy()
        keys, counts = keys[inside], counts[inside]
    cells = gpd.GeoDataFrame(
        {"cell": [f"{a}_{b}" for a, b in keys], "count": pd.array(counts, dtype="Int64")},
        geometry=hexgrid.polygons(keys[:, 0], keys[:, 1], cell_size) if len(keys) else [], crs=metric,
    )
    return cells.to_crs(4326).reset_index(drop=True)


def banded(frame, bands: list[int]):
    """Replace estimated numbers by classes."""
    def band(n):
        if n is None or n != n:
            return None
        n = int(n)
        for lower, upper in zip(bands, bands[1:]):
            if n < upper:
                return f"{max(lower, 1)}–{upper - 1}"
        return f"{bands[-1]}+"

    return frame.assign(estimate_class=[band(v) for v in frame["estimate"]])


def _with_findings(assessments: dict, kind_id: str, frame):
    """The audit's risk level and its drivers, as columns (police only: the allow-list decides)."""
    from audit.annotations import PLACE_KINDS

    if kind_id not in PLACE_KINDS:
        return frame
    found = [assessments.get((kind_id, int(f))) for f in frame.index]
    return frame.assign(risk_level=[a.level if a else "none" for a in found],
                        risk_drivers=[a.explain() if a and a.drivers else None for a in found])


def _clip(frame, extent):
    if extent is None or len(frame) == 0:
        return frame
    w, s, e, n = extent
    return frame.cx[w:e, s:n]


def _layer(workspace, bundle: Bundle, name: str, label: str, rule: dict, extent, assessments) -> SharedLayer:
    doc = _doc()
    form, fields = rule["form"], rule["fields"]
    if form == "hex_counts":
        conf = doc["hex_counts"]
        # counted over the whole workspace, so a cell's count never depends on the extent
        cells = layer_hex_counts(workspace, name, conf["cell_size_m"], conf["minimum"], bundle.crs, extent)
        return SharedLayer(name, _("{label} per cell").format(label=label), select_fields(cells, fields),
                           bundle.profile, form, about(conf))
    frame = workspace.read_layer(name)
    if form == "geomasked":
        conf = doc["geomask"]
        masked = geomask(frame, geomask_secret(workspace), conf["min_m"], conf["max_m"], bundle.crs)
        shown = withhold_rare(select_fields(masked, fields), fields, minimum_count())  # over the whole layer
        # clipped on the masked position: clipping on the true one would let an extent's edge find it
        return SharedLayer(name, _("{label} (positions masked)").format(label=label),
                           _clip(shown, extent).reset_index(drop=True), bundle.profile, form, about(conf))
    frame = _clip(frame, extent)
    if form == "banded":
        return SharedLayer(name, label, select_fields(banded(frame, doc["banded"]["bands"]), fields), bundle.profile,
                           form, about(doc["banded"]))
    if "risk_level" in fields:
        frame = _with_findings(assessments, name, frame)
    return SharedLayer(name, label, select_fields(frame, fields), bundle.profile, form)


def redact(workspace, profile: str, extent=None, only=None) -> Bundle:
    """What ``profile`` may receive from ``workspace`` (optionally only within ``extent`` W,S,E,N).

    ``only``: the layers and tables wanted (default: everything the profile may receive).
    """
    from audit.annotations import place_assessments
    from layers.catalogue import layer_kinds

    if profile not in PROFILES:
        raise ValueError(_("unknown profile {p!r}; choose public, partner or police").format(p=profile))
    bundle = Bundle(profile, workspace.name, now().isoformat(timespec="seconds"),
                    attribution=workspace.metadata.get("osm_attribution"), bounds=district_bounds(workspace, profile),
                    crs=district_crs(workspace), synthetic=bool(workspace.metadata.get("synthetic")),
                    anchor=history(workspace))
    assessments = place_assessments(workspace) if profile == "police" else {}
    for name, k in layer_kinds().items():
        rule = share_rule(name, profile)
        if rule is not None and (only is None or name in only):
            bundle.add(_layer(workspace, bundle, name, k.label, rule, extent, assessments))
    labels = {"annotations": _("Annotations"), "assessment_answers": _("Assessment answers"),
              "action_plan": _("Action plan")}
    for table in ATTRIBUTE_TABLES:
        rule = share_rule(table, profile)
        if rule is not None and (only is None or table in only):
            frame = select_fields(workspace.read_table(table), rule["fields"])
            bundle.add(SharedLayer(table, labels[table], frame, profile, rule["form"]))
    return bundle
