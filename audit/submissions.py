"""Field submissions, reviewed before they reach the audit: the Incoming queue, its import and its review.

``import_submissions`` reads an ODK Central or KoBoToolbox export (layers.importers.submissions), and
``import_from_odk_central`` a form on an ODK Central server (layers.importers.odk_central), into the
queue in one transaction with one signed change-log entry: duplicates (a known instance id) are skipped
and counted, indicator ids are mapped to the current catalogue (ids it no longer knows are kept in
``unmapped`` and reported), photos are stored with every metadata stripped (layers.photos), a missing
photo is listed, not fatal. A file that cannot be read changes nothing.

Review steps are commands (audit.commands), so they are undoable and logged like every edit:
``accept`` (an annotation of the named place, another place, or a new place), ``accept_batch`` (one
undo step for many) and ``reject`` (the queue row only). ``queue`` lists what waits, each with the place
it names or the nearest candidate of its place type.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from audit.annotations import PLACE_KINDS, annotate, annotation_values, new_place_with_annotation
from audit.catalogue import catalogue_version, indicators, place_type_of
from audit.commands import Macro, UpdateRow
from layers import submission_store
from layers.i18n import _
from layers.importers.submissions import SubmissionExport, read_export
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE
from layers.photos import clean_photo
from layers.resources import load_json

NEAR_M = 100  # a place of the submission's type this close is offered as its candidate
OTHER = "other"  # the form's "other — specify" choice (its text is in other_text)
NEW_PLACE = "new"  # the form's places.csv row for "a place not on the list"


@dataclass
class ImportReport:
    path: Path
    source: str
    added: int = 0
    duplicates: int = 0
    photos: int = 0
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # instance id -> indicator ids not mapped
    missing_photos: list[tuple[str, str]] = field(default_factory=list)  # (instance id, file name)
    notices: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # the new queue rows
    seconds: float = 0.0


@dataclass
class QueueItem:
    """A queue row, and where it belongs: the place it names, else the nearest place of its type."""
    row: dict
    candidate: tuple[str, int] | None
    candidate_how: str | None  # "named", "nearest" or None
    distance_m: float | None
    photos: int

    @property
    def id(self) -> int:
        return self.row["id"]


# -- mapping answers to today's catalogue -------------------------------------------------------------------------


def renamed_indicators() -> dict[str, str]:
    """Old indicator id -> today's, when the catalogue declares renames (``renamed.ids``, as the questionnaire)."""
    renamed = load_json("indicators.json").get("renamed") or {}
    return dict(renamed.get("ids", {}))


def map_indicators(text: str) -> tuple[list[str], list[str]]:
    """The form's space-separated choices -> (today's indicator ids, ids that do not map)."""
    known, renamed = indicators(), renamed_indicators()
    mapped, unmapped = [], []
    for choice in (text or "").split():
        if choice == OTHER:
            continue
        target = choice if choice in known else renamed.get(choice)
        if target in known:
            if target not in mapped:
                mapped.append(target)
        else:
            unmapped.append(choice)
    return mapped, unmapped


def _int(text) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


def queue_row(sub, source: str, received: str) -> dict:
    """The queue row of one parsed submission."""
    f = sub.fields
    mapped, unmapped = map_indicators(f.get("indicators", ""))
    place = f.get("place") or None
    return {"instance_id": sub.instance_id, "source": source, "received": received, "submitted": sub.submitted,
            "form_id": sub.form_id, "form_version": sub.form_version or None,
            "catalogue_version": _int(f.get("catalogue_version")), "lon": sub.lon, "lat": sub.lat,
            "place_key": None if place in (None, NEW_PLACE) else place,
            "new_place_name": f.get("new_place_name") or None, "place_type": f.get("place_type") or None,
            "indicators": json.dumps(mapped), "unmapped": json.dumps(unmapped),
            "other_text": f.get("other_text") or None,
            "note": f.get("note") or None, "observed": (f.get("observed") or "")[:10] or None,
            "team": f.get("team") or None, "author": f.get("author") or None, "confidence": f.get("confidence") or None,
            "source_of_information": f.get("source") or None, "status": "incoming"}


