"""Delegates drawing sidebar rows and timeline tiles (no widget per item)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from skintrack.core import formatting
from skintrack.core.reading import patch_delta_l, stored_thresholds
from skintrack.library.settings import defaults
from skintrack.ui import theme
from skintrack.ui.models import PhotoRole, RegionRole, fmt_date
from skintrack.ui.shot_groups import ShotGroup
from skintrack.ui.thumbnails import placeholder

Index = QModelIndex | QPersistentModelIndex


def indicator(metrics: dict[str, Any] | None, threshold: float) -> tuple[str, QColor, str]:
    """(chip text, colour, plain-language meaning) for a stored measurement vs the reference.

    Darkened patches win (they passed the threshold and the minimum area): "−6.6 L* · 13.9 %".
    Otherwise the mean ΔL* of the compared area, coloured against the threshold T.
    """
    if not metrics:
        return "not analysed", theme.UNKNOWN, "not analysed yet"
    dl = metrics.get("mean_delta_L")
    frac = metrics.get("darkened_fraction") or 0.0
    depth = patch_delta_l(metrics)
    if frac > 0 and depth is not None:
        text = f"{formatting.delta_l(depth)} · {formatting.number(100 * frac, 1)} %"
        return text, theme.DARKENING, "darker patches beyond the threshold"
    if not isinstance(dl, (int, float)):
        return "no result", theme.UNKNOWN, "the measurement has no result"
    threshold, _k = stored_thresholds(metrics, threshold, 0.0)
    text = f"ΔL* {formatting.signed(dl)}"
    if dl <= -threshold or frac > 0:
        return text, theme.DARKENING, "darker than the reference beyond the threshold"
    if dl <= -threshold / 2:
        return text, theme.WATCH, "slightly darker, below the threshold"
    return text, theme.STABLE, "no darkening beyond noise"


def _draw_pixmap_fitted(p: QPainter, rect: QRect, pm: QPixmap, radius: float = 6.0) -> None:
    """Centre-crop ``pm`` to fill ``rect`` with rounded corners."""
    ratio = pm.devicePixelRatio() or 1.0
    pw, ph = pm.width() / ratio, pm.height() / ratio
    if pw <= 0 or ph <= 0:
        return
    scale = max(rect.width() / pw, rect.height() / ph)
    sw, sh = rect.width() / scale, rect.height() / scale
    src = QRectF((pw - sw) / 2 * ratio, (ph - sh) / 2 * ratio, sw * ratio, sh * ratio)
    path = QPainterPath()
    path.addRoundedRect(QRectF(rect), radius, radius)
    p.save()
    p.setClipPath(path)
    p.drawPixmap(QRectF(rect), pm, src)
    p.restore()


def _chip(p: QPainter, x: int, y: int, text: str, colour: QColor, font: QFont, *, filled: bool = True) -> int:
    """Draw a pill with ``text`` at (x, y) (top-left); returns its width."""
    fm = QFontMetrics(font)
    w = fm.horizontalAdvance(text) + 12
    h = fm.height() + 2
    rect = QRectF(x, y, w, h)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setFont(font)
    if filled:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(rect, h / 2, h / 2)
        p.setPen(QColor("#ffffff"))
    else:
        p.setPen(colour)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), h / 2, h / 2)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    p.restore()
    return int(w)


def _background(p: QPainter, option: QStyleOptionViewItem, rect: QRect) -> bool:
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
    if selected or hover:
        col = QColor(option.palette.color(QPalette.ColorRole.Highlight))
        col.setAlphaF(0.28 if selected else 0.10)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(col)
        p.drawRoundedRect(QRectF(rect.adjusted(2, 2, -2, -2)), 8, 8)
        if selected:
            edge = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            p.setPen(edge)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(rect.adjusted(2, 2, -2, -2)).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        p.restore()
    return selected


def group_frame_rect(rect: QRect, group: ShotGroup, gap: int) -> tuple[QRectF, QRectF]:
    """(frame, clip) of a grouped tile: the frame's rounded ends fall on the group's first and
    last tiles; between tiles it runs on through the view's spacing (``gap``) to the next one."""
    clip = QRectF(rect)
    frame = QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5)
    if not group.first:
        clip.setLeft(clip.left() - gap / 2)
        frame.setLeft(frame.left() - gap - 20)
    if not group.last:
        clip.setRight(clip.right() + (gap + 1) / 2)
        frame.setRight(frame.right() + gap + 20)
    return frame, clip


