import pytest

from harness.suites.synth_edit.suite import make_sample


@pytest.fixture(scope="session")
def synth_samples():
    """Four real synth-edit train samples (L1..L4) on a small canvas."""
    return [make_sample(0, "train", index, size=96) for index in range(4)]
