"""The desktop bundle's files, without building it: the launcher entry, the AppStream metadata, the icons, and
that the PyInstaller spec carries every file the app reads through layers/resources.py.

Building and running the frozen app is `make bundle-test` (packaging/smoke_test.py), not part of this suite.
"""
from __future__ import annotations

import ast
import configparser
import importlib.util
import re
import shutil
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_PACKAGES = ("layers", "audit", "mapping", "gui", "data")
RESOURCE_CALLS = {"load_json": "data", "resource": "data", "resource_path": "data"}  # + package_file(pkg, name)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = _load("lantern_bundle_data", PACKAGING / "bundle_data.py")
entry = _load("lantern_bundle_entry", PACKAGING / "lantern_entry.py")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
METAINFO = PACKAGING / f"{bundle.APP_ID}.metainfo.xml"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive (Name, Name[lv])
    parser.read(PACKAGING / "lantern.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


# -- the launcher entry ---------------------------------------------------------------------------

def test_desktop_entry_has_what_a_menu_needs():
    entry_ = desktop_entry()
    assert entry_["Type"] == "Application"
    assert entry_["Name"] == "Lantern"
    assert entry_["Exec"].split()[0] == "lantern" and "%f" in entry_["Exec"].split()  # opens a workspace file
    assert entry_["TryExec"] == "lantern"  # install.sh rewrites both to the installed program
    assert entry_["Icon"] == bundle.APP_ID
    assert entry_["Terminal"] == "false"
    assert entry_["Categories"].endswith(";") and "Geography" in entry_["Categories"].split(";")
    assert "application/geopackage+sqlite3" in entry_["MimeType"].split(";")
    assert re.search("[āčēģīķļņšūž]", entry_["Comment[lv]"])  # Latvian, not a copy of the English


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-validate missing "
                    "(Debian: desktop-file-utils); configparser checks above still ran")
