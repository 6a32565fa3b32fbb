"""Frames for image exports: aligned, normalised crops of one region with the date burnt in.

Every frame is in the geometry of the region's reference photo and cropped to the same box
(the watched area with a margin, else the whole photo), so a timelapse does not jump. The
pixels, the change map and the metrics come from a ``FrameSource`` that the export service builds
on the measurement pipeline: the same pipeline as the app and the CLI, with the library's
settings and the region's areas.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from skintrack.core import formatting
from skintrack.core.change import ChangeResult
from skintrack.core.heatmap import heatmap_image
from skintrack.core.images import filter_exif
from skintrack.export.plan import ExportPlan, PlannedPhoto
from skintrack.library.db import Library
from skintrack.library.models import Region
from skintrack.progress import CancelToken

log = logging.getLogger(__name__)

GREY = (128, 128, 128)
CAPTION_BG = (20, 20, 20)
CAPTION_FG = (245, 245, 245)
WARN_FG = (255, 190, 90)
WORK_OVERSAMPLE = 1.25  # analysis long side <= 1.25 x frame size: export speed over sharp tight crops
CROP_MARGIN = 0.35


@dataclass
class Aligned:
    """One photo in reference geometry at working scale (uint8 RGB)."""

    rgb: np.ndarray
    valid: np.ndarray | None  # bool, same size; None = all valid
    ok: bool
    quality: float | None = None
    method: str = ""
    message: str = ""
    change: ChangeResult | None = None
    normalised: bool = False
    metrics: dict[str, Any] | None = None  # as the analysis stores them (reference px)


@dataclass
class Frame:
    """A finished frame: ``image`` has the caption bar; ``picture`` is the crop without it."""

    photo_id: int
    taken_at: datetime
    is_reference: bool
    image: np.ndarray
    picture: np.ndarray
    heatmap: np.ndarray | None
    metrics: dict[str, Any] | None
    aligned: bool
    alignment_quality: float | None
    alignment_method: str
    normalised: bool
    exif: bytes | None = None
    notes: list[str] = field(default_factory=list)
    heatmap_full: np.ndarray | None = None  # whole reference frame with legend (PDF report)

    @property
    def caption(self) -> str:
        return caption_text(self)


# --------------------------------------------------------------------------- helpers


def as_uint8(img: np.ndarray) -> np.ndarray:
    """0..1 floats (or uint8 already) -> uint8."""
    arr = np.asarray(img)
    if arr.dtype == np.uint8:
        return arr
    return np.clip(np.rint(arr.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)


def resize_long(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if abs(scale - 1.0) < 1e-6:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interp)


@functools.lru_cache(maxsize=1)
def _font_file() -> str | None:
    """DejaVu Sans from matplotlib's data (has Δ, ², °); no system font lookups: same output everywhere."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    except ImportError:
        return None
    return str(path) if path.is_file() else None


