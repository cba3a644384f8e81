"""Write a comparison of two audit rounds: CSV tables and a print map (PDF and PNG) of the risk change per cell.

Made like every export for sharing: for one profile, cut to that profile's allow-list (derived ``round_*`` in
``data/sensitivity.json``), held to the disclosure check and to the comparison's own check (no count or change
below the minimum outside police), staged beside the folder and moved in only when every file is written; a
police comparison needs a confirmation and a recipient, is stamped and logged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audit.disclosure import Disclosure, profile_label, require
from audit.export_log import log_export, require_confirmation
from audit.redaction import Bundle, SharedLayer, derived_about, redact, select_fields, share_rule
from audit.round_compare import Comparison, compare, require_published
from layers.catalogue import layer_kinds
from layers.i18n import _, using
from layers.output import staged_folder
from layers.spreadsheet import DEFAULT_DIALECT, csv_writer, dialect
from mapping.print_layout import (Block, LegendEntry, PrintDocument, furnish, legend, metric_bounds, paragraph,
                                  set_view)
from mapping.print_style import BASEMAP_PRINT, plot_basemap
from mapping.round_change import (CHANGE_COLORS, CHANGE_TEXT, ChangeSurface, cell_summary, change_color,
                                  change_surface, class_counts)

#: file name -> the derived result it holds
TABLES = {"places.csv": "round_places", "drivers.csv": "round_drivers", "estimates.csv": "round_estimates",
          "estimate_areas.csv": "round_estimate_areas", "indicators.csv": "round_indicators",
          "cells.csv": "round_change"}
MAPS = ("change_map.pdf", "change_map.png")


@dataclass
class RoundComparison:
    """A comparison and its change surface, for one profile (what the window shows and the export writes)."""

    comparison: Comparison
    surface: ChangeSurface

    @property
    def profile(self) -> str:
        return self.comparison.profile


def compute(ws, first, second, profile: str = "public", cell_size: float = 250.0, progress=None,
            cancelled=None) -> RoundComparison:
    """Compare the rounds and their risk surfaces for ``profile`` (reads only; a worker may run it)."""
    say = progress or (lambda f, m: None)
    say(0.02, _("Comparing places, estimates and indicators"))
    comparison = compare(ws, first, second, profile)
    surface = change_surface(ws, comparison.first, comparison.second, profile, cell_size,
                             progress=lambda f, m: say(0.1 + 0.8 * f, m), cancelled=cancelled)
    return RoundComparison(comparison, surface)


def _table(name: str, rows: list[dict], profile: str, label: str) -> SharedLayer | None:
    import pandas as pd

    rule = share_rule(name, profile)
    if rule is None:
        return None
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*rule["fields"], *(k for r in rows for k in r)])),
                         dtype=object)
    return SharedLayer(name, label, select_fields(frame, rule["fields"]), profile, rule["form"], derived_about(name))


def comparison_bundle(ws, result: RoundComparison) -> Bundle:
    """The basemap and the comparison's tables and cells, cut to the profile's allow-list."""
    c, profile = result.comparison, result.profile
    bundle = redact(ws, profile, only=[k for k, kd in layer_kinds().items() if kd.is_basemap])
    tables = (("round_places", c.places, _("Places")), ("round_drivers", c.drivers, _("What drove the change")),
              ("round_estimates", c.estimates, _("Risk-group estimates")),
              ("round_estimate_areas", c.estimate_areas, _("Estimates per area")),
              ("round_indicators", c.indicators, _("Indicators")))
    for name, rows, label in tables:
        layer = _table(name, rows, profile, label)
        if layer is not None:
            bundle.add(layer)
    cells = select_fields(result.surface.to_wgs84(), share_rule("round_change", profile)["fields"])
    bundle.add(SharedLayer("round_change", _("Change of the risk index"), cells, profile, "cells",
                           derived_about("round_change")))
    return bundle


def title(result: RoundComparison) -> str:
    c = result.comparison
    return _("What changed: {a} → {b}").format(a=c.first.name, b=c.second.name)


def write_tables(bundle: Bundle, folder: Path, csv_dialect: str = DEFAULT_DIALECT) -> list[Path]:
    """One CSV per table (UTF-8 with BOM, formulas guarded), each row with the profile's marking; cells with the
    centre of each cell (lon, lat)."""
    written = []
    for file, name in TABLES.items():
        if name not in bundle.layers:
            continue
        frame = bundle.layers[name].frame
        columns = [c for c in frame.columns if c != "geometry"]
        path = folder / file
        with csv_writer(path, csv_dialect) as write:
            write(["marking", *columns, *(["lon", "lat"] if name == "round_change" else [])])
            centres = (frame.geometry.to_crs(bundle.crs).centroid.to_crs(4326) if name == "round_change"
                       else [None] * len(frame))
            for row, centre in zip(frame[columns].itertuples(index=False), centres):
                write([bundle.marking, *row, *([round(centre.x, 6), round(centre.y, 6)] if centre is not None else [])])
        written.append(path)
    return written


def compose_print(bundle: Bundle, result: RoundComparison, paper: str = "a4") -> PrintDocument:
    """The print map: the cells coloured by the change of their risk index, legend with counts, and the
    comparison's notes."""
    from mapping.share_export import print_sheet

    c, metric = result.comparison, result.surface.crs
    subtitle = _("{a} ({da}) → {b} ({db}) · profile: {p}").format(a=c.first.name, da=c.first.dates, b=c.second.name,
                                                                 db=c.second.dates, p=profile_label(c.profile))
    sheet = print_sheet(bundle, title(result), subtitle, method=c.notes + [_method_note()])
    doc = PrintDocument(sheet, paper, "landscape")
    ax = doc.ax
    shown = bundle.layers["round_change"].frame.to_crs(metric)
    boxes = [tuple(shown.total_bounds)] if len(shown) else []
    boxes += [metric_bounds(bundle.bounds, metric)] if bundle.bounds else []  # the whole district, for context
    view = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes)) if boxes else (0, 0, 1000, 1000)
    limits = set_view(ax, view)
    ax.set_autoscale_on(False)
    plot_basemap(ax, {k: bundle.layers[k].frame for k in BASEMAP_PRINT if k in bundle.layers}, metric)
    if len(shown):
        shown.plot(ax=ax, color=[change_color(v) for v in shown["change"]], edgecolor="#7f7f7f", linewidth=0.3,
                   alpha=0.75, zorder=2)
    set_view(ax, limits, pad=0)
    doc.grid = furnish(ax, metric)
    doc.flow([*_legend(shown["change"] if len(shown) else []), *_summary_blocks(result), *paragraph(doc.grid.note())],
             continued=title(result) + " — " + _("continued"))
    return doc


