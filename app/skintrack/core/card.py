"""The printable calibration card and its detection in photos.

A credit-card-size card (85.6 x 54 mm) carries four ArUco markers (DICT_4X4_50, ids 0-3) near its
corners, white / 18 % grey / black patches, six skin-tone patches of stated sRGB values and a mm
ruler. Taped beside the watched skin, it gives each photo a card-plane homography, a mm scale and a
colour correction measured against known colours, the strongest normalisation Skintrack has.
Pure numpy/OpenCV; the printable PDF is drawn by ``export.card_pdf``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np

if TYPE_CHECKING:
    from skintrack.core.colour import ColourCorrection

CARD_SIZE_MM: tuple[float, float] = (85.6, 54.0)  # ISO/IEC 7810 ID-1, width x height
CARD_LABEL = "Skintrack calibration card — print at 100 %"
ARUCO_DICT = cv2.aruco.DICT_4X4_50
MARKER_SIZE_MM = 12.0  # 6 x 6 modules (4 x 4 bits + 1 border) of 2 mm
MARKER_MODULES = 6
CARD_MARGIN_MM = 3.0
# Marker id -> top-left corner in card millimetres (x right, y down from the card's top-left corner).
MARKERS: dict[int, tuple[float, float]] = {
    0: (CARD_MARGIN_MM, CARD_MARGIN_MM),
    1: (CARD_SIZE_MM[0] - CARD_MARGIN_MM - MARKER_SIZE_MM, CARD_MARGIN_MM),
    2: (CARD_SIZE_MM[0] - CARD_MARGIN_MM - MARKER_SIZE_MM, CARD_SIZE_MM[1] - CARD_MARGIN_MM - MARKER_SIZE_MM),
    3: (CARD_MARGIN_MM, CARD_SIZE_MM[1] - CARD_MARGIN_MM - MARKER_SIZE_MM),
}
MIN_MARKERS = 3
PATCH_SAMPLE_FRACTION = 0.6  # sample the central 60 % of each patch (edges blur and bleed)
MASK_MARGIN_MM = 3.0  # the card mask grows by this much: shadow, tape, the card's edge
CLIP_LEVEL = 250 / 255  # a patch with many pixels at or above this is clipped and not used for fitting

# 18 % reflectance grey: linear 0.18 -> sRGB 0.4613 -> 118 (not the often quoted 119 or 128)
_GREY_18 = round(255 * (1.055 * 0.18 ** (1 / 2.4) - 0.055))


class CardPatch(NamedTuple):
    """A colour patch: its name, the sRGB value it is printed with, and its rectangle in card mm."""

    name: str
    srgb: tuple[int, int, int]
    rect_mm: tuple[float, float, float, float]  # x, y, width, height


def _layout() -> tuple[CardPatch, ...]:
    top_x0, top_w, top_gap = 19.8, 14.0, 2.0  # centred between markers 0 and 1, >= 4.8 mm clear
    neutrals = [("white", (255, 255, 255)), ("grey18", (_GREY_18,) * 3), ("black", (0, 0, 0))]
    skins = [
        ("skin1 very light", (241, 209, 187)),
        ("skin2 light", (224, 183, 153)),
        ("skin3 intermediate", (198, 150, 114)),
        ("skin4 tan", (165, 118, 86)),
        ("skin5 brown", (120, 82, 58)),
        ("skin6 dark", (74, 50, 38)),
    ]
    patches = [
        CardPatch(name, rgb, (top_x0 + i * (top_w + top_gap), CARD_MARGIN_MM, top_w, MARKER_SIZE_MM))
        for i, (name, rgb) in enumerate(neutrals)
    ]
    skin_w, skin_gap, skin_y = 12.0, 1.52, 18.0
    patches += [
        CardPatch(name, rgb, (CARD_MARGIN_MM + i * (skin_w + skin_gap), skin_y, skin_w, 12.0))
        for i, (name, rgb) in enumerate(skins)
    ]
    return tuple(patches)


PATCHES: tuple[CardPatch, ...] = _layout()
RULER_MM: tuple[float, float, float] = (21.0, 51.0, 40.0)  # x start, baseline y, length (0..40 mm)
LABEL_BASELINE_MM = 35.5
LABEL_SIZE_MM = 2.6
WHITE_OUTLINE_MM = 0.25  # a faint frame so the white patch is visible on white paper
CUT_LINE_MM = 0.2


def marker_corners_mm(marker_id: int) -> np.ndarray:
    """The 4 corners (TL, TR, BR, BL: OpenCV's order) of a marker in card millimetres."""
    x, y = MARKERS[marker_id]
    s = MARKER_SIZE_MM
    return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], np.float64)


