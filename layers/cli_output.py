"""Where a command's words go: the terminal (default), nowhere (``--quiet``) or one JSON document (``--json``).

The commands in ``main.py`` still say their own sentences; :class:`Output` decides whether they are shown, and the
``*_result`` functions turn what the library returned into plain JSON values: keys in English, numbers as numbers in
every language (the human text keeps its localised decimal commas). They read the library's result objects by
their attributes only, so this module imports nothing above ``layers``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import sys
from pathlib import Path

MODES = ("text", "quiet", "json")


class Output:
    """One command run's output mode; ``document`` is the JSON result it builds."""

    def __init__(self, mode: str = "text"):
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.document: dict = {}
        self.notices: list[str] = []

    @property
    def quiet(self) -> bool:
        return self.mode == "quiet"

    @property
    def json(self) -> bool:
        return self.mode == "json"

    def say(self, text: str) -> None:
        """A line of the result, for a person: stdout, only in text mode."""
        if self.mode == "text":
            print(text)

    def warn(self, text: str) -> None:
        """An error or a failed check: stderr in every mode."""
        print(text, file=sys.stderr)

    def inform(self, text: str) -> None:
        """Context for a person that is not the result (notes, lines beside a failure): stderr, not when quiet."""
        if not self.quiet:
            print(text, file=sys.stderr)

    def notice(self, raw: str, text: str) -> None:
        """A notice (``raw``) shown as ``text`` on stderr; with --json also listed under "notices"."""
        self.inform(text)
        if self.json:
            self.notices.append(raw)

    def result(self, **values) -> None:
        self.document.update(values)

    def error(self, message: str, details: list[str]) -> None:
        """With --json the whole document becomes the error (the person's message goes to stderr as well)."""
        self.document = {"error": message, **({"details": details} if details else {})}

    @contextlib.contextmanager
    def running(self):
        """While a command runs, stray writes to stdout (a library's print) never reach a --json or --quiet stdout."""
        if self.mode == "text":
            yield
            return
        sink = sys.stderr if self.json else io.StringIO()
        with contextlib.redirect_stdout(sink):
            yield

    def emit(self) -> None:
        """Write the JSON document on stdout, as UTF-8 (whatever the terminal's encoding), when --json."""
        if not self.json:
            return
        document = dict(self.document)
        if self.notices:  # e.g. "opened read-only", which may also explain an error
            document["notices"] = list(self.notices)
        write_utf8(sys.stdout, dumps(document) + "\n")


def dumps(document) -> str:
    return json.dumps(jsonable(document), ensure_ascii=False, allow_nan=False)


def write_utf8(stream, text: str) -> None:
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def jsonable(value):
    """``value`` as plain JSON values: numpy and pandas scalars unwrapped, NaN/∞ and NA as null, paths as text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# -- the library's results as JSON values ----------------------------------------------------------------------


def _lonlat(point) -> dict:
    return {"lon": round(float(point.x), 6), "lat": round(float(point.y), 6)}


def import_result(report, workspace) -> dict:
    """An ``ImportReport``: counts, the fields kept or dropped, the rows skipped (with --skip-invalid)."""
    return {"source": str(report.source), "workspace": str(workspace), "layer": report.kind_id,
            "imported": report.count, "skipped": len(report.skipped), "repaired": report.repaired,
            "skipped_rows": [{"row": row, "reason": reason} for row, reason in report.skipped],
            "skipped_file": report.skipped_file, "extra_fields": list(report.extra_fields),
            "ignored_fields": list(report.ignored_fields), "import_notices": list(report.notices)}


def osm_result(report, workspace) -> dict:
    """An ``OsmReport``: places per layer, what the extract's edge or the boundary cut."""
    return {"source": str(report.source), "workspace": str(workspace), "places": report.places,
            "counts": dict(sorted(report.counts.items())), "skipped": report.skipped, "clipped": report.clipped,
            "outside": report.outside, "repaired": report.repaired, "seconds": round(report.seconds, 2)}


def check_result(workspace, result) -> dict:
    """A ``CheckResult``: ok, the problems, the outside edits and the signed history's length and signers."""
    return {"workspace": str(workspace), "ok": result.ok, "problems": list(result.problems),
            "outside_edits": len(result.outside_edits), "log_entries": result.entries,
            "outside_edit_rows": [{"table": e.table, "row": e.row_id, "change": e.kind} for e in result.outside_edits],
            "head": result.head, "fingerprint": result.fingerprint, "signers": list(result.signers),
            "notes": list(result.notes), "recovered": bool(result.recovered)}


def plan_result(plan, files) -> dict:
    """An ``OutreachPlan``: the ranked sites with their positions, the share covered and the bound behind the gap."""
    chosen = plan.plan
    sites = []
    for record, point in zip(plan.sites.drop(columns="geometry").to_dict("records"), plan.sites.geometry):
        site = {"rank": record["rank"], "name": record["name"], "category": record["category"],
                "category_id": plan.candidates["category"].iloc[record["candidate"]], "reason": record["reason"],
                **_lonlat(point)}
        site.update({k: v for k, v in record.items() if k not in site and k != "candidate"})  # an internal index
        sites.append(site)
    return {"sites": sites, "quality": plan.quality_text(), "share": chosen.share, "gap": chosen.gap,
            "covered": chosen.covered, "total": chosen.total, "bound": chosen.bound,
            "bound_source": chosen.bound_source, "proven_optimal": chosen.proven_optimal, "method": chosen.method,
            "profile": plan.params.profile, "radius_m": plan.params.radius, "files": [str(f) for f in files]}


def disclosure_result(disclosure) -> dict:
    """A ``Disclosure``: per layer what leaves, in what form, with which fields."""
    return {"profile": disclosure.profile, "layers": [
        {"layer": r["layer"], "label": r["label"], "features": r["features"], "form": r.get("form"),
         "precision": r["precision"], "fields": list(r["fields"])} for r in disclosure.rows]}


def gaps_result(gaps, distance: float) -> dict:
    """``service_gaps``' frame: each area or cell, its position and how far the nearest suitable service is."""
    rows = []
    points = gaps.geometry.representative_point() if len(gaps) else []
    for what, name, risk, nearest, point in zip(gaps["what"], gaps["name"], gaps["risk"], gaps["nearest_m"], points):
        risk = jsonable(risk)
        rows.append({"type": "risk_area" if risk is None else "risk_cell", "what": what, "name": name,
                     "risk": risk, "nearest_m": jsonable(nearest), **_lonlat(point)})
    return {"distance_m": distance, "gaps": rows}
