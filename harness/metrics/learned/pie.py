"""PIE-Bench's unedited-region metrics: PSNR, MSE, SSIM and LPIPS (SqueezeNet) outside the edit mask.

Convention of PnPInversion's evaluate.py (docs BENCHMARKS.md, part 5): both images are brought to
512x512 (bottom-right crop when larger), the mask's 1-pixel border counts as edited, the edited region
is zero-filled in source and edited image alike, and each metric is computed over the *whole* image in
[0, 1]. PIE reports MSE x10^4, SSIM x10^2 and LPIPS x10^3; records hold the raw values. A mask that
covers everything leaves nothing to compare: ``not_applicable``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.images import resize_to
from harness.metrics.learned.lpips_metric import LpipsBase
from harness.metrics.learned.recipes import Recipe, get_recipe, pie_mask, pie_square
from harness.protocols import BaseMetric
from harness.types import Sample, ScoreInput

PSNR_CAP_DB = 100.0  # identical unedited regions would give +inf; records must stay finite JSON
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # an 11x11 Gaussian window, as torchmetrics' default


def unedited_pair(
    inp: ScoreInput, size: int = 512, border_edited: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(source, edited) uint8 at size x size with the edited region zero-filled in both."""
    if inp.sample.mask is None:
        raise ValueError("PIE unedited-region metrics need the edit mask")
    source = pie_square(inp.sample.source, size)
    edited = pie_square(resize_to(inp.edited, inp.sample.source.shape[:2]), size)
    keep = ~pie_mask(np.asarray(inp.sample.mask, dtype=bool), size, border_edited)
    return source * keep[..., None], edited * keep[..., None]


def nothing_unedited(sample: Sample, recipe: Recipe) -> str | None:
    """The reason a sample has no unedited region to score, or None."""
    if sample.mask is None:
        return "sample lacks mask"
    keep = ~pie_mask(np.asarray(sample.mask, dtype=bool), recipe.pie_size, recipe.mask_border_edited)
    return None if keep.any() else "the mask covers the whole image: no unedited region"


class PieRegionMetric(BaseMetric):
    requires = frozenset({"edited", "source", "mask"})

    def __init__(self, arg: str | None = None, *, recipe: Recipe | None = None) -> None:
        self.recipe = recipe or get_recipe("pie_bench")

    def config(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.fingerprint(),
            "ssim": f"gaussian sigma {SSIM_SIGMA}, 11x11, mirror pad, full map",
        }

    def applicable(self, sample: Sample) -> str | None:
        return super().applicable(sample) or nothing_unedited(sample, self.recipe)

    def floats(self, inp: ScoreInput) -> tuple[np.ndarray, np.ndarray]:
        source, edited = unedited_pair(inp, self.recipe.pie_size, self.recipe.mask_border_edited)
        return source.astype(np.float64) / 255.0, edited.astype(np.float64) / 255.0


class PieMSE(PieRegionMetric):
    name = "pie_mse"
    higher_is_better = False
    value_range = (0.0, 1.0)

    def compute(self, inp: ScoreInput) -> float:
        source, edited = self.floats(inp)
        return float(np.mean((source - edited) ** 2))


class PiePSNR(PieRegionMetric):
    name = "pie_psnr"
    value_range = (0.0, PSNR_CAP_DB)

    def compute(self, inp: ScoreInput) -> float:
        source, edited = self.floats(inp)
        mse = float(np.mean((source - edited) ** 2))
        return PSNR_CAP_DB if mse == 0.0 else min(PSNR_CAP_DB, 10.0 * np.log10(1.0 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Gaussian SSIM over an HxWxC pair in [0, 1], averaged over the full map and channels."""
    from scipy.ndimage import gaussian_filter

    c1, c2 = 0.01**2, 0.03**2
    values = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]

        def blur(img: np.ndarray) -> np.ndarray:
            return gaussian_filter(img, SSIM_SIGMA, mode="mirror", truncate=SSIM_RADIUS / SSIM_SIGMA)

        mx, my = blur(x), blur(y)
        vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        values.append(ssim_map.mean())
    return float(np.mean(values))


class PieSSIM(PieRegionMetric):
    name = "pie_ssim"
    value_range = (-1.0, 1.0)

    def compute(self, inp: ScoreInput) -> float:
        return ssim(*self.floats(inp))


class PieLpips(LpipsBase):
    """LPIPS (SqueezeNet, as PIE's torchmetrics call) on the zero-filled unedited region."""

    name = "pie_lpips"
    default_arch = "squeeze"
    default_recipe = "pie_bench"
    requires = frozenset({"edited", "source", "mask"})

    def not_applicable(self, inp: ScoreInput) -> str | None:
        return nothing_unedited(inp.sample, self.recipe)

    def pair(self, inp: ScoreInput) -> tuple[np.ndarray, np.ndarray]:
        source, edited = unedited_pair(inp, self.recipe.pie_size, self.recipe.mask_border_edited)
        return edited, source
