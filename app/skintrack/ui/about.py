"""About box: version, the not-a-diagnosis notice, where data lives."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from skintrack import APP_NAME, NOT_A_DIAGNOSIS, __version__
from skintrack.ui import icons


class AboutDialog(QDialog):
    def __init__(self, library_root: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        logo = QLabel(self)
        logo.setPixmap(icons.app_icon().pixmap(QSize(64, 64)))
        head.addWidget(logo)
        title = QLabel(
            f"<h2>{APP_NAME} {__version__}</h2>Private, objective tracking of slow skin colour change.", self
        )
        title.setObjectName("aboutTitle")
        head.addWidget(title, 1)
        lay.addLayout(head)
        notice = QLabel(f"<b>Not a diagnosis.</b> {NOT_A_DIAGNOSIS}", self)
        notice.setObjectName("notDiagnosis")
        notice.setWordWrap(True)
        notice.setFrameShape(QLabel.Shape.StyledPanel)
        notice.setMargin(10)
        lay.addWidget(notice)
        facts = [
            "Everything stays on this computer: Skintrack never connects to the network.",
            f"Python {sys.version.split()[0]}, Qt for Python {pyside_version}.",
        ]
        if library_root is not None:
            facts.insert(1, f"Library: {library_root}")
        info = QLabel("<br>".join(facts), self)
        info.setWordWrap(True)
        info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(info)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(460)
