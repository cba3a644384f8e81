"""Vector tiles of a city's basemap: build time and memory, serving, and a painted map, each against a
baseline timed in the same run.

    python bench/tiles_city.py [CITY.gpkg] [--skip-map | --only-map] [--png PREFIX]

CITY.gpkg defaults to /tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1.gpkg (bench/city_extract.py and
bench/city_analysis.py make it); it is COPIED to a temporary file first, never written to.

1. build: ``layers.tiles.build_tiles`` of the four basemap layers (cut in child processes, stored in the
   workspace), its wall time and the children's peak memory; baselines in their own processes: a bare
   pyogrio read of the buildings and roads, and a bare single-process GDAL MVT write (pyogrio, the
   buildings' own zooms, the ``ogr2ogr -f MVT`` equivalent) of the buildings.
2. serving: 50 stored tiles read with ``read_tile`` (a connection each) and ``TileReader`` (the map's
   server), against the old path for the same layer: building and encoding its whole GeoJSON.
3. map (unless --skip-map): a MapView showing only the basemap, time to the page's complete paint with
   tiles and with GeoJSON, each in its own process; the same after a zoom in.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CITY = Path("/tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1.gpkg")


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python; it prints one JSON line last. Adds the child's peak memory (MB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # os._exit: Qt's teardown at interpreter exit can crash after the figures are out (PySide6 refcounts)
    wrapped = code + "\nimport os as _o, sys as _s, resource, json as _j\nprint(_j.dumps({**RESULT, 'peak_mb': " \
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n_s.stdout.flush()\n_o._exit(0)"
    out = subprocess.run([sys.executable, "-c", wrapped, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


BARE_READ = """
import sys, time, pyogrio.raw
t = time.perf_counter()
for layer in sys.argv[2:]:
    pyogrio.raw.read(sys.argv[1], layer=layer, columns=['class'])
RESULT = {'seconds': time.perf_counter() - t}
"""

BARE_MVT = """
import sys, time, warnings, pyogrio.raw
from layers.tiles import MAX_TILE_BYTES, zooms
MIN_ZOOM, MAX_ZOOM = zooms(sys.argv[2])
warnings.simplefilter('ignore')
t = time.perf_counter()
meta, _f, geom, fields = pyogrio.raw.read(sys.argv[1], layer=sys.argv[2], columns=[])
pyogrio.raw.write(sys.argv[3], geom, fields, meta['fields'], layer=sys.argv[2], driver='MVT',
                  geometry_type=meta['geometry_type'], crs=meta['crs'],
                  dataset_options={'FORMAT': 'MBTILES', 'MINZOOM': MIN_ZOOM, 'MAXZOOM': MAX_ZOOM, 'COMPRESS': 'NO',
                                   'MAX_SIZE': MAX_TILE_BYTES})
RESULT = {'seconds': time.perf_counter() - t}
"""

BUILD = """
import sys, time, resource
from layers.workspace import Workspace
from layers import tiles
with Workspace.open(sys.argv[1]) as ws:
    t = time.perf_counter()
    tiles.build_tiles(ws, tiles.TILED_KINDS)
    seconds = time.perf_counter() - t
    fresh = all(tiles.tiles_fresh(ws, k) for k in tiles.TILED_KINDS)
    rows = ws.db.conn.execute('SELECT layer, count(*), sum(length(data)) FROM lantern_tiles GROUP BY layer').fetchall()
