"""One redaction step for every export: a workspace + a profile → exactly what that audience may see.

Profiles (data/sensitivity.json declares the levels):
- **public**: public layers and fields only; no reported cases; places of
  concern only as hex-cell counts; risk-group estimates only as bands; no
  notes, authors, sources or other free text.
- **partner**: adds partner layers; reported cases only as hex-cell counts
  with counts below 5 suppressed (on a grid anchored to the projection's
  origin, so overlapping exports cannot be differenced); places of concern
  geomasked (donut, secret seed never exported); no notes, authors or free text.
- **police**: full detail including case points, annotations with notes and
  authors; every layer is stamped RESTRICTED.
Confidential tables (change log, metadata) never leave the workspace.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

import numpy as np

from layers.i18n import _
from layers.resources import load_json

PROFILES = ("public", "partner", "police")
POLICE_STAMP = "RESTRICTED – police liaison"
SECRET_KEY = "geomask_secret"


def levels() -> list[str]:
    return load_json("sensitivity.json")["levels"]


def rank(level: str) -> int:
    return levels().index(level)


def layer_rules(name: str) -> dict:
    return load_json("sensitivity.json")["layers"].get(name, {"level": "confidential"})


def layer_level(name: str) -> str:
    return layer_rules(name)["level"]


def field_level(layer: str, field_name: str) -> str:
    rules = layer_rules(layer)
    return rules.get("fields", {}).get(field_name, rules["level"])


def is_free_text(layer: str, field_name: str) -> bool:
    return field_name == "extra" or field_name in layer_rules(layer).get("free_text", [])


@dataclass
class SharedLayer:
    name: str
    label: str
    frame: object  # GeoDataFrame (EPSG:4326) or DataFrame for tables
    level: str  # the level of what is in it after redaction
    form: str = "features"  # features | hex_counts | geomasked | banded | table
    note: str = ""

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

    @property
    def stamp(self) -> str | None:
        return POLICE_STAMP if self.profile == "police" else None

    @property
    def marking(self) -> str:
        return {"public": _("PUBLIC"), "partner": _("PARTNER — not for publication"),
                "police": POLICE_STAMP}[self.profile]


def _allowed(level: str, profile: str) -> bool:
    return level != "confidential" and rank(level) <= rank(profile)


def _strip_fields(name: str, frame, profile: str):
    keep = []
    for column in frame.columns:
        if column == "geometry":
            keep.append(column)
            continue
        if not _allowed(field_level(name, column), profile):
            continue
        if profile != "police" and is_free_text(name, column):
            continue
        keep.append(column)
    return frame[keep]


def geomask_secret(workspace) -> bytes:
    """The workspace's secret for geomasking (created once; confidential metadata, never exported)."""
    secret = workspace.metadata.get(SECRET_KEY)
    if not secret:
        secret = secrets.token_hex(32)
        workspace.set_metadata(SECRET_KEY, secret)
    return bytes.fromhex(secret)


def geomask(frame, secret: bytes, min_m: float, max_m: float):
    """Donut masking: move each feature's point between min_m and max_m, deterministically per fid."""
    import geopandas as gpd
    import shapely

    if len(frame) == 0:
        return frame
    metric = frame.estimate_utm_crs()
    points = frame.geometry.representative_point().to_crs(metric)
    moved = []
    for fid, p in zip(frame.index, points):
        digest = hashlib.sha256(secret + str(int(fid)).encode()).digest()
        u1 = int.from_bytes(digest[:8], "big") / 2**64
        u2 = int.from_bytes(digest[8:16], "big") / 2**64
        # uniform over the donut's area, not its radius
        radius = np.sqrt(min_m**2 + u1 * (max_m**2 - min_m**2))
        angle = 2 * np.pi * u2
        moved.append(shapely.Point(p.x + radius * np.cos(angle), p.y + radius * np.sin(angle)))
    out = frame.drop(columns="geometry").copy()
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(moved, crs=metric).to_crs(4326).values, crs=4326)


