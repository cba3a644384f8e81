"""Round comparison benchmark: the demo district split into two audit rounds, compared for each profile.

Measures ``mapping.round_export.compute`` (places, estimates, indicators, and both rounds' risk surfaces with
their change per cell) and the whole export (CSV tables, PDF and PNG print map), per profile. Baseline, in the
same run: ``mapping.risk_surface.compute`` for the same profile — one surface; a comparison builds two on the
same grid, so a ratio near 2 means the comparison adds little beyond the surfaces themselves.
Last line: profile=… compare_s=… export_s=… surface_s=… ratio=…   (best of REPEAT runs)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def _best(fn) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="lantern-bench-"))
    os.environ.setdefault("LANTERN_KEY_DIR", str(folder / "keys"))
    from audit.commands import History
    from audit.demo import build_demo
    from audit.rounds import add_round
    from mapping.risk_surface import SurfaceParams, compute as surface
    from mapping.round_export import compute, export_comparison

    path = folder / "demo.gpkg"
    ws = build_demo(path)
    today = dt.date.today()
    history = History(ws, "Bench")
    history.do(add_round(ws, "Earlier", today - dt.timedelta(days=800), today - dt.timedelta(days=150)))
    history.do(add_round(ws, "Later", today - dt.timedelta(days=149), today))
    try:
        for profile in ("public", "partner", "police"):
            compare_s = _best(lambda: compute(ws, "Earlier", "Later", profile))
            export_s = _best(lambda: export_comparison(ws, "Earlier", "Later", folder / profile, profile,
                                                       overwrite=True, recipient="Bench", confirm_police=True))
            surface_s = _best(lambda: surface(ws, SurfaceParams(profile=profile)))
            print(f"profile={profile} compare_s={compare_s:.3f} export_s={export_s:.3f} surface_s={surface_s:.3f} "
                  f"ratio={compare_s / surface_s:.2f}")
    finally:
        ws.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
