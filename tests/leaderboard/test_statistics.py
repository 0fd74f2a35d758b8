"""The statistics the board relies on, checked against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.statistics import bootstrap_ci, paired_bootstrap, paired_permutation_test


def coverage(draw, true_mean: float, repetitions: int = 200) -> float:
    hits = 0
    for rep in range(repetitions):
        data = draw(np.random.default_rng(1000 + rep))
        low, high = bootstrap_ci(data, seed=rep, n_resamples=1000)
        hits += low <= true_mean <= high
    return hits / repetitions


def test_bootstrap_ci_covers_a_known_normal_mean_about_95_percent_of_the_time():
    rate = coverage(lambda rng: rng.normal(0.3, 1.0, size=50), 0.3)
    assert 0.90 <= rate <= 0.99, rate


def test_bootstrap_ci_covers_a_known_bernoulli_rate():
    rate = coverage(lambda rng: (rng.random(80) < 0.7).astype(float), 0.7)
    assert 0.90 <= rate <= 0.99, rate


def test_bootstrap_ci_narrows_with_more_samples():
    rng = np.random.default_rng(3)
    small = bootstrap_ci(rng.normal(0, 1, 30), seed=0)
    large = bootstrap_ci(rng.normal(0, 1, 3000), seed=0)
    assert (large[1] - large[0]) < (small[1] - small[0]) / 5


def test_paired_tests_find_a_planted_difference():
    detected_boot = detected_perm = 0
    for rep in range(40):
        rng = np.random.default_rng(rep)
        base = rng.normal(0.5, 0.3, size=60)  # per-sample difficulty, shared by both editors
        a = base + rng.normal(0, 0.1, size=60)
        b = base + 0.1 + rng.normal(0, 0.1, size=60)
        result = paired_bootstrap(b, a, seed=rep)
        detected_boot += result.significant and result.ci_low > 0
        detected_perm += paired_permutation_test(b, a, seed=rep) < 0.05
        if rep == 0:
            assert abs(result.mean_difference - 0.1) < 0.05
            assert result.ci_low < result.mean_difference < result.ci_high
    assert detected_boot >= 38 and detected_perm >= 38, (detected_boot, detected_perm)


def test_paired_tests_do_not_find_a_null_difference():
    false_boot = false_perm = 0
    repetitions = 100
    for rep in range(repetitions):
        rng = np.random.default_rng(500 + rep)
        base = rng.normal(0.5, 0.3, size=60)
        a = base + rng.normal(0, 0.1, size=60)
        b = base + rng.normal(0, 0.1, size=60)
        false_boot += paired_bootstrap(b, a, seed=rep).significant
        false_perm += paired_permutation_test(b, a, seed=rep, n_permutations=1000) < 0.05
    # nominal 5%; allow for the bootstrap's small-sample optimism and Monte-Carlo noise
    assert false_boot / repetitions <= 0.12, false_boot
    assert false_perm / repetitions <= 0.12, false_perm


def test_pairing_matters_an_unpaired_view_would_miss_the_planted_difference():
    rng = np.random.default_rng(11)
    base = rng.normal(0.5, 0.5, size=40)  # large between-sample spread
    a = base + rng.normal(0, 0.02, size=40)
    b = base + 0.05 + rng.normal(0, 0.02, size=40)
    assert paired_bootstrap(b, a).significant
    low_a, high_a = bootstrap_ci(a)
    low_b, high_b = bootstrap_ci(b)
    assert low_b < high_a  # the marginal CIs overlap, the paired test still separates them


def test_two_settings_of_several_runs_count_run_spread_and_sample_noise():
    """Setting A: 2 runs, setting B: 3 runs, 4 shared samples; every number worked by hand."""
    from scipy.stats import t as student_t

    from harness.statistics import compare_settings

    a = [[1, 0, 1, 0], [1, 1, 1, 0]]  # run means 1/2, 3/4
    b = [[1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]]  # run means 1, 3/4, 3/4
    result = compare_settings(a, b)
    assert (result.runs_a, result.runs_b, result.n) == (2, 3, 4)
    assert result.difference == pytest.approx(5 / 24)  # 5/6 - 5/8
    runs_a, runs_b = 1 / 64, 1 / 144  # each run-mean variance over its run count
    assert result.se_runs == pytest.approx(math.sqrt(runs_a + runs_b))
    # per-sample differences of the run averages: 0, 1/2, -1/3, 2/3
    samples = 91 / 1728
    assert result.se_samples == pytest.approx(math.sqrt(samples))
    total = runs_a + runs_b + samples
    assert result.se == pytest.approx(math.sqrt(total))
    assert result.dof == pytest.approx(total**2 / (runs_a**2 / 1 + runs_b**2 / 2 + samples**2 / 3))
    half = student_t.ppf(0.975, result.dof) * result.se
    assert (result.ci_low, result.ci_high) == pytest.approx((5 / 24 - half, 5 / 24 + half))
    # one run in a setting: its spread is unknown, so there is no standard error or interval
    single = compare_settings(a[:1], b)
    assert single.difference == pytest.approx(5 / 6 - 1 / 2) and single.se_samples > 0
    assert math.isnan(single.se) and math.isnan(single.ci_low) and math.isnan(single.dof)
    with pytest.raises(ValueError, match="same samples"):
        compare_settings(a, [[1, 0, 1]])


def test_the_settings_interval_covers_a_zero_difference_about_95_percent_of_the_time():
    """Runs that differ by a random offset each (training noise), samples of shared difficulty,
    a per-setting reaction to each sample and per-run noise; the two settings are equal on average."""
    from harness.statistics import compare_settings

    hits, repetitions = 0, 400
    for rep in range(repetitions):
        rng = np.random.default_rng(rep)
        difficulty = rng.normal(0.0, 0.3, size=120)

        def runs(count: int, rng: np.random.Generator = rng, base: np.ndarray = difficulty) -> np.ndarray:
            reaction = rng.normal(0.0, 0.1, size=base.size)
            offsets = rng.normal(0.0, 0.05, size=(count, 1))
            return base + reaction + offsets + rng.normal(0.0, 0.2, size=(count, base.size))

        result = compare_settings(runs(5), runs(3))
        hits += result.ci_low <= 0.0 <= result.ci_high
    assert 0.91 <= hits / repetitions <= 0.99


def test_settings_whose_runs_continue_each_other_use_the_runs_own_differences():
    """GRPO seed k from SFT seed k: the run term is the spread of the two runs' differences."""
    from harness.statistics import compare_settings

    start = [[1, 0, 1, 0], [1, 1, 1, 0]]  # run means 1/2, 3/4
    stage = [[1, 1, 1, 1], [1, 1, 0, 1]]  # run means 1, 3/4: own differences 1/2, 0
    result = compare_settings(start, stage, paired_runs=True)
    assert result.difference == pytest.approx(1 / 4)
    assert result.se_runs == pytest.approx(math.sqrt(1 / 16))  # var(1/2, 0) = 1/8, over 2 runs
    samples = 1.25 / 12  # per-sample differences 0, 1/2, -1/2, 1
    assert result.se == pytest.approx(math.sqrt(1 / 16 + samples))
    assert result.dof == pytest.approx((1 / 16 + samples) ** 2 / ((1 / 16) ** 2 / 1 + samples**2 / 3))
    with pytest.raises(ValueError, match="as many runs"):
        compare_settings(start, stage[:1], paired_runs=True)
