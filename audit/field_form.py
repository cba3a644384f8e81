"""A field form for phones, made from the indicator catalogue: an XLSForm, its XForm and ``places.csv``.

ODK Collect and KoBoToolbox read the XLSForm (or the XForm) offline. The form asks what the annotation
form asks: the team's position, the place (from the workspace's places near the team, or a new one), the
place type with its indicators in the guidelines' wording (a ``choice_filter`` keeps the checklist to
the type's indicators, exactly those of ``audit.catalogue.indicators_for``), "other — specify", the date
(not in the future), team, author, confidence, source, a note and up to three photos, and the catalogue
version in a hidden field, so an import can map answers made against another version.

``places.csv`` leaves the workspace for a phone, so it holds what the *public* sharing profile lets out
and nothing else: it is made from ``audit.redaction.redact(ws, "public")`` (no places of concern, no
shelters, no notes, authors or annotations), and only the columns of ``PLACE_COLUMNS``, each taken from
a field the public allow-list names.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from audit.annotations import PLACE_KINDS
from audit.catalogue import catalogue_version, confidence_levels, indicators, indicators_for, place_type_of, \
    place_types, sources
from layers import xlsform
from layers.catalogue import kind as get_kind
from layers.errors import LanternError
from layers.i18n import N_, SUPPORTED, _, translations
from layers.output import staged_folder

ALL = "all"  # one form for every place type: the team picks the type
NEW_PLACE = "new"  # the places.csv row for a place not on the list
OTHER = "other"  # the indicator choice "other — specify"
NEAR_M = 1000  # the place list shows places within this distance of the team's position
PLACES_FILE = "places.csv"
PROFILE = "public"  # what places.csv may hold: what this sharing profile lets out
LANGUAGE_COLUMNS = {"lv": "Latviešu (lv)", "en": "English (en)"}  # XLSForm's "Name (code)" language names
PHOTOS = 3
PHOTO_PIXELS = 1600  # longest side of a photo the phone keeps

#: every column of places.csv, and the public field each is taken from ("" : Lantern's own, no field)
PLACE_COLUMNS = {"name": "", "label": "name", "place_type": "", "lat": "geometry", "lon": "geometry"}

# the form's texts (English msgids, each written in every language of the form)
TEXTS = {
    "location": N_("Position of the team"),
    "location_hint": N_("Wait until the position is accurate to a few metres."),
    "place": N_("Place"),
    "place_hint": N_("Places within {m} m of the team. Choose “New place” if it is not on the list."),
    "new_place": N_("New place"),
    "new_place_name": N_("Name or description of the new place (no personal data)"),
    "place_type": N_("Place type"),
    "indicators": N_("Observed indicators"),
    "indicators_hint": N_("Tick every sign you saw."),
    "indicators_required": N_("Tick at least one indicator, or describe another observation."),
    "other": N_("Other — specify"),
    "other_text": N_("Other observation"),
    "observed": N_("Observed on"),
    "future": N_("the observation date lies in the future"),
    "team": N_("Audit team"),
    "author": N_("Author"),
    "confidence": N_("Confidence"),
    "source": N_("Source"),
    "note": N_("Note"),
    "note_hint": N_("No names or personal data."),
    "photo": N_("Photo {n}"),
    "photo_hint": N_("Photograph the place, not people: no faces, no number plates."),
    "title": N_("Lantern field form: {type}"),
    "every_type": N_("every place type"),
}


@dataclass
class FieldForm:
    """The form's content: XLSForm sheets (header row first) and the rows of places.csv."""
    place_type: str
    langs: tuple[str, ...]
    survey: list[list]
    choices: list[list]
    settings: list[list]
    places: list[list]  # header row first

    @property
    def form_id(self) -> str:
        return f"lantern_field_{self.place_type}"

    @property
    def stem(self) -> str:
        return f"lantern-field-{self.place_type}"

    @property
    def indicator_count(self) -> int:
        """Indicators the form can show ("other — specify" not counted)."""
        return sum(1 for row in self.choices[1:] if row[0] == "indicator" and row[1] != OTHER)

    @property
    def version(self) -> str:
        return self.settings[1][2]


