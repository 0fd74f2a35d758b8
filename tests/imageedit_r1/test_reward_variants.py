"""ImageEdit-R1's reward variants on a real synth-edit sample: what each one pays for."""

import pytest

from harness.rewards import RolloutOutcome
from imageedit_r1.rewards import suite_reward


def test_exact_variant_pays_only_the_exact_result_and_no_step_penalty(synth_samples):
    sample = synth_samples[3]  # L4: a multi-step edit

    def outcome_for(completion: str, row: dict) -> RolloutOutcome:
        image = {"right": sample.target, "unchanged": sample.source}[completion]
        return RolloutOutcome(sample, edited=image, well_formed=True, steps=6)

    rows = {"sample_id": [sample.id] * 2}
    exact = suite_reward("synth-edit", "exact", outcome_for)(["p", "p"], ["right", "unchanged"], **rows)
    harness = suite_reward("synth-edit", "harness", outcome_for)(["p", "p"], ["right", "unchanged"], **rows)
    # exact: 0.9 x exact + 0.1 format, the 6 steps cost nothing; the unchanged image earns format only
    assert exact == pytest.approx([1.0, 0.1])
    # harness: the same right image pays 0.06 for its 6 steps; partial credit and preservation add
    # to the unchanged image's reward
    assert harness[0] == pytest.approx(1.0 - 0.06)
    assert harness[1] > exact[1]


def test_unknown_variant_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown reward variant 'best'"):
        suite_reward("synth-edit", "best", lambda c, r: None)