def _draw_group_frame(p: QPainter, option: QStyleOptionViewItem, rect: QRect, group: ShotGroup) -> None:
    """One tinted band with an outline around all shots of a check-in."""
    view = option.widget  # type: ignore[attr-defined]
    gap = view.spacing() if isinstance(view, QListView) else 0
    frame, clip = group_frame_rect(rect, group, gap)
    edge = QColor(theme.ACCENT)
    fill = QColor(theme.ACCENT)
    fill.setAlphaF(0.08)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setClipRect(clip)
    p.setBrush(fill)
    p.setPen(edge)
    p.drawRoundedRect(frame, 9, 9)
    p.restore()


class RegionDelegate(QStyledItemDelegate):
    """Thumbnail, name, last check-in and an "overdue" badge."""

    THUMB = 52
    HEIGHT = 78  # the name and three short lines: count, last check-in, next due

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(180, self.HEIGHT)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect = option.rect
        _background(p, option, rect)
        pal = option.palette
        thumb_rect = QRect(
            rect.left() + 8, rect.top() + (rect.height() - self.THUMB) // 2, self.THUMB, self.THUMB
        )
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            _draw_pixmap_fitted(p, thumb_rect, pm)
        else:
            p.drawPixmap(
                thumb_rect.topLeft(), placeholder(self.THUMB, self.THUMB, pal.color(QPalette.ColorRole.Mid))
            )
        x = thumb_rect.right() + 10
        name_font = QFont(option.font)
        name_font.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.88))
        overdue = bool(index.data(RegionRole.Overdue))
        summary = index.data(RegionRole.Summary)
        archived = bool(summary is not None and summary.region.archived)
        p.save()
        p.setPen(pal.color(QPalette.ColorRole.Text))
        p.setFont(name_font)
        fm = QFontMetrics(name_font)
        name_w = rect.right() - x - 10
        name = fm.elidedText(str(index.data(RegionRole.Name) or ""), Qt.TextElideMode.ElideRight, name_w)
        p.drawText(QRect(x, rect.top() + 10, name_w, fm.height()), Qt.AlignmentFlag.AlignLeft, name)
        p.setFont(small)
        p.setPen(theme.muted(pal))
        count = int(index.data(RegionRole.PhotoCount) or 0)
        last = index.data(RegionRole.LastTakenAt)
        lines = [f"{count} check-in{'s' if count != 1 else ''}"]
        if last is not None:
            lines.append(f"last {fmt_date(last)}")
        due = index.data(RegionRole.NextDue)
        status = ""  # the last line, in colour: the region's state in words
        if archived:
            status = "archived"
        elif due is not None:
            status = f"overdue since {formatting.day(due)}" if overdue else ""
            if not overdue:
                lines.append(f"due {formatting.day(due)}")
        sfm = QFontMetrics(small)
        y = rect.top() + 10 + fm.height()
        for line in lines:
            line = sfm.elidedText(line, Qt.TextElideMode.ElideRight, rect.right() - x - 10)
            p.drawText(QRect(x, y, rect.right() - x - 10, sfm.height()), 0, line)
            y += sfm.height()
        if status:
            bold = QFont(small)
            bold.setBold(True)
            p.setFont(bold)
            p.setPen(theme.UNKNOWN if archived else theme.OVERDUE)
            bfm, room = QFontMetrics(bold), rect.right() - x - 10
            if bfm.horizontalAdvance(status) > room and overdue and not archived:
                status = "overdue"  # the date is in the row's tooltip and the reminders
            text = bfm.elidedText(status, Qt.TextElideMode.ElideRight, room)
            p.drawText(QRect(x, y, rect.right() - x - 10, sfm.height()), 0, text)
        p.restore()


NOT_ALIGNED = "not aligned"
ORIGINAL_BADGES = {"missing": "original missing", "altered": "original altered"}


