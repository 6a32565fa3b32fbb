"""Check boxes and radio buttons stay visible in both explicit themes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleOption, QStyleOptionButton, QStyleOptionViewItem

from skintrack.ui import theme

pytestmark = pytest.mark.gui

MIN_CONTRAST = 40  # lightness steps (0-255) between an indicator's outline and the field behind it
ELEMENTS = {
    "check box": (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyleOptionButton),
    "radio button": (QStyle.PrimitiveElement.PE_IndicatorRadioButton, QStyleOptionButton),
    "item view check": (QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck, QStyleOptionViewItem),
}


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    yield
    theme.apply("system")


def _outline_contrast(element: QStyle.PrimitiveElement, option: QStyleOption) -> int:
    """Largest lightness difference between the drawn unchecked indicator and the Base colour."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    base = app.palette().color(QPalette.ColorRole.Base)
    image = QImage(20, 20, QImage.Format.Format_RGB32)
    image.fill(base)
    option.rect = QRect(3, 3, 14, 14)
    option.palette = app.palette()
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Off
    painter = QPainter(image)
    app.style().drawPrimitive(element, option, painter, None)
    painter.end()
    return max(
        abs(QColor(image.pixel(x, y)).lightness() - base.lightness()) for x in range(20) for y in range(20)
    )


@pytest.mark.parametrize("name", ["dark", "light"])
@pytest.mark.parametrize("kind", list(ELEMENTS))
def test_unchecked_indicators_have_a_visible_outline(
    qapp: QApplication, restore_theme: Any, name: str, kind: str
) -> None:
    theme.apply(name)
    element, option_type = ELEMENTS[kind]
    assert _outline_contrast(element, option_type()) >= MIN_CONTRAST
