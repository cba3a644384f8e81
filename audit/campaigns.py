"""Prevention campaigns (guidelines, chapter 6): audiences, languages, channels, sites, reach; undoable steps.

A campaign records whom it addresses (the general public, risk groups, professional groups, businesses:
``data/campaign_audiences.json`` plus the risk groups of ``data/risk_groups.json``), its languages, materials and
channels, its reach (people spoken to, leaflets handed out, events), the action-plan items it serves, and its
locations: sites of an outreach plan, existing places, or points clicked on the map. Creating, editing and
deleting a campaign is one command each (``audit.commands``), so it is undone, redone and logged like any edit.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from audit.catalogue import risk_groups
from audit.commands import DeleteRow, InsertRow, Macro, UpdateRow
from layers import campaign_store
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.i18n import _, label, ngettext
from layers.migrations import CAMPAIGN_SITES_TABLE, CAMPAIGNS_TABLE
from layers.resources import load_json

CATALOGUE = "campaign_audiences.json"
LOCATION_SOURCES = ("outreach", "place", "map")
LIST_FIELDS = ("audiences", "languages", "channels", "action_items")
COUNT_FIELDS = ("people_reached", "leaflets", "events")
AREA_FIELDS = ("catchment", "comparison_area")
EDITABLE = ("name", "starts", "ends", *LIST_FIELDS, "materials", *COUNT_FIELDS, *AREA_FIELDS, "notes")
#: layers whose features can be a campaign's location (they have names; never cases or estimates)
PLACE_TABLES = ("transport_hubs", "worksites", "services", "shelters", "places_of_concern", "risk_areas")


# -- the catalogue ----------------------------------------------------------------------------------


def _catalogue() -> dict:
    return load_json(CATALOGUE)


def audience_categories() -> list[dict]:
    return _catalogue()["categories"]


def audiences() -> list[dict]:
    """Every audience ({"id", "category", "en", "lv"}), category by category: the risk groups come from their own
    catalogue, so a campaign names a risk group by the id its estimates use."""
    own = _catalogue()["audiences"]
    groups = [{**g, "category": "risk_group"} for g in risk_groups()]
    every = own + groups
    return [a for c in audience_categories() for a in every if a["category"] == c["id"]]


def channels() -> list[dict]:
    return _catalogue()["channels"]


def languages() -> list[dict]:
    return _catalogue()["languages"]


def labels(ids, entries: list[dict], lang: str | None = None) -> list[str]:
    """The labels of ``ids`` in ``entries`` (an id not in the catalogue is shown as it is)."""
    known = {e["id"]: e for e in entries}
    return [label(known[i], lang) if i in known else str(i) for i in ids]


# -- a stored campaign ------------------------------------------------------------------------------


@dataclass
class Campaign:
    id: int
    name: str
    starts: dt.date
    ends: dt.date
    audiences: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    action_items: list[int] = field(default_factory=list)
    materials: str = ""
    people_reached: int | None = None
    leaflets: int | None = None
    events: int | None = None
    catchment: object = None  # shapely geometry (EPSG:4326) or None: derived from the locations
    comparison_area: object = None  # shapely geometry or None: the rest of the district
    notes: str = ""
    locations: list[dict] = field(default_factory=list)

    @property
    def reach(self) -> dict:
        return {k: getattr(self, k) for k in COUNT_FIELDS}

    def audience_labels(self, lang: str | None = None) -> list[str]:
        return labels(self.audiences, audiences(), lang)

    def to_dict(self) -> dict:
        """Plain data, everything the workspace holds (the command line's --json; not for sharing)."""
        return {"id": self.id, "name": self.name, "starts": self.starts.isoformat(), "ends": self.ends.isoformat(),
                "audiences": self.audiences, "audience_labels": self.audience_labels(), "languages": self.languages,
                "channels": self.channels, "materials": self.materials, **self.reach,
                "action_items": self.action_items, "notes": self.notes,
                "locations": [{k: loc[k] for k in ("id", "name", "lon", "lat", "source", "place_table", "place_fid")}
                              for loc in self.locations]}

    def summary(self) -> str:
        """One line: name, dates, audiences, reach, locations, action items."""
        parts = ["{name} ({starts} – {ends})".format(name=self.name, starts=self.starts.isoformat(),
                                                          ends=self.ends.isoformat())]
        if self.audiences:
            parts.append(_("Audiences: {audiences}").format(audiences=", ".join(self.audience_labels())))
        reach = [ngettext("{n} person reached", "{n} people reached", n).format(n=n) if k == "people_reached" else
                 ngettext("{n} leaflet", "{n} leaflets", n).format(n=n) if k == "leaflets" else
                 ngettext("{n} event", "{n} events", n).format(n=n) for k, n in self.reach.items() if n is not None]
        parts += reach
        parts.append(ngettext("{n} location", "{n} locations", len(self.locations)).format(n=len(self.locations)))
        if self.action_items:
            parts.append(_("serves action-plan items {ids}").format(ids=", ".join(map(str, self.action_items))))
        return " · ".join(parts)


def _list(text) -> list:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _geometry(text):
    import shapely

    if not text:
        return None
    try:
        return shapely.from_geojson(text)
    except Exception:  # noqa: BLE001 - edited outside Lantern: treated as not set
        return None


def from_row(row: dict, locations: list[dict]) -> Campaign:
    return Campaign(id=row["id"], name=row["name"], starts=dt.date.fromisoformat(row["starts"][:10]),
                    ends=dt.date.fromisoformat(row["ends"][:10]), audiences=_list(row["audiences"]),
                    languages=_list(row["languages"]), channels=_list(row["channels"]),
                    action_items=[int(i) for i in _list(row["action_items"]) if str(i).isdigit()],
                    materials=row["materials"] or "", people_reached=row["people_reached"], leaflets=row["leaflets"],
                    events=row["events"], catchment=_geometry(row["catchment"]),
                    comparison_area=_geometry(row["comparison_area"]), notes=row["notes"] or "", locations=locations)


def campaigns(ws) -> list[Campaign]:
    """Every campaign of the workspace with its locations, earliest first."""
    conn = ws.db.conn
    by_campaign: dict[int, list[dict]] = {}
    for loc in campaign_store.location_rows(conn):
        by_campaign.setdefault(loc["campaign_id"], []).append(loc)
    return [from_row(r, by_campaign.get(r["id"], [])) for r in campaign_store.campaign_rows(conn)]


def campaign(ws, key) -> Campaign:
    """A campaign by id or name; a LanternError names what was asked for when there is none."""
    row = campaign_store.find_campaign(ws.db.conn, key)
    if row is None:
        raise LanternError(_("no campaign {key!r} in this workspace").format(key=str(key)))
    return from_row(row, campaign_store.location_rows(ws.db.conn, row["id"]))


def serving(ws) -> dict[int, list[str]]:
    """Action-plan row id → the names of the campaigns that serve it."""
    return {item: [name for _id, name in found] for item, found in campaign_store.serving(ws.db.conn).items()}


# -- checking values --------------------------------------------------------------------------------


def _date(value, what: str) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(_("{what}: a date is written YYYY-MM-DD, not {value!r}").format(what=what, value=value)) \
            from None


def _ids(values, entries: list[dict], what: str) -> str:
    if isinstance(values, str):
        values = [v.strip() for v in values.replace(";", ",").split(",") if v.strip()]
    known = {e["id"] for e in entries}
    items = list(dict.fromkeys(str(v).strip() for v in values or []))
    unknown = [v for v in items if v not in known]
    if unknown:
        raise ValueError(_("{what}: unknown {ids}; choose from {known}").format(
            what=what, ids=", ".join(unknown), known=", ".join(e["id"] for e in entries)))
    return json.dumps(items, ensure_ascii=False)


def _count(value, what: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(_("{what}: a whole number, not {value!r}").format(what=what, value=value)) from None
    if number < 0:
        raise ValueError(_("{what}: a number must not be negative").format(what=what))
    return number


def _area(value, what: str) -> str | None:
    import shapely

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        geom = value if hasattr(value, "geom_type") else shapely.from_geojson(
            value if isinstance(value, str) else json.dumps(value))
    except Exception:  # noqa: BLE001 - shapely raises GEOSException or ValueError for bad GeoJSON
        raise ValueError(_("{what}: not a GeoJSON polygon").format(what=what)) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise ValueError(_("{what}: not a GeoJSON polygon").format(what=what))
    w, s, e, n = geom.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise ValueError(_("{what}: coordinates are longitude and latitude (EPSG:4326)").format(what=what))
    return shapely.to_geojson(shapely.make_valid(geom))


def _action_items(ws, values) -> str:
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",") if v.strip()]
    try:
        items = list(dict.fromkeys(int(v) for v in values or []))
    except (TypeError, ValueError):
        raise ValueError(_("action-plan items are given by their numbers")) from None
    missing = sorted(set(items) - campaign_store.action_item_ids(ws.db.conn))
    if missing:
        raise ValueError(_("the action plan has no item {ids}").format(ids=", ".join(map(str, missing))))
    return json.dumps(items)


