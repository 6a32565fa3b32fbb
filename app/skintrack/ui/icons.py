"""SVG icons from ``resources/icons``, recoloured to the palette's text colour (dark mode).

The icon files draw with ``stroke="currentColor"``; Qt's SVG renderer does not know the current
colour, so we substitute a concrete colour in the text before rendering. Icons are cached per
(name, colour); :func:`clear_cache` is called when the theme changes.
"""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from skintrack.paths import resource_path

log = logging.getLogger(__name__)

SIZES = (16, 24, 32, 48)


@cache
def _svg_text(name: str) -> str | None:
    path = resource_path("icons", f"{name}.svg")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s not found at %s", name, path)
        return None


def _render(svg: str, colour: str, size: int, ratio: float, opacity: float = 1.0) -> QPixmap:
    data = QByteArray(svg.replace("currentColor", colour).encode("utf-8"))
    renderer = QSvgRenderer(data)
    px = max(1, round(size * ratio))
    pm = QPixmap(px, px)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setOpacity(opacity)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


def _text_colour() -> QColor:
    app = QGuiApplication.instance()
    if app is None:
        return QColor("#333333")
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


_cache: dict[tuple[str, str], QIcon] = {}


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """A QIcon for ``resources/icons/<name>.svg`` in ``colour`` (default: the palette text colour)."""
    col = QColor(colour) if colour is not None else _text_colour()
    key = (name, col.name())
    if key in _cache:
        return _cache[key]
    svg = _svg_text(name)
    result = QIcon()
    if svg is not None:
        ratio = QGuiApplication.instance().devicePixelRatio() if QGuiApplication.instance() else 1.0  # type: ignore[union-attr]
        for size in SIZES:
            result.addPixmap(_render(svg, col.name(), size, ratio), QIcon.Mode.Normal)
            result.addPixmap(_render(svg, col.name(), size, ratio, 0.35), QIcon.Mode.Disabled)
    _cache[key] = result
    return result


def pixmap(name: str, size: int = 24, colour: QColor | str | None = None) -> QPixmap:
    return icon(name, colour).pixmap(QSize(size, size))


def app_icon() -> QIcon:
    """The application icon (made by packaging); an empty icon when it is missing."""
    path = resource_path("icons", "skintrack.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def clear_cache() -> None:
    _cache.clear()
