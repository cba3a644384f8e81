"""Annotations of places: indicator checklists over time, and the places' risk levels."""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from audit.catalogue import catalogue_version, confidence_levels, indicators, sources
from audit.commands import InsertRow, Macro
from audit.rounds import InsertInRound
from audit.risk import Assessment, RiskRules, assess
from layers import gpkg_geometry, queries
from layers.catalogue import kind as get_kind
from layers.catalogue import layer_kinds
from layers.i18n import _
from layers.migrations import ANNOTATIONS_TABLE
from layers.values import coerce

PLACE_KINDS = ("places_of_concern", "worksites", "transport_hubs", "shelters")


def annotation_values(place_table: str, place_fid: int | None, *, indicators_seen, observed, confidence, source,
                      author, team="", note="", other_text="", category=None) -> dict:
    """A checked annotation row; raises ValueError naming the problem."""
    if place_table not in PLACE_KINDS:
        raise ValueError(_("only places can be annotated, not '{t}'").format(t=place_table))
    unknown = [i for i in indicators_seen if i not in indicators()]
    if unknown:
        raise ValueError(_("unknown indicators: {ids}").format(ids=", ".join(unknown)))
    if confidence not in {c["id"] for c in confidence_levels()}:
        raise ValueError(_("confidence must be low, medium or high"))
    if source not in {s["id"] for s in sources()}:
        raise ValueError(_("unknown source {s!r}").format(s=source))
    observed_date = dt.date.fromisoformat(str(observed)[:10])
    if observed_date > dt.date.today():
        raise ValueError(_("the observation date lies in the future"))
    if not str(author or "").strip():
        raise ValueError(_("an author is required"))
    return {
        "place_table": place_table,
        "place_fid": place_fid,
        "category": category,
        "indicators": json.dumps([i for i in indicators() if i in set(indicators_seen)]),
        "other_text": (other_text or "").strip() or None,
        "note": (note or "").strip() or None,
        "observed": observed_date.isoformat(),
        "team": (team or "").strip() or None,
        "author": str(author).strip(),
        "confidence": confidence,
        "source": source,
        "catalogue_version": catalogue_version(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def annotate(values: dict) -> InsertRow:
    """The one command that inserts an annotation: it goes to the audit round of its observation date."""
    return InsertInRound(ANNOTATIONS_TABLE, values, label=_("Annotate place"), date_field="observed")


def new_place(kind_id: str, lon: float, lat: float, fields: dict) -> InsertRow:
    """A command creating a point place; ``fields`` are checked against the kind."""
    import shapely

    k = get_kind(kind_id)
    row = {f.name: coerce(f, fields.get(f.name)) for f in k.fields}
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(_("coordinates outside the valid range"))
    row["geom"] = gpkg_geometry.encode([shapely.Point(lon, lat)])[0]
    return InsertRow(kind_id, row, label=_("Add {kind}").format(kind=k.label))


def new_place_with_annotation(kind_id: str, lon: float, lat: float, fields: dict, annotation: dict) -> Macro:
    """One undoable step: a new place where the user clicked, and its first annotation."""
    place = new_place(kind_id, lon, lat, fields)
    note = annotate(lambda: {**annotation, "place_fid": place.row_id})
    return Macro([place, note], label=_("Add and annotate place"))


def annotations_of(ws, place_table: str, place_fid: int) -> list[dict]:
    """Every annotation of a place, newest first."""
    return queries.annotations_of(ws.db, place_table, place_fid)


def all_annotations(ws, date_from: str | None = None, date_to: str | None = None,
                    confidence: set[str] | None = None, round_id: int | None = None) -> dict[tuple[str, int], list[dict]]:
    """Annotations by place; ``round_id``: only that audit round's."""
    grouped: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for row in queries.annotations_where(ws.db, date_from, date_to, confidence):
        if round_id is None or row.get("round_id") == round_id:
            grouped[(row["place_table"], row["place_fid"])].append(row)
    return grouped


def place_assessments(ws, as_of: dt.date | None = None, *, forms: set[str] | None = None,
                      confidence: set[str] | None = None, date_from: str | None = None,
                      round_id: int | None = None) -> dict[tuple[str, int], Assessment]:
    """Risk assessment of every annotated place (unannotated places are 'none'); ``round_id``: from that audit
    round's annotations only."""
    rules = RiskRules.load()
    as_of = as_of or dt.date.today()
    grouped = all_annotations(ws, date_from, as_of.isoformat(), confidence, round_id)
    return {key: assess(rows, as_of, rules, forms) for key, rows in grouped.items() if key[0] in layer_kinds()}
