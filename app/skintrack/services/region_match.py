"""Which region does a new photo show? A fast shortlist, then the real aligner as the judge.

1. Shortlist: every region's reference photo and the new photo are reduced to a small bag of
   SIFT descriptors (``SHORTLIST_SIDE`` px lightness, CLAHE, at most ``SHORTLIST_FEATURES``,
   RootSIFT). A region's shortlist score is the fraction of the photo's descriptors that pass
   Lowe's ratio test against it: skin photographed again keeps many of the same pores, moles and
   creases; other skin shares only its statistics, which colour histograms cannot tell apart.
2. Verification: the best shortlisted region goes through ``skintrack.core.align.align`` (the
   same conservative aligner the measurements trust) at ``VERIFY_SIDE`` px; the runner-up too,
   unless the best one verified and the runner-up scored below ``SHORTLIST_MARGIN`` of it. Only a
   region whose alignment passes every geometric and photometric check is proposed. With five or
   more regions, a candidate scoring below ``BACKGROUND_FACTOR`` × the median is not worth an
   alignment at all (what photos of unrelated skin look like to the shortlist).
3. ``sure`` (accepted in one click) needs a verified alignment with at least
   ``SURE_MIN_INLIERS`` inliers and a clear margin: no runner-up verifies, or the runner-up has at
   most ``SURE_MARGIN`` of the best one's inliers (a runner-up the shortlist left far behind
   counts as not verified). Photos that verify nowhere propose nothing and
   list their two best shortlisted candidates for the user to choose from.

Confidence (0..1): a verified proposal gets 0.5 + 0.5 × alignment quality × margin (margin = 1
minus the runner-up's share of inliers); an unverified candidate gets at most 0.45, scaled by its
shortlist score, so "verified" and "guessed" never overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from skintrack.core import images
from skintrack.core.align import Alignment, align, lightness
from skintrack.errors import InvalidInputError
from skintrack.library import Library
from skintrack.progress import CancelToken

SHORTLIST_SIDE = 480
SHORTLIST_FEATURES = 700
SHORTLIST_RATIO = 0.8
VERIFY_SIDE = 640
VERIFY_TOP = 2
SHORTLIST_MARGIN = 0.5  # a runner-up below this share of the best score is not verified
BACKGROUND_FACTOR = 2.0  # ... nor one below twice the median score of all regions
SURE_MIN_INLIERS = 30
SURE_MARGIN = 0.5
UNVERIFIED_CONFIDENCE = 0.45


@dataclass(frozen=True)
class Candidate:
    """One region considered for a photo."""

    region_id: int
    name: str
    shortlist_score: float  # fraction of the photo's descriptors matched in this region (0..1)
    verified: bool = False  # the aligner accepted the photo onto this region's reference
    inliers: int = 0
    quality: float = 0.0
    confidence: float = 0.0
    message: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "region": self.name,
            "region_id": self.region_id,
            "confidence": round(self.confidence, 3),
            "verified": self.verified,
            "shortlist_score": round(self.shortlist_score, 3),
            "inliers": self.inliers,
        }


@dataclass(frozen=True)
class RegionMatch:
    """The proposal for one photo; ``proposed`` is None when no region verified."""

    proposed: Candidate | None
    confidence: float
    sure: bool
    candidates: list[Candidate] = field(default_factory=list)  # best first, at most two


_CACHE: dict[str, tuple[tuple[str, tuple[tuple[int, str, int], ...]], RegionIndex]] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class _Reference:
    region_id: int
    name: str
    rgb: np.ndarray  # uint8 sRGB at VERIFY_SIDE
    descriptors: np.ndarray | None


def _resize_long(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    f = side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _descriptors(rgb: np.ndarray) -> np.ndarray | None:
    """RootSIFT descriptors of a small contrast-normalised lightness image."""
    small = _resize_long(rgb, SHORTLIST_SIDE)
    u8 = np.clip(lightness(small) * 2.55 + 0.5, 0, 255).astype(np.uint8)
    u8 = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(u8)
    sift = cv2.SIFT_create(nfeatures=SHORTLIST_FEATURES, contrastThreshold=0.02)
    _kp, desc = sift.detectAndCompute(u8, None)
    if desc is None or len(desc) < 2:
        return None
    desc = desc / (np.abs(desc).sum(axis=1, keepdims=True) + 1e-7)
    return np.sqrt(desc).astype(np.float32)


def _shortlist_score(query: np.ndarray | None, ref: np.ndarray | None, matcher: cv2.BFMatcher) -> float:
    if query is None or ref is None:
        return 0.0
    pairs = matcher.knnMatch(query, ref, k=2)
    good = sum(1 for p in pairs if len(p) == 2 and p[0].distance < SHORTLIST_RATIO * p[1].distance)
    return good / max(1, len(query))


class RegionIndex:
    """Reference photos of a library's active regions, prepared once for matching many photos."""

    def __init__(self, references: Sequence[_Reference]) -> None:
        self._refs = list(references)
        self._matcher = cv2.BFMatcher(cv2.NORM_L2)
        self._by_hash: dict[str, RegionMatch] = {}  # a rescan does not match the same bytes again
        self._by_hash_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._refs)

    @classmethod
    def from_images(cls, regions: Sequence[tuple[int, str, np.ndarray]]) -> RegionIndex:
        """Index (region_id, name, reference RGB) triples (benchmarks, tests, callers with pixels)."""
        refs = []
        for region_id, name, rgb in regions:
            small = _resize_long(np.ascontiguousarray(rgb), VERIFY_SIDE)
            refs.append(_Reference(region_id, name, small, _descriptors(small)))
        return cls(refs)

    @staticmethod
    def _anchors(lib: Library) -> tuple[tuple[int, str, int], ...]:
        """(region id, name, photo id) of the photo each active region is matched against."""
        out = []
        for summary in lib.list_regions():
            region = summary.region
            photo_id = region.reference_photo_id or summary.latest_photo_id
            if photo_id is not None:
                out.append((region.id, region.name, photo_id))
        return tuple(out)

    @classmethod
    def cached(cls, lib: Library, token: CancelToken | None = None) -> RegionIndex:
        """``build``, reused while the library's regions and reference photos stay the same."""
        key = (str(lib.root), cls._anchors(lib))
        with _CACHE_LOCK:
            hit = _CACHE.get(key[0])
        if hit is not None and hit[0] == key:
            return hit[1]
        index = cls.build(lib, token)
        with _CACHE_LOCK:
            _CACHE[key[0]] = (key, index)
        return index

    @classmethod
    def build(cls, lib: Library, token: CancelToken | None = None) -> RegionIndex:
        """Index every active region that has a photo (its reference, else its latest photo)."""
        triples: list[tuple[int, str, np.ndarray]] = []
        for region_id, name, photo_id in cls._anchors(lib):
            if token is not None:
                token.raise_if_cancelled()
            photo = lib.photo(photo_id)
            try:
                rgb = images.decode(lib.original_path(photo), max_side=VERIFY_SIDE).rgb
            except InvalidInputError:
                continue  # a damaged original is reported by `skintrack check`; it cannot anchor matches
            triples.append((region_id, name, rgb))
        return cls.from_images(triples)

    def match_file(
        self, path: Path, token: CancelToken | None = None, sha256: str | None = None
    ) -> RegionMatch:
        """Decode a photo (raises InvalidInputError) and match it; remembered by content hash."""
        if sha256 is not None:
            with self._by_hash_lock:
                known = self._by_hash.get(sha256)
            if known is not None:
                return known
        rgb = images.decode(path, max_side=VERIFY_SIDE).rgb
        result = self.match(rgb, token)
        if sha256 is not None:
            with self._by_hash_lock:
                self._by_hash[sha256] = result
        return result

    def match(
        self,
        rgb: np.ndarray,
        token: CancelToken | None = None,
        aligner: Callable[[np.ndarray, np.ndarray], Alignment] | None = None,
    ) -> RegionMatch:
        """Propose a region for an upright sRGB photo (see the module docstring for the rules)."""
        if not self._refs:
            return RegionMatch(None, 0.0, False, [])
        run_align = aligner or (lambda ref, mov: align(ref, mov, cancel=token))
        small = _resize_long(np.ascontiguousarray(rgb), VERIFY_SIDE)
        query = _descriptors(small)
        scores = [_shortlist_score(query, ref.descriptors, self._matcher) for ref in self._refs]
        order = sorted(range(len(self._refs)), key=lambda i: -scores[i])
        top_score = max(scores[order[0]], 1e-6)
        background = float(np.median(scores))
        verified: list[tuple[int, Alignment]] = []
        checked: dict[int, Alignment] = {}
        for rank, i in enumerate(order[:VERIFY_TOP]):
            if token is not None:
                token.raise_if_cancelled()
            if scores[i] <= 0.0:
                break
            if rank > 0 and verified and scores[i] < SHORTLIST_MARGIN * top_score:
                break  # the runner-up is far behind a verified best: no need to ask the aligner
            if len(scores) >= 5 and scores[i] < BACKGROUND_FACTOR * background:
                break  # no better than unrelated skin scores against this library
            result = run_align(self._refs[i].rgb, small)
            checked[i] = result
            if result.ok:
                verified.append((i, result))

        def unverified(i: int) -> Candidate:
            ref, res = self._refs[i], checked.get(i)
            return Candidate(
                ref.region_id,
                ref.name,
                scores[i],
                False,
                res.inliers if res else 0,
                0.0,
                UNVERIFIED_CONFIDENCE * scores[i] / top_score * min(1.0, 10 * scores[i]),
                res.message if res else "not verified (shortlist score too low)",
            )

        if not verified:
            return RegionMatch(None, 0.0, False, [unverified(i) for i in order[:2]])
        verified.sort(key=lambda item: -item[1].inliers)
        best_i, best = verified[0]
        runner = verified[1][1].inliers if len(verified) > 1 else 0
        share = runner / max(1, best.inliers)
        margin = 1.0 - share
        confidence = 0.5 + 0.5 * float(best.quality) * margin
        sure = best.inliers >= SURE_MIN_INLIERS and share <= SURE_MARGIN
        ref = self._refs[best_i]
        proposed = Candidate(
            ref.region_id,
            ref.name,
            scores[best_i],
            True,
            best.inliers,
            best.quality,
            confidence,
            best.message,
        )
        others = [i for i in order if i != best_i]
        runner_up: Candidate
        if len(verified) > 1:
            i2, res2 = verified[1]
            r2 = self._refs[i2]
            conf2 = 0.5 + 0.5 * float(res2.quality) * (1.0 - min(1.0, best.inliers / max(1, res2.inliers)))
            runner_up = Candidate(r2.region_id, r2.name, scores[i2], True, res2.inliers, res2.quality, conf2)
            return RegionMatch(proposed, confidence, sure, [proposed, runner_up])
        if others:
            return RegionMatch(proposed, confidence, sure, [proposed, unverified(others[0])])
        return RegionMatch(proposed, confidence, sure, [proposed])
