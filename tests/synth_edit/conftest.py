"""Shared fixtures: the default test split is generated once per session and reused."""

from __future__ import annotations

import pytest

from harness.suites.synth_edit.suite import SynthEditSuite
from harness.types import Sample


@pytest.fixture(scope="session")
def default_test_split() -> list[Sample]:
    samples = list(SynthEditSuite().samples("test"))
    assert all(isinstance(sample, Sample) for sample in samples)
    return samples


@pytest.fixture(scope="session")
def train_samples() -> list[Sample]:
    return list(SynthEditSuite().samples("train", limit=80))
