"""The situation-assessment questionnaire and the action plan — edited through the command path."""
from __future__ import annotations

import datetime as dt

from audit.catalogue import confidence_levels
from audit.commands import InsertRow, UpdateRow
from layers.i18n import _
from layers.migrations import ACTION_PLAN_TABLE, ANSWERS_TABLE
from layers.resources import load_json


def sections() -> list[dict]:
    return load_json("assessment_questions.json")["sections"]


def questions() -> dict[str, dict]:
    return {q["id"]: {**q, "section": s["id"]} for s in sections() for q in s["questions"]}


def answers(workspace) -> dict[str, dict]:
    return {row["question_id"]: row for row in workspace.db[ANSWERS_TABLE].rows}


def answer(workspace, question_id: str, *, text: str = "", number=None, source: str = "", answered_on=None,
           confidence: str = "medium", author: str = ""):
    """A command recording (or revising) the answer to one question."""
    qs = questions()
    if question_id not in qs:
        raise ValueError(_("unknown question {q!r}").format(q=question_id))
    if confidence not in {c["id"] for c in confidence_levels()}:
        raise ValueError(_("confidence must be low, medium or high"))
    if number not in (None, "") and not qs[question_id]["number"]:
        raise ValueError(_("this question takes a text answer"))
    if number not in (None, ""):
        number = float(number)
        if number < 0:
            raise ValueError(_("a number must not be negative"))
    if not str(text).strip() and number in (None, ""):
        raise ValueError(_("give an answer (text or number)"))
    values = {"question_id": question_id, "answer_text": str(text).strip() or None,
              "answer_number": None if number in (None, "") else number, "source_institution": source.strip() or None,
              "answered_on": (answered_on or dt.date.today()).isoformat() if not isinstance(answered_on, str) else answered_on,
              "confidence": confidence, "author": author.strip() or None}
    existing = answers(workspace).get(question_id)
    if existing:
        changes = {k: v for k, v in values.items() if existing.get(k) != v}
        return UpdateRow(ANSWERS_TABLE, existing["id"], changes, label=_("Revise answer"))
    return InsertRow(ANSWERS_TABLE, values, label=_("Answer question"))


def progress(workspace) -> list[dict]:
    """Answered / total per section."""
    done = set(answers(workspace))
    return [{"section": s["id"], "en": s["en"], "lv": s["lv"], "answered": sum(q["id"] in done for q in s["questions"]),
             "total": len(s["questions"])} for s in sections()]


def plan_items(workspace) -> list[dict]:
    return list(workspace.db[ACTION_PLAN_TABLE].rows_where(order_by="id"))


def update_plan_item(row_id: int, **changes) -> UpdateRow:
    allowed = {"status", "responsible", "due_date", "notes", "action", "actors"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(_("cannot change {f}").format(f=", ".join(sorted(unknown))))
    statuses = {s["id"] for s in load_json("action_plan.json")["statuses"]}
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
