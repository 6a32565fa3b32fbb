"""The result of registering a later photo onto the reference, as stored and printed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Alignment:
    """Result of registering MOVING onto REFERENCE; ``homography`` maps moving -> reference pixels."""

    ok: bool
    homography: np.ndarray | None
    quality: float = 0.0
    method: str = "none"  # "features" | "ecc" | "card" | "manual" | "none"
    inliers: int = 0
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        h = None if self.homography is None else np.asarray(self.homography, float).tolist()
        return {
            "ok": bool(self.ok),
            "homography": h,
            "quality": round(float(self.quality), 4),
            "method": self.method,
            "inliers": int(self.inliers),
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alignment:
        h = data.get("homography")
        return cls(
            ok=bool(data.get("ok", False)),
            homography=None if h is None else np.asarray(h, dtype=np.float64).reshape(3, 3),
            quality=float(data.get("quality", 0.0) or 0.0),
            method=str(data.get("method", "none") or "none"),
            inliers=int(data.get("inliers", 0) or 0),
            message=str(data.get("message", "") or ""),
        )


def _failed(message: str, inliers: int = 0, method: str = "none") -> Alignment:
    return Alignment(ok=False, homography=None, quality=0.0, method=method, inliers=inliers, message=message)
