"""Signed partner packages, attacked: every forged, altered, hostile or broken package is refused and writes nothing.

Two municipalities are two key folders (LANTERN_KEY_DIR): "Riga" signs the
package, the receiver ("Neighbour") imports it. Every refusal is checked to
leave the receiving workspace byte-identical, and every attack has a positive
control that the same route accepts an honest package.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from layers import package_view, place_outline
from layers.errors import InputError
from layers.packages import (
    MANIFEST_TABLE, UntrustedKeyError, import_package, layer_hash, manifest_rows, open_package, read_manifest,
    sign_manifest, verify,
)
from layers.workspace import Workspace
from tests.conftest import file_digest

MUNICIPALITY = "Riga"


@pytest.fixture(scope="module")
def partner_keys(tmp_path_factory):
    return tmp_path_factory.mktemp("riga_keys")


@pytest.fixture(scope="module")
def signed_package(demo_file, partner_keys, tmp_path_factory):
    """A partner package of the demo district, exported and signed by Riga's installation."""
    from mapping.share_export import export

    folder = tmp_path_factory.mktemp("riga")
    source, package = folder / "riga.gpkg", folder / "riga_partner.gpkg"
    shutil.copy(demo_file, source)
    saved = os.environ.get("LANTERN_KEY_DIR")
    os.environ["LANTERN_KEY_DIR"] = str(partner_keys)
    try:
        with Workspace.open(source) as ws:
            ws.set_metadata("name", MUNICIPALITY)
            export(ws, "partner", "gpkg", package)
    finally:
        if saved is None:
            os.environ.pop("LANTERN_KEY_DIR", None)
        else:
            os.environ["LANTERN_KEY_DIR"] = saved
    return package


@pytest.fixture
def receiver_keys(tmp_path, monkeypatch):
    """This test runs as the receiving municipality: its own key folder, its own trust list."""
    folder = tmp_path / "neighbour_keys"
    monkeypatch.setenv("LANTERN_KEY_DIR", str(folder))
    return folder


@pytest.fixture
def package(signed_package, tmp_path, receiver_keys):
    path = tmp_path / "package.gpkg"
    shutil.copy(signed_package, path)
    return path


@pytest.fixture
def receiver(tmp_path, receiver_keys):
    path = tmp_path / "neighbour.gpkg"
    Workspace.create(path, name="Neighbour").close()
    return path


def _partner_key(partner_keys):
    from layers.keys import installation_key

    return installation_key(partner_keys)


def _rewrite_manifest(path, manifest: dict, signature: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"DELETE FROM {MANIFEST_TABLE}")
        conn.executemany(f"INSERT INTO {MANIFEST_TABLE} (key, value) VALUES (?, ?)", manifest_rows(manifest, signature))
    conn.close()


def _resign(path, partner_keys, change=lambda m: None, key=None) -> dict:
    """Change the manifest and sign it again — with Riga's key (a legitimate re-export) or ``key``."""
    manifest, _signature = read_manifest(path)
    manifest["content"] = package_view.file_digest(path)  # the file as it is now (anyone can compute it)
    change(manifest)
    signed, signature = sign_manifest(manifest, key or _partner_key(partner_keys))
    _rewrite_manifest(path, signed, signature)
    return signed


def _sql(path, statement: str) -> None:
    from layers.gpkg_geometry import register_functions

    conn = sqlite3.connect(path)
    register_functions(conn)  # GDAL's R-tree triggers call ST_* functions
    with conn:
        conn.execute(statement)
    conn.close()


def _import_refused(receiver, package, match, **kwargs):
    """Import must fail with a message naming the file and matching ``match``; the workspace stays byte-identical."""
    before = file_digest(receiver)
    with Workspace.open(receiver) as ws, pytest.raises(InputError, match=match) as info:
        import_package(ws, package, **kwargs)
    assert str(info.value).startswith(package.name + ":")
    assert file_digest(receiver) == before
    return info.value


def _import_ok(receiver, package, **kwargs):
    with Workspace.open(receiver) as ws:
        return import_package(ws, package, **kwargs)


