"""Contact sheet: the region's aligned crops in date order on one image, labelled with metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from skintrack import NOT_A_DIAGNOSIS
from skintrack.export.frames import Frame, font, metric, patch_depth, resize_long

BG = (250, 250, 250)
FG = (25, 25, 25)
MUTED = (95, 95, 95)
WARN = (170, 60, 0)
PAD = 14
MAX_TILE = 420


def metrics_line(frame: Frame) -> str:
    """Key metrics with units, e.g. ``ΔL* -2.1 · Δb* -0.8 · 1.2 % darker · noise 0.4``."""
    if frame.is_reference:
        return "reference"
    if not frame.aligned:
        return "not aligned: no measurement"
    m = frame.metrics
    if not m:
        return "not measured yet"
    parts = []
    depth = patch_depth(m)
    if depth is not None:
        parts.append(f"patches ΔL* {depth:+.1f}")
    for key, label in (("mean_delta_L", "ΔL*"), ("mean_delta_b", "Δb*")):
        v = metric(m, key)
        if v is not None:
            parts.append(f"{'mean ' if depth is not None and key == 'mean_delta_L' else ''}{label} {v:+.1f}")
    mm2 = metric(m, "darkened_area_mm2")
    frac = metric(m, "darkened_fraction")
    if mm2 is not None:
        parts.append(f"{mm2:.0f} mm² darker")
    elif frac is not None:
        parts.append(f"{100 * frac:.1f} % darker")
    noise = metric(m, "noise_delta_L")
    if noise is not None:
        parts.append(f"noise {noise:.1f}")
    return " · ".join(parts) or "no metrics"


def _wrap(draw: ImageDraw.ImageDraw, text: str, f: object, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=f) <= width or not line:  # type: ignore[arg-type]
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def render_contact_sheet(
    frames: Sequence[Frame], *, title: str, subtitle: str = "", tile: int = MAX_TILE
) -> np.ndarray:
    """One RGB image: a title, a grid of tiles (crop, heatmap beside it when present), the notice."""
    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    with_heat = any(f.heatmap is not None for f in frames)
    pics = [resize_long(f.picture, tile) for f in frames]
    th, tw = pics[0].shape[:2]
    cell_w = tw * (2 if with_heat else 1) + (PAD if with_heat else 0)
    cols = max(1, min(len(frames), 2 if with_heat else 4, math.ceil(math.sqrt(len(frames)))))
    rows = math.ceil(len(frames) / cols)
    fs = max(12, tile // 22)
    label_h = int(fs * 3.2)
    width = PAD + cols * (cell_w + PAD)
    head_h = int(fs * 4.2)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    notice = _wrap(probe, NOT_A_DIAGNOSIS, font(fs - 2), width - 2 * PAD)
    foot_h = int((fs + 4) * len(notice)) + PAD
    height = head_h + rows * (th + label_h + PAD) + foot_h
    sheet = Image.new("RGB", (width, height), BG)
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, PAD), title, font=font(int(fs * 1.5)), fill=FG)
    if subtitle:
        draw.text((PAD, PAD + int(fs * 2.0)), subtitle, font=font(fs), fill=MUTED)
    for i, (frame, pic) in enumerate(zip(frames, pics, strict=True)):
        r, c = divmod(i, cols)
        x = PAD + c * (cell_w + PAD)
        y = head_h + r * (th + label_h + PAD)
        if pic.shape[:2] != (th, tw):
            pic = np.asarray(Image.fromarray(pic).resize((tw, th)))
        sheet.paste(Image.fromarray(pic), (x, y))
        if frame.heatmap is not None:
            heat = np.asarray(Image.fromarray(frame.heatmap).resize((tw, th)))
            sheet.paste(Image.fromarray(heat), (x + tw + PAD, y))
        day = frame.taken_at.date().isoformat()
        draw.text((x, y + th + 4), day, font=font(fs), fill=FG)
        line = metrics_line(frame)
        f = font(fs - 1)
        while draw.textlength(line, font=f) > cell_w and f.size > 8:  # type: ignore[union-attr]
            f = font(f.size - 1)  # type: ignore[union-attr]
        draw.text((x, y + th + 4 + int(fs * 1.35)), line, font=f, fill=MUTED if frame.aligned else WARN)
    y = height - foot_h + PAD // 2
    for line in notice:
        draw.text((PAD, y), line, font=font(fs - 2), fill=MUTED)
        y += fs + 4
    return np.asarray(sheet)
