"""numpy uint8 RGB <-> QImage, nothing else.

A QImage built on a numpy buffer does not own the memory, so :func:`rgb_to_qimage` returns a
``.copy()`` that is safe after the array is gone. Cheap enough for any thread (no QPixmap here).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB, or (H, W) uint8 grey, -> an owning QImage."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) RGB, got {arr.shape}")
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 straight-alpha RGBA -> an owning QImage (overlays)."""
    arr = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGBA8888).copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Any QImage -> a new (H, W, 3) uint8 RGB array."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return buf[:, : w * 3].reshape(h, w, 3).copy()
