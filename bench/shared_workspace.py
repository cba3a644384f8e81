"""Shared workspace benchmark (issue 19, part 6): concurrent writers on a PostgreSQL/PostGIS server holding
100,000 places and 1,000,000 reported cases — all synthetic.

Steps, each against a baseline timed in the same run:

1. a synthetic workspace: BENCH_PLACES places (half worksites, half places of concern) and BENCH_CASES
   reported cases, each layer written as signed import entries (as an import does);
2. ``server_transfer.push`` into an empty PostGIS database; baseline: GDAL's ``ogr2ogr -f PostgreSQL`` of the
   same file into a second database;
3. one copy per writer (``server_sync.pull``), one after another, each in a process of its own;
4. BENCH_WRITERS (10) processes at once, each doing BENCH_COMMANDS commands (renaming a place and annotating
   one, in turn) through ``History.do``, each followed by ``sync`` as a window in live mode does: once on
   disjoint places (no conflict possible), once all on the same BENCH_HOT places (conflicts are returned,
   decided "mine" by even writers and "theirs" by odd ones, and synced again). Baseline: as many processes
   and transactions in bare SQL through psycopg (UPDATE the row + INSERT a log row, one transaction each);
5. the time for a window to see another's change: a writer's sync → the watcher's ``ChangeListener`` →
   the watcher's sync → the new value read from its copy, BENCH_ROUNDS times; baseline: a bare LISTEN/NOTIFY
   round trip (UPDATE + pg_notify, LISTEN + SELECT on another connection);
6. correctness: every copy ends in step with the server (same history head, same values), a fresh pull
   passes ``check_workspace``, and the server's history grew by exactly the copies, commands and decisions.

One writer alone is profiled last (where the time of a command + sync goes). Peak memory (VmHWM) of the push,
each pull and each writer process. Last line: key=value figures.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PLACES = int(os.environ.get("BENCH_PLACES", "100000"))
CASES = int(os.environ.get("BENCH_CASES", "1000000"))
COMMANDS = int(os.environ.get("BENCH_COMMANDS", "50"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "10"))
HOT = int(os.environ.get("BENCH_HOT", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
BATCH = 100_000  # rows per import entry
SOURCE = "synthetic (bench/shared_workspace.py)"
CTX = multiprocessing.get_context("spawn")
LOG_TABLE = "bench_log"
CHANNEL = "bench_changes"


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork + exec, so a
    spawned process would report at least the parent's peak (the synthetic build)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def rate(results: list[dict]) -> float:
    """Commands per second of a concurrent run: all of them over the wall time from first start to last end."""
    return sum(len(r["total"]) for r in results) / results[0]["wall"]


def ms(seconds: float) -> str:
    return f"{round(seconds * 1000)} ms"


# -- processes ---------------------------------------------------------------------------------------------------


def _child(results, target, args):
    try:
        results.put(("ok", target(*args)))
    except BaseException:
        results.put(("error", traceback.format_exc()))


def start(target, *args):
    """``target(*args)`` in a fresh (spawned) process; ``finish`` collects its result."""
    results = CTX.Queue()
    process = CTX.Process(target=_child, args=(results, target, args))
    process.start()
    return process, results


def finish(job, timeout: float = 3600):
    process, results = job
    status, value = results.get(timeout=timeout)
    process.join(timeout=60)
    if status != "ok":
        raise SystemExit(f"a benchmark process failed:\n{value}")
    return value


def run(target, *args):
    return finish(start(target, *args))


# -- 1. the synthetic workspace ------------------------------------------------------------------------------------


def build_workspace(path: Path) -> dict[str, range]:
    """The synthetic workspace; the fids of each layer."""
    import numpy as np

    from layers.catalogue import kind
    from layers.workspace import Workspace

    rng = np.random.default_rng(19)
    today = dt.date.today()
    months = np.array([f"{y}-{m:02d}" for y in range(2018, today.year + 1) for m in range(1, 13)
                       if (y, m) <= (today.year, today.month)])
    fids = {}
    with Workspace.create(path, name="synthetic shared workspace") as ws:
        with ws.atomic():
            half = PLACES // 2
            for kind_id, count, field in (("worksites", half, "sector"),
                                          ("places_of_concern", PLACES - half, "category")):
                allowed = np.array(sorted(kind(kind_id).field(field).allowed), dtype=object)
                fids[kind_id] = _bulk(ws, kind_id, count, rng, lambda first, n: {
                    "name": [f"Synthetic {kind_id.replace('_', ' ')} {first + i}" for i in range(n)],
                    field: allowed[rng.integers(0, len(allowed), n)].tolist(),
                    "description": ["Synthetic (shared workspace benchmark)"] * n})
            k = kind("reported_cases")

            def choices(name, n):
                allowed = np.array(sorted(k.field(name).allowed), dtype=object)
                return allowed[rng.integers(0, len(allowed), n)].tolist()

            forms = np.array(['["labour"]', '["sexual"]', '["begging","labour"]', '["criminality"]'], dtype=object)
            fids["reported_cases"] = _bulk(ws, "reported_cases", CASES, rng, lambda first, n: {
                "reported": months[rng.integers(0, len(months), n)].tolist(),
                "forms": forms[rng.integers(0, len(forms), n)].tolist(),
                "sex": choices("sex", n), "age_band": choices("age_band", n),
                "nationality_group": choices("nationality_group", n), "status": choices("status", n),
                "source": choices("source", n), "referral_made": rng.integers(0, 2, n).tolist()})
            for kind_id in fids:
                ws.set_layer_info(kind_id, synthetic=True, source=SOURCE)
            ws.set_metadata("synthetic", "places, reported_cases")
    return fids


def _bulk(ws, kind_id: str, count: int, rng, columns) -> range:
    import shapely

    bulk = ws.bulk_insert(kind_id, source=SOURCE, author="Bench")
    first = None
    for offset in range(0, count, BATCH):
        n = min(BATCH, count - offset)
        geoms = shapely.points(rng.uniform(24.0, 24.3, n), rng.uniform(56.88, 57.05, n))  # Rīga
        fids = bulk.add(columns(offset, n), geoms)
        first = fids.start if first is None else first
    bulk.close()
    return range(first, first + count)


# -- 2. push, and ogr2ogr ------------------------------------------------------------------------------------------


def push_job(path: str, address: str, keydir: str):
    os.environ["LANTERN_KEY_DIR"] = keydir
    from layers import server_transfer

    started = time.perf_counter()
    report = server_transfer.push(path, address, author="Bench")
    return time.perf_counter() - started, report.rows, report.tables, peak_mb()


def ogr2ogr(path: Path, dsn: str) -> tuple[float, str, int, int]:
    """Seconds, what ogr2ogr said, and the tables and rows it wrote."""
    import psycopg

    started = time.perf_counter()
    result = subprocess.run(["ogr2ogr", "--config", "PG_USE_COPY", "YES", "-f", "PostgreSQL", f"PG:{dsn}", str(path)],
                            capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ogr2ogr failed:\n{result.stderr[-3000:]}")
    with psycopg.connect(dsn) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                                             "table_schema = 'public' AND table_type = 'BASE TABLE' "
                                             "AND table_name <> 'spatial_ref_sys'")]
        rows = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    return seconds, result.stderr.strip(), len(tables), rows


# -- 3. copies -----------------------------------------------------------------------------------------------------


def pull_job(address: str, path: str, label: str, keydir: str):
    os.environ["LANTERN_KEY_DIR"] = keydir
    from layers import server_sync

    started = time.perf_counter()
    server_sync.pull(address, path, author=label, label=label)
    ended = time.perf_counter()
    return ended - started, peak_mb(), ended


def wait_for_write_lock(dsn: str, timeout: float = 600) -> None:
    """Until another session holds the history's write lock (the table layers.server_schema.WRITE_LOCK_TABLE)."""
    import psycopg

    from layers.server_schema import WRITE_LOCK_TABLE

    deadline = time.perf_counter() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not conn.execute("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                               "WHERE c.relname = %s AND l.mode = 'ExclusiveLock' AND l.granted",
                               (WRITE_LOCK_TABLE,)).fetchone():
            if time.perf_counter() > deadline:
                raise TimeoutError("the pull never took the write lock")
            time.sleep(0.005)