class PhotoDelegate(QStyledItemDelegate):
    """Timeline tile: thumbnail, date, and a darkening chip from the stored measurement; a badge
    when the original is missing or altered, "not aligned" when the analysis could not align it.

    The shots of one check-in share a frame and one date label; the measured shot is marked "best".
    """

    WIDTH = 164
    THUMB_H = 114

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold_L = defaults().threshold_L
        self.not_aligned: set[int] = set()  # photo ids
        self.originals: dict[int, str] = {}  # photo id -> "missing" | "altered"
        self.tile_width = self.WIDTH  # widened by the view so the tiles fill its width

    @property
    def thumb_height(self) -> int:
        return round(self.THUMB_H * (self.tile_width - 16) / (self.WIDTH - 16))

    def fit_width(self, available: int, spacing: int) -> bool:
        """Widen the tiles so whole columns fill ``available`` px; True when the width changed.

        An icon-mode list gives each item its width plus the spacing on both sides.
        """
        columns = max(1, available // (self.WIDTH + 2 * spacing))
        width = max(self.WIDTH, min(2 * self.WIDTH, available // columns - 2 * spacing - 1))
        if width == self.tile_width:
            return False
        self.tile_width = width
        return True

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(self.tile_width, 8 + self.thumb_height + 8 + fm.height() + 6 + fm.height() + 10)

    @staticmethod
    def caption(index: Index) -> tuple[str, str]:
        """(bold label, muted addition) under a tile: the date once per check-in, then "shot 2"."""
        group = index.data(PhotoRole.ShotGroup)
        day = fmt_date(index.data(PhotoRole.TakenAt))
        if not isinstance(group, ShotGroup) or not group.grouped:
            return day, ""
        if group.first:
            return day, f"{group.count} shots"
        return "", f"shot {group.index + 1}"

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect = option.rect
        group = index.data(PhotoRole.ShotGroup)
        if isinstance(group, ShotGroup) and group.grouped:
            _draw_group_frame(p, option, rect, group)
        _background(p, option, rect)
        pal = option.palette
        thumb = QRect(rect.left() + 8, rect.top() + 8, rect.width() - 16, self.thumb_height)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            _draw_pixmap_fitted(p, thumb, pm)
        else:
            p.drawPixmap(
                thumb.topLeft(), placeholder(thumb.width(), thumb.height(), pal.color(QPalette.ColorRole.Mid))
            )
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        if index.data(PhotoRole.IsReference):
            _chip(p, thumb.left() + 6, thumb.top() + 6, "reference", theme.ACCENT, small)
        elif isinstance(group, ShotGroup) and group.standing:
            width = QFontMetrics(small).horizontalAdvance("best") + 12
            _chip(p, thumb.right() - 6 - width, thumb.top() + 6, "best", theme.ACCENT, small)
        photo_id = index.data(PhotoRole.PhotoId)
        badge = ORIGINAL_BADGES.get(self.originals.get(photo_id, ""))
        if badge:
            bw = QFontMetrics(small).horizontalAdvance(badge) + 12
            _chip(
                p,
                thumb.right() - bw - 5,
                thumb.bottom() - QFontMetrics(small).height() - 7,
                badge,
                theme.PROBLEM,
                small,
            )
        fm = QFontMetrics(option.font)
        y = thumb.bottom() + 8
        label, extra = self.caption(index)
        p.save()
        bold = QFont(option.font)
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(pal.color(QPalette.ColorRole.Text))
        p.drawText(QRect(thumb.left(), y, thumb.width(), fm.height()), 0, label)
        if extra:
            x = thumb.left() + (QFontMetrics(bold).horizontalAdvance(label + "  ") if label else 0)
            p.setFont(option.font)
            p.setPen(theme.muted(pal))
            p.drawText(QRect(x, y, thumb.right() - x, fm.height()), 0, extra)
        p.restore()
        y += fm.height() + 4
        if index.data(PhotoRole.IsReference):
            _chip(p, thumb.left(), y, "baseline", theme.muted(pal), small, filled=False)
        elif photo_id in self.not_aligned:
            _chip(p, thumb.left(), y, NOT_ALIGNED, theme.PROBLEM, small)
        else:
            text, colour, _ = indicator(index.data(PhotoRole.Measurement), self.threshold_L)
            _chip(p, thumb.left(), y, text, colour, small, filled=colour != theme.UNKNOWN)
        if index.data(PhotoRole.Notes):
            p.save()
            p.setFont(small)
            p.setPen(theme.muted(pal))
            p.drawText(QRect(thumb.left(), y, thumb.width(), fm.height()), Qt.AlignmentFlag.AlignRight, "✎")
            p.restore()
