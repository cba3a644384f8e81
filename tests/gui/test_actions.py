"""Menus come from one table (gui/actions.py), and what is enabled follows the session."""
import pytest

from gui.actions import ACTIONS

pytestmark = pytest.mark.gui


def _menu_texts(window):
    return {a.text(): [x.text() for x in a.menu().actions() if x.text()] for a in window.menuBar().actions()}


def test_every_row_of_the_table_is_in_its_menu(make_window):
    window = make_window()
    menus = _menu_texts(window)
    assert list(menus) == ["&File", "&Edit", "&View", "&Tools", "&Help"]
    for spec in ACTIONS:
        if spec.kind != "separator" and "/" not in spec.menu:
            top = {"file": "&File", "edit": "&Edit", "view": "&View", "tools": "&Tools", "help": "&Help"}[spec.menu]
            assert window.actions[spec.id].text() in menus[top], spec.id
        if spec.shortcut:
            assert window.actions[spec.id].shortcut().toString() == spec.shortcut


def test_without_a_workspace_only_what_needs_none_is_enabled(make_window):
    window = make_window()
    enabled = {spec.id for spec in ACTIONS if spec.kind == "action" and window.actions[spec.id].isEnabled()}
    assert enabled == {spec.id for spec in ACTIONS if spec.kind == "action" and spec.needs is None}
    assert {"new", "open", "quit", "checklist", "about"} <= enabled


def test_enabled_state_follows_the_workspace_the_selection_and_the_history(demo_window):
    actions = demo_window.actions
    assert actions["import"].isEnabled() and actions["share"].isEnabled() and actions["delete"].isEnabled()
    assert not actions["undo"].isEnabled() and actions["undo"].text() == "&Undo"
    fid = int(demo_window.session.frames["worksites"].index[0])
    demo_window.session.select("worksites", fid)
    assert demo_window.audit.delete_selected(confirm=False)
    assert actions["undo"].isEnabled() and actions["undo"].text() != "&Undo"  # names what it undoes
    actions["undo"].trigger()
    assert not actions["undo"].isEnabled() and actions["redo"].isEnabled()


def test_a_read_only_workspace_disables_every_edit(make_window, demo_copy, monkeypatch):
    monkeypatch.setenv("LANTERN_LOCK_WAIT", "0.2")
    from layers.workspace import Workspace

    holder = Workspace.open(demo_copy, lock_now=True)  # another program writes it: the window opens it read-only
    try:
        window = make_window(demo_copy)
        assert window.session.workspace.read_only
        writes = [s.id for s in ACTIONS if s.needs in ("writable", "undo", "redo")]
        assert writes and not [i for i in writes if window.actions[i].isEnabled()]
        assert window.actions["share"].isEnabled()  # reading is still fine
    finally:
        holder.close()


def test_a_long_import_holds_open_and_import_until_it_ends(demo_window):
    demo_window.files.busyChanged.emit(True)
    idle = [s.id for s in ACTIONS if s.idle]
    assert idle and not [i for i in idle if demo_window.actions[i].isEnabled()]
    demo_window.files.busyChanged.emit(False)
    # enabled again, all but undo and redo, which wait for something to undo as ever, and the sync of a shared
    # workspace, which waits for one (the demo is a file of its own)
    assert all(demo_window.actions[i].isEnabled() for i in idle if i not in ("undo", "redo", "sync_shared"))
    assert not demo_window.actions["sync_shared"].isEnabled()


def test_map_modes_check_their_menu_entry(demo_window):
    actions = demo_window.actions
    actions["add_place"].trigger()
    assert actions["add_place"].isChecked() and demo_window.session.mode == "place"
    actions["draw_estimate"].trigger()  # one mode at a time
    assert actions["draw_estimate"].isChecked() and not actions["add_place"].isChecked()
    demo_window.session.set_mode(None)  # Esc on the map
    assert not actions["draw_estimate"].isChecked()


def test_view_language_lists_every_language_and_remembers_the_choice_for_the_next_start(make_window, settings):
    from layers import i18n

    window = make_window()
    menu = window.actions["language"].menu()
    entries = {a.data(): a for a in menu.actions()}
    assert list(entries) == list(i18n.SUPPORTED)
    assert [a.text() for a in entries.values()] == [i18n.NAMES[lang] for lang in i18n.SUPPORTED]  # own names
    assert [lang for lang, a in entries.items() if a.isChecked()] == [i18n.language()]
    current, other = i18n.language(), next(lang for lang in i18n.SUPPORTED if lang != i18n.language())
    entries[other].trigger()
    assert settings.value("language") == other
    assert [lang for lang, a in entries.items() if a.isChecked()] == [other]
    assert i18n.language() == current  # the window keeps its language until it is started again
    assert i18n.NAMES[other] in window.statusBar().currentMessage()
    assert i18n.startup_language(settings.value("language"), {}) == other  # …and the next start uses it
