"""Smoke test of the frozen app: does the bundle run on its own, and does it show the map?

    .venv/bin/python packaging/smoke_test.py DIST_DIR [--install] [--reference auto|PNG|none] [--keep DIR]

DIST_DIR is the bundle (``dist/lantern``, or an installed ``PREFIX/lib/lantern``). With ``--install`` the
bundle's own ``install.sh`` first installs it under a temporary PREFIX (as a user without a checkout would),
the checks run the installed ``PREFIX/bin/lantern``, and ``install.sh --uninstall`` removes it again.
Every run of the frozen program is isolated from the checkout and from this machine's state:

- a clean environment (``env -i``): only PATH, a fresh HOME and QT_QPA_PLATFORM=offscreen — so a fresh user
  whose demo is built from the bundled extract, and no QTWEBENGINE_CHROMIUM_FLAGS (the app adds --no-sandbox
  for root itself);
- PYTHONPATH pointing at a *poisoned* folder whose ``main``, ``layers``, ``audit``, ``mapping`` and ``gui``
  raise on import: a frozen app that imported anything from outside its bundle fails (positive control: the
  venv's Python does import the poison);
- the working folder is a temporary folder, not the checkout;
- no network: in a fresh network namespace (``unshare --net``), when the machine allows one.

Checks: ``--version``; ``demo OUT.gpkg`` (a GeoPackage with every layer of the catalogue, none empty; its OSM
reader is a child process); the tile cutter child process on it (``lantern -c ...``);
``--lang lv --help`` (the Latvian catalogue is bundled); ``--demo --screenshot`` in English and Latvian: the
picture has the window's size, many colours, the map's style colours in the map pane (as many as the app
from source shows, with ``--reference``), and the Latvian window differs from the English one; and the
program wrote nothing into its own folder (a system-wide install is read-only).
Prints each check; exits 1 at the first failure with what went wrong.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOT_SIZE = (1400, 880)  # gui/app.py Screenshot: the window is resized to this before the picture
MIN_COLOURS = 500  # a painted window has thousands; an empty map pane a few hundred at most
MIN_STYLE_PIXELS = 3000  # the map's own colours (buildings, worksites, hubs, ...) in a painted map pane
BIG_AREA_PIXELS = 1000
POISONED = ("main", "layers", "audit", "mapping", "gui")


class Failed(Exception):
    pass


def check(condition: bool, what: str, detail: str = "") -> None:
    if not condition:
        raise Failed(f"{what}: {detail}" if detail else what)
    print(f"  ok  {what}" + (f" ({detail})" if detail else ""))


# -- running the frozen program ---------------------------------------------------------------------

class Runner:
    """Runs the bundle's program in the isolated environment described above."""

    def __init__(self, program: Path, work: Path):
        self.program, self.work = program, work
        self.home = work / "home"
        self.poison = work / "poison"
        self.cwd = work / "cwd"
        for folder in (self.home, self.poison, self.cwd):
            folder.mkdir(parents=True, exist_ok=True)
        for name in POISONED:
            (self.poison / name).mkdir(exist_ok=True)
            (self.poison / name / "__init__.py").write_text(
                f"raise ImportError('imported {name} from outside the bundle')\n")
            (self.poison / f"{name}.py").write_text(f"raise ImportError('imported {name}.py from outside')\n")
        self.unshare = self._network_namespace()

    def env(self, **extra: str) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "QT_QPA_PLATFORM": "offscreen",
                "PYTHONPATH": str(self.poison), **extra}

    @staticmethod
    def _network_namespace() -> list[str]:
        unshare = shutil.which("unshare")
        if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
            return [unshare, "--net"]
        return []

    def run(self, *args: str, timeout: float = 180, **extra: str) -> subprocess.CompletedProcess:
        started = time.perf_counter()
        done = subprocess.run([*self.unshare, str(self.program), *args], cwd=self.cwd, env=self.env(**extra),
                              capture_output=True, text=True, timeout=timeout)
        print(f"  ran lantern {' '.join(args)}  [{time.perf_counter() - started:.1f} s, exit {done.returncode}]")
        return done