@dataclass
class FieldFormResult:
    files: list[Path]
    place_type: str
    langs: tuple[str, ...]
    places: int  # places listed in places.csv (without "new place")
    indicators: int  # indicators the form can show
    version: str
    odk_validated: bool
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- choosing ------------------------------------------------------------------------------------------


def check_place_type(place_type: str) -> str:
    known = [t["id"] for t in place_types()]
    if place_type != ALL and place_type not in known:
        raise LanternError(_("unknown place type {t!r}; known: {known}").format(t=place_type,
                                                                                known=", ".join([*known, ALL])))
    return place_type


def parse_langs(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``"lv,en"`` → ("lv", "en"): the form's languages, the first shown by default."""
    langs = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    langs = [s for s in langs if s]
    for lang in langs:
        if lang not in SUPPORTED:
            raise LanternError(_("unsupported language {lang!r}").format(lang=lang))
    if not langs or len(set(langs)) != len(langs):
        raise LanternError(_("name each language of the form once, e.g. lv,en"))
    return tuple(langs)


def _text(key: str, lang: str, **values) -> str:
    """A form text in ``lang`` (thread-safe: the window's language is not switched)."""
    return translations(lang).gettext(TEXTS[key]).format(**values)


def _labels(langs, key: str | None = None, entry: dict | None = None, **values) -> list[str]:
    """One label per language: a form text, or a catalogue entry's ``en``/``lv``."""
    if entry is not None:
        return [entry.get(lang) or entry["en"] for lang in langs]
    return [_text(key, lang, **values) for lang in langs]


def types_of_form(place_type: str) -> list[str]:
    """The place types a form offers: one, or every type for ``all``."""
    return [t["id"] for t in place_types()] if place_type == ALL else [place_type]


# -- the survey ------------------------------------------------------------------------------------------

_SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
                   "constraint_message", "choice_filter", "calculation", "trigger", "default", "read_only",
                   "appearance", "parameters")
_TRANSLATED = ("label", "hint", "required_message", "constraint_message")


def _survey_header(langs) -> list[str]:
    return [f"{c}::{LANGUAGE_COLUMNS[lang]}" if c in _TRANSLATED else c
            for c in _SURVEY_COLUMNS for lang in (langs if c in _TRANSLATED else (None,))]


def _row(langs, type_: str, name: str, **cells) -> list:
    """A survey row; translated cells are given as a key of TEXTS (or a list, one text per language)."""
    out = []
    for column in _SURVEY_COLUMNS:
        value = {"type": type_, "name": name}.get(column, cells.get(column, ""))
        if column in _TRANSLATED:
            texts = value if isinstance(value, list) else (_labels(langs, value) if value else [""] * len(langs))
            out.extend(texts)
        else:
            out.append(value)
    return out


def _place_filter(place_type: str) -> str:
    """Places near the team (all of them until the position is known), of the form's type, and "new place"."""
    near = f"(${{location}} = '' or distance(concat(lat, ' ', lon, ';', ${{location}})) <= {NEAR_M})"
    of_type = "" if place_type in (ALL, "any") else f" and place_type = '{place_type}'"
    # JavaRosa's "or" stops at the first true operand: the "new" row (no lat/lon) never reaches distance()
    return f"name = '{NEW_PLACE}' or ({near}{of_type})"


def survey_rows(place_type: str, langs) -> list[list]:
    rows = [_survey_header(langs), _row(langs, "start", "start"), _row(langs, "end", "end"),
            _row(langs, "calculate", "catalogue_version", calculation=f"'{catalogue_version()}'")]
    rows += _where_rows(place_type, langs)
    rows += _checklist_rows(langs)
    rows += _observation_rows(langs)
    rows += [_row(langs, "image", f"photo_{n}", label=_labels(langs, "photo", n=n), hint="photo_hint",
                  relevant="" if n == 1 else f"${{photo_{n - 1}}} != ''", parameters=f"max-pixels={PHOTO_PIXELS}")
             for n in range(1, PHOTOS + 1)]
    return rows


