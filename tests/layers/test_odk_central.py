"""Reading a form's submissions from ODK Central's OData feed through pyodk, with recorded (synthetic) responses
served by a fake transport (tests/odk_central_fake.py): no request reaches a network."""
from __future__ import annotations

import pytest

from layers.errors import LanternError
from layers.importers import odk_central
from layers.importers.submissions import ODK_CSV, read_export
from tests.odk_central_fake import BASE, FORM, HOST, PASSWORD, PROJECT, TABLE, FakeCentral, same_subs, write_config
from tests.submission_exports import jpeg_with_exif, write_odk_zip


@pytest.fixture
def configured(tmp_path, monkeypatch):
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(write_config(tmp_path)))
    monkeypatch.setenv("PYODK_CACHE_FILE", str(tmp_path / "pyodk_cache.toml"))
    return tmp_path


@pytest.fixture
def central(configured):
    fake = FakeCentral()
    client = fake.mount(odk_central.connect())
    yield fake, client
    client.session.close()


def test_odata_reads_as_the_csv_export_does(central, tmp_path):
    fake, client = central
    export = odk_central.read_form(client, PROJECT, FORM)
    media = {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()}
    csv = read_export(write_odk_zip(tmp_path / "odk.zip", same_subs(), media))
    assert export.source == odk_central.ODK_ODATA and csv.source == ODK_CSV
    assert [s.instance_id for s in export.submissions] == [s.instance_id for s in csv.submissions]
    for got, want in zip(export.submissions, csv.submissions):
        assert (got.lon, got.lat, got.submitted, got.photos, got.repeat_rows) == \
            (want.lon, want.lat, want.submitted, want.photos, want.repeat_rows)
        for name in ("place", "new_place_name", "place_type", "indicators", "other_text", "observed", "team",
                     "author", "confidence", "source", "note", "catalogue_version", "instanceID"):
            assert got.fields.get(name, "") == want.fields.get(name, ""), name
    first = export.submissions[0]
    assert (first.lon, first.lat) == (24.9384, 60.1702)  # GeoJSON is lon, lat: not swapped
    assert first.fields["Accuracy"] == "4.2" and first.fields["note"].startswith("Strādnieki guļ")
    assert first.photos == ["a.jpg", "gone.jpg", "b.jpg"] and first.repeat_rows == 1  # the expanded repeat
    assert export.submissions[1].fields.get("note", "") == ""  # JSON null is no answer, not "None"
    assert export.submissions[1].form_version == "1.0fedcba987"
    assert export.photo(first, "a.jpg") == media["a.jpg"]  # the bytes as the server holds them
    assert export.photo(first, "gone.jpg") is None  # the server lists it as not received
    assert export.name == f"{BASE}/v1/projects/{PROJECT}/forms/{FORM}.svc"


def test_requests_ask_for_expanded_repeats_and_only_the_configured_server(central):
    fake, client = central
    export = odk_central.read_form(client, PROJECT, FORM)
    for sub in export.submissions:
        for name in sub.photos:
            export.photo(sub, name)
    assert fake.hosts == {HOST}
    table = [r for r in fake.requests if r.url.startswith(f"{BASE}{TABLE}")]
    assert len(table) == 1 and "%24expand=%2A" in table[0].url
    assert fake.paths("POST") == ["/v1/sessions"]  # logged in once
    assert all(r.headers.get("Authorization", "").startswith("Bearer ") for r in fake.requests if r.method == "GET")
    assert f"{FORM}/submissions/uuid:5a1e0000-0000-4000-8000-000000000001/attachments/a.jpg" in "".join(fake.paths())
    assert not any(p.endswith("gone.jpg") for p in fake.paths())  # listed as not received: not asked for


def _paged(fake, next_link: str) -> None:
    doc = dict(fake.routes[("GET", TABLE)][1])
    first, rest = dict(doc), dict(doc)
    first["value"], rest["value"] = doc["value"][:1], doc["value"][1:]
    first["@odata.nextLink"] = next_link
    fake.routes[("GET", TABLE)] = (200, first, {})
    fake.routes[("GET", "/v1/page2")] = (200, rest, {})


