"""Crash suite: SIGKILL at random points during import, import-osm, annotation batches, package import
and police export (issue 11, item 7). After every kill, ``check`` passes without a false alarm and
every change whose command had reported success is still there — and nothing half-done is.

A fork server (one Python process that has imported everything once) forks each run, so a run costs
milliseconds instead of an interpreter start-up, and the kill lands in the work itself. The child
runs the real CLI (``main.main``) or the audit commands, and prints ``COMMIT`` after each success.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from audit.check import check_workspace
from layers.workspace import Workspace, recover_interrupted_write

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261128
RUNS_PER_SCENARIO = 11  # five scenarios: 55 kills
IMPORT_ROWS = 300

DRIVER = textwrap.dedent("""
    import json, os, signal, sys, time
    sys.path.insert(0, {root!r})
    import geopandas, pyogrio, shapely  # noqa: F401  (imported once, before any fork)
    import main
    from layers import importers, osm, packages  # noqa: F401
    from layers.workspace import Workspace
    from audit.annotations import new_place
    from audit.commands import History
    from mapping import share_export  # noqa: F401

    def scenario(job):
        ws, kind = job["ws"], job["scenario"]
        if kind == "import":
            for _ in range(50):
                if main.main(["import", job["src"], "--kind", "transport_hubs", "--into", ws]) == 0:
                    print("COMMIT", flush=True)
        elif kind == "osm":
            for _ in range(5):
                if main.main(["import-osm", job["src"], "--out", ws]) == 0:
                    print("COMMIT", flush=True)
        elif kind == "annotate":
            with Workspace.open(ws) as w:
                history = History(w, "crash test")
                for i in range(100000):
                    history.do(new_place("places_of_concern", 24.94, 60.17, {{"name": f"p{{i}}", "category": "clinic"}}))
                    print("COMMIT", flush=True)
        elif kind == "package":  # into fresh copies of the workspace, one after the other
            import shutil
            for i in range(50):
                target = f"{{ws[:-5]}}-{{job['run']}}-{{i}}.gpkg"
                shutil.copy(ws, target)
                print("START " + target, flush=True)
                if main.main(["import-package", job["src"], "--into", target, *job["extra"]]) == 0:
                    print("COMMIT " + target, flush=True)
        elif kind == "export":
            for i in range(50):
                out = os.path.join(job["outdir"], f"police-{{job['run']}}-{{i}}.gpkg")
                if main.main(["export", ws, "--profile", "police", "--format", "gpkg", "--out", out,
                              "--recipient", "Inspector", "--confirm-police"]) == 0:
                    print("COMMIT " + out, flush=True)

    print("ready", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            try:
                scenario(job)
            finally:
                os._exit(0)
        time.sleep(job["delay"])
        killed = False
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            killed = True
            os.waitpid(pid, 0)
        print(json.dumps({{"killed": killed}}), flush=True)
""")


def _count(path: Path, sql: str) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


MEASURE = {
    "import": "SELECT count(*) FROM transport_hubs",
    "osm": "SELECT count(*) FROM transport_hubs",
    "annotate": "SELECT count(*) FROM places_of_concern",
    "package": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'partner%'",
    "export": "SELECT count(*) FROM change_log WHERE action = 'export'",
}


def _check_packages(lines: list[str], unit: int | None, stats: dict, where) -> None:
    """Every copy a package went into: check passes; a reported import is whole, the one killed is whole or absent."""
    started = [line.split(" ", 1)[1] for line in lines if line.startswith("START ")]
    done = {line.split(" ", 1)[1] for line in lines if line.startswith("COMMIT ")}
    for i, target in enumerate(started):
        path = Path(target)
        last = i == len(started) - 1
        if last:
            stats["recovered"] += recover_interrupted_write(path)
        if last or i % 5 == 0:  # checking every copy would double the suite's time
            result = check_workspace(path)
            assert result.ok, (target, where, result.problems)
        have = _count(path, MEASURE["package"])
        if unit is not None:
            assert have in (0, unit), (target, where, have, unit)
            assert target not in done or have == unit, (target, where)
        assert last or target in done or unit is None, (target, where)
        path.unlink()


@pytest.fixture(scope="module")
def setup(tmp_path_factory, demo_file):
    import geopandas as gpd
    import shapely

    from layers.osm import helsinki_extract
    from mapping.share_export import export

    base = tmp_path_factory.mktemp("crash")
    src = base / "hubs.geojson"
    gpd.GeoDataFrame({"name": [f"Stop {i}" for i in range(IMPORT_ROWS)], "hub_type": ["bus_station"] * IMPORT_ROWS},
                     geometry=[shapely.Point(24.9 + i * 1e-5, 60.1) for i in range(IMPORT_ROWS)],
                     crs=4326).to_file(src, driver="GeoJSON")
    package = base / "package.gpkg"
    with Workspace.open(demo_file) as ws:
        export(ws, "partner", "gpkg", package)
    # how many rows one complete import-osm adds (to tell a whole import from a partial one)
    probe = Workspace.create(base / "probe.gpkg")
    from layers.osm import import_osm

    probe.close()
    import_osm(helsinki_extract(), probe.path)
    osm_unit = _count(probe.path, MEASURE["osm"])
    package_unit = None
    probe2 = Workspace.create(base / "probe2.gpkg")
    probe2.close()
    import main as cli

    extra = ["--trust-new"] if "--trust-new" in Path(ROOT / "main.py").read_text() else []
    if cli.main(["import-package", str(package), "--into", str(probe2.path), *extra]) == 0:
        package_unit = _count(probe2.path, MEASURE["package"])
    return {"base": base, "src": src, "package": package, "osm": helsinki_extract(), "osm_unit": osm_unit,
            "package_unit": package_unit, "extra": extra}


def test_sigkill_at_random_points_loses_nothing_committed(setup, demo_file, tmp_path):
    rng = random.Random(SEED)
    driver = subprocess.Popen([sys.executable, "-c", DRIVER.format(root=str(ROOT))], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert driver.stdout.readline().strip() == "ready"
    workspaces, unit, committed, base_count = {}, {}, {}, {}
    for kind in MEASURE:
        path = tmp_path / f"{kind}.gpkg"
        if kind in ("import", "osm"):
            Workspace.create(path).close()
        else:
            shutil.copy(demo_file, path)
        workspaces[kind] = path
        base_count[kind] = _count(path, MEASURE[kind])
        committed[kind] = 0
    unit = {"import": IMPORT_ROWS, "osm": setup["osm_unit"], "annotate": 1, "package": setup["package_unit"],
            "export": 1}
    (tmp_path / "exports").mkdir()
    started = time.monotonic()
    kills, runs, stats = 0, 0, {k: {"runs": 0, "kills": 0, "commits": 0, "recovered": 0} for k in MEASURE}
    schedule = [k for _ in range(RUNS_PER_SCENARIO) for k in MEASURE]
    rng.shuffle(schedule)
    try:
        for run, kind in enumerate(schedule):
            ws = workspaces[kind]
            src = {"import": setup["src"], "osm": setup["osm"], "package": setup["package"]}.get(kind, "")
            log = tmp_path / f"run{run}.log"
            delay = rng.uniform(0.05, 1.5)
            job = {"scenario": kind, "ws": str(ws), "src": str(src), "log": str(log), "delay": delay, "run": run,
                   "outdir": str(tmp_path / "exports"), "extra": setup["extra"]}
            driver.stdin.write(json.dumps(job) + "\n")
            driver.stdin.flush()
            result = json.loads(driver.stdout.readline())
            runs += 1
            kills += result["killed"]
            stats[kind]["runs"] += 1
            stats[kind]["kills"] += result["killed"]
            # a child killed before it opened its log did nothing at all (a busy machine can delay it that long)
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            assert "Traceback" not in "\n".join(lines), (kind, run, "\n".join(lines[-30:]))
            reported = [line for line in lines if line.startswith("COMMIT")]
            stats[kind]["commits"] += len(reported)
            committed[kind] += len(reported)

            if kind == "package":
                _check_packages(lines, unit["package"], stats[kind], (run, delay))
                continue
            # what `main.py check` does: roll back an interrupted write, then judge the file
            stats[kind]["recovered"] += recover_interrupted_write(ws)
            result_check = check_workspace(ws)
            assert result_check.ok, (kind, run, delay, result_check.problems)

            have = _count(ws, MEASURE[kind]) - base_count[kind]
            want = committed[kind] * unit[kind]
            # the kill may land after a commit and before its COMMIT line: one more whole unit is fine
            assert have in (want, want + unit[kind]), (kind, run, delay, have, want, "\n".join(lines[-10:]))
            committed[kind] = have // unit[kind]
            for line in reported:  # a police export that said it was done is in place and in the log
                if kind == "export":
                    assert Path(line.split(" ", 1)[1]).is_file()
    finally:
        driver.stdin.close()
        driver.wait(timeout=30)
    seconds = time.monotonic() - started
    print(f"\ncrash suite: {runs} runs, {kills} SIGKILLs in {seconds:.1f} s (package unit {unit['package']});")
    for kind, numbers in stats.items():
        print(f"  {kind}: {numbers}")
    assert kills >= 50, (kills, stats)
    for kind in MEASURE:  # every scenario was killed in mid-work and also got work done
        assert stats[kind]["kills"] > 0, stats
    assert any(stats[k]["commits"] for k in MEASURE), stats