def _where_rows(place_type: str, langs) -> list[list]:
    """The team's position, the place (near it, or new) and its type."""
    rows = [_row(langs, "geopoint", "location", label="location", hint="location_hint", required="yes"),
            _row(langs, f"select_one_from_file {PLACES_FILE}", "place", label="place",
                 hint=_labels(langs, "place_hint", m=NEAR_M), required="yes", choice_filter=_place_filter(place_type),
                 appearance="autocomplete"),
            _row(langs, "text", "new_place_name", label="new_place_name", required="yes",
                 relevant=f"${{place}} = '{NEW_PLACE}'")]
    if place_type == ALL:  # a listed place brings its type; the team can still change it
        rows.append(_row(langs, "select_one place_type", "place_type", label="place_type", required="yes",
                         calculation=f"instance('{Path(PLACES_FILE).stem}')/root/item[name=${{place}}]/place_type",
                         trigger="${place}"))
    else:
        rows.append(_row(langs, "select_one place_type", "place_type", label="place_type", required="yes",
                         default=place_type, read_only="yes"))
    return rows


def _checklist_rows(langs) -> list[list]:
    return [_row(langs, "select_multiple indicator", "indicators", label="indicators", hint="indicators_hint",
                 required="yes", required_message="indicators_required",
                 choice_filter="selected(types, ${place_type})"),
            _row(langs, "text", "other_text", label="other_text", required="yes",
                 relevant=f"selected(${{indicators}}, '{OTHER}')")]


def _observation_rows(langs) -> list[list]:
    return [_row(langs, "date", "observed", label="observed", required="yes", default="today()",
                 constraint=". <= today()", constraint_message="future"),
            _row(langs, "text", "team", label="team"),
            _row(langs, "text", "author", label="author", required="yes"),
            _row(langs, "select_one confidence", "confidence", label="confidence", required="yes"),
            _row(langs, "select_one source", "source", label="source", required="yes", default="own_observation"),
            _row(langs, "text", "note", label="note", hint="note_hint", appearance="multiline")]


# -- the choices -----------------------------------------------------------------------------------------


def indicator_types(place_type: str) -> dict[str, list[str]]:
    """For each indicator the form can show, the form's place types whose checklist holds it."""
    types = types_of_form(place_type)
    found: dict[str, list[str]] = {i: [] for i in indicators()}
    for t in types:
        for ind in indicators_for(t):
            found[ind.id].append(t)
    return {i: ts for i, ts in found.items() if ts}


def choice_rows(place_type: str, langs) -> list[list]:
    header = ["list_name", "name", *[f"label::{LANGUAGE_COLUMNS[lang]}" for lang in langs], "types"]
    all_types = {t["id"]: t for t in place_types()}
    rows = [["place_type", t, *_labels(langs, entry=all_types[t]), ""] for t in types_of_form(place_type)]
    for ind_id, types in indicator_types(place_type).items():
        ind = indicators()[ind_id]
        rows.append(["indicator", ind.id, *[ind.text(lang) for lang in langs], " ".join(types)])
    rows.append(["indicator", OTHER, *_labels(langs, "other"), " ".join(types_of_form(place_type))])
    rows += [["confidence", c["id"], *_labels(langs, entry=c), ""] for c in confidence_levels()]
    rows += [["source", s["id"], *_labels(langs, entry=s), ""] for s in sources()]
    return [header, *rows]


def settings_rows(place_type: str, langs, survey, choices) -> list[list]:
    """Title, id, the default language, and a version that changes exactly when the form's content does."""
    digest = hashlib.sha256(json.dumps([survey, choices], ensure_ascii=False).encode()).hexdigest()[:10]
    version = f"{catalogue_version()}.{digest}"
    what = _text("every_type", langs[0]) if place_type == ALL else \
        next(t for t in place_types() if t["id"] == place_type).get(langs[0])
    title = _text("title", langs[0], type=what)
    return [["form_title", "form_id", "version", "default_language"],
            [title, f"lantern_field_{place_type}", version, LANGUAGE_COLUMNS[langs[0]]]]


