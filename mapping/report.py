"""The district report: one PDF (and an HTML twin) a council meeting can read.

Title page, maps (places of concern, risk surface, services and gaps),
tables (progress since the previous audit round, risk-group estimates,
indicators observed by place type, services by assistance type, gaps),
questionnaire status, campaigns and their evaluation, the local actor network
and its training, the action plan with what is overdue, sources and methods. It is one more format of the sharing export
(``mapping.share_export.export(..., fmt="report")``): its writers read only
the redacted bundle, so a public report holds no case positions, notes,
authors or small counts, and a police report is confirmed, stamped and logged.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import tempfile
from collections import Counter
from pathlib import Path

from audit.redaction import Bundle, SharedLayer, derived_about, minimum_count, select_fields, share_rule
from layers.i18n import SUPPORTED, _, label, language, ngettext, using
from layers.values import is_missing, stored_ids
from audit.gaps import GAP_DISTANCE
from mapping.features import marking_color, styles, text_color
from mapping.print_style import BASEMAP_PRINT, plot_basemap

def _texts() -> dict[str, str]:
    """The report's headings and fixed lines in the current language (write_report switches to the report's)."""
    return {"title": _("Situation assessment report"), "maps": _("Maps"), "places": _("Places of concern"),
            "surface": _("Risk surface"), "services": _("Services and gaps"), "estimates": _("Risk-group estimates"),
            "indicators": _("Indicators observed, by place type"), "by_assistance": _("Services by assistance type"),
            "gaps": _("Service gaps"), "questionnaire": _("Assessment questionnaire"), "plan": _("Action plan"),
            "sources": _("Data sources and dates"), "method": _("Method notes"), "group": _("Risk group"),
            "number": _("Number"), "source": _("Source"), "date": _("Date"), "confidence": _("Confidence"),
            "place_type": _("Place type"), "indicator": _("Indicator"), "count": _("Count"),
            "assistance": _("Assistance"), "n_services": _("Services"), "what": _("What"), "name": _("Name"),
            "nearest": _("Nearest suitable service (m)"), "where": _("Grid square"), "section": _("Section"),
            "answered": _("Answered"),
            "goal": _("Goal"), "action": _("Action"), "actors": _("Actors"), "status": _("Status"), "due": _("Due"),
            "layer": _("Layer"), "answer": _("Answer"), "question": _("Question"), "none": _("None recorded."),
            "answers": _("Answers"), "vulnerability": _("Personal vulnerability factors"),
            "factor": _("Vulnerability factor"), "seen_in": _("Seen in (risk groups)"),
            "origin": _("By origin"),
            "progress": _("Progress since the previous round"), "campaigns": _("Campaigns and their evaluation"),
            "actors_network": _("The local actor network"), "before": _("Previous round"),
            "after": _("Latest round"), "change": _("Change"), "campaign": _("Campaign"), "reach": _("Reach"),
            "outcome": _("Outcome"), "ratio": _("Rate ratio (95 % interval)"), "verdict": _("What it shows"),
            "sector": _("Sector"), "n_actors": _("Actors"), "trained": _("Trained staff"),
            "renewals": _("Agreements to renew"), "overdue": _("Overdue"),
            "gap_note": _("Areas and cells with no service offering crisis intervention within {d} m."),
            "synthetic": _("Contains synthetic demo data.")}


def _label(entry: dict, lang: str) -> str:
    return label(entry, lang)


def _indicator_counts(workspace, profile: str):
    """At how many distinct places each indicator was observed, by place type.

    Places, not annotations: five visits to one place are one place. Below
    the minimum the row is dropped outside police output.
    """
    import pandas as pd

    from audit.catalogue import place_type_of

    places: dict = {}
    frames = {}
    for row in workspace.read_table("annotations").to_dict("records"):
        table = row["place_table"]
        if table not in frames:  # each place layer read once, not once per annotation
            frames[table] = workspace.read_layer(table).drop(columns="geometry")
        frame = frames[table]
        record = frame.loc[row["place_fid"]].to_dict() if row["place_fid"] in frame.index else {}
        ptype = place_type_of(row["place_table"], record)
        for ind in stored_ids(row["indicators"]):
            places.setdefault((ptype, ind), set()).add((row["place_table"], row["place_fid"]))
    floor = 1 if profile == "police" else minimum_count()
    counts = Counter({key: len(seen) for key, seen in places.items()})
    rows = [{"place_type": p, "indicator": i, "count": n}
            for (p, i), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= floor]
    return pd.DataFrame(rows, columns=["place_type", "indicator", "count"])


def _sources_table(workspace, bundle: Bundle):
    """Layers, their last change and (police only) their source; outside police only layers shown exactly."""
    import pandas as pd

    from audit.redaction import exact_tables

    shown = list(bundle.layers) if bundle.profile == "police" else exact_tables(bundle.profile)
    info = workspace.read_table("layer_info")
    info = info[info["table_name"].isin(shown) & ~info["table_name"].str.startswith("basemap")]
    return pd.DataFrame({"layer": info["table_name"], "source": info["source"].fillna(""),
                         "updated": info["updated"].fillna("").str[:10]}).reset_index(drop=True)


def add_report_parts(bundle: Bundle, workspace) -> None:
    """Add what the report shows beyond the layers: risk surface, service gaps, indicator counts, progress, sources.

    Each is computed for the bundle's profile (small counts suppressed before
    anything is derived from them) and cut to that profile's allow-list; the
    report's writers then read only the bundle.
    """
    import pandas as pd

    from audit.assessment import progress, vulnerability_summary
    from audit.gaps import service_gaps
    from mapping.risk_surface import SurfaceParams, compute

    profile = bundle.profile

    def add(name, label, frame, form):
        fields = share_rule(name, profile)["fields"]
        bundle.add(SharedLayer(name, label, select_fields(frame, fields), profile, form, derived_about(name)))

    surface = compute(workspace, SurfaceParams(profile=profile))
    add("risk_surface", _("Risk surface"), surface.cells.to_crs(4326), "cells")
    services = bundle.layers["services"].frame if "services" in bundle.layers else workspace.read_layer("services").iloc[:0]
    areas = bundle.layers["risk_areas"].frame if "risk_areas" in bundle.layers else None
    roads = bundle.layers["basemap_roads"].frame if "basemap_roads" in bundle.layers else None
    gaps = service_gaps(services, areas, surface.cells, GAP_DISTANCE, assistance="crisis_intervention", streets=roads)
    add("service_gaps", _("Service gaps"), gaps, "gaps")
    add("indicator_counts", _("Indicators observed"), _indicator_counts(workspace, profile), "counts")
    add("questionnaire", _("Questionnaire progress"), pd.DataFrame(progress(workspace)), "table")
    factors = [{"factor": f["id"], "groups": "; ".join(f["groups"]), "n_groups": f["count"]}
               for f in vulnerability_summary(workspace, language())]
    add("vulnerability_factors", _("Personal vulnerability factors"),
        pd.DataFrame(factors, columns=["factor", "groups", "n_groups"]), "table")
    add("sources", _("Data sources"), _sources_table(workspace, bundle), "table")
    _add_over_time(add, workspace, profile)


def _add_over_time(add, workspace, profile: str) -> None:
    """The story over time (mapping.report_over_time): each part cut for the profile by its own rules."""
    import pandas as pd

    from mapping import report_over_time as over_time

    for name, label, rows, columns in (
            ("report_progress", _("Progress since the previous round"), over_time.progress_rows(workspace, profile),
             ["what", "before", "after", "change"]),
            ("report_campaigns", _("Campaigns and their evaluation"), over_time.campaign_rows(workspace, profile),
             ["campaign", "reach", "outcome", "ratio", "verdict"]),
            ("report_actors", _("The local actor network"), over_time.actor_rows(workspace, profile),
             ["sector", "actors", "trained", "renewals"])):
        add(name, label, pd.DataFrame(rows, columns=columns), "table")


def _frame(bundle: Bundle, name: str):
    layer = bundle.layers.get(name)
    return None if layer is None else layer.frame


MAP_SIZE = (180 / 25.4, 236 / 25.4)  # inches: one map a page, in the page's frame under its heading


def _maps(bundle: Bundle, folder: Path, lang: str) -> tuple[dict[str, Path], object]:
    """The three maps in the one print layout, on one extent and one grid; returns their PNGs and the grid
    (the gaps table names its rows by it)."""
    from mapping.risk_surface import SurfaceParams, method_text

    t = _texts()
    out, grid = {}, None
    places = bundle.layers.get("places_of_concern")
    services = bundle.layers.get("services")
    maps = {
        "places": ([places] if places is not None else [], [places.note] if places is not None and places.note else []),
        "surface": ([bundle.layers["risk_surface"]], [method_text(SurfaceParams(profile=bundle.profile))]),
        "services": ([bundle.layers["service_gaps"], *([services] if services is not None else [])],
                     [t["gap_note"].format(d=GAP_DISTANCE)]),
    }
    for key, (layers, method) in maps.items():
        doc = _report_map(bundle, t[key], layers, method)
        try:
            out[key] = doc.save(folder / f"{key}.png", dpi=130)
            grid = doc.grid
        finally:
            doc.close()
    return out, grid


def _report_map(bundle: Bundle, title: str, layers: list, method: list[str]):
    """One report map: the basemap, ``layers`` with their legend, grid, scale bar and north arrow."""
    from mapping.print_layout import PrintDocument, metric_bounds, set_view
    from mapping.share_export import draw_map, print_sheet

    sheet = print_sheet(bundle, title, bundle.workspace_name, method=method)
    doc = PrintDocument(sheet, size=MAP_SIZE)
    ax, crs = doc.ax, bundle.crs
    limits = set_view(ax, metric_bounds(bundle.bounds, crs)) if bundle.bounds is not None else None
    ax.set_autoscale_on(False)
    plot_basemap(ax, {k: bundle.layers[k].frame for k in BASEMAP_PRINT if k in bundle.layers}, crs)
    return draw_map(doc, layers, crs, limits)


def _confidence_labels(lang: str) -> dict[str, str]:
    from audit.catalogue import confidence_levels

    return {c["id"]: _label(c, lang) for c in confidence_levels()}


def _estimates_table(bundle: Bundle, lang: str, groups: dict):
    """Estimates as the profile receives them: bands (public), numbers (partner), and breakdowns by origin (police)."""
    from audit.estimates import format_origin_breakdown

    t = _texts()
    frame = _frame(bundle, "risk_group_estimates")
    if frame is None:
        return None
    conf_label = _confidence_labels(lang)
    header = [t["group"], t["number"], t["source"], t["date"], t["confidence"]]
    records = frame.drop(columns="geometry", errors="ignore").to_dict("records")
    rows = []
    for r in records:
        number = r["estimate_class"] if "estimate_class" in r else str(r["estimate"])
        source = "—" if "estimate_class" in r else (r.get("source_institution") or "")
        rows.append([groups.get(r["risk_group"], r["risk_group"]), number, source, r["estimated_on"] or "",
                     conf_label.get(r["confidence"], r["confidence"] or "")])
    if "origin_breakdown" in frame.columns:  # police only (data/sensitivity.json)
        header.insert(2, t["origin"])
        for row, r in zip(rows, records):
            row.insert(2, format_origin_breakdown(r.get("origin_breakdown")) or "—")
    return header, rows


def _answers_table(bundle: Bundle, lang: str):
    """Answers as the allow-list lets them out: numbers for public and partner, texts and sources for police.

    In the questionnaire's order, each question after its section (the same question is asked of several groups).
    """
    from audit.assessment import display_value, questions, sections

    t = _texts()
    frame = _frame(bundle, "assessment_answers")
    if frame is None:
        return None
    qs = questions()
    titles = {s["id"]: _label(s, lang) for s in sections(legacy=True)}
    order = {qid: k for k, qid in enumerate(qs)}
    rows = []
    for a in sorted(frame.to_dict("records"), key=lambda a: order.get(a["question_id"], len(order))):
        row = {k: (None if is_missing(v) else v) for k, v in a.items()}
        question = qs.get(a["question_id"])
        value = display_value(question, row, lang) if question else (row.get("answer_text") or "")
        if value:
            asked = f"{titles[question['section']]}: {_label(question, lang)}" if question else a["question_id"]
            rows.append([asked, value, row.get("source_institution") or "", row.get("answered_on") or ""])
    return [t["question"], t["answer"], t["source"], t["date"]], rows


def _vulnerability_table(bundle: Bundle, lang: str):
    """The personal vulnerability factors (in the guidelines' order) and the risk groups the audit saw them in."""
    from audit.assessment import vulnerability_factors

    t = _texts()
    frame = _frame(bundle, "vulnerability_factors")
    if frame is None:
        return None
    names = {f["id"]: _label(f, lang) for f in vulnerability_factors()}
    rows = [[names.get(r["factor"], r["factor"]), r["groups"] or "—"] for r in frame.to_dict("records")]
    return [t["factor"], t["seen_in"]], rows


def _plan_table(bundle: Bundle, lang: str):
    """The action plan in ``lang``: catalogue rows in the guidelines' words, edited rows as written."""
    from audit.assessment import plan_item_text, plan_status_label

    t = _texts()
    plan = _frame(bundle, "action_plan")
    if plan is None:
        return None
    rows = []
    today = dt.date.today().isoformat()
    for r in plan.fillna("").to_dict("records"):
        text = plan_item_text(r, lang)
        due = str(r.get("due_date") or "")[:10]
        overdue = bool(due) and due < today and r.get("status") not in ("done", "dropped")
        rows.append([text["goal"], text["action"], text["actors"], plan_status_label(r.get("status"), lang),
                     f"{due} — {t['overdue']}" if overdue else due])
    return [t["goal"], t["action"], t["actors"], t["status"], t["due"]], rows


def _indicator_table(bundle: Bundle, lang: str):
    from audit.catalogue import indicators, place_types

    t = _texts()
    types = {p["id"]: _label(p, lang) for p in place_types()}
    catalogue = indicators()
    counts = bundle.layers["indicator_counts"].frame
    return ([t["place_type"], t["indicator"], t["count"]],
            [[types.get(p, p), catalogue[i].lv if lang == "lv" else catalogue[i].en, str(n)]
             for p, i, n in zip(counts["place_type"], counts["indicator"], counts["count"]) if i in catalogue][:25])


def _assistance_table(bundle: Bundle, lang: str):
    from layers.catalogue import kind as get_kind

    t = _texts()
    services = _frame(bundle, "services")
    if services is None:
        return None
    rows = []
    for c in get_kind("services").field("assistance").choices:
        names = [n for n, a in zip(services["name"], services["assistance"]) if c.id in stored_ids(a)]
        rows.append([c.lv if lang == "lv" else c.en, str(len(names)),
                     ", ".join(names[:4]) + (" …" if len(names) > 4 else "")])
    return [t["assistance"], t["n_services"], t["name"]], rows


MAX_GAP_ROWS = 30


def _gaps_table(bundle: Bundle, grid):
    """Gaps by where a reader finds them: the grid square printed on the report's maps, and a name (a risk
    area's own, or the nearest street of a cell); the largest risk first, then a line for any not listed."""
    t = _texts()
    gaps = bundle.layers["service_gaps"].frame
    if "risk" in gaps.columns:
        gaps = gaps.sort_values("risk", ascending=False, na_position="first")
    squares = ["—"] * len(gaps)
    if grid is not None and len(gaps):
        points = gaps.geometry.representative_point().to_crs(bundle.crs)
        squares = [grid.label(p.x, p.y) for p in points]
    rows = [[w, sq, n, "∞" if d == float("inf") else f"{d:.0f}"] for w, sq, n, d in
            zip(gaps["what"], squares, gaps["name"], gaps["nearest_m"])]
    if len(rows) > MAX_GAP_ROWS:
        more = len(rows) - MAX_GAP_ROWS
        rest = ngettext("… and {n} more", "… and {n} more", more).format(n=more)
        rows = [*rows[:MAX_GAP_ROWS], ["", "", rest, ""]]
    return [t["what"], t["where"], t["name"], t["nearest"]], rows


def _tables(bundle: Bundle, lang: str, grid=None) -> dict[str, tuple[list[str], list[list]]]:
    from audit.catalogue import risk_groups

    t = _texts()
    prog = bundle.layers["questionnaire"].frame
    sources = bundle.layers["sources"].frame
    tables = {
        "estimates": _estimates_table(bundle, lang, {g["id"]: _label(g, lang) for g in risk_groups()}),
        "indicators": _indicator_table(bundle, lang),
        "by_assistance": _assistance_table(bundle, lang),
        "gaps": _gaps_table(bundle, grid),
        "questionnaire": ([t["section"], t["answered"]],
                          [[r["lv"] if lang == "lv" else r["en"], f"{r['answered']} / {r['total']}"]
                           for r in prog.to_dict("records")]),
        "answers": _answers_table(bundle, lang),
        "vulnerability": _vulnerability_table(bundle, lang),
        "plan": _plan_table(bundle, lang),
        "progress": _frame_table(bundle, "report_progress", [t["what"], t["before"], t["after"], t["change"]]),
        "campaigns": _frame_table(bundle, "report_campaigns",
                                  [t["campaign"], t["reach"], t["outcome"], t["ratio"], t["verdict"]]),
        "actors_network": _frame_table(bundle, "report_actors",
                                       [t["sector"], t["n_actors"], t["trained"], t["renewals"]]),
        "sources": ([t["layer"], t["source"], t["date"]],
                    [[_layer_name(r["layer"]), source_name(r.get("source")), r["updated"]]
                     for r in sources.to_dict("records")]),
    }
    return {key: table for key, table in tables.items() if table}


def _frame_table(bundle: Bundle, name: str, header: list[str]):
    """A report part that is a table of text already (report_over_time), with its translated header."""
    frame = _frame(bundle, name)
    if frame is None:
        return None
    return header, [[str(v) for v in row] for row in frame.fillna("").itertuples(index=False)]


def _layer_name(table: str) -> str:
    from layers.catalogue import layer_kinds

    kinds = layer_kinds()
    return kinds[table].label if table in kinds else table


def source_name(stored) -> str:
    """A layer's source as a reader sees it: the demo's sources in the current language, others as written.

    Outside police the source is not shared at all ("—")."""
    from audit.demo import SOURCE_NAMES
    from layers.i18n import translations

    if stored is None or is_missing(stored) or stored == "":
        return "—"
    for known, msgid in SOURCE_NAMES.items():
        if stored in (known, *(translations(code).gettext(known) for code in SUPPORTED)):
            return _(msgid)
    return str(stored)


def _method(bundle: Bundle, lang: str) -> list[str]:
    from audit.risk import RiskRules, level_label
    from mapping.risk_surface import SurfaceParams, method_text

    rules = RiskRules.load()
    thresholds = ", ".join(f"{level_label(n)} ≥ {v:g}" for n, v in rules.thresholds)
    lines = [method_text(SurfaceParams(profile=bundle.profile)),
             _("Risk level of a place: Σ indicator weight × confidence × 0.5^(age/{half:.0f} days) over {window:.0f} "
               "days; thresholds {thresholds}.").format(half=rules.half_life_days, window=rules.window_days,
                                                        thresholds=thresholds),
             _("Referral distances are straight lines; walking times assume 5 km/h on a path 1.3 × longer."),
             *bundle.notes]
    return lines


def write_report(bundle: Bundle, pdf: Path, html_path: Path, lang: str = "en") -> tuple[Path, Path]:
    """Write the report from ``bundle`` alone (built by add_report_parts): a PDF and its HTML twin, in ``lang``."""
    if lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}")
    with using(lang), tempfile.TemporaryDirectory() as tmp:
        images, grid = _maps(bundle, Path(tmp), lang)
        tables = _tables(bundle, lang, grid)
        method = _method(bundle, lang)
        _write_pdf(Path(pdf), bundle, images, tables, method, lang)
        _write_html(Path(html_path), bundle, images, tables, method, lang)
    return Path(pdf), Path(html_path)


