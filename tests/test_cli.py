import subprocess
import sys
from pathlib import Path

import pytest

from layers.workspace import Workspace
from tests.conftest import file_digest

ROOT = Path(__file__).resolve().parents[1]


def lantern(*args, cwd=ROOT, **env):
    """Run main.py; in English unless told otherwise (LANTERN_LANG wins over the machine's locale)."""
    import os

    environ = {**os.environ, "LANTERN_LANG": "en", **env}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=environ)


def test_help_documents_every_command():
    import main

    out = lantern("--help").stdout
    for text in ("--demo", "--screenshot", "WORKSPACE.gpkg", "--version", *main.COMMANDS):
        assert text in out
    assert "--kind" in lantern("import", "--help").stdout and "--into" in lantern("import", "--help").stdout


def test_every_command_has_help_text():
    """Each subparser gives a one-line help (listed at the top level) and a description of its own."""
    import re

    import main

    parser = main.build_parser()
    top = parser.format_help()
    for name, sub in main.commands(parser).items():
        assert re.search(rf"^ +{re.escape(name)} +\S", top, re.M), f"{name} has no help line in --help"
        assert sub.description, f"{name} has no description"
        assert sub.prog == f"lantern {name}"


@pytest.mark.parametrize("command", ["demo", "import", "import-osm", "check", "checklist", "plan-outreach", "export",
                                     "import-package", "trust-key", "report", "referral", "gaps", "answer"])
def test_each_command_has_help(command):
    result = lantern(command, "--help")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) > 3


def test_version_comes_from_the_package():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = lantern("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"lantern {version}"


def test_an_unknown_command_says_so():
    result = lantern("exprot", "w.gpkg")
    assert result.returncode == 2
    assert "unknown command 'exprot'" in result.stderr and "export" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, listed", [
    (["referral", "w.gpkg", "--form", "bogus"], "labour"),
    (["gaps", "w.gpkg", "--assistance", "bogus"], "safe_place"),
    (["import", "a.csv", "--kind", "bogus", "--into", "w.gpkg"], "transport_hubs"),
    (["plan-outreach", "w.gpkg", "--out", "d", "--forms", "labour,bogus"], "sexual"),
    (["export", "w.gpkg", "--profile", "bogus", "--format", "pdf", "--out", "x.pdf"], "partner"),
])
def test_option_values_are_checked_against_the_catalogues(args, listed):
    result = lantern(*args)
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr and listed in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_workspace_is_one_error_line(tmp_path):
    result = lantern("gaps", tmp_path / "missing.gpkg")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "missing.gpkg" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_main_imports_without_qt():
    code = "import sys, main; assert not [m for m in sys.modules if m.startswith('PySide6')]; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_demo_command_writes_a_populated_workspace(tmp_path):
    out = tmp_path / "d.gpkg"
    result = lantern("demo", out)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout and "OpenStreetMap contributors" in result.stdout
    with Workspace.open(out) as ws:
        assert ws.count("reported_cases") >= 24
        assert ws.count("risk_areas") >= 8
        assert ws.count("places_of_concern") >= 24 and ws.count("transport_hubs") >= 24
        assert ws.layer_info("reported_cases")["synthetic"] == 1
        assert ws.layer_info("risk_areas")["synthetic"] == 1
        assert ws.layer_info("worksites")["synthetic"] == 0  # real OSM places
        assert "synthetic" in ws.name
        assert ws.metadata["osm_attribution"] == "© OpenStreetMap contributors"


def test_import_command_succeeds_and_reports(tmp_path):
    Workspace.create(tmp_path / "w.gpkg").close()
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type,platforms\n24.1,56.95,Central,railway_station,8\n")
    result = lantern("import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg")
    assert result.returncode == 0, result.stderr
    assert "Imported 1 feature into" in result.stdout and "platforms" in result.stdout


def test_import_command_can_drop_a_column_explicitly(tmp_path):
    Workspace.create(tmp_path / "w.gpkg").close()
    src = tmp_path / "cases.csv"
    src.write_text("lon,lat,reported,forms,status,caseworker\n24.1,56.95,2025-02,labour,potential,X\n")
    refused = lantern("import", src, "--kind", "reported_cases", "--into", tmp_path / "w.gpkg")
    assert refused.returncode != 0 and "caseworker" in refused.stderr
    result = lantern("import", src, "--kind", "reported_cases", "--into", tmp_path / "w.gpkg", "--map", "caseworker=-")
    assert result.returncode == 0, result.stderr
    with Workspace.open(tmp_path / "w.gpkg") as ws:
        assert ws.count("reported_cases") == 1


