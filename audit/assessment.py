"""The situation-assessment questionnaire and the action plan — edited through the command path.

The questionnaire follows the guidelines' tables 1–8 (data/assessment_questions.json). Each question
has an answer type; answers keep the two stored columns they always had:

- ``number`` (≥ 0) and ``share`` (0–100 %) in ``answer_number``;
- ``yes_no`` in ``answer_number`` as 1 (yes) or 0 (no);
- ``text`` in ``answer_text``;
- ``list`` (institutions, vulnerability factors) in ``answer_text`` as a JSON list of ids; free
  entries not in the list are kept as they are written;
- ``place`` in ``answer_text`` as JSON ``{"places": [...], "note": "..."}``, each place either
  ``{"kind": layer, "fid": n}`` (a feature of the workspace) or ``{"lon": x, "lat": y}``.

Version 1 answers (by their old question ids) are carried over by migration 6 (layers/migrations.py)
through the catalogue's ``renamed`` map; questions of version 1 without an exact counterpart live on in
the ``legacy`` section so their answers stay readable.
"""
from __future__ import annotations

import datetime as dt
import json
import math

from audit.catalogue import confidence_levels
from audit.commands import InsertRow, UpdateRow
from layers.i18n import _, label
from layers.migrations import ACTION_PLAN_TABLE, ANSWERS_TABLE
from layers.resources import load_json

ANSWER_TYPES = ("number", "share", "yes_no", "text", "list", "place")
NUMERIC_TYPES = ("number", "share", "yes_no")


def _catalogue() -> dict:
    return load_json("assessment_questions.json")


def catalogue_version() -> int:
    return int(_catalogue()["version"])


def _with_compat(q: dict) -> dict:
    """A question as callers before version 2 knew it, too: ``number`` says whether answer_number is used."""
    return {**q, "number": q["type"] in NUMERIC_TYPES}


def sections(*, legacy: bool = False) -> list[dict]:
    """The questionnaire's sections in order; with ``legacy``, the kept version-1 questions as a last section."""
    out = [{**s, "questions": [_with_compat(q) for q in s["questions"]]} for s in _catalogue()["sections"]]
    if legacy:
        old = _catalogue()["legacy"]
        out.append({"id": old["id"], "en": old["en"], "lv": old["lv"], "table": None, "legacy": True,
                    "questions": [_with_compat(q) for q in old["questions"]]})
    return out


def questions() -> dict[str, dict]:
    """Every question by id (the kept version-1 questions too, so stored answers always have a question)."""
    return {q["id"]: {**q, "section": s["id"]} for s in sections(legacy=True) for q in s["questions"]}


def renamed_ids() -> dict[str, str]:
    """Version-1 question id → today's id (applied to stored answers by migration 6)."""
    return dict(_catalogue()["renamed"]["ids"])


def institutions() -> list[dict]:
    return _catalogue()["institutions"]


def vulnerability_factors() -> list[dict]:
    return load_json("vulnerability_factors.json")["factors"]


def options(question: dict) -> list[dict]:
    """The choices of a ``list`` question ({"id", "en", "lv"}), in the order the guidelines give them."""
    source = question.get("options_from")
    if source == "institutions":
        every = {i["id"]: i for i in institutions()}
        return [every[i] for i in question.get("options", every)]
    if source == "vulnerability_factors":
        return vulnerability_factors()
    return []


def answer_types() -> list[dict]:
    return _catalogue()["answer_types"]


def answers(workspace) -> dict[str, dict]:
    return {row["question_id"]: row for row in workspace.db[ANSWERS_TABLE].rows}