@functools.lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file()
    try:
        if path is not None:
            return ImageFont.truetype(path, size)
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def crop_box(region: Region, ref_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in reference pixels: the watched area plus a margin, else the whole photo."""
    w, h = ref_size
    polys = region.watched_area or []
    pts = [pt for poly in polys for pt in poly]
    if len(pts) < 3:
        return 0.0, 0.0, float(w), float(h)
    arr = np.asarray(pts, np.float64)
    x0, y0 = arr.min(axis=0)
    x1, y1 = arr.max(axis=0)
    mx = max((x1 - x0) * CROP_MARGIN, 0.05 * w)
    my = max((y1 - y0) * CROP_MARGIN, 0.05 * h)
    x0, x1 = max(0.0, x0 - mx), min(float(w), x1 + mx)
    y0, y1 = max(0.0, y0 - my), min(float(h), y1 + my)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return 0.0, 0.0, float(w), float(h)
    return float(x0), float(y0), float(x1), float(y1)


def metric(metrics: dict[str, Any] | None, key: str) -> float | None:
    if not metrics:
        return None
    try:
        value = float(metrics.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(value) else value


def patch_depth(metrics: dict[str, Any] | None) -> float | None:
    """Area-weighted mean ΔL* of the darkened patches (None without patches): the change itself,
    where the mean over the whole compared area dilutes it."""
    patches = (metrics or {}).get("patches") or []
    total = weighted = 0.0
    for p in patches:
        area = metric(p, "area_px") or 0.0
        dl = metric(p, "mean_delta_L")
        if area > 0 and dl is not None:
            total += area
            weighted += area * dl
    return weighted / total if total else None


def caption_text(frame: Frame) -> str:
    day = frame.taken_at.date().isoformat()
    if frame.is_reference:
        return f"{day}  reference"
    if not frame.aligned:
        return f"{day}  not aligned"
    dl = metric(frame.metrics, "mean_delta_L")
    if dl is None:
        return day
    noise = metric(frame.metrics, "noise_delta_L")
    noise_txt = f" (noise {formatting.number(noise)})" if noise is not None else ""
    depth = patch_depth(frame.metrics)
    frac = metric(frame.metrics, "darkened_fraction")
    if depth is not None and frac:
        share = formatting.number(100 * frac)
        return f"{day}  darker patches ΔL* {formatting.signed(depth)} over {share} %{noise_txt}"
    return f"{day}  ΔL* {formatting.signed(dl)}{noise_txt}"


def add_caption(img: np.ndarray, text: str, *, warn: bool = False) -> np.ndarray:
    """The picture with a dark caption bar below it (the picture itself is not covered)."""
    h, w = img.shape[:2]
    size = max(11, min(48, round(max(w, h) / 28)))
    bar = round(size * 1.7)
    canvas = Image.new("RGB", (w, h + bar), CAPTION_BG)
    canvas.paste(Image.fromarray(img), (0, 0))
    draw = ImageDraw.Draw(canvas)
    f = font(size)
    # shrink the text if the frame is narrow
    while size > 9 and draw.textlength(text, font=f) > w - size:
        size -= 1
        f = font(size)
    draw.text((size // 2, h + bar // 2), text, font=f, fill=WARN_FG if warn else CAPTION_FG, anchor="lm")
    return np.asarray(canvas)


def fit_into(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Letterbox ``img`` into width x height on grey (for photos that could not be aligned)."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    small = cv2.resize(
        img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    out = np.full((height, width, 3), GREY, np.uint8)
    y, x = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


TAG_ORIENTATION = 0x0112


def original_exif(path: Path, *, keep_gps: bool = False, keep_identifying: bool = False) -> bytes | None:
    """The original's EXIF (only read when the user opted in), orientation reset: our pixels are
    upright. Identifying tags and GPS are dropped unless asked for (see ``filter_exif``)."""
    try:
        with Image.open(path) as im:
            data = im.getexif()
            if not len(data):
                return None
            data.get_ifd(0x8769)  # load the sub-IFDs (EXIF, GPS) so tobytes() keeps them
            data.get_ifd(0x8825)
            if data.get(TAG_ORIENTATION, 1) != 1:
                data[TAG_ORIENTATION] = 1
            raw = data.tobytes()
    except (OSError, SyntaxError, ValueError):
        return None
    return filter_exif(raw, keep_gps=keep_gps, keep_identifying=keep_identifying)


def encode_jpeg(img: np.ndarray, quality: int = 88, exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    params: dict[str, Any] = {"quality": quality}
    if exif:
        params["exif"] = exif
    Image.fromarray(img).save(buf, format="JPEG", **params)
    return buf.getvalue()


# --------------------------------------------------------------------------- alignment source


class FrameSource(Protocol):
    """Where frames come from: the measurement pipeline, supplied by ``services.export``."""

    def measurement_version(self) -> str:
        """The version string a stored measurement of the plan's region must carry to be current."""
        ...

    def aligned(self, photo_id: int, max_side: int, *, pixels_only: bool) -> Aligned:
        """``photo_id`` in the reference geometry (``ok=False`` when it cannot be aligned)."""
        ...


def heatmap_of(change: ChangeResult | None, base: np.ndarray, *, legend: bool = False) -> np.ndarray | None:
    if change is None:
        return None
    try:
        return as_uint8(heatmap_image(change, base_rgb=base, alpha=0.6, legend=legend))
    except Exception:
        log.warning("heatmap for an export frame failed", exc_info=True)
        return None


# --------------------------------------------------------------------------- renderer


class FrameRenderer:
    """Renders the frames of one plan; keeps the crop box and frame size identical for all."""

    def __init__(
        self,
        lib: Library,
        plan: ExportPlan,
        source: FrameSource,
        *,
        heatmap: bool | None = None,
        full_heatmap_ids: Collection[int] = (),
    ) -> None:
        self.lib = lib
        self.source = source
        self.plan = plan
        self.heatmap = plan.options.heatmap if heatmap is None else heatmap
        self.full_heatmap_ids = set(full_heatmap_ids)
        self.size = int(plan.options.size)
        region = lib.region(plan.region_id)
        ref_id = plan.frame_reference_id
        self.reference_id = ref_id
        ref = lib.photo(ref_id)
        self.ref_size = (int(ref.width), int(ref.height))
        self.box = crop_box(region, self.ref_size)
        box_long = max(self.box[2] - self.box[0], self.box[3] - self.box[1])
        full_long = max(self.ref_size)
        want = self.size * full_long / box_long  # the crop at full frame size
        self.work_side = int(min(full_long, max(self.size, min(want, self.size * WORK_OVERSAMPLE))))
        bw, bh = self.box[2] - self.box[0], self.box[3] - self.box[1]
        scale = self.size / max(bw, bh)
        self._out_wh = (max(2, round(bw * scale)), max(2, round(bh * scale)))  # same for every frame
        self.version = source.measurement_version()

    def _crop(self, img: np.ndarray) -> np.ndarray:
        sx = img.shape[1] / self.ref_size[0]
        sy = img.shape[0] / self.ref_size[1]
        x0, y0, x1, y1 = self.box
        c = img[
            round(y0 * sy) : max(round(y0 * sy) + 1, round(y1 * sy)),
            round(x0 * sx) : max(round(x0 * sx) + 1, round(x1 * sx)),
        ]
        shrink = c.shape[1] > self._out_wh[0]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return cv2.resize(np.ascontiguousarray(c), self._out_wh, interpolation=interp)

    def _stored(self, photo_id: int) -> dict[str, Any] | None:
        """The stored measurement while it is current (same settings, areas and algorithms)."""
        rec = self.lib.measurement(photo_id, self.reference_id)
        if rec is not None and rec.algorithm_version == self.version:
            return dict(rec.metrics)
        return None

    def render(self, planned: PlannedPhoto, token: CancelToken | None = None) -> Frame:
        if token is not None:
            token.raise_if_cancelled()
        stored = None if planned.is_reference else self._stored(planned.photo_id)
        wants_change = self.heatmap or planned.photo_id in self.full_heatmap_ids
        al = self.source.aligned(
            planned.photo_id, self.work_side, pixels_only=stored is not None and not wants_change
        )
        notes: list[str] = []
        if al.ok:
            picture = self._crop(al.rgb)
        else:
            picture = fit_into(al.rgb, *self._out_wh)
            notes.append(f"not aligned: {al.message}")
        heat = heat_full = None
        if self.heatmap and al.ok and not planned.is_reference:
            full = heatmap_of(al.change, al.rgb)  # no legend: a crop would cut it
            if full is not None:
                heat = self._crop(cv2.resize(full, (al.rgb.shape[1], al.rgb.shape[0])))
            else:
                notes.append("heatmap unavailable")
        if planned.photo_id in self.full_heatmap_ids and al.ok and not planned.is_reference:
            heat_full = heatmap_of(al.change, al.rgb, legend=True)
        metrics = stored if stored is not None else al.metrics
        exif = None
        options = self.plan.options
        if options.carries_exif:
            exif = original_exif(
                self.lib.original_path(self.lib.photo(planned.photo_id)),
                keep_gps=options.keeps_gps,
                keep_identifying=options.keep_identifying_exif,
            )
        frame = Frame(
            photo_id=planned.photo_id,
            taken_at=planned.taken_at,
            is_reference=planned.is_reference,
            image=picture,
            picture=picture,
            heatmap=heat,
            metrics=metrics,
            aligned=al.ok,
            alignment_quality=al.quality,
            alignment_method=al.method,
            normalised=al.normalised,
            exif=exif,
            notes=notes,
            heatmap_full=heat_full,
        )
        shown = heat if heat is not None else picture
        frame.image = add_caption(shown, caption_text(frame), warn=not al.ok)
        return frame
