"""A workspace → a folium (Leaflet) map, written to an HTML file.

folium builds the page (map, assets, scripts); ``lantern_map.js`` draws the
layers from small JSON definitions, so the desktop app can restyle, reorder
and toggle them without reloading the page. In the app the page holds only
the definitions and fetches each layer's features from ``lantern://layer/<id>``
(``MapOptions.fetch_layers``; the MapView serves them); an exported map embeds
them and stays one self-contained file. All data in the page go through
Jinja's ``tojson`` (HTML-safe), and the JS shows text with ``textContent``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from layers.catalogue import LayerKind, kind as get_kind
from layers.i18n import _
from layers.values import stored_ids
from mapping.assets import QWEBCHANNEL_JS, map_assets

#: Only used when the user switches the online basemap on (View → Basemap).
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
#: the URL scheme the app serves layers' features on (gui/map_view registers it)
LAYER_SCHEME = "lantern"


def tile_url(kind_id: str, version: str = "") -> str:
    """The URL template (``{z}/{x}/{y}``) of a layer's vector tiles, served by the app from the workspace
    (``version`` tells rebuilt tiles apart)."""
    url = f"{LAYER_SCHEME}://tiles/{quote(kind_id, safe='')}/{{z}}/{{x}}/{{y}}.pbf"
    return f"{url}?v={quote(version, safe='')}" if version else url


def view_url(layer_id: str, version: int = 0) -> str:
    """Where the app's page asks what to draw of a big layer in its view (``?b=W,S,E,N&z=ZOOM`` is added)."""
    url = f"{LAYER_SCHEME}://view/{quote(layer_id, safe='')}"
    return f"{url}?v={version}" if version else url


def layer_url(layer_id: str, version: int = 0) -> str:
    """Where the app's page fetches a layer's GeoJSON (``version`` tells a replaced layer's data apart)."""
    url = f"{LAYER_SCHEME}://layer/{quote(layer_id, safe='')}"
    return f"{url}?v={version}" if version else url


@dataclass
class MapLayer:
    """One thematic layer as the map page needs it (``geojson`` None: not built yet, see ``layer_stub``)."""

    id: str
    label: str
    geometry: str
    style: dict
    geojson: dict | None
    visible: bool = True
    synthetic: bool = False
    basemap: bool = False
    choropleth: bool = False  # styled by density class of the selected group (risk-group estimates)
    tiles: str | None = None  # vector tiles' URL template (the app only): drawn from tiles, never fetched whole
    viewport: bool = False  # a big layer (the app only): the page asks for what is in view (``view_url``)

    def definition(self) -> dict:
        tiles = {}
        if self.tiles:
            from layers.tiles import FIRST_ZOOM, zooms

            low, high = zooms(self.id)
            # drawn from 2 zooms above its tiles (shallowest tiles scaled down), or from its first zoom
            # for a layer cut only from a deep zoom (the buildings)
            tiles = {"tiles": self.tiles, "tile_min_zoom": low, "tile_max_zoom": high,
                     "tile_show_from": low if self.id in FIRST_ZOOM else low - 2}
        return {
            **tiles,
            "id": self.id,
            "viewport": self.viewport,
            "label": self.label,
            "geometry": self.geometry,
            "style": self.style,
            "visible": self.visible,
            "basemap": self.basemap,
            "choropleth": self.choropleth,
            "synthetic": self.synthetic,
            "synthetic_label": _("synthetic"),
            "synthetic_note": _("Synthetic data: invented for demonstration"),
        }


@dataclass
class MapOptions:
    title: str = ""
    assets: str = "file"  # "file" (the app) or "inline" (self-contained export)
    app_bridge: bool = False  # load qwebchannel.js and talk to the desktop app
    basemap: bool = False  # online OSM tiles: off unless the user turns them on
    bounds: tuple[float, float, float, float] | None = None  # west, south, east, north
    attribution: str | None = None  # e.g. "© OpenStreetMap contributors" when OSM data are shown
    view: tuple[float, float, float] | None = None  # lat, lng, zoom to open at (else fit the bounds)
    extra_legends: list[dict] = field(default_factory=list)  # [{title, rows: [{color, label}]}]
    info: dict | None = None  # {title, marking, lines}: a title box on the map
    fetch_layers: bool = False  # the page fetches features from lantern://layer/<id> (the app) instead of embedding


def _choice_label(k: LayerKind, field_name: str, value) -> str:
    if value is None or field_name not in k.field_names:
        return ""
    f = k.field(field_name)
    if f.type == "multi_enum":
        ids = stored_ids(value)
        return ", ".join(c.label for c in f.choices if c.id in ids)
    for c in f.choices:
        if c.id == value:
            return c.label
    return str(value)


