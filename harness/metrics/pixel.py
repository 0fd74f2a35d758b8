"""Metrics that need no learned weights: pixel distances and structural similarity.

All images are compared on a [0, 1] scale. When the edited image's size differs from the
reference it is compared with, it is resized to the reference size (harness.images.SIZE_POLICY).
PSNR of identical images is infinite; it is reported as ``PSNR_MAX_DB`` (100 dB), the metric's
documented maximum, so that means and CIs stay finite.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from harness.images import resize_to
from harness.protocols import BaseMetric, NotApplicable
from harness.types import Image, ScoreInput

PSNR_MAX_DB = 100.0


def _float(image: Image) -> np.ndarray:
    return image.astype(np.float64) / 255.0


def _aligned(edited: Image, reference: Image) -> tuple[np.ndarray, np.ndarray]:
    return _float(resize_to(edited, reference.shape[:2])), _float(reference)


def psnr_from_mse(mse: float) -> float:
    if mse <= 0.0:
        return PSNR_MAX_DB
    return float(min(PSNR_MAX_DB, 10.0 * np.log10(1.0 / mse)))


def l1_distance(edited: Image, reference: Image) -> float:
    a, b = _aligned(edited, reference)
    return float(np.abs(a - b).mean())


def l2_distance(edited: Image, reference: Image) -> float:
    """Mean squared error on [0, 1] (the MagicBrush 'L2')."""
    a, b = _aligned(edited, reference)
    return float(((a - b) ** 2).mean())


def psnr(edited: Image, reference: Image, region: np.ndarray | None = None) -> float:
    a, b = _aligned(edited, reference)
    sq = (a - b) ** 2
    if region is not None:
        if not region.any():
            raise NotApplicable("empty region")
        return psnr_from_mse(float(sq[region].mean()))
    return psnr_from_mse(float(sq.mean()))


def ssim(edited: Image, reference: Image, region: np.ndarray | None = None) -> float:
    a, b = _aligned(edited, reference)
    if min(a.shape[:2]) < 7:
        raise NotApplicable("image smaller than the 7x7 SSIM window")
    value, full = structural_similarity(a, b, channel_axis=2, data_range=1.0, full=True)
    if region is None:
        return float(value)
    if not region.any():
        raise NotApplicable("empty region")
    return float(full.mean(axis=2)[region].mean())


def _mask_for(inp: ScoreInput, reference: Image) -> np.ndarray:
    mask = inp.sample.mask
    assert mask is not None
    if mask.shape != reference.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} differs from image shape {reference.shape[:2]}")
    return mask.astype(bool)


class L1(BaseMetric):
    name = "l1"
    higher_is_better = False
    value_range = (0.0, 1.0)
    requires = frozenset({"target"})

    def compute(self, inp: ScoreInput) -> float:
        return l1_distance(inp.edited, inp.sample.target)


class L2(BaseMetric):
    name = "l2"
    higher_is_better = False
    value_range = (0.0, 1.0)
    requires = frozenset({"target"})

    def compute(self, inp: ScoreInput) -> float:
        return l2_distance(inp.edited, inp.sample.target)


class PSNR(BaseMetric):
    name = "psnr"
    value_range = (0.0, PSNR_MAX_DB)
    requires = frozenset({"target"})

    def compute(self, inp: ScoreInput) -> float:
        return psnr(inp.edited, inp.sample.target)


class SSIM(BaseMetric):
    name = "ssim"
    value_range = (-1.0, 1.0)
    requires = frozenset({"target"})

    def compute(self, inp: ScoreInput) -> float:
        return ssim(inp.edited, inp.sample.target)


class PreservePSNR(BaseMetric):
    """PSNR against the source outside the edit mask: did the editor leave the rest alone?"""

    name = "preserve_psnr"
    value_range = (0.0, PSNR_MAX_DB)
    requires = frozenset({"mask"})

    def compute(self, inp: ScoreInput) -> float:
        return psnr(inp.edited, inp.sample.source, ~_mask_for(inp, inp.sample.source))


class PreserveSSIM(BaseMetric):
    name = "preserve_ssim"
    value_range = (-1.0, 1.0)
    requires = frozenset({"mask"})

    def compute(self, inp: ScoreInput) -> float:
        return ssim(inp.edited, inp.sample.source, ~_mask_for(inp, inp.sample.source))


class EditRegionPSNR(BaseMetric):
    """PSNR against the target inside the edit mask: did the edit land where it should?"""

    name = "edit_region_psnr"
    value_range = (0.0, PSNR_MAX_DB)
    requires = frozenset({"mask", "target"})

    def compute(self, inp: ScoreInput) -> float:
        return psnr(inp.edited, inp.sample.target, _mask_for(inp, inp.sample.target))
