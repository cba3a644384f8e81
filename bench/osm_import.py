"""OSM import benchmark: the bundled central-Helsinki extract (data/osm) → a new workspace.

Prints wall time and peak memory (max RSS of a fresh process) of the full
import (Lantern's own imports, read, match, assemble areas, clip, validate,
write the GeoPackage), and, as the baseline measured in the same run, a bare
pyosmium read of the same file with node locations and area assembly (what
any importer must do) in a separate process that imports nothing but osmium:
the file's path is resolved here, outside both timings, so the baseline does
not pay for Lantern's imports. Each figure is the median of N runs (BENCH_RUNS).
Aim: under 3 s and under 500 MB.
Last line: import_s=… import_peak_mb=… baseline_s=… baseline_peak_mb=… ratio=…
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": elapsed, "peak_mb": peak_mb}}))
"""

IMPORT = """
from layers.osm import import_osm
import_osm({src!r}, {out!r})
"""

BASELINE = """
import osmium
n = 0
for obj in osmium.FileProcessor({src!r}).with_locations().with_areas():
    n += 1
"""


def run(body: str) -> dict:
    code = _MEASURE.format(root=str(ROOT), body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from layers.osm import helsinki_extract

    src = str(helsinki_extract())
    imports, baselines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            baselines.append(run(BASELINE.format(src=src)))
            imports.append(run(IMPORT.format(src=src, out=f"{tmp}/h{i}.gpkg")))
    imp = statistics.median(r["s"] for r in imports)
    peak = max(r["peak_mb"] for r in imports)
    base = statistics.median(r["s"] for r in baselines)
    base_peak = max(r["peak_mb"] for r in baselines)
    print("import runs (s): " + ", ".join(f"{r['s']:.2f}" for r in imports))
    print("bare pyosmium read, separate process (s): " + ", ".join(f"{r['s']:.3f}" for r in baselines))
    print(f"import {imp:.2f} s ({'met' if imp < 3 else 'MISSED'}: aim under 3 s), peak {peak:.0f} MB "
          f"({'met' if peak < 500 else 'MISSED'}: aim under 500 MB); {imp / base:.1f}x the bare read")
    print(f"import_s={imp:.2f} import_peak_mb={peak:.0f} baseline_s={base:.3f} baseline_peak_mb={base_peak:.0f} "
          f"ratio={imp / base:.1f}")


if __name__ == "__main__":
    main()
