"""The field form for phones (issue 17, part 1): an XLSForm and its XForm for every place type, converted by
pyxform (and ODK Validate, JavaRosa as on the phone, when Java is there); its choice filter gives exactly the
catalogue's indicators per place type; places.csv holds only allow-listed public columns, attacked with
secrets planted where the public profile must not look, and a positive control."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from audit import field_form
from audit.annotations import annotate, annotation_values, new_place
from audit.catalogue import catalogue_version, confidence_levels, indicators, indicators_for, place_types, sources
from audit.commands import History
from audit.field_form import ALL, export_field_form
from audit.redaction import share_rule
from layers import xlsform
from layers.errors import LanternError
from layers.workspace import Workspace

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms",
      "jr": "http://openrosa.org/javarosa"}
TYPES = [t["id"] for t in place_types()]
JAVA = xlsform.odk_validate_available()


@pytest.fixture(scope="module")
def forms(demo_file, tmp_path_factory) -> dict[str, field_form.FieldFormResult]:
    """A form for every place type and for all of them, each in its own folder."""
    root = tmp_path_factory.mktemp("forms")
    with Workspace.open(demo_file) as ws:
        return {t: export_field_form(ws, t, "lv,en", root / t) for t in [*TYPES, ALL]}


def _file(result, suffix: str) -> Path:
    return next(f for f in result.files if f.suffix == suffix)


def _xform(result) -> ET.Element:
    return ET.parse(_file(result, ".xml")).getroot()


def _bind(root: ET.Element, name: str) -> dict:
    return next(b.attrib for b in root.iter(f"{{{NS['x']}}}bind") if b.get("nodeset") == f"/data/{name}")


def _itemset(root: ET.Element, name: str) -> str:
    control = next(e for e in root.iter() if e.get("ref") == f"/data/{name}" and e.find("x:itemset", NS) is not None)
    return control.find("x:itemset", NS).get("nodeset")


def _instance_items(root: ET.Element, list_name: str) -> list[dict]:
    instance = next(i for i in root.iter(f"{{{NS['x']}}}instance") if i.get("id") == list_name)
    return [{child.tag.split("}")[1]: (child.text or "") for child in item}
            for item in instance.iter(f"{{{NS['x']}}}item")]


@pytest.mark.parametrize("place_type", [*TYPES, ALL])
def test_every_form_converts_without_warnings(forms, place_type):
    result = forms[place_type]
    assert sorted(f.name for f in result.files) == sorted(
        [f"lantern-field-{place_type}.xlsx", f"lantern-field-{place_type}.xml", "places.csv"])
    assert result.warnings == []
    assert result.odk_validated == JAVA  # ODK Validate ran wherever Java is there (it is on the project's machines)
    types = TYPES if place_type == ALL else [place_type]
    assert result.indicators == len({i.id for t in types for i in indicators_for(t)})
    root = _xform(result)
    assert root.tag == f"{{{NS['h']}}}html"
    data = root.find("h:head/x:model/x:instance/x:data", NS)
    assert data.get("id") == f"lantern_field_{place_type}" and data.get("version") == result.version


def _selected_filter(nodeset: str) -> str:
    """The column that ``[selected(COLUMN, /data/place_type)]`` tests; any other filter fails the test."""
    match = re.fullmatch(r"instance\('indicator'\)/root/item\[selected\(\s*(\w+)\s*,\s*/data/place_type\s*\)\]",
                         nodeset)
    assert match, nodeset
    return match.group(1)


@pytest.mark.parametrize("form_type", [*TYPES, ALL])
def test_the_choice_filter_gives_exactly_the_place_types_indicators(forms, form_type):
    """Evaluate the XForm's filter (XPath selected(): the value is one of the space-separated list) for every
    type the form offers, against the catalogue's own rule."""
    root = _xform(forms[form_type])
    column = _selected_filter(_itemset(root, "indicators"))
    items = _instance_items(root, "indicator")
    offered = [i["name"] for i in _instance_items(root, "place_type")]
    assert offered == (TYPES if form_type == ALL else [form_type])
    for place_type in offered:
        shown = {i["name"] for i in items if place_type in i[column].split(" ")}
        assert shown == {i.id for i in indicators_for(place_type)} | {field_form.OTHER}, place_type
    assert len(indicators_for("street")) < len(indicators())  # the filter does filter (control)


def test_the_place_list_is_near_the_team_of_the_forms_type_and_offers_a_new_place(forms):
    for place_type in TYPES:
        nodeset = _itemset(_xform(forms[place_type]), "place")
        assert nodeset.startswith("instance('places')/root/item[name = 'new' or ")
        assert "distance(concat(lat, ' ', lon, ';',  /data/location )) <= 1000" in nodeset
        assert ("place_type = " in nodeset) == (place_type != "any")
        if place_type != "any":
            assert f"place_type = '{place_type}'" in nodeset
    every = _xform(forms[ALL])
    assert "place_type =" not in _itemset(every, "place")
    # a listed place brings its type (from places.csv) when it is picked; the team can change it
    setvalue = next(e for e in every.iter(f"{{{NS['x']}}}setvalue") if e.get("ref") == "/data/place_type")
    assert setvalue.get("event") == "xforms-value-changed" and "instance('places')" in setvalue.get("value")
    street = _xform(forms["street"])
    assert _bind(street, "place_type").get("readonly") == "true()"


