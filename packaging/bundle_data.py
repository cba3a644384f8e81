"""What the desktop bundle carries besides Python modules, in one place.

Read by ``packaging/lantern.spec`` (PyInstaller) and by ``tests/packaging/test_bundle_files.py``, so a test
fails when a folder that ``layers/resources.py`` reads at run time is left out of the bundle.
Plain Python: no PyInstaller import, so the tests can load it without PyInstaller installed.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Application id (reverse DNS of the project's home page): names the .desktop file, the AppStream
#: metainfo and the icon, so desktops match the three.
APP_ID = "io.github.lantern_gis.Lantern"

#: Folders of the checkout that the app reads through ``layers/resources.py`` (``resource()`` reads
#: ``data/``, ``package_file("mapping", "static/...")`` reads ``mapping/static``). Copied whole, at the same
#: place relative to the bundle's module root, so ``importlib.resources`` finds them as in a checkout.
DATA_DIRS = ("data", "mapping/static")

#: Files in those folders that are build inputs, not run-time data.
SKIP_SUFFIXES = (".py", ".pyc", ".pot")
SKIP_DIRS = ("__pycache__",)

#: Third-party packages whose non-code files the app reads and that no PyInstaller hook collects:
#: Leaflet and its clustering plugin (``mapping/assets.py`` reads ``xstatic.pkg.*.BASE_DIR``), and pyogrio's
#: GDAL and PROJ data (``gdal_data``, ``proj_data`` beside its extension modules), and pyxform's ODK Validate
#: (a .jar) and its form templates (Tools → Field form).
PACKAGE_DATA = ("xstatic.pkg.leaflet", "xstatic.pkg.leaflet_markercluster", "pyogrio", "pyxform")
#: Sub-folders of those packages that are not needed at run time.
PACKAGE_DATA_EXCLUDES = ("**/tests/**",)

#: Packages whose compiled modules import each other from C (invisible to PyInstaller's analysis): all their
#: submodules are bundled (tests excepted).
ALL_SUBMODULES = ("pyogrio", "osmium")

#: Copied beside the program (``dist/lantern/``) so that the folder, or a tarball of it, installs without a
#: checkout: ``lantern/install.sh``, and the launcher entry, AppStream file, icons and the system-library check
#: in ``lantern/desktop/`` (file in packaging/ -> its place in the bundle).
INSTALL_FILES = {
    "install.sh": "install.sh",
    "lantern.desktop": "desktop/lantern.desktop",
    f"{APP_ID}.metainfo.xml": f"desktop/{APP_ID}.metainfo.xml",
    "../data/icons/lantern.svg": "desktop/icons/lantern.svg",  # in data/: the window's icon too
    "icons/lantern-48.png": "desktop/icons/lantern-48.png",
    "icons/lantern-128.png": "desktop/icons/lantern-128.png",
    "icons/lantern-256.png": "desktop/icons/lantern-256.png",
    "sysdeps.sh": "desktop/sysdeps.sh",
}

#: Installed-distribution metadata the app reads (``main._version`` asks importlib.metadata).
METADATA = ("lantern-gis",)

#: In the development venv, but not used by the app: keep them (and their dependencies) out of the bundle.
EXCLUDES = (
    "tkinter", "_tkinter", "PyQt5", "PyQt6", "PySide2", "IPython", "jupyter", "notebook",
    "pytest", "pytestqt", "_pytest", "importlinter", "grimp",
    "spopt", "pulp", "pyrosm", "pysal", "libpysal", "sklearn", "networkx",
    "matplotlib.tests", "pandas.tests", "numpy.tests", "scipy.tests", "pyogrio.tests", "shapely.tests",
    "geopandas.tests", "pyproj.tests",
    "PyInstaller",
)

#: Qt bindings the app does not import (it imports QtCore, QtGui, QtWidgets, QtWebEngineCore,
#: QtWebEngineWidgets, QtWebChannel; those pull in QtNetwork and QtPrintSupport). Leaving out QtQml and QtQuick
#: leaves out every QML plugin (Quick3D, Charts, Multimedia, ... ~150 MB); the Qt libraries that
#: QtWebEngineCore links against (libQt6Quick, libQt6Qml, ...) are still collected as its dependencies.
QT_EXCLUDES = ("PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtOpenGL", "PySide6.QtDBus",
               "PySide6.QtSvg", "PySide6.Qt3DCore", "PySide6.QtQuick3D", "PySide6.QtMultimedia", "PySide6.QtCharts",
               "PySide6.QtDataVisualization", "PySide6.QtGraphs", "PySide6.QtSql", "PySide6.QtTest",
               "PySide6.QtDesigner", "PySide6.QtBluetooth", "PySide6.QtNfc", "PySide6.QtSerialPort",
               "PySide6.QtSensors", "PySide6.QtLocation", "PySide6.QtPositioning", "PySide6.QtRemoteObjects",
               "PySide6.QtScxml", "PySide6.QtSpatialAudio", "PySide6.QtTextToSpeech", "PySide6.QtHttpServer",
               "PySide6.QtWebSockets", "PySide6.QtWebView", "PySide6.QtQuickControls2",
               "PySide6.QtOpenGLWidgets", "PySide6.QtPdfWidgets", "PySide6.QtStateMachine", "PySide6.QtUiTools",
               "PySide6.QtAxContainer", "PySide6.QtConcurrent", "PySide6.QtHelp", "PySide6.QtSvgWidgets")


#: The languages Lantern speaks (``layers.i18n.SUPPORTED``). Of the locale files libraries ship for ~1,000
#: locales, only these languages' are bundled: Qt's translations (``qtbase_lv.qm``) and Chromium's locale files
#: (``qtwebengine_locales/lv.pak``; Chromium falls back to en-US.pak for any other system locale), -50 MB; and
#: Babel's CLDR data (``layers.i18n`` formats numbers as en_GB or lv_LV; ``root`` is every locale's parent),
#: -33 MB.
LANGUAGES = ("en", "lv")
QT_TRANSLATIONS = "PySide6/Qt/translations/"
BABEL_LOCALES = "babel/locale-data/"


def _language_of(name: str) -> str:
    """``lv`` of ``qtbase_lv.qm``, ``lv.pak``, ``lv_LV.dat``; ``zh`` of ``qt_zh_CN.qm``, ``en`` of ``en-US.pak``."""
    stem = name.rsplit(".", 1)[0]
    if name.endswith(".qm"):
        stem = stem.split("_", 1)[1] if "_" in stem else ""
    return stem.replace("-", "_").split("_")[0]


def keep_file(dest: str) -> bool:
    """Whether a collected file (by its destination in the bundle) stays: of the locale files above only those of
    ``LANGUAGES`` (and Babel's ``root``); every other file stays."""
    dest = dest.replace("\\", "/")
    name = dest.rsplit("/", 1)[-1]
    if dest.startswith(QT_TRANSLATIONS) and (name.endswith(".qm") or name.endswith(".pak")):
        return _language_of(name) in LANGUAGES
    if dest.startswith(BABEL_LOCALES) and name.endswith(".dat"):
        return _language_of(name) in (*LANGUAGES, "root")
    return True


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """``(source file, destination folder in the bundle)`` for every file of ``DATA_DIRS``, as PyInstaller's
    ``datas`` wants them."""
    found = []
    for folder in DATA_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if not path.is_file() or path.suffix in SKIP_SUFFIXES or set(path.parts) & set(SKIP_DIRS):
                continue
            found.append((str(path), str(path.parent.relative_to(root))))
    return found


def stale_catalogues(root: Path = ROOT) -> list[str]:
    """Translation catalogues (``.po``) whose compiled ``.mo`` is missing or older: the bundle must carry
    compiled ones (``make catalogues``), else the app compiles them at first use, into its own folder."""
    stale = []
    for po in sorted((root / "data" / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(str(po.relative_to(root)))
    return stale