SECTIONS = [("progress", "progress"), ("estimates", "estimates"), ("indicators", "indicators"),
            ("by_assistance", "by_assistance"), ("gaps", "gaps"), ("questionnaire", "questionnaire"),
            ("answers", "answers"), ("vulnerability", "vulnerability"), ("campaigns", "campaigns"),
            ("actors_network", "actors_network"), ("plan", "plan"), ("sources", "sources")]


def _write_pdf(out, bundle, images, tables, method, lang) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    t = _texts()
    st = _pdf_styles()
    on_page = _pdf_page_marks(bundle)
    story = [*_pdf_cover(bundle, t, st), PageBreak(), *_pdf_maps(images, t, st), *_pdf_sections(tables, t, st),
             *_pdf_method(method, t, st)]
    doc = SimpleDocTemplate(str(out), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=t["title"], author="Lantern",
                            invariant=1)  # no creation time or random id: the same bundle gives the same bytes
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


def _pdf_styles() -> dict:
    """The report's paragraph styles (body, small, h1, h2) in the checklist's font, registered here."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from audit.field_checklist import _font

    pdfmetrics.registerFont(TTFont("LanternSans", _font()))
    body = ParagraphStyle("body", fontName="LanternSans", fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=body, fontSize=20, leading=26, spaceAfter=10)
    h2 = ParagraphStyle("h2", parent=body, fontSize=13, leading=17, spaceBefore=8, spaceAfter=6, keepWithNext=1)
    return {"body": body, "small": small, "h1": h1, "h2": h2}


def _pdf_page_marks(bundle):
    """What every page carries: workspace, date and page number at the foot, the marking at the top."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    def on_page(canvas, doc):
        from reportlab.lib.utils import simpleSplit

        canvas.saveState()
        canvas.setFont("LanternSans", 7.5)
        # the whole name, wrapped above the date and page number: a footer is never cut short
        lines = simpleSplit(f"{bundle.workspace_name} · {bundle.created[:10]} · {doc.page}", "LanternSans", 7.5,
                            180 * mm)
        for i, line in enumerate(reversed(lines)):
            canvas.drawString(15 * mm, 8 * mm + i * 9.5, line)
        canvas.setFillColor(colors.HexColor(marking_color(bool(bundle.stamp))))
        canvas.drawRightString(195 * mm, 287 * mm, bundle.marking)
        canvas.restoreState()

    return on_page


