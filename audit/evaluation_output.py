"""A campaign's evaluation in words and as files: the lines the command line prints and the window shows, and the
table written as CSV (UTF-8 with BOM, the chosen dialect) beside a JSON twin with the caveats.

Everything here reads an ``audit.evaluation.Evaluation``, which holds only what its profile may see."""
from __future__ import annotations

import json
import re
from pathlib import Path

from audit.evaluation import CELLS, Evaluation, Outcome, ratio_text, shown_count
from layers.errors import LanternError
from layers.i18n import _


def before_after(o: Outcome, floor: int) -> tuple[str, str]:
    """'12 → 20' in the catchment and in the comparison area ('<5' for a suppressed count)."""
    s = {k: shown_count(o.shown[k], floor) for k in CELLS}
    return (f"{s['catchment_before']} → {s['catchment_after']}",
            f"{s['comparison_before']} → {s['comparison_after']}")


def counts_text(o: Outcome, floor: int) -> str:
    s = {k: shown_count(o.shown[k], floor) for k in CELLS}
    return _("catchment {a0} → {a1}, comparison area {b0} → {b1}").format(
        a0=s["catchment_before"], a1=s["catchment_after"], b0=s["comparison_before"], b1=s["comparison_after"])


def outcome_line(o: Outcome, floor: int) -> str:
    """'Reported cases: catchment 12 → 20, comparison area 40 → 41; ratio 1,6 (0,8–3,2). No clear …'"""
    ratio = ratio_text(o.estimate)
    text = f"{o.label}: {counts_text(o, floor)}"
    if ratio:
        text += "; " + _("ratio {ratio}").format(ratio=ratio)
    return f"{text}. {o.verdict(floor)}"


def lines(e: Evaluation) -> list[str]:
    """The evaluation as a person reads it: a heading, one line per outcome, then the caveats."""
    c = e.campaign
    head = f"{c.name} ({c.starts.isoformat()} – {c.ends.isoformat()})"
    return [head, *(outcome_line(o, e.floor) for o in e.outcomes), *(f"- {text}" for text in e.caveats)]


def _slug(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name, flags=re.UNICODE).strip("_")[:40] or "campaign"


def file_names(e: Evaluation) -> tuple[str, str]:
    stem = f"evaluation_{e.campaign.id}_{_slug(e.campaign.name)}"
    return f"{stem}.csv", f"{stem}.json"


def write_evaluation(e: Evaluation, out_dir: str | Path, overwrite: bool = False,
                     dialect: str | None = None) -> list[Path]:
    """Write the table (CSV) and the whole evaluation (JSON) into ``out_dir``; refuses to replace files unless
    ``overwrite``. Returns the two paths."""
    from layers.spreadsheet import csv_writer

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in file_names(e)]
    existing = [p.name for p in paths if p.exists()]
    if existing and not overwrite:
        raise LanternError(_("{files} exists in {folder}; nothing was written (use --overwrite to replace it)")
                           .format(files=", ".join(existing), folder=folder))
    header = ["outcome", "label", *CELLS, "ratio", "low", "high", "status", "small_numbers", "verdict"]
    with csv_writer(paths[0], dialect) as write:
        write(header)
        for row in e.table():
            write([shown_count(row[k], e.floor) if k in CELLS else row[k] for k in header])
    paths[1].write_text(json.dumps(_jsonable(e.to_dict()), ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def _jsonable(value):
    """Infinite interval ends (a zero count) as null: JSON has no infinity."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