# -- 4. writers ----------------------------------------------------------------------------------------------------


def _note(table: str, fid: int, author: str, text: str) -> dict:
    from audit.annotations import annotation_values

    return annotation_values(table, fid, indicators_seen=["gen_violence_signs"],
                             observed=(dt.date.today() - dt.timedelta(days=3)).isoformat(), confidence="medium",
                             source="own_observation", author=author, note=text)


def _command(i: int, table: str, fid: int, author: str, text: str):
    from audit.annotations import annotate
    from audit.commands import UpdateRow

    return UpdateRow(table, fid, {"name": text}) if i % 2 == 0 else annotate(_note(table, fid, author, text))


def writer_job(w: int, address: str, path: str, keydir: str, places: list, hot: list, commands: int, run_name: str,
               go, done, profile: bool):
    """One window's worth of work: ``commands`` commands, each followed by a sync (live mode)."""
    os.environ["LANTERN_KEY_DIR"] = keydir
    from audit.commands import History
    from layers import history_store, server_sync
    from layers.workspace import Workspace

    author = f"Writer {w}"
    opened = time.perf_counter()
    ws = Workspace.open(path)
    opened = time.perf_counter() - opened
    history = History(ws, author)
    rng = random.Random(1000 * w + len(run_name))
    choice = "mine" if w % 2 == 0 else "theirs"
    do_s, sync_s, total_s = [], [], []
    conflicts = decisions = retries = 0
    decided: dict = {}  # every conflict decided in this command's sync (they are all passed again)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    go.wait()
    began = time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(commands):
        table, fid = rng.choice(places)
        t0 = time.perf_counter()
        history.do(_command(i, table, fid, author, f"{run_name} w{w} c{i}"))
        t1 = time.perf_counter()
        result = server_sync.sync(ws, address, author=author)
        decided.clear()
        while result.conflicts:
            conflicts += len(result.conflicts)
            retries += 1
            if retries > 20 * commands:
                raise RuntimeError("conflicts keep coming back")
            decided.update({c.key: choice for c in result.conflicts})
            result = server_sync.sync(ws, address, resolve=dict(decided), author=author)
            decisions += result.in_step
        t2 = time.perf_counter()
        do_s.append(t1 - t0), sync_s.append(t2 - t1), total_s.append(t2 - t0)
    ended = time.perf_counter()
    if profiler:
        profiler.disable()
    if done is not None:
        done.wait()  # every writer finished: take in all the others' changes
    final = server_sync.sync(ws, address, author=author)
    if final.conflicts:
        raise RuntimeError(f"conflicts on the final sync: {final.conflicts}")
    head = history_store.last_entry(ws.db.conn)
    seen = {f"{t}:{f}": ws.db.conn.execute(f'SELECT name FROM "{t}" WHERE fid = ?', (f,)).fetchone()[0]
            for t, f in hot}
    ws.close()
    out = {"w": w, "began": began, "ended": ended, "do": do_s, "sync": sync_s, "total": total_s,
           "conflicts": conflicts, "decisions": decisions, "retries": retries, "head": list(head), "seen": seen,
           "open_s": opened, "peak_mb": peak_mb(), "commands": commands}
    if profiler:
        out["profile"] = _profile_text(profiler)
    return out


