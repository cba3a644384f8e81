"""City-scale analysis benchmark: plan-outreach (k=30), a partner GeoPackage export and the public report
on a city workspace, each `main.py` command timed in its own process (wall time, peak RSS).

The workspace is built once and cached in $TMPDIR/lantern-bench (LANTERN_BENCH_CACHE), keyed by its
parameters: `main.py import-osm` of the city extract from bench/city_extract.py (tiled copies of the
Helsinki extract plus synthetic buildings, as bench/osm_city.py), then `main.py import --kind
reported_cases` of BENCH_CASES synthetic cases from a CSV made by bench/import_cases.py's maker, spread over
the whole city's extent instead of the first tile; then BENCH_PLACES synthetic places over the five place
layers (transport hubs 20 %, worksites 35 %, shelters 5 %, services 15 %, places of concern 25 %; categories
from the catalogue in realistic mixes; three in five clustered around 300 centres; one worksite in ten an
area), checked by the import's prepare() and written by BulkInsert as one logged import per layer, and
annotations of 2 % of the annotatable places (one to three visits each) through the audit's commands. The
workspace with cases only is cached too, so changing BENCH_PLACES does not redo the OSM import. Each timed
run works on a fresh copy of the workspace.

Baseline, timed in the same run in its own process: a bare `pyogrio.read_dataframe` of the workspace's
reported_cases layer plus a geopandas count of the cases per 250 m grid cell (EPSG:3067), the core of
what the partner export's hexagon counts need.

    CITY_TILES     tiles, "NXxNY" or a count (default: enough for >= 900,000 OSM objects: 6x5)
    CITY_BUILDINGS buildings in the city (default 300,000)
    BENCH_CASES    synthetic reported cases (default 1,000,000)
    BENCH_PLACES   synthetic places (default 100,000; 0: only the places of the OSM extract)
    BENCH_RUNS     runs of each (default 3)
    BENCH_TIMEOUT  seconds before a run is stopped and counted as missed (default 300)

Targets (issue 14): each under 30 s, memory under 1.5 GB. Each run also prints its CPU time (user + system)
and the load average when it ended: on a shared machine the wall time says as much about the neighbours.
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
PLACES = int(os.environ.get("BENCH_PLACES", "100000"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "300"))
TARGET_S, TARGET_MB = 30.0, 1536
FORMAT = 1  # bump when the workspace is built differently (invalidates the cache)
PLACES_FORMAT = 1  # bump when the synthetic places are made differently

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
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak_mb, cpu_s = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
print(json.dumps({"s": elapsed, "cpu_s": cpu_s, "load": os.getloadavg()[0], "peak_mb": peak_mb,
                  "rc": proc.returncode, "timeout": timed_out,
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


PLACES_MAKER = r'''
"""Add N synthetic places (and annotations of some) to a workspace, through the import path: prepare()
checks each layer's rows like an imported file, BulkInsert writes them as one logged import per layer,
and the annotations go through the audit's command path (one undoable step, logged)."""
import datetime as dt, sys
import numpy as np, geopandas as gpd, shapely
sys.path.insert(0, sys.argv[1])
from audit.annotations import annotate, annotation_values
from audit.catalogue import indicators
from audit.commands import History, Macro
from layers.catalogue import kind
from layers.features import prepare
from layers.workspace import Workspace

path, n_total = sys.argv[2], int(sys.argv[3])
w, s, e, n = map(float, sys.argv[4].split(","))
SHARES = {"transport_hubs": 0.20, "worksites": 0.35, "shelters": 0.05, "services": 0.15, "places_of_concern": 0.25}
# realistic mixes: most hubs are tram and bus stops; a few railway stations, one airport in a thousand
WEIGHTS = {"hub_type": {"tram_stop": 70, "bus_station": 12, "metro_station": 8, "railway_station": 6,
                        "ferry_terminal": 3, "airport": 0.1, "other": 1}}
FIELD = {"transport_hubs": "hub_type", "worksites": "sector", "shelters": "service_type", "services": "service_type",
         "places_of_concern": "category"}
rng = np.random.default_rng(1414)
metric = "EPSG:3067"
box = gpd.GeoSeries.from_xy([w, e], [s, n], crs=4326).to_crs(metric).total_bounds


def positions(count):
    """Three in five around 300 centres (streets, markets, stations), the rest anywhere in the city."""
    near = int(0.6 * count)
    centres = np.column_stack([rng.uniform(box[0], box[2], 300), rng.uniform(box[1], box[3], 300)])
    pick = centres[rng.integers(0, 300, near)]
    x = np.r_[pick[:, 0] + rng.normal(0, 250, near), rng.uniform(box[0], box[2], count - near)]
    y = np.r_[pick[:, 1] + rng.normal(0, 250, near), rng.uniform(box[1], box[3], count - near)]
    x, y = np.clip(x, box[0], box[2]), np.clip(y, box[1], box[3])
    return x, y


def choice(values, weights, count):
    p = np.array([weights.get(v, 1.0) for v in values], dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), count, p=p / p.sum())]


