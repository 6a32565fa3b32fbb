"""The one export service behind the CLI and the export dialog.

``run_export`` is a generator (progress, cancel between steps). It writes to a temporary name
in the target folder and renames at the very end, so a cancelled or failed export leaves
neither a half-written file nor a temp file behind.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skintrack import NOT_A_DIAGNOSIS
from skintrack.core.fsutil import (
    PRIVATE_FILE_MODE,
    fsync_dir,
    open_private,
    remove_stale_temps,
    temp_path_for,
)
from skintrack.export.frame_sink import FrameSink
from skintrack.export.plan import ExportPlan, check_out_path
from skintrack.library.db import Library
from skintrack.progress import CancelToken, Progress

if TYPE_CHECKING:
    import numpy as np

    from skintrack.export.frames import Frame

RENDER_THREADS = max(1, min(2, os.cpu_count() or 1))

Writer = Callable[[Library, ExportPlan, list["Frame"], Path, Path], None]


def _title(plan: ExportPlan) -> str:
    return f"{plan.region_name}" + (f" — {plan.body_site}" if plan.body_site else "")


def _write_contact_sheet(lib: Library, plan: ExportPlan, frames: list[Frame], tmp: Path, out: Path) -> None:
    from PIL import Image

    from skintrack.export.contact_sheet import MAX_TILE, render_contact_sheet

    sheet = render_contact_sheet(
        frames,
        title=_title(plan),
        subtitle=f"{len(frames)} check-ins, {plan.date_range_text()} · aligned to the reference photo",
        tile=min(MAX_TILE, plan.options.size),
    )
    fmt = "PNG" if out.suffix.lower() == ".png" else "JPEG"
    params: dict[str, Any] = {"quality": 90} if fmt == "JPEG" else {"compress_level": 6}
    Image.fromarray(sheet).save(tmp, format=fmt, **params)  # no EXIF: a composite has none


def _open_gif(plan: ExportPlan, tmp: Path, out: Path) -> FrameSink:
    from skintrack.export.gif import GifWriter

    return GifWriter(tmp, plan.options.frame_ms, len(plan.photos), spool_dir=out.parent)


def _open_mp4(plan: ExportPlan, tmp: Path, out: Path) -> FrameSink:
    from skintrack.export.mp4 import Mp4Writer

    return Mp4Writer(tmp, plan.options.frame_ms)


def _write_pdf(lib: Library, plan: ExportPlan, frames: list[Frame], tmp: Path, out: Path) -> None:
    from skintrack.export.pdf_report import write_pdf

    write_pdf(lib, plan, frames, tmp)


def _write_csv(lib: Library, plan: ExportPlan, frames: list[Frame], tmp: Path, out: Path) -> None:
    from skintrack.export.data import to_csv

    tmp.write_bytes(to_csv(lib, plan))


def _write_json(lib: Library, plan: ExportPlan, frames: list[Frame], tmp: Path, out: Path) -> None:
    from skintrack.export.data import to_json

    tmp.write_bytes(to_json(lib, plan))


def _write_zip(lib: Library, plan: ExportPlan, frames: list[Frame], tmp: Path, out: Path) -> None:
    """Aligned JPEGs (no EXIF unless opted in), heatmaps, measurements and a README."""
    from skintrack.export.data import to_csv, to_json
    from skintrack.export.frames import encode_jpeg

    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in frames:
            stem = f"{f.taken_at.date().isoformat()}_photo{f.photo_id}"
            zf.writestr(f"images/{stem}.jpg", encode_jpeg(f.picture, 92, f.exif), zipfile.ZIP_STORED)
            if f.heatmap is not None:
                zf.writestr(f"heatmaps/{stem}_heatmap.jpg", encode_jpeg(f.heatmap, 90), zipfile.ZIP_STORED)
        zf.writestr("measurements.csv", to_csv(lib, plan))
        zf.writestr("measurements.json", to_json(lib, plan))
        readme = (
            f"Skintrack export: {_title(plan)}\n{len(frames)} check-ins, {plan.date_range_text()}.\n"
            "images/: photos aligned to the region's reference photo, cropped to the watched area.\n"
            f"{_exif_note(plan)}\n\n"
            f"{NOT_A_DIAGNOSIS}\n"
        )
        zf.writestr("README.txt", readme)


def _exif_note(plan: ExportPlan) -> str:
    options = plan.options
    if not options.carries_exif:
        return "No EXIF."
    gps = "kept" if options.keeps_gps else "removed"
    identifying = "kept" if options.keep_identifying_exif else "removed"
    return (
        f"EXIF of the originals kept (opted in): GPS location {gps}; serial numbers, owner, "
        f"artist and host names {identifying}."
    )


WRITERS: dict[str, Writer] = {
    "contact-sheet": _write_contact_sheet,
    "pdf": _write_pdf,
    "csv": _write_csv,
    "json": _write_json,
    "zip": _write_zip,
}
# timelapses are encoded while the frames are rendered: memory for a few frames, whatever the count
STREAMED: dict[str, Callable[[ExportPlan, Path, Path], FrameSink]] = {"gif": _open_gif, "mp4": _open_mp4}


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _rendered_in_order(lib: Library, plan: ExportPlan, token: CancelToken) -> Iterator[Frame]:
    """Every frame, in plan order, rendered on RENDER_THREADS threads (numpy/OpenCV release the
    GIL); at most RENDER_THREADS + 1 frames are in flight or waiting for their turn."""
    from skintrack.services.export_frames import frame_renderer

    full = {plan.photos[-1].photo_id} if plan.format == "pdf" and plan.photos else set()
    renderer = frame_renderer(lib, plan, full_heatmap_ids=full)
    photos = plan.photos
    with ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="skintrack-export") as pool:
        running: deque[Future[Frame]] = deque()
        submitted = 0
        try:
            while submitted < len(photos) or running:
                while submitted < len(photos) and len(running) < RENDER_THREADS + 1:  # bounded memory
                    running.append(pool.submit(renderer.render, photos[submitted], token))
                    submitted += 1
                frame = running.popleft().result()  # re-raises Cancelled or a failure
                token.raise_if_cancelled()
                yield frame
        finally:
            for fut in running:
                fut.cancel()


def _render_all(
    lib: Library, plan: ExportPlan, token: CancelToken, total: int
) -> Generator[Progress, None, list[Frame]]:
    """Every frame as a list (the formats that lay them out together), with progress."""
    results: list[Frame] = []
    yield Progress(0, total, f"rendering {len(plan.photos)} check-ins")
    for frame in _rendered_in_order(lib, plan, token):
        results.append(frame)
        yield Progress(len(results), total, f"rendered {len(results)} of {len(plan.photos)} check-ins")
    return results


def _stream(
    lib: Library, plan: ExportPlan, token: CancelToken, total: int, tmp: Path, out: Path
) -> Iterator[Progress]:
    """Render and encode a timelapse frame by frame: no frame is kept once the encoder has it."""
    sink = STREAMED[plan.format](plan, tmp, out)
    try:
        yield Progress(0, total, f"rendering {len(plan.photos)} check-ins")
        for n, frame in enumerate(_rendered_in_order(lib, plan, token), 1):
            sink.add(frame.image)
            yield Progress(n, total, f"encoded {n} of {len(plan.photos)} check-ins")
        token.raise_if_cancelled()
        yield Progress(total - 1, total, f"writing {out.name}")
        sink.close()
    except BaseException:
        sink.abort()
        raise


def run_export(
    lib: Library, plan: ExportPlan, out_path: str | os.PathLike[str], token: CancelToken | None = None
) -> Generator[Progress, None, Path]:
    """Render and write ``plan`` to ``out_path``; yields Progress, returns the final path."""
    token = token or CancelToken()
    out = check_out_path(plan.format, Path(out_path))
    remove_stale_temps(out.parent, out.name)  # leftovers of an earlier export killed midway
    tmp = temp_path_for(out)
    total = plan.steps
    frames: list[Frame] = []
    try:
        os.close(open_private(tmp))  # created owner-only; the writer fills it, keeping the mode
        if plan.format in STREAMED:
            yield from _stream(lib, plan, token, total, tmp, out)
        else:
            if plan.renders_frames:
                frames = yield from _render_all(lib, plan, token, total)
            token.raise_if_cancelled()
            yield Progress(total - 1, total, f"writing {out.name}")
            WRITERS[plan.format](lib, plan, frames, tmp, out)
        token.raise_if_cancelled()
        os.chmod(tmp, PRIVATE_FILE_MODE)  # health photos: readable by their owner only
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:  # cancelled, failed or the generator was closed: leave nothing behind
        _unlink(tmp)
        raise
    fsync_dir(out.parent)
    yield Progress(total, total, f"exported {out.name}")
    return out


def render_preview(
    lib: Library, plan: ExportPlan, token: CancelToken | None = None
) -> np.ndarray | str | None:
    """What the dialog shows: the first frame (GIF, MP4, zip), the first tile (contact sheet), the
    report's reference-vs-latest pair (PDF), or the first lines of the data (CSV/JSON)."""
    import numpy as np

    token = token or CancelToken()
    if plan.format in ("csv", "json"):
        from skintrack.export.data import to_csv, to_json

        data = (to_csv if plan.format == "csv" else to_json)(lib, plan).decode("utf-8-sig")
        return "\n".join(data.splitlines()[:12])
    from skintrack.services.export_frames import frame_renderer

    if not plan.photos:
        return None
    renderer = frame_renderer(lib, plan)
    token.raise_if_cancelled()
    if plan.format == "pdf":
        first = next((p for p in plan.photos if p.is_reference), plan.photos[0])
        pair = [renderer.render(first, token)]
        if plan.photos[-1] is not first:
            token.raise_if_cancelled()
            pair.append(renderer.render(plan.photos[-1], token))
        gap = np.full((pair[0].image.shape[0], 12, 3), 255, np.uint8)
        parts = [pair[0].image] + ([gap, pair[1].image] if len(pair) > 1 else [])
        return np.hstack(parts)
    frame = renderer.render(plan.photos[0], token)
    if plan.format == "contact-sheet" and frame.heatmap is not None:
        return np.hstack([frame.picture, frame.heatmap])
    return frame.image