# -- import -----------------------------------------------------------------------------------------------------


def _photo_rows(export, subs, report: ImportReport, progress):
    """The cleaned photos of ``subs``, one at a time (a thousand phone photos never sit in memory together)."""
    for n, sub in enumerate(subs):
        progress(0.05 + 0.9 * n / max(len(subs), 1), _("Cleaning photos…"))
        for name in dict.fromkeys(sub.photos):
            try:
                data = export.photo(sub, name)
            except ValueError as exc:  # larger than a photo may be: not read
                report.notices.append(_("{id}: photo {name} was not stored: {error}").format(
                    id=sub.instance_id, name=name, error=exc))
                continue
            if data is None:
                report.missing_photos.append((sub.instance_id, name))
                continue
            try:
                clean = clean_photo(data)
            except ValueError as exc:
                report.notices.append(_("{id}: photo {name} was not stored: it could not be read as an image "
                                        "({error})").format(id=sub.instance_id, name=name, error=exc))
                continue
            yield {"instance_id": sub.instance_id, "name": Path(name).name, "mime": clean.mime, "data": clean.data,
                   "bytes": len(clean.data)}


def _new_rows(export, seen: set[str], report: ImportReport, received: str) -> tuple[list, list]:
    """Queue rows of the submissions not seen before, and those submissions; duplicates and unmapped noted."""
    rows, new = [], []
    for sub in export.submissions:
        if sub.instance_id in seen:
            report.duplicates += 1
            continue
        seen.add(sub.instance_id)
        row = queue_row(sub, export.source, received)
        if json.loads(row["unmapped"]):
            report.unmapped[sub.instance_id] = json.loads(row["unmapped"])
        version = row["catalogue_version"]
        if version is not None and version != catalogue_version():
            report.notices.append(_("{id}: made with catalogue version {v} (now {now}); indicators mapped by id")
                                  .format(id=sub.instance_id, v=version, now=catalogue_version()))
        rows.append(row)
        new.append(sub)
    return rows, new


def import_submissions(ws, export: str | Path | SubmissionExport, author: str = "", progress=None) -> ImportReport:
    """Read an export (a file or folder, or an export already read, e.g. from ODK Central) into the Incoming
    queue (one transaction, one change-log entry); see the module's doc.

    ``progress(fraction, message)`` is called as photos are cleaned (for a worker thread's progress bar).
    """
    progress = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    if not isinstance(export, SubmissionExport):
        export = read_export(export)
    report = ImportReport(export.path, export.source)
    received = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    try:
        rows, new = _new_rows(export, submission_store.known_instance_ids(ws.db.conn), report, received)
        with ws.atomic():
            ids = submission_store.add_submissions(ws.db, rows, _photo_rows(export, new, report, progress),
                                                   author=author, source=export.name)
            for table in (SUBMISSIONS_TABLE, PHOTOS_TABLE):
                ws.touch(table)
    finally:
        export.files.close()
    progress(1.0, "")
    report.added, report.photos, report.ids = len(rows), len(ids[PHOTOS_TABLE]), ids[SUBMISSIONS_TABLE]
    report.seconds = time.perf_counter() - started
    return report


def import_from_odk_central(ws, project_id: int | None, form_id: str, author: str = "", progress=None,
                            client=None) -> ImportReport:
    """Read a form's submissions from ODK Central (OData, through pyodk) into the Incoming queue, exactly as
    an export file is read. ``client``: a pyodk Client; by default one for the server pyodk's configuration
    names (layers.importers.odk_central). A server that cannot be asked raises LanternError and changes
    nothing, also when it fails while photos are fetched (the transaction is rolled back)."""
    from layers.importers import odk_central

    progress = progress or (lambda fraction, message: None)
    progress(0.0, _("Reading submissions from ODK Central…"))
    own = client is None
    client = odk_central.connect() if own else client
    try:
        export = odk_central.read_form(client, project_id, form_id, close_client=own)
    except BaseException:
        if own:
            client.session.close()
        raise
    return import_submissions(ws, export, author=author, progress=progress)


# -- the queue --------------------------------------------------------------------------------------------------


