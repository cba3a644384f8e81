"""What a reviewer sees of a queued submission and the steps the Incoming panel takes, without Qt.

A queued submission goes to its *target*: the place it names, else the nearest place of its type (within
audit.submissions.NEAR_M), else a new place at its position. ``accept_as_shown`` accepts several, each to
its target, as one undo step; ``reject_all`` rejects several with one reason, as one undo step.
"""
from __future__ import annotations

import json

from audit import submissions as api
from audit.catalogue import catalogue_version, confidence_levels, indicators, place_types, sources
from audit.commands import Macro
from layers.catalogue import kind as get_kind
from layers.i18n import _, decimal, label


def place_name(ws, place: tuple[str, int]) -> str:
    """A place as the reviewer knows it: its name, else its layer and number."""
    row = ws.get_row(place[0], place[1]) or {}
    return str(row.get("name") or _("{layer} {fid}").format(layer=get_kind(place[0]).label, fid=place[1]))


def target_text(ws, item: api.QueueItem) -> str:
    """Where accepting the item puts its annotation, in words."""
    if item.candidate is None:
        name = item.row.get("new_place_name") or _("Place from the field")
        return _("New place: {name}").format(name=name)
    name = place_name(ws, item.candidate)
    if item.candidate_how == "nearest":
        return _("{name} (nearest, {m} m)").format(name=name, m=decimal(item.distance_m or 0, 0))
    return name


def place_type_text(place_type: str | None) -> str:
    for t in place_types():
        if t["id"] == place_type:
            return label(t)
    return place_type or ""


def indicator_texts(row: dict) -> list[str]:
    """The indicators the team saw, in the guidelines' wording of the current language."""
    known = indicators()
    texts = [known[i].label for i in json.loads(row.get("indicators") or "[]") if i in known]
    if row.get("other_text"):
        texts.append(_("Other: {text}").format(text=row["other_text"]))
    return texts


def record_lines(row: dict) -> list[tuple[str, str]]:
    """(label, value) of what the team recorded besides the indicators, choices in the current language."""
    confidence = {c["id"]: label(c) for c in confidence_levels()}
    source = {c["id"]: label(c) for c in sources()}
    values = [(_("Place type"), place_type_text(row.get("place_type"))), (_("Note"), row.get("note")),
              (_("Team"), row.get("team")), (_("Author"), row.get("author")),
              (_("Confidence"), confidence.get(row.get("confidence"), row.get("confidence"))),
              (_("Source"), source.get(row.get("source_of_information"), row.get("source_of_information"))),
              (_("Submitted"), row.get("submitted")), (_("Instance id"), row.get("instance_id"))]
    return [(k, str(v)) for k, v in values if v]


def warnings(row: dict) -> list[str]:
    """What the reviewer should know before accepting: answers that did not map, another catalogue version."""
    out = []
    unmapped = json.loads(row.get("unmapped") or "[]")
    if unmapped:
        out.append(_("Indicators not in today's catalogue (left out): {ids}").format(ids=", ".join(unmapped)))
    version = row.get("catalogue_version")
    if version is not None and version != catalogue_version():
        out.append(_("Made with catalogue version {v} (today's is {now}): indicators mapped by their id")
                   .format(v=version, now=catalogue_version()))
    return out


def photo_ids(ws, item: api.QueueItem) -> list[int]:
    """The ids of a queued submission's photos (read one at a time with audit.field_photos.photo_bytes)."""
    from layers import submission_store

    return submission_store.photo_ids_of(ws.db.conn, item.row["instance_id"]) if item.photos else []


def accept_as_shown(ws, items, author: str) -> Macro:
    """Accept each item to its target (named, nearest, or a new place) as ONE undo step."""
    steps = []
    for item in {i.id: i for i in items}.values():  # a submission named twice is accepted once
        try:
            steps.append(api.accept(ws, item.id, author, place=item.candidate))
        except (ValueError, KeyError) as exc:
            raise ValueError(_("Submission of {date} by {team} ({id}): {problem}").format(
                date=item.row.get("observed") or "?", team=item.row.get("team") or "?",
                id=item.row["instance_id"], problem=exc)) from exc
    label_text = _("Accept submission") if len(steps) == 1 else _("Accept submissions")
    return Macro([c for step in steps for c in step.commands], label=label_text)


def reject_all(ws, ids, author: str, reason: str) -> Macro:
    """Reject several submissions with one reason as ONE undo step (only their queue rows change)."""
    steps = [api.reject(ws, i, author, reason) for i in ids]
    return Macro(steps, label=_("Reject submission") if len(steps) == 1 else _("Reject submissions"))