def tip_text(k: LayerKind, row: dict) -> str:
    """A one-line label of a feature: its name and its most telling attribute."""
    if k.id == "reported_cases":
        parts = [_("Reported case"), row.get("reported") or "", _choice_label(k, "forms", row.get("forms"))]
        return " · ".join(p for p in parts if p)
    name = str(row.get("name") or "")
    for attr in ("category", "sector", "hub_type", "service_type", "forms"):
        detail = _choice_label(k, attr, row.get(attr))
        if detail:
            return f"{name} · {detail}" if name else detail
    return name


#: the attributes tip_text reads
_TIP_FIELDS = ("name", "reported", "category", "sector", "hub_type", "service_type", "forms")


def _memo_tip(k: LayerKind):
    """tip_text for one layer, computed once per distinct combination of the attributes it reads."""
    seen: dict = {}

    def tip(row: dict) -> str:
        key = tuple(row.get(a) for a in _TIP_FIELDS)
        try:
            return seen[key]
        except KeyError:
            seen[key] = text = tip_text(k, row)
            return text
        except TypeError:  # an unhashable value
            return tip_text(k, row)

    return tip


def layer_from_frame(kind_id: str, frame, *, visible: bool = True, synthetic: bool = False,
                     risk: dict | None = None, tips: dict | None = None, extra: dict | None = None) -> MapLayer:
    """A map layer from a workspace layer's GeoDataFrame (index = fid).

    ``risk``: fid → (level, explanation) for places; ``tips``: fid → tooltip text
    replacing the default; ``extra``: fid → more properties (e.g. a density).
    """
    import numpy as np
    import shapely

    k = get_kind(kind_id)
    # only the attributes a feature carries: converting every column of 100,000 rows is slow
    wanted = (*_TIP_FIELDS, k.style.classify) if k.is_basemap else _TIP_FIELDS
    attrs = frame[[c for c in frame.columns if c in wanted and c != frame.geometry.name]]
    tip_of = _memo_tip(k)
    features = []
    values = frame.geometry.values
    geoms = _geojson_geometries(values)
    # places mapped as areas also get a marker, at a point inside the area
    areal = (k.geometry == "Geometry") & np.isin(shapely.get_type_id(values), [3, 6])
    reps = shapely.point_on_surface(values) if areal.any() else None
    for i, (fid, row, geom) in enumerate(zip(frame.index, attrs.to_dict("records"), geoms)):
        if geom is None:
            continue
        props = {"fid": int(fid)}
        if k.is_basemap:
            if k.style.classify:
                props["cls"] = row.get(k.style.classify)
        else:
            props["tip"] = (tips or {}).get(int(fid)) or tip_of(row)
        if risk and int(fid) in risk:
            level, explanation = risk[int(fid)]
            props["risk"] = level
            props["tip"] += "\n" + _("Risk: {explanation}").format(explanation=explanation)
        if extra and int(fid) in extra:
            props.update(extra[int(fid)])
        if areal[i]:
            props["rep"] = [round(reps[i].y, 7), round(reps[i].x, 7)]
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    return _kind_layer(k, {"type": "FeatureCollection", "features": features}, visible, synthetic)


def _geojson_geometries(values) -> list:
    """GeoJSON geometry dicts of a geometry array (None for missing); points without a JSON round trip."""
    import shapely

    type_ids = shapely.get_type_id(values)
    if len(values) and (type_ids == 0).all() and not shapely.is_empty(values).any():
        coords = shapely.get_coordinates(values).tolist()
        return [{"type": "Point", "coordinates": c} for c in coords]
    return [None if g is None else json.loads(g) for g in shapely.to_geojson(values)]


def _kind_layer(k: LayerKind, geojson: dict | None, visible: bool, synthetic: bool) -> MapLayer:
    return MapLayer(id=k.id, label=k.label, geometry=k.geometry, style=asdict(k.style), geojson=geojson,
                    visible=visible, synthetic=synthetic, basemap=k.is_basemap, choropleth=k.group == "estimates")


def layer_stub(kind_id: str, *, visible: bool = True, synthetic: bool = False, viewport: bool = False) -> MapLayer:
    """A catalogue layer's definition without its features (``geojson`` None): the app's page gets the
    definition at once and fetches the features, built only then (``layer_from_frame``); a ``viewport``
    layer is asked for only what is in view, at the zoom's detail."""
    return replace(_kind_layer(get_kind(kind_id), None, visible, synthetic), viewport=viewport)


def workspace_layers(workspace, visible: dict[str, bool] | None = None) -> list[MapLayer]:
    """Every layer of a workspace, bottom to top, in catalogue order."""
    from layers.catalogue import layer_kinds

    visible = visible or {}
    return [
        layer_from_frame(
            kind_id,
            workspace.read_layer(kind_id),
            visible=visible.get(kind_id, True),
            synthetic=bool(workspace.layer_info(kind_id)["synthetic"]),
        )
        for kind_id in layer_kinds()
    ]


