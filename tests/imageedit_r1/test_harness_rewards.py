"""harness.rewards: metric -> reward adapter, through the real pixel metrics."""

import math

import numpy as np
import pytest

from harness.rewards import CompositeReward, MetricReward, Penalties, RolloutOutcome, normalise
from harness.types import Sample


def _sample() -> Sample:
    rng = np.random.default_rng(0)
    source = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    target = 255 - source
    mask = np.zeros((16, 16), dtype=bool)
    mask[4:8, 4:8] = True
    return Sample(id="s1", source=source, instruction="invert", target=target, mask=mask)


SAMPLE = _sample()


def outcome_for(completion: str, row: dict) -> RolloutOutcome:
    """A real outcome per completion kind: the target, the unedited source, nothing, or a crash."""
    if completion == "good":
        return RolloutOutcome(SAMPLE, edited=SAMPLE.target, well_formed=True, steps=1)
    if completion == "long-good":
        return RolloutOutcome(SAMPLE, edited=SAMPLE.target, well_formed=True, steps=12, invalid_calls=3)
    if completion == "bad":
        return RolloutOutcome(SAMPLE, edited=SAMPLE.source, well_formed=True, steps=1)
    if completion == "garbage":
        return RolloutOutcome(SAMPLE, policy_error="no JSON array", steps=0)
    return RolloutOutcome(SAMPLE, infra_error="tool crashed")


def test_metric_reward_maps_records_to_rewards():
    reward = MetricReward("psnr", outcome_for, bounds=(10.0, 50.0))
    values = reward(["p"] * 4, ["good", "bad", "garbage", "crash"], sample_id=["s1"] * 4)
    assert values[0] == 1.0  # identical to the target: PSNR at the metric's maximum
    assert 0.0 <= values[1] < 0.2  # the inverted image is far from the target
    assert values[2] == 0.0  # policy error: worst
    assert values[3] is None  # infrastructure failure: neutral


def test_composite_reward_clips_penalties_so_correct_long_beats_wrong_short():
    reward = CompositeReward(
        [("psnr", 0.8, MetricReward("psnr", outcome_for, bounds=(10.0, 50.0)))],
        outcome_for,
        format_weight=0.1,
        penalties=Penalties(per_step=0.01, per_invalid_call=0.05, cap=0.1),
    )
    long_good, short_bad, garbage, crash = reward(["p"] * 4, ["long-good", "bad", "garbage", "crash"])
    assert math.isclose(long_good, 0.8 + 0.1 - 0.1)
    assert short_bad < long_good
    assert garbage == 0.0
    assert crash is None


def test_composite_rejects_a_penalty_cap_above_the_success_weight():
    with pytest.raises(ValueError, match="penalty cap"):
        CompositeReward([("psnr", 0.05, MetricReward("psnr", outcome_for))], outcome_for)


def test_normalise_handles_direction_and_infinity():
    assert normalise(30.0, (10.0, 50.0)) == 0.5
    assert normalise(math.inf, (10.0, 50.0)) == 1.0
    assert normalise(0.25, (0.0, 1.0), higher_is_better=False) == 0.75