def expect_success(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise Failed(f"{what} exited {done.returncode}:\n{tail}")


# -- the checks -------------------------------------------------------------------------------------

def check_isolation(runner: Runner) -> None:
    print("isolation")
    control = subprocess.run([sys.executable, "-c", "import layers"], cwd=runner.cwd,
                             env={**runner.env(), "PATH": os.environ.get("PATH", "")}, capture_output=True, text=True)
    check(control.returncode != 0 and "outside the bundle" in control.stderr,
          "positive control: a plain Python with the same PYTHONPATH imports the poisoned 'layers'")
    check(runner.cwd.resolve() != ROOT and not str(runner.cwd.resolve()).startswith(str(ROOT) + os.sep),
          "working folder is outside the checkout", str(runner.cwd))
    if runner.unshare:
        print("  ok  every run below is in a network namespace without network (unshare --net)")
    else:
        print("  --  no network namespace here (unshare --net refused): runs below may reach the network")


def check_version(runner: Runner) -> None:
    print("--version")
    done = runner.run("--version")
    expect_success(done, "lantern --version")
    words = done.stdout.split()
    check(len(words) == 2 and words[0] == "lantern", "prints 'lantern VERSION'", done.stdout.strip())
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        expected = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        check(words[1] == expected, "version is pyproject.toml's", words[1])


def bundled_file(dist: Path, name: str) -> Path:
    for base in (dist / "_internal", dist):
        if (base / name).is_file():
            return base / name
    raise Failed(f"{name} is not in the bundle {dist}")


def check_demo(runner: Runner, dist: Path) -> None:
    print("demo OUT.gpkg")
    out = runner.cwd / "out" / "demo.gpkg"
    done = runner.run("demo", str(out))
    expect_success(done, "lantern demo")
    check(out.is_file(), "the workspace was written", f"{out.stat().st_size // 1024} KB")
    kinds = [k["id"] for k in json.loads(bundled_file(dist, "data/layer_kinds.json").read_text())["kinds"]]
    with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as db:
        check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "sqlite3 opens it; integrity ok")
        registered = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        missing = [k for k in kinds if k not in registered]
        check(not missing, f"every layer of the catalogue is a GeoPackage table ({len(kinds)})",
              f"missing {missing}" if missing else "")
        counts = {k: db.execute(f'SELECT count(*) FROM "{k}"').fetchone()[0] for k in kinds}
    empty = [k for k, n in counts.items() if not n]
    check(not empty, "no layer is empty", f"empty: {empty}" if empty else
          ", ".join(f"{k} {n}" for k, n in counts.items()))


def check_tiles(runner: Runner) -> None:
    """The tile cutter, a child process Lantern starts as ``sys.executable -c`` for layers of 20,000+ rows (the
    demo is smaller, so the app does not start it here): the frozen program must play ``python -c``."""
    print("vector tiles (child process, GDAL's MVT driver)")
    demo, out = runner.cwd / "out" / "demo.gpkg", runner.cwd / "out" / "buildings.mbtiles"
    done = runner.run("-c", "from layers.tiles import _cut_main; _cut_main()", str(demo), "basemap_buildings",
                      "14", "14", str(out))
    expect_success(done, "lantern -c <the tile cutter>")
    with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as db:
        tiles = db.execute("SELECT count(*) FROM tiles WHERE zoom_level = 14").fetchone()[0]
    check(tiles > 0, "the buildings were cut into MBTiles", f"{tiles} tiles at zoom 14")
    refused = runner.run("-c", "import os; print('arbitrary code ran')")
    check(refused.returncode == 2 and "arbitrary code ran" not in refused.stdout,
          "any other -c code is refused", refused.stderr.strip())


def check_odk_client(runner: Runner) -> None:
    """ODK Central's client (pyodk, pydantic, requests: imported only when asked) is in the bundle: it starts its
    login and fails on the network, not on an import."""
    print("import-submissions --odk-central (pyodk)")
    config = runner.home / "pyodk_config.toml"
    config.write_text('[central]\nbase_url = "http://127.0.0.1:9"\nusername = "smoke@example.lv"\n'
                      'password = "synthetic"\n', encoding="utf-8")
    done = runner.run("import-submissions", "--odk-central", "7/lantern_field_all", "--into",
                      str(runner.cwd / "out" / "demo.gpkg"), "--json", PYODK_CONFIG_FILE=str(config),
                      PYODK_CACHE_FILE=str(runner.home / "pyodk_cache.toml"))
    answer = json.loads(done.stdout or "{}")
    check(done.returncode == 2 and "/v1/sessions" in answer.get("error", ""),
          "pyodk ran and asked the server to log in (refused: no network)", answer.get("error", done.stderr)[-300:])
    check("No module named" not in done.stderr and "Traceback" not in done.stderr, "nothing was missing from the bundle")