def _field_value(ws, key: str, value):
    """One field as it is stored, checked."""
    if key == "name":
        text = str(value or "").strip()
        if not text:
            raise ValueError(_("a campaign needs a name"))
        return text
    if key in ("starts", "ends"):
        return _date(value, _("start") if key == "starts" else _("end"))
    if key == "audiences":
        return _ids(value, audiences(), _("audiences"))
    if key == "languages":
        return _ids(value, languages(), _("languages"))
    if key == "channels":
        return _ids(value, channels(), _("channels"))
    if key == "action_items":
        return _action_items(ws, value)
    if key in COUNT_FIELDS:
        return _count(value, {"people_reached": _("people reached"), "leaflets": _("leaflets"),
                              "events": _("events")}[key])
    if key in AREA_FIELDS:
        return _area(value, _("catchment") if key == "catchment" else _("comparison area"))
    return str(value or "").strip() or None  # materials, notes


def campaign_values(ws, values: dict, *, current: dict | None = None, exclude_id: int | None = None) -> dict:
    """The stored values of ``values`` (a new campaign's, or changes to ``current``), checked: a name no other
    campaign has, dates with the end not before the start, catalogue ids, counts, areas."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(_("a campaign has no field {f}").format(f=", ".join(sorted(unknown))))
    stored = {k: _field_value(ws, k, v) for k, v in values.items()}
    merged = {**(current or {}), **stored}
    for key in ("name", "starts", "ends"):
        if not merged.get(key):
            raise ValueError(_("a campaign needs a name, a start and an end"))
    if merged["ends"] < merged["starts"]:
        raise ValueError(_("the campaign ends before it starts"))
    if "name" in stored and any(r["id"] != exclude_id and (r["name"] or "").strip().casefold() ==
                                stored["name"].casefold() for r in campaign_store.campaign_rows(ws.db.conn)):
        raise ValueError(_("there is already a campaign named {name!r}").format(name=stored["name"]))
    return stored


def location_values(ws, *, name: str = "", lon: float, lat: float, source: str, place_table: str | None = None,
                    place_fid: int | None = None) -> dict:
    """A campaign location, checked: a point on the map; a place of the workspace when it came from one."""
    if source not in LOCATION_SOURCES:
        raise ValueError(_("a location comes from an outreach plan, a place or the map"))
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(_("a place must have a longitude and latitude on the map"))
    if (place_table is None) != (place_fid is None):
        raise ValueError(_("a location names a place by its layer and its number"))
    if place_table is not None:
        if place_table not in PLACE_TABLES or place_table not in layer_kinds():
            raise ValueError(_("{layer} cannot hold a campaign location").format(layer=place_table))
        found = campaign_store.feature_name(ws.db.conn, place_table, int(place_fid))
        if found is None:
            raise ValueError(_("{table} has no row {id}").format(table=place_table, id=place_fid))
        name = name or found
    name = str(name or "").strip() or _("Point {lat}, {lon}").format(lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    return {"name": name, "lon": lon, "lat": lat, "source": source, "place_table": place_table,
            "place_fid": None if place_fid is None else int(place_fid)}


# -- where locations come from ----------------------------------------------------------------------


def locations_from_plan(ws, plan) -> list[dict]:
    """The chosen sites of an outreach plan (``mapping.outreach.OutreachPlan``) as campaign locations."""
    out = []
    for row, point in zip(plan.sites.drop(columns="geometry").to_dict("records"), plan.sites.geometry):
        fid = int(plan.candidates["fid"].iloc[int(row["candidate"])])
        kind = row.get("kind") or None
        named = kind in PLACE_TABLES and fid >= 0
        out.append(location_values(ws, name=row["name"], lon=point.x, lat=point.y, source="outreach",
                                   place_table=kind if named else None, place_fid=fid if named else None))
    return out


def location_at_place(ws, table: str, fid: int, at: tuple[float, float] | None = None) -> dict:
    """A location at a feature of the workspace; ``at`` (lon, lat) a point on it, else its box's centre."""
    from layers.viewport import location

    at = at or location(ws.db.conn, table, int(fid))
    if at is None:
        raise ValueError(_("{table} has no row {id}").format(table=table, id=fid))
    return location_values(ws, lon=at[0], lat=at[1], source="place", place_table=table, place_fid=int(fid))


