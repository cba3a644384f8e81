"""The whole window under Latvian: every menu, dock, dialog and the status bar, with no English source text left.

The checker collects the texts a user can see (labels, buttons, group boxes, tabs, menus and their actions,
combo-box items, placeholders, list and tree items, table and tree headers, tooltips, window and dock titles)
and fails on any that is still the English msgid of a catalogue entry whose Latvian differs. A positive control
runs the same checker under English, where it must find the English texts.
"""
from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QTabBar,
    QTableView,
    QTableWidget,
    QTabWidget,
    QTreeView,
    QTreeWidget,
    QWidget,
)
from shapely.geometry import box

from gui.tooltips import plain_tip
from layers import i18n
from layers.i18n import catalogue_source

pytestmark = pytest.mark.gui

#: English texts a Latvian window may show: proper names, formats and units (the same in Latvian, or
#: deliberately not translated). Each is justified by what it is.
ALLOWED = {
    "Lantern",  # the program's name
    "OpenStreetMap", "GeoPackage", "GeoJSON", "QGIS", "SQLite", "WGS 84",  # names of projects, formats, systems
    "HTML", "PDF", "PNG", "CSV",  # file formats
    "English",  # the English language's own name in View → Language and the report-language list
    "m", "km", "km²", "min", "%",  # units
}


# -- the checker -------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """A text as read: without the & of menu mnemonics, trimmed."""
    return re.sub(r"&(.)", r"\1", text).strip()


def english_sources() -> tuple[set[str], list[re.Pattern]]:
    """The English msgids whose Latvian differs: plain ones as a set, ones with placeholders as patterns."""
    with open(str(catalogue_source("lv")), "rb") as fh:
        catalog = read_po(fh)
    plain, patterns = set(), []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if not any(forms) or english in forms:
                continue
            english = _plain(english)
            if "{" in english or "%(" in english:
                pieces = re.split(r"\{[^{}]*\}|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", english)
                if any(re.search(r"[A-Za-z]{2}", p) for p in pieces):  # English words around the placeholders
                    patterns.append(re.compile(".+?".join(re.escape(p) for p in pieces), re.DOTALL))
            elif re.search(r"[A-Za-z]", english):
                plain.add(english)
    return plain, patterns


def still_english(texts, sources) -> list[tuple[str, str]]:
    """The (where, text) pairs whose text, or one of its lines, is an English source message."""
    plain, patterns = sources
    found = []
    for where, text in texts:
        for part in {_plain(text), *(_plain(line) for line in text.splitlines())}:
            if not part or part in ALLOWED:
                continue
            if part in plain or any(p.fullmatch(part) for p in patterns):
                found.append((where, text))
                break
    return found


def _item_view_texts(view: QAbstractItemView, name: str):
    model = view.model()
    if model is None:
        return
    header = view.horizontalHeader() if isinstance(view, QTableView) else \
        view.header() if isinstance(view, QTreeView) else None
    for section in range(header.count() if header is not None else 0):
        yield f"{name} header", str(model.headerData(section, Qt.Orientation.Horizontal) or "")
    if isinstance(view, QListWidget):
        for i in range(view.count()):
            yield f"{name} item", view.item(i).text()
            yield f"{name} item tooltip", view.item(i).toolTip()
    elif isinstance(view, QTreeWidget):
        stack = [view.topLevelItem(i) for i in range(view.topLevelItemCount())]
        while stack:
            item = stack.pop()
            for c in range(view.columnCount()):
                yield f"{name} item", item.text(c)
                yield f"{name} item tooltip", item.toolTip(c)
            stack.extend(item.child(i) for i in range(item.childCount()))
    elif isinstance(view, QTableWidget):
        for r in range(view.rowCount()):
            for c in range(view.columnCount()):
                if view.item(r, c) is not None:
                    yield f"{name} cell", view.item(r, c).text()


def _menu_texts(menu: QMenu, name: str):
    yield f"{name} title", menu.title()
    for action in menu.actions():
        yield f"{name} action", action.text()
        if action.toolTip() and _plain(action.toolTip()) != _plain(action.text()):
            yield f"{name} action tooltip", action.toolTip()
        if action.menu() is not None:
            yield from _menu_texts(action.menu(), f"{name} › {_plain(action.text())}")


