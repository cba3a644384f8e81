"""The window on a whole city: time to a painted map, after a zoom, a pan and a filter; stalls; memory.

The workspace is bench/city_analysis.py's city (tiled copies of the Helsinki extract: about 300,000
buildings, 100,000 synthetic places, 1,000,000 synthetic reported cases), built and cached there.

App run (its own process, 1366×768 offscreen window): from process start to the first painted map
(layers, vector tiles and the cases' counts in view drawn: the page's complete-paint report), then
each step to its next complete paint — zoom to street level, pan half a screen, zoom back out,
filter the cases by a form of exploitation. A 10 ms QTimer probe gives the longest Qt event-loop
stall of each step; a PerformanceObserver in the page gives its long tasks (> 50 ms, Chromium's
definition). Memory: peak RSS of the Python process, and RSS of it plus its QtWebEngine children.

Baseline, timed the same way in the same run: a bare Leaflet page (local Leaflet + the vendored
Leaflet.VectorGrid, canvas) showing the same vector tiles, served from the same workspace table by a
minimal scheme handler (one SELECT per tile), through the same steps (no cases: the bare page has no
way to show a million points). Targets (issue 14): usable window ≤ 3 s, pan or zoom to a painted map
≤ 300 ms, longest stall ≤ 100 ms, memory ≤ 1.5 GB.

Env: BENCH_RUNS (median of, default 3), BENCH_CITY (a workspace to use instead of the cached city).
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGETS = {"window": 3.0, "step": 0.3, "stall_ms": 100.0, "memory_mb": 1500.0}

# shared by both runs: the stall probe, the step driver and the memory figure
COMMON = r"""
import json, os, sys, time
T0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWebEngineCore import QWebEngineScript

LONG_TASKS = '''window.__long = [];
try { new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { window.__long.push(e.duration); }); })
      .observe({type: "longtask", buffered: true}); } catch (e) { window.__long = null; }'''

def long_task_script():
    s = QWebEngineScript()
    s.setSourceCode(LONG_TASKS)
    s.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    s.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    return s

class Probe:
    def __init__(self):
        self.last, self.worst = time.perf_counter(), 0.0
        self.timer = QTimer(); self.timer.setInterval(10); self.timer.timeout.connect(self.tick); self.timer.start()
    def tick(self):
        now = time.perf_counter(); self.worst = max(self.worst, now - self.last); self.last = now
    def take(self):
        now = time.perf_counter(); worst = max(self.worst, now - self.last); self.worst = 0.0; self.last = now
        return worst

def tree_rss_mb():
    pids, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop(); pids.add(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                todo += [int(c) for c in open(f"/proc/{pid}/task/{tid}/children").read().split()]
        except OSError:
            pass
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"): total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024

def peak_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

class Steps:
    # run_js(code), request_paint(), painted signal; steps: list of (name, js or callable)
    def __init__(self, app, page, painted_signal, request_paint, steps, probe):
        self.app, self.page, self.request_paint, self.steps, self.probe = app, page, request_paint, steps, probe
        self.results = {}
        self.i = -1
        painted_signal.connect(self.next)
    def first(self):
        self.results["window"] = time.perf_counter() - T0
        self.results["stall_window"] = self.probe.take() * 1000
        self.i = 0
        QTimer.singleShot(300, self.run)  # let the first paint settle
    def run(self):
        if self.i >= len(self.steps):
            self.page.runJavaScript("JSON.stringify(window.__long)", 0, self.finish)
            return
        name, action = self.steps[self.i]
        self.probe.take()
        self.started = time.perf_counter()
        action() if callable(action) else self.page.runJavaScript(action)
        self.request_paint()
    def next(self, *args):
        if self.i < 0:
            self.first(); return
        if self.i >= len(self.steps):
            return
        name = self.steps[self.i][0]
        self.results[name] = time.perf_counter() - self.started
        self.results["stall_" + name] = self.probe.take() * 1000
        self.i += 1
        QTimer.singleShot(300, self.run)
    def finish(self, text):
        tasks = json.loads(text) if text else None
        self.results["longest_task_ms"] = max(tasks) if tasks else (0.0 if tasks == [] else None)
        self.results["long_tasks"] = len(tasks) if tasks is not None else None
        self.results["peak_mb"] = peak_mb()
        self.results["tree_mb"] = tree_rss_mb()
        print("RESULT " + json.dumps(self.results), flush=True)
        self.app.quit()
"""

APP = COMMON + r"""
sys.path.insert(0, sys.argv[1])
path, lat, lng = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
from gui.app import create_application
app = create_application([])
from gui.main_window import MainWindow
from audit.filters import FilterState
probe = Probe()  # from here on the window exists: building it and opening the workspace count as stalls
win = MainWindow()
win.map_view.page.scripts().insert(long_task_script())
win.resize(1366, 768); win.show()
mv = win.map_view
view = lambda z, dx=0.0: f"lantern.setView({lat}, {lng + dx}, {z});"
steps = [("zoom_in", view(16)), ("pan", view(16, 0.006)), ("zoom_out", view(13, 0.006)),
         ("filter", lambda: win.session.set_filters(FilterState(forms=frozenset({"labour"}))))]
driver = Steps(app, mv.page, mv.painted, mv.request_paint, steps, probe)
from gui.app import open_when_ready
def open_it():  # as gui.app.run opens it (once the window is drawn): building the window is its own stall
    driver.results["stall_build"] = probe.take() * 1000
    win.open_workspace(path)
open_when_ready(open_it)
app.exec()
os._exit(0)
"""

BASELINE = COMMON + r"""
import sqlite3
from pathlib import Path
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QUrl, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (QWebEnginePage, QWebEngineProfile, QWebEngineSettings, QWebEngineUrlRequestJob,
                                     QWebEngineUrlScheme, QWebEngineUrlSchemeHandler)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication
root, path, lat, lng, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5])
scheme = QWebEngineUrlScheme(b"bare")
scheme.setSyntax(QWebEngineUrlScheme.Syntax.Path)
F = QWebEngineUrlScheme.Flag
scheme.setFlags(F.LocalScheme | F.LocalAccessAllowed | F.CorsEnabled | F.FetchApiAllowed)
QWebEngineUrlScheme.registerScheme(scheme)
app = QApplication([])
probe = Probe()
import xstatic.pkg.leaflet as xl
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
kinds = [r[0] for r in conn.execute("SELECT DISTINCT layer FROM lantern_tiles")]
class Tiles(QWebEngineUrlSchemeHandler):
    def requestStarted(self, job):
        _, kind, z, x, y = job.requestUrl().path().split("/")
        row = conn.execute("SELECT data FROM lantern_tiles WHERE layer=? AND z=? AND x=? AND y=?",
                           (kind, int(z), int(x), int(y.split(".")[0]))).fetchone()
        buf = QBuffer(job); buf.setData(QByteArray(row[0] if row else b"")); buf.open(QIODevice.OpenModeFlag.ReadOnly)
        job.reply(QByteArray(b"application/x-protobuf"), buf)