def card_corners_mm() -> np.ndarray:
    w, h = CARD_SIZE_MM
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)


def _dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(ARUCO_DICT)


def marker_bits(marker_id: int) -> np.ndarray:
    """6 x 6 bool matrix of a marker including its black border; True = white module."""
    img = cv2.aruco.generateImageMarker(_dictionary(), marker_id, MARKER_MODULES)
    return img > 127


def ruler_ticks() -> list[tuple[float, float]]:
    """(x mm, tick length mm) for every millimetre of the ruler."""
    x0, _, length = RULER_MM
    ticks = []
    for i in range(int(length) + 1):
        ticks.append((x0 + i, 3.5 if i % 10 == 0 else (2.5 if i % 5 == 0 else 1.5)))
    return ticks


# --------------------------------------------------------------------------- raster rendering


def render_card_rgb(dpi: float = 300, *, supersample: int = 4) -> np.ndarray:
    """The card as a uint8 RGB image at ``dpi`` (what the PDF prints), used by tests and previews.

    Drawn ``supersample`` times larger and area-averaged, so edges sit at their true sub-pixel
    positions: pixel centre (i, j) is at card mm ((i + 0.5) * 85.6 / width, (j + 0.5) * 54 / height).
    """
    w_px = round(CARD_SIZE_MM[0] * dpi / 25.4)
    h_px = round(CARD_SIZE_MM[1] * dpi / 25.4)
    ss = max(1, int(supersample))
    big_w, big_h = w_px * ss, h_px * ss
    ppx, ppy = big_w / CARD_SIZE_MM[0], big_h / CARD_SIZE_MM[1]
    img = np.full((big_h, big_w, 3), 255, np.uint8)

    def fill(x: float, y: float, w: float, h: float, colour: tuple[int, int, int]) -> None:
        x0, y0 = round(x * ppx), round(y * ppy)
        x1, y1 = round((x + w) * ppx), round((y + h) * ppy)
        img[y0:y1, x0:x1] = colour

    def outline(x: float, y: float, w: float, h: float, width: float, colour: tuple[int, int, int]) -> None:
        fill(x, y, w, width, colour)
        fill(x, y + h - width, w, width, colour)
        fill(x, y, width, h, colour)
        fill(x + w - width, y, width, h, colour)

    for patch in PATCHES:
        fill(*patch.rect_mm, patch.srgb)
        if patch.name == "white":
            outline(*patch.rect_mm, WHITE_OUTLINE_MM, (190, 190, 190))
    module = MARKER_SIZE_MM / MARKER_MODULES
    for marker_id, (mx, my) in MARKERS.items():
        fill(mx, my, MARKER_SIZE_MM, MARKER_SIZE_MM, (0, 0, 0))
        bits = marker_bits(marker_id)
        for r, c in zip(*np.nonzero(bits), strict=True):
            fill(mx + c * module, my + r * module, module, module, (255, 255, 255))
    x0, base, length = RULER_MM
    line = max(1, round(0.15 * ppx))
    fill(x0 - 0.075, base - 0.075, length + 0.15, 0.15, (0, 0, 0))
    for x, tick in ruler_ticks():
        fill(x - 0.075, base - tick, 0.15, tick, (0, 0, 0))
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = 1.8 * ppy / 22.0  # Hershey simplex: ~22 px cap height at scale 1
    for i in range(0, int(length) + 1, 10):
        text = str(i)
        (tw, _), _ = cv2.getTextSize(text, font, scale, line)
        org = (round((x0 + i) * ppx - tw / 2), round((base - 4.3) * ppy))
        cv2.putText(img, text, org, font, scale, (0, 0, 0), line, cv2.LINE_AA)
    org = (round((x0 + length + 2) * ppx), round((base - 0.2) * ppy))
    cv2.putText(img, "mm", org, font, scale, (0, 0, 0), line, cv2.LINE_AA)
    label = CARD_LABEL.replace("—", "-")  # Hershey fonts are ASCII only
    scale = LABEL_SIZE_MM * ppy / 30.0
    (tw, _), _ = cv2.getTextSize(label, font, scale, line)
    org = (round(CARD_SIZE_MM[0] * ppx / 2 - tw / 2), round(LABEL_BASELINE_MM * ppy))
    cv2.putText(img, label, org, font, scale, (0, 0, 0), line, cv2.LINE_AA)
    outline(0, 0, CARD_SIZE_MM[0], CARD_SIZE_MM[1], CUT_LINE_MM, (200, 200, 200))  # cut line
    if ss == 1:
        return img
    return cv2.resize(img, (w_px, h_px), interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------- detection


@dataclass
class CardDetection:
    """Where the card is in a photo and what its patches tell about the light.

    ``homography`` maps card millimetres to image pixels. ``patch_linear`` holds the measured
    linear RGB median of each patch, in PATCHES order (NaN where a patch is outside the image).
    """

    homography: np.ndarray
    mm_per_px: float
    corners: np.ndarray  # card corners TL, TR, BR, BL in image pixels (4, 2)
    marker_ids: list[int]
    reprojection_error_px: float
    patch_linear: np.ndarray  # (len(PATCHES), 3)
    clipped: list[str]
    colour_correction: ColourCorrection | None
    residual_delta_e: float | None
    residual_delta_e_max: float | None
    mask: np.ndarray = field(repr=False)  # uint8 255 on the card (dilated), image size

    def mm_to_px(self, pts_mm: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts_mm, np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, self.homography).reshape(-1, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "homography": self.homography.tolist(),
            "mm_per_px": self.mm_per_px,
            "corners": self.corners.tolist(),
            "marker_ids": list(self.marker_ids),
            "reprojection_error_px": self.reprojection_error_px,
            "patches": {
                p.name: (None if np.isnan(v).any() else [float(x) for x in v])
                for p, v in zip(PATCHES, self.patch_linear, strict=True)
            },
            "clipped": list(self.clipped),
            "colour_matrix": None
            if self.colour_correction is None
            else np.asarray(self.colour_correction.matrix).tolist(),
            "residual_delta_e": self.residual_delta_e,
            "residual_delta_e_max": self.residual_delta_e_max,
        }


def _to_grey_u8(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        arr = np.clip(arr.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return arr
    return cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2GRAY)


def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    params.cornerRefinementWinSize = 5
    params.cornerRefinementMaxIterations = 50
    params.cornerRefinementMinAccuracy = 0.01
    params.minMarkerPerimeterRate = 0.01  # the card may be small in a wide shot
    return cv2.aruco.ArucoDetector(_dictionary(), params)


def detect_markers(grey: np.ndarray, max_side: int = 2000) -> dict[int, np.ndarray]:
    """Corners (4, 2) of card markers 0-3 in full-resolution pixels, sub-pixel refined.

    Large photos are searched at ``max_side`` and the corners refined at full resolution.
    """
    h, w = grey.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    corners, ids, _ = _detector().detectMarkers(small)
    found: dict[int, np.ndarray] = {}
    if ids is None:
        return found
    for quad, marker_id in zip(corners, ids.ravel(), strict=True):
        mid = int(marker_id)
        if mid not in MARKERS:
            continue
        pts = quad.reshape(4, 2).astype(np.float64)
        if scale != 1.0:
            pts = (pts + 0.5) / scale - 0.5
        side = float(np.mean(np.linalg.norm(pts - np.roll(pts, 1, axis=0), axis=1)))
        if mid in found:  # a duplicate id: keep the bigger one (the real card is usually closest)
            old = found[mid]
            if side <= float(np.mean(np.linalg.norm(old - np.roll(old, 1, axis=0), axis=1))):
                continue
        if scale != 1.0:
            win = max(2, min(int(side / MARKER_MODULES / 3), 15))
            criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.01)
            refined = cv2.cornerSubPix(
                grey, pts.astype(np.float32).reshape(-1, 1, 2), (win, win), (-1, -1), criteria
            )
            pts = refined.reshape(4, 2).astype(np.float64)
        found[mid] = pts
    return found


def _local_mm_per_px(H: np.ndarray) -> float:
    """Average scale at the card: sqrt(card area in mm² / card area in px²)."""
    quad = cv2.perspectiveTransform(card_corners_mm().reshape(-1, 1, 2), H).reshape(-1, 2)
    area_px = abs(cv2.contourArea(quad.astype(np.float32)))
    area_mm = CARD_SIZE_MM[0] * CARD_SIZE_MM[1]
    return float(np.sqrt(area_mm / area_px)) if area_px > 0 else float("nan")


def _srgb_float(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype == np.uint8:
        return arr[..., :3].astype(np.float32) / 255.0
    return arr[..., :3].astype(np.float32)


def _sample_patch(
    rgb: np.ndarray, H: np.ndarray, rect_mm: tuple[float, float, float, float]
) -> tuple[np.ndarray | None, float]:
    """Pixels (N, 3) of the central part of a patch, in the image's own encoding, and clip fraction."""
    x, y, w, h = rect_mm
    inset_x, inset_y = w * (1 - PATCH_SAMPLE_FRACTION) / 2, h * (1 - PATCH_SAMPLE_FRACTION) / 2
    quad_mm = np.array(
        [
            [x + inset_x, y + inset_y],
            [x + w - inset_x, y + inset_y],
            [x + w - inset_x, y + h - inset_y],
            [x + inset_x, y + h - inset_y],
        ]
    )
    quad = cv2.perspectiveTransform(quad_mm.reshape(-1, 1, 2), H).reshape(-1, 2)
    return quad_pixels(rgb, quad, CLIP_LEVEL)


def quad_pixels(rgb: np.ndarray, quad: np.ndarray, clip_level: float) -> tuple[np.ndarray | None, float]:
    """sRGB pixels (N, 3, float 0..1) inside an image quadrilateral and the fraction at or above
    ``clip_level`` in any channel; (None, 0) when the quad leaves the image or holds under 4 pixels.
    Shared by the card and the ColorChecker patch samplers."""
    img_h, img_w = rgb.shape[:2]
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    if x0 < 0 or y0 < 0 or x1 > img_w or y1 > img_h:
        return None, 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, np.round((quad - [x0, y0]) * 16).astype(np.int32), 255, cv2.LINE_8, 4)
    pixels = rgb[y0:y1, x0:x1][mask > 0]
    if len(pixels) < 4:
        return None, 0.0
    values = _srgb_float(pixels)
    clipped = float(np.mean(values.max(axis=1) >= clip_level))
    return values, clipped


def _card_mask(shape: tuple[int, int], H: np.ndarray) -> np.ndarray:
    """The card grown by MASK_MARGIN_MM on the card plane (shadow, tape, edge) plus 2 px, as 0/255."""
    m = MASK_MARGIN_MM
    w, h = CARD_SIZE_MM
    grown = np.array([[-m, -m], [w + m, -m], [w + m, h + m], [-m, h + m]], np.float64)
    quad = cv2.perspectiveTransform(grown.reshape(-1, 1, 2), H).reshape(-1, 2)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad * 16).astype(np.int32), 255, cv2.LINE_8, 4)
    return cv2.dilate(mask, np.ones((5, 5), np.uint8))


