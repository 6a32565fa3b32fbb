"""The trend chart's colours, so it follows the app's light or dark theme."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes

PATCH_COLOUR = "#d7301f"
WATCHED_COLOUR = "#b0127a"
CONTROL_COLOUR = "#4d4d4d"
AREA_COLOUR = "#9ecae1"


@dataclass(frozen=True)
class ChartStyle:
    """Colours of the chart's frame, so it follows the app's light or dark theme."""

    face: str
    text: str
    muted: str
    grid: str
    zero: str
    area: str
    area_text: str
    watched: str
    control: str
    patches: str
    noise: str


LIGHT = ChartStyle(
    "#ffffff", "#222222", "#666666", "#e5e5e5", "#999999", AREA_COLOUR, "#3182bd",
    WATCHED_COLOUR, CONTROL_COLOUR, PATCH_COLOUR, "#bdbdbd",
)  # fmt: skip
DARK = ChartStyle(
    "#2b2b2b", "#e6e6e6", "#b0b0b0", "#3d3d3d", "#777777", "#3e6f91", "#8cc4ec",
    "#f06fc0", "#cfcfcf", "#ff7a5c", "#6b6b6b",
)  # fmt: skip


def style_axes(ax: Axes, style: ChartStyle) -> None:
    ax.set_facecolor(style.face)
    ax.tick_params(colors=style.text, which="both")
    for spine in ax.spines.values():
        spine.set_color(style.muted)
    ax.xaxis.label.set_color(style.text)
    ax.yaxis.label.set_color(style.text)
    ax.title.set_color(style.text)
