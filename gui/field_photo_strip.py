"""Photos from the field in the annotation form: a strip of thumbnails and a viewer.

Photos reach the form as a list of (photo, annotation) and a loader reading one photo's bytes by id
(audit.field_photos), so the form lists a place's photos without reading them. Thumbnails are made one per
event-loop turn once the strip shows, each decoded straight at thumbnail size (QImageReader's scaled read:
JPEG decodes at a fraction of its size), so a place with many full-size photos opens at once. Only pixels
are shown: names and captions are plain text.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
)

from gui.accessible import name
from gui.tooltips import plain_tip
from layers.i18n import _

THUMB = 72  # px, the longer side of a thumbnail
VIEW_MAX = QSize(2048, 2048)  # the viewer decodes no larger: a 12-megapixel photo never sits in memory in full
INDEX_ROLE = Qt.ItemDataRole.UserRole

Loader = Callable[[int], Optional[bytes]]


def decode(data: bytes | None, most: QSize | None = None) -> QImage:
    """The image in ``data``, no larger than ``most`` (aspect kept); a null QImage when it cannot be read."""
    if not data:
        return QImage()
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    size = reader.size()
    if most is not None and size.isValid() and (size.width() > most.width() or size.height() > most.height()):
        reader.setScaledSize(size.scaled(most, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def square(image: QImage) -> QPixmap:
    """``image`` centred on a transparent THUMB × THUMB square: upright and landscape photos line up."""
    canvas = QPixmap(THUMB, THUMB)
    canvas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(canvas)
    painter.drawImage((THUMB - image.width()) // 2, (THUMB - image.height()) // 2, image)
    painter.end()
    return canvas


def caption(annotation: dict) -> str:
    """The annotation's date and audit team, as the viewer and a thumbnail's tooltip say them."""
    team = (annotation.get("team") or "").strip()
    if team:
        return _("Observed on {date} · audit team: {team}").format(date=annotation.get("observed") or "", team=team)
    return _("Observed on {date} · no audit team given").format(date=annotation.get("observed") or "")


class PhotoStrip(QListWidget):
    """One row of thumbnails, newest annotation first; double-click or Enter opens the viewer."""

    def __init__(self, photos: list[tuple], load: Loader, parent=None):
        super().__init__(parent)
        self.photos, self.load = photos, load
        self.viewer: PhotoViewer | None = None
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setSpacing(4)
        self.setUniformItemSizes(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + self.fontMetrics().height() + 2 * self.frameWidth() + 12
                            + self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent))
        blank = QPixmap(THUMB, THUMB)
        blank.fill(QColor("#e4e4e4"))
        for i, (_photo, annotation) in enumerate(photos):
            item = QListWidgetItem(QIcon(blank), annotation.get("observed") or "")
            item.setData(INDEX_ROLE, i)
            item.setToolTip(plain_tip(caption(annotation)))
            self.addItem(item)
        self.built: set[int] = set()
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._build_next)
        self.itemActivated.connect(lambda item: self.open_viewer(item.data(INDEX_ROLE)))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if len(self.built) < self.count():
            self._timer.start()

    def _build_next(self) -> None:
        """One thumbnail per event-loop turn, so the form stays responsive while they are made."""
        todo = [i for i in range(self.count()) if i not in self.built]
        if not todo:
            self._timer.stop()
            return
        self.thumbnail(todo[0])

    def thumbnail(self, i: int) -> None:
        """Decode photo ``i`` at thumbnail size into its item (once)."""
        if i in self.built:
            return
        self.built.add(i)
        image = decode(self.load(self.photos[i][0].id), QSize(THUMB, THUMB))
        if not image.isNull():
            self.item(i).setIcon(QIcon(square(image)))

    def keyPressEvent(self, event) -> None:
        """Enter opens the photo and goes no further: the form's default button (Save) must not see it."""
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()

    def open_viewer(self, index: int) -> PhotoViewer:
        if self.viewer is not None:  # one viewer at a time
            self.viewer.close()
            self.viewer.deleteLater()
        self.viewer = PhotoViewer(self.photos, self.load, index, self.window())
        self.viewer.shown.connect(self.setCurrentRow)
        self.viewer.open()
        return self.viewer


class PhotoViewer(QDialog):
    """One photo scaled to fit, with its annotation's date and team; ←/→ (Home/End) step, Esc closes."""

    shown = Signal(int)  # the index now shown

    def __init__(self, photos: list[tuple], load: Loader, index: int, parent=None):
        super().__init__(parent)
        self.photos, self.load = photos, load
        self.setWindowTitle(_("Photo from the field"))
        self.image_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image_label.setMinimumSize(320, 240)
        self.image_label.setTextFormat(Qt.TextFormat.PlainText)
        self.caption_label = QLabel(textFormat=Qt.TextFormat.PlainText, wordWrap=True)
        self.position_label = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.previous_button = QPushButton(_("← Previous"))
        self.next_button = QPushButton(_("Next →"))
        self.previous_button.clicked.connect(lambda: self.show_photo(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_photo(self.index + 1))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for button in (self.previous_button, self.next_button, *buttons.buttons()):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys always step through the photos
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._layout(buttons)
        name(self.image_label, _("Photo from the field"))
        self.setToolTip(_("← and → step through the photos, Esc closes"))
        self.image = QImage()
        self.index = -1
        self._fit_screen()
        self.show_photo(index)

    def _layout(self, buttons: QDialogButtonBox) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.previous_button)
        bar.addWidget(self.position_label)
        bar.addWidget(self.next_button)
        bar.addStretch(1)
        bar.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image_label, 1)
        layout.addWidget(self.caption_label)
        layout.addLayout(bar)

    def _fit_screen(self) -> None:
        width, height = 900, 680
        screen = (self.parentWidget() or self).screen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, free.width() - 80), min(height, free.height() - 80)
        self.resize(width, height)

    def show_photo(self, index: int) -> None:
        """Show photo ``index`` (clamped to the list): decoded once, rescaled as the window changes size."""
        index = max(0, min(index, len(self.photos) - 1))
        if index == self.index:
            return
        self.index = index
        photo, annotation = self.photos[index]
        self.image = decode(self.load(photo.id), VIEW_MAX)
        self.caption_label.setText(caption(annotation))
        self.position_label.setText(_("Photo {i} of {n}").format(i=index + 1, n=len(self.photos)))
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.photos) - 1)
        self._paint()
        self.shown.emit(index)

    def _paint(self) -> None:
        if self.image.isNull():
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText(_("This photo cannot be shown: it is not stored as an image Lantern can read."))
            return
        room = self.image_label.size()
        scaled = self.image.scaled(room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.image_label.setPixmap(QPixmap.fromImage(scaled))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._paint()

    def keyPressEvent(self, event) -> None:
        steps = {Qt.Key.Key_Left: self.index - 1, Qt.Key.Key_Right: self.index + 1,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: len(self.photos) - 1}
        if event.key() in steps:
            self.show_photo(steps[event.key()])
            event.accept()
            return
        super().keyPressEvent(event)
