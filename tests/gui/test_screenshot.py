"""`main.py --demo --screenshot OUT.png` renders the real window headless once the map is painted, and exits 0."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.gui


def test_screenshot_of_the_demo(tmp_path, qapp):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--demo", "--screenshot", str(out)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 880)
    # the map area is drawn: many distinct colours (markers, polygons, legend), not a blank page
    colours = {image.pixel(x, y) for x in range(300, 1400, 7) for y in range(40, 600, 7)}
    assert len(colours) > 40
    # the demo was cached in the user's data directory
    assert list((tmp_path / "data" / "lantern").glob("demo-*.gpkg"))


def test_screenshot_gives_up_on_a_blank_map_pane_with_a_message(tmp_path):
    """A pane that never shows enough colours: a few more paints are awaited, then one message, exit 3, no file."""
    out = tmp_path / "blank.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); import main, gui.app as a; "
            "a.MIN_MAP_COLOURS = 10**9; a.SCREENSHOT_ATTEMPTS = 3; "
            f"sys.exit(main.main(['--demo', '--screenshot', {str(out)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "the map pane was still blank after 3 paints" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_screenshot_waits_for_the_map_pane_to_settle(tmp_path):
    """A pane that differs at every look (a frame still on its way to the window): no picture, a message, exit 3.
    Positive control for the settling rule: the same run with a steady pane writes the file."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def run(pane_code: str, out: Path):
        code = (f"import sys, itertools; sys.path.insert(0, {str(ROOT)!r}); import main, gui.app as a; "
                "from PySide6.QtGui import QImage; a.SCREENSHOT_ATTEMPTS = 3; a.map_colours = lambda pane: 10**6; "
                "c = itertools.count(1)\n"
                "def pane(window):\n"
                "    image = QImage(4, 4, QImage.Format.Format_RGB32)\n"
                f"    image.fill({pane_code})\n"
                "    return image\n"
                f"a.map_pane = pane; sys.exit(main.main(['--demo', '--screenshot', {str(out)!r}]))")
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    changing = run("next(c)", tmp_path / "changing.png")
    assert changing.returncode == 3, changing.stderr[-2000:]
    assert "the map pane was still changing after 3 paints" in changing.stderr
    assert "Traceback" not in changing.stderr and not (tmp_path / "changing.png").exists()

    steady = run("7", tmp_path / "steady.png")
    assert steady.returncode == 0, steady.stderr[-2000:]
    assert (tmp_path / "steady.png").is_file()
