"""photo-ops: determinism, exact targets, phrasing families, and the op properties the tool layer relies on."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.images import image_hash
from harness.metrics.pixel import L1, L2, PSNR, PSNR_MAX_DB, SSIM
from harness.suites.photo_ops import OPS, apply_program, inverse_step
from harness.suites.photo_ops import ops as photo_ops
from harness.suites.photo_ops.phrasing import DIRECT, INDIRECT
from harness.suites.photo_ops.suite import PhotoOpsSuite
from harness.types import Sample, ScoreInput

PINNED = {
    "test-L1-0000": (
        "c19b9ec528f5a185e00a49c4157f9a4f628bcdcb76f6786855e4ad1546506b08",
        "519e4de4d0631a54c74fe21db178150ec7286a103e472416b9af588182278d07",
    ),
    "test-L3-0000": (
        "8359d69cccd0c567916402b17fd2f97f4603abdc9fa67102da34ba328b3e995c",
        "3d51abd9228397e18ded597545fbabe4a940261b70992426b1fb7928e5fd1629",
    ),
    "test-L1-0001": (
        "df7773b4d4a9593d451c12caa185d1874f9fd225225584441afbbd9653c5a2c8",
        "aae37decf68ae9374c9ccec61aed2c2242eaca0b17a0eb1d363d10b2d50dabc5",
    ),
}


@pytest.fixture(scope="module")
def test_split() -> list[Sample]:
    return list(PhotoOpsSuite(seed=0).samples("test"))


def _tiny_image(seed: int = 0, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(size, size, 3), dtype=np.uint8)


def test_default_test_split_size_levels_and_speed() -> None:
    start = time.process_time()  # CPU time: other processes on the machine do not count
    samples = list(PhotoOpsSuite(seed=0).samples("test"))
    elapsed = time.process_time() - start
    assert elapsed < 5.0, f"default split took {elapsed:.1f}s of CPU"
    assert len(samples) == 360
    for level in ("L1", "L2", "L3"):
        assert sum(s.level == level for s in samples) == 120
    assert all(s.source.shape == (256, 256, 3) and s.target.shape == (256, 256, 3) for s in samples)
    assert len({s.id for s in samples}) == 360


def test_pinned_hashes_and_seed_determinism(test_split: list[Sample]) -> None:
    by_id = {s.id: s for s in test_split}
    for sample_id, (source_hash, target_hash) in PINNED.items():
        assert image_hash(by_id[sample_id].source) == source_hash
        assert image_hash(by_id[sample_id].target) == target_hash
    again = list(PhotoOpsSuite(seed=0).samples("test", limit=30))
    assert [s.instruction for s in again] == [s.instruction for s in test_split[:30]]
    other = list(PhotoOpsSuite(seed=1).samples("test", limit=30))
    assert [s.instruction for s in other] != [s.instruction for s in again]


def test_fingerprint_carries_generator_version_and_config() -> None:
    fp = PhotoOpsSuite(seed=3, size=128, n_per_level=10).fingerprint()
    assert fp["version"] == "1.0.0"
    assert fp["config"] == {"seed": 3, "size": 128, "n_per_level": 10}


def test_target_is_program_applied_to_source_and_metadata_is_json(test_split: list[Sample]) -> None:
    for sample in test_split[:60]:
        program = json.loads(json.dumps(sample.metadata["program"]))
        assert np.array_equal(apply_program(sample.source, program), sample.target)
        expected = "multi-step" if sample.level == "L3" else program[0]["op"]
        assert sample.category == expected
        assert (len(program) >= 2) == (sample.level == "L3")


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", ".+", re.escape(template)) + r"\.?", re.IGNORECASE)


def _family_patterns(family: str) -> list[re.Pattern[str]]:
    return [_pattern(t) for table in (DIRECT, INDIRECT) for fam in table.values() for t in fam[family]]


def test_test_split_uses_heldout_phrasings_only(test_split: list[Sample]) -> None:
    heldout, train = _family_patterns("heldout"), _family_patterns("train")
    single_step = [s for s in test_split if s.level != "L3"]
    for sample in single_step:
        assert sample.metadata["phrasing_family"] == "heldout"
        assert any(p.fullmatch(sample.instruction) for p in heldout), sample.instruction
        assert not any(p.fullmatch(sample.instruction) for p in train), sample.instruction
    train_samples = [s for s in PhotoOpsSuite(seed=0).samples("train", limit=60) if s.level != "L3"]
    assert {s.metadata["phrasing_family"] for s in train_samples} == {"train"}
    assert all(any(p.fullmatch(s.instruction) for p in train) for s in train_samples)
    assert not {s.instruction for s in train_samples} & {s.instruction for s in test_split}


def test_l3_order_matters_and_every_step_changes_the_image(test_split: list[Sample]) -> None:
    for sample in (s for s in test_split if s.level == "L3"):
        program = sample.metadata["program"]
        assert not np.array_equal(apply_program(sample.source, program[::-1]), sample.target)
        image = sample.source
        for step in program:
            after = apply_program(image, [step])
            assert not np.array_equal(after, image), (sample.id, step)
            image = after


def test_oracle_scores_exactly_and_identity_is_visibly_worse(test_split: list[Sample]) -> None:
    batch = test_split[:45]
    oracle = [ScoreInput(s, s.target) for s in batch]
    identity = [ScoreInput(s, s.source) for s in batch]
    psnr, ssim, l1, l2 = PSNR(), SSIM(), L1(), L2()
    assert all(r.value == PSNR_MAX_DB for r in psnr.score(oracle))
    assert all(r.value == pytest.approx(1.0) for r in ssim.score(oracle))
    assert all(r.value == 0.0 for r in l1.score(oracle) + l2.score(oracle))
    identity_psnr = [r.value for r in psnr.score(identity)]
    identity_l1 = [r.value for r in l1.score(identity)]
    assert max(identity_psnr) < 60.0 and np.mean(identity_psnr) < 30.0
    assert min(identity_l1) > 0.0 and np.mean(identity_l1) > 0.03


def test_each_op_matches_its_definition_on_known_pixels() -> None:
    px = np.array([[[200, 100, 0], [10, 20, 30]], [[255, 255, 255], [0, 0, 0]]], dtype=np.uint8)
    assert photo_ops.grayscale(px)[0, 0, 0] == (299 * 200 + 587 * 100 + 500) // 1000 == 119
    assert photo_ops.flip_horizontal(px)[0, 0].tolist() == [10, 20, 30]
    assert photo_ops.flip_vertical(px)[0, 0].tolist() == [255, 255, 255]
    assert photo_ops.rotate(px, 90)[0, 0].tolist() == [255, 255, 255]  # bottom-left goes to top-left
    assert photo_ops.rotate(px, 270)[0, 0].tolist() == [10, 20, 30]
    assert photo_ops.invert(px)[0, 0].tolist() == [55, 155, 255]
    assert photo_ops.posterize(px, 2)[0, 1].tolist() == [0, 0, 0] and photo_ops.posterize(px, 1)[
        0, 0
    ].tolist() == [
        128,
        0,
        0,
    ]
    assert photo_ops.brightness(px, 1.5)[0, 0].tolist() == [255, 150, 0]
    assert photo_ops.contrast(px, 2.0)[0, 0].tolist() == [255, 72, 0]
    assert photo_ops.hue_shift(px, 120)[0, 0].tolist() == [0, 200, 100]
    assert photo_ops.hue_shift(px, 180)[0, 0].tolist() == [0, 100, 200]
    crop = photo_ops.crop(_tiny_image(), "bottom-right")
    assert np.array_equal(crop[::2, ::2], _tiny_image()[8:, 8:]) and crop.shape == (16, 16, 3)
    center = photo_ops.crop(_tiny_image(), "center")
    assert np.array_equal(center[::2, ::2], _tiny_image()[4:12, 4:12])
    flat = np.full((9, 9, 3), 100, np.uint8)
    assert np.array_equal(photo_ops.gaussian_blur(flat, 2.0), flat)
    spike = np.zeros((9, 9, 3), np.uint8)
    spike[4, 4] = 255
    blurred = photo_ops.gaussian_blur(spike, 1.0)
    assert blurred[4, 4, 0] == round(255 / (2 * np.pi)) and blurred[4, 5, 0] < blurred[4, 4, 0]


@pytest.mark.parametrize("op", sorted(OPS))
def test_inverse_undoes_invertible_ops_exactly(op: str) -> None:
    image = _tiny_image(seed=7)
    choices = {"rotate": [90, 180, 270], "hue_shift": [120, 180, 240]}
    key = "degrees"
    for value in choices.get(op, [None]):
        step = {"op": op, "args": {key: value} if value is not None else {}}
        inverse = inverse_step(step)
        if inverse is None:
            assert op in ("grayscale", "crop", "brightness", "contrast", "gaussian_blur", "posterize")
            continue
        assert np.array_equal(apply_program(image, [step, inverse]), image)


def test_bad_programs_raise_clear_errors() -> None:
    image = _tiny_image()
    with pytest.raises(ValueError, match="unknown photo op 'sharpen'"):
        apply_program(image, [{"op": "sharpen", "args": {}}])
    with pytest.raises(ValueError, match="rotate: degrees"):
        apply_program(image, [{"op": "rotate", "args": {"degrees": 45}}])
    with pytest.raises(ValueError, match="crop: region"):
        apply_program(image, [{"op": "crop", "args": {"region": "left"}}])
    original = image.copy()
    apply_program(image, [{"op": "invert", "args": {}}])
    assert np.array_equal(image, original)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    height=st.integers(1, 12).map(lambda n: 2 * n),
    width=st.integers(1, 12).map(lambda n: 2 * n),
    op=st.sampled_from(["flip_horizontal", "flip_vertical", "invert", "rotate", "hue_shift"]),
    degrees=st.sampled_from([90, 180, 270]),
)
def test_property_invertible_ops_round_trip(
    seed: int, height: int, width: int, op: str, degrees: int
) -> None:
    image = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    args = (
        {"degrees": degrees if op == "rotate" else {90: 120, 180: 180, 270: 240}[degrees]}
        if op
        in (
            "rotate",
            "hue_shift",
        )
        else {}
    )
    step = {"op": op, "args": args}
    assert np.array_equal(apply_program(image, [step, inverse_step(step)]), image)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), bits=st.integers(1, 4), region=st.sampled_from(photo_ops.CROP_REGIONS))
def test_property_lossy_ops_are_idempotent_or_shape_preserving(seed: int, bits: int, region: str) -> None:
    image = np.random.default_rng(seed).integers(0, 256, size=(10, 14, 3), dtype=np.uint8)
    gray = photo_ops.grayscale(image)
    assert np.array_equal(photo_ops.grayscale(gray), gray)
    poster = photo_ops.posterize(image, bits)
    assert np.array_equal(photo_ops.posterize(poster, bits), poster)
    assert len(np.unique(poster)) <= 2**bits
    assert photo_ops.crop(image, region).shape == image.shape
    assert np.array_equal(photo_ops.hue_shift(gray, 180), gray)  # grey has no hue to rotate
