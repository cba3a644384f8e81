"""Every menu command as data: one table builds the menus, their shortcuts and when they are enabled.

A row names its menu, its text, its shortcut, its handler (``owner.method``,
resolved against the controllers the window passes in) and what it needs:
an open workspace, a writable one, a selected feature, something to undo.
Nobody adds to a menu from outside; a new command is a new row.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

from layers.i18n import _


def N_(text: str) -> str:  # noqa: N802 - the gettext convention: marked for extraction, translated when shown
    return text


@dataclass(frozen=True)
class ActionSpec:
    id: str
    menu: str  # menu id; "view/basemap" is a submenu of View
    text: str = ""
    handler: str = ""  # "owner.method"
    shortcut: str | None = None
    needs: str | None = None  # None, "workspace", "writable", "selection", "undo", "redo"
    checkable: bool = False
    idle: bool = False  # disabled while a long import runs
    kind: str = "action"  # "action", "separator" or "submenu" (filled by handler(menu))


MENUS = (("file", N_("&File")), ("edit", N_("&Edit")), ("view", N_("&View")), ("tools", N_("&Tools")),
         ("help", N_("&Help")))
SUBMENUS = {"view/basemap": N_("&Basemap")}


def _sep(menu: str) -> ActionSpec:
    return ActionSpec(id=f"-{menu}", menu=menu, kind="separator")


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new", "file", N_("&New workspace…"), "files.new", "Ctrl+N", idle=True),
    ActionSpec("open", "file", N_("&Open workspace…"), "files.open", "Ctrl+O", idle=True),
    ActionSpec("recent", "file", N_("Open &recent"), "files.fill_recent", kind="submenu"),
    ActionSpec("reset_demo", "file", N_("Reset &demo"), "audit.reset_demo", idle=True),  # a fresh copy of the demo
    ActionSpec("connect_shared", "file", N_("Connect to s&hared workspace…"), "shared.connect_dialog", None,
               idle=True),
    ActionSpec("sync_shared", "file", N_("S&ync with shared workspace"), "shared.sync_now", "F9", "shared", idle=True),
    _sep("file"),
    ActionSpec("import", "file", N_("&Import layer…"), "files.import_layer", "Ctrl+I", "writable", idle=True),
    ActionSpec("import_osm", "file", N_("Import &OpenStreetMap extract…"), "files.import_osm", "Ctrl+Shift+I",
               "writable", idle=True),
    ActionSpec("import_package", "file", N_("Import &partner package…"), "files.import_package", None, "writable"),
    ActionSpec("import_submissions", "file", N_("Import field &submissions…"), "files.import_submissions", None,
               "writable", idle=True),
    ActionSpec("import_odk", "file", N_("Import field submissions from ODK &Central…"), "files.import_odk_central",
               None, "writable", idle=True),
    _sep("file"),
    ActionSpec("share", "file", N_("&Export for sharing…"), "files.share", "Ctrl+Shift+X", "workspace"),
    ActionSpec("report", "file", N_("Export assessment &report…"), "files.report", None, "workspace"),
    ActionSpec("print_map", "file", N_("&Print map…"), "window.print_map", "Ctrl+P", "workspace"),
    _sep("file"),
    ActionSpec("save_as", "file", N_("Save workspace &as…"), "files.save_as", "Ctrl+Shift+S", "workspace"),
    _sep("file"),
    ActionSpec("quit", "file", N_("&Quit"), "window.close", "Ctrl+Q"),
    ActionSpec("undo", "edit", N_("&Undo"), "audit.undo", "Ctrl+Z", "undo", idle=True),
    ActionSpec("redo", "edit", N_("&Redo"), "audit.redo", "Ctrl+Shift+Z", "redo", idle=True),
    _sep("edit"),
    ActionSpec("annotate", "edit", N_("&Annotate selected place…"), "audit.annotate_selected", "Ctrl+E", "writable"),
    ActionSpec("add_place", "edit", N_("Add place of &concern on the map"), "audit.add_place_mode", "Ctrl+Shift+P",
               "writable", checkable=True),
    ActionSpec("draw_estimate", "edit", N_("Draw an area for a risk-group &estimate"), "audit.draw_mode",
               "Ctrl+Shift+E", "writable", checkable=True),
    ActionSpec("area_estimate", "edit", N_("Estimate for the selected &risk area…"),
               "audit.estimate_for_selected_area", None, "writable"),
    ActionSpec("rounds", "edit", N_("Audit r&ounds…"), "audit.open_rounds", None, "workspace"),
    _sep("edit"),
    ActionSpec("delete", "edit", N_("&Delete selected feature"), "audit.delete_selected", "Del", "writable"),
    ActionSpec("basemap", "view/basemap", N_("Online OpenStreetMap tiles (sends your map area to the tile server)"),
               "window.toggle_basemap", checkable=True),
    ActionSpec("zoom_selected", "view", N_("Zoom to selected feature"), "window.zoom_to_selected", "Ctrl+J",
               "workspace"),
    ActionSpec("density", "view", N_("Risk-group &density"), "audit.fill_density_menu", kind="submenu"),
    ActionSpec("panels", "view", N_("Show &panel"), "window.fill_panels_menu", kind="submenu"),
    _sep("view"),
    ActionSpec("language", "view", N_("&Language"), "window.fill_language_menu", kind="submenu"),
    ActionSpec("verify", "tools", N_("&Verify workspace"), "audit.verify", None, "workspace"),
    ActionSpec("accept", "tools", N_("&Accept outside edits…"), "audit.accept_outside_edits", None, "writable"),
    ActionSpec("checklist", "tools", N_("Print field &checklist…"), "audit.print_checklist", "Ctrl+Shift+K"),
    ActionSpec("field_form", "tools", N_("&Field form for phones…"), "tools.open_field_form", None, "workspace"),
    _sep("tools"),
    ActionSpec("referral", "tools", N_("&Referral helper…"), "tools.open_referral", None, "workspace"),
    ActionSpec("gaps", "tools", N_("Service &gaps…"), "tools.ask_gaps", None, "workspace"),
    ActionSpec("compare_rounds", "tools", N_("Compare r&ounds…"), "tools.open_round_compare", None, "workspace"),
    ActionSpec("campaigns", "tools", N_("Cam&paigns…"), "tools.open_campaigns", None, "workspace"),
    ActionSpec("contacts", "tools", N_("Monthly co&ntacts…"), "tools.open_contacts", None, "workspace"),
    ActionSpec("actors", "tools", N_("&Local actors…"), "tools.open_actors", None, "workspace"),
    ActionSpec("method", "help", N_("&Method: risk surface and site selection"), "tools.method_help"),
    ActionSpec("about", "help", N_("&About Lantern"), "tools.about"),
    # things a GIS user reaches for: find, bookmarks, map focus, measure (issue 15)
    _sep("edit"),
    ActionSpec("find", "edit", N_("&Find feature by name or address…"), "find.start", "Ctrl+F", "workspace"),
    _sep("view"),
    ActionSpec("focus_map", "view", N_("Focus the &map (arrow keys pan, +/− zoom)"), "window.focus_map", "Ctrl+M"),
    ActionSpec("bookmark_add", "view", N_("Add &bookmark for this view…"), "bookmarks.add", "Ctrl+B", "workspace"),
    ActionSpec("bookmarks", "view", N_("Book&marks"), "bookmarks.fill_menu", kind="submenu"),
    _sep("tools"),
    ActionSpec("measure", "tools", N_("&Measure distance and area"), "measure.toggle", "Ctrl+Shift+M", "workspace",
               checkable=True),
)


def _handler(spec: ActionSpec, owners: dict):
    owner, method = spec.handler.split(".", 1)
    return getattr(owners[owner], method)


def build_menus(menubar: QMenuBar, parent, owners: dict) -> dict[str, QAction]:
    """Create the menus and actions of ACTIONS; returns the actions (and submenus' actions) by id."""
    menus: dict[str, QMenu] = {mid: menubar.addMenu(_(text)) for mid, text in MENUS}
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        if spec.menu not in menus:  # a submenu such as View → Basemap, made on first use
            top, _sub = spec.menu.split("/", 1)
            menus[spec.menu] = menus[top].addMenu(_(SUBMENUS[spec.menu]))
        menu = menus[spec.menu]
        if spec.kind == "separator":
            menu.addSeparator()
            continue
        if spec.kind == "submenu":
            submenu = menu.addMenu(_(spec.text))
            _handler(spec, owners)(submenu)
            actions[spec.id] = submenu.menuAction()
            continue
        action = QAction(_(spec.text), parent)
        action.setObjectName(spec.id)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
        action.setCheckable(spec.checkable)
        action.triggered.connect(_handler(spec, owners))
        menu.addAction(action)
        actions[spec.id] = action
    return actions


def _is_copy(session) -> bool:
    from layers.replica import is_replica

    return session.workspace is not None and is_replica(session.workspace.db.conn)


def _available(needs: str | None, session) -> bool:
    history = session.history
    return {
        None: True,
        "workspace": session.workspace is not None,
        "writable": session.writable,
        "shared": session.writable and _is_copy(session),
        "selection": session.selection is not None,
        "undo": bool(history and history.can_undo and session.writable),
        "redo": bool(history and history.can_redo and session.writable),
    }[needs]


def update_actions(actions: dict[str, QAction], session, busy: bool = False) -> None:
    """Enable what the session allows now; undo and redo name what they would undo."""
    for spec in ACTIONS:
        if spec.id in actions and spec.kind == "action":
            actions[spec.id].setEnabled(_available(spec.needs, session) and not (busy and spec.idle))
    history = session.history
    undo = history.undo_stack[-1].label if history and history.can_undo else None
    redo = history.redo_stack[-1].label if history and history.can_redo else None
    actions["undo"].setText(_("&Undo {what}").format(what=undo) if undo else _("&Undo"))
    actions["redo"].setText(_("&Redo {what}").format(what=redo) if redo else _("&Redo"))
