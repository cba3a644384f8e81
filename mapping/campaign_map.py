"""Campaigns on the map: each location of each campaign a green diamond whose tooltip gives the campaign's name,
its dates and its audiences.

Drawn in the app only: campaign locations are partner-level data (data/sensitivity.json) and never leave in a
public export. The overlay is rebuilt whenever the campaigns change."""
from __future__ import annotations

from audit.campaigns import Campaign, campaigns
from layers.i18n import _
from layers.migrations import CAMPAIGN_SITES_TABLE, CAMPAIGNS_TABLE
from mapping.features import map_layer
from mapping.session import Overlay

NAME = "campaigns"  # the overlay's name in the session
LAYER = "campaign_locations"  # its one map layer
STYLE = "campaign_location"


def tip(c: Campaign, location: dict) -> str:
    """"Campaign · site", its dates, its audiences (one line each)."""
    lines = [f"{c.name} · {location['name']}" if location.get("name") else c.name,
             f"{c.starts.isoformat()} – {c.ends.isoformat()}"]
    audiences = ", ".join(c.audience_labels())
    if audiences:
        lines.append(_("Audiences: {audiences}").format(audiences=audiences))
    return "\n".join(lines)


def campaign_overlay(ws) -> Overlay | None:
    """The locations of every campaign as one map layer (None when no campaign has a location)."""
    import geopandas as gpd

    rows = [(c, loc) for c in campaigns(ws) for loc in c.locations]
    if not rows:
        return None
    frame = gpd.GeoDataFrame({"campaign_id": [c.id for c, _loc in rows]},
                             geometry=gpd.points_from_xy([loc["lon"] for _c, loc in rows],
                                                         [loc["lat"] for _c, loc in rows]), crs=4326)
    layer = map_layer(LAYER, _("Campaigns"), frame, STYLE, tips=[tip(c, loc) for c, loc in rows],
                      fids=[int(loc["id"]) for _c, loc in rows], props=[{"campaign_id": c.id} for c, _loc in rows])
    return Overlay([layer])


def layer_ids() -> tuple[str, ...]:
    return (LAYER,)


class CampaignOverlay:
    """Keeps the session's campaign overlay in step with the workspace: drawn when a workspace opens, redrawn
    after every change (or undo) of a campaign or its locations."""

    TABLES = frozenset({CAMPAIGNS_TABLE, CAMPAIGN_SITES_TABLE})

    def __init__(self, session):
        self.session = session
        session.opened.connect(self.refresh)
        session.edited.connect(self.on_edited)

    def on_edited(self, tables) -> None:
        if self.TABLES & set(tables):
            self.refresh()

    def refresh(self) -> None:
        ws = self.session.workspace
        self.session.set_overlay(NAME, campaign_overlay(ws) if ws is not None else None)