def test_import_command_fails_clearly_and_changes_nothing(tmp_path):
    Workspace.create(tmp_path / "w.gpkg").close()
    before = file_digest(tmp_path / "w.gpkg")
    src = tmp_path / "table.csv"
    src.write_text("name\nA\n")
    result = lantern("import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg")
    assert result.returncode == 2
    assert "table.csv: no coordinate columns" in result.stderr
    assert "not changed" in result.stderr
    assert file_digest(tmp_path / "w.gpkg") == before


def test_import_command_takes_encoding_and_crs(tmp_path):
    from pyproj import Transformer

    Workspace.create(tmp_path / "w.gpkg").close()
    name = "Stacija ā ē ī ū š ž č ķ ļ ņ ģ"  # a made-up place
    x, y = Transformer.from_crs(4326, 3059, always_xy=True).transform(24.1211, 56.9466)
    src = tmp_path / "lks.csv"
    src.write_bytes(f"x,y,name,hub_type\n{x:.2f},{y:.2f},{name},tram_stop\n".encode("cp1257"))
    before = file_digest(tmp_path / "w.gpkg")
    refused = lantern("import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg")
    assert refused.returncode == 2 and "lks.csv: " in refused.stderr and "--crs EPSG:3059" in refused.stderr
    for bad, said in ((["--crs", "EPSG:99999"], "lks.csv: unknown coordinate system"),
                      (["--crs", "EPSG:3059", "--encoding", "nope-8"], "lks.csv: unknown text encoding"),
                      (["--crs", "EPSG:3059", "--encoding", "utf-8"], "lks.csv: cannot be read as utf-8")):
        result = lantern("import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg", *bad)
        assert result.returncode == 2 and said in result.stderr and "not changed" in result.stderr, result.stderr
    assert file_digest(tmp_path / "w.gpkg") == before
    result = lantern("import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg", "--crs", "EPSG:3059")
    assert result.returncode == 0, result.stderr
    assert "cp1257" in result.stdout  # the detected encoding is said
    with Workspace.open(tmp_path / "w.gpkg") as ws:
        layer = ws.read_layer("transport_hubs")
    assert layer["name"].iloc[0] == name
    assert abs(layer.geometry.iloc[0].x - 24.1211) < 1e-6 and abs(layer.geometry.iloc[0].y - 56.9466) < 1e-6


def test_export_command_csv_dialect(demo_copy, tmp_path):
    out = tmp_path / "out"
    result = lantern("export", demo_copy, "--profile", "public", "--format", "csv", "--out", out,
                     "--csv-dialect", "excel-lv")
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.csv"))
    assert files and all(f.read_bytes().startswith(b"\xef\xbb\xbf") for f in files)
    assert all(f.read_text(encoding="utf-8-sig").splitlines()[0].startswith("marking;") for f in files)
    bad = lantern("export", demo_copy, "--profile", "public", "--format", "csv", "--out", tmp_path / "o2",
                  "--csv-dialect", "excel-fr")
    assert bad.returncode == 2 and "excel-lv" in bad.stderr and not (tmp_path / "o2").exists()


def test_plan_outreach_command_csv_dialect(demo_copy, tmp_path):
    out = tmp_path / "plan"
    result = lantern("plan-outreach", demo_copy, "--sites", "3", "--out", out, "--csv-dialect", "excel-lv")
    assert result.returncode == 0, result.stderr
    sites = out / "sites.csv"
    assert sites.read_bytes().startswith(b"\xef\xbb\xbf")
    header = sites.read_text(encoding="utf-8-sig").splitlines()[0]
    assert ";" in header and "," not in header  # control: the standard dialect writes commas (below)
    standard = lantern("plan-outreach", demo_copy, "--sites", "3", "--out", tmp_path / "p2")
    assert standard.returncode == 0, standard.stderr
    assert "," in (tmp_path / "p2" / "sites.csv").read_text(encoding="utf-8-sig").splitlines()[0]


