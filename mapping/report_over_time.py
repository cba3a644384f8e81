"""The report's story over time: progress since the previous audit round, the campaigns and what their
evaluation shows, the actor network and its training coverage.

Each part is a plain table (pandas DataFrame of text and numbers) computed for the report's profile by the
functions that own the rules — mapping.round_change.round_summary, audit.evaluation.campaign_summaries,
audit.actors.actor_summary — which already withhold what the profile may not see; the report adds them to
its bundle through the derived allow-lists of data/sensitivity.json like every other part.
"""
from __future__ import annotations

from types import SimpleNamespace

from layers.i18n import _, decimal, percent

WITHHELD = "<5"  # a count under the minimum, as the report prints it


def _n(value) -> str:
    return WITHHELD if value is None else decimal(value, 0)


def _change(value) -> str:
    if value is None:
        return ""
    return ("+" if value > 0 else "") + decimal(value, 0)


def progress_rows(ws, profile: str) -> list[dict]:
    """What changed from the previous round to the latest: places by kind of change, estimates by risk group,
    the indicators seen at more or fewer places. Empty with fewer than two rounds."""
    from audit.round_compare import STATUS_TEXT, TREND_TEXT
    from audit.rounds import rounds
    from mapping.round_change import round_summary

    known = sorted(rounds(ws), key=lambda r: (str(r.starts or ""), r.id))
    if len(known) < 2:
        return []
    summary = round_summary(ws, known[-2].id, known[-1].id, profile)
    rows = [_row(_("Rounds compared"), known[-2].name, known[-1].name, "")]
    counts: dict[str, int] = {}
    for r in summary["places"]:
        if "count" in r:
            counts[r["status"]] = r["count"]
        else:  # police: one row per place
            counts[r["status"]] = counts.get(r["status"], 0) + 1
    for status in ("new", "gone", "up", "down"):
        if status in counts:
            rows.append(_row(_("Places: {what}").format(what=_(STATUS_TEXT[status])), "", _n(counts[status]), ""))
    rows += [_estimate(r) for r in summary["estimates"]]
    for r in summary["indicators"][:8]:
        if r.get("trend") in ("more", "fewer"):
            rows.append(_row(r["wording"], _n(r["places_from"]), _n(r["places_to"]),
                             _change(r["change"]) or _(TREND_TEXT[r["trend"]])))
    return rows


def _row(what, before, after, change) -> dict:
    return {"what": str(what), "before": str(before), "after": str(after), "change": str(change)}


def _estimate(r: dict) -> dict:
    from audit.catalogue import risk_groups
    from layers.i18n import label

    names = {g["id"]: label(g) for g in risk_groups()}
    what = _("Estimate: {group}").format(group=names.get(r["risk_group"], r["risk_group"]))
    if "band_from" in r:  # public: classes only
        return _row(what, r["band_from"] or "", r["band_to"] or "", "")
    return _row(what, _n(r.get("estimate_from")), _n(r.get("estimate_to")), _change(r.get("change")))


def campaign_rows(ws, profile: str) -> list[dict]:
    """Each campaign with its reach and, per outcome, the difference-in-differences as the evaluation states it
    (its interval, its caveat); counts under the minimum are withheld by the evaluation itself."""
    from audit.evaluation import campaign_summaries, ratio_text

    rows = []
    for c in campaign_summaries(ws, profile):
        reach = ", ".join(f"{k}: {decimal(v, 0)}" for k, v in (
            (_("people"), c.get("people_reached")), (_("leaflets"), c.get("leaflets")), (_("events"), c.get("events")))
            if v is not None)
        evaluation = c.get("evaluation", {})
        outcomes = evaluation.get("outcomes", []) or [{}]
        caveat = (evaluation.get("caveats") or [""])[0]  # the first: a comparison, not proof of cause
        for n, o in enumerate(outcomes):
            estimate = None if o.get("ratio") is None else SimpleNamespace(ratio=o["ratio"], low=o["low"], high=o["high"])
            verdict = str(o.get("verdict") or evaluation.get("error", ""))
            if n == len(outcomes) - 1 and caveat:
                verdict = f"{verdict} {caveat}".strip()
            rows.append({"campaign": f"{c['name']} ({c['starts']} – {c['ends']})" if n == 0 else "",
                         "reach": reach if n == 0 else "", "outcome": str(o.get("label") or o.get("outcome", "")),
                         "ratio": ratio_text(estimate) if estimate is not None and estimate.low is not None
                         else "" if estimate is None else decimal(estimate.ratio, 2), "verdict": verdict})
    return rows


def actor_rows(ws, profile: str) -> list[dict]:
    """The network by sector: how many actors, how many of their staff are trained, agreements due."""
    from audit.actors import actor_summary

    summary = actor_summary(ws, profile)
    due: dict = {}
    for key in ("overdue", "due"):
        for r in summary.get("renewals", {}).get(key, []):
            due[r["sector"]] = due.get(r["sector"], 0) + 1
    rows = []
    for s in summary.get("sectors", []):
        trained = "" if s.get("share") is None else \
            f"{decimal(s['trained'], 0)} / {decimal(s['staff'], 0)} ({percent(s['share'], 0)})"
        rows.append({"sector": s["label"], "actors": decimal(s["actors"], 0), "trained": trained,
                     "renewals": decimal(due.get(s["id"], 0), 0) if "renewals" in summary else ""})
    if not rows:  # a profile that sees names and roles only
        for a in summary.get("actors", []):
            rows.append({"sector": str(a.get("sector_label") or a.get("sector") or ""), "actors": str(a.get("name", "")),
                         "trained": "", "renewals": ""})
    return rows


__all__ = ["actor_rows", "campaign_rows", "progress_rows"]
