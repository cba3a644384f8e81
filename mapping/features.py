"""Map features built in one place: features + a named style (data/styles.json) → a MapLayer.

Catalogue layers get their style from ``layer_kinds.json`` (``compose.layer_from_frame``);
every other layer Lantern draws (shared aggregates, the risk surface, campaign
sites, walking distances, service gaps, partner layers) is built here by
``map_layer`` with a named style. Print maps read the same styles
(``print_kwargs``), so a feature has one colour in every output.
"""
from __future__ import annotations

import json

from audit.annotations import PLACE_KINDS
from audit.estimates import TABLE as ESTIMATES
from audit.estimates import densities
from layers.catalogue import kind as get_kind
from layers.i18n import _, ngettext
from layers.resources import load_json
from mapping.compose import MapLayer, layer_from_frame, layer_stub, tile_url

#: style keys that are not part of the map page's style definition
_NOT_MAP = ("print",)


def styles() -> dict:
    """The whole style file (read once)."""
    return load_json("styles.json")


def style(name: str) -> dict:
    """The map (Leaflet) style of a named style, as ``MapLayer.style`` needs it."""
    entry = styles()["styles"][name]
    return {**{k: v for k, v in entry.items() if k not in _NOT_MAP}, "classify": None, "classes": None}


def print_kwargs(name: str, **overrides) -> dict:
    """matplotlib keyword arguments of a named style: fill colour, outline colour, then its 'print' settings."""
    entry = styles()["styles"][name]
    kwargs = {k: v for k, v in (("color", entry.get("fill_color")), ("edgecolor", entry.get("color"))) if v}
    kwargs.update(entry.get("print", {}))
    kwargs.update(overrides)
    return {k: v for k, v in kwargs.items() if v is not None}


def kind_print_kwargs(kind_id: str, **overrides) -> dict:
    """matplotlib keyword arguments of a catalogue layer kind, in its catalogue colours."""
    from layers.catalogue import kind

    k = kind(kind_id)
    kwargs = {"color": k.style.fill_color, "edgecolor": k.style.color, **styles()["kind_print"].get(kind_id, {})}
    kwargs.update(overrides)
    return kwargs


def map_fill_color(layer_id: str, form: str = "features", point: bool = False) -> str:
    """The fill colour a layer has on the interactive map (catalogue kinds, else the shared styles)."""
    from layers.catalogue import layer_kinds

    kinds = layer_kinds()
    if form == "features" and layer_id in kinds:
        return kinds[layer_id].style.fill_color
    return styles()["styles"]["shared_point" if point else "shared_area"]["fill_color"]


def palette(name: str) -> dict:
    """A colour ramp: ``colors`` (and ``breaks`` where it has class limits)."""
    return styles()["palettes"][name]


def marking_color(restricted: bool) -> str:
    """Background of the profile marking: red on restricted (police) files."""
    return styles()["marking"]["restricted" if restricted else "plain"]


def text_color(name: str = "muted") -> str:
    return styles()["text"][name]


def _geometry_type(style_name: str) -> str:
    shape = styles()["styles"][style_name].get("shape")
    return {"polygon": "MultiPolygon", "line": "LineString"}.get(shape, "Point")


def map_layer(layer_id: str, label: str, frame, style_name: str, *, tips=None, fids=None, props=None,
              visible: bool = True) -> MapLayer:
    """A MapLayer from the geometries of ``frame`` (a GeoDataFrame in EPSG:4326) and a named style.

    ``tips``: a sequence of tooltip texts (one per row) or a function of the
    row's attributes (a dict); ``fids``: the rows' feature ids (default 1, 2, …);
    ``props``: a sequence of further properties per row. Rows without a
    geometry are left out.
    """
    import shapely

    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    fids = list(fids) if fids is not None else list(range(1, len(rows) + 1))
    if callable(tips):
        tips = [tips(row) for row in rows]
    features = []
    for i, (geom, fid) in enumerate(zip(frame.geometry, fids)):
        if geom is None:
            continue
        properties = {"fid": fid, "tip": tips[i] if tips is not None else label}
        if props is not None:
            properties.update(props[i])
        features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
                         "properties": properties})
    return MapLayer(layer_id, label, _geometry_type(style_name), style(style_name),
                    {"type": "FeatureCollection", "features": features}, visible=visible)