def _profile_text(profiler) -> str:
    import io
    import pstats

    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"(layers|audit)/|psycopg/(connection|cursor)|\{method 'execute", 28)
    lines = [ln for ln in text.getvalue().splitlines() if ln.strip() and not ln.startswith(("   Ordered", "   List"))]
    return "\n".join(lines[-32:])


def bare_writer_job(w: int, dsn: str, places: list, keys: dict, commands: int, run_name: str, go):
    """The baseline writer: the same number of transactions, each an UPDATE of the row and one log row."""
    import psycopg

    rng = random.Random(1000 * w + len(run_name))
    conn = psycopg.connect(dsn, autocommit=True)
    times = []
    go.wait()
    began = time.perf_counter()
    for i in range(commands):
        table, fid = rng.choice(places)
        text = f"{run_name} w{w} c{i}"
        t0 = time.perf_counter()
        with conn.transaction():
            conn.execute(f'UPDATE "{table}" SET name = %s WHERE "{keys[table]}" = %s', (text, fid))
            conn.execute(f"INSERT INTO {LOG_TABLE} (author, table_name, row_id, action, value) "
                         "VALUES (%s, %s, %s, 'update', %s)", (f"Writer {w}", table, fid, text))
        times.append(time.perf_counter() - t0)
    ended = time.perf_counter()
    conn.close()
    return {"w": w, "began": began, "ended": ended, "total": times, "peak_mb": peak_mb()}