def check_translations(runner: Runner) -> None:
    print("--lang lv --help")
    english = runner.run("--help")
    latvian = runner.run("--lang", "lv", "--help")
    expect_success(english, "lantern --help")
    expect_success(latvian, "lantern --lang lv --help")
    letters = set("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ") & set(latvian.stdout)
    check(latvian.stdout != english.stdout and len(letters) >= 3,
          "the help is in Latvian (the bundled catalogue is loaded)", "letters " + "".join(sorted(letters)))


def style_colours(dist: Path) -> list[tuple[int, int, int]]:
    """The outline and fill colours of the map's layers (data/layer_kinds.json, as bundled), white excepted."""
    found = set()
    for kind in json.loads(bundled_file(dist, "data/layer_kinds.json").read_text())["kinds"]:
        for key in ("color", "fill_color"):
            value = kind.get("style", {}).get(key, "")
            if len(value) == 7 and value.lower() != "#ffffff":
                found.add(tuple(int(value[i:i + 2], 16) for i in (1, 3, 5)))
    return sorted(found)


def picture(path: Path):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def style_pixels(pixels, colours) -> dict:
    import numpy as np

    flat = pixels.reshape(-1, 3)
    return {c: int((flat == np.array(c)).all(axis=1).sum()) for c in colours}


def screenshot(runner: Runner, name: str, **extra: str) -> Path:
    out = runner.cwd / f"{name}.png"
    done = runner.run("--demo", "--screenshot", str(out), timeout=300, **extra)
    expect_success(done, f"lantern --demo --screenshot ({name})")
    check(out.is_file(), f"{out.name} was written")
    return out


def check_picture(path: Path, colours, reference=None) -> None:
    import numpy as np

    pixels = picture(path)
    height, width = pixels.shape[:2]
    check((width, height) == SHOT_SIZE, "the picture has the window's size", f"{width}x{height}")
    distinct = len(np.unique(pixels.reshape(-1, 3), axis=0))
    check(distinct >= MIN_COLOURS, f"not blank: at least {MIN_COLOURS} colours", f"{distinct}")
    counts = style_pixels(pixels, colours)
    total = sum(counts.values())
    shown = sum(1 for n in counts.values() if n >= 100)
    check(total >= MIN_STYLE_PIXELS and shown >= 3, "the map pane is painted: the layers' style colours appear",
          f"{total} px in {shown} colours")
    if reference is None:
        return
    ref_counts = style_pixels(reference, colours)
    ref_total = sum(ref_counts.values())
    check(0.5 <= total / max(ref_total, 1) <= 2.0, "the style colours cover as much of the picture as from source",
          f"{total} px frozen, {ref_total} px from source")
    # colours that fill areas (buildings, worksite markers, ...); thin outlines vary with what is highlighted
    big = {c: n for c, n in ref_counts.items() if n >= BIG_AREA_PIXELS}
    off = {"#%02x%02x%02x" % c: (counts[c], n) for c, n in big.items() if not 0.5 <= counts[c] / n <= 2.0}
    check(big and not off, f"each colour that covers {BIG_AREA_PIXELS}+ px from source covers 0.5-2x as much frozen",
          f"frozen vs source px: {off}" if off else ", ".join(f"#{'%02x%02x%02x' % c} {counts[c]}/{n}"
                                                             for c, n in big.items()))
    if reference.shape == pixels.shape:
        differs = float((np.abs(reference.astype(int) - pixels.astype(int)).max(axis=2) > 16).mean())
        check(differs <= 0.10, "at most 10% of the pixels differ from the picture from source",
              f"{differs:.2%} differ")


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file of ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def check_unchanged(folder: Path, before: dict) -> None:
    print("the bundle itself")
    after = snapshot(folder)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    check(not changed, "the program wrote nothing into its own folder",
          f"changed: {changed[:10]}" if changed else f"{len(after)} files as installed")


