"""Import benchmark: one 300,000-vertex polygon, through `import_file` into a fresh workspace.

Two polygons: a valid jagged boundary, and the same with 300 small self-intersections (the
repair path, which took over a minute before make_valid used the "structure" method).
Baseline, in the same run and in its own process: a bare pyogrio read of the same file and a
GeoPackage write of it (machines are noisy; the ratio is what counts). Medians of N runs.
Last line: import_s=… baseline_s=… ratio=… (the slower polygon). Aim: under 10 s.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
VERTICES = int(os.environ.get("BENCH_VERTICES", "300000"))

MAKE = """
import sys, numpy as np, shapely, geopandas as gpd
n, out, broken = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
rng = np.random.default_rng(1)
t = np.linspace(0, 2 * np.pi, n, endpoint=False)
r = 0.05 * (1 + 0.1 * np.sin(t * 40) + 0.02 * rng.random(n))
pts = np.c_[24.1 + r * np.cos(t), 56.95 + 0.6 * r * np.sin(t)]
if broken:  # swap neighbours every 1000 vertices: 300 little bow-ties
    a, b = pts[1::1000].copy(), pts[2::1000].copy()
    pts[1::1000], pts[2::1000] = b, a
poly = shapely.Polygon(pts)
assert shapely.get_num_coordinates(poly) >= n and poly.is_valid != broken
gpd.GeoDataFrame({"name": ["district"]}, geometry=[poly], crs=4326).to_file(out, driver="GeoJSON", engine="pyogrio")
"""

BASELINE = """
import sys, time, pyogrio
start = time.perf_counter()
frame = pyogrio.read_dataframe(sys.argv[1])
pyogrio.write_dataframe(frame, sys.argv[2], layer="risk_areas")
print(time.perf_counter() - start)
"""

IMPORT = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from layers.importers import import_file
from layers.workspace import Workspace
ws = Workspace.create(sys.argv[2], name="bench")
start = time.perf_counter()
report = import_file(ws, sys.argv[1], "risk_areas")
elapsed = time.perf_counter() - start
ws.close()
assert report.count == 1
print(elapsed)
"""


def timed(code: str, *args: str) -> float:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    worst = None
    with tempfile.TemporaryDirectory() as tmp:
        for label, broken in (("valid", "0"), ("self-intersecting", "1")):
            src = f"{tmp}/{label}.geojson"
            subprocess.run([sys.executable, "-c", MAKE, str(VERTICES), src, broken], check=True, timeout=600)
            baselines, imports = [], []
            for i in range(RUNS):  # interleaved, so both see the same machine load
                baselines.append(timed(BASELINE, src, f"{tmp}/base{i}.gpkg"))
                imports.append(timed(IMPORT, src, f"{tmp}/{label}{i}.gpkg"))
            base, imp = statistics.median(baselines), statistics.median(imports)
            print(f"{label} polygon, {VERTICES} vertices: import runs {', '.join(f'{x:.2f}' for x in imports)};"
                  f" baseline runs {', '.join(f'{x:.2f}' for x in baselines)}")
            if worst is None or imp > worst[0]:
                worst = (imp, base)
    imp, base = worst
    print(f"import_s={imp:.2f} baseline_s={base:.2f} ratio={imp / base:.1f}")


if __name__ == "__main__":
    main()