def is_point_layer(frame) -> bool:
    """Whether a frame holds points (judged by its first geometry)."""
    present = frame.geometry.dropna()
    return len(present) > 0 and present.iloc[0].geom_type == "Point"


def partner_layers(workspace) -> list[MapLayer]:
    """Imported partner layers: read-only, drawn on top in a neutral style, labelled with their origin."""
    out = []
    for table, label in workspace.partner_layers().items():
        frame = workspace.read_partner_layer(table)
        if "geometry" not in frame.columns or len(frame) == 0 or len(frame.geometry.dropna()) == 0:
            continue
        frame = frame.to_crs(4326)
        tip = lambda row, label=label: f"{label}\n" + " · ".join(  # noqa: E731
            str(v) for k, v in row.items() if k in ("name", "count_label", "estimate_class") and v)
        out.append(map_layer(table, label, frame, "partner_point" if is_point_layer(frame) else "partner_area",
                             tips=tip, fids=range(len(frame)),
                             visible="basemap" not in table))  # a partner's basemap duplicates ours
    return out


def gaps_layer(gaps, label: str, tip: str) -> MapLayer:
    """Service gaps as a map layer; ``tip`` is a format with {what}, {name} and {d} (metres)."""
    tips = [tip.format(what=w, name=n, d=d) for w, n, d in zip(gaps["what"], gaps["name"], gaps["nearest_m"])]
    return map_layer("service_gaps", label, gaps, "service_gaps", tips=tips)


def choropleth(group: str, label: str, breaks: list) -> dict:
    """A density choropleth of one risk group for the map page: as many colours of the density ramp as classes."""
    colors = palette("density")["colors"]
    return {"group": group, "label": label, "breaks": breaks,
            "colors": colors[-len(breaks):] if len(breaks) < len(colors) else colors}


def workspace_layer(kind_id: str, frame, visible: bool, synthetic: bool, assessments: dict) -> MapLayer:
    """A workspace layer for the window's map: places carry their risk level, estimates their density."""
    risk = extra = tips = None
    if kind_id in PLACE_KINDS:
        # only the frame's places are explained (a view of 300 places must not word the city's 3,000)
        shown = set(frame.index.tolist())
        risk = {fid: (a.level, a.explain()) for (table, fid), a in assessments.items()
                if table == kind_id and fid in shown}
    elif kind_id == ESTIMATES:
        dense = densities(frame)
        extra = {int(fid): {"group": g, "density": round(float(d), 1)}
                 for fid, g, d in zip(dense.index, dense["risk_group"], dense["density"])}
        groups = {c.id: c.label for c in get_kind(kind_id).field("risk_group").choices}
        tips = {int(fid): ngettext("{group}: {n} person, {d:.0f} per km² · {src}, {date} ({conf})",
                                  "{group}: {n} people, {d:.0f} per km² · {src}, {date} ({conf})", r.estimate).format(
            group=groups.get(r.risk_group, r.risk_group), n=r.estimate, d=r.density, src=r.source_institution,
            date=r.estimated_on, conf=r.confidence) for fid, r in zip(dense.index, dense.itertuples())}
    return layer_from_frame(kind_id, frame, visible=visible, synthetic=synthetic, risk=risk, tips=tips, extra=extra)


def tile_layer(kind_id: str, visible: bool = True, synthetic: bool = False, version: str = "") -> MapLayer:
    """A catalogue layer drawn from its vector tiles (``layers.tiles``; the app only): its definition and
    the tiles' URL, without reading a row. For a kind whose tiles are fresh (``tiles.tiles_fresh``);
    ``version`` (e.g. the tiles' fingerprint) makes the page fetch rebuilt tiles anew."""
    layer = layer_stub(kind_id, visible=visible, synthetic=synthetic)
    layer.tiles = tile_url(kind_id, version)
    return layer