def submission(ws, submission_id: int) -> dict:
    row = ws.get_row(SUBMISSIONS_TABLE, submission_id)
    if row is None:
        raise ValueError(_("no submission {id} in the queue").format(id=submission_id))
    return row


def photos(ws, submission_id: int) -> list[dict]:
    """The photos of a submission (id, name, mime, data, bytes): cleaned, for the review panel."""
    return submission_store.photos_of(ws.db.conn, submission(ws, submission_id)["instance_id"])


def parse_place_key(key: str | None) -> tuple[str, int] | None:
    """places.csv's ``worksites-12`` -> ("worksites", 12)."""
    if not key or "-" not in key:
        return None
    table, _sep, fid = key.rpartition("-")
    return (table, int(fid)) if table in PLACE_KINDS and fid.isdigit() else None


def _places(ws):
    """Every place with its place type, in a metric CRS: (GeoDataFrame, keys)."""
    import geopandas as gpd
    import pandas as pd

    from layers.crs import metric_crs

    frames = []
    for kind_id in PLACE_KINDS:
        layer = ws.read_layer(kind_id)
        layer = layer[layer.geometry.notna() & ~layer.geometry.is_empty]
        if len(layer):
            records = layer.drop(columns="geometry").to_dict("records")
            frames.append(gpd.GeoDataFrame({"table": kind_id, "fid": layer.index.astype(int),
                                            "place_type": [place_type_of(kind_id, r) for r in records]},
                                           geometry=layer.geometry.representative_point().values, crs=4326))
    if not frames:
        return None
    places = pd.concat(frames, ignore_index=True)
    return places.to_crs(metric_crs(places))


def _nearest_all(places, rows: list[dict]) -> dict[int, tuple[tuple[str, int], float]]:
    """The nearest place of each row's place type within NEAR_M, by row id: one spatial index per place type,
    every row of that type looked up at once (a thousand submissions take a moment, not minutes)."""
    import geopandas as gpd

    found: dict[int, tuple[tuple[str, int], float]] = {}
    placed = [r for r in rows if r["lon"] is not None and r["lat"] is not None]
    if places is None or not placed:
        return found
    by_type: dict = {}
    for r in placed:
        by_type.setdefault(r["place_type"] if r["place_type"] not in (None, "any") else None, []).append(r)
    for wanted, group in by_type.items():
        pool = places if wanted is None else places[places["place_type"] == wanted]
        if not len(pool):
            continue
        points = gpd.GeoSeries.from_xy([r["lon"] for r in group], [r["lat"] for r in group], crs=4326).to_crs(places.crs)
        (i_points, i_pool), distances = pool.sindex.nearest(points, max_distance=NEAR_M, return_all=False,
                                                             return_distance=True)
        for i, j, d in zip(i_points, i_pool, distances):
            best = pool.iloc[int(j)]
            found.setdefault(group[int(i)]["id"], ((best["table"], int(best["fid"])), float(d)))
    return found


def queue(ws, status: str | None = "incoming") -> list[QueueItem]:
    """The queue (``status`` None: every row), each with its candidate place."""
    rows = submission_store.queue_rows(ws.db.conn, status)
    counts = submission_store.photo_counts(ws.db.conn)
    named = {r["id"]: parse_place_key(r["place_key"]) for r in rows}
    named = {i: key for i, key in named.items() if key and ws.get_row(key[0], key[1]) is not None}
    unnamed = [r for r in rows if r["id"] not in named]
    nearest = _nearest_all(_places(ws), unnamed) if unnamed else {}
    items = []
    for r in rows:
        photos = counts.get(r["instance_id"], 0)
        if r["id"] in named:
            items.append(QueueItem(r, named[r["id"]], "named", None, photos))
        elif r["id"] in nearest:
            place, distance = nearest[r["id"]]
            items.append(QueueItem(r, place, "nearest", distance, photos))
        else:
            items.append(QueueItem(r, None, None, None, photos))
    return items


# -- review: commands -------------------------------------------------------------------------------------------