def concurrent(label: str, jobs_args: list, target) -> list[dict]:
    """Start the writers, release them together, collect what each measured."""
    go = CTX.Barrier(len(jobs_args) + 1)
    done = CTX.Barrier(len(jobs_args)) if target is writer_job else None
    jobs = []
    for args in jobs_args:
        extra = (go, done, False) if target is writer_job else (go,)
        jobs.append(start(target, *args, *extra))
    go.wait(timeout=3600)
    results = [finish(job) for job in jobs]
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    total = [t for r in results for t in r["total"]]
    n = len(total)
    print(f"  {label}: {n} commands in {wall:.2f} s = {n / wall:.1f} commands/s; command+sync p50 "
          f"{ms(pct(total, 50))}, p95 {ms(pct(total, 95))}, max {ms(max(total))}; writer peak "
          f"{max(r['peak_mb'] for r in results):.0f} MB")
    for r in results:
        r["wall"] = wall
    return results


# -- 5. seeing another's change --------------------------------------------------------------------------------------


def watcher_job(mode: str, address: str, path: str, keydir: str, inbox, outbox):
    """A window: hears of a change, syncs, reads the row (``mode`` "bare": LISTEN + SELECT only)."""
    os.environ["LANTERN_KEY_DIR"] = keydir
    if mode == "lantern":
        from layers import server_sync
        from layers.workspace import Workspace

        listener = server_sync.ChangeListener(address)
        ws = Workspace.open(path)

        def wait(timeout):
            return listener.wait(timeout)

        def catch_up():
            server_sync.sync(ws, address, author="Watcher")

        def read(table, fid):
            return ws.db.conn.execute(f'SELECT name FROM "{table}" WHERE fid = ?', (fid,)).fetchone()[0]
    else:
        import psycopg

        conn = psycopg.connect(address, autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
        keys = _keys(conn)

        def wait(timeout):
            return {n.payload for n in conn.notifies(timeout=timeout, stop_after=1)}

        def catch_up():
            pass

        def read(table, fid):
            return conn.execute(f'SELECT name FROM "{table}" WHERE "{keys[table]}" = %s', (fid,)).fetchone()[0]
    outbox.put("ready")
    while (message := inbox.get()) is not None:
        table, fid, value = message
        if wait(0):  # nothing stale may wake it during the round
            catch_up()
        outbox.put("armed")
        while True:
            if not wait(30):
                raise TimeoutError("no notification within 30 s")
            heard = time.perf_counter()
            catch_up()
            synced = time.perf_counter()
            if read(table, fid) == value:
                outbox.put((heard, synced, time.perf_counter()))
                break
    return peak_mb()


def change_job(mode: str, address: str, path: str, keydir: str, inbox, outbox):
    """The other window: makes a change and syncs it (``mode`` "bare": UPDATE + pg_notify, one transaction)."""
    os.environ["LANTERN_KEY_DIR"] = keydir
    if mode == "lantern":
        from audit.commands import History, UpdateRow
        from layers import server_sync
        from layers.workspace import Workspace

        ws = Workspace.open(path)
        history = History(ws, "Changer")
    else:
        import psycopg

        conn = psycopg.connect(address, autocommit=True)
        keys = _keys(conn)
    outbox.put("ready")
    while (message := inbox.get()) is not None:
        table, fid, value = message
        if mode == "lantern":
            history.do(UpdateRow(table, fid, {"name": value}))
            t0 = time.perf_counter()
            server_sync.sync(ws, address, author="Changer")
        else:
            t0 = time.perf_counter()
            with conn.transaction():
                conn.execute(f'UPDATE "{table}" SET name = %s WHERE "{keys[table]}" = %s', (value, fid))
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, table))
        outbox.put((t0, time.perf_counter()))
    return peak_mb()