def _pdf_table(header, rows, small):
    """A table with a repeated header row, in the report style's colours."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    data = [[Paragraph(html.escape(str(c)), small) for c in header]] + \
           [[Paragraph(html.escape(str(c)), small) for c in row] for row in rows]
    tbl = Table(data, repeatRows=1, hAlign="LEFT", colWidths=_column_widths([header, *rows], small))
    look = styles()["report"]
    tbl.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(look["table_header"])),
                             ("GRID", (0, 0), (-1, -1), look["table_grid_width"], colors.HexColor(look["table_grid"])),
                             ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return tbl


def _column_widths(cells: list[list], style, total: float = 180 * 72 / 25.4, padding: float = 12) -> list[float]:
    """Widths that fit the page: each column at least as wide as its longest word, and the rest of the page shared
    by how much longer each column's texts are, so short columns stay narrow and long texts wrap less."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def width(text):
        return stringWidth(text, style.fontName, style.fontSize)

    columns = list(zip(*cells))
    least = [max((width(w) for c in col for w in str(c).split()), default=0) + padding for col in columns]
    natural = [max((width(str(c)) for c in col), default=0) + padding for col in columns]
    if sum(natural) <= total:
        return natural
    spare = max(0.0, total - sum(least))
    extra = [n - m for n, m in zip(natural, least)]
    return [m + spare * e / (sum(extra) or 1) for m, e in zip(least, extra)]