# -- places.csv --------------------------------------------------------------------------------------------


def public_places(workspace) -> dict[str, object]:
    """The place layers exactly as the public profile receives them (features form only), by layer."""
    from audit.redaction import redact

    bundle = redact(workspace, PROFILE, only=PLACE_KINDS)
    return {name: layer.frame for name, layer in bundle.layers.items()
            if layer.form == "features" and layer.spatial and name in PLACE_KINDS}


def place_rows(workspace, langs) -> list[list]:
    """places.csv: a header, "new place", then every public place with a position.

    The same file for every place type (the form's choice filter keeps to its type), so forms of several
    types can share one folder and one media file.
    """
    from audit.redaction import share_rule

    header = ["name", "label", *[f"label::{LANGUAGE_COLUMNS[lang]}" for lang in langs], "place_type", "lat", "lon"]
    new = _labels(langs, "new_place")
    rows = [[NEW_PLACE, " / ".join(new), *new, "", "", ""]]
    listed = []
    for kind_id, frame in public_places(workspace).items():
        allowed = set(share_rule(kind_id, PROFILE)["fields"])
        listed += _layer_places(kind_id, frame, allowed, langs)
    listed.sort(key=lambda r: (r[1].casefold(), r[0]))
    return [header, *rows, *listed]


def _layer_places(kind_id: str, frame, allowed: set[str], langs) -> list[list]:
    k = get_kind(kind_id)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    points = frame.geometry.representative_point()
    rows = []
    for fid, rec, pt in zip(frame.index, frame.drop(columns="geometry").to_dict("records"), points):
        rec = {f: v for f, v in rec.items() if f in allowed}  # the allow-list, once more
        ptype = place_type_of(kind_id, rec)
        name = rec.get("name") if "name" in allowed else None
        texts = [str(name).strip() if _given(name) else f"{getattr(k, lang)} {int(fid)}" for lang in langs]
        rows.append([f"{kind_id}-{int(fid)}", texts[0], *texts, ptype, f"{pt.y:.6f}", f"{pt.x:.6f}"])
    return rows


def _given(value) -> bool:
    return value is not None and value == value and str(value).strip() != ""


# -- the whole form ----------------------------------------------------------------------------------------


def build_form(workspace, place_type: str, langs) -> FieldForm:
    place_type, langs = check_place_type(place_type), parse_langs(langs)
    survey, choices = survey_rows(place_type, langs), choice_rows(place_type, langs)
    return FieldForm(place_type, langs, survey, choices, settings_rows(place_type, langs, survey, choices),
                     place_rows(workspace, langs))


def export_field_form(workspace, place_type: str, langs, out_dir: str | Path, *, overwrite: bool = False,
                      progress=None, validate: bool | None = None) -> FieldFormResult:
    """Write ``lantern-field-TYPE.xlsx``, its ``.xml`` and ``places.csv`` into ``out_dir`` (staged: all or none).

    ``validate``: run ODK Validate (default: when Java is there); pyxform always checks the form.
    """
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    report(0.0, _("Reading the public places…"))
    form = build_form(workspace, place_type, langs)
    report(0.4, _("Converting the form…"))
    with staged_folder(Path(out_dir), workspace.path, overwrite) as staged:
        xlsx, xml, csv_path = (staged.path / f"{form.stem}.xlsx", staged.path / f"{form.stem}.xml",
                               staged.path / PLACES_FILE)
        xlsform.write_workbook(xlsx, {"survey": form.survey, "choices": form.choices, "settings": form.settings})
        xform = xlsform.convert(xlsx, validate)
        xml.write_text(xform.xml, encoding="utf-8")
        xlsform.write_csv(csv_path, form.places[0], form.places[1:])
    report(1.0, "")
    return FieldFormResult(sorted(staged.files), form.place_type, form.langs, len(form.places) - 2,
                           form.indicator_count, form.version, xform.odk_validated, xform.warnings,
                           time.perf_counter() - started)