def see_change(mode: str, address: str, watcher_path: str, changer_path: str, keydirs: tuple, places: list) -> dict:
    w_in, w_out, c_in, c_out = CTX.Queue(), CTX.Queue(), CTX.Queue(), CTX.Queue()
    watcher = start(watcher_job, mode, address, watcher_path, keydirs[0], w_in, w_out)
    changer = start(change_job, mode, address, changer_path, keydirs[1], c_in, c_out)
    assert w_out.get(timeout=600) == "ready" and c_out.get(timeout=600) == "ready"
    rng = random.Random(5)
    seen, synced_by_writer, woke, watcher_sync = [], [], [], []
    for r in range(ROUNDS):
        table, fid = rng.choice(places)
        value = f"{mode} round {r} {rng.random():.6f}"
        w_in.put((table, fid, value))
        assert w_out.get(timeout=600) == "armed"
        c_in.put((table, fid, value))
        t0, t_sent = c_out.get(timeout=600)
        heard, caught_up, t_seen = w_out.get(timeout=600)
        seen.append(t_seen - t0)
        synced_by_writer.append(t_sent - t0)
        woke.append(heard - t_sent)
        watcher_sync.append(caught_up - heard)
    w_in.put(None), c_in.put(None)
    peaks = finish(watcher), finish(changer)
    return {"seen": seen, "sent": synced_by_writer, "woke": woke, "watcher_sync": watcher_sync, "peaks": peaks}


