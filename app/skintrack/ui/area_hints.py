"""What the region editor tells the painter: hints, the overlap warning, the discard question, and
the Undo/Redo actions every editor with a ``QUndoStack`` shares."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QWidget

from skintrack.ui.dialogs import ask_to_discard

PAINT_HINT = (
    "Paint the <b>watched area</b> (orange) where you expect change and a <b>control patch</b> "
    "(green) of unaffected skin nearby; the control makes uniform darkening measurable."
)
POLYGON_HINT = "Click to add points; double-click or press Enter to close; Esc to cancel"
CHECKED_TOOL_STYLE = (  # the active tool stands out in both themes
    "QToolButton:checked { background: palette(highlight); color: palette(highlighted-text); "
    "border: 1px solid palette(highlight); }"
)
OVERLAP_STYLE = "QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0b84c; padding: 4px; }"


def overlap_warning(fraction: float) -> str:
    """Why painting the watched area over the control patch spoils the measurement."""
    share = max(1, round(100 * fraction))
    return (
        f"<b>The watched area covers {share} % of the control patch.</b> The control must be "
        "unaffected skin: every check-in is measured against it, and the overlap is left out of the "
        "watched area, so a change there would go unseen. Erase the overlap from one of the two."
    )


def ask_discard(parent: QWidget, what: str) -> bool:
    """Modal question: discard the unsaved ``what``? (tests replace ``RegionEditor.ask_discard``)."""
    return ask_to_discard(
        parent,
        "Discard changes?",
        f"Discard the unsaved {what}?",
        "discardChanges",
        informative="Keep editing to go back and save them.",
        keep="Keep editing",
    )


def _shortcuts(standard: QKeySequence.StandardKey, keys: list[str]) -> list[QKeySequence]:
    """The platform's key plus the common alternatives, without duplicates."""
    unique: list[QKeySequence] = []
    for seq in [QKeySequence(standard), *(QKeySequence(k) for k in keys)]:
        if not seq.isEmpty() and all(seq != u for u in unique):
            unique.append(seq)
    return unique


def _tip(act: QAction, verb: str, what: str) -> None:
    if not shiboken6.isValid(act):  # the stack outlives the actions while the window is destroyed
        return
    keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts())
    act.setToolTip(f"{verb} {what.lower()} ({keys})" if what else f"{verb} ({keys})")


def undo_redo_actions(window: QWidget, stack: QUndoStack) -> tuple[QAction, QAction]:
    """Undo (Ctrl+Z) and Redo (Ctrl+Shift+Z, Ctrl+Y) for the whole window; enabled with the stack."""
    made = []
    for verb, standard, keys, can, changed, step in (
        ("Undo", QKeySequence.StandardKey.Undo, ["Ctrl+Z"], stack.canUndo, stack.canUndoChanged, stack.undo),
        (
            "Redo",
            QKeySequence.StandardKey.Redo,
            ["Ctrl+Shift+Z", "Ctrl+Y"],
            stack.canRedo,
            stack.canRedoChanged,
            stack.redo,
        ),
    ):
        act = QAction(verb, window)
        act.setShortcuts(_shortcuts(standard, keys))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setEnabled(can())
        act.triggered.connect(step)
        changed.connect(act.setEnabled)
        _tip(act, verb, "")
        window.addAction(act)
        made.append(act)
    undo, redo = made
    stack.undoTextChanged.connect(lambda t: _tip(undo, "Undo", t))
    stack.redoTextChanged.connect(lambda t: _tip(redo, "Redo", t))
    return undo, redo