def _log_actions(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT action FROM change_log ORDER BY id")]
    finally:
        conn.close()


# -- the happy path ----------------------------------------------------------------------------


def test_round_trip_imports_exactly_the_signed_layers(package, receiver, partner_keys):
    from layers import trust

    manifest = verify(package)
    assert manifest["format"] == "lantern-partner-package/3" and manifest["municipality"] == MUNICIPALITY
    assert manifest["signer"] == _partner_key(partner_keys).public.text
    report = _import_ok(receiver, package, trust_new=True)
    assert report.newly_trusted and report.fingerprint == _partner_key(partner_keys).public.fingerprint
    assert len(report.tables) == len(manifest["layers"])
    assert all(t.startswith("partner_riga_") for t in report.tables)
    import pyogrio

    with Workspace.open(receiver) as ws:
        labels = ws.partner_layers()
        assert set(labels) == set(report.tables)
        for name, table in zip(manifest["layers"], report.tables):
            info = manifest["layers"][name]
            frame = pyogrio.read_dataframe(receiver, layer=table, fid_as_index=info["form"] == "features")
            if "geometry" in frame.columns:  # places mapped as areas: positions here, areas in ``outline``
                assert len(set(frame.geometry.dropna().geom_type)) <= 1, table  # one geometry type per table
                frame = place_outline.join_frame(frame)
            assert layer_hash(frame) == info["sha256"], table  # byte for byte what was signed
            assert labels[table].startswith(f"Partner: {MUNICIPALITY} — {info['label']} (partner, ")
        assert ws.count("risk_areas") == 0  # own layers untouched
    assert _log_actions(receiver)[-1] == "import package"
    conn = sqlite3.connect(receiver)
    after = json.loads(conn.execute("SELECT after FROM change_log ORDER BY id DESC LIMIT 1").fetchone()[0])
    conn.close()
    assert after["signer"] == report.fingerprint and after["origin"] == MUNICIPALITY
    assert set(after["layers"]) == set(report.tables)
    # the key is now trusted, with the municipality's name; a second package from it needs no question
    (entry,) = trust.trusted_keys()
    assert (entry.fingerprint, entry.municipality) == (report.fingerprint, MUNICIPALITY)
    if shutil.which("ogrinfo"):
        result = subprocess.run(["ogrinfo", "-ro", "-q", str(receiver)], capture_output=True, text=True)
        assert result.returncode == 0 and "partner_riga_reported_cases" in result.stdout, result.stderr
        assert "ERROR" not in result.stderr


def test_workspace_still_passes_check_after_an_import(package, receiver):
    from main import main

    _import_ok(receiver, package, trust_new=True)
    assert main(["check", str(receiver)]) == 0


def test_a_trusted_key_is_not_asked_again(package, receiver, tmp_path, signed_package):
    _import_ok(receiver, package, trust_new=True)
    other = tmp_path / "second.gpkg"
    Workspace.create(other, name="Second").close()

    def never(signer):
        raise AssertionError("a trusted key must not be asked about")

    report = _import_ok(other, package, ask=never)
    assert not report.newly_trusted


def test_own_packages_are_trusted_implicitly(demo_copy, tmp_path, receiver_keys):
    from layers import trust
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        export(ws, "public", "gpkg", tmp_path / "mine.gpkg")
    Workspace.create(tmp_path / "other.gpkg").close()

    def never(signer):
        raise AssertionError("this installation's own key must not be asked about")

    report = _import_ok(tmp_path / "other.gpkg", tmp_path / "mine.gpkg", ask=never)
    assert report.tables and not report.newly_trusted
    assert trust.trusted_keys() == []  # implicit: never written to the list


# -- trust ---------------------------------------------------------------------------------------


def test_untrusted_key_is_refused_and_the_question_names_fingerprint_and_municipality(package, receiver,
                                                                                      partner_keys):
    from layers import trust

    fingerprint = _partner_key(partner_keys).public.fingerprint
    error = _import_refused(receiver, package, "not trusted")
    assert isinstance(error, UntrustedKeyError)
    assert fingerprint in str(error) and MUNICIPALITY in str(error)
    asked = []

    def say_no(signer):
        asked.append(signer)
        return False

    _import_refused(receiver, package, "not trusted", ask=say_no)
    assert [(s.fingerprint, s.municipality) for s in asked] == [(fingerprint, MUNICIPALITY)]
    assert fingerprint in asked[0].question(package) and MUNICIPALITY in asked[0].question(package)
    assert trust.trusted_keys() == []
    # positive control: the same package, once the user says yes
    report = _import_ok(receiver, package, ask=lambda signer: True)
    assert report.newly_trusted and [t.fingerprint for t in trust.trusted_keys()] == [fingerprint]


def test_trust_list_is_per_installation(package, receiver, tmp_path, monkeypatch):
    _import_ok(receiver, package, trust_new=True)
    monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / "third_municipality"))
    Workspace.create(tmp_path / "third.gpkg").close()
    _import_refused(tmp_path / "third.gpkg", package, "not trusted")


