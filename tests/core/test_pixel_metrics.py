from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.pixel import (
    L1,
    L2,
    PSNR,
    PSNR_MAX_DB,
    SSIM,
    EditRegionPSNR,
    PreservePSNR,
    PreserveSSIM,
    psnr,
)  # fmt: skip
from harness.types import Sample, ScoreInput


def _sample(source, target, mask=None):
    return Sample(id="x", source=source, instruction="", target=target, mask=mask)


def test_known_values_on_a_constant_offset():
    source = np.full((32, 32, 3), 100, np.uint8)
    target = np.full((32, 32, 3), 110, np.uint8)
    inp = ScoreInput(_sample(source, target), source)
    assert L1().compute(inp) == pytest.approx(10 / 255)
    assert L2().compute(inp) == pytest.approx((10 / 255) ** 2)
    assert PSNR().compute(inp) == pytest.approx(10 * np.log10(255**2 / 100))
    assert SSIM().compute(ScoreInput(_sample(source, source), source)) == pytest.approx(1.0)


def test_identical_images_report_the_documented_maximum():
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert psnr(image, image) == PSNR_MAX_DB


def test_masked_metrics_look_only_at_their_region():
    rng = np.random.default_rng(1)
    source = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    target = source.copy()
    target[10:20, 10:20] = 255
    mask = np.zeros((40, 40), bool)
    mask[10:20, 10:20] = True
    edited = target.copy()
    edited[30:, 30:] = 0  # damage outside the mask
    sample = _sample(source, target, mask)
    assert EditRegionPSNR().compute(ScoreInput(sample, edited)) == PSNR_MAX_DB
    assert PreservePSNR().compute(ScoreInput(sample, edited)) < 30
    assert PreservePSNR().compute(ScoreInput(sample, target)) == PSNR_MAX_DB
    assert PreserveSSIM().compute(ScoreInput(sample, source)) == pytest.approx(1.0)


def test_size_mismatch_is_resized_to_the_reference():
    target = np.zeros((32, 32, 3), np.uint8)
    edited = np.zeros((64, 64, 3), np.uint8)
    assert PSNR().compute(ScoreInput(_sample(target, target), edited)) == PSNR_MAX_DB


def test_missing_requirements_and_empty_regions_are_not_scores():
    source = np.zeros((16, 16, 3), np.uint8)
    no_target = PSNR().score([ScoreInput(_sample(source, None), source)])[0]
    assert (no_target.status, no_target.value) == ("not_applicable", None)
    full_mask = np.ones((16, 16), bool)
    empty_outside = PreservePSNR().score([ScoreInput(_sample(source, source, full_mask), source)])[0]
    assert (empty_outside.status, empty_outside.value) == ("not_applicable", None)