# -- the commands -----------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _insert_locations(campaign_ref, locations: list[dict]) -> list[InsertRow]:
    """Inserts of locations of the campaign ``campaign_ref()`` names (its id is known only once it is inserted)."""
    fields = ("name", "lon", "lat", "source", "place_table", "place_fid")
    return [InsertRow(CAMPAIGN_SITES_TABLE, (lambda loc=loc: {**{k: loc.get(k) for k in fields},
                                                              "campaign_id": campaign_ref()}),
                      label=_("Add campaign location")) for loc in locations]


def add_campaign(ws, values: dict, locations=()) -> Macro:
    """One step: the campaign and its locations (``location_values`` dicts)."""
    stored = campaign_values(ws, values)
    row = {k: stored.get(k) for k in EDITABLE} | {"created": _now()}
    for key in ("audiences", "languages", "channels", "action_items"):
        row[key] = row[key] or "[]"
    insert = InsertRow(CAMPAIGNS_TABLE, row, label=_("Add campaign"))
    return Macro([insert, *_insert_locations(lambda: insert.row_id, list(locations))], label=_("Add campaign"))


def same_place(a: dict, b: dict) -> bool:
    """Whether two locations are the same: name, source, place and position."""
    keys = ("name", "source", "place_table", "place_fid")
    return all(a.get(k) == b.get(k) for k in keys) and abs(a["lon"] - b["lon"]) < 1e-9 and \
        abs(a["lat"] - b["lat"]) < 1e-9