def _keys(conn) -> dict[str, str]:
    """The primary key column of each table (ogr2ogr names them as it likes)."""
    rows = conn.execute("SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                        "WHERE i.indisprimary").fetchall()
    return dict(rows)


# -- 6. checks -----------------------------------------------------------------------------------------------------


def check_job(address: str, path: str, keydir: str):
    os.environ["LANTERN_KEY_DIR"] = keydir
    import sqlite3

    from audit.check import check_workspace
    from layers import server_sync

    started = time.perf_counter()
    server_sync.pull(address, path, author="Checker", label="checker")
    pulled = time.perf_counter() - started
    started = time.perf_counter()
    result = check_workspace(path)
    checked = time.perf_counter() - started
    conn = sqlite3.connect(path)
    entries, head = conn.execute("SELECT count(*), max(id) FROM change_log").fetchone()
    conn.close()
    problems = [str(p) for p in result.problems]
    signers = [p for p in problems if p.startswith("change_log_signers ")]
    return {"ok": result.ok, "problems": len(problems), "signer_problems": signers,
            "other_problems": [p for p in problems if p not in signers][:5], "pull_s": pulled,
            "check_s": checked, "entries": entries, "max_id": head, "peak_mb": peak_mb()}


def server_entries(dsn: str) -> tuple[int, int, str]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        count, top = conn.execute("SELECT count(*), max(id) FROM change_log").fetchone()
        head = conn.execute("SELECT hash FROM change_log ORDER BY id DESC LIMIT 1").fetchone()[0]
    return count, top, head


def server_names(dsn: str, hot: list) -> dict[str, str]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return {f"{t}:{f}": conn.execute(f'SELECT name FROM "{t}" WHERE fid = %s', (f,)).fetchone()[0]
                for t, f in hot}


# -- the run -------------------------------------------------------------------------------------------------------


def main() -> None:
    from tests import pg_cluster

    reason = pg_cluster.missing_reason()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    folder = Path(tempfile.mkdtemp(prefix="lantern-bench-shared-"))
    keys = folder / "keys"
    os.environ["LANTERN_KEY_DIR"] = str(keys / "bench")
    figures: dict[str, str] = {}
    cluster = pg_cluster.Cluster()
    try:
        _run(cluster, folder, keys, figures)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


def _run(cluster, folder: Path, keys: Path, figures: dict) -> None:
    from tests import pg_cluster

    print(f"synthetic data: {PLACES} places (half worksites, half places of concern), {CASES} reported cases; "
          f"{WRITERS} writers × {COMMANDS} commands; PostgreSQL {cluster.bin.parent.name} + PostGIS, "
          f"{os.cpu_count()} cores")
    # 1
    path = folder / "synthetic.gpkg"
    started = time.perf_counter()
    fids = build_workspace(path)
    built = time.perf_counter() - started
    print(f"1. synthetic workspace built in {built:.1f} s, {path.stat().st_size / 1e6:.0f} MB")
    places = [(t, f) for t in ("worksites", "places_of_concern") for f in fids[t]]
    random.Random(3).shuffle(places)
    hot, cold = places[:HOT], places[HOT:]

    # 2
    address = pg_cluster.new_database(cluster, "lantern")
    push_s, rows, tables, push_mb = run(push_job, str(path), address, str(keys / "bench"))
    print(f"2. push: {rows} rows of {tables} tables in {push_s:.1f} s ({rows / push_s:,.0f} rows/s), "
          f"peak {push_mb:.0f} MB")
    figures.update(places=PLACES, cases=CASES, writers=WRITERS, commands=COMMANDS, push_s=f"{push_s:.1f}")
    bare = pg_cluster.new_database(cluster, "ogr")
    if shutil.which("ogr2ogr"):
        ogr_s, noise, ogr_tables, ogr_rows = ogr2ogr(path, bare)
        print(f"   baseline ogr2ogr -f PostgreSQL of the same file ({ogr_rows} rows of {ogr_tables} tables, the "
              f"layers GDAL lists): {ogr_s:.1f} s; push/ogr2ogr = "
              f"{push_s / ogr_s:.2f}" + (f" (ogr2ogr said: {noise[:200]})" if noise else ""))
        figures.update(ogr2ogr_s=f"{ogr_s:.1f}", push_ratio=f"{push_s / ogr_s:.2f}")
    else:
        print("   ogr2ogr is not installed: no push baseline (the bare-SQL baselines load the layers with "
              "ogr2ogr, so they are skipped too)")
    entries_pushed = server_entries(address)[0]

    # 3
    copies = [folder / f"writer{w}.gpkg" for w in range(WRITERS)]
    watcher_copy = folder / "watcher.gpkg"
    pulls = []
    for w, copy in enumerate(copies):
        pulls.append(run(pull_job, address, str(copy), f"writer{w}", str(keys / f"w{w}")))
    # the watcher's copy is pulled while a writer syncs: a copy being made holds the history's write lock
    go = CTX.Barrier(2)
    blocked = start(writer_job, 0, address, str(copies[0]), str(keys / "w0"), cold[0::WRITERS], hot, 1, "during",
                    go, None, False)
    pulling = start(pull_job, address, str(watcher_copy), "watcher", str(keys / "watcher"))
    wait_for_write_lock(address)
    go.wait(timeout=600)
    blocked, watcher_pull = finish(blocked), finish(pulling)
    pulls.append(watcher_pull)
    pull_times = [p[0] for p in pulls]
    print(f"3. {len(pulls)} copies pulled one after another: {sum(pull_times):.1f} s in all; per copy "
          f"median {statistics.median(pull_times):.1f} s (min {min(pull_times):.1f}, max {max(pull_times):.1f}), "
          f"{copies[0].stat().st_size / 1e6:.0f} MB each, pull peak {max(p[1] for p in pulls):.0f} MB; "
          f"push/pull = {push_s / statistics.median(pull_times):.2f}")
    print(f"   one command+sync started {watcher_pull[2] - blocked['began']:.1f} s before another copy's pull "
          f"ended took {blocked['total'][0]:.1f} s (History.do {ms(blocked['do'][0])}, sync "
          f"{blocked['sync'][0]:.1f} s): every sync waits for a pull in progress")
    figures.update(pull_s=f"{statistics.median(pull_times):.1f}", sync_during_pull_s=f"{blocked['sync'][0]:.1f}")

    # 4
    print(f"4. {WRITERS} concurrent writers, each {COMMANDS} commands (rename, annotate in turn), sync after each:")
    by_writer = [cold[w::WRITERS] for w in range(WRITERS)]
    disjoint = concurrent("Lantern, disjoint places", [
        (w, address, str(copies[w]), str(keys / f"w{w}"), by_writer[w], hot, COMMANDS, "disjoint")
        for w in range(WRITERS)], writer_job)
    overlap = concurrent(f"Lantern, all on the same {HOT} places", [
        (w, address, str(copies[w]), str(keys / f"w{w}"), hot, hot, COMMANDS, "overlap")
        for w in range(WRITERS)], writer_job)
    found = sum(r["conflicts"] for r in overlap)
    decided = sum(r["decisions"] for r in overlap)
    print(f"  conflicts: disjoint run {sum(r['conflicts'] for r in disjoint)}; overlapping run {found} returned "
          f"({decided} decisions synced, {sum(r['retries'] for r in overlap)} syncs with conflicts), none raised")
    for name, results in (("disjoint", disjoint), ("overlap", overlap)):
        do = [t for r in results for t in r["do"]]
        sy = [t for r in results for t in r["sync"]]
        print(f"  {name}: History.do p50 {ms(pct(do, 50))}, sync p50 {ms(pct(sy, 50))} p95 {ms(pct(sy, 95))}; "
              f"copy opened in {max(r['open_s'] for r in results):.1f} s at most")
    lantern_rate = rate(disjoint)
    figures.update(cmd_per_s=f"{lantern_rate:.1f}",
                   p50_ms=f"{pct([t for r in disjoint for t in r['total']], 50) * 1000:.0f}",
                   p95_ms=f"{pct([t for r in disjoint for t in r['total']], 95) * 1000:.0f}",
                   conflicts_disjoint=sum(r["conflicts"] for r in disjoint), conflicts_overlap=found,
                   writer_peak_mb=f"{max(r['peak_mb'] for r in disjoint + overlap):.0f}")
    if shutil.which("ogr2ogr"):
        import psycopg

        with psycopg.connect(bare, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {LOG_TABLE} (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), "
                         "author text, table_name text, row_id bigint, action text, value text)")
            pk = _keys(conn)
        bare_disjoint = concurrent("bare SQL baseline, disjoint", [
            (w, bare, by_writer[w], pk, COMMANDS, "disjoint") for w in range(WRITERS)], bare_writer_job)
        bare_overlap = concurrent("bare SQL baseline, overlapping (last write wins, silently)", [
            (w, bare, hot, pk, COMMANDS, "overlap") for w in range(WRITERS)], bare_writer_job)
        bare_rate = rate(bare_disjoint)
        bare_p50 = pct([t for r in bare_disjoint for t in r["total"]], 50)
        print(f"  ratio: bare SQL does {bare_rate / lantern_rate:.1f}× the commands/s of Lantern (disjoint), "
              f"{rate(bare_overlap) / rate(overlap):.1f}× (overlapping); p50 latency Lantern/bare = "
              f"{pct([t for r in disjoint for t in r['total']], 50) / bare_p50:.0f}×")
        figures.update(bare_cmd_per_s=f"{bare_rate:.1f}", throughput_ratio=f"{bare_rate / lantern_rate:.1f}")
    heads = {tuple(r["head"]) for r in overlap}
    count, top, server_head = server_entries(address)
    names = server_names(address, hot)
    in_step = len(heads) == 1 and next(iter(heads))[1] == server_head and all(r["seen"] == names for r in overlap)
    print(f"  after the last run every copy {'is' if in_step else 'is NOT'} in step with the server "
          f"(history head {'the same' if len(heads) == 1 else 'differs'}, the {HOT} shared places' names "
          f"{'the same' if all(r['seen'] == names for r in overlap) else 'differ'})")

    # 5
    print(f"5. a window seeing another's change ({ROUNDS} rounds, nothing else running):")
    lantern = see_change("lantern", address, str(watcher_copy), str(copies[0]),
                         (str(keys / "watcher"), str(keys / "w0")), cold)
    print(f"  Lantern: writer's sync → watcher's copy holds the value: p50 {ms(pct(lantern['seen'], 50))}, "
          f"p95 {ms(pct(lantern['seen'], 95))} (writer's sync p50 {ms(pct(lantern['sent'], 50))}, commit → "
          f"watcher woken p50 {ms(pct(lantern['woke'], 50))}, watcher's sync p50 "
          f"{ms(pct(lantern['watcher_sync'], 50))})")
    figures.update(see_p50_ms=f"{pct(lantern['seen'], 50) * 1000:.0f}",
                   see_p95_ms=f"{pct(lantern['seen'], 95) * 1000:.0f}")
    if shutil.which("ogr2ogr"):
        base = see_change("bare", bare, "", "", ("", ""), cold)
        print(f"  baseline LISTEN/NOTIFY: UPDATE + pg_notify → other connection has read the row: p50 "
              f"{ms(pct(base['seen'], 50))}, p95 {ms(pct(base['seen'], 95))} (commit → woken p50 "
              f"{ms(pct(base['woke'], 50))}); Lantern/baseline p50 = "
              f"{pct(lantern['seen'], 50) / pct(base['seen'], 50):.0f}×")
        figures.update(bare_see_p50_ms=f"{pct(base['seen'], 50) * 1000:.1f}")

    # one writer alone, profiled
    solo = run(writer_job, 0, address, str(copies[0]), str(keys / "w0"), cold[0::WRITERS], hot, COMMANDS, "solo",
               CTX.Barrier(1), None, True)
    print(f"   one writer alone: command+sync p50 {ms(pct(solo['total'], 50))}, p95 {ms(pct(solo['total'], 95))} "
          f"(History.do p50 {ms(pct(solo['do'], 50))}, sync p50 {ms(pct(solo['sync'], 50))}); "
          f"where its time goes (cumulative):")
    print("\n".join("     " + ln for ln in solo["profile"].splitlines()))
    figures.update(solo_p50_ms=f"{pct(solo['total'], 50) * 1000:.0f}")

    # 6
    checked = run(check_job, address, str(folder / "fresh.gpkg"), str(keys / "checker"))
    count, top, _head = server_entries(address)
    commands = sum(r["commands"] for r in disjoint + overlap) + ROUNDS + solo["commands"] + 1  # step 5's, step 3's
    decisions = sum(r["decisions"] for r in disjoint + overlap) + solo["decisions"]
    copies_made = len(pulls) + 1  # + the fresh copy's own entry
    expected = entries_pushed + copies_made + commands + decisions
    print(f"6. fresh pull {checked['pull_s']:.1f} s, check_workspace {checked['check_s']:.1f} s: "
          f"{'OK' if checked['ok'] else 'FAILED, ' + str(checked['problems']) + ' problems'}")
    if checked["signer_problems"]:
        print(f"   {len(checked['signer_problems'])} of them: a signer row the history does not record "
              f"(one per installation that pulled a copy: {'; '.join(checked['signer_problems'][:3])} …)")
    if checked["other_problems"]:
        print(f"   others: {'; '.join(checked['other_problems'])}")
    print(f"   server history: {entries_pushed} entries after the push, {count} at the end: grew by "
          f"{count - entries_pushed} = {copies_made} copies + {commands} commands + {decisions} conflict decisions → "
          f"{'exactly as expected' if count == expected else f'EXPECTED {expected}'}; ids 1..{top} "
          f"{'unbroken' if top == count else 'WITH GAPS'}; the fresh copy holds {checked['entries']}")
    figures.update(check_ok=checked["ok"], entries_ok=count == expected, in_step=in_step)


if __name__ == "__main__":
    main()