def install(dist: Path, work: Path) -> Path:
    """Install ``dist`` with its own install.sh under ``work/prefix``; the installed bundle folder."""
    print("install.sh (from the bundle, no checkout)")
    prefix = work / "prefix"
    script = dist / "install.sh"
    check(script.is_file(), "the bundle carries install.sh", str(script))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"), "PREFIX": str(prefix)}
    done = subprocess.run(["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    expect_success(done, "install.sh")
    app_id = "io.github.lantern_gis.Lantern"
    desktop = prefix / "share" / "applications" / f"{app_id}.desktop"
    expected = [prefix / "bin" / "lantern", desktop, prefix / "share" / "metainfo" / f"{app_id}.metainfo.xml",
                *(prefix / "share" / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{app_id}.png"
                  for n in (48, 128, 256)),
                prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{app_id}.svg"]
    missing = [str(p) for p in expected if not p.exists()]
    check(not missing, "program, menu entry, AppStream file and icons are installed", ", ".join(missing))
    text = desktop.read_text(encoding="utf-8")
    check(f'Exec="{prefix / "bin" / "lantern"}" %f' in text, "the menu entry starts the installed program")
    validator = shutil.which("desktop-file-validate")
    if validator:
        done = subprocess.run([validator, str(desktop)], capture_output=True, text=True)
        check(done.returncode == 0 and "error" not in done.stdout, "desktop-file-validate accepts the entry",
              done.stdout.strip())
    return prefix


def uninstall(prefix: Path, work: Path) -> None:
    print("install.sh --uninstall")
    script = prefix / "lib" / "lantern" / "install.sh"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"), "PREFIX": str(prefix)}
    done = subprocess.run(["bash", str(script), "--uninstall"], cwd=work, env=env, capture_output=True, text=True)
    expect_success(done, "install.sh --uninstall")
    left = [str(p.relative_to(prefix)) for p in prefix.rglob("*")
            if p.is_file() and p.name not in ("mimeinfo.cache", "icon-theme.cache")]
    check(not left, "nothing of Lantern is left under PREFIX", ", ".join(left[:10]))


def make_reference(work: Path) -> Path:
    """The same screenshot from the checkout with the venv's Python (the user's own environment)."""
    out = work / "reference.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--demo", "--screenshot", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    print(f"  ran main.py --demo --screenshot from source  [{time.perf_counter() - started:.1f} s, "
          f"exit {done.returncode}]")
    expect_success(done, "main.py --demo --screenshot (the reference)")
    return out


def check_screenshots(runner: Runner, dist: Path, reference: Path | None) -> None:
    import numpy as np

    colours = style_colours(dist)
    print("--demo --screenshot (English)")
    ref_pixels = picture(reference) if reference else None
    english = screenshot(runner, "shot-en", LANTERN_LANG="en")
    check_picture(english, colours, ref_pixels)
    print("--demo --screenshot (LANTERN_LANG=lv)")
    latvian = screenshot(runner, "shot-lv", LANTERN_LANG="lv")
    check_picture(latvian, colours)
    a, b = picture(english), picture(latvian)
    differs = float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 16).mean())
    check(differs >= 0.005, "the Latvian window differs from the English one (its texts)", f"{differs:.2%} of pixels")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", type=Path, help="the bundle folder (dist/lantern or PREFIX/lib/lantern)")
    parser.add_argument("--reference", default="auto",
                        help="PNG to compare the frozen screenshot with; 'auto': made now from the checkout; "
                             "'none': no comparison")
    parser.add_argument("--install", action="store_true",
                        help="install the bundle with its install.sh under a temporary PREFIX and test that copy")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (pictures, demo, HOME)")
    args = parser.parse_args(argv)
    args.dist = args.dist.resolve()
    program = args.dist / "lantern"
    if not os.access(program, os.X_OK):
        print(f"FAIL: no program at {program}: build it with 'make bundle'", file=sys.stderr)
        return 1
    work = (args.keep or Path(tempfile.mkdtemp(prefix="lantern-smoke-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        dist, prefix = args.dist, None
        if args.install:
            prefix = install(args.dist, work)
            dist, program = prefix / "lib" / "lantern", prefix / "bin" / "lantern"
        before = snapshot(dist)
        runner = Runner(program, work)
        check_isolation(runner)
        check_version(runner)
        check_demo(runner, dist)
        check_tiles(runner)
        check_odk_client(runner)
        check_translations(runner)
        reference = None
        if args.reference == "auto" and (ROOT / "main.py").is_file():
            print("reference picture from source")
            reference = make_reference(work)
        elif args.reference not in ("auto", "none"):
            reference = Path(args.reference)
        check_screenshots(runner, dist, reference)
        check_unchanged(dist, before)
        if prefix is not None:
            uninstall(prefix, work)
    except (Failed, subprocess.TimeoutExpired) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"smoke test passed in {time.perf_counter() - started:.1f} s" + (f"; files in {work}" if args.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
