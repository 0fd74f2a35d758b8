"""Same (seed, split, index) -> byte-identical images; pinned hashes catch silent generator changes."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from harness.images import encode_png, image_hash
from harness.suites.synth_edit.generator import GENERATOR_VERSION
from harness.suites.synth_edit.suite import SynthEditSuite, make_sample

# sha256 of decoded pixels (harness.images.image_hash) of seed 0, test split, 256 px.
PINNED = {
    0: (
        "The result should show the green triangle in blue.",
        "8130331a8037722302d5b4b151a11aeffb97d8f4105d4692cad16387636a753d",
        "8c83fe368b8d0ac1c0953714dd41d42e84b9c733dc59229099e9c162641a2689",
        "358e70317b67b55f1c29d03e4a51ad4b791a20e325599937a3293fc5186361a3",
    ),
    2: (
        "To begin, I want the blue star to be red. Next, I'd like the yellow star erased from the picture. "
        "Lastly, I want the red star placed in the spot the yellow star used to occupy.",
        "b05e51b8ec23dc72ed6b41fddf6ceba68fe14f24e3d58610a6a5d1b484489b82",
        "08884e6d88f8f0a01249b8a6e736aaa84af5f882d5761e8af1e71bfd717173fa",
        "96b334cc572561caa5c17db91bfc78a24f768545a52fe4a38d1989f6af000810",
    ),
    3: (
        "I'd like each triangle to be green.",
        "c8192a4c5929c63a4875f9073b4ce8b61139d4ca927472ac56cb7d7985c2fbd7",
        "2d63070eae8f98aa091280d1cad21a6e5e2972291248fef38b4528fa1ad5b646",
        "19971e44465bfc7d0347a9587610c55bfb51a9ab3553017157ff68642257362c",
    ),
}


@pytest.mark.parametrize("index", sorted(PINNED))
def test_pinned_samples(index: int) -> None:
    sample = make_sample(0, "test", index)
    instruction, source, target, mask = PINNED[index]
    assert sample.instruction == instruction
    assert (image_hash(sample.source), image_hash(sample.target), image_hash(sample.mask)) == (
        source,
        target,
        mask,
    )


def test_same_seed_gives_identical_samples_and_png_bytes() -> None:
    for index in range(8):
        first, second = make_sample(7, "train", index), make_sample(7, "train", index)
        assert encode_png(first.source) == encode_png(second.source)
        assert encode_png(first.target) == encode_png(second.target)
        assert np.array_equal(first.mask, second.mask)
        assert first.instruction == second.instruction
        assert json.dumps(first.metadata, sort_keys=True) == json.dumps(second.metadata, sort_keys=True)


def test_seed_and_split_change_the_samples() -> None:
    base = make_sample(0, "test", 5)
    assert image_hash(make_sample(1, "test", 5).source) != image_hash(base.source)
    assert image_hash(make_sample(0, "train", 5).source) != image_hash(base.source)


def test_fingerprint_names_generator_version_and_settings() -> None:
    fingerprint = SynthEditSuite(seed=3, size=128, n_per_level=5).fingerprint()
    assert fingerprint["generator_version"] == GENERATOR_VERSION
    assert (fingerprint["seed"], fingerprint["size"], fingerprint["n_per_level"]) == (3, 128, 5)
    assert SynthEditSuite(seed=4).fingerprint() != SynthEditSuite(seed=3).fingerprint()


def test_samples_stream_lazily_and_respect_limit() -> None:
    suite = SynthEditSuite()
    stream = suite.samples("test", limit=3)
    assert inspect.isgenerator(stream)
    assert [sample.id for sample in stream] == [f"synth-edit/test/{i:05d}" for i in range(3)]


def test_other_canvas_sizes_render_at_that_size() -> None:
    sample = next(iter(SynthEditSuite(size=128).samples("test", limit=1)))
    assert sample.source.shape == (128, 128, 3) and sample.mask.shape == (128, 128)
