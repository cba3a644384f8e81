"""City-scale analysis benchmark: plan-outreach (k=30), a partner GeoPackage export and the public report
on a city workspace, each `main.py` command timed in its own process (wall time, peak RSS).

The workspace is built once and cached in $TMPDIR/lantern-bench (LANTERN_BENCH_CACHE), keyed by its
parameters: `main.py import-osm` of the city extract from bench/city_extract.py (tiled copies of the
Helsinki extract plus synthetic buildings, as bench/osm_city.py), then `main.py import --kind
reported_cases` of BENCH_CASES synthetic cases from a CSV made by bench/import_cases.py's maker, spread over
the whole city's extent instead of the first tile. Each timed run works on a fresh copy of the workspace.

Baseline, timed in the same run in its own process: a bare `pyogrio.read_dataframe` of the workspace's
reported_cases layer plus a geopandas count of the cases per 250 m grid cell (EPSG:3067), the core of
what the partner export's hexagon counts need.

    CITY_TILES     tiles, "NXxNY" or a count (default: enough for >= 900,000 OSM objects: 6x5)
    CITY_BUILDINGS buildings in the city (default 300,000)
    BENCH_CASES    synthetic reported cases (default 1,000,000)
    BENCH_RUNS     runs of each (default 3)
    BENCH_TIMEOUT  seconds before a run is stopped and counted as missed (default 300)

Targets (issue 14): each under 30 s, memory under 1.5 GB.
Last line: plan_s=… export_s=… report_s=… peak_mb=…
"""
from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from city_extract import cache_dir, city_extract  # noqa: E402
from import_cases import MAKE  # noqa: E402
from osm_city import HELSINKI_BUILDINGS_PER_TILE, grid  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CASES = int(os.environ.get("BENCH_CASES", "1000000"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "300"))
TARGET_S, TARGET_MB = 30.0, 1536
FORMAT = 1  # bump when the workspace is built differently (invalidates the cache)

# wall time and peak RSS of one command, in a launcher of its own so RUSAGE_CHILDREN is that command's
# alone; a run over the timeout is stopped by its process group id (the launcher started it as a session)
_LAUNCH = """
import json, os, resource, signal, subprocess, sys, time
timeout = float(sys.argv[1])
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        start_new_session=True)
try:
    out, err = proc.communicate(timeout=timeout)
    timed_out = False
except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    out, err = proc.communicate()
    timed_out = True
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "peak_mb": peak_mb, "rc": proc.returncode, "timeout": timed_out,
                  "out": out[-2000:], "err": err[-3000:]}))
"""

BASELINE = """
import sys, numpy as np, pyogrio
frame = pyogrio.read_dataframe(sys.argv[1], layer="reported_cases")
xy = frame.geometry.to_crs(3067).get_coordinates()
cells = (np.floor(xy.x.to_numpy() / 250).astype(np.int64) * 1_000_003
         + np.floor(xy.y.to_numpy() / 250).astype(np.int64))
_, counts = np.unique(cells, return_counts=True)
print(len(frame), len(counts), int((counts >= 5).sum()))
"""