leaflet = Path(xl.BASE_DIR)
grid = Path(root) / "mapping" / "static" / "vendor"
grid_js = next(grid.glob("*VectorGrid*.js"))
layers_js = json.dumps(kinds)
out.joinpath("bare.html").write_text(f'''<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(leaflet / 'leaflet.css').as_uri()}">
<script src="{(leaflet / 'leaflet.js').as_uri()}"></script><script src="{grid_js.as_uri()}"></script>
<script src="qrc:///qtwebchannel/qwebchannel.js"></script>
<style>html,body,#map{{height:100%;margin:0}}</style></head><body><div id="map"></div><script>
var map = L.map("map", {{preferCanvas: true}}).setView([{lat}, {lng}], 12);
var pending = 0, bridge = null;
{layers_js}.forEach(function (k) {{
  var layer = L.vectorGrid.protobuf("bare:tiles/" + k + "/{{z}}/{{x}}/{{y}}.pbf", {{
    rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 15,
    vectorTileLayerStyles: {{}}, getFeatureId: null}});
  layer.on("loading", function () {{ pending++; }});
  layer.on("load", function () {{ pending--; }});
  layer.addTo(map);
}});
function reportPainted() {{
  (function wait() {{ if (pending > 0) {{ setTimeout(wait, 5); return; }}
    requestAnimationFrame(function () {{ requestAnimationFrame(function () {{ bridge.painted(); }}); }}); }})();
}}
window.lantern = {{ setView: function (a, b, z) {{ map.setView([a, b], z, {{animate: false}}); }}, reportPainted: reportPainted }};
new QWebChannel(qt.webChannelTransport, function (c) {{ bridge = c.objects.bridge; reportPainted(); }});
</script></body></html>''')
from PySide6.QtCore import Signal
class Bridge(QObject):
    done = Signal()
    @Slot()
    def painted(self): self.done.emit()
