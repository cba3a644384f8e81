"""Legend swatches for the layer panel, drawn from a kind's style."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

from layers.catalogue import Style


def swatch_icon(style: Style, geometry: str, size: int = 18) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    fill = QColor(style.fill_color)
    fill.setAlphaF(max(0.25, min(1.0, style.fill_opacity)))
    pen = QPen(QColor(style.color), max(1.0, style.weight * 0.8))
    if style.dash:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(fill)
    m = 2.5
    r = QRectF(m, m, size - 2 * m, size - 2 * m)
    if geometry == "MultiLineString":
        # a road-like stroke with a grey casing, so white lines show too
        casing = QPen(QColor("#8f8f8f"), style.weight + 2.5)
        p.setPen(casing)
        p.drawLine(QPointF(r.left(), r.bottom()), QPointF(r.right(), r.top()))
        p.setPen(QPen(QColor(style.color), max(1.5, style.weight)))
        p.drawLine(QPointF(r.left(), r.bottom()), QPointF(r.right(), r.top()))
    elif geometry not in ("Point", "Geometry") or style.shape == "square":
        p.drawRect(r)
    elif style.shape == "diamond":
        c = r.center()
        p.drawPolygon(QPolygonF([QPointF(c.x(), r.top()), QPointF(r.right(), c.y()),
                                 QPointF(c.x(), r.bottom()), QPointF(r.left(), c.y())]))
    elif style.shape == "triangle":
        p.drawPolygon(QPolygonF([QPointF(r.center().x(), r.top()), QPointF(r.right(), r.bottom()),
                                 QPointF(r.left(), r.bottom())]))
    else:
        p.drawEllipse(r)
    p.end()
    return QIcon(pix)