def _plausible(H: np.ndarray, shape: tuple[int, int]) -> bool:
    """A card quad must be convex, not folded, and not absurdly large."""
    quad = cv2.perspectiveTransform(card_corners_mm().reshape(-1, 1, 2), H).reshape(-1, 2)
    if not cv2.isContourConvex(quad.astype(np.float32)):
        return False
    cross = []
    for i in range(4):
        a, b = quad[(i + 1) % 4] - quad[i], quad[(i + 2) % 4] - quad[(i + 1) % 4]
        cross.append(a[0] * b[1] - a[1] * b[0])
    if not (all(c > 0 for c in cross) or all(c < 0 for c in cross)):
        return False
    return cv2.contourArea(quad.astype(np.float32)) < 4.0 * shape[0] * shape[1]


def detect_card(rgb: np.ndarray, *, fit_colour: bool = True) -> CardDetection | None:
    """Find the card (>= 3 of its 4 markers) in an sRGB image (uint8 or float 0..1); None if absent."""
    from skintrack.core.colour import fit_colour_correction, srgb_to_linear

    grey = _to_grey_u8(rgb)
    markers = detect_markers(grey)
    if len(markers) < MIN_MARKERS:
        return None
    ids = sorted(markers)
    src = np.concatenate([marker_corners_mm(i) for i in ids])
    dst = np.concatenate([markers[i] for i in ids])
    side_px = float(np.mean([np.linalg.norm(markers[i][0] - markers[i][2]) for i in ids])) / np.sqrt(2)
    H, inliers = cv2.findHomography(src, dst, cv2.RANSAC, max(1.0, 0.05 * side_px))
    if H is None or inliers is None or int(inliers.sum()) < 10:
        return None
    keep = inliers.ravel() > 0
    H, _ = cv2.findHomography(src[keep], dst[keep], 0)  # least squares on the consistent corners
    if H is None or not _plausible(H, grey.shape):
        return None
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), H).reshape(-1, 2)
    reproj = float(np.sqrt(np.mean(np.sum((proj - dst) ** 2, axis=1))))
    if reproj > max(2.0, 0.1 * side_px / MARKER_MODULES):
        return None
    mm_per_px = _local_mm_per_px(H)
    corners = cv2.perspectiveTransform(card_corners_mm().reshape(-1, 1, 2), H).reshape(-1, 2)

    patch_linear = np.full((len(PATCHES), 3), np.nan, np.float64)
    clipped: list[str] = []
    for k, patch in enumerate(PATCHES):
        values, clip_fraction = _sample_patch(rgb, H, patch.rect_mm)
        if values is None:
            continue
        patch_linear[k] = np.median(np.asarray(srgb_to_linear(values), np.float64), axis=0)
        if clip_fraction > 0.05:
            clipped.append(patch.name)

    correction = None
    mean_de = max_de = None
    usable = [
        k for k, p in enumerate(PATCHES) if not np.isnan(patch_linear[k]).any() and p.name not in clipped
    ]
    if fit_colour and len(usable) >= 4:
        target = np.asarray(srgb_to_linear(np.array([PATCHES[k].srgb for k in usable], np.float64) / 255.0))
        names = [PATCHES[k].name for k in usable]
        white = names.index("white") if "white" in names else None  # paper white maps exactly: stays neutral
        correction = fit_colour_correction(patch_linear[usable], target, white_index=white)
        mean_de = float(correction.residual_delta_e_mean)
        max_de = float(correction.residual_delta_e_max)

    return CardDetection(
        homography=H,
        mm_per_px=mm_per_px,
        corners=corners,
        marker_ids=ids,
        reprojection_error_px=reproj,
        patch_linear=patch_linear,
        clipped=clipped,
        colour_correction=correction,
        residual_delta_e=mean_de,
        residual_delta_e_max=max_de,
        mask=_card_mask(grey.shape[:2], H),
    )


def patch_targets_linear() -> np.ndarray:
    """The stated colours of PATCHES in linear RGB (N, 3)."""
    from skintrack.core.colour import srgb_to_linear

    return np.asarray(srgb_to_linear(np.array([p.srgb for p in PATCHES], np.float64) / 255.0))