def _legend(changes) -> list[Block]:
    counts = class_counts(changes)
    entries = [LegendEntry(f"{_(text)}: {n}", color, "patch", "#7f7f7f", alpha=0.75)
               for text, color, n in zip(CHANGE_TEXT, CHANGE_COLORS, counts)]
    return legend(_("Change of the risk index (cells)"), list(reversed(entries)))


def _summary_blocks(result: RoundComparison) -> list[Block]:
    from collections import Counter

    from audit.round_compare import STATUSES, status_label

    c = result.comparison
    if c.profile == "police":
        counts = Counter(r["status"] for r in c.places)
        pairs = [(s, counts.get(s, 0)) for s in STATUSES]
    else:
        pairs = [(r["status"], r["count"]) for r in c.places]
    lines = [f"{status_label(s)}: " + (str(n) if n is not None else _("fewer than {k}").format(k=_minimum()))
             for s, n in pairs]
    summary = cell_summary(result.surface.cells)
    lines.append(_("Cells: {rose} rose, {fell} fell, {same} changed by less than 5").format(
        rose=summary["rose"], fell=summary["fell"], same=summary["little_change"]))
    return [Block("heading", _("Places"), size=8.5), *(Block("text", line, size=7.5) for line in lines)]


def _minimum() -> int:
    from audit.redaction import minimum_count

    return minimum_count()


