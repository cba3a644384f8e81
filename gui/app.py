"""Starting the desktop app: environment, QApplication, main window, --screenshot."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def prepare_environment(headless: bool = False) -> None:
    """Qt/Chromium settings that must exist before the QApplication does."""
    if headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox on
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()
    os.environ.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false")


#: the application id of the launcher entry and AppStream file (packaging/)
DESKTOP_ID = "io.github.lantern_gis.Lantern"


def create_application(argv: list[str] | None = None, settings=None):
    """The QApplication, in the user's language: set before any widget exists, Qt's own dialogs included."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from layers import i18n

    from gui.map_view import register_url_scheme, warm_up

    register_url_scheme()  # lantern:// (the map's layers) must be known before the QApplication exists
    QCoreApplication.setOrganizationName("Lantern")
    QCoreApplication.setApplicationName("Lantern")
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    _set_identity(app)
    settings = settings if settings is not None else QSettings()
    i18n.set_language(i18n.startup_language(settings.value("language")))
    install_qt_translations(app, i18n.language())
    warm_up()
    return app


def _set_identity(app) -> None:
    """The window icon, and the launcher entry the desktop matches the windows to (Wayland, task bars)."""
    from PySide6.QtGui import QGuiApplication, QIcon

    from layers.resources import resource_path

    QGuiApplication.setDesktopFileName(DESKTOP_ID)
    with resource_path("icons/lantern.svg") as svg:
        app.setWindowIcon(QIcon(str(svg)))


