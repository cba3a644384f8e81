"""Reading ODK Central and KoBoToolbox exports (synthetic fixtures, written by tests/submission_exports.py in the
documented layouts), and cleaning photos of their metadata."""
from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from layers.errors import InputError
from layers.importers.submissions import KOBO_CSV, KOBO_XLSX, ODK_CSV, read_export
from layers.photos import clean_photo
from tests.submission_exports import (GPS_TEXT, Sub, jpeg_with_exif, png_with_text, write_kobo_csv, write_kobo_xlsx,
                                      write_odk_zip)

UUID_A = "0b1c6f7e-1111-4a2b-9c3d-aaaaaaaaaaaa"
UUID_B = "0b1c6f7e-2222-4a2b-9c3d-bbbbbbbbbbbb"


def _subs():
    return [Sub(UUID_A, photos=["1732090000001.jpg", "1732090000002.jpg"], extra_photos=["1732090000003.jpg"]),
            Sub(UUID_B, place="worksites-3", place_type="street", indicators=["gen_minor", "other"],
                other_text="Meitenes gaida pie degvielas uzpildes stacijas", lat=60.171, lon=24.94)]


def _media():
    return {"1732090000001.jpg": jpeg_with_exif(), "1732090000003.jpg": jpeg_with_exif()}  # 002 is missing


def _check(export, source):
    assert export.source == source
    a, b = export.submissions
    assert (a.instance_id, b.instance_id) == (f"uuid:{UUID_A}", f"uuid:{UUID_B}")
    # group prefix gone, UTF-8 kept
    assert a.fields["note"] == "Strādnieki guļ konteinerā; ēdiens tikai reizi dienā"
    assert a.fields["new_place_name"] == "Būvlaukums pie dzelzceļa" and a.fields["place"] == "new"
    assert (a.lat, a.lon) == (60.1699, 24.9384) and (b.lat, b.lon) == (60.171, 24.94)
    assert b.fields["indicators"].split() == ["gen_minor", "other"] and b.fields["place"] == "worksites-3"
    assert b.fields["other_text"].startswith("Meitenes")
    assert a.fields["catalogue_version"] == "2" and a.submitted.startswith("2026-11-20T10:15")
    assert b.photos == []
    assert export.photo(a, "1732090000001.jpg") == _media()["1732090000001.jpg"]
    assert export.photo(a, "1732090000002.jpg") is None  # listed, not in the export


def test_odk_central_zip_with_groups_repeat_and_media(tmp_path):
    export = read_export(write_odk_zip(tmp_path / "lantern.zip", _subs(), _media()))
    _check(export, ODK_CSV)
    a = export.submissions[0]
    assert a.photos == ["1732090000001.jpg", "1732090000002.jpg", "1732090000003.jpg"]  # the repeat's photo too
    assert a.repeat_rows == 1 and a.form_id == "lantern_field_all" and a.form_version == "2.0123abcdef"


def test_odk_central_unpacked_folder_reads_the_same(tmp_path):
    zipped = write_odk_zip(tmp_path / "lantern.zip", _subs(), _media())
    with zipfile.ZipFile(zipped) as z:
        z.extractall(tmp_path / "unpacked")
    _check(read_export(tmp_path / "unpacked"), ODK_CSV)


def test_kobo_csv_semicolons_bom_and_attachments_folder(tmp_path):
    path = write_kobo_csv(tmp_path / "kobo", _subs(), _media())
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the fixture has KoBo's BOM
    export = read_export(path)
    _check(export, KOBO_CSV)
    assert export.submissions[0].photos == ["1732090000001.jpg", "1732090000002.jpg"]  # KoBo CSV has no repeats
    assert export.submissions[0].form_version == "vGvbzYWXxMCkJK8Ai5ZYzj"


def test_kobo_csv_choices_only_as_0_1_columns(tmp_path):
    export = read_export(write_kobo_csv(tmp_path / "kobo", _subs(), _media(), summary=False))
    assert export.submissions[1].fields["indicators"].split() == ["gen_minor", "other"]


def test_kobo_xlsx_with_a_repeat_sheet(tmp_path):
    export = read_export(write_kobo_xlsx(tmp_path / "kobo", _subs(), _media()))
    _check(export, KOBO_XLSX)
    assert export.submissions[0].photos[-1] == "1732090000003.jpg" and export.submissions[0].repeat_rows == 1


def test_a_zip_of_the_kobo_export_reads_too(tmp_path):
    folder = tmp_path / "kobo"
    write_kobo_csv(folder, _subs(), _media())
    with zipfile.ZipFile(tmp_path / "kobo.zip", "w") as z:
        for p in folder.rglob("*"):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
    _check(read_export(tmp_path / "kobo.zip"), KOBO_CSV)


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"name,lon,lat\nx,1,2\n", b""])
def test_a_file_that_is_no_export_is_refused_naming_it(tmp_path, content):
    path = tmp_path / "not-an-export.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_export(path)
    assert "not-an-export.csv" in str(err.value)


def test_rows_without_an_instance_id_are_refused(tmp_path):
    path = write_kobo_csv(tmp_path / "kobo", [Sub("")], {})
    with pytest.raises(InputError, match="instance id"):
        read_export(path)


def _exif(data: bytes):
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif()), dict(im.info)


def test_photos_come_out_with_no_exif_gps_or_comment():
    original = jpeg_with_exif()
    exif, info = _exif(original)
    assert exif and 0x8825 in exif and GPS_TEXT.encode() in original  # positive control: the fixture HAS them
    assert "comment" in info
    clean = clean_photo(original)
    exif, info = _exif(clean.data)
    assert exif == {} and clean.mime == "image/jpeg"
    assert not set(info) & {"exif", "comment", "icc_profile", "xmp"}
    assert GPS_TEXT.encode() not in clean.data and b"SM-G991B" not in clean.data and b"Exif" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as im:
        assert im.size == (64, 48)  # the pixels are still there


def test_png_text_chunks_are_dropped():
    original = png_with_text()
    assert GPS_TEXT.encode() in original
    clean = clean_photo(original)
    assert GPS_TEXT.encode() not in clean.data and clean.mime == "image/png"


def test_a_file_that_is_no_image_is_refused():
    with pytest.raises(ValueError):
        clean_photo(b"\xff\xd8\xff not a jpeg")
