"""Tools → Campaigns… in the window: a campaign made with the form (a place selected on the map, a real click on the
map, an outreach plan's sites), one undoable step shown on the map and in the action plan; its evaluation with its
caveats; the monthly contacts editor; and both dialogs wholly in Latvian."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtTest import QTest

from audit.campaigns import campaigns
from audit.check import check_workspace
from audit.contacts import contacts
from tests.gui.test_latvian import english_sources, still_english, widget_texts

pytestmark = pytest.mark.gui


def _tick(widget, ids) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        if item.data(Qt.ItemDataRole.UserRole) in ids:
            item.setCheckState(Qt.CheckState.Checked)


def _on_page(js, window) -> int:
    layers = js(window, "lantern.info()")["layers"]
    return layers["campaign_locations"]["count"] if "campaign_locations" in layers else -1


def test_create_a_campaign_undo_and_redo(demo_window, js, qtbot):
    w = demo_window
    w.actions["campaigns"].trigger()
    dialog = w.tools.campaigns_dialog
    assert dialog.isVisible() and dialog.list.rowCount() == 0
    form = dialog.add()
    form.name.setText("Bus station week")
    form.starts.setDate(QDate(2025, 4, 1))
    form.ends.setDate(QDate(2025, 4, 30))
    _tick(form.audiences, {"taxi_drivers", "migrants"})
    _tick(form.languages, {"lv", "ru"})
    _tick(form.channels, {"leaflets"})
    _tick(form.action_items, {1})
    form.people.setValue(140)
    hub = int(w.session.frames["transport_hubs"].index[0])
    w.session.select("transport_hubs", hub)
    form.add_selected()
    form.pick_on_map()
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["mode"] == "place")
    size = w.map_view.view.size()
    QTest.mouseClick(w.map_view.view.focusProxy(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(size.width() // 4, size.height() // 2))  # left of the centre: the legend is on the right
    qtbot.waitUntil(lambda: len(form.locations) == 2, timeout=5000)
    assert [loc["source"] for loc in form.locations] == ["place", "map"]
    assert form.save(), form.error.text()
    saved = campaigns(w.session.workspace)
    assert [c.name for c in saved] == ["Bus station week"] and len(saved[0].locations) == 2
    assert set(saved[0].audiences) == {"taxi_drivers", "migrants"} and saved[0].people_reached == 140
    assert dialog.list.rowCount() == 1 and dialog.evaluation is not None
    qtbot.waitUntil(lambda: _on_page(js, w) == 2, timeout=5000)  # the campaign on the map
    panel = w.assessment_panel
    panel.parentWidget().raise_()
    qtbot.waitUntil(panel.isVisible)
    panel.refresh()
    assert panel.plan.item(0, 5).text() == "Bus station week"  # the action plan names the campaign
    w.actions["undo"].trigger()
    assert campaigns(w.session.workspace) == [] and dialog.list.rowCount() == 0
    qtbot.waitUntil(lambda: _on_page(js, w) == -1, timeout=5000)
    assert panel.plan.item(0, 5).text() == ""
    w.actions["redo"].trigger()
    assert [c.name for c in campaigns(w.session.workspace)] == ["Bus station week"]
    qtbot.waitUntil(lambda: _on_page(js, w) == 2, timeout=5000)
    assert check_workspace(w.session.workspace.path).ok


def test_sites_of_the_outreach_plan_and_the_evaluation_with_its_caveats(demo_window, qtbot):
    w = demo_window
    panel = w.outreach_panel
    panel.k.setValue(3)
    with qtbot.waitSignal(panel.run().succeeded, timeout=60000):
        pass
    dialog = w.tools.open_campaigns(interactive=False)
    form = dialog.add()
    form.name.setText("Outreach sites")
    form.add_plan_sites()
    assert [loc["name"] for loc in form.locations] == list(panel.result.sites["name"])
    assert form.save(), form.error.text()
    assert dialog.outcomes.rowCount() == 4
    texts = [dialog.outcomes.item(r, 4).text() for r in range(4)]
    assert all(texts)
    assert "not proof of cause" in dialog.caveats.text()
    dialog.profile.setCurrentIndex(dialog.profile.findData("police"))
    assert "<5" not in " ".join(dialog.outcomes.item(r, 1).text() for r in range(4))  # exact counts for police
    dialog.profile.setCurrentIndex(dialog.profile.findData("public"))
    shown = " ".join(dialog.outcomes.item(r, c).text() for r in range(4) for c in (1, 2))
    assert "<5" in shown  # the demo's counts are small: suppressed in public


def test_a_bad_campaign_stays_in_the_form_with_its_reason(demo_window):
    dialog = demo_window.tools.open_campaigns(interactive=False)
    form = dialog.add()
    form.name.setText("Backwards")
    form.starts.setDate(QDate(2025, 5, 1))
    form.ends.setDate(QDate(2025, 4, 1))
    assert not form.save()
    assert "ends before it starts" in form.error.text() and campaigns(demo_window.session.workspace) == []


def test_the_contacts_editor_adds_rows_and_refuses_personal_columns(demo_window, tmp_path):
    w = demo_window
    editor = w.tools.open_contacts(interactive=False)
    form = editor.add()
    form.month.setDate(QDate(2025, 2, 1))
    form.count.setValue(8)
    form.accept()
    assert [(r["month"], r["count"]) for r in contacts(w.session.workspace)] == [("2025-02", 8)]
    assert editor.table.rowCount() == 1
    bad = tmp_path / "calls.csv"
    bad.write_text("month,channel,area,count,phone\n2025-03,hotline,x,1,28612120\n", encoding="utf-8")
    assert not editor.import_file(str(bad))
    assert "personal data" in w.notify.last_error and len(contacts(w.session.workspace)) == 1
    w.actions["undo"].trigger()
    assert contacts(w.session.workspace) == [] and editor.table.rowCount() == 0


@pytest.fixture
def latvian(qapp):
    from gui.app import install_qt_translations
    from layers import i18n

    installed = []
    i18n.set_language("lv")
    installed.extend(install_qt_translations(qapp, "lv"))
    yield
    for translator in installed:
        qapp.removeTranslator(translator)
    i18n.set_language("en")


def test_the_dialogs_speak_latvian(latvian, make_window, demo_copy, tmp_path):
    from audit.campaigns import add_campaign, location_at_place

    w = make_window(demo_copy)
    ws = w.session.workspace
    w.session.do(add_campaign(ws, {"name": "Stacija", "starts": "2025-04-01", "ends": "2025-04-30",
                                   "audiences": ["taxi_drivers"]}, [location_at_place(ws, "transport_hubs", 1)]))
    dialog = w.tools.open_campaigns(interactive=False)
    dialog.show()
    form = dialog.edit()
    editor = w.tools.open_contacts(interactive=False)
    contact = editor.add()
    sources = english_sources()
    data = {contact.place.itemText(i) for i in range(contact.place.count())}  # the demo's own place names
    texts = [t for widget in (dialog, form, editor) for t in widget_texts(widget) if t[1] not in data]
    assert data and still_english(texts, sources) == []
    assert "Kampaņas" in dialog.windowTitle() and dialog.outcomes.rowCount() == 4
    # positive control: the checker finds the English it is meant to catch
    assert still_english([("label", "Evaluation of the selected campaign")], sources)
    for index in range(form.tabs.count()):
        form.tabs.setCurrentIndex(index)
        form.grab().save(str(tmp_path / f"form_lv_{index}.png"))
    dialog.grab().save(str(tmp_path / "campaigns_lv.png"))


def test_a_drawn_catchment_is_saved_and_used_by_the_evaluation(demo_window):
    from shapely.geometry import box

    w = demo_window
    dialog = w.tools.open_campaigns(interactive=False)
    form = dialog.add()
    form.name.setText("Drawn")
    form.draw_area("catchment")
    assert w.session.mode == "polygon"
    w.session.finish_polygon(box(24.935, 60.165, 24.945, 60.172))  # what the map sends when a polygon is closed
    assert form.areas["catchment"] is not None and "drawn on the map" in form.area_label.text()
    assert form.save(), form.error.text()
    saved = campaigns(w.session.workspace)[0]
    assert saved.catchment is not None and saved.locations == []  # a drawn catchment needs no locations
    assert "Catchment: the area drawn for the campaign." in dialog.caveats.text()
    edit = dialog.edit()
    edit.clear_areas()
    assert edit.save()
    assert campaigns(w.session.workspace)[0].catchment is None
    assert "no locations and no catchment" in dialog.caveats.text()
