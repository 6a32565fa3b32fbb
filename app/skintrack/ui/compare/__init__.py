"""Compare view: two check-ins side by side, swipe, blink and heatmap, with metrics."""

from skintrack.ui.compare.window import CompareWindow

__all__ = ["CompareWindow"]
