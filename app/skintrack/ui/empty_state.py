"""What a new user sees first: the idea in two sentences and the two ways to start."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from skintrack.ui import icons


class EmptyState(QWidget):
    addRegionRequested = Signal()
    demoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        box = QWidget(self)
        box.setMaximumWidth(560)
        lay = QVBoxLayout(box)
        lay.setSpacing(14)
        self.icon_label = QLabel(box)
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.icon_label)
        title = QLabel("Welcome to Skintrack", box)
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        title.setFont(f)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(title)
        self.text = QLabel(
            "Photograph the same patch of skin every few weeks, framed like the first photo. "
            "Skintrack lines the photos up, corrects for lighting and measures how the colour "
            "changes over time, so slow darkening you cannot see day to day becomes visible.",
            box,
        )
        self.text.setObjectName("emptyStateText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.add_button = QPushButton(icons.icon("add"), "Add a region", box)
        self.add_button.setObjectName("addRegionButton")
        self.add_button.setDefault(True)
        self.add_button.setIconSize(QSize(18, 18))
        self.add_button.setMinimumHeight(36)
        self.add_button.clicked.connect(self.addRegionRequested)
        self.demo_button = QPushButton(icons.icon("folder"), "Open the demo library", box)
        self.demo_button.setObjectName("demoButton")
        self.demo_button.setIconSize(QSize(18, 18))
        self.demo_button.setMinimumHeight(36)
        self.demo_button.clicked.connect(self.demoRequested)
        buttons.addWidget(self.add_button)
        buttons.addSpacing(8)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.busy_label = QLabel("", box)  # below the buttons, in the layout: never over the text
        self.busy_label.setObjectName("emptyStateBusy")
        self.busy_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.busy_label.setWordWrap(True)
        self.busy_label.hide()
        lay.addWidget(self.busy_label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.refresh_icons()

    def set_busy(self, text: str) -> None:
        """Say what is being prepared (the demo library); "" hides it."""
        self.busy_label.setText(text)
        self.busy_label.setVisible(bool(text))

    def refresh_icons(self) -> None:
        self.icon_label.setPixmap(icons.app_icon().pixmap(QSize(96, 96)))
        self.add_button.setIcon(icons.icon("add"))
        self.demo_button.setIcon(icons.icon("folder"))