@dataclass
class DecideSubmission(UpdateRow):
    """The queue row's decision; ``changes`` may be a callable (evaluated at the first apply, so it can name
    the annotation a macro inserted just before). Its log entries name the submission's instance id."""
    instance_id: str = ""

    def apply(self, ctx) -> None:
        if callable(self.changes):
            self.changes = self.changes()
        super().apply(ctx)

    def _record(self, ctx, action: str, before, after) -> None:
        ctx.log(action, self.table, self.row_id, before, {**(after or {}), "instance_id": self.instance_id})
        ctx.touched(self.table)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _incoming(ws, submission_id: int) -> dict:
    row = submission(ws, submission_id)
    if row["status"] != "incoming":
        raise ValueError(_("submission {id} was {status} already").format(id=submission_id, status=row["status"]))
    return row


def new_place_defaults(place_type: str | None) -> dict | None:
    """The layer and category a new place of ``place_type`` gets unless the reviewer chooses: the first
    places-of-concern category whose rule gives that type (data/indicators.json), or None."""
    for rule in load_json("indicators.json")["place_type_of"]["rules"]:
        if rule["kind"] == "places_of_concern" and rule["place_type"] == place_type and rule["values"] != "*":
            return {"kind": "places_of_concern", "fields": {"category": rule["values"][0]}}
    return None


def _annotation(row: dict, table: str, fid: int | None, reviewer: str) -> dict:
    return annotation_values(
        table, fid, indicators_seen=json.loads(row["indicators"] or "[]"), observed=row["observed"] or "",
        confidence=row["confidence"] or "", source=row["source_of_information"] or "",
        author=row["author"] or reviewer, team=row["team"] or "", note=row["note"] or "",
        other_text=row["other_text"] or "")


def accept(ws, submission_id: int, author: str, place: tuple[str, int] | None = None,
           new_place: dict | None = None) -> Macro:
    """Accept a queued submission: one undoable step (run it with ``History.do``).

    The annotation goes to ``place`` (table, fid) when given, else to the place the submission names, else
    to a new place at the submission's position named as the team named it (``new_place``:
    ``{"kind": ..., "fields": {...}}``, default ``new_place_defaults``). Raises ValueError naming the problem.
    """
    row = _incoming(ws, submission_id)
    target = place or parse_place_key(row["place_key"])
    if target is not None:
        if ws.get_row(target[0], target[1]) is None:
            raise ValueError(_("the place {table} {fid} does not exist").format(table=target[0], fid=target[1]))
        note = annotate(_annotation(row, target[0], target[1], author))
        step = [note]
    else:
        spec = new_place or new_place_defaults(row["place_type"])
        if spec is None or row["lon"] is None or row["lat"] is None:
            raise ValueError(_("submission {id} names no place: choose a place or the new place's layer")
                             .format(id=submission_id))
        fields = {"name": row["new_place_name"] or _("Place from the field"), **spec.get("fields", {})}
        macro = new_place_with_annotation(spec["kind"], row["lon"], row["lat"], fields,
                                          _annotation(row, spec["kind"], None, author))
        note, step = macro.commands[1], list(macro.commands)
    decide = DecideSubmission(SUBMISSIONS_TABLE, submission_id,
                              lambda: {"status": "accepted", "annotation_id": note.row_id, "decided": _now(),
                                       "decided_by": author},
                              label=_("Accept submission"), instance_id=row["instance_id"])
    return Macro([*step, decide], label=_("Accept submission"))


def accept_batch(ws, submission_ids, author: str) -> Macro:
    """Accept several submissions (each to the place it names, or a new place) as ONE undo step; an id named
    twice is accepted once."""
    steps = [accept(ws, i, author) for i in dict.fromkeys(submission_ids)]
    return Macro([c for s in steps for c in s.commands], label=_("Accept submissions"))


def reject(ws, submission_id: int, author: str, reason: str) -> DecideSubmission:
    """Reject a queued submission with a reason: only its queue row changes."""
    row = _incoming(ws, submission_id)
    if not (reason or "").strip():
        raise ValueError(_("a reason is required to reject a submission"))
    return DecideSubmission(SUBMISSIONS_TABLE, submission_id,
                            {"status": "rejected", "reason": reason.strip(), "decided": _now(), "decided_by": author},
                            label=_("Reject submission"), instance_id=row["instance_id"])
