"""Aggregating 1,000,000 case points into the hex grid of a 10 km district (250 m cells).

Lantern's numpy axial binning (layers.hexgrid.count, including the pyproj
transform from lon/lat) against a geopandas sjoin of the same points with the
hexagon polygons, measured in the same run; both results are checked equal.
Each is the median of 3 runs. Target: speed-up ≥ 10×. Last line: key=value figures.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers import hexgrid  # noqa: E402

N = int(os.environ.get("BENCH_POINTS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def timed(fn, runs: int = RUNS):
    """Median wall time of ``runs`` calls (the first call also pays for page faults), and the result."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main() -> None:
    import geopandas as gpd
    from pyproj import Transformer

    rng = np.random.default_rng(0)
    to_lonlat = Transformer.from_crs(32635, 4326, always_xy=True)
    to_metric = Transformer.from_crs(4326, 32635, always_xy=True)
    x0, y0 = 385_000, 6_670_000  # Helsinki in UTM 35N
    xs = x0 + rng.uniform(0, 10_000, N)
    ys = y0 + rng.uniform(0, 10_000, N)
    lon, lat = to_lonlat.transform(xs, ys)
    q, r = hexgrid.covering((x0, y0, x0 + 10_000, y0 + 10_000), 250)

    def ours_once():
        mx, my = to_metric.transform(lon, lat)
        return hexgrid.count(q, r, mx, my, 250)

    def sjoin_once():
        cells = gpd.GeoDataFrame({"cell": np.arange(len(q))}, geometry=hexgrid.polygons(q, r, 250), crs=32635)
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(32635)
        joined = gpd.sjoin(points, cells, predicate="within")
        return np.bincount(joined["cell"].to_numpy(), minlength=len(q))

    t_ours, ours = timed(ours_once)
    t_sjoin, theirs = timed(sjoin_once)
    assert (ours == theirs).all(), "binning differs from the point-in-polygon join"
    print(f"{N} points into {len(q)} cells: numpy binning {t_ours:.3f} s, geopandas sjoin {t_sjoin:.2f} s")
    print(f"hexbin_s={t_ours:.3f} sjoin_s={t_sjoin:.2f} speedup={t_sjoin / t_ours:.1f}")


if __name__ == "__main__":
    main()