def install_qt_translations(app, lang: str) -> list:
    """Load Qt's own catalogues (qtbase_<lang>.qm, qt_<lang>.qm) so standard buttons and file dialogs speak
    ``lang``; returns the translators installed (none for English, the source language)."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    if lang == "en":
        return []
    QLocale.setDefault(QLocale(lang))  # month names in calendars, decimal separators
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    installed = []
    for name in ("qtbase", "qt"):
        translator = QTranslator(app)
        if translator.load(f"{name}_{lang}", folder):
            app.installTranslator(translator)
            installed.append(translator)
    app.qt_translators = installed  # kept alive with the application
    return installed


#: a painted map pane (markers, areas, legend) has far more distinct colours than a blank one
MIN_MAP_COLOURS = 40
#: how many complete paints --screenshot waits for before it gives up on a blank or still changing map pane
SCREENSHOT_ATTEMPTS = 8


def map_pane(window):
    """The map pane as the window shows it (a QImage): what reached the screen, not what the page holds."""
    from PySide6.QtCore import QPoint, QRect

    view = window.map_view
    image = window.grab().toImage()
    return image.copy(QRect(view.mapTo(window, QPoint(0, 0)), view.size()).intersected(image.rect()))


def map_colours(pane, step: int = 7) -> int:
    """Distinct colours in a sample of the map pane (a blank pane has a few)."""
    return len({pane.pixel(x, y) for x in range(0, pane.width(), step) for y in range(0, pane.height(), step)})


class Screenshot:
    """--screenshot: save the window once the map pane is really painted and has settled, else exit non-zero
    and say why.

    "Painted" comes from the page (its layers drawn, two frames passed); the frame reaching the window can
    lag behind it on a busy machine, so the picture is taken only when two grabs of the pane, one complete
    paint apart, are the same (one CI run caught a pane that showed four layers of twelve)."""

    def __init__(self, app, window, path: str, timeout_s: float):
        from PySide6.QtCore import QTimer

        self.app, self.window, self.path, self.timeout_s = app, window, path, timeout_s
        self.attempts = 0
        self.exit_code = 0
        self.last_pane = None
        window.resize(1400, 880)
        window.map_view.painted.connect(lambda: QTimer.singleShot(150 * self.attempts + 100, self.check_and_save))
        QTimer.singleShot(int(timeout_s * 1000), self.give_up)

    def finish(self, code: int) -> None:
        self.exit_code = code
        self.window.close()
        self.app.quit()

    def save(self) -> None:
        ok = self.window.grab().save(str(Path(self.path)))
        if not ok:
            print(f"could not write {self.path}", file=sys.stderr)
        self.finish(0 if ok else 1)

    def check_and_save(self) -> None:
        # "painted" came from the page; make sure the pixels reached the window too, and stopped changing
        self.attempts += 1
        pane = map_pane(self.window)
        colours = map_colours(pane)
        empty = not any(self.window.session.counts.values())
        settled = self.last_pane is not None and pane == self.last_pane
        self.last_pane = pane
        if (colours > MIN_MAP_COLOURS or empty) and settled:
            self.save()
        elif self.attempts < SCREENSHOT_ATTEMPTS:
            self.window.map_view.request_paint()  # wait for another complete paint, then look again
        elif colours <= MIN_MAP_COLOURS and not empty:
            print(f"the map pane was still blank after {self.attempts} paints ({colours} colours); "
                  f"{self.path} was not written", file=sys.stderr)
            self.finish(3)
        else:
            print(f"the map pane was still changing after {self.attempts} paints; "
                  f"{self.path} was not written", file=sys.stderr)
            self.finish(3)

    def give_up(self) -> None:
        what = "painted" if not self.window.map_view.is_painted else "drawn on screen"
        print(f"the map was not {what} within {self.timeout_s:.0f} s; {self.path} was not written", file=sys.stderr)
        self.finish(1)


def _screenshot_settings():
    """A screenshot shows the default layout, not whatever the last session left behind."""
    import tempfile

    from PySide6.QtCore import QSettings

    settings_dir = tempfile.mkdtemp(prefix="lantern-shot-")
    return QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat)


def workspace_to_open(workspace: str | None) -> str | None:
    """The demo opens as a fresh copy (what a user tries in it is gone at the next start); others as they are."""
    from audit.demo import fresh_demo_copy, is_cached_demo

    if workspace and is_cached_demo(workspace):
        return str(fresh_demo_copy())
    return workspace


#: how long the opening waits for the start-up loading at most (seconds)
WARM_UP_WAIT_S = 2.0


def open_when_ready(opening, then=None) -> None:
    """Run ``opening()`` (the window opening its workspace) once the window is drawn and the start-up loading
    (map_view.warm_up, a background thread) is done, then call ``then(what opening returned)``.

    Building the window and opening the workspace are then two short stalls instead of one long one, and the
    opening does not share the interpreter with an import running beside it (that made it half as fast).
    A timer, not a posted call: Qt delivers posted events (the window's first paint) first and timers in the
    order they fall due, so the event loop turns in between."""
    import time

    from PySide6.QtCore import QTimer

    from gui.map_view import warming

    deadline = time.monotonic() + WARM_UP_WAIT_S

    def attempt() -> None:
        if warming() and time.monotonic() < deadline:
            QTimer.singleShot(10, attempt)
            return
        opened = opening()
        if then is not None:
            then(opened)

    QTimer.singleShot(1, attempt)


def _opened(app, window, opened: bool, shot) -> None:
    if not opened:
        if shot:
            shot.finish(1)
    elif not shot:
        window.audit.announce_demo()


def run(workspace: str | None, screenshot: str | None = None, timeout_s: float = 60.0,
        size: tuple[int, int] | None = None) -> int:
    """Open the window on ``workspace`` (or empty); with ``screenshot``, save a PNG once the map is ready and exit."""
    prepare_environment(headless=screenshot is not None)
    workspace = workspace_to_open(workspace)
    settings = _screenshot_settings() if screenshot else None
    app = create_application(settings=settings)
    from PySide6.QtCore import QTimer

    from gui.main_window import MainWindow

    from gui.crash import CrashHandler

    app.crash_handler = CrashHandler(app)  # for the app's life: logs an unexpected error, and shows a dialog
    window = MainWindow(settings=settings)
    shot = Screenshot(app, window, screenshot, timeout_s) if screenshot else None
    if size is not None:
        window.resize(*size)
    window.show()
    if workspace:
        open_when_ready(lambda: window.open_workspace(workspace), lambda ok: _opened(app, window, ok, shot))
    elif shot:
        QTimer.singleShot(0, shot.save)  # nothing to load: the empty window is the picture
    result = app.exec()
    return (shot.exit_code if shot else 0) or result
