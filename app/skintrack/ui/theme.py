"""System, light and dark palettes (Fusion style for the explicit ones) and a few shared colours."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory, QStyleOption, QWidget

from skintrack.ui import icons

THEMES = ("system", "light", "dark")

# accent and state colours used by delegates (readable on both palettes)
ACCENT = QColor("#2f7dd1")
OVERDUE = QColor("#d9822b")
DARKENING = QColor("#c0392b")  # ΔL* beyond the threshold
WATCH = QColor("#d4a017")  # some darkening, below the threshold
STABLE = QColor("#2e9d5b")
UNKNOWN = QColor("#8a8f98")
PROBLEM = QColor("#b00020")  # a missing or altered original, a photo that could not be aligned

# Fusion outlines check boxes and radio buttons in the window colour darkened: on a dark window
# that is nearly the field's own colour and the box vanishes. The indicators are drawn as if on
# this lighter window, which gives a border clearly visible on the dark field.
DARK_INDICATOR_WINDOW = QColor("#a3a9b1")
_INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)

_system_palette: QPalette | None = None
_system_style: str | None = None
_current = "system"


def light_palette() -> QPalette:
    p = QPalette()
    c = {
        QPalette.ColorRole.Window: "#f4f5f7",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f0f1f3",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#eceef1",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT.name(),
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT.name(),
        QPalette.ColorRole.PlaceholderText: "#7a808a",
        QPalette.ColorRole.Mid: "#c9ccd1",
        QPalette.ColorRole.Dark: "#a0a4ab",
    }
    for role, colour in c.items():
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa0a8"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#9aa0a8"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa0a8"))
    return p


def dark_palette() -> QPalette:
    p = QPalette()
    c = {
        QPalette.ColorRole.Window: "#202326",
        QPalette.ColorRole.WindowText: "#e6e8eb",
        QPalette.ColorRole.Base: "#17191c",
        QPalette.ColorRole.AlternateBase: "#24272b",
        QPalette.ColorRole.ToolTipBase: "#2b2f33",
        QPalette.ColorRole.ToolTipText: "#e6e8eb",
        QPalette.ColorRole.Text: "#e6e8eb",
        QPalette.ColorRole.Button: "#2b2f33",
        QPalette.ColorRole.ButtonText: "#e6e8eb",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#3d8fe0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6aaef0",
        QPalette.ColorRole.PlaceholderText: "#8a9099",
        QPalette.ColorRole.Mid: "#3a3f45",
        QPalette.ColorRole.Dark: "#111315",
        QPalette.ColorRole.Light: "#3a3f45",
    }
    for role, colour in c.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7078"))
    return p


class IndicatorStyle(QProxyStyle):
    """Fusion with check box and radio button outlines that stay visible in the dark palette."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in _INDICATORS and is_dark(option.palette):
            option = type(option)(option)
            pal = QPalette(option.palette)
            pal.setColor(QPalette.ColorRole.Window, DARK_INDICATOR_WINDOW)
            option.palette = pal
        super().drawPrimitive(element, option, painter, widget)


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def current() -> str:
    return _current


def apply(theme: str, app: QApplication | None = None) -> None:
    """Switch palette; icons are re-rendered in the new text colour by whoever listens."""
    global _system_palette, _system_style, _current
    app = app or QApplication.instance()  # type: ignore[assignment]
    if app is None:
        return
    if theme not in THEMES:
        theme = "system"
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
        _system_style = app.style().name()
    if theme == "system":
        if _system_style:
            app.setStyle(QStyleFactory.create(_system_style) or app.style())
        app.setPalette(_system_palette)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()
    else:
        app.setStyle(IndicatorStyle("Fusion"))
        app.setPalette(dark_palette() if theme == "dark" else light_palette())
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "setColorScheme"):
            hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    _current = theme
    icons.clear_cache()


def muted(palette: QPalette) -> QColor:
    """Secondary text colour: halfway between text and window."""
    a = palette.color(QPalette.ColorRole.Text)
    b = palette.color(QPalette.ColorRole.Base)
    return QColor((a.red() + b.red()) // 2, (a.green() + b.green()) // 2, (a.blue() + b.blue()) // 2)
