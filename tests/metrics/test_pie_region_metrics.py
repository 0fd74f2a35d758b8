"""PIE-Bench unedited-region PSNR / MSE / SSIM on hand-computable images (no learned weights)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from harness.metrics.learned.pie import PieMSE, PiePSNR, PieSSIM, ssim
from harness.metrics.learned.recipes import get_recipe, pie_mask, pie_square
from harness.types import Sample, ScoreInput

SMALL = dataclasses.replace(get_recipe("pie_bench"), pie_size=32)


def pair(change_outside: int, change_inside: int) -> tuple[ScoreInput, np.ndarray]:
    source = np.zeros((32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), dtype=bool)
    mask[8:16, 8:16] = True
    edited = source.copy()
    edited[~mask] = change_outside
    edited[mask] = change_inside
    sample = Sample(id="p", source=source, instruction="x", mask=mask)
    return ScoreInput(sample, edited), mask


def test_only_the_unedited_region_counts_and_is_averaged_over_the_whole_image():
    inp, mask = pair(change_outside=51, change_inside=200)
    keep = ~pie_mask(mask, 32, border_edited=True)  # the 1-pixel border counts as edited
    expected_mse = (51 / 255) ** 2 * keep.sum() / keep.size
    (mse,) = PieMSE(recipe=SMALL).score([inp])
    assert mse.status == "ok" and mse.value == pytest.approx(expected_mse)
    (psnr,) = PiePSNR(recipe=SMALL).score([inp])
    assert psnr.value == pytest.approx(10 * math.log10(1 / expected_mse))
    untouched, _ = pair(change_outside=0, change_inside=255)
    assert PieMSE(recipe=SMALL).score([untouched])[0].value == 0.0
    assert PiePSNR(recipe=SMALL).score([untouched])[0].value == 100.0  # capped, never inf
    assert PieSSIM(recipe=SMALL).score([untouched])[0].value == pytest.approx(1.0)
    assert PieSSIM(recipe=SMALL).score([inp])[0].value < 0.9


def test_a_mask_covering_everything_or_no_mask_is_not_applicable():
    inp, _ = pair(10, 10)
    full = ScoreInput(dataclasses.replace(inp.sample, mask=np.ones((32, 32), dtype=bool)), inp.edited)
    none = ScoreInput(dataclasses.replace(inp.sample, mask=None), inp.edited)
    for metric in (PieMSE(recipe=SMALL), PiePSNR(recipe=SMALL), PieSSIM(recipe=SMALL)):
        records = metric.score([full, none])
        assert [r.status for r in records] == ["not_applicable", "not_applicable"]
        assert all(r.value is None for r in records)


def test_pie_square_crops_bottom_right_and_ssim_is_symmetric():
    wide = np.arange(40 * 48 * 3, dtype=np.uint32).reshape(40, 48, 3).astype(np.uint8)
    assert np.array_equal(pie_square(wide, 32), wide[8:, 16:])
    rng = np.random.default_rng(0)
    a, b = rng.random((16, 16, 3)), rng.random((16, 16, 3))
    assert ssim(a, b) == pytest.approx(ssim(b, a)) and ssim(a, a) == pytest.approx(1.0)