def test_key_swapped_in_the_manifest_is_refused(package, receiver, partner_keys):
    """An attacker copies Riga's manifest, changes data, puts in their own key and signs: an untrusted key."""
    from layers import trust
    from layers.keys import PublicKey, generate

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    attacker = generate()
    _sql(package, "UPDATE risk_areas SET name = 'Moved' WHERE fid = (SELECT min(fid) FROM risk_areas)")
    frame = __import__("pyogrio").read_dataframe(package, layer="risk_areas", fid_as_index=True)
    frame.index.name = "fid"

    def forge(manifest):
        manifest["layers"]["risk_areas"]["sha256"] = layer_hash(frame)

    _resign(package, partner_keys, forge, key=attacker)
    error = _import_refused(receiver, package, "not trusted")
    assert error.signer.fingerprint == attacker.public.fingerprint
    assert error.signer.same_name  # and the question warns: another key is already trusted for "Riga"
    assert "already trusted for Riga" in error.signer.question(package)
    # the attacker keeps Riga's key in the manifest but signs with their own: the signature fails
    manifest, _sig = read_manifest(package)
    manifest["signer"] = _partner_key(partner_keys).public.text
    _rewrite_manifest(package, manifest, attacker.sign(json.dumps(manifest).encode()))
    _import_refused(receiver, package, "signature does not match")
    _, forged_signature = sign_manifest(manifest, attacker)
    _rewrite_manifest(package, {**manifest, "signer": _partner_key(partner_keys).public.text}, forged_signature)
    _import_refused(receiver, package, "signature does not match")
    # Riga's signature, with the attacker's key put in: fails too
    signed, riga_signature = sign_manifest(manifest, _partner_key(partner_keys))
    _rewrite_manifest(package, {**signed, "signer": attacker.public.text}, riga_signature)
    _import_refused(receiver, package, "signature does not match")
    assert PublicKey.from_text(read_manifest(package)[0]["signer"]) == attacker.public
    # positive control: the same altered data, signed by Riga (a real re-export), is accepted
    _resign(package, partner_keys, forge)
    assert _import_ok(receiver, package).tables


# -- altered contents ---------------------------------------------------------------------------


def test_altered_value_is_refused_even_with_hashes_recomputed(package, receiver, partner_keys):
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    _sql(package, "UPDATE reported_cases SET count = count + 100 WHERE fid = (SELECT min(fid) FROM reported_cases)")
    _import_refused(receiver, package, "content differs from what was signed")
    # recompute the layer's hash in the manifest (anyone can): the signature no longer matches
    frame = __import__("pyogrio").read_dataframe(package, layer="reported_cases", fid_as_index=True)
    frame.index.name = "fid"
    manifest, signature = read_manifest(package)
    manifest["layers"]["reported_cases"]["sha256"] = layer_hash(frame)
    _rewrite_manifest(package, manifest, signature)
    _import_refused(receiver, package, "signature does not match")
    # positive control: the very same file, signed by Riga's key, is accepted
    _resign(package, partner_keys)
    assert _import_ok(receiver, package).tables


def test_html_in_names_is_imported_as_data(package, receiver, partner_keys):
    """HTML in a name is a value like any other (the app shows it as text: tests/gui/test_sharing.py)."""
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    hostile = '<img src=x onerror="alert(1)"><b>Shelter</b>'
    _sql(package, f"UPDATE shelters SET name = '{hostile}' WHERE fid = (SELECT min(fid) FROM shelters)")
    _import_refused(receiver, package, "content differs from what was signed")  # control: an unsigned change is caught

    frame = __import__("pyogrio").read_dataframe(package, layer="shelters", fid_as_index=True)
    frame.index.name = "fid"

    def relabel(manifest):
        manifest["layers"]["shelters"]["sha256"] = layer_hash(frame)
        manifest["layers"]["shelters"]["label"] = "<script>alert(2)</script>"

    _resign(package, partner_keys, relabel)
    report = _import_ok(receiver, package)
    with Workspace.open(receiver) as ws:
        table = next(t for t in report.tables if t.endswith("_shelters"))
        assert hostile in set(ws.read_partner_layer(table)["name"])
        assert "<script>alert(2)</script>" in ws.partner_layers()[table]