counts = {k: int(round(v * n_total)) for k, v in SHARES.items()}
counts["places_of_concern"] += n_total - sum(counts.values())
ws = Workspace.open(path)
with ws.atomic():
    for kind_id, count in counts.items():
        k = kind(kind_id)
        field = next(f for f in k.fields if f.name == FIELD[kind_id])
        values = sorted(field.allowed)
        x, y = positions(count)
        geoms = shapely.points(x, y)
        if kind_id == "worksites":  # one worksite in ten is mapped as its plot
            plots = np.arange(count) % 10 == 0
            geoms[plots] = shapely.box(x[plots] - 15, y[plots] - 10, x[plots] + 15, y[plots] + 10)
        cat = choice(values, WEIGHTS.get(field.name, {}), count)
        rows = {"name": [f"Synthetic {kind_id.replace('_', ' ')} {i + 1}" for i in range(count)], field.name: cat,
                "description": ["Synthetic (city benchmark)"] * count}
        if kind_id == "worksites":
            rows["migrant_workers"] = rng.random(count) < 0.3
            rows["workers_estimate"] = rng.integers(2, 200, count)
        if kind_id in ("shelters",):
            rows["capacity"] = rng.integers(5, 120, count)
        frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=metric).to_crs(4326).values, crs=4326)
        prepared = prepare(f"synthetic {kind_id}", frame, k)
        bulk = ws.bulk_insert(kind_id, source="synthetic places (bench/city_analysis.py)")
        fids = bulk.add(prepared.columns, prepared.geometries)
        bulk.close()
        counts[kind_id] = (fids.start, fids.stop)
        ws.set_layer_info(kind_id, synthetic=True, source="synthetic places (bench/city_analysis.py)")
    ws.set_layer_info("reported_cases", synthetic=True)
    ws.set_metadata("synthetic", "reported_cases, places")

# annotations: 2 % of the annotatable places, one to three visits each, through the audit's commands
ids = [i for i in indicators()]
today = dt.date.today()
notes = []
for kind_id in ("places_of_concern", "worksites", "transport_hubs", "shelters"):
    first, stop = counts[kind_id]
    chosen = rng.choice(np.arange(first, stop), max(1, (stop - first) // 50), replace=False)
    for fid in chosen.tolist():
        for visit in range(int(rng.integers(1, 4))):
            notes.append(annotate(annotation_values(
                kind_id, int(fid), indicators_seen=rng.choice(ids, int(rng.integers(1, 4)), replace=False).tolist(),
                observed=(today - dt.timedelta(days=int(rng.integers(1, 900)))).isoformat(),
                confidence=str(rng.choice(["low", "medium", "high"])), source="own_observation",
                author="Synthetic auditor (bench)", note="[Synthetic]")))
History(ws, author="Synthetic auditor (bench)").do(Macro(notes, label="synthetic annotations"))
ws.close()
print(sum(b - a for a, b in (v for v in counts.values())), len(notes))
'''


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
          f"objects={counts['objects']:,} buildings={counts['buildings']:,}; {CASES:,} reported cases and "
          f"{PLACES:,} synthetic places in {', '.join(f'{b:.4f}' for b in bounds)}")
    base = cache_dir() / f"city-ws-{nx}x{ny}-b{per_tile}-c{CASES}-f{FORMAT}.gpkg"
    if base.is_file():
        print(f"workspace with cases (cached): {base}")
    else:
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            ws, csv = Path(tmp) / "city.gpkg", Path(tmp) / "cases.csv"
            run_or_die("import-osm", sys.executable, "main.py", "import-osm", city, "--out", ws)
            run_or_die("cases CSV", sys.executable, "-c", case_maker(bounds), str(CASES), csv)
            run_or_die(f"import of {CASES:,} cases", sys.executable, "main.py", "import", "--kind", "reported_cases",
                       "--into", ws, csv)
            os.replace(ws, base)
        print(f"workspace with cases (built): {base}")
    if not PLACES:
        return base
    target = base.with_name(f"{base.stem}-p{PLACES}-f{PLACES_FORMAT}.gpkg")
    if target.is_file():
        print(f"workspace with places (cached): {target}")
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        ws = Path(tmp) / "city.gpkg"
        shutil.copyfile(base, ws)
        done = run_or_die(f"{PLACES:,} synthetic places", sys.executable, "-c", PLACES_MAKER, ROOT, ws, PLACES,
                          ",".join(map(repr, bounds)))
        places, notes = done.stdout.split()[-2:]
        print(f"  {int(places):,} places added, {int(notes):,} annotations")
        os.replace(ws, target)
    print(f"workspace with places (built): {target}")
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
                print(f"run {i + 1} {name}: {r['s']:.2f} s (CPU {r['cpu_s']:.2f} s, load {r['load']:.1f}), "
                      f"{r['peak_mb']:.0f} MB, {state}", flush=True)
                if r["rc"] != 0 and not r["timeout"]:
                    print("  " + (r["err"] or r["out"]).strip()[-1500:].replace("\n", "\n  "))
                copy.unlink(missing_ok=True)
            b = results["baseline"][-1]
            print(f"run {i + 1} baseline: {b['s']:.2f} s (CPU {b['cpu_s']:.2f} s), {b['peak_mb']:.0f} MB"
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
        cpu = statistics.median(r["cpu_s"] for r in runs)
        print(f"{name}: {seconds:.2f} s (CPU {cpu:.2f} s), peak {peak:.0f} MB, {seconds / base:.1f}x the baseline -> "
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