def widget_texts(root: QWidget):
    """(where, text) for every text a user can see in ``root`` and its children, hidden tabs and docks too."""
    for w in [root, *root.findChildren(QWidget)]:
        name = type(w).__name__ + (f"#{w.objectName()}" if w.objectName() else "")
        if w.isWindow() or isinstance(w, QDockWidget):
            yield f"{name} title", w.windowTitle()
        yield f"{name} tooltip", w.toolTip()
        yield f"{name} accessible name", w.accessibleName()
        if isinstance(w, (QLabel, QAbstractButton)):
            yield name, w.text()
        elif isinstance(w, QGroupBox):
            yield name, w.title()
        elif isinstance(w, QTabWidget):
            yield from ((f"{name} tab", w.tabText(i)) for i in range(w.count()))
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                yield f"{name} tab", w.tabText(i)
                yield f"{name} tab tooltip", w.tabToolTip(i)
        elif isinstance(w, QComboBox):
            yield from ((f"{name} item", w.itemText(i)) for i in range(w.count()))
        elif isinstance(w, QLineEdit):
            yield f"{name} placeholder", w.placeholderText()
        elif isinstance(w, QMenu):
            yield from _menu_texts(w, name)
        if isinstance(w, QAbstractItemView):
            yield from _item_view_texts(w, name)


# -- opening everything ------------------------------------------------------------------------------


@pytest.fixture
def language(qapp):
    """Switch the program (and Qt's own dialogs) to a language for one test; English again afterwards."""
    from gui.app import install_qt_translations

    installed = []
    default_locale = QLocale()

    def switch(lang: str) -> None:
        i18n.set_language(lang)
        installed.extend(install_qt_translations(qapp, lang))

    yield switch
    for translator in installed:
        qapp.removeTranslator(translator)
    QLocale.setDefault(default_locale)
    i18n.set_language("en")


def _import_source(tmp_path):
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type,colour\n24.94,60.17,Stop,tram_stop,red\n24.95,60.17,Stop 2,bad,blue\n",
                   encoding="utf-8")
    return src


def _answer_dialogs(window):
    """One question dialog per answer type (the place question with the selected place offered first)."""
    from audit.assessment import sections
    from gui.assessment_panel import AnswerDialog

    panel, by_type = window.assessment_panel, {}
    for section in sections():
        for q in section["questions"]:
            by_type.setdefault(q["type"], q)
    return [AnswerDialog(q, None, "T", panel.places(), window.session.frames, None, window)
            for q in by_type.values()]


def open_everything(window, qtbot, tmp_path) -> list[tuple[str, str]]:
    """Every dock, menu and dialog of a window on the demo, with the status bar showing a message."""
    from gui.export_dialog import ExportDialog
    from gui.import_dialog import ImportDialog

    s = window.session
    window.layer_panel.select_layer("places_of_concern")
    layer, fid = "places_of_concern", int(s.frames["places_of_concern"].index[0])
    s.select(layer, fid)
    task = window.outreach_panel.run()
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    window.outreach_panel.add_point(24.94, 60.17, "x")
    window.map_view.bridge.cursorMoved(60.17, 24.94)
    window.filter_panel.from_slider.setValue(1)  # the filter summary appears
    window.assessment_panel.tree.expandAll()
    dialogs = [window.audit.open_annotation_form(layer, fid, interactive=False),
               window.audit.open_annotation_form("places_of_concern", None, lonlat=(24.94, 60.17), interactive=False),
               window.audit.estimate_form(box(24.94, 60.16, 24.95, 60.17), "Area"),
               ExportDialog(s, window), window.tools.open_referral(interactive=False),
               ImportDialog(_import_source(tmp_path), "transport_hubs", window), *_answer_dialogs(window)]
    dialogs[4].search()
    police = dialogs[3]
    police.profile.setCurrentIndex(police.profile.findData("police"))
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
    qtbot.waitUntil(lambda: all(d.isVisible() for d in dialogs))
    texts = list(widget_texts(window))
    texts.append(("status bar", window.statusBar().currentMessage()))
    for dialog in dialogs:
        texts.extend(widget_texts(dialog))
    for dialog in dialogs:
        dialog.close()
    return [(where, text) for where, text in texts if text and text.strip()]