def _method_note() -> str:
    return _("Each round's risk index is computed like the risk surface, from that round's estimates and annotated "
             "places only, and both rounds are scaled together; the change is the later index minus the earlier.")


def export_comparison(ws, first, second, out_dir: str | Path, profile: str = "public", *, lang: str | None = None,
                      overwrite: bool = False, recipient: str = "", confirm_police: bool = False, author: str = "",
                      csv_dialect: str = DEFAULT_DIALECT, cell_size: float = 250.0, paper: str = "a4",
                      progress=None, result: RoundComparison | None = None) -> tuple[list[Path], Disclosure,
                                                                                      RoundComparison]:
    """Compare two rounds for ``profile`` and write the CSV tables and the print map into ``out_dir``.

    ``result``: a comparison already computed (the window's), else it is computed here. Returns the files,
    the disclosure check and the comparison."""
    say = progress or (lambda f, m: None)
    with using(lang):
        require_confirmation(profile, recipient, confirm_police)
        dialect(csv_dialect)  # an unknown dialect is refused before anything is computed
        if result is None or result.profile != profile:
            result = compute(ws, first, second, profile, cell_size, progress=lambda f, m: say(0.6 * f, m))
        bundle = comparison_bundle(ws, result)
        disclosure = require(bundle)
        require_published(result.comparison)
        out = Path(out_dir)
        with staged_folder(out, ws.path, overwrite) as staged:
            say(0.65, _("Writing the tables"))
            names = [p.name for p in write_tables(bundle, staged.path, csv_dialect)]
            say(0.75, _("Drawing the print map"))
            _render(bundle, result, staged.path, paper)
    files = [out / name for name in [*names, *MAPS]]
    log_export(ws, profile, "round comparison", recipient, author, files)
    say(1.0, _("Export done"))
    return files, disclosure, result


def _render(bundle: Bundle, result: RoundComparison, folder: Path, paper: str) -> None:
    doc = compose_print(bundle, result, paper)
    try:
        doc.save(folder / MAPS[0])
        doc.save(folder / MAPS[1], dpi=110)
    finally:
        doc.close()


def summary_lines(result: RoundComparison) -> list[str]:
    """The comparison in a few lines, for the terminal."""
    from audit.round_compare import change_text, count_text, group_label, status_label

    c = result.comparison
    lines = [f"{c.first.title} → {c.second.title} · " + _("profile: {p}").format(p=profile_label(c.profile))]
    if c.profile == "police":
        from collections import Counter

        counts = Counter(r["status"] for r in c.places)
        lines.append(_("Places: {list}").format(list="; ".join(f"{status_label(s)}: {n}" for s, n in counts.items())))
    else:
        lines.append(_("Places: {list}").format(list="; ".join(f"{status_label(r['status'])}: {count_text(r['count'])}"
                                                              for r in c.places)))
    for r in c.estimates:
        before, after = (r.get("band_from"), r.get("band_to")) if c.profile == "public" else (
            r.get("estimate_from"), r.get("estimate_to"))
        lines.append(_("Estimate, {group}: {a} → {b} ({change})").format(
            group=group_label(r["risk_group"]), a=before if before is not None else "—",
            b=after if after is not None else "—", change=change_text(r)))
    for r in c.indicators[:8]:
        lines.append(_("Indicator, {text}: {a} → {b} places ({change})").format(
            text=r["wording"], a=count_text(r["places_from"]), b=count_text(r["places_to"]), change=change_text(r)))
    summary = cell_summary(result.surface.cells)
    lines.append(_("Cells: {rose} rose, {fell} fell, {same} changed by less than 5").format(
        rose=summary["rose"], fell=summary["fell"], same=summary["little_change"]))
    return lines