def _pdf_cover(bundle, t, st) -> list:
    """The title page: title, workspace, date, marking, and the synthetic, attribution and anchor lines."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    body = st["body"]
    story = [Spacer(1, 60 * mm), Paragraph(html.escape(t["title"]), st["h1"]),
             Paragraph(html.escape(bundle.workspace_name), st["h2"]), Paragraph(html.escape(bundle.created[:10]), body),
             Spacer(1, 8 * mm), Paragraph(html.escape(bundle.marking), st["h2"])]
    if bundle.synthetic:
        story.append(Paragraph(html.escape(t["synthetic"]), body))
    if bundle.attribution:
        story.append(Paragraph(html.escape(bundle.attribution), body))
    if bundle.anchor_text:
        story.append(Paragraph(html.escape(bundle.anchor_text), st["small"]))
    return story


def _pdf_maps(images, t, st) -> list:
    """The three maps, one a page at the size they were drawn for (each carries its own legend and notes)."""
    from reportlab.lib.units import inch
    from reportlab.platypus import Image, PageBreak, Paragraph

    from mapping.report import MAP_SIZE

    story = [Paragraph(html.escape(t["maps"]), st["h1"])]
    for i, key in enumerate(("places", "surface", "services")):
        story += [*([PageBreak()] if i else []), Image(str(images[key]), width=MAP_SIZE[0] * inch,
                                                       height=MAP_SIZE[1] * inch)]
    return [*story, PageBreak()]


def _pdf_sections(tables, t, st) -> list:
    """Each section present in the tables: its heading and its table (or a line saying there is none).

    A heading starts a new page only when less than a few rows' room is left (kept with the whole table, a
    table longer than a page would always start on a new one and leave the page before half empty)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, Paragraph

    heading = ParagraphStyle("h2_table", parent=st["h2"], keepWithNext=0)
    story = []
    for key, title in SECTIONS:
        if key not in tables:
            continue
        header, rows = tables[key]
        story += [CondPageBreak(45 * mm), Paragraph(html.escape(t[title]), heading)]
        story.append(_pdf_table(header, rows, st["small"]) if rows else Paragraph(html.escape(t["none"]), st["body"]))
    return story