@pytest.mark.parametrize("field, value", [
    ("municipality", "Jurmala"),
    ("profile", "police"),
    ("marking", "PUBLIC"),
    ("created", "2020-01-01T00:00:00+00:00"),
    ("catalogues", {"indicators": 99, "layer_kinds": 4, "sensitivity": 2}),
    ("rules", []),
    ("label", "Shelters (official)"),
    ("form", "hex_counts"),
    ("features", 1),
    ("extra_row", "anything"),
    ("drop_row", "rules"),
])
def test_any_altered_manifest_field_is_refused(package, receiver, partner_keys, field, value):
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    manifest, signature = read_manifest(package)
    if field in ("label", "form", "features"):
        manifest["layers"]["shelters"][field] = value
    elif field == "extra_row":
        manifest["note"] = value
    elif field == "drop_row":
        del manifest[value]
    else:
        manifest[field] = value
    _rewrite_manifest(package, manifest, signature)
    _import_refused(receiver, package, "signature does not match")


def test_untouched_manifest_rewritten_is_accepted(package, receiver, partner_keys):
    """Control for the test above: rewriting the same rows with the same signature changes nothing."""
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    manifest, signature = read_manifest(package)
    _rewrite_manifest(package, manifest, signature)
    assert _import_ok(receiver, package).tables


def test_duplicated_manifest_rows_and_keys_are_refused(package, receiver):
    conn = sqlite3.connect(package)
    with conn:
        conn.execute(f"INSERT INTO {MANIFEST_TABLE} (key, value) VALUES ('municipality', '\"Riga\"')")
    conn.close()
    _import_refused(receiver, package, "names a field twice")
    conn = sqlite3.connect(package)
    with conn:
        conn.execute(f"DELETE FROM {MANIFEST_TABLE} WHERE fid = (SELECT max(fid) FROM {MANIFEST_TABLE})")
        value = conn.execute(f"SELECT value FROM {MANIFEST_TABLE} WHERE key = 'layers'").fetchone()[0]
        doubled = value[:-1] + ', "shelters": {"label": "x", "form": "features", "sha256": "0", "features": 0}}'
        conn.execute(f"UPDATE {MANIFEST_TABLE} SET value = ? WHERE key = 'layers'", (doubled,))
    conn.close()
    _import_refused(receiver, package, "cannot be read")


def test_unsigned_packages_are_refused(package, receiver):
    conn = sqlite3.connect(package)
    with conn:
        conn.execute(f"DELETE FROM {MANIFEST_TABLE} WHERE key = 'signature'")
    conn.close()
    _import_refused(receiver, package, "not signed")
    conn = sqlite3.connect(package)
    with conn:
        conn.execute(f"UPDATE {MANIFEST_TABLE} SET value = '\"lantern-partner-package/1\"' WHERE key = 'format'")
    conn.close()
    _import_refused(receiver, package, "unsigned package from an older Lantern")


# -- hostile layer names (signed by a trusted key: a careless or compromised partner) --------------


def _rename_layers(mapping):
    def change(manifest):
        manifest["layers"] = {mapping.get(name, name): info for name, info in manifest["layers"].items()}
    return change


@pytest.mark.parametrize("names, match", [
    ({"shelters": "change_log"}, "not allowed"),
    ({"shelters": "workspace_meta"}, "not allowed"),
    ({"shelters": "layer_info"}, "not allowed"),
    ({"shelters": "gpkg_contents"}, "not allowed"),
    ({"shelters": "rtree_shelters_geom"}, "not allowed"),
    ({"shelters": "sqlite_master"}, "not allowed"),
    ({"shelters": "partner_x_shelters"}, "not allowed"),
    ({"shelters": 'x"; DROP TABLE change_log; --'}, "not allowed"),
    ({"shelters": "shelters' OR 1=1 --"}, "not allowed"),
    ({"shelters": "Shelters"}, "not allowed"),
    ({"shelters": "shelters\u212a"}, "not allowed"),  # Kelvin sign: case-folds onto "k"
    ({"shelters": "my_own_layer"}, "not a layer Lantern shares"),
    ({"shelters": ""}, "not allowed"),
])
def test_hostile_layer_names_are_refused_before_anything_is_written(package, receiver, partner_keys, names, match):
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    _resign(package, partner_keys, _rename_layers(names))
    _import_refused(receiver, package, match)


