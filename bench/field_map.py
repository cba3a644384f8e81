"""The offline field map (raster MBTiles for ODK Collect): size and time per zoom and per zoom range, on the
demo and on a city, against a baseline timed in the same run.

    python bench/field_map.py [CITY.gpkg] [--max-zoom 17] [--baseline-zoom 15]

CITY.gpkg defaults to /tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1-p100000-f1.gpkg (bench/city_analysis.py
makes it); it is COPIED to a temporary folder first, never written to. Without it only the demo is measured.

For each workspace: ``mapping.field_map.write_field_map`` from zoom 13 to ``--max-zoom``, its tiles, bytes and
seconds per zoom, the cumulative size and time of each range 13–z (what a team carries), and the peak memory
of the process. Baseline: the same writer drawing one tile per figure (``BLOCK = 1``, the obvious way) at
``--baseline-zoom`` only, against the blocked writer's time for that zoom.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CITY = Path("/tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1-p100000-f1.gpkg")


def _measure(label: str, path: Path, max_zoom: int, baseline_zoom: int, folder: Path) -> None:
    from layers.workspace import Workspace
    from mapping import field_map

    with Workspace.open(path) as ws:
        counts = {k: ws.count(k) for k in field_map.BASEMAP_KINDS}
        t = time.perf_counter()
        report = field_map.write_field_map(ws, folder / f"{label}.mbtiles", min_zoom=13, max_zoom=max_zoom)
        total = time.perf_counter() - t
        print(f"\n== {label}: {', '.join(f'{k[8:]} {n:,}' for k, n in counts.items())}")
        print(f"{'zoom':>6} {'tiles':>7} {'MB':>8} {'s':>7} | {'range':>7} {'tiles':>7} {'MB':>8} {'s':>7}")
        tiles = size = secs = 0
        for z in sorted(report.tiles):
            tiles += report.tiles[z]
            size += report.bytes[z]
            secs += report.zoom_seconds[z]
            print(f"{z:>6} {report.tiles[z]:>7,} {report.bytes[z] / 1e6:>8.2f} {report.zoom_seconds[z]:>7.2f} | "
                  f"{'13-' + str(z):>7} {tiles:>7,} {size / 1e6:>8.2f} {secs:>7.2f}")
        file_mb = report.path.stat().st_size / 1e6
        print(f"whole run {total:.2f} s (reading the layers and writing the file included); file {file_mb:.2f} MB")
        if baseline_zoom in report.zoom_seconds:
            old = field_map.BLOCK
            field_map.BLOCK = 1
            try:
                b = field_map.write_field_map(ws, folder / f"{label}-baseline.mbtiles", min_zoom=baseline_zoom,
                                              max_zoom=baseline_zoom)
            finally:
                field_map.BLOCK = old
            ours = report.zoom_seconds[baseline_zoom]
            print(f"baseline, one figure per tile, zoom {baseline_zoom}: {b.zoom_seconds[baseline_zoom]:.2f} s "
                  f"vs blocked {ours:.2f} s (ratio {b.zoom_seconds[baseline_zoom] / ours:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("city", nargs="?", type=Path, default=CITY)
    parser.add_argument("--max-zoom", type=int, default=17)
    parser.add_argument("--baseline-zoom", type=int, default=15)
    args = parser.parse_args()
    from audit.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="lantern-fieldmap-") as tmp:
        folder = Path(tmp)
        build_demo(folder / "demo.gpkg").close()
        _measure("demo", folder / "demo.gpkg", args.max_zoom, args.baseline_zoom, folder)
        if args.city.is_file():
            shutil.copy(args.city, folder / "city.gpkg")
            _measure("city", folder / "city.gpkg", args.max_zoom, args.baseline_zoom, folder)
        else:
            print(f"\n(no city workspace at {args.city}: bench/city_analysis.py makes one)")
    print(f"\npeak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