def test_a_next_page_on_the_same_server_is_followed(central):
    fake, client = central
    _paged(fake, f"{BASE}/v1/page2")
    assert len(odk_central.read_form(client, PROJECT, FORM).submissions) == 3
    assert fake.hosts == {HOST}


def test_a_next_page_on_another_server_is_refused_before_asking_it(central):
    fake, client = central
    _paged(fake, "https://collector.example.com/v1/page2")
    with pytest.raises(LanternError, match="collector.example.com"):
        odk_central.read_form(client, PROJECT, FORM)
    assert fake.hosts == {HOST}


@pytest.mark.parametrize("target, followed", [(f"{BASE}/v1/moved", True), ("https://collector.example.com/x", False)])
def test_a_redirect_is_followed_only_on_the_same_server(central, target, followed):
    fake, client = central
    fake.routes[("GET", "/v1/moved")] = fake.routes[("GET", TABLE)]
    fake.routes[("GET", TABLE)] = (302, {}, {"Location": target})
    if followed:  # positive control: the same server's redirect works
        assert len(odk_central.read_form(client, PROJECT, FORM).submissions) == 3
    else:
        with pytest.raises(LanternError, match="collector.example.com"):
            odk_central.read_form(client, PROJECT, FORM)
    assert fake.hosts == {HOST}


@pytest.mark.parametrize("method, path, status, words", [
    ("POST", "/v1/sessions", 401, "refused access (HTTP 401)"),
    ("GET", TABLE, 403, "refused access (HTTP 403)"),
    ("GET", TABLE, 404, f"no form {FORM} in project {PROJECT}"),
    ("GET", TABLE, 500, "HTTP 500: Internal Server Error"),
])
def test_server_failures_are_one_clear_message_without_the_password(central, method, path, status, words):
    fake, client = central
    fake.fail(method, path, status)
    with pytest.raises(LanternError) as caught:
        odk_central.read_form(client, PROJECT, FORM)
    message = str(caught.value)
    assert words in message and HOST in message and PASSWORD not in message


def test_an_answer_that_is_not_odata_json(central):
    fake, client = central
    fake.routes[("GET", TABLE)] = (200, b"<html>Wi-Fi login</html>", {"Content-Type": "text/html"})
    with pytest.raises(LanternError, match="did not answer with OData JSON"):
        odk_central.read_form(client, PROJECT, FORM)


def test_encrypted_submissions_are_refused_by_name(central):
    fake, client = central
    doc = fake.routes[("GET", TABLE)][1]
    doc["value"][0]["__system"]["status"] = "notDecrypted"
    with pytest.raises(LanternError, match="1 submission of lantern_field_all is encrypted"):
        odk_central.read_form(client, PROJECT, FORM)


def test_no_configuration_names_what_to_configure(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.toml"
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(missing))
    with pytest.raises(LanternError) as caught:
        odk_central.connect()
    assert str(missing) in str(caught.value) and "PYODK_CONFIG_FILE" in str(caught.value)
    monkeypatch.delenv("PYODK_CONFIG_FILE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert odk_central.config_path() == tmp_path / ".pyodk_config.toml"  # pyodk's default place


def test_an_unusable_configuration_is_named(tmp_path, monkeypatch):
    path = write_config(tmp_path, password="")
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(path))
    with pytest.raises(LanternError, match="cannot be used.*password"):
        odk_central.connect()


def test_the_default_project_comes_from_pyodks_configuration(central):
    fake, client = central
    assert len(odk_central.read_form(client, None, FORM).submissions) == 3  # default_project_id = 7


@pytest.mark.parametrize("text, parsed", [("7/lantern_field_all", (7, "lantern_field_all")),
                                          ("lantern_field_all", (None, "lantern_field_all"))])
def test_parse_form(text, parsed):
    assert odk_central.parse_form(text) == parsed


@pytest.mark.parametrize("text", ["", "seven/form", "7/"])
def test_parse_form_refuses(text):
    with pytest.raises(LanternError, match="PROJECT_ID/FORM_ID"):
        odk_central.parse_form(text)
