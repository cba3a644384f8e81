"""Find benchmark: layers.search on a city workspace (300,000 buildings, 70,000 roads, a million cases).

Times ``search`` for a few queries on a *copy* of the city workspace (the
original is never opened for writing), then on a stress variant of that copy
where every building and road has a name with Latvian diacritics (the case
where SQLite alone cannot match and each row is folded in Python).
Baseline, in the same run: SQLite's own ``LIKE`` over the same name columns
(native, but it folds ASCII only: it does not find "Brīvības" from "brivibas").
Usage: python bench/search_city.py [CITY.gpkg]  (default: /tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1.gpkg)
Last line: real_ms=… stress_ms=… baseline_stress_ms=… ratio=…
"""
from __future__ import annotations

import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT = "/tmp/lantern-bench/city-ws-6x5-b9567-c1000000-f1.gpkg"
QUERIES = ["yrjon", "katu", "bulevardi 5", "zzzzz", "skersiela 4999", "eka 12345"]


def _time(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def _baseline(conn, text: str) -> int:
    """Native LIKE over the same name columns, no diacritic folding."""
    from layers.search import searchable

    found = 0
    for kind_id, spec in searchable().items():
        column = spec["fields"][0]
        found += len(conn.execute(f'SELECT fid FROM "{kind_id}" WHERE "{column}" LIKE ? LIMIT 40',
                                  (f"%{text}%",)).fetchall())
    return found


def _name_everything(path: Path) -> None:
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name IN "
                                "('basemap_buildings', 'basemap_roads')").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')  # the R-tree triggers need SpatiaLite functions; names only change
    conn.execute("UPDATE basemap_buildings SET name = 'Rūpnīcas ēka ' || fid WHERE name IS NULL")
    conn.execute("UPDATE basemap_roads SET name = 'Šķērsiela ' || (fid % 5000) WHERE name IS NULL")
    conn.commit()
    conn.close()


def main() -> None:
    from layers.search import search

    source = Path(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    folder = Path(tempfile.mkdtemp(prefix="lantern-bench-search-"))
    copy = folder / "city.gpkg"
    shutil.copy(source, copy)
    results = {}
    for label in ("real", "stress"):
        if label == "stress":
            _name_everything(copy)
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        counts = conn.execute("SELECT (SELECT count(*) FROM basemap_buildings), (SELECT count(name) FROM "
                              "basemap_buildings), (SELECT count(*) FROM basemap_roads), (SELECT count(name) FROM "
                              "basemap_roads)").fetchone()
        print(f"{label}: buildings {counts[0]} ({counts[1]} named), roads {counts[2]} ({counts[3]} named)")
        ours, native = [], []
        for q in QUERIES:
            t = _time(lambda: search(conn, q))
            b = _time(lambda: _baseline(conn, q))
            ours.append(t)
            native.append(b)
            print(f"  {q!r:18} search {t * 1000:7.1f} ms ({len(search(conn, q))} hits)   "
                  f"native LIKE {b * 1000:6.1f} ms")
        results[label] = (max(ours), max(native))
        conn.close()
    shutil.rmtree(folder)
    real, stress = results["real"][0], results["stress"][0]
    base = results["stress"][1]
    print(f"real_ms={real * 1000:.0f} stress_ms={stress * 1000:.0f} baseline_stress_ms={base * 1000:.0f} "
          f"ratio={stress / base:.1f}")


if __name__ == "__main__":
    main()