def _missing(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def _yes_no(value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    text = str(value).strip().lower()
    if text in {"1", "1.0", "yes", "y", "true", "jā", "ja"}:
        return 1.0
    if text in {"0", "0.0", "no", "n", "false", "nē", "ne"}:
        return 0.0
    raise ValueError(_("answer yes or no"))


def _list_value(question: dict, value) -> str:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = [v for v in (p.strip() for p in value.replace(";", ",").split(",")) if v]
        value = parsed if isinstance(parsed, list) else [str(parsed)]
    items = []
    for v in value:
        v = str(v).strip()
        if v and v not in items:
            items.append(v)
    if not items:
        raise ValueError(_("choose at least one item"))
    return json.dumps(items, ensure_ascii=False)


def _place_value(value) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return json.dumps({"places": [], "note": value.strip()}, ensure_ascii=False)
    if isinstance(value, list):
        value = {"places": value}
    places = []
    for p in value.get("places", []):
        if "kind" in p and "fid" in p:
            places.append({"kind": str(p["kind"]), "fid": int(p["fid"])})
        elif "lon" in p and "lat" in p:
            lon, lat = float(p["lon"]), float(p["lat"])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(_("a place must have a longitude and latitude on the map"))
            places.append({"lon": lon, "lat": lat})
        else:
            raise ValueError(_("a place is a feature of the map or a point (longitude, latitude)"))
    note = str(value.get("note") or "").strip()
    if not places and not note:
        raise ValueError(_("mark a place on the map or describe it"))
    out = {"places": places}
    if note:
        out["note"] = note
    return json.dumps(out, ensure_ascii=False)


def stored_values(question: dict, *, text="", number=None, value=None) -> tuple[str | None, float | None]:
    """(answer_text, answer_number) for an answer to ``question``; ``value`` is the typed answer, if given."""
    kind = question["type"]
    if value is not None:
        if kind in NUMERIC_TYPES:
            number = value
        else:
            text = value
    if kind in NUMERIC_TYPES:  # a text given with the number is kept as a comment
        comment = None if _missing(text) else str(text).strip()
        if kind == "yes_no":
            raw = number if not _missing(number) else text
            if _missing(raw):
                raise ValueError(_("answer yes or no"))
            return (None if _missing(number) else comment), _yes_no(raw)
        if _missing(number):
            if comment:
                raise ValueError(_("this question takes a number"))
            raise ValueError(_("give an answer (text or number)"))
        number = float(number)
        if number < 0 or math.isinf(number) or math.isnan(number):
            raise ValueError(_("a number must not be negative"))
        if kind == "share" and number > 100:
            raise ValueError(_("a share is between 0 and 100 %"))
        return comment, number
    if not _missing(number):
        raise ValueError(_("this question takes a text answer"))
    if kind == "list":
        if _missing(text) and not isinstance(text, list):
            raise ValueError(_("choose at least one item"))
        return _list_value(question, text), None
    if kind == "place":
        if _missing(text):
            raise ValueError(_("mark a place on the map or describe it"))
        return _place_value(text), None
    if _missing(text):
        raise ValueError(_("give an answer (text or number)"))
    return str(text).strip(), None


def answer(workspace, question_id: str, *, text="", number=None, source: str = "", answered_on=None,
           confidence: str = "medium", author: str = "", value=None):
    """A command recording (or revising) the answer to one question.

    ``text`` / ``number`` as before; or ``value``, the typed answer (a number, a share, True/False,
    a list of ids, ``{"places": [...], "note": ...}``), checked against the question's answer type.
    """
    qs = questions()
    if question_id not in qs:
        raise ValueError(_("unknown question {q!r}").format(q=question_id))
    if confidence not in {c["id"] for c in confidence_levels()}:
        raise ValueError(_("confidence must be low, medium or high"))
    answer_text, answer_number = stored_values(qs[question_id], text=text, number=number, value=value)
    values = {"question_id": question_id, "answer_text": answer_text, "answer_number": answer_number,
              "source_institution": source.strip() or None,
              "answered_on": (answered_on or dt.date.today()).isoformat() if not isinstance(answered_on, str) else answered_on,
              "confidence": confidence, "author": author.strip() or None}
    existing = answers(workspace).get(question_id)
    if existing:
        changes = {k: v for k, v in values.items() if existing.get(k) != v}
        return UpdateRow(ANSWERS_TABLE, existing["id"], changes, label=_("Revise answer"))
    return InsertRow(ANSWERS_TABLE, values, label=_("Answer question"))


def typed_value(question: dict, row: dict):
    """The stored answer as its type: float, bool, list of ids, {"places", "note"} or str (None: no answer)."""
    kind = question["type"]
    text, number = row.get("answer_text"), row.get("answer_number")
    if kind == "yes_no" and not _missing(number):
        return bool(number)
    if kind in NUMERIC_TYPES and not _missing(number):
        return float(number)
    if _missing(text):
        return None if _missing(number) else float(number)
    if kind in ("list", "place"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return [text] if kind == "list" else {"places": [], "note": text}
        if kind == "list" and isinstance(parsed, list):
            return parsed
        if kind == "place" and isinstance(parsed, dict):
            return parsed
    return text


def display_value(question: dict, row: dict, lang: str | None = None) -> str:
    """An answer as a reader sees it: "12", "35 %", "yes"/"jā", the list's labels, the places."""
    value = typed_value(question, row)
    if value is None:
        return ""
    kind = question["type"]
    if kind == "yes_no" and isinstance(value, bool):
        if (lang or "") == "lv":
            return "jā" if value else "nē"
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g} %" if kind == "share" else f"{value:g}"
    if kind == "list" and isinstance(value, list):
        names = {o["id"]: o for o in options(question)}
        return ", ".join(label(names[v], lang) if v in names else v for v in value)
    if kind == "place" and isinstance(value, dict):
        parts = []
        for p in value.get("places", []):
            parts.append(f"{p['kind']} #{p['fid']}" if "kind" in p else f"{p['lat']:.5f}, {p['lon']:.5f}")
        if value.get("note"):
            parts.append(value["note"])
        return "; ".join(parts)
    return str(value)


def progress(workspace) -> list[dict]:
    """Answered / total per section (the kept version-1 section only when it holds answers)."""
    done = set(answers(workspace))
    out = []
    for s in sections(legacy=True):
        answered = sum(q["id"] in done for q in s["questions"])
        if s.get("legacy") and not answered:
            continue
        out.append({"section": s["id"], "en": s["en"], "lv": s["lv"], "answered": answered,
                    "total": answered if s.get("legacy") else len(s["questions"])})
    return out


def vulnerability_summary(workspace, lang: str | None = None) -> list[dict]:
    """For the report: each vulnerability factor, and the risk groups in which the audit has seen it.

    Rows ``{"id", "label", "groups": [section labels], "count"}`` in the guidelines' order; factors
    not seen have count 0.
    """
    given = answers(workspace)
    seen: dict[str, list[str]] = {f["id"]: [] for f in vulnerability_factors()}
    for s in sections():
        for q in s["questions"]:
            if q.get("options_from") != "vulnerability_factors" or q["id"] not in given:
                continue
            value = typed_value(q, given[q["id"]]) or []
            for factor in value if isinstance(value, list) else []:
                if factor in seen:
                    seen[factor].append(label(s, lang))
    return [{"id": f["id"], "label": label(f, lang), "groups": seen[f["id"]], "count": len(seen[f["id"]])}
            for f in vulnerability_factors()]


# -- the action plan ------------------------------------------------------------------------------------


def plan_catalogue() -> dict:
    return load_json("action_plan.json")


def plan_goals() -> list[dict]:
    return plan_catalogue()["goals"]


def plan_catalogue_items() -> list[dict]:
    """Every action the guidelines name: id, goal_id, goal (English), action/action_lv, actors/actors_lv, chapter."""
    return plan_catalogue()["items"]


def plan_items(workspace) -> list[dict]:
    return list(workspace.db[ACTION_PLAN_TABLE].rows_where(order_by="id"))


def plan_item_text(row: dict, lang: str | None = None) -> dict:
    """Goal, action and actors of a stored plan row in ``lang``.

    A row pre-filled from the catalogue (by ``item_id``, or by its English goal and action) whose English
    text the municipality has not changed is shown in the catalogue's words for that language; an edited
    or added row as written.
    """
    items = {i["id"]: i for i in plan_catalogue_items()}
    goals = {g["id"]: g for g in plan_goals()}
    item = items.get(row.get("item_id") or "")
    if item is None and not row.get("item_id"):  # pre-filled before item ids: known by its English text
        item = next((i for i in items.values() if (i["goal"], i["action"]) == (row.get("goal"), row.get("action"))),
                    None)
    out = {"goal": row.get("goal") or "", "action": row.get("action") or "", "actors": row.get("actors") or ""}
    if item is None:
        return out
    goal = goals[item["goal_id"]]
    english = {"goal": item["goal"], "action": item["action"], "actors": item["actors"]}
    local = {"goal": label(goal, lang), "action": label({"en": item["action"], "lv": item["action_lv"]}, lang),
             "actors": label({"en": item["actors"], "lv": item["actors_lv"]}, lang)}
    return {k: local[k] if out[k] == english[k] else out[k] for k in out}


def plan_campaigns(workspace) -> dict[int, list[str]]:
    """Action-plan row id → the names of the campaigns that serve it (audit.campaigns)."""
    from audit.campaigns import serving

    return serving(workspace)


def plan_status_label(status: str | None, lang: str | None = None) -> str:
    statuses = {s["id"]: s for s in plan_catalogue()["statuses"]}
    return label(statuses[status], lang) if status in statuses else (status or "")


def update_plan_item(row_id: int, **changes) -> UpdateRow:
    allowed = {"status", "responsible", "due_date", "notes", "action", "actors"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(_("cannot change {f}").format(f=", ".join(sorted(unknown))))
    statuses = {s["id"] for s in plan_catalogue()["statuses"]}
    if "status" in changes and changes["status"] not in statuses:
        raise ValueError(_("status must be one of {s}").format(s=", ".join(sorted(statuses))))
    if changes.get("due_date"):
        dt.date.fromisoformat(changes["due_date"])
    return UpdateRow(ACTION_PLAN_TABLE, row_id, changes, label=_("Edit action plan"))


def add_plan_item(goal: str, action: str, actors: str = "") -> InsertRow:
    if not goal.strip() or not action.strip():
        raise ValueError(_("a goal and an action are required"))
    return InsertRow(ACTION_PLAN_TABLE, {"goal": goal.strip(), "action": action.strip(), "actors": actors.strip(),
                                         "status": "planned"}, label=_("Add action"))