def measure(*command) -> dict:
    result = subprocess.run([sys.executable, "-c", _LAUNCH, str(TIMEOUT), *map(str, command)],
                            capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def city_bounds(nx: int, ny: int) -> tuple[float, float, float, float]:
    """W, S, E, N of the tiled city: the Helsinki extract's box, tiled as city_extract._read_source does."""
    import osmium

    sys.path.insert(0, str(ROOT))
    from layers.osm import helsinki_extract

    box = osmium.io.Reader(str(helsinki_extract()), osmium.osm.NOTHING).header().box()
    west, south = box.bottom_left.lon, box.bottom_left.lat
    east, north = box.top_right.lon, box.top_right.lat
    size = (math.ceil((east - west) * 1e4 + 1) / 1e4, math.ceil((north - south) * 1e4 + 1) / 1e4)
    return west, south, west + nx * size[0] - (size[0] - (east - west)), south + ny * size[1] - (size[1] - (north - south))


def case_maker(bounds) -> str:
    """import_cases.MAKE, with the points spread over ``bounds`` instead of central Helsinki."""
    w, s, e, n = bounds
    old_lon, old_lat = "24.9 + 0.1 * rng.random(n)", "60.15 + 0.06 * rng.random(n)"
    assert old_lon in MAKE and old_lat in MAKE, "bench/import_cases.py's CSV maker changed"
    return MAKE.replace(old_lon, f"{w!r} + {e - w!r} * rng.random(n)").replace(old_lat,
                                                                                f"{s!r} + {n - s!r} * rng.random(n)")


def run_or_die(label: str, *command) -> dict:
    print(f"building: {label} ...", flush=True)
    start = time.perf_counter()
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    print(f"  {label}: {time.perf_counter() - start:.1f} s", flush=True)
    return done


def workspace() -> Path:
    nx, ny = grid()
    buildings = int(os.environ.get("CITY_BUILDINGS", "300000"))
    per_tile = max(0, math.ceil((buildings - HELSINKI_BUILDINGS_PER_TILE * nx * ny) / (nx * ny))) if buildings else 0
    city, counts = city_extract(nx, ny, per_tile)
    bounds = city_bounds(nx, ny)
    print(f"city: {city.name}, {nx}x{ny} tiles + {per_tile:,} synthetic buildings per tile; "
          f"objects={counts['objects']:,} buildings={counts['buildings']:,}; {CASES:,} reported cases in "
          f"{', '.join(f'{b:.4f}' for b in bounds)}")
    target = cache_dir() / f"city-ws-{nx}x{ny}-b{per_tile}-c{CASES}-f{FORMAT}.gpkg"
    if target.is_file():
        print(f"workspace (cached): {target}")
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        ws, csv = Path(tmp) / "city.gpkg", Path(tmp) / "cases.csv"
        run_or_die("import-osm", sys.executable, "main.py", "import-osm", city, "--out", ws)
        run_or_die("cases CSV", sys.executable, "-c", case_maker(bounds), str(CASES), csv)
        run_or_die(f"import of {CASES:,} cases", sys.executable, "main.py", "import", "--kind", "reported_cases",
                   "--into", ws, csv)
        os.replace(ws, target)
    print(f"workspace (built): {target}")
    return target


def main() -> None:
    ws = workspace()
    names = ("plan", "export", "report")
    results: dict[str, list[dict]] = {name: [] for name in names + ("baseline",)}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            results["baseline"].append(measure(sys.executable, "-c", BASELINE, ws))
            for name in names:
                copy = Path(tmp) / f"ws-{name}.gpkg"
                shutil.copyfile(ws, copy)  # every command sees the workspace as built, not another's log entries
                out = Path(tmp) / f"{name}{i}"
                command = {
                    "plan": ("plan-outreach", copy, "--sites", "30", "--out", out, "--profile", "public"),
                    "export": ("export", copy, "--profile", "partner", "--format", "gpkg", "--out", f"{out}.gpkg"),
                    "report": ("report", copy, "--profile", "public", "--out", f"{out}.pdf"),
                }[name]
                r = measure(sys.executable, "main.py", *command)
                results[name].append(r)
                state = "STOPPED after timeout" if r["timeout"] else ("ok" if r["rc"] == 0 else f"FAILED rc={r['rc']}")
                print(f"run {i + 1} {name}: {r['s']:.2f} s, {r['peak_mb']:.0f} MB, {state}", flush=True)
                if r["rc"] != 0 and not r["timeout"]:
                    print("  " + (r["err"] or r["out"]).strip()[-1500:].replace("\n", "\n  "))
                copy.unlink(missing_ok=True)
            b = results["baseline"][-1]
            print(f"run {i + 1} baseline: {b['s']:.2f} s, {b['peak_mb']:.0f} MB"
                  + ("" if b["rc"] == 0 else f" FAILED: {b['err'][-500:]}"), flush=True)
    base = statistics.median(r["s"] for r in results["baseline"])
    print(f"baseline (bare pyogrio.read_dataframe of reported_cases + a geopandas/numpy 250 m grid count): "
          f"{base:.2f} s, {max(r['peak_mb'] for r in results['baseline']):.0f} MB")
    missed, summary = [], {}
    for name in names:
        runs = results[name]
        ok = all(r["rc"] == 0 for r in runs)
        seconds = statistics.median(r["s"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        summary[name] = (seconds, peak)
        verdict = []
        if not ok:
            verdict.append("did not finish (stopped or failed)")
        if seconds >= TARGET_S or not ok:
            verdict.append(f"time missed ({seconds:.1f} s, target under {TARGET_S:.0f} s)")
        if peak >= TARGET_MB:
            verdict.append(f"memory missed ({peak:.0f} MB, target under {TARGET_MB} MB)")
        if verdict:
            missed.append(f"{name}: " + "; ".join(verdict))
        print(f"{name}: {seconds:.2f} s, peak {peak:.0f} MB, {seconds / base:.1f}x the baseline -> "
              f"{'MISSED' if verdict else 'met'}")
    if missed:
        print("MISSED targets: " + " | ".join(missed))
    else:
        print(f"all targets met: each under {TARGET_S:.0f} s and {TARGET_MB} MB")
    peak = max(p for _s, p in summary.values())
    print(f"plan_s={summary['plan'][0]:.2f} export_s={summary['export'][0]:.2f} report_s={summary['report'][0]:.2f}"
          f" peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