def hex_counts(frame, label: str, cell_size: float, minimum: int, extent=None):
    """Counts per hexagonal cell, suppressed below ``minimum``; only cells whose centre is in ``extent``."""
    import geopandas as gpd
    import pandas as pd

    from mapping import hexgrid

    metric = "EPSG:32600"
    if len(frame):
        metric = frame.estimate_utm_crs()
    points = frame.geometry.representative_point().to_crs(metric) if len(frame) else gpd.GeoSeries([], crs=metric)
    q, r = hexgrid.axial(points.x.to_numpy(), points.y.to_numpy(), cell_size) if len(points) else ([], [])
    keys, counts = (np.unique(np.stack([q, r], axis=1), axis=0, return_counts=True) if len(points)
                    else (np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)))
    cells = gpd.GeoDataFrame(
        {"cell": [f"{a}_{b}" for a, b in keys], "count": pd.array(counts, dtype="Int64")},
        geometry=hexgrid.polygons(keys[:, 0], keys[:, 1], cell_size) if len(keys) else [], crs=metric,
    )
    if extent is not None:
        w, s, e, n = extent
        cx, cy = hexgrid.centres(keys[:, 0], keys[:, 1], cell_size)
        centres = gpd.GeoSeries.from_xy(cx, cy, crs=metric).to_crs(4326)
        inside = ((centres.x >= w) & (centres.x <= e) & (centres.y >= s) & (centres.y <= n)).to_numpy()
        cells = cells[inside]
    cells = cells.to_crs(4326)
    suppressed = cells["count"] < minimum
    cells = cells.assign(count_label=np.where(suppressed, _("fewer than {n}").format(n=minimum),
                                              cells["count"].astype(str)))
    cells.loc[suppressed, "count"] = None  # the number itself never leaves
    return cells.reset_index(drop=True)


def banded(frame, bands: list[int]):
    """Replace estimated numbers by classes; drop breakdowns and sources."""
    def band(n):
        if n is None or n != n:
            return None
        n = int(n)
        for lower, upper in zip(bands, bands[1:]):
            if n < upper:
                return f"{max(lower, 1)}–{upper - 1}"
        return f"{bands[-1]}+"

    out = frame[["risk_group", "estimated_on", "confidence", "geometry"]].copy()
    out.insert(1, "estimate_class", [band(v) for v in frame["estimate"]])
    return out


def _with_risk(levels: dict, kind_id: str, frame, profile: str):
    """Places get their audit risk level — except in public exports, where it would disclose the audit.

    ``levels``: (table, fid) → level, assessed once per export.
    """
    from audit.annotations import PLACE_KINDS

    if profile == "public" or kind_id not in PLACE_KINDS:
        return frame
    return frame.assign(risk_level=[levels.get((kind_id, int(f)), "none") for f in frame.index])


def redact(workspace, profile: str, extent=None) -> Bundle:
    """What ``profile`` may receive from ``workspace`` (optionally only within ``extent`` W,S,E,N)."""
    from layers.catalogue import layer_kinds

    if profile not in PROFILES:
        raise ValueError(_("unknown profile {p!r}; choose public, partner or police").format(p=profile))
    doc = load_json("sensitivity.json")
    bundle = Bundle(profile, workspace.name, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    attribution=workspace.metadata.get("osm_attribution"))
    from audit.annotations import place_assessments

    levels = {key: a.level for key, a in place_assessments(workspace).items()} if profile != "public" else {}
    for name, k in layer_kinds().items():
        rules = layer_rules(name)
        frame = workspace.read_layer(name)
        if extent is not None and len(frame):
            w, s, e, n = extent
            frame = frame.cx[w:e, s:n]
        level = rules["level"]
        if _allowed(level, profile):
            shared = _with_risk(levels, name, _strip_fields(name, frame, profile), profile)
            bundle.layers[name] = SharedLayer(name, k.label, shared, level)
            continue
        how = rules.get("downgrade", {}).get(profile)
        if how == "hex_counts":
            conf = doc["hex_counts"]
            # counted over the whole workspace, so a cell's count never depends on the extent
            full = workspace.read_layer(name)
            cells = hex_counts(full, k.label, conf["cell_size_m"], conf["minimum"], extent)
            bundle.layers[name] = SharedLayer(name, _("{label} per cell").format(label=k.label), cells, profile,
                                              "hex_counts", conf["about"])
        elif how == "geomask":
            conf = doc["geomask"]
            masked = geomask(_with_risk(levels, name, _strip_fields(name, frame, profile), profile),
                             geomask_secret(workspace), conf["min_m"], conf["max_m"])
            bundle.layers[name] = SharedLayer(name, _("{label} (positions masked)").format(label=k.label), masked,
                                              profile, "geomasked", conf["about"])
        elif how == "banded":
            bundle.layers[name] = SharedLayer(name, k.label, banded(frame, doc["banded"]["bands"]), profile, "banded",
                                              doc["banded"]["about"])
    if profile == "police":
        notes = workspace.db["annotations"]
        import pandas as pd

        bundle.layers["annotations"] = SharedLayer("annotations", _("Annotations"), pd.DataFrame(list(notes.rows)),
                                                   "police", "table")
    for layer in bundle.layers.values():
        if layer.note:
            bundle.notes.append(f"{layer.label}: {layer.note}")
    return bundle