def test_rules_other_specify_future_date_photos_and_the_hidden_catalogue_version(forms):
    root = _xform(forms[ALL])
    other = _bind(root, "other_text")
    assert other["relevant"].replace(" ", "") == "selected(/data/indicators,'other')" and other["required"] == "true()"
    observed = _bind(root, "observed")
    assert observed["type"] == "date" and observed["constraint"] == ". <= today()"
    version = _bind(root, "catalogue_version")
    assert version["calculate"].strip("'") == str(catalogue_version())
    assert not [e for e in root.iter() if e.get("ref") == "/data/catalogue_version"]  # hidden: no control
    photos = [_bind(root, f"photo_{n}") for n in (1, 2, 3)]
    assert all(p["type"] == "binary" for p in photos)
    assert photos[1]["relevant"].replace(" ", "") == "/data/photo_1!=''"
    assert [e for e in root.iter() if e.get("nodeset") == "/data/photo_4"] == []
    assert _bind(root, "location")["type"] == "geopoint" and _bind(root, "location")["required"] == "true()"
    # the annotation form's choices, no others
    assert [i["name"] for i in _instance_items(root, "confidence")] == [c["id"] for c in confidence_levels()]
    assert [i["name"] for i in _instance_items(root, "source")] == [s["id"] for s in sources()]


def test_latvian_letters_survive_in_the_xlsx_and_the_xml(forms):
    from openpyxl import load_workbook

    result = forms[ALL]
    lv = indicators()["gen_violence_signs"].lv
    assert any(c in lv for c in "āčēģīķļņšūž")
    book = load_workbook(_file(result, ".xlsx"))
    choices = list(book["choices"].iter_rows(values_only=True))
    header = choices[0]
    column = header.index("label::Latviešu (lv)")
    row = next(r for r in choices if r[1] == "gen_violence_signs")
    assert row[column] == lv and row[header.index("label::English (en)")] == indicators()["gen_violence_signs"].en
    settings = dict(zip(*book["settings"].iter_rows(values_only=True)))
    assert settings["default_language"] == "Latviešu (lv)"
    assert settings["version"].startswith(f"{catalogue_version()}.")
    root = _xform(result)
    texts = {t.get("lang"): t for t in root.iter(f"{{{NS['x']}}}translation")}
    assert set(texts) == {"Latviešu (lv)", "English (en)"} and texts["Latviešu (lv)"].get("default") == "true()"
    assert lv in {v.text for v in texts["Latviešu (lv)"].iter(f"{{{NS['x']}}}value")}
    assert "Novērošanas datums" in {v.text for v in texts["Latviešu (lv)"].iter(f"{{{NS['x']}}}value")}


