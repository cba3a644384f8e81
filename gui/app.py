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


def create_application(argv: list[str] | None = None):
    from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("Lantern")
    QCoreApplication.setApplicationName("Lantern")
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    translator = QTranslator(app)
    if translator.load(QLocale(), "lantern", "_", ":/translations"):
        app.installTranslator(translator)
    return app


def run(workspace: str | None, screenshot: str | None = None, timeout_s: float = 60.0) -> int:
    """Open the window on ``workspace`` (or empty); with ``screenshot``, save a PNG once the map is ready and exit."""
    prepare_environment(headless=screenshot is not None)
    app = create_application()
    from PySide6.QtCore import QTimer

    from gui.main_window import MainWindow

    settings = None
    if screenshot:
        # a screenshot shows the default layout, not whatever the last session left behind
        import tempfile

        from PySide6.QtCore import QSettings

        settings_dir = tempfile.mkdtemp(prefix="lantern-shot-")
        settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    exit_code = {"value": 0}

    if screenshot:
        def save() -> None:
            image = window.grab()
            ok = image.save(str(Path(screenshot)))
            if not ok:
                print(f"could not write {screenshot}", file=sys.stderr)
                exit_code["value"] = 1
            window.close()
            app.quit()

        def give_up() -> None:
            print(f"the map did not become ready within {timeout_s:.0f} s", file=sys.stderr)
            exit_code["value"] = 1
            window.close()
            app.quit()

        window.resize(1400, 880)
        window.map_view.mapReady.connect(lambda: QTimer.singleShot(600, save))
        QTimer.singleShot(int(timeout_s * 1000), give_up)

    window.show()
    if workspace and not window.open_workspace(workspace):
        if screenshot:
            return 1
    elif not workspace and screenshot:
        QTimer.singleShot(0, save)  # nothing to load: the empty window is the picture
    result = app.exec()
    return exit_code["value"] or result
