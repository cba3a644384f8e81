"""The Incoming queue on the map: each submission where the team stood, tied by a dashed line to the place it
names or to its nearest candidate, so the reviewer sees at once whether the two belong together.

Submissions are confidential until accepted; this overlay is drawn in the app only, never exported."""
from __future__ import annotations

from layers.i18n import _
from layers.viewport import location
from mapping.features import map_layer
from mapping.session import Overlay

SUBMISSIONS_LAYER = "field_submissions"
LINKS_LAYER = "submission_links"
NAME = "incoming"  # the overlay's name in the session


def _tip(item, target: str) -> str:
    row = item.row
    parts = [_("Field submission"), row.get("observed") or "", row.get("team") or "", target]
    return " · ".join(p for p in parts if p)


def incoming_overlay(ws, items, targets: dict[int, str]) -> Overlay | None:
    """The overlay of queue items with a position (None when none has one); ``targets``: item id -> its
    target in words (audit.submission_review.target_text)."""
    import geopandas as gpd
    import shapely

    placed = [i for i in items if i.row.get("lon") is not None and i.row.get("lat") is not None]
    if not placed:
        return None
    points = [shapely.Point(i.row["lon"], i.row["lat"]) for i in placed]
    frame = gpd.GeoDataFrame({"id": [i.id for i in placed]}, geometry=points, crs=4326)
    tips = [_tip(i, targets.get(i.id, "")) for i in placed]
    layers = [map_layer(SUBMISSIONS_LAYER, _("Field submissions (to review)"), frame, "field_submission",
                        tips=tips, fids=[i.id for i in placed])]
    links, link_ids = [], []
    for item, point in zip(placed, points):
        at = location(ws.db.conn, *item.candidate) if item.candidate else None
        if at is not None:
            links.append(shapely.LineString([point, shapely.Point(at)]))
            link_ids.append(item.id)
    if links:
        frame = gpd.GeoDataFrame({"id": link_ids}, geometry=links, crs=4326)
        layers.insert(0, map_layer(LINKS_LAYER, _("Submission → its place"), frame, "submission_link",
                                   tips=[targets.get(i, "") for i in link_ids], fids=link_ids))
    return Overlay(layers)


def layer_ids() -> tuple[str, ...]:
    return (LINKS_LAYER, SUBMISSIONS_LAYER)
