"""Check benchmark: a workspace with a 100,000-row layer, imported through Lantern, then checked.

Measures the import's extra cost of row hashes (its change-log entry holds
one hash per row), the size of that entry, and ``check_workspace`` on the
whole file (chain, signatures, every row re-hashed and compared).
Baseline, in the same run: SQLite's own ``PRAGMA integrity_check`` plus one
plain read of every row of the layer, in its own process — the least any
check that looks at the data must do.
Last line: rows=… import_s=… entry_mb=… check_s=… baseline_s=… ratio=…
Aim: check within a few seconds for 100k rows.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


def main() -> None:
    import numpy as np
    import shapely

    folder = Path(tempfile.mkdtemp(prefix="lantern-bench-"))
    os.environ.setdefault("LANTERN_KEY_DIR", str(folder / "keys"))
    from audit.check import check_workspace
    from layers.workspace import Workspace

    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(24.0, 24.3, ROWS), rng.uniform(56.9, 57.0, ROWS)
    geoms = shapely.points(xs, ys)
    rows = [{"name": f"Site {i}", "sector": "construction"} for i in range(ROWS)]
    path = folder / "big.gpkg"
    with Workspace.create(path) as ws:
        started = time.perf_counter()
        with ws.atomic():
            fids = ws.insert_rows("worksites", rows, geoms)
        inserted = time.perf_counter() - started
        with ws.atomic():
            ws.log_import("worksites", "bench", fids)
        logged = time.perf_counter() - started - inserted
        size = ws.db.conn.execute("SELECT length(row_hashes) FROM change_log ORDER BY id DESC LIMIT 1").fetchone()[0]
    started = time.perf_counter()
    result = check_workspace(path)
    checked = time.perf_counter() - started
    assert result.ok, result.problems[:3]
    baseline = _baseline(path)
    print(f"insert {inserted:.2f} s, log_import with row hashes {logged:.2f} s, check {checked:.2f} s, "
          f"baseline (integrity_check + read every row) {baseline:.2f} s")
    print(f"rows={ROWS} import_s={inserted + logged:.2f} entry_mb={size / 1e6:.1f} check_s={checked:.2f} "
          f"baseline_s={baseline:.2f} ratio={checked / baseline:.1f}")


def _baseline(path: Path) -> float:
    """SQLite's integrity check and a read of every row, timed inside a fresh process."""
    import subprocess

    code = ("import sqlite3, time; t = time.perf_counter(); c = sqlite3.connect(%r); "
            "c.execute('PRAGMA integrity_check').fetchall(); "
            "n = sum(1 for _ in c.execute('SELECT * FROM worksites')); print(time.perf_counter() - t)") % str(path)
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


if __name__ == "__main__":
    main()