def test_one_language_only_and_bad_choices_are_refused(demo_file, tmp_path):
    with Workspace.open(demo_file) as ws:
        result = export_field_form(ws, "workplace", "en", tmp_path / "en")
        root = _xform(result)
        assert root.find(".//x:itext", NS) is None or {t.get("lang") for t in root.iter(
            f"{{{NS['x']}}}translation")} <= {"English (en)"}
        for place_type, langs in (("nowhere", "lv"), ("street", "lv,de"), ("street", "lv,lv"), ("street", "")):
            with pytest.raises(LanternError):
                export_field_form(ws, place_type, langs, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_odk_validate_runs_offline_and_catches_what_pyxform_lets_through(tmp_path):
    """A constraint with unbalanced brackets passes pyxform alone; JavaRosa (ODK Validate) refuses it."""
    assert JAVA, "ODK Validate needs a Java runtime: `make test` installs default-jre-headless (packaging/sysdeps.sh)"
    sheets = {"survey": [["type", "name", "label", "constraint"], ["integer", "n", "N", ". > (1"]]}
    xlsform.write_workbook(tmp_path / "broken.xlsx", sheets)
    assert xlsform.convert(tmp_path / "broken.xlsx", validate=False).odk_validated is False  # pyxform: fine
    with pytest.raises(LanternError, match="mismatched"):
        xlsform.convert(tmp_path / "broken.xlsx", validate=True)


# -- places.csv: what leaves for the phone -------------------------------------------------------------------

SECRETS = {
    "poc": "SECRET-POC Pagrabs Ūdens",  # a place of concern (police level)
    "shelter": "SECRET-SHELTER Drošā māja",  # a shelter (partner level)
    "description": "SECRET-DESCRIPTION back door",  # a worksite's non-public field
    "extra": "SECRET-EXTRA from QGIS",  # a column another tool wrote
    "tags": "SECRET-TAG Plantedstraße 77",  # OSM tags are not public
    "note": "SECRET-NOTE seen at night",  # an annotation's note, author and team
    "author": "SECRET-AUTHOR Jānis Bērziņš",
    "team": "SECRET-TEAM Nord",
}
ALLOWED_NAME = "ALLOWED-NAME Brīvības ielas būvlaukums"


def _plant(path: Path, allowed: bool = False) -> None:
    with Workspace.open(path) as ws:
        history = History(ws, SECRETS["author"])
        hub = ws.read_layer("transport_hubs").geometry.iloc[0]
        history.do(new_place("places_of_concern", hub.x + 0.002, hub.y + 0.001,
                             {"name": SECRETS["poc"], "category": "gathering_place"}))
        history.do(new_place("shelters", hub.x - 0.002, hub.y - 0.001,
                             {"name": SECRETS["shelter"], "service_type": _first_choice("shelters", "service_type")}))
        worksite = int(ws.read_layer("worksites").index[0])
        ws.db.conn.execute("UPDATE worksites SET description = ?, extra = ?, osm_tags = ? WHERE fid = ?",
                           (SECRETS["description"], json.dumps({"note": SECRETS["extra"]}),
                            json.dumps({"addr:street": SECRETS["tags"]}), worksite))
        if allowed:
            ws.db.conn.execute("UPDATE worksites SET name = ? WHERE fid = ?", (ALLOWED_NAME, worksite))
        ws.db.conn.commit()
        history.do(annotate(annotation_values("worksites", worksite, indicators_seen=["gen_controlled"],
                                              observed="2026-01-02", confidence="high", source="police",
                                              author=SECRETS["author"], team=SECRETS["team"], note=SECRETS["note"])))


def _first_choice(kind_id: str, name: str) -> str:
    from layers.catalogue import kind

    return kind(kind_id).field(name).choices[0].id


def _every_byte(folder: Path) -> bytes:
    """Every output file's bytes, and the members of the .xlsx (a zip) unpacked."""
    data = b""
    for f in sorted(folder.iterdir()):
        data += f.read_bytes()
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                data += b"".join(z.read(n) for n in z.namelist())
    return data


def _found(data: bytes, text: str) -> bool:
    from html import escape

    return any(v.encode() in data for v in {text, escape(text), escape(text, quote=False)})


@pytest.fixture(scope="module")
def planted(demo_file, tmp_path_factory):
    """Two planted copies: secrets only (the attack), and the same with a public name (the positive control)."""
    out = {}
    for case, allowed in (("attack", False), ("control", True)):
        path = tmp_path_factory.mktemp(case) / "demo.gpkg"
        shutil.copy(demo_file, path)
        _plant(path, allowed)
        with Workspace.open(path) as ws:
            export_field_form(ws, ALL, "lv,en", path.parent / "form")
        out[case] = path
    return out


def test_no_secret_leaves_in_any_output_file(planted):
    data = _every_byte(planted["attack"].parent / "form")
    assert [k for k, text in SECRETS.items() if _found(data, text)] == []


def test_positive_control_the_scan_sees_an_allowed_field_and_latvian_survives(planted):
    folder = planted["control"].parent / "form"
    assert _found(_every_byte(folder), ALLOWED_NAME)
    raw = (folder / "places.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw  # what ODK Collect's CSV reader wants
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert any(r["label::Latviešu (lv)"] == ALLOWED_NAME for r in rows)
    # and the secrets are still absent here: only the allowed field came through
    assert [k for k, text in SECRETS.items() if _found(_every_byte(folder), text)] == []


def test_places_csv_holds_only_allow_listed_columns_and_public_places(planted):
    path = planted["attack"]
    rows = list(csv.DictReader(io.StringIO((path.parent / "form" / "places.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["name", "label", "label::Latviešu (lv)", "label::English (en)", "place_type", "lat",
                             "lon"]
    # every column comes from Lantern itself or from a field the public profile lets out
    for kind_id in {r["name"].rsplit("-", 1)[0] for r in rows[1:]}:
        rule = share_rule(kind_id, "public")
        assert rule["form"] == "features"
        assert {f for f in field_form.PLACE_COLUMNS.values() if f and f != "geometry"} <= set(rule["fields"])
    assert rows[0]["name"] == field_form.NEW_PLACE and rows[0]["lat"] == ""
    with Workspace.open(path) as ws:
        hidden = {(f"{g.y:.6f}", f"{g.x:.6f}") for k in ("places_of_concern", "shelters")
                  for g in ws.read_layer(k).geometry.representative_point()}
        public = {(f"{g.y:.6f}", f"{g.x:.6f}") for k in ("worksites", "transport_hubs")
                  for g in ws.read_layer(k).geometry.dropna().representative_point()}
    listed = {(r["lat"], r["lon"]) for r in rows[1:]}
    assert hidden and not (listed & hidden)  # no place of concern or shelter, not even by its position
    assert listed <= public and len(listed) > 100  # control: the public places are there
    assert {r["name"].rsplit("-", 1)[0] for r in rows[1:]} == {"worksites", "transport_hubs"}
    assert {r["place_type"] for r in rows[1:]} <= set(TYPES)
