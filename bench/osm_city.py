"""City-scale OSM import benchmark: `main.py import-osm` of a city built from tiled copies of the Helsinki
extract (bench/city_extract.py), against a bare pyosmium read of the same file with node locations.

Each figure is measured in its own process, wall time and peak RSS (resource.getrusage(RUSAGE_CHILDREN)
of a fresh launcher process, so each figure is that command's alone); the baseline and the import
alternate, BENCH_RUNS times, and the medians are compared. The import reads the file in a child process
(layers.osm._child_main) while it writes; getrusage gives the peak of the largest process, so the reader's
own peak is measured once more on its own and added (peak_mb is the sum, an upper bound). The workspace of the last run is checked with
`main.py check`. Targets (issue 14): at most 3x the bare read, under 2 GB.

    CITY_TILES     tiles, "NXxNY" or a count (default: enough for >= 900,000 OSM objects: 6x5)
    CITY_BUILDINGS buildings in the city (default 300,000: synthetic footprints are added to each tile,
                   since the extract has ~430 per tile); 0 = the tiled extract alone
    BENCH_RUNS     runs of each (default 3)

Last line: import_s=… baseline_s=… ratio=… peak_mb=…
"""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from city_extract import city_extract, grid_for  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET_RATIO, TARGET_MB = 3.0, 2048
HELSINKI_BUILDINGS_PER_TILE = 433  # building ways of one copy of the extract

_LAUNCH = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"s": elapsed, "peak_mb": peak_mb, "rc": done.returncode, "out": done.stdout[-2000:],
                  "err": done.stderr[-3000:]}))
"""

BASELINE = """
import sys, osmium
n = 0
for obj in osmium.FileProcessor(sys.argv[1]).with_locations():
    n += 1
print(n)
"""


READER = """
import os, sys
sys.argv = ["-c", sys.argv[1], "25000", "en"]
sys.stdout = open(os.devnull, "w")
from layers.osm import _child_main
_child_main()
"""


def measure(*command) -> dict:
    """Wall time and peak RSS of ``command`` run in its own process."""
    result = subprocess.run([sys.executable, "-c", _LAUNCH, *map(str, command)], capture_output=True, text=True,
                            cwd=ROOT)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    if figures["rc"] != 0:
        raise SystemExit(f"{' '.join(map(str, command[:4]))} failed:\n{figures['err']}")
    return figures


def grid() -> tuple[int, int]:
    text = os.environ.get("CITY_TILES", "").lower()
    if "x" in text:
        nx, ny = text.split("x")
        return int(nx), int(ny)
    if text:
        tiles = int(text)
        nx = math.ceil(math.sqrt(tiles))
        return nx, math.ceil(tiles / nx)
    return grid_for(900_000)


def main() -> None:
    nx, ny = grid()
    buildings = int(os.environ.get("CITY_BUILDINGS", "300000"))
    per_tile = max(0, math.ceil((buildings - HELSINKI_BUILDINGS_PER_TILE * nx * ny) / (nx * ny))) if buildings else 0
    city, counts = city_extract(nx, ny, per_tile)
    print(f"city: {city.name}, {city.stat().st_size / 1e6:.1f} MB, {nx}x{ny} tiles of the Helsinki extract"
          f" + {per_tile:,} synthetic buildings per tile")
    print(f"objects={counts['objects']:,} (nodes {counts['nodes']:,}, ways {counts['ways']:,}, relations "
          f"{counts['relations']:,}) buildings={counts['buildings']:,}")
    imports, baselines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            baselines.append(measure(sys.executable, "-c", BASELINE, city))
            out = Path(tmp) / f"city{i}.gpkg"
            imports.append(measure(sys.executable, "main.py", "import-osm", city, "--out", out))
            print(f"run {i + 1}: import {imports[-1]['s']:.2f} s, {imports[-1]['peak_mb']:.0f} MB; "
                  f"bare read {baselines[-1]['s']:.2f} s, {baselines[-1]['peak_mb']:.0f} MB", flush=True)
        print(imports[-1]["out"].strip().splitlines()[0][:400])
        check = subprocess.run([sys.executable, "main.py", "check", out], capture_output=True, text=True, cwd=ROOT)
        print(f"check of the imported workspace: {'OK' if check.returncode == 0 else 'FAILED'}")
        if check.returncode != 0:
            print(check.stdout[-2000:] + check.stderr[-2000:])
    reader = measure(sys.executable, "-c", READER, city)
    print(f"the import's reader process alone: {reader['peak_mb']:.0f} MB")
    imp = statistics.median(r["s"] for r in imports)
    base = statistics.median(r["s"] for r in baselines)
    peak = max(r["peak_mb"] for r in imports) + reader["peak_mb"]
    ratio = imp / base
    if ratio > TARGET_RATIO:
        print(f"MISSED: the import takes {ratio:.1f}x the bare read (target: at most {TARGET_RATIO:.0f}x)")
    if peak > TARGET_MB:
        print(f"MISSED: the import peaks at {peak:.0f} MB (target: under {TARGET_MB} MB)")
    if ratio <= TARGET_RATIO and peak <= TARGET_MB:
        print(f"met: at most {TARGET_RATIO:.0f}x the bare read and under {TARGET_MB} MB")
    print(f"import_s={imp:.2f} baseline_s={base:.2f} ratio={ratio:.2f} peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
