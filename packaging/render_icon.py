"""Render data/icons/lantern.svg (also the window's icon) to the PNGs the Linux install uses (48, 128, 256 px) and the
Windows .ico (16-256 px). Run after changing the SVG; the PNGs and the .ico are kept in the repository.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icon.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent / "icons"
SVG = ICONS.parent.parent / "data" / "icons" / "lantern.svg"
PNG_SIZES = (48, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(size: int):
    """The SVG drawn on a transparent ``size`` x ``size`` QImage."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: not an SVG Qt can draw")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QImage text needs one)
    for size in PNG_SIZES:
        out = ICONS / f"lantern-{size}.png"
        if not render(size).save(str(out)):
            raise SystemExit(f"could not write {out}")
        print(f"wrote {out}")
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is missing: lantern.ico not written")
        return 0
    big = ICONS / "lantern-256.png"
    Image.open(big).save(ICONS / "lantern.ico", sizes=[(s, s) for s in ICO_SIZES])
    print(f"wrote {ICONS / 'lantern.ico'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