@pytest.fixture
def latvian_demo(tmp_path):
    """The demo as a Latvian municipality has it: its data (synthetic names) written in Latvian."""
    from audit.demo import build_demo

    path = tmp_path / "demo-lv.gpkg"
    with i18n.using("lv"):
        build_demo(path).close()
    return path


def test_the_window_has_no_english_left_under_latvian(language, make_window, latvian_demo, qtbot, tmp_path):
    language("lv")
    window = make_window(latvian_demo)
    with qtbot.waitSignal(window.session.selection_changed, timeout=5000):
        window.layer_panel.select_layer("shelters")
        window.attribute_table.selectRow(0)
    assert window.statusBar().currentMessage().startswith("Atlasīts objekts")
    texts = open_everything(window, qtbot, tmp_path)
    assert len(texts) > 500, "the walk saw the window's texts"
    assert still_english(texts, english_sources()) == []
    # Qt's own catalogue is loaded: standard buttons of every dialog are Latvian too
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Atcelt"
    assert {"Saglabāt", "Atcelt"} <= {text for where, text in texts if where.startswith("QPushButton")}


def test_the_checker_finds_english_under_english(language, make_window, demo_copy, qtbot, tmp_path):
    """Positive control: the same walk in the English window finds its English texts."""
    language("en")
    window = make_window(demo_copy)
    found = {text for _where, text in still_english(open_everything(window, qtbot, tmp_path), english_sources())}
    assert {"&File", "Layers", "Attribute table", "Questionnaire", "Referral helper", "Export for sharing",
            "Source institution:"} <= found
    assert any(re.fullmatch(r"Lat [\d.]+, Lon [\d.]+ \(WGS 84\)", text) for text in found)  # placeholders too


def test_the_checker_matches_messages_with_placeholders_and_mnemonics():
    sources = ({"Layers", "File"}, [re.compile(r"Imported .+? features")])
    texts = [("a", "&File"), ("b", "Imported 3 features"), ("c", "Slāņi"), ("d", "Lantern"), ("e", "x\nLayers")]
    assert still_english(texts, sources) == [("a", "&File"), ("b", "Imported 3 features"), ("e", "x\nLayers")]


def test_the_saved_language_is_applied_before_the_first_widget(language, qapp, settings, monkeypatch):
    """create_application: the language saved in View → Language, and Qt's translations of its own buttons."""
    import gui.app as app_module

    monkeypatch.delenv("LANTERN_LANG", raising=False)
    settings.setValue("language", "lv")
    installed, real = [], app_module.install_qt_translations
    monkeypatch.setattr(app_module, "install_qt_translations",
                        lambda app, lang: installed.extend(real(app, lang)) or installed)
    try:
        assert app_module.create_application(settings=settings) is QApplication.instance()
        assert i18n.language() == "lv" and i18n._("Layers") == "Slāņi"
        assert installed and QCoreApplication.translate("QPlatformTheme", "Save") == "Saglabāt"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


def test_the_side_docks_stay_narrow_under_latvian(language, make_window, latvian_demo):
    """Latvian names are long ("Krāpnieciskas darbības ar personas identitāti…"): no dock may push the map aside."""
    from PySide6.QtWidgets import QDockWidget

    language("lv")
    window = make_window(latvian_demo)
    widths = {d.objectName(): d.widget().minimumSizeHint().width() for d in window.findChildren(QDockWidget)}
    assert max(widths.values()) <= 420, widths
    boxes = window.filter_panel.form_boxes.values()
    shortened = [b for b in boxes if plain_tip(b.text()) != b.toolTip()]
    assert shortened and all(b.text().endswith("…") for b in shortened)  # the full name is in the tooltip
