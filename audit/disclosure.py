"""The disclosure check: what will leave, and the checks that stop an export that would leak.

Every layer of a bundle is held against the allow-list of its profile
(``data/sensitivity.json``): the layer must be listed, in the listed form,
with no column that is not listed. Counts must be at least the minimum,
masked rows may not carry a value combination fewer than the minimum share,
and a derived result (campaign sites) may only come from layers the profile
receives at exact positions. The check runs on what is about to be written,
so it also catches a writer or a future change that adds something.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from audit.redaction import Bundle, minimum_count, share_rule
from layers.catalogue import kind as get_kind
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.i18n import _, ngettext


def _precision(form: str) -> str:
    return {
        "features": _("exact positions"),
        "hex_counts": _("counts per hexagonal cell"),
        "geomasked": _("positions moved 50–150 m"),
        "banded": _("numbers as classes"),
        "table": _("table, no positions"),
        "cells": _("risk index per hexagonal cell"),
        "sites": _("campaign sites"),
        "circles": _("walking-distance circles"),
        "gaps": _("areas and cells"),
        "counts": _("counts, no positions"),
    }.get(form, form)


class DisclosureError(LanternError):
    """An export failed the disclosure check; nothing was written."""


@dataclass
class Disclosure:
    profile: str
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """What will leave, in the reader's words: each layer, its precision and its fields by their labels."""
        lines = [_("Profile: {p}").format(p=profile_label(self.profile))]
        for r in self.rows:
            fields = ", ".join(field_label(r["layer"], f) for f in r["fields"]) or "—"
            lines.append(f"- {r['label']}: {r['features']} · {r['precision']} · {fields}")
        return "\n".join(lines)


def profile_label(profile: str) -> str:
    """An audience's name in the current language."""
    return {"public": _("public"), "partner": _("partner"), "police": _("police liaison")}.get(profile, profile)


def field_label(layer: str, column: str) -> str:
    """A column's label from the layer catalogue; columns of derived results keep a readable name."""
    if layer in layer_kinds() and column in get_kind(layer).field_names:
        return get_kind(layer).field(column).label
    if layer == "local_actors":
        from audit.actor_checks import FIELD_LABELS
        from audit.actor_checks import field_label as actor_label

        if column in FIELD_LABELS:
            return actor_label(column)
    return {"name": _("Name"), "category": _("Category"), "count": _("Count"), "rank": _("Rank"),
            "risk": _("Risk index"), "class": _("Class"), "cell": _("Cell"), "cell_id": _("Cell"),
            "question_id": _("Question"), "answer_text": _("Answer"), "answer_number": _("Number"),
            "source_institution": _("Source institution"), "answered_on": _("Date of answer"),
            "confidence": _("Confidence"), "goal": _("Goal"), "action": _("Action"), "actors": _("Actors"),
            "status": _("Status"), "due_date": _("Due date"), "responsible": _("Responsible")}.get(column, column)


def _count_problems(name: str, frame, column: str, minimum: int, allow_zero: bool) -> list[str]:
    values = frame[column]
    if values.isna().any():
        return [_("{layer}: a cell is published without its count").format(layer=name)]
    small = values[(values < minimum) & ~((values == 0) & allow_zero)]
    if len(small):
        return [_("{layer}: a count below {n} would be published").format(layer=name, n=minimum)]
    return []


def _rare_combinations(name: str, frame, columns: list[str], minimum: int) -> list[str]:
    if not columns or len(frame) == 0:
        return []
    shown = frame[columns].dropna(how="all")
    combos = shown.astype("string").fillna("").agg("\x1f".join, axis=1).value_counts()
    if (combos < minimum).any():
        return [ngettext("{layer}: a masked row carries values fewer than {n} row shares",
                         "{layer}: a masked row carries values fewer than {n} rows share", minimum).format(
            layer=name, n=minimum)]
    return []


def _layer_problems(name: str, layer, profile: str, minimum: int) -> list[str]:
    rule = share_rule(name, profile)
    if rule is None:
        return [_("{layer}: not on the allow-list of the {p} profile").format(layer=name, p=profile)]
    problems = []
    if layer.form != rule["form"]:
        problems.append(_("{layer}: may leave a {p} export only as {form}").format(layer=name, p=profile,
                                                                                  form=rule["form"]))
    columns = [c for c in layer.frame.columns if c != "geometry"]
    for column in columns:
        if column not in rule["fields"]:
            problems.append(_("{layer}.{field}: the field is not on the allow-list of the {p} profile").format(
                layer=name, field=column, p=profile))
    if profile == "police":
        return problems
    if "count" in columns and rule["form"] in ("hex_counts", "counts"):
        problems += _count_problems(name, layer.frame, "count", minimum, allow_zero=False)
    if "cases" in columns:
        problems += _count_problems(name, layer.frame, "cases", minimum, allow_zero=True)
    if rule["form"] == "geomasked":
        problems += _rare_combinations(name, layer.frame, columns, minimum)
    for source in layer.sources:
        source_rule = share_rule(source, profile)
        if source_rule is None or source_rule["form"] != "features":
            problems.append(_("{layer}: holds places from {source}, which a {p} export may not show exactly").format(
                layer=name, source=source, p=profile))
    return problems


def disclose(bundle: Bundle) -> Disclosure:
    minimum = minimum_count()
    result = Disclosure(bundle.profile)
    for name, layer in bundle.layers.items():
        columns = [c for c in layer.frame.columns if c != "geometry"]
        result.rows.append({"layer": name, "label": layer.label, "features": len(layer.frame), "fields": columns,
                            "precision": _precision(layer.form), "form": layer.form})
        result.problems += _layer_problems(name, layer, bundle.profile, minimum)
    return result


def require(bundle: Bundle) -> Disclosure:
    """Run the check; raise DisclosureError naming every problem."""
    result = disclose(bundle)
    if not result.ok:
        raise DisclosureError(_("The disclosure check stopped the export:") + "\n" + "\n".join(result.problems))
    return result
