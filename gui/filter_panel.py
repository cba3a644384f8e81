"""The filter panel: forms of exploitation, a date range (two sliders), confidence."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from audit.catalogue import confidence_levels
from audit.filters import FilterState
from gui.background import Background
from gui.tooltips import plain_tip
from layers.catalogue import forms_of_exploitation
from layers.i18n import _, integer, label, ngettext


def _months(first: dt.date, last: dt.date) -> list[str]:
    months, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months



#: a form's check box shows at most this many pixels of its name (the tooltip has all of it)
LABEL_PX = 300


def _short(text: str, pixels: int) -> str:
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QApplication

    return QFontMetrics(QApplication.font()).elidedText(text, Qt.TextElideMode.ElideRight, pixels)


class FilterPanel(QWidget):
    filtersChanged = Signal(object)  # FilterState

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._silent = False
        self.months: list[str] = []
        self.form_boxes: dict[str, QCheckBox] = {}
        forms_box = QGroupBox(_("Forms of exploitation"))
        grid = QGridLayout(forms_box)
        for i, form in enumerate(forms_of_exploitation()):
            box = QCheckBox(_short(form.label, LABEL_PX))
            box.setToolTip(plain_tip(form.label))  # the full name, where the box shows it shortened
            box.setAccessibleName(form.label)
            box.setChecked(True)
            box.toggled.connect(self._emit)
            self.form_boxes[form.id] = box
            grid.addWidget(box, i, 0)  # one column: Latvian names are long (the dock stays ~350 px wide)

        dates_box = QGroupBox(_("Date range"))
        dates = QVBoxLayout(dates_box)
        self.from_slider = QSlider(Qt.Orientation.Horizontal)
        self.to_slider = QSlider(Qt.Orientation.Horizontal)
        self.range_label = QLabel()
        for slider in (self.from_slider, self.to_slider):
            slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            slider.valueChanged.connect(self._on_slider)
        dates.addWidget(self.range_label)
        dates.addWidget(self.from_slider)
        dates.addWidget(self.to_slider)

        conf_box = QGroupBox(_("Confidence (annotations and estimates)"))
        conf = QHBoxLayout(conf_box)
        self.confidence_boxes: dict[str, QCheckBox] = {}
        for c in confidence_levels():
            box = QCheckBox(label(c))
            box.setChecked(True)
            box.toggled.connect(self._emit)
            self.confidence_boxes[c["id"]] = box
            conf.addWidget(box)

        self.reset_button = QPushButton(_("Show everything"))
        self.reset_button.clicked.connect(self.reset)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(forms_box)
        layout.addWidget(dates_box)
        layout.addWidget(conf_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        self.set_date_span(dt.date.today().replace(day=1) - dt.timedelta(days=365 * 2), dt.date.today())
        self.filtersChanged.connect(session.set_filters)
        session.opened.connect(self._on_opened)
        self._spans = Background("lantern-spans")
        self._spans.answered.connect(self._on_span)
        self._counts = Background("lantern-filter-counts")
        self._counts.answered.connect(self._on_counts)
        session.filters_changed.connect(self._show_summary)

    def _on_opened(self) -> None:
        """A new workspace starts unfiltered, its time slider spanning its dated records."""
        self._silent = True
        for box in [*self.form_boxes.values(), *self.confidence_boxes.values()]:
            box.setChecked(True)
        self._silent = False
        ws = self.session.workspace
        if ws is None:
            return
        if not self.session.viewport_kinds():
            self._on_span(ws, self.session.date_span())
            return
        # a city's million cases: the span is a scan of seconds, so a worker finds it (the window stays live)
        self._spans.submit(ws, self.session.date_span)

    def _on_span(self, workspace, span) -> None:
        if span and not isinstance(span, BaseException) and workspace is self.session.workspace:
            self.set_date_span(*span)

    def _show_summary(self, state) -> None:
        if not state.active:
            self.summary.setText("")
            return
        if all(self.session.counted(k) for k in ("reported_cases", "risk_areas") if k in self.session.frames):
            self._on_counts(state, self.session.shown_counts())
            return
        # a city's million cases: counting them within the filters is a scan, done in a worker
        self.summary.setText(_("Counting what the filters show…"))
        self._counts.submit(state, self.session.shown_counts)

    def _on_counts(self, state, shown) -> None:
        if state != self.session.filters:
            return  # the filters changed meanwhile: their own count is coming
        if isinstance(shown, BaseException):
            self.summary.setText(_("The filtered records could not be counted: {error}").format(error=shown))
            return
        cases, areas = shown.get("reported_cases", 0), shown.get("risk_areas", 0)
        self.summary.setText(_("Shown: {cases}, {areas}").format(
            cases=ngettext("{n} reported case", "{n} reported cases", cases).format(n=integer(cases)),
            areas=ngettext("{n} risk area", "{n} risk areas", areas).format(n=integer(areas))))

    def set_date_span(self, first: dt.date, last: dt.date) -> None:
        """The slider range: every month from ``first`` to ``last``."""
        self._silent = True
        self.months = _months(first, last)
        for slider in (self.from_slider, self.to_slider):
            slider.setRange(0, len(self.months) - 1)
        self.from_slider.setValue(0)
        self.to_slider.setValue(len(self.months) - 1)
        self._silent = False
        self._update_label()

    def _on_slider(self) -> None:
        if self.from_slider.value() > self.to_slider.value():
            sender = self.sender()
            other = self.to_slider if sender is self.from_slider else self.from_slider
            other.blockSignals(True)
            other.setValue(sender.value())
            other.blockSignals(False)
        self._update_label()
        self._emit()

    def _update_label(self) -> None:
        if self.months:
            self.range_label.setText(_("From {a} to {b}").format(
                a=self.months[self.from_slider.value()], b=self.months[self.to_slider.value()]))

    def state(self) -> FilterState:
        forms = frozenset(k for k, b in self.form_boxes.items() if b.isChecked())
        conf = frozenset(k for k, b in self.confidence_boxes.items() if b.isChecked())
        full_range = self.from_slider.value() == 0 and self.to_slider.value() == len(self.months) - 1
        date_from = date_to = None
        if not full_range:
            date_from = self.months[self.from_slider.value()] + "-01"
            y, m = map(int, self.months[self.to_slider.value()].split("-"))
            nxt = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1)
            date_to = (nxt - dt.timedelta(days=1)).isoformat()
        return FilterState(
            forms=None if len(forms) == len(self.form_boxes) else forms,
            date_from=date_from,
            date_to=date_to,
            confidence=None if len(conf) == len(self.confidence_boxes) else conf,
        )

    def reset(self) -> None:
        self._silent = True
        for box in [*self.form_boxes.values(), *self.confidence_boxes.values()]:
            box.setChecked(True)
        self.from_slider.setValue(0)
        self.to_slider.setValue(len(self.months) - 1)
        self._silent = False
        self._emit()

    def _emit(self) -> None:
        if not self._silent:
            self.filtersChanged.emit(self.state())
