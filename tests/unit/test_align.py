"""core.align: recovery of known homographies, robustness, refusals and the manual fallback.

Images are generated here: a procedural skin-like texture (multi-scale noise, pores, moles, hairs)
photographed through known homographies, plus pairs from ``skintrack.demo.synth`` when its colour
module is available. ~800 px images keep the file fast.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import pytest

from skintrack.core.align import (
    Alignment,
    align,
    alignment_from_points,
    rescale_homography,
    scale_matrix,
    transfer_error,
    warp_to_reference,
)
from skintrack.progress import CancelToken

W, H = 800, 600


def _smooth_noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Unit-variance Gaussian-correlated noise; coarse scales are made small and upsampled (fast)."""
    f = max(1, int(sigma // 3))
    n = rng.standard_normal((h // f + 2, w // f + 2)).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma / f)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC) if f > 1 else n[:h, :w]
    return n / n.std()


@functools.lru_cache(maxsize=8)
def texture(seed: int, w: int = 2 * W, h: int = 2 * H) -> np.ndarray:
    """Skin-like linear texture (float32 0..1, 3 channels) on a big canvas."""
    rng = np.random.default_rng(seed)
    lum = np.zeros((h, w), np.float32)
    for sigma, amp in ((50, 0.06), (12, 0.03), (3, 0.025), (1.0, 0.015)):
        lum += amp * _smooth_noise(rng, h, w, sigma)
    for _ in range(900):  # pores
        cv2.circle(lum, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), 1, -0.08, -1)
    for _ in range(6):  # moles
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        cv2.ellipse(lum, c, (int(rng.uniform(5, 12)), int(rng.uniform(4, 10))), 30, 0, 360, -0.25, -1)
    for _ in range(150):  # hairs
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a = 0.6 + rng.normal(0, 0.3)
        L = rng.uniform(15, 45)
        cv2.line(lum, (int(x), int(y)), (int(x + L * math.cos(a)), int(y + L * math.sin(a))), -0.2, 1)
    lum = cv2.GaussianBlur(lum, (0, 0), 0.7)
    base = np.clip(0.35 + lum, 0.02, 1.0)
    out = np.stack([base * 1.0, base * 0.72, base * 0.58], axis=-1).astype(np.float32)
    out.flags.writeable = False  # cached: callers copy before changing it
    return out


def pose(rot: float = 0.0, scale: float = 1.0, shift=(0.0, 0.0), tilt=(0.0, 0.0)) -> np.ndarray:
    """Canvas -> photo homography: photo centre looks at canvas centre + shift."""
    cw, ch = 2 * W, 2 * H
    t_c = np.array([[1, 0, -(cw - 1) / 2 - shift[0]], [0, 1, -(ch - 1) / 2 - shift[1]], [0, 0, 1]])
    th = math.radians(rot)
    rs = np.array(
        [
            [scale * math.cos(th), -scale * math.sin(th), 0],
            [scale * math.sin(th), scale * math.cos(th), 0],
            [0, 0, 1],
        ]
    )
    p = np.array([[1, 0, 0], [0, 1, 0], [tilt[0], tilt[1], 1]])
    t_p = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
    h = t_p @ p @ rs @ t_c
    return h / h[2, 2]


def photo(
    canvas: np.ndarray,
    h: np.ndarray,
    *,
    gain: float = 1.0,
    gradient=(0.0, 0.0),
    blur: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    img = cv2.warpPerspective(canvas, h, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0.05, 0.05, 0.05))
    x = np.linspace(-0.5, 0.5, W, dtype=np.float32)[None, :]
    y = np.linspace(-0.5, 0.5, H, dtype=np.float32)[:, None]
    img = img * (gain * (1 + gradient[0] * x + gradient[1] * y))[..., None]
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    srgb = np.where(img <= 0.0031308, 12.92 * img, 1.055 * np.power(np.clip(img, 0, None), 1 / 2.4) - 0.055)
    noise = np.random.default_rng(seed).normal(0, 1.2, srgb.shape)
    return np.clip(srgb * 255 + noise, 0, 255).round().astype(np.uint8)


def make(seed: int = 0, later_h: np.ndarray | None = None, canvas_later=None, **kw) -> tuple:
    canvas = texture(seed)
    h_ref = pose(2.0, 1.0)
    h_mov = later_h if later_h is not None else pose()
    ref = photo(canvas, h_ref, seed=1)
    mov = photo(canvas if canvas_later is None else canvas_later, h_mov, seed=2, **kw)
    h_true = h_ref @ np.linalg.inv(h_mov)
    return ref, mov, h_true / h_true[2, 2]


def check_ok(ref, mov, h_true, limit: float = 0.5, **kw) -> Alignment:
    a = align(ref, mov, **kw)
    assert a.ok, a.message
    assert a.method in ("features", "ecc")
    err = transfer_error(a.homography, h_true, ref.shape)
    assert err < limit, f"transfer error {err:.3f} px; {a.message}"
    assert 0.0 < a.quality <= 1.0
    return a


def test_exact_recovery_of_known_homography() -> None:
    ref, mov, h_true = make(1, pose(8.0, 1.1, (40, -25), (5e-5, -4e-5)))
    a = check_ok(ref, mov, h_true, limit=0.3)
    assert a.method == "ecc"
    assert a.quality > 0.7
    assert a.inliers >= 50


@pytest.mark.parametrize("rot", [-30.0, 30.0])
def test_rotation(rot: float) -> None:
    check_ok(*make(2, pose(rot, 1.0, (20, 10))))


@pytest.mark.parametrize("scale", [0.75, 1.33])
def test_scale(scale: float) -> None:
    check_ok(*make(3, pose(-5.0, scale, (-15, 20))))


@pytest.mark.parametrize(
    ("scale", "limit"),
    [(2.0, 0.5), (2.5, 0.5), (2.7, 0.5), (0.5, 1.0), (0.4, 1.0)],
    ids=["close-up-2x", "close-up-2.5x", "close-up-2.7x", "overview-0.5x", "overview-0.4x"],
)
def test_close_ups_and_overviews_of_the_same_patch(scale: float, limit: float) -> None:
    """From 0.4x to 2.5x the reference's scale (and a 2.7x close-up): matched at the coarser
    resolution, transfer error in reference px (an overview is coarser, so its limit is wider)."""
    a = check_ok(*make(16, pose(-4.0, scale, (12, -8))), limit=limit)
    assert "apart in scale" in a.message


def test_implausible_scale_is_still_refused() -> None:
    ref, _, _ = make(17)
    _, mov, _ = make(17, pose(3.0, 4.0, (0, 0)))  # a 4x close-up: beyond what is believable
    a = align(ref, mov)
    assert not a.ok and a.homography is None, a.message


@pytest.mark.parametrize("scale", [2.5, 0.4])
def test_unrelated_close_ups_and_overviews_are_refused(scale: float) -> None:
    ref, _, _ = make(18)
    _, other, _ = make(19, pose(10.0, scale, (5, 5)))
    a = align(ref, other)
    assert not a.ok and a.homography is None, a.message


def test_close_up_is_warped_at_the_coarser_resolution() -> None:
    """A 2.5x close-up warped into the reference is area-averaged, not point-sampled: detail finer
    than the reference resolves (here strong pixel noise) averages out instead of aliasing."""
    ref, mov, h_true = make(20, pose(2.0, 2.5, (0, 0)))
    fine = np.random.default_rng(5).normal(0, 10, mov.shape)
    mov = np.clip(mov + fine, 0, 255).astype(np.uint8)
    warped, valid = warp_to_reference(mov, h_true, ref.shape)
    naive = cv2.warpPerspective(mov, h_true, (W, H), flags=cv2.INTER_LINEAR)
    inner = cv2.erode(valid.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    assert inner.mean() > 0.1

    def error(img: np.ndarray) -> float:
        return float(np.abs(img.astype(float) - ref.astype(float)).mean(axis=2)[inner].mean())

    assert error(warped) < 0.8 * error(naive)
    assert valid.sum() < (cv2.warpPerspective(np.ones(mov.shape[:2], np.uint8), h_true, (W, H)) > 0).sum()


def test_perspective_tilt() -> None:
    check_ok(*make(4, pose(10.0, 0.95, (0, 0), (1.5e-4, -1.2e-4))))


def test_lighting_gain_gradient_and_blur() -> None:
    check_ok(*make(5, pose(-12.0, 1.05, (30, 0)), gain=0.7, gradient=(0.4, -0.3), blur=1.5), limit=0.6)


def test_changed_lesion_between_dates() -> None:
    canvas = texture(6)
    later = canvas.copy()
    cv2.circle(later, (W + 40, H - 30), 70, (0.12, 0.08, 0.06), -1)  # a big dark new patch
    ref, mov, h_true = make(6, pose(15.0, 1.1, (10, 10)), canvas_later=later)
    check_ok(ref, mov, h_true)


def test_fifty_percent_overlap() -> None:
    ref, mov, h_true = make(7, pose(0.0, 1.0, (0.42 * W, 0.2 * H)))
    from skintrack.core.align import overlap_fraction

    frac = overlap_fraction(h_true, ref.shape, mov.shape)
    assert 0.4 < frac < 0.6
    check_ok(ref, mov, h_true)


def test_exclude_mask_and_float_input() -> None:
    ref, mov, h_true = make(8, pose(5.0, 1.0, (10, 5)))
    excl = np.zeros(ref.shape[:2], np.uint8)
    excl[200:400, 300:500] = 255
    check_ok(ref.astype(np.float32) / 255, mov.astype(np.float32) / 255, h_true, exclude_mask=excl)


def test_different_resolutions_scale_exactly() -> None:
    ref, mov, h_true = make(9, pose(3.0, 1.0, (15, -10)))
    small = cv2.resize(mov, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    a = align(ref, small)
    assert a.ok, a.message
    h_true_small = h_true @ np.linalg.inv(scale_matrix(0.5, 0.5))
    assert transfer_error(a.homography, h_true_small, ref.shape, small.shape) < 0.5


def test_unrelated_images_are_refused() -> None:
    ref, _, _ = make(10)
    other, _, _ = make(11)
    a = align(ref, other)
    assert not a.ok
    assert a.homography is None
    assert a.method == "none"
    assert "no trustworthy alignment" in a.message


def test_flat_and_tiny_images_are_refused() -> None:
    flat = np.full((H, W, 3), 128, np.uint8)
    ref, _, _ = make(12)
    assert not align(ref, flat).ok
    assert not align(ref[:20, :20], ref[:20, :20]).ok


def test_cancel() -> None:
    from skintrack.errors import Cancelled

    token = CancelToken()
    token.cancel()
    ref, mov, _ = make(13)
    with pytest.raises(Cancelled):
        align(ref, mov, cancel=token)


def test_rescale_homography_is_exact_for_pixel_centres() -> None:
    s = scale_matrix(0.5, 0.5)
    # pixel 0 and 1 of the full image average into pixel 0 of the half image, centred at 0.5 full px
    assert np.allclose(s @ [0.5, 0.5, 1.0], [0.0, 0.0, 1.0])
    h = np.array([[1.1, 0.05, 7.0], [-0.04, 0.95, -3.0], [1e-5, -2e-5, 1.0]])
    hw = s @ h @ np.linalg.inv(s)
    assert np.allclose(rescale_homography(hw, s, s), h / h[2, 2])


def test_manual_points() -> None:
    rng = np.random.default_rng(0)
    h_true = pose(12.0, 1.1, (20, 30), (3e-5, 0)) @ np.linalg.inv(pose())
    mov = rng.uniform([50, 50], [750, 550], (6, 2))
    p = np.c_[mov, np.ones(6)] @ h_true.T
    ref = p[:, :2] / p[:, 2:]
    a = alignment_from_points(ref, mov)
    assert a.ok and a.method == "manual" and a.inliers == 6
    assert transfer_error(a.homography, h_true, (H, W)) < 1e-3
    assert "RMS 0.00 px" in a.message
    noisy = alignment_from_points(ref + rng.normal(0, 1.0, ref.shape), mov)
    assert noisy.ok and noisy.quality < a.quality
    assert not alignment_from_points(ref[:3], mov[:3]).ok
    line = np.array([[0, 0], [10, 10], [20, 20], [30, 30]], float)
    assert not alignment_from_points(line, line).ok
    bad = ref.copy()
    bad[0] += 200
    assert not alignment_from_points(bad, mov).ok  # a mis-clicked pair is reported, not absorbed
    mirrored = alignment_from_points(mov * [-1, 1] + [800, 0], mov)
    assert not mirrored.ok


def test_warp_to_reference_and_json_round_trip() -> None:
    ref, mov, h_true = make(14, pose(0.0, 1.0, (100, 0)))
    warped, valid = warp_to_reference(mov, h_true, ref.shape)
    assert warped.shape == ref.shape and valid.dtype == bool
    assert 0.6 < valid.mean() < 0.95
    # inside the valid area the warped later photo matches the reference
    diff = np.abs(warped.astype(float) - ref.astype(float)).mean(axis=2)
    assert np.median(diff[valid]) < 6
    raw = cv2.warpPerspective(np.ones(mov.shape[:2], np.uint8), h_true, (W, H), flags=cv2.INTER_NEAREST)
    assert not (valid & (raw == 0)).any() and valid.sum() < raw.sum()  # eroded border
    a = Alignment(True, h_true, 0.9, "ecc", 120, "fine")
    j = a.to_json()
    assert set(j) == {"ok", "homography", "quality", "method", "inliers", "message"}
    b = Alignment.from_json(j)
    assert np.allclose(b.homography, h_true) and b.ok and b.method == "ecc"


try:
    from skintrack.demo import synth
except ImportError:  # core.colour not there yet
    synth = None


@pytest.mark.skipif(synth is None, reason="skintrack.demo.synth needs core.colour")
@pytest.mark.parametrize(
    "kw",
    [
        {"later_pose": "rot", "blur": 1.2, "speculars": 30},
        {"later_pose": "scale", "change": "brown", "lesion_growth": 2.0, "hair_density": 1.5},
    ],
)
def test_synthetic_skin_pairs(kw: dict) -> None:
    poses = {
        "rot": synth.Pose(-25.0, 1.1, 1e-4, -8e-5, (60.0, -40.0)),
        "scale": synth.Pose(18.0, 0.78, -6e-5, 0.0, (-50.0, 30.0)),
    }
    kw = dict(kw)
    kw["later_pose"] = poses[kw["later_pose"]]
    if kw.get("change"):
        kw["change"] = synth.Darkening(-8.0, kw["change"])
    pair = synth.make_pair(seed=21, size=(W, H), **kw)
    check_ok(pair.reference, pair.later, pair.h_later_to_reference, limit=0.6)


def test_card_anchor_when_skin_features_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    import skintrack.core.align_features as features

    ref, mov, h_true = make(15, pose(6.0, 1.05, (20, -10)))
    monkeypatch.setattr(features, "_match", lambda *a, **k: "too few matching details (0)")
    assert not align(ref, mov).ok
    nudge = np.array([[1, 0, 0.8], [0, 1, -0.6], [0, 0, 1.0]])  # card corners are a little off
    a = align(ref, mov, card_homography=nudge @ h_true)
    assert a.ok and a.method == "card", a.message
    assert transfer_error(a.homography, h_true, ref.shape) < 0.3  # ECC polished it on the skin
    # a card that moved relative to the skin between the dates must not be trusted
    moved = np.array([[1, 0, 40.0], [0, 1, 25.0], [0, 0, 1.0]]) @ h_true
    b = align(ref, mov, card_homography=moved)
    assert not b.ok and b.homography is None, b.message


def test_alignment_from_homography() -> None:
    from skintrack.core.align import alignment_from_homography

    h = pose(5.0, 1.1, (10, 5)) @ np.linalg.inv(pose())
    a = alignment_from_homography(h, (H, W), (H, W))
    assert a.ok and a.method == "manual" and np.allclose(a.homography, h / h[2, 2])
    assert not alignment_from_homography(np.diag([4.0, 4.0, 1.0]), (H, W), (H, W)).ok
    assert not alignment_from_homography(np.diag([-1.0, 1.0, 1.0]), (H, W), (H, W)).ok


def test_sift_nearest_neighbours_match_the_brute_force_matcher_exactly() -> None:
    from skintrack.core.align_features import _knn2

    rng = np.random.default_rng(3)
    train = rng.integers(0, 120, (700, 128)).astype(np.float32)
    query = np.vstack([train[:200] + rng.integers(-3, 4, (200, 128)), rng.integers(0, 120, (300, 128))])
    query = np.clip(query, 0, 255).astype(np.float32)
    query[5] = train[7]  # an exact copy: distance 0
    train[9] = train[8]  # a tie for the nearest: the ratio test must refuse it
    query[6] = train[8]
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(query, train, k=2)
    nearest, d1, d2 = _knn2(query, train, cv2.NORM_L2)
    assert np.array_equal(d1, np.float32([p[0].distance for p in pairs]))
    assert np.array_equal(d2, np.float32([p[1].distance for p in pairs]))
    unique = d1 < d2
    assert np.array_equal(nearest[unique], np.array([p[0].trainIdx for p in pairs])[unique])
    assert d1[5] == 0 and d1[6] == d2[6]
    # descriptors that are not whole numbers go to OpenCV's matcher
    nearest_f, d1_f, _ = _knn2(query + 0.25, train, cv2.NORM_L2)
    pairs_f = cv2.BFMatcher(cv2.NORM_L2).knnMatch(query + 0.25, train, k=2)
    assert np.array_equal(nearest_f, [p[0].trainIdx for p in pairs_f])
    assert np.array_equal(d1_f, np.float32([p[0].distance for p in pairs_f]))


def test_features_of_an_image_seen_before_come_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from skintrack.core import align_features

    ref, mov, _ = make(11, pose(5.0, 1.0, (15, -10)))
    first = align(ref, mov)
    assert first.ok
    calls: list[int] = []
    compute = align_features._compute

    def counted(name: str, img: np.ndarray, mask: np.ndarray | None) -> object:
        calls.append(img.size)
        return compute(name, img, mask)

    monkeypatch.setattr(align_features, "_compute", counted)
    again = align(ref, mov)  # both photos seen: nothing is detected again
    assert calls == [] and again.ok and np.allclose(again.homography, first.homography)
    ref_again, other, _ = make(11, pose(-4.0, 1.0, (-10, 5)))
    assert np.array_equal(ref_again, ref)
    assert align(ref_again, other).ok
    assert len(calls) == 1  # the reference's features are reused, only the new photo's are computed
