"""A city-sized .osm.pbf built from tiled copies of the bundled central-Helsinki extract.

Every node, way and relation of the extract is copied ``nx × ny`` times, each copy shifted by whole
tile widths (so copies sit side by side, never on top of each other) and its ids offset by
``tile × 10**10`` (above the extract's largest id, so every copy's ids stay unique, and references
between copies' own objects stay right). ``buildings`` adds that many synthetic building footprints
per tile (small squares on a grid, ``building=yes``), because the real extract has only about 540
buildings per 30,000 objects, far fewer than a city's. The file is written sorted as osmium expects
(all nodes, then all ways, then all relations, ids ascending) with ``osmium.SimpleWriter``, and cached
in a folder keyed by its parameters (``city_extract()`` returns the cached file when it exists).

    python bench/city_extract.py [NX NY [BUILDINGS_PER_TILE]]   # prints the path and the counts
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ID_STRIDE = 10**10  # per tile; the Helsinki extract's largest id is about 6.4e9
SYNTHETIC_BASE = 7 * 10**9  # synthetic buildings' node and way ids, within a tile's stride
FORMAT = 2  # bump when the way files are built changes (invalidates the cache)


def cache_dir() -> Path:
    base = os.environ.get("LANTERN_BENCH_CACHE") or os.path.join(tempfile.gettempdir(), "lantern-bench")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_source(path: Path):
    """The extract's nodes, ways and relations as plain tuples, and its tile size (degrees)."""
    import osmium

    nodes, ways, relations = [], [], []
    for obj in osmium.FileProcessor(str(path)):
        tags = [(t.k, t.v) for t in obj.tags]
        if obj.is_node():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, tags))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], tags))
        elif obj.is_relation():
            relations.append((obj.id, [(m.type, m.ref, m.role) for m in obj.members], tags))
    box = osmium.io.Reader(str(path), osmium.osm.NOTHING).header().box()
    west, south = box.bottom_left.lon, box.bottom_left.lat
    east, north = box.top_right.lon, box.top_right.lat
    size = (math.ceil((east - west) * 1e4 + 1) / 1e4, math.ceil((north - south) * 1e4 + 1) / 1e4)
    return nodes, ways, relations, (west, south), size


def _synthetic(origin, size, per_tile: int):
    """Per-tile building footprints: (nodes [(id, lon, lat)], ways [(id, refs)]) with tile-local ids."""
    side = max(1, math.ceil(math.sqrt(per_tile)))
    step_x, step_y = size[0] / side, size[1] / side
    nodes, ways = [], []
    for k in range(per_tile):
        x0 = origin[0] + (k % side) * step_x + step_x * 0.2
        y0 = origin[1] + (k // side) * step_y + step_y * 0.2
        w, h = step_x * 0.6, step_y * 0.6
        base = SYNTHETIC_BASE + 4 * k
        corners = ((x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h))
        nodes.extend((base + i, x, y) for i, (x, y) in enumerate(corners))
        ways.append((SYNTHETIC_BASE + k, [base, base + 1, base + 2, base + 3, base]))
    return nodes, ways



def _write(target: Path, src, nx: int, ny: int, per_tile: int) -> dict:
    """Write the tiled copies, sorted (nodes, ways, relations; tile by tile, ids ascending); the counts."""
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    nodes, ways, relations, origin, size = src
    extra_nodes, extra_ways = _synthetic(origin, size, per_tile)
    building = [("building", "yes")]
    tiles = [(t, (t % nx) * size[0], (t // nx) * size[1]) for t in range(nx * ny)]
    counts = {"nodes": 0, "ways": 0, "relations": 0, "buildings": 0}
    with osmium.SimpleWriter(str(target), overwrite=True) as writer:
        for t, dx, dy in tiles:
            off = t * ID_STRIDE
            for i, lon, lat, tags in nodes:
                writer.add_node(Node(id=i + off, location=(lon + dx, lat + dy), tags=tags))
            for i, lon, lat in extra_nodes:
                writer.add_node(Node(id=i + off, location=(lon + dx, lat + dy)))
            counts["nodes"] += len(nodes) + len(extra_nodes)
        for t, _dx, _dy in tiles:
            off = t * ID_STRIDE
            for i, refs, tags in ways:
                writer.add_way(Way(id=i + off, nodes=[r + off for r in refs], tags=tags))
            for i, refs in extra_ways:
                writer.add_way(Way(id=i + off, nodes=[r + off for r in refs], tags=building))
            counts["ways"] += len(ways) + len(extra_ways)
            counts["buildings"] += len(extra_ways) + sum(1 for w in ways if any(k == "building" for k, _v in w[2]))
        for t, _dx, _dy in tiles:
            off = t * ID_STRIDE
            for i, members, tags in relations:
                writer.add_relation(Relation(id=i + off, members=[(m[0], m[1] + off, m[2]) for m in members],
                                             tags=tags))
            counts["relations"] += len(relations)
    return counts


def city_extract(nx: int = 6, ny: int = 5, buildings_per_tile: int = 0) -> tuple[Path, dict]:
    """(path, counts) of the city extract with ``nx × ny`` tiles; built once, then taken from the cache."""
    import json

    sys.path.insert(0, str(ROOT))
    from layers.osm import helsinki_extract

    name = f"city-helsinki-{nx}x{ny}-b{buildings_per_tile}-f{FORMAT}"
    target = cache_dir() / f"{name}.osm.pbf"
    meta = cache_dir() / f"{name}.json"
    if target.is_file() and meta.is_file():
        return target, json.loads(meta.read_text())
    tmp = target.with_name(f".{target.name}.{os.getpid()}.osm.pbf")
    try:
        counts = _write(tmp, _read_source(helsinki_extract()), nx, ny, buildings_per_tile)
        counts["objects"] = counts["nodes"] + counts["ways"] + counts["relations"]
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    meta.write_text(json.dumps(counts))
    return target, counts


def grid_for(objects: int, per_tile_objects: int = 30_010) -> tuple[int, int]:
    """The smallest near-square tile grid with at least ``objects`` Helsinki objects."""
    tiles = max(1, math.ceil(objects / per_tile_objects))
    nx = math.ceil(math.sqrt(tiles))
    return nx, math.ceil(tiles / nx)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    nx, ny = (args[0], args[1]) if len(args) >= 2 else grid_for(900_000)
    path, counts = city_extract(nx, ny, args[2] if len(args) > 2 else 0)
    print(path)
    print(", ".join(f"{k}={v:,}" for k, v in counts.items()))
