"""The statistics the board relies on, checked against known answers."""

from __future__ import annotations

import numpy as np

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
