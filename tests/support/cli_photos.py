"""The command line as a real process, and generated photos of one textured surface to run it on."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]

W, H = 720, 540


def skintrack(*args: str, library: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    if library is not None:
        env["SKINTRACK_LIBRARY"] = str(library)
    return subprocess.run(
        [sys.executable, "-m", "skintrack", *args], capture_output=True, text=True, env=env, timeout=120
    )


def canvas(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cw, ch = 2 * W, 2 * H
    lum = np.zeros((ch, cw), np.float32)
    for sigma, amp in ((40, 14.0), (10, 8.0), (2.5, 6.0), (1.0, 4.0)):
        f = max(1, int(sigma // 3))  # coarse noise made small and upsampled: fast
        n = rng.standard_normal((ch // f + 2, cw // f + 2)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), sigma / f)
        n = cv2.resize(n, (cw, ch), interpolation=cv2.INTER_CUBIC) if f > 1 else n[:ch, :cw]
        lum += amp * n / n.std()
    for _ in range(600):
        cv2.circle(lum, (int(rng.uniform(0, cw)), int(rng.uniform(0, ch))), 1, -25, -1)
    base = 150 + lum
    return np.clip(np.stack([base, base * 0.78, base * 0.66], -1), 0, 255).astype(np.float32)


def shoot(
    img: np.ndarray, rot: float, shift=(0.0, 0.0), darken: float = 0.0, radius: int = 70
) -> tuple[np.ndarray, np.ndarray]:
    """A photo of the canvas (a disc of ``radius`` canvas px in the middle darkened by ``darken``)
    and the canvas -> photo homography."""
    cw, ch = 2 * W, 2 * H
    th = math.radians(rot)
    t_c = np.array([[1, 0, -(cw - 1) / 2 - shift[0]], [0, 1, -(ch - 1) / 2 - shift[1]], [0, 0, 1]])
    r = np.array([[math.cos(th), -math.sin(th), 0], [math.sin(th), math.cos(th), 0], [0, 0, 1]])
    t_p = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
    src = img.copy()
    if darken:
        yy, xx = np.mgrid[0:ch, 0:cw]
        src[((xx - cw / 2) ** 2 + (yy - ch / 2) ** 2) < radius**2] *= darken
    h = t_p @ r @ t_c
    out = cv2.warpPerspective(src, h, (W, H), flags=cv2.INTER_LINEAR)
    return np.clip(out, 0, 255).astype(np.uint8), h


def write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def cli_photos(d: Path) -> dict[str, object]:
    """A reference, a rotated and shifted later shot darkened in the middle, an unrelated photo, and the
    true later -> reference homography; written as JPEGs into ``d``."""
    c = canvas(5)
    ref, h_ref = shoot(c, 0.0)
    later, h_later = shoot(c, 10.0, (20, -10), darken=0.7)
    h_true = h_ref @ np.linalg.inv(h_later)
    return {
        "ref": write(d / "ref.jpg", ref),
        "later": write(d / "later.jpg", later),
        "other": write(d / "other.jpg", shoot(canvas(77), 0.0)[0]),
        "h_true": h_true / h_true[2, 2],
        "dir": d,
    }
