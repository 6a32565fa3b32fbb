"""An in-memory compare source for GUI tests: generated skin photos and a made-up change result.

The compare window and the manual-alignment dialog read it the way they read a library's source,
without decoding files or running the pipeline, so their tests stay well under a second each.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from types import SimpleNamespace

import cv2
import numpy as np

from skintrack.progress import Progress
from skintrack.services.analysis import AnalysisReport
from skintrack.ui.compare.source import AlignmentInfo, PairData, PhotoInfo

W, H = 640, 480


def skin(w: int, h: int, seed: int) -> np.ndarray:
    """Textured skin-like RGB with dark dots (features an aligner can lock onto)."""
    rng = np.random.default_rng(seed)
    base = np.empty((h, w, 3), np.float32)
    base[:] = (0.78, 0.58, 0.47)
    coarse = rng.standard_normal((h // 16 + 2, w // 16 + 2)).astype(np.float32)
    n = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    base *= (1 + 0.05 * n)[..., None]
    fine = rng.standard_normal((h, w)).astype(np.float32)
    base *= (1 + 0.02 * cv2.GaussianBlur(fine, (0, 0), 1.5))[..., None]
    for _ in range(60):
        cx, cy = rng.integers(0, w), rng.integers(0, h)
        cv2.circle(base, (int(cx), int(cy)), int(rng.integers(2, 8)), (0.45, 0.3, 0.22), -1)
    return (np.clip(base, 0, 1) * 255).astype(np.uint8)


def blob() -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.circle(m, (W // 2, H // 2), H // 6, 255, -1)
    return m


class FakeSource:
    """Four check-ins a month apart; the middle pair (1, 3) 'fails' to align."""

    def __init__(self, fail_pairs: set[tuple[int, int]] | None = None) -> None:
        t0 = datetime(2026, 1, 5, 9, 0)
        self.infos = [PhotoInfo(i + 1, t0 + timedelta(days=30 * i), i == 0) for i in range(4)]
        self.fail_pairs = fail_pairs if fail_pairs is not None else {(1, 3)}
        self.base = skin(W, H, 1)
        self.loads: list[tuple[int, int]] = []
        self.saved: list[tuple[int, int, object, list]] = []

    def photos(self) -> list[PhotoInfo]:
        return list(self.infos)

    def default_pair(self) -> tuple[int, int]:
        return self.infos[0].id, self.infos[-1].id

    def original(self, pid: int, max_side: int | None = None) -> np.ndarray:
        k = (pid - 1) * 0.06
        return (self.base * (1 - k * (blob()[..., None] / 255.0))).astype(np.uint8)

    def load(self, a: int, b: int, token: object) -> PairData:
        self.loads.append((a, b))
        ra, rb = self.original(a), self.original(b)
        if (a, b) in self.fail_pairs:
            info = AlignmentInfo(False, 0.05, "features", 3, "too few matching features")
            return PairData(a, b, ra, None, ra, np.ascontiguousarray(rb[::-1]), info)
        d = np.zeros((H, W), np.float32)
        m = blob()
        d[m > 0] = -5.0 * (b - a) / 3
        cs, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        patch = SimpleNamespace(
            area_px=int((m > 0).sum()),
            area_mm2=None,
            bbox=cv2.boundingRect(cs[0]),
            centroid=(W / 2, H / 2),
            mean_delta_L=float(d[m > 0].mean()) if b != a else 0.0,
            min_delta_L=-7.5,
            mean_delta_b=-2.1,
            mean_delta_ita=-6.0,
            kind="grey-blue",
            contour=cs[0][:, 0, :].tolist(),
        )
        change = SimpleNamespace(
            calibration="model",
            darkened_fraction=patch.area_px / d.size,
            darkened_area_px=patch.area_px,
            darkened_area_mm2=None,
            mean_delta_L=-1.2,
            mean_delta_b=-0.5,
            mean_delta_ita=-1.8,
            mean_delta_e2000=1.6,
            noise_delta_L=0.6,
            uniform_change_measurable=False,
            patches=[patch] if b > a else [],
            delta_L=d,
            threshold_applied_L=3.0,
            excluded_small=None,
            _cache={},
            _ref_input=None,
            ref_lab_mean=(62.0, 11.0, 17.0),
            later_lab_mean=(60.8, 11.2, 16.5),
            ref_ita=None,
            later_ita=None,
            ref_ita_class=None,
            later_ita_class=None,
            detection_limit_L={},
        )
        return PairData(a, b, ra, rb, ra, rb, AlignmentInfo(True, 0.93, "features", 412, ""), change)

    def save_manual_alignment(self, a: int, b: int, alignment: object, points: list) -> None:
        self.saved.append((a, b, alignment, points))

    def reanalyse(self, token: object) -> Generator[Progress, None, AnalysisReport]:
        """Nothing to measure in a fake library: one step, one pair analysed."""
        yield Progress(1, 1, "measured again")
        return AnalysisReport(analysed=1)
