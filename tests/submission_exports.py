"""Synthetic field-submission exports, written by the tests in ODK Central's and KoBoToolbox's documented layouts.

Nothing here comes from a real server: every export is made up from ``Sub`` records, laid out as
layers/importers/submissions.py's docstring describes (and cites): ODK Central's CSV zip (``-`` group
paths, ``meta-instanceID``, ``SubmissionDate``, split geopoint, ``<form>-<repeat>.csv`` with
``PARENT_KEY``, ``media/``) and KoBo's CSV (``;``, BOM, ``/`` group paths, ``_uuid``, ``_submission_time``,
``_<geopoint>_latitude``, 0/1 choice columns) and XLSX (a sheet per repeat, ``_submission__uuid``) with
``attachments/<form>/<uuid>/<file>``.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FORM_ID = "lantern_field_all"
GPS_TEXT = "EXIF-PLANTED-GPS Rīga device SM-G991B"


@dataclass
class Sub:
    uuid: str
    lat: float = 60.1699
    lon: float = 24.9384
    place: str = "new"
    new_place_name: str = "Būvlaukums pie dzelzceļa"
    place_type: str = "workplace"
    indicators: list[str] = field(default_factory=lambda: ["gen_no_documents", "lab_long_hours"])
    other_text: str = ""
    observed: str = "2026-11-20"
    team: str = "Komanda Ziemeļi"
    author: str = "Jānis Bērziņš"
    confidence: str = "medium"
    source: str = "own_observation"
    note: str = "Strādnieki guļ konteinerā; ēdiens tikai reizi dienā"
    catalogue_version: int = 2
    photos: list[str] = field(default_factory=list)
    extra_photos: list[str] = field(default_factory=list)  # in the repeat group
    submitted: str = "2026-11-20T10:15:00.000Z"


def jpeg_with_exif(text: str = GPS_TEXT, size=(64, 48)) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera model and ``text`` (and a JPEG comment)."""
    from PIL import Image

    im = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010E] = text  # ImageDescription
    exif[0x0110] = "SM-G991B"  # Model
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (56.0, 57.0, 1.5), 3: "E", 4: (24.0, 6.0, 2.5)})
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, comment=text.encode("utf-8"))
    return out.getvalue()


def png_with_text(text: str = GPS_TEXT) -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


_TOP = ["start", "end", "catalogue_version"]
_DETAILS = ["observed", "team", "author", "confidence", "source", "note"]


def _values(s: Sub) -> dict[str, str]:
    photos = s.photos + [""] * (3 - len(s.photos))
    return {"start": "2026-11-20T09:00:00.000+02:00", "end": "2026-11-20T09:10:00.000+02:00",
            "catalogue_version": str(s.catalogue_version), "place": s.place,
            "new_place_name": s.new_place_name if s.place == "new" else "", "place_type": s.place_type,
            "indicators": " ".join(s.indicators), "other_text": s.other_text, "observed": s.observed, "team": s.team,
            "author": s.author, "confidence": s.confidence, "source": s.source, "note": s.note,
            "photo_1": photos[0], "photo_2": photos[1], "photo_3": photos[2]}