RESULT = {'seconds': seconds, 'fresh': fresh, 'tiles': {l: [n, b] for l, n, b in rows},
          'children_peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
"""

MAP = """
import os, sys, json, time
os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen'); os.environ.setdefault('QTWEBENGINE_CHROMIUM_FLAGS', '--no-sandbox')
from gui.map_view import register_url_scheme
register_url_scheme()
from gui.app import create_application
app = create_application([])
from PySide6.QtCore import QEventLoop, QTimer
from gui.map_view import MapView
from layers.workspace import Workspace
from layers import tiles
from mapping.compose import layer_stub, layer_from_frame, workspace_options
from mapping.features import tile_layer
path, mode, png = sys.argv[1], sys.argv[2], sys.argv[3]
ws = Workspace.open(path)
kinds = list(tiles.TILED_KINDS)
t0 = time.perf_counter()
mv = MapView(); mv.resize(1400, 900); mv.show()
if mode == 'tiles':
    mv.set_tile_source(ws.path)
    layers = [tile_layer(k) for k in kinds]
    source = None
else:
    layers = [layer_stub(k) for k in kinds]
    source = lambda k: layer_from_frame(k, ws.read_layer(k))
options = workspace_options(ws)
options.bounds = ws.bounds(kinds)
loop = QEventLoop(); timer = QTimer(); timer.setSingleShot(True); timer.timeout.connect(loop.quit)
mv.painted.connect(loop.quit)
mv.show_layers(layers, options, source=source)
timer.start(300000); loop.exec()
first = time.perf_counter() - t0
if png: mv.view.grab().save(png + f'-{mode}-out.png')
c = ws.bounds(kinds); lat, lng = (c[1] + c[3]) / 2, (c[0] + c[2]) / 2
mv.run_js(f'lantern.setView({lat}, {lng}, 17)')
t = time.perf_counter(); mv.request_paint(); timer.start(300000); loop.exec()
zoom = time.perf_counter() - t
if png: mv.view.grab().save(png + f'-{mode}-in.png')
RESULT = {'painted_s': first, 'after_zoom_s': zoom, 'tiles_served': len(mv.server.tiles_served),
          'network': len(mv.guard.network_requests()), 'painted': mv.is_painted}
mv.dispose(); ws.close()
"""


def serving(path: Path, n: int = 50) -> dict:
    import sqlite3

    from layers import tiles

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    keys = conn.execute("SELECT layer, z, x, y FROM lantern_tiles WHERE layer='basemap_buildings'").fetchall()
    conn.close()
    picked = random.Random(14).sample(keys, min(n, len(keys)))
    t = time.perf_counter()
    size = sum(len(tiles.read_tile(path, *k)) for k in picked)
    each = time.perf_counter() - t
    reader = tiles.TileReader(path)
    t = time.perf_counter()
    for k in picked:
        reader.read(*k)
    kept = time.perf_counter() - t
    reader.close()
    return {"tiles": len(picked), "bytes": size, "read_tile_s": each, "reader_s": kept}


GEOJSON = """
import sys, time, json
from layers.workspace import Workspace
from mapping.compose import layer_from_frame
with Workspace.open(sys.argv[1]) as ws:
    t = time.perf_counter()
    layer = layer_from_frame('basemap_buildings', ws.read_layer('basemap_buildings'))
    body = json.dumps(layer.geojson, separators=(',', ':')).encode()
RESULT = {'seconds': time.perf_counter() - t, 'bytes': len(body)}
"""


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    png = sys.argv[sys.argv.index("--png") + 1] if "--png" in sys.argv else ""
    if png in args:
        args.remove(png)
    source = Path(args[0]) if args else CITY
    with tempfile.TemporaryDirectory(prefix="lantern-tiles-bench-") as tmp:
        city = Path(tmp) / "city.gpkg"
        shutil.copyfile(source, city)
        if "--only-map" in sys.argv:
            _child(BUILD, str(city))
            return _maps(city, png)
        counts = _child("from layers.workspace import Workspace\nfrom layers import tiles\nimport sys\n"
                        "ws = Workspace.open(sys.argv[1])\nRESULT = {k: ws.count(k) for k in tiles.TILED_KINDS}\n"
                        "ws.close()", str(city))
        counts.pop("peak_mb")
        print(f"city: {source.name}; basemap rows: {counts}")

        read = _child(BARE_READ, str(city), "basemap_buildings", "basemap_roads")
        print(f"baseline  bare pyogrio read of buildings + roads: {read['seconds']:.2f} s, {read['peak_mb']:.0f} MB")
        bare = _child(BARE_MVT, str(city), "basemap_buildings", str(Path(tmp) / "bare.mbtiles"))
        print(f"baseline  bare GDAL MVT write of the buildings (one process, their zooms): {bare['seconds']:.2f} s, "
              f"{bare['peak_mb']:.0f} MB")
        build = _child(BUILD, str(city))
        sizes = ", ".join(f"{k}: {n} tiles / {b / 1e6:.1f} MB" for k, (n, b) in build["tiles"].items())
        print(f"build_tiles, 4 basemap layers: {build['seconds']:.2f} s (fresh: {build['fresh']}); "
              f"parent {build['peak_mb']:.0f} MB, largest child {build['children_peak_mb']:.0f} MB; {sizes}")
        print(f"  ratio to the bare MVT write of the buildings alone: {build['seconds'] / bare['seconds']:.2f}x; "
              f"to the bare read: {build['seconds'] / read['seconds']:.1f}x")

        served = serving(city)
        old = _child(GEOJSON, str(city))
        print(f"serve {served['tiles']} building tiles ({served['bytes'] / 1e6:.1f} MB): read_tile "
              f"{served['read_tile_s'] * 1000:.1f} ms, TileReader {served['reader_s'] * 1000:.1f} ms; "
              f"baseline, the old whole-layer GeoJSON: {old['seconds']:.2f} s, {old['bytes'] / 1e6:.0f} MB, "
              f"{old['peak_mb']:.0f} MB peak")

        if "--skip-map" not in sys.argv:
            _maps(city, png)


def _maps(city: Path, png: str) -> None:
    for mode in ("tiles", "geojson"):
        try:
            r = _child(MAP, str(city), mode, png)
        except RuntimeError as exc:
            print(f"map ({mode}): failed: {str(exc)[-300:]}")
            continue
        print(f"map, basemap only ({mode}): painted in {r['painted_s']:.2f} s, after zoom to 17 "
              f"{r['after_zoom_s']:.2f} s; {r['peak_mb']:.0f} MB; tiles served {r['tiles_served']}; "
              f"network requests {r['network']}")


if __name__ == "__main__":
    main()
