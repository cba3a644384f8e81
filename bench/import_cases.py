"""Import benchmark: N synthetic reported cases from a CSV, through `import_file` into a fresh workspace.

The CSV has the columns lon, lat, reported, forms, status (N rows, env BENCH_ROWS, default
1,000,000). Baseline, in the same run and each in its own process: a bare pyogrio read of the same
file (X/Y from lon/lat) and a GeoPackage write of it. Medians of BENCH_RUNS runs (default 3);
peak memory is the child's ru_maxrss. Last line: import_s=… baseline_s=… ratio=… peak_mb=….
Target (issue 14): the import takes at most 2× its baseline.
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
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
TARGET = 2.0

MAKE = """
import sys, numpy as np, pandas as pd
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
months = np.array([f"{y}-{m:02d}" for y in range(2018, 2026) for m in range(1, 13)])
forms = np.array(["labour", "sexual", "begging", "criminality", "sham_marriage", "labour;sexual"])
status = np.array(["identified", "potential"])
pd.DataFrame({"lon": np.round(24.9 + 0.1 * rng.random(n), 6), "lat": np.round(60.15 + 0.06 * rng.random(n), 6),
              "reported": months[rng.integers(0, len(months), n)], "forms": forms[rng.integers(0, len(forms), n)],
              "status": status[rng.integers(0, len(status), n)]}).to_csv(out, index=False)
"""

PEAK = """
import resource
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

BASELINE = """
import sys, time, pyogrio
start = time.perf_counter()
frame = pyogrio.read_dataframe(sys.argv[1], X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat")
pyogrio.write_dataframe(frame, sys.argv[2], layer="reported_cases")
""" + PEAK

IMPORT = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from layers.importers import import_file
from layers.workspace import Workspace
ws = Workspace.create(sys.argv[2], name="bench")
start = time.perf_counter()
report = import_file(ws, sys.argv[1], "reported_cases")
ws.close()
assert report.count == int(sys.argv[3]), report.summary()
""" + PEAK


def timed(code: str, *args: str) -> tuple[float, float]:
    """(seconds, peak MB) of one run in its own process."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{result.stderr[-3000:]}")
    seconds, peak = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(peak)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = f"{tmp}/cases.csv"
        subprocess.run([sys.executable, "-c", MAKE, str(ROWS), src], check=True, timeout=600)
        baselines, imports = [], []
        for i in range(RUNS):  # interleaved, so both see the same machine load
            baselines.append(timed(BASELINE, src, f"{tmp}/base{i}.gpkg"))
            imports.append(timed(IMPORT, src, f"{tmp}/ws{i}.gpkg", str(ROWS)))
            for name in (f"base{i}.gpkg", f"ws{i}.gpkg"):
                Path(tmp, name).unlink(missing_ok=True)
    base, imp = statistics.median(b[0] for b in baselines), statistics.median(x[0] for x in imports)
    base_mb, imp_mb = max(b[1] for b in baselines), max(x[1] for x in imports)
    print(f"{ROWS} reported cases from CSV: import runs {', '.join(f'{x[0]:.2f}' for x in imports)} s;"
          f" baseline runs {', '.join(f'{b[0]:.2f}' for b in baselines)} s")
    print(f"peak memory: import {imp_mb:.0f} MB, baseline {base_mb:.0f} MB")
    ratio = imp / base
    if ratio > TARGET:
        print(f"MISSED: the import takes {ratio:.2f}× its baseline; the target is at most {TARGET:g}×")
    else:
        print(f"target met: {ratio:.2f}× the baseline (at most {TARGET:g}×)")
    print(f"import_s={imp:.2f} baseline_s={base:.2f} ratio={ratio:.2f} peak_mb={imp_mb:.0f}")


if __name__ == "__main__":
    main()