profile = QWebEngineProfile()
handler = Tiles()
profile.installUrlSchemeHandler(b"bare", handler)
page = QWebEnginePage(profile)
page.settings().setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
page.scripts().insert(long_task_script())
bridge = Bridge(); channel = QWebChannel(); channel.registerObject("bridge", bridge); page.setWebChannel(channel)
view = QWebEngineView(); view.setPage(page); view.resize(1366, 768); view.show()
js = lambda z, dx=0.0: f"lantern.setView({lat}, {lng + dx}, {z});"
steps = [("zoom_in", js(16)), ("pan", js(16, 0.006)), ("zoom_out", js(13, 0.006))]
driver = Steps(app, page, bridge.done, lambda: page.runJavaScript("lantern.reportPainted();"), steps, probe)
page.load(QUrl.fromLocalFile(str(out / "bare.html")))
app.exec()
os._exit(0)
"""


def _env(home: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "XDG_DATA_HOME": f"{home}/data", "XDG_CONFIG_HOME": f"{home}/config", "LANTERN_LANG": "en"}
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
    return env


def run(code: str, args: list[str], env: dict) -> dict | None:
    try:
        result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                                timeout=600)
    except subprocess.TimeoutExpired:
        print("  timed out")
        return None
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  run failed ({result.returncode}): {result.stderr.strip().splitlines()[-3:]}")
    return None


def city() -> Path:
    if os.environ.get("BENCH_CITY"):
        return Path(os.environ["BENCH_CITY"])
    sys.path.insert(0, str(ROOT / "bench"))
    import city_analysis

    return city_analysis.workspace()


def prepare(source: Path, folder: Path) -> tuple[Path, float, float]:
    """A copy of the city with its vector tiles cut (as the window would on first opening); its centre."""
    sys.path.insert(0, str(ROOT))
    from layers import tiles
    from layers.workspace import Workspace

    path = folder / "city.gpkg"
    shutil.copy(source, path)
    with Workspace.open(path) as ws:
        stale = tiles.stale_kinds(ws)
        if stale:
            started = time.perf_counter()
            tiles.build_tiles(ws, stale)
            print(f"vector tiles cut for {', '.join(stale)} in {time.perf_counter() - started:.1f} s (once per change)")
        w, s, e, n = ws.bounds()
    return path, (s + n) / 2, (w + e) / 2


def median(runs: list[dict], key: str):
    values = [r[key] for r in runs if r and r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _env(tmp)
        path, lat, lng = prepare(city(), folder)
        apps, bares = [], []
        for i in range(RUNS):  # interleaved, so both see the same machine load
            bare_dir = folder / f"bare{i}"
            bare_dir.mkdir()
            bares.append(run(BASELINE, [str(ROOT), str(path), str(lat), str(lng), str(bare_dir)], env))
            apps.append(run(APP, [str(ROOT), str(path), str(lat), str(lng)], env))
    fmt = lambda x, spec=".2f": "failed" if x is None else format(x, spec)  # noqa: E731
    lines = []
    for key, label in (("window", "window to a painted map"), ("zoom_in", "zoom to street level"),
                       ("pan", "pan half a screen"), ("zoom_out", "zoom back out"), ("filter", "filter the cases")):
        a, b = median(apps, key), median(bares, key)
        ratio = a / b if a and b else None
        target = TARGETS["window"] if key == "window" else TARGETS["step"]
        verdict = "" if a is None else (" met" if a <= target else f" MISSED (target {target:g} s)")
        print(f"{label}: {fmt(a, '.3f')} s, bare Leaflet page with the same tiles {fmt(b, '.3f')} s, "
              f"ratio {fmt(ratio)};{verdict if key != 'filter' else ' (no target, no baseline: the bare page has no cases)'}")
        lines.append(f"{key}_s={fmt(a, '.3f')} baseline_s={fmt(b, '.3f')}")
    stalls = [max(v for k, v in r.items() if k.startswith("stall_")) for r in apps if r]
    stall = max(stalls) if stalls else None
    longest = max((r["longest_task_ms"] for r in apps if r and r.get("longest_task_ms") is not None), default=None)
    bare_longest = max((r["longest_task_ms"] for r in bares if r and r.get("longest_task_ms") is not None), default=None)
    print(f"longest Qt event-loop stall (opening, zooming, panning, filtering): {fmt(stall, '.0f')} ms"
          + ("" if stall is None else " met" if stall <= TARGETS["stall_ms"] else f" MISSED (target {TARGETS['stall_ms']:g} ms)"))
    # the bare page's stalls are the baseline: what Qt and QtWebEngine cost with no app around the same tiles
    worst = lambda runs, key: max((r[key] for r in runs if r and r.get(key) is not None), default=None)  # noqa: E731
    print("longest Qt stall per step, app / bare page (window = opening the workspace to its first paint): " + "; ".join(
        f"{step} {fmt(worst(apps, 'stall_' + step), '.0f')} / "
        f"{'-' if step == 'filter' else fmt(worst(bares, 'stall_' + step), '.0f')} ms"  # the bare page has no cases
        for step in ("window", "zoom_in", "pan", "zoom_out", "filter"))
        + f" (building the window, before opening: {fmt(worst(apps, 'stall_build'), '.0f')} ms; the bare page's"
          " window figure covers building its view and loading it)")
    print(f"longest long task in the page: {fmt(longest, '.0f')} ms (bare page: {fmt(bare_longest, '.0f')} ms)"
          + ("" if longest is None else " met" if longest <= TARGETS["stall_ms"] else f" MISSED (target {TARGETS['stall_ms']:g} ms)"))
    peak, tree = median(apps, "peak_mb"), median(apps, "tree_mb")
    print(f"memory: Python process peak {fmt(peak, '.0f')} MB; with its QtWebEngine processes {fmt(tree, '.0f')} MB "
          f"(bare page {fmt(median(bares, 'tree_mb'), '.0f')} MB)"
          + ("" if tree is None else " met" if tree <= TARGETS["memory_mb"] else f" MISSED (target {TARGETS['memory_mb']:g} MB)"))
    print(" ".join(lines) + f" stall_ms={fmt(stall, '.0f')} longtask_ms={fmt(longest, '.0f')} memory_mb={fmt(tree, '.0f')}")


if __name__ == "__main__":
    main()