def _csv(rows: list[list], sep: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


# -- ODK Central ------------------------------------------------------------------------------------------------


def odk_tables(subs: list[Sub]) -> dict[str, bytes]:
    """The CSVs of ODK Central's export zip: the form's table and its repeat group's table."""
    head = ["SubmissionDate", *_TOP, "where-location-Latitude", "where-location-Longitude", "where-location-Altitude",
            "where-location-Accuracy", "where-place", "where-new_place_name", "where-place_type",
            "checklist-indicators",
            "checklist-other_text", *[f"details-{n}" for n in _DETAILS], "photo_1", "photo_2", "photo_3",
            "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
            "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    rows, repeat = [head], [["extra_photo", "PARENT_KEY", "KEY"]]
    for s in subs:
        v = _values(s)
        iid = f"uuid:{s.uuid}"
        rows.append([s.submitted, *[v[n] for n in _TOP], str(s.lat), str(s.lon), "12.5", "4.2", v["place"],
                     v["new_place_name"], v["place_type"], v["indicators"], v["other_text"], *[v[n] for n in _DETAILS],
                     v["photo_1"], v["photo_2"], v["photo_3"], iid, iid, "7", "team-phone", str(len(s.photos)),
                     str(len(s.photos)), "", "", "collect:abc", "0", "2.0123abcdef"])
        for i, name in enumerate(s.extra_photos, 1):
            repeat.append([name, iid, f"{iid}/extra_photos[{i}]"])
    return {f"{FORM_ID}.csv": _csv(rows), f"{FORM_ID}-extra_photos.csv": _csv(repeat)}


def write_odk_zip(path: Path, subs: list[Sub], media: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in odk_tables(subs).items():
            z.writestr(name, data)
        for name, data in media.items():
            z.writestr(f"media/{name}", data)
    return path


# -- KoBoToolbox ------------------------------------------------------------------------------------------------

CHOICES = ["gen_no_documents", "gen_minor", "lab_long_hours", "lab_passport_held", "other"]


def _kobo_rows(subs: list[Sub], summary: bool = True) -> list[list]:
    head = [*_TOP, "location", "_location_latitude", "_location_longitude", "_location_altitude", "_location_precision",
            "where/place", "where/new_place_name", "where/place_type", "checklist/indicators",
            *[f"checklist/indicators/{c}" for c in CHOICES], "checklist/other_text",
            *[f"details/{n}" for n in _DETAILS], "photo_1", "photo_1_URL", "photo_2", "photo_2_URL", "photo_3",
            "photo_3_URL", "meta/instanceID", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
            "_status", "_submitted_by", "__version__", "_tags", "_index"]
    rows = [head]
    for i, s in enumerate(subs, 1):
        v = _values(s)
        url = lambda n: f"https://kf.kobotoolbox.org/media/original?media_file=x%2F{n}" if n else ""  # noqa: E731
        rows.append([*[v[n] for n in _TOP], f"{s.lat} {s.lon} 12.5 4.2", str(s.lat), str(s.lon), "12.5", "4.2",
                     v["place"], v["new_place_name"], v["place_type"], v["indicators"] if summary else "",
                     *["1" if c in s.indicators else "0" for c in CHOICES], v["other_text"],
                     *[v[n] for n in _DETAILS], v["photo_1"], url(v["photo_1"]), v["photo_2"], url(v["photo_2"]),
                     v["photo_3"], url(v["photo_3"]), f"uuid:{s.uuid}", str(1000 + i), s.uuid,
                     s.submitted[:19], "", "", "submitted_via_web", "", "vGvbzYWXxMCkJK8Ai5ZYzj", "", str(i)])
    return rows


def write_kobo_csv(folder: Path, subs: list[Sub], media: dict[str, bytes], summary: bool = True) -> Path:
    """KoBo's CSV (``;``, a BOM) in ``folder``, attachments in ``folder/attachments/<form>/<uuid>/``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Lantern_field_form_-_all_types_-_latest_version_-_False_-_2026-11-21-08-00-00.csv"
    path.write_bytes(_csv(_kobo_rows(subs, summary), sep=";", bom=True))
    _attachments(folder, subs, media)
    return path


def _attachments(folder: Path, subs: list[Sub], media: dict[str, bytes]) -> None:
    for s in subs:
        for name in [*s.photos, *s.extra_photos]:
            if name in media:
                target = folder / "attachments" / "aXk4FormUid" / s.uuid / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(media[name])


def write_kobo_xlsx(folder: Path, subs: list[Sub], media: dict[str, bytes]) -> Path:
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    main = book.active
    main.title = "Lantern field form"
    for row in _kobo_rows(subs):
        main.append([int(c) if c.isdigit() and len(c) < 6 else c for c in row])
    repeat = book.create_sheet("extra_photos")
    repeat.append(["extra_photo", "_index", "_parent_table_name", "_parent_index", "_submission__id",
                   "_submission__uuid", "_submission__submission_time"])
    n = 0
    for i, s in enumerate(subs, 1):
        for name in s.extra_photos:
            n += 1
            repeat.append([name, n, "Lantern field form", i, 1000 + i, s.uuid, s.submitted[:19]])
    path = folder / "Lantern_field_form.xlsx"
    book.save(path)
    _attachments(folder, subs, media)
    return path