def edit_campaign(ws, campaign_id: int, values: dict | None = None, locations=None) -> Macro | None:
    """One step changing a campaign's fields and (when ``locations`` is given) its list of locations: the
    locations no longer listed are removed, new ones added. None when nothing would change."""
    current = campaign_store.campaign_row(ws.db.conn, campaign_id)
    if current is None:
        raise ValueError(_("{table} has no row {id}").format(table=CAMPAIGNS_TABLE, id=campaign_id))
    stored = campaign_values(ws, values or {}, current=current, exclude_id=campaign_id)
    changes = {k: v for k, v in stored.items() if current.get(k) != v}
    commands: list = [UpdateRow(CAMPAIGNS_TABLE, campaign_id, changes, label=_("Edit campaign"))] if changes else []
    if locations is not None:
        old = campaign_store.location_rows(ws.db.conn, campaign_id)
        wanted = list(locations)
        commands += [DeleteRow(CAMPAIGN_SITES_TABLE, loc["id"], label=_("Remove campaign location"))
                     for loc in old if not any(same_place(loc, w) for w in wanted)]
        commands += _insert_locations(lambda: campaign_id, [w for w in wanted
                                                            if not any(same_place(loc, w) for loc in old)])
    return Macro(commands, label=_("Edit campaign")) if commands else None


def delete_campaign(ws, campaign_id: int) -> Macro:
    """One step removing a campaign and its locations (undo brings both back, with their ids)."""
    if campaign_store.campaign_row(ws.db.conn, campaign_id) is None:
        raise ValueError(_("{table} has no row {id}").format(table=CAMPAIGNS_TABLE, id=campaign_id))
    locations = [DeleteRow(CAMPAIGN_SITES_TABLE, loc["id"], label=_("Remove campaign location"))
                 for loc in campaign_store.location_rows(ws.db.conn, campaign_id)]
    return Macro([*locations, DeleteRow(CAMPAIGNS_TABLE, campaign_id, label=_("Delete campaign"))],
                 label=_("Delete campaign"))


# -- from a file ------------------------------------------------------------------------------------


def _file_location(ws, entry) -> dict:
    if isinstance(entry, dict) and {"place", "fid"} <= set(entry):
        if entry["place"] not in PLACE_TABLES:
            raise ValueError(_("{layer} cannot hold a campaign location").format(layer=entry["place"]))
        return location_at_place(ws, str(entry["place"]), int(entry["fid"]))
    if isinstance(entry, dict) and {"lon", "lat"} <= set(entry):
        return location_values(ws, name=entry.get("name", ""), lon=entry["lon"], lat=entry["lat"], source="map")
    raise ValueError(_("a location has lon and lat, or place and fid"))


def import_campaigns(ws, path) -> Macro:
    """One step adding the campaigns of a JSON file: a campaign object or a list of them, each with the fields of
    ``EDITABLE`` and ``locations`` (``{"lon", "lat", "name"}`` or ``{"place": layer, "fid": n}``). The file is
    refused whole (InputError naming the campaign) when one of them is wrong."""
    from pathlib import Path

    from layers.errors import InputError

    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InputError(path, _("cannot be read as JSON ({e})").format(e=exc)) from None
    entries = doc if isinstance(doc, list) else [doc]
    steps, names = [], set()
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, dict):
                raise ValueError(_("a campaign is a JSON object"))
            values = {k: v for k, v in entry.items() if k != "locations"}
            if str(values.get("name", "")).strip().casefold() in names:
                raise ValueError(_("there is already a campaign named {name!r}").format(name=values["name"]))
            names.add(str(values.get("name", "")).strip().casefold())
            locations = [_file_location(ws, loc) for loc in entry.get("locations", [])]
            steps.append(add_campaign(ws, values, locations))
        except (ValueError, TypeError) as exc:
            raise InputError(path, _("campaign {n}: {problem}").format(n=number, problem=exc)) from None
    if not steps:
        raise InputError(path, _("the file holds no campaign"))
    return Macro(steps, label=_("Add campaign"))
