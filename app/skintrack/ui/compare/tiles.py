"""Pyramid + tiled rendering so a 12 MP pair zooms and pans without stalling the GUI thread.

The worker builds a :class:`Pyramid` (full level plus 2x downsampled levels, Qt-free numpy);
the GUI wraps it in a :class:`TileSource` that makes 512 px ``QPixmap`` tiles lazily and keeps
the most recently drawn ones (LRU). :class:`TiledImageItem` paints only the tiles of the level
that matches the view's zoom and that intersect the exposed rectangle, so a frame costs a few
tile blits however big the photo is. Several items (one per scene/mode) share one source.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

TILE = 512
MAX_CACHED_TILES = 96  # per source: ~100 MB at worst, far more than a screenful (≈ 12 tiles)


@dataclass
class Pyramid:
    """Levels of one image: ``levels[0]`` full size, each next one half the size (uint8 RGB/RGBA)."""

    levels: list[np.ndarray]

    @property
    def width(self) -> int:
        return int(self.levels[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.levels[0].shape[0])


def build_pyramid(image: np.ndarray, min_side: int = 256) -> Pyramid:
    """Run in a worker: 2x INTER_AREA reductions until the longest side is under ``min_side``."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    levels = [np.ascontiguousarray(image)]
    while max(levels[-1].shape[:2]) > min_side:
        h, w = levels[-1].shape[:2]
        levels.append(cv2.resize(levels[-1], (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA))
    return Pyramid(levels)


def to_qimage(arr: np.ndarray) -> QImage:
    """A QImage that owns its pixels (copy), from a uint8 RGB/RGBA/grey array."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        fmt, ch = QImage.Format.Format_Grayscale8, 1
    elif arr.shape[2] == 4:
        fmt, ch = QImage.Format.Format_RGBA8888, 4
    else:
        fmt, ch = QImage.Format.Format_RGB888, 3
    return QImage(arr.data, w, h, w * ch, fmt).copy()


class TileSource:
    """GUI-thread side of a pyramid: lazily converted, LRU-cached tile pixmaps."""

    def __init__(self, pyramid: Pyramid) -> None:
        self.pyramid = pyramid
        self._cache: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()
        self.tiles_made = 0

    @property
    def width(self) -> int:
        return self.pyramid.width

    @property
    def height(self) -> int:
        return self.pyramid.height

    @property
    def n_levels(self) -> int:
        return len(self.pyramid.levels)

    def level_for_scale(self, scale: float) -> int:
        """Coarsest level that still has at least one source pixel per screen pixel."""
        if scale <= 0:
            return self.n_levels - 1
        level = math.floor(math.log2(1.0 / scale)) if scale < 1.0 else 0
        return max(0, min(self.n_levels - 1, level))

    def tile(self, level: int, tx: int, ty: int) -> QPixmap:
        key = (level, tx, ty)
        pm = self._cache.get(key)
        if pm is not None:
            self._cache.move_to_end(key)
            return pm
        arr = self.pyramid.levels[level]
        block = arr[ty * TILE : (ty + 1) * TILE, tx * TILE : (tx + 1) * TILE]
        pm = QPixmap.fromImage(to_qimage(block))
        self._cache[key] = pm
        self.tiles_made += 1
        while len(self._cache) > MAX_CACHED_TILES:
            self._cache.popitem(last=False)
        return pm


class TiledImageItem(QGraphicsItem):
    """Draws a :class:`TileSource` in scene coordinates of its full level (1 unit = 1 pixel)."""

    def __init__(self, source: TileSource, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.last_level = -1

    def set_source(self, source: TileSource) -> None:
        self.prepareGeometryChange()
        self.source = source
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.source.width, self.source.height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        src = self.source
        level = src.level_for_scale(scale)
        self.last_level = level
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        arr = src.pyramid.levels[level]
        lh, lw = arr.shape[:2]
        # scale between full-level scene units and this level's pixels (not exactly 2**level for odd sizes)
        sx = src.width / lw
        sy = src.height / lh
        x0 = max(0, int(exposed.left() / sx) // TILE)
        y0 = max(0, int(exposed.top() / sy) // TILE)
        x1 = min((lw - 1) // TILE, int(exposed.right() / sx) // TILE)
        y1 = min((lh - 1) // TILE, int(exposed.bottom() / sy) // TILE)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale * 2**level < 2.0)
        for ty in range(y0, y1 + 1):
            for tx in range(x0, x1 + 1):
                pm = src.tile(level, tx, ty)
                target = QRectF(tx * TILE * sx, ty * TILE * sy, pm.width() * sx, pm.height() * sy)
                painter.drawPixmap(target, pm, QRectF(pm.rect()))