def test_import_osm_command(tmp_path):
    from layers.osm import helsinki_extract

    out = tmp_path / "h.gpkg"
    result = lantern("import-osm", helsinki_extract(), "--out", out, "--bbox", "24.94,60.165,24.95,60.175")
    assert result.returncode == 0, result.stderr
    assert "Imported" in result.stdout and "clipped" in result.stdout
    with Workspace.open(out) as ws:
        assert ws.count("transport_hubs") > 0
        assert ws.read_layer("transport_hubs")["osm_id"].notna().all()


def test_import_osm_command_fails_clearly(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00" * 100)
    result = lantern("import-osm", bad, "--out", tmp_path / "h.gpkg")
    assert result.returncode == 2
    assert "broken.osm.pbf: cannot be read as an OSM extract" in result.stderr
    assert not (tmp_path / "h.gpkg").exists()
    assert lantern("import-osm", bad, "--out", tmp_path / "h.gpkg", "--bbox", "1,2,3").returncode != 0


# -- the language of the command line ------------------------------------------------------------


def test_lang_lv_help_is_latvian_argparse_words_included():
    out = lantern("--lang", "lv", "--help").stdout
    for text in ("lietojums: lantern", "opcijas:", "parādīt šo palīdzību un beigt darbu", "komandas:",
                 "ierakstīt demonstrācijas novada darbvidi", "atbildēt uz situācijas apzināšanas jautājumu"):
        assert text in out, text
    for english in ("usage:", "show this help message", "positional arguments", "write the demo district"):
        assert english not in out, english


def test_a_command_help_is_latvian_under_the_system_locale():
    result = lantern("referral", "--help", LANTERN_LANG="", LC_ALL="", LC_MESSAGES="", LANG="lv_LV.UTF-8")
    assert result.returncode == 0
    assert "lietojums: lantern referral" in result.stdout and "pozicionālie argumenti:" in result.stdout
    assert "ekspluatācijas veids" in result.stdout and "upura novirzīšanai" in result.stdout


def test_every_help_text_is_latvian_under_latvian():
    """Each option's help and each description of every command is translated (ids and metavars stay)."""
    import main
    from layers import i18n

    def texts():
        parser = main.build_parser()
        for name, sub in [("lantern", parser), *main.commands(parser).items()]:
            yield name, sub.description
            yield from ((name, a.help) for a in sub._actions if a.help)

    with i18n.using("en"):
        english = list(texts())
    with i18n.using("lv"):
        latvian = list(texts())
    assert len(english) == len(latvian) > 100
    untranslated = [en for en, lv in zip(english, latvian) if en == lv]
    assert untranslated == []


def test_argparse_errors_are_latvian_and_global_lang_goes_before_the_command():
    result = lantern("--lang", "lv", "export", "w.gpkg", "--profile", "bogus", "--format", "pdf", "--out", "x.pdf")
    assert result.returncode == 2
    assert "kļūda: arguments --profile: nederīga izvēle: 'bogus'" in result.stderr
    missing = lantern("--lang=lv", "gaps")
    assert "jānorāda šie argumenti: WORKSPACE.gpkg" in missing.stderr
    unknown = lantern("exprot", "w.gpkg", LANTERN_LANG="lv")
    assert "nezināma komanda 'exprot'" in unknown.stderr


def test_lantern_errors_and_counts_are_latvian(tmp_path):
    Workspace.create(tmp_path / "w.gpkg").close()
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type\n24.1,56.95,A,railway_station\n24.2,56.95,B,bus_station\n")
    result = lantern("--lang", "lv", "import", src, "--kind", "transport_hubs", "--into", tmp_path / "w.gpkg")
    assert result.returncode == 0, result.stderr
    assert "importēti 2 objekti" in result.stdout
    missing = lantern("--lang", "lv", "gaps", tmp_path / "missing.gpkg")
    assert missing.returncode == 2 and missing.stderr.startswith("kļūda: ")


def test_a_document_follows_the_global_language(tmp_path):
    out = tmp_path / "c.pdf"
    result = lantern("--lang", "lv", "checklist", "--place-type", "street", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ierakstīts {out} (1 lappuse)"


def test_the_window_size_option_is_checked(capsys):
    import main

    assert main.build_parser().parse_args(["--size", "1366x768"]).size == (1366, 768)
    for bad in ("1366", "big", "10x10", "1366x768x2"):
        with pytest.raises(SystemExit):
            main.build_parser().parse_args(["--size", bad])
        assert "1366x768" in capsys.readouterr().err
