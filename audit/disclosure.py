"""The disclosure check: what will leave, and automatic checks that stop an export that would leak."""
from __future__ import annotations

from dataclasses import dataclass, field

from audit.redaction import Bundle, field_level, is_free_text, layer_level, rank
from layers.errors import LanternError
from layers.i18n import _
from layers.resources import load_json

_DERIVED = {"cell", "count", "count_label", "estimate_class", "risk_level", "geometry"}
_PRECISION = {
    "features": _("exact positions"),
    "hex_counts": _("counts per hexagonal cell"),
    "geomasked": _("positions moved 50–150 m"),
    "banded": _("numbers as classes"),
    "table": _("table, no positions"),
}


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
        lines = [_("Profile: {p}").format(p=self.profile)]
        for r in self.rows:
            lines.append(f"- {r['label']}: {r['features']} · {r['precision']} · " + (", ".join(r["fields"]) or "—"))
        return "\n".join(lines)


def disclose(bundle: Bundle) -> Disclosure:
    minimum = load_json("sensitivity.json")["hex_counts"]["minimum"]
    result = Disclosure(bundle.profile)
    profile_rank = rank(bundle.profile)
    for name, layer in bundle.layers.items():
        columns = [c for c in layer.frame.columns if c != "geometry"]
        result.rows.append({"layer": name, "label": layer.label, "features": len(layer.frame), "fields": columns,
                            "precision": _PRECISION.get(layer.form, layer.form), "form": layer.form})
        if layer_level(name) == "confidential":
            result.problems.append(_("{layer}: confidential data may not leave the workspace").format(layer=name))
        if layer.form == "features" and rank(layer_level(name)) > profile_rank:
            result.problems.append(_("{layer}: the layer is above the {p} level").format(layer=name, p=bundle.profile))
        if layer.form == "hex_counts":
            counts = layer.frame["count"].dropna().tolist()
            if any(int(c) < minimum for c in counts):
                result.problems.append(_("{layer}: a cell shows a count below {n}").format(layer=name, n=minimum))
        for column in columns:
            if column in _DERIVED and layer.form != "features":
                continue
            if rank(field_level(name, column)) > profile_rank and column not in _DERIVED:
                result.problems.append(_("{layer}.{field}: the field is above the {p} level").format(
                    layer=name, field=column, p=bundle.profile))
            if bundle.profile != "police" and is_free_text(name, column):
                result.problems.append(_("{layer}.{field}: free text may not go into a {p} export").format(
                    layer=name, field=column, p=bundle.profile))
    if bundle.profile == "public" and any(n == "reported_cases" and l.form == "features"
                                          for n, l in bundle.layers.items()):
        result.problems.append(_("reported cases may not go into a public export"))
    return result


def require(bundle: Bundle) -> Disclosure:
    """Run the check; raise DisclosureError naming every problem."""
    result = disclose(bundle)
    if not result.ok:
        raise DisclosureError(_("The disclosure check stopped the export:") + "\n" + "\n".join(result.problems))
    return result
