"""Aggregating 1,000,000 case points into the hex grid of a 10 km district (250 m cells).

Lantern's numpy axial binning (layers.hexgrid.count, including the pyproj
transform from lon/lat) against two baselines measured in the same run, each
doing the same transform: shapely 2's STRtree on raw arrays (shapely.points →
tree.query(predicate="within") → bincount, no DataFrames — the strongest
general-purpose baseline) and a geopandas sjoin of the same points with the
hexagon polygons. All three results are checked equal. Each is the median of
BENCH_RUNS (3) runs. Target: ≥ 10× faster than the STRtree baseline.
Last line: key=value figures.
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

    def strtree_once():
        import shapely

        mx, my = to_metric.transform(lon, lat)
        tree = shapely.STRtree(hexgrid.polygons(q, r, 250))
        _points, cells = tree.query(shapely.points(mx, my), predicate="within")
        return np.bincount(cells, minlength=len(q))

    def sjoin_once():
        cells = gpd.GeoDataFrame({"cell": np.arange(len(q))}, geometry=hexgrid.polygons(q, r, 250), crs=32635)
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(32635)
        joined = gpd.sjoin(points, cells, predicate="within")
        return np.bincount(joined["cell"].to_numpy(), minlength=len(q))

    t_ours, ours = timed(ours_once)
    t_transform, _xy = timed(lambda: to_metric.transform(lon, lat))  # shared by all three methods
    t_tree, tree = timed(strtree_once)
    t_sjoin, theirs = timed(sjoin_once)
    assert (ours == tree).all(), "binning differs from the STRtree point-in-polygon query"
    assert (ours == theirs).all(), "binning differs from the point-in-polygon join"
    vs_tree, vs_sjoin = t_tree / t_ours, t_sjoin / t_ours
    print(f"{N} points into {len(q)} cells: numpy binning {t_ours:.3f} s, shapely STRtree {t_tree:.2f} s "
          f"({vs_tree:.1f}x), geopandas sjoin {t_sjoin:.2f} s ({vs_sjoin:.1f}x)")
    print(f"of which the pyproj transform of the points (done by all three): {t_transform:.3f} s; without it "
          f"binning {t_ours - t_transform:.3f} s vs STRtree {t_tree - t_transform:.2f} s "
          f"({(t_tree - t_transform) / (t_ours - t_transform):.0f}x)")
    print("target ≥ 10x the STRtree baseline: " + ("met" if vs_tree >= 10 else
          f"MISSED by {10 - vs_tree:.1f}x ({vs_tree / 10:.0%} of it)"))
    print(f"hexbin_s={t_ours:.3f} transform_s={t_transform:.3f} strtree_s={t_tree:.2f} sjoin_s={t_sjoin:.2f} speedup_strtree={vs_tree:.1f} "
          f"speedup_sjoin={vs_sjoin:.1f}")


if __name__ == "__main__":
    main()