def test_desktop_entry_validates(tmp_path):
    done = subprocess.run(["desktop-file-validate", str(PACKAGING / "lantern.desktop")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.desktop"  # positive control: the validator does reject a bad entry
    broken.write_text("[Desktop Entry]\nType=Application\nExec=lantern\n", encoding="utf-8")
    assert subprocess.run(["desktop-file-validate", str(broken)], capture_output=True).returncode != 0


# -- AppStream ------------------------------------------------------------------------------------

def test_metainfo_names_the_same_app_as_the_desktop_entry_and_the_spec():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == bundle.APP_ID
    launchable = root.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == f"{bundle.APP_ID}.desktop"
    assert root.find("icon").get("type") == "stock" and root.findtext("icon") == desktop_entry()["Icon"]
    assert root.findtext("provides/binary") == "lantern" == re.search(
        r'name="([^"]+)"', (PACKAGING / "lantern.spec").read_text()).group(1)
    assert root.findtext("project_license") == PYPROJECT["license"]["text"]
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert PYPROJECT["version"] in [r.get("version") for r in root.iter("release")], "no release entry for this version"
    assert {c.text for c in root.iter("category")} <= set(desktop_entry()["Categories"].split(";"))
    assert root.find("summary[@{http://www.w3.org/XML/1998/namespace}lang='lv']") is not None


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstreamcli missing (Debian: appstream)")
def test_metainfo_validates(tmp_path):
    done = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.metainfo.xml"  # positive control: a component without a name or summary fails
    broken.write_text(f'<?xml version="1.0"?><component type="desktop-application"><id>{bundle.APP_ID}</id>'
                      "</component>", encoding="utf-8")
    assert subprocess.run(["appstreamcli", "validate", "--no-net", str(broken)], capture_output=True).returncode != 0


# -- icons ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [48, 128, 256])
def test_icon_pngs_have_their_size(size):
    data = (PACKAGING / "icons" / f"lantern-{size}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (size, size)


def test_icon_svg_is_svg_and_install_files_exist():
    assert ET.parse(PACKAGING.parent / "data" / "icons" / "lantern.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    missing = [source for source in bundle.INSTALL_FILES if not (PACKAGING / source).is_file()]
    assert missing == []
    assert f"APP_ID={bundle.APP_ID}\n" in (PACKAGING / "install.sh").read_text()


# -- what the spec bundles --------------------------------------------------------------------------

def bundled() -> set[str]:
    """Files the spec bundles from the checkout, relative to it (as the frozen app finds them)."""
    return {str(Path(dest) / Path(src).name) for src, dest in bundle.data_files(ROOT)}


def test_spec_takes_its_lists_from_bundle_data():
    spec = (PACKAGING / "lantern.spec").read_text()
    for use in ("bundle_data.data_files(ROOT)", "bundle_data.PACKAGE_DATA", "bundle_data.METADATA",
                "bundle_data.EXCLUDES", "bundle_data.keep_file", "bundle_data.INSTALL_FILES",
                "lantern_entry.py"):
        assert use in spec


def test_every_data_file_of_the_app_packages_is_bundled():
    """A data file added to any package (gui/icons/x.svg, data/new.json) fails here until DATA_DIRS has it."""
    on_disk = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix not in bundle.SKIP_SUFFIXES and "__pycache__" not in path.parts:
                on_disk.add(str(path.relative_to(ROOT)))
    assert on_disk, "no data files found: wrong ROOT?"
    assert sorted(on_disk - bundled()) == []


def test_a_forgotten_data_folder_is_noticed(monkeypatch):
    """Positive control of the test above: without mapping/static the JS bridge and Leaflet plugins are missing."""
    monkeypatch.setattr(bundle, "DATA_DIRS", ("data",))
    assert "mapping/static/lantern_map.js" not in bundled()


def _resource_names():
    """``(package, name)`` of every literal passed to load_json / resource / resource_path / package_file; for an
    f-string, its constant leading folder (``locale/`` of ``f"locale/{lang}/..."``)."""
    found = []
    for package in ("layers", "audit", "mapping", "gui"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                args = node.args
                if name == "package_file" and len(args) == 2 and isinstance(args[0], ast.Constant):
                    found.append((args[0].value, args[1], path))
                elif name in RESOURCE_CALLS and args:
                    found.append((RESOURCE_CALLS[name], args[0], path))
    names = []
    for package, arg, path in found:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.append((f"{package}/{arg.value}", False, path))
        elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
            folder = arg.values[0].value.rpartition("/")[0]
            names.append((f"{package}/{folder}".rstrip("/"), True, path))
    return names


def test_every_resource_the_code_names_is_bundled():
    names = _resource_names()
    assert len(names) >= 10, names  # the scan finds the app's lookups (load_json("layer_kinds.json"), ...)
    files = bundled()
    missing = [(name, str(path.relative_to(ROOT))) for name, is_folder, path in names
               if not (any(f.startswith(name + "/") for f in files) if is_folder else name in files)]
    assert missing == []


def test_every_xstatic_asset_package_is_bundled():
    imported = set()
    for path in (ROOT / "mapping").rglob("*.py"):
        imported |= set(re.findall(r"import (xstatic\.pkg\.\w+)", path.read_text(encoding="utf-8")))
    assert imported, "mapping/assets.py no longer imports xstatic packages: update this test"
    assert imported <= set(bundle.PACKAGE_DATA)


def test_every_language_keeps_its_locale_files():
    from layers.i18n import SUPPORTED

    assert set(SUPPORTED) <= set(bundle.LANGUAGES)
    keep = bundle.keep_file
    for kept in ("PySide6/Qt/translations/qtbase_lv.qm", "PySide6/Qt/translations/qt_en.qm",
                 "PySide6/Qt/translations/qtwebengine_locales/lv.pak",
                 "PySide6/Qt/translations/qtwebengine_locales/en-US.pak",
                 "babel/locale-data/lv_LV.dat", "babel/locale-data/en_GB.dat", "babel/locale-data/en_001.dat",
                 "babel/locale-data/root.dat", "data/locale/lv/LC_MESSAGES/lantern.mo", "babel/global.dat"):
        assert keep(kept), kept
    for dropped in ("PySide6/Qt/translations/qtbase_fi.qm", "PySide6/Qt/translations/qt_zh_CN.qm",
                    "PySide6/Qt/translations/qtwebengine_locales/fi.pak", "babel/locale-data/fi_FI.dat",
                    "babel/locale-data/lt.dat"):
        assert not keep(dropped), dropped


def test_babel_formats_numbers_with_only_the_bundled_locale_data(monkeypatch, tmp_path):
    """The locales layers.i18n formats numbers in load from the trimmed CLDR data (parents included)."""
    import babel
    from babel import localedata
    from layers import i18n

    full = Path(babel.__file__).parent / "locale-data"
    trimmed = tmp_path / "locale-data"
    trimmed.mkdir()
    for dat in full.glob("*.dat"):
        if bundle.keep_file(f"babel/locale-data/{dat.name}"):
            (trimmed / dat.name).symlink_to(dat)
    monkeypatch.setattr(localedata, "_dirname", str(trimmed))
    monkeypatch.setattr(localedata, "_cache", {})
    for lang, expected in (("en", "1,234,567"), ("lv", "1\u00a0234\u00a0567")):
        with i18n.using(lang):
            assert i18n.integer(1234567) == expected
            assert i18n.percent(0.981)
    with pytest.raises(Exception):  # positive control: a locale that was left out cannot load
        localedata.load("fi_FI")


def test_catalogue_check_notices_a_missing_mo(tmp_path):
    po = tmp_path / "data" / "locale" / "lv" / "LC_MESSAGES" / "lantern.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    assert bundle.stale_catalogues(tmp_path) == ["data/locale/lv/LC_MESSAGES/lantern.po"]
    po.with_suffix(".mo").write_bytes(b"")
    assert bundle.stale_catalogues(tmp_path) == []


# -- the frozen entry point --------------------------------------------------------------------------

def _child_codes() -> list[str]:
    """The ``-c`` code strings Lantern starts its child processes with (``sys.executable -c CODE``)."""
    codes = []
    for package in ("layers", "audit", "mapping", "gui"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "sys.executable" in text and '"-c"' in text:
                codes += re.findall(r'code = "([^"]+)"', text)
                assert re.findall(r'code = "([^"]+)"', text), f"{path}: starts a child whose code this test cannot see"
    return codes


def test_the_frozen_program_runs_every_child_process_lantern_starts():
    codes = _child_codes()
    assert len(codes) >= 2, codes  # the OSM reader and the tile cutter
    for code in codes:
        assert entry.CHILD_CODE.fullmatch(code), f"packaging/lantern_entry.py would refuse {code!r}"


def test_the_frozen_program_runs_no_other_code(capsys):
    assert entry.run_child("import os; os.system('true')", []) == 2
    assert entry.run_child("from layers.osm import helsinki_extract; print(1)", []) == 2
    assert "only Lantern's own child processes" in capsys.readouterr().err