def _pdf_method(method, t, st) -> list:
    """The method heading and its lines."""
    from reportlab.platypus import Paragraph

    from reportlab.lib.styles import ParagraphStyle

    note = ParagraphStyle("method", parent=st["small"], spaceAfter=4)
    return [Paragraph(html.escape(t["method"]), st["h2"]), *(Paragraph(html.escape(line), note) for line in method)]


def _write_html(path, bundle, images, tables, method, lang) -> None:
    t = _texts()
    e = html.escape
    look, mark = styles()["report"], styles()["marking"]
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{e(t['title'])}</title>",
             f"<style>body{{font:14px/1.4 sans-serif;max-width:60em;margin:2em auto;color:{text_color('page')}}}"
             f"table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid {look['table_grid']};"
             f"padding:2px 6px;vertical-align:top}}th{{background:{look['table_header']}}}"
             f".mark{{display:inline-block;color:{mark['text']};background:"
             f"{marking_color(bool(bundle.stamp))};padding:2px 8px;font-weight:bold}}img{{max-width:100%}}</style>"
             "</head><body>",
             f"<p class='mark'>{e(bundle.marking)}</p><h1>{e(t['title'])}</h1><h2>{e(bundle.workspace_name)}</h2>"
             f"<p>{e(bundle.created[:10])}</p>"]
    if bundle.attribution:
        parts.append(f"<p>{e(bundle.attribution)}</p>")
    if bundle.anchor_text:
        parts.append(f"<p><small>{e(bundle.anchor_text)}</small></p>")
    parts.append(f"<h1>{e(t['maps'])}</h1>")
    for key in ("places", "surface", "services"):
        data = base64.b64encode(images[key].read_bytes()).decode("ascii")
        parts.append(f"<img alt='{e(t[key])}' src='data:image/png;base64,{data}'>")
    for key, title in SECTIONS:
        if key not in tables:
            continue
        header, rows = tables[key]
        parts.append(f"<h2>{e(t[title])}</h2>")
        if not rows:
            parts.append(f"<p>{e(t['none'])}</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append(f"<h2>{e(t['method'])}</h2>" + "".join(f"<p>{e(line)}</p>" for line in method))
    parts.append(f"<p class='mark'>{e(bundle.marking)}</p></body></html>")
    path.write_text("".join(parts), encoding="utf-8")


__all__ = ["add_report_parts", "write_report"]