def test_case_duplicates_in_one_manifest_are_refused(package, receiver, partner_keys):
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)

    def doubled(manifest):
        manifest["layers"]["WORKSITES"] = dict(manifest["layers"]["worksites"])

    _resign(package, partner_keys, doubled)
    _import_refused(receiver, package, "differ only by case")
    _resign(package, partner_keys, lambda m: m["layers"].pop("WORKSITES"))  # control
    assert _import_ok(receiver, package).tables


def test_names_that_fold_onto_existing_tables_are_refused(package, receiver, partner_keys):
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    _sql(receiver, 'CREATE TABLE "PARTNER_RIGA_SHELTERS" (id INTEGER PRIMARY KEY)')
    _import_refused(receiver, package, "already in the workspace")
    _sql(receiver, 'DROP TABLE "PARTNER_RIGA_SHELTERS"')
    assert _import_ok(receiver, package).tables  # control
    _import_refused(receiver, package, "already in the workspace")  # the same package twice


# -- broken files -----------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "zeroed_tail", "garbage", "empty", "workspace", "missing"])
def test_damaged_files_are_refused_with_one_message(package, receiver, tmp_path, damage):
    data = package.read_bytes()
    if damage == "truncated":
        package.write_bytes(data[: len(data) // 3])
    elif damage == "zeroed_tail":
        package.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    elif damage == "garbage":
        package.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        package.write_bytes(b"")
    elif damage == "workspace":  # a GeoPackage, but not a package
        shutil.copy(receiver, package)
    else:
        package.unlink()
    _import_refused(receiver, package, ".")


# -- all or nothing -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["third_table", "layer_info", "change_log"])
def test_a_failure_half_way_changes_nothing(package, receiver, monkeypatch, where):
    import layers.history_store
    import layers.packages as packages
    from layers import trust

    calls = []
    if where == "third_table":
        real = packages._write_table

        def failing(db, table, *args):
            calls.append(table)
            if len(calls) == 3:
                raise sqlite3.OperationalError("disk I/O error (injected)")
            return real(db, table, *args)

        monkeypatch.setattr(packages, "_write_table", failing)
    elif where == "layer_info":
        import layers.migrations

        monkeypatch.setattr(layers.migrations, "LAYER_INFO_TABLE", "no_such_table")  # the INSERT fails
    else:
        def boom(*args, **kwargs):
            raise sqlite3.OperationalError("database or disk is full (injected)")

        monkeypatch.setattr(layers.history_store, "append", boom)
    from layers.errors import LanternError

    log_before, before = _log_actions(receiver), file_digest(receiver)
    with Workspace.open(receiver) as ws, pytest.raises(LanternError, match="nothing was") as info:
        import_package(ws, package, trust_new=True)
    assert receiver.name in str(info.value) or package.name in str(info.value)  # one message naming a file
    assert file_digest(receiver) == before
    assert _log_actions(receiver) == log_before
    assert trust.trusted_keys() == []  # trusted only once the import has committed
    if where == "third_table":
        assert len(calls) == 3
    monkeypatch.undo()
    monkeypatch.setenv("LANTERN_KEY_DIR", str(receiver.parent / "neighbour_keys"))
    assert _import_ok(receiver, package, trust_new=True).tables  # control: the same import, without the fault


def test_an_unexpected_error_half_way_also_rolls_back(package, receiver, monkeypatch):
    import layers.packages as packages

    real, calls = packages._write_table, []

    def failing(db, table, *args):
        calls.append(table)
        if len(calls) == 5:
            raise RuntimeError("injected")
        return real(db, table, *args)

    monkeypatch.setattr(packages, "_write_table", failing)
    before = file_digest(receiver)
    with Workspace.open(receiver) as ws, pytest.raises(RuntimeError):
        import_package(ws, package, trust_new=True)
    assert file_digest(receiver) == before


# -- the command line -----------------------------------------------------------------------------


def test_cli_import_package_asks_for_trust(package, receiver, partner_keys, capsys):
    from main import main

    before = file_digest(receiver)
    assert main(["import-package", str(package), "--into", str(receiver)]) == 2
    err = capsys.readouterr().err
    assert package.name in err and "not trusted" in err and "--trust-new" in err
    assert file_digest(receiver) == before
    assert main(["import-package", str(package), "--into", str(receiver), "--trust-new"]) == 0
    assert "Imported" in capsys.readouterr().out
    assert main(["trust-key", "--list"]) == 0
    out = capsys.readouterr().out
    assert _partner_key(partner_keys).public.fingerprint in out and MUNICIPALITY in out


def test_cli_trust_key(package, receiver, partner_keys, capsys):
    from main import main

    fingerprint = _partner_key(partner_keys).public.fingerprint
    assert main(["trust-key", "--list"]) == 0 and capsys.readouterr().out == ""
    assert main(["trust-key", str(package)]) == 0
    out = capsys.readouterr().out
    assert fingerprint in out and MUNICIPALITY in out and "trusted from now on" in out
    assert main(["trust-key", str(package)]) == 0 and "already trusted" in capsys.readouterr().out
    assert main(["import-package", str(package), "--into", str(receiver)]) == 0
    # a package whose signature fails cannot be trusted
    manifest, signature = read_manifest(package)
    _rewrite_manifest(package, {**manifest, "municipality": "Jurmala"}, signature)
    assert main(["trust-key", str(package)]) == 2
    assert "signature does not match" in capsys.readouterr().err


def test_open_package_requires_trust_when_asked(package):
    with pytest.raises(UntrustedKeyError):
        open_package(package, require_trust=True)
    assert open_package(package).signer.municipality == MUNICIPALITY


#: changes to a signed package that QGIS would show (areas, labels, titles, hidden features, extra layers, metadata,
#: triggers that fire when QGIS edits) but Lantern's own reading of the signed layers would not see
QGIS_VISIBLE_FORGERIES = {
    "a table the manifest does not list": [
        "CREATE TABLE change_log (id INTEGER PRIMARY KEY, note TEXT)",
        "INSERT INTO change_log (note) VALUES ('forged history')"],
    "a layer named like a system table": [
        "CREATE TABLE gpkg_evil (fid INTEGER PRIMARY KEY, note TEXT)",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('gpkg_evil', 'attributes', 'Safe')"],
    "a view": ["CREATE VIEW rtree_worksites_geom_evil AS SELECT 1 AS fid"],
    "an outline copy's attribute": ["UPDATE worksites_outlines SET name = 'FORGED'"],
    "the position of an area": ["UPDATE worksites SET geom = (SELECT geom FROM worksites WHERE outline IS NULL LIMIT 1)"
                                " WHERE fid = (SELECT min(fid) FROM worksites WHERE outline IS NOT NULL)"],
    "a value list's label": ["UPDATE gpkg_data_column_constraints SET description = 'Low' WHERE rowid = "
                             "(SELECT min(rowid) FROM gpkg_data_column_constraints)"],
    "a style of its own": ["INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                           " styleName, styleQML, useAsDefault) VALUES ('', '', 'worksites', 'geom', 'x', '<qgis/>', 1)"],
    "a layer's title": ["UPDATE gpkg_contents SET identifier = 'Verified safe shelters' WHERE table_name = 'worksites'"],
    "a spatial index entry (QGIS would not draw the feature)": [
        "DELETE FROM rtree_worksites_geom WHERE id = (SELECT min(id) FROM rtree_worksites_geom)"],
    "a trigger": ["CREATE TRIGGER evil AFTER UPDATE ON worksites BEGIN UPDATE worksites SET name = 'x'; END"],
}


@pytest.mark.parametrize("what", sorted(QGIS_VISIBLE_FORGERIES))
def test_a_change_qgis_would_show_refuses_the_package(package, receiver, partner_keys, tmp_path, what):
    """The signature covers the whole file, not only the layers Lantern reads: anything QGIS would show of a
    package that was changed after signing refuses it, and nothing is imported."""
    import shutil

    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    forged = tmp_path / "forged.gpkg"
    shutil.copy(package, forged)
    for statement in QGIS_VISIBLE_FORGERIES[what]:
        _sql(forged, statement)
    _import_refused(receiver, forged, "content differs from what was signed")


def test_the_untouched_package_and_a_legitimately_resigned_one_import(package, receiver, partner_keys):
    """Positive control for the forgeries above: the same file imports, and so does a change the sender signed."""
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    _sql(package, "UPDATE gpkg_contents SET identifier = 'Darba vietas' WHERE table_name = 'worksites'")
    _resign(package, partner_keys)
    assert _import_ok(receiver, package).tables


def test_a_package_whose_signature_covers_only_its_layers_is_refused(package, receiver, partner_keys):
    """Format 2 signed only the layers: what QGIS shows of it cannot be trusted, so the sender exports again."""
    from layers import trust

    trust.add(_partner_key(partner_keys).public, MUNICIPALITY)
    _resign(package, partner_keys, lambda m: m.update(format="lantern-partner-package/2"))
    _import_refused(receiver, package, "export it again")