def risk_legend() -> dict:
    """Title and level rows (colour, label) of the places' risk-level legend."""
    from audit.risk import LEVELS, level_colors, level_label

    colors = level_colors()
    return {"title": _("Risk level of places"),
            "levels": [{"id": lv, "label": level_label(lv), "color": colors[lv]} for lv in LEVELS if lv != "none"]}


def workspace_options(workspace, **overrides) -> MapOptions:
    """Title, extent and attribution (© OpenStreetMap contributors where OSM data are in) of a workspace."""
    meta = workspace.metadata
    options = MapOptions(title=workspace.name, bounds=workspace.bounds(), attribution=meta.get("osm_attribution"))
    for key, value in overrides.items():
        setattr(options, key, value)
    return options


def _lantern_element(layers: list[MapLayer], options: MapOptions):
    from branca.element import MacroElement
    from jinja2 import Template

    bounds = None
    extent = None
    if options.bounds:
        w, s, e, n = options.bounds
        pad_x, pad_y = max((e - w) * 0.04, 0.001), max((n - s) * 0.04, 0.001)
        extent = [[s - pad_y, w - pad_x], [n + pad_y, e + pad_x]]
        bounds = extent
    if options.fetch_layers:
        items = [{"def": lyr.definition(),
                  "url": None if lyr.tiles else view_url(lyr.id) if lyr.viewport else layer_url(lyr.id)}
                 for lyr in layers]
    else:
        if any(lyr.tiles and lyr.geojson is None for lyr in layers):
            raise ValueError("a map that embeds its layers cannot draw one from tiles: give it the features")
        # a self-contained page never names a tile URL nor asks the app for a view
        layers = [replace(lyr, tiles=None, viewport=False) for lyr in layers]
        items = [{"def": lyr.definition(), "geojson": lyr.geojson} for lyr in layers]
    config = {
        "layers": items,
        "bounds": bounds,
        "extent": extent,
        "extent_label": _("District extent"),
        "legend_title": _("Legend"),
        "risk_legend": risk_legend(),
        "view": options.view,
        "extra_legends": options.extra_legends,
        "info": options.info,
        "attribution": options.attribution,
        # the tile address is written into the page only when the user asked for tiles
        "basemap": {"on": True, "url": OSM_TILES_URL, "attribution": OSM_ATTRIBUTION} if options.basemap else {"on": False},
    }

    class LanternLayers(MacroElement):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            lantern.init({{ this._parent.get_name() }}, {{ this.config|tojson }});
            {% if this.config.basemap.on %}
            lantern.setBasemap(true, {{ this.config.basemap.url|tojson }}, {{ this.config.basemap.attribution|tojson }});
            {% endif %}
            lantern.connect();
            {% endmacro %}
            """
        )

        def __init__(self):
            super().__init__()
            self._name = "LanternLayers"
            self.config = config

    return LanternLayers()


def _inline(m, options: MapOptions) -> None:
    import folium

    header = m.get_root().header
    for asset in map_assets(tiles=False):
        if asset.kind == "css":
            header.add_child(folium.Element(f"<style>{asset.text()}</style>"), name=asset.name)
        else:
            text = asset.text().replace("</script", "<\\/script")
            header.add_child(folium.Element(f"<script>{text}</script>"), name=asset.name)


def compose(layers: list[MapLayer], options: MapOptions | None = None):
    """A folium Map with Lantern's layers, legend, scale and local assets."""
    import folium

    options = options or MapOptions()
    # no fade-in of tiles: a "painted" report means the tiles are drawn in full, not half faded in; an
    # explicit minZoom, else Leaflet takes the tile layers' own (11) for the map's and jumps there at once
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=False, maxZoom=19, minZoom=0,
                   zoomSnap=0.1, fadeAnimation=False)
    if options.assets == "inline":
        m.default_js, m.default_css = [], []
        _inline(m, options)
    else:
        assets = map_assets(tiles=options.fetch_layers)
        m.default_js = [(a.name, a.uri()) for a in assets if a.kind == "js"]
        m.default_css = [(a.name, a.uri()) for a in assets if a.kind == "css"]
    if options.app_bridge:
        m.get_root().header.add_child(folium.Element(f'<script src="{QWEBCHANNEL_JS}"></script>'), name="qwebchannel")
    if options.title:
        m.get_root().title = options.title
    m.add_child(_lantern_element(layers, options))
    return m


def render(layers: list[MapLayer], options: MapOptions | None = None) -> str:
    return compose(layers, options).get_root().render()


def write_map(path: str | Path, layers: list[MapLayer], options: MapOptions | None = None) -> Path:
    """Write the map page to ``path`` (a file: QtWebEngine's setHtml stops at 2 MB)."""
    path = Path(path)
    path.write_text(render(layers, options), encoding="utf-8")
    return path
