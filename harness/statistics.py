"""Uncertainty for leaderboard cells: seeded bootstrap CIs and paired tests between editors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000


def bootstrap_ci(
    values: Sequence[float], *, seed: int = 0, n_resamples: int = DEFAULT_RESAMPLES, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean. NaN bounds for an empty sample; a point for n == 1."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return (float("nan"), float("nan"))
    if data.size == 1 or np.all(data == data[0]):
        return (float(data[0]), float(data[0]))
    rng = np.random.default_rng(seed)
    means = _resampled_means(data, rng, n_resamples)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def _resampled_means(data: np.ndarray, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    n = data.size
    if n * n_resamples <= _CACHED_ENTRIES_MAX:
        # the resampling counts depend only on (rng state, n, n_resamples): reuse them across the
        # many cells of a leaderboard, and take every mean at once as a matrix product
        state = rng.bit_generator.state
        key = (repr(state), n, n_resamples)
        counts = _COUNTS_CACHE.get(key)
        if counts is None:
            idx = rng.integers(0, n, size=(n_resamples, n))
            flat = (idx + (np.arange(n_resamples) * n)[:, None]).ravel()
            counts = np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(np.float64)
            if len(_COUNTS_CACHE) >= _COUNTS_CACHE_SIZE:
                _COUNTS_CACHE.pop(next(iter(_COUNTS_CACHE)))
            _COUNTS_CACHE[key] = counts
        return counts @ data / n
    chunk = max(1, min(n_resamples, 4_000_000 // n))
    means = np.empty(n_resamples, dtype=np.float64)
    for start in range(0, n_resamples, chunk):
        stop = min(n_resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = data[idx].mean(axis=1)
    return means


_CACHED_ENTRIES_MAX = 2_000_000
_COUNTS_CACHE_SIZE = 16
_COUNTS_CACHE: dict[tuple[str, int, int], np.ndarray] = {}


@dataclass(frozen=True)
class PairedComparison:
    """Mean of (a - b) over shared samples, its bootstrap CI and a two-sided p-value."""

    n: int
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, n_resamples: int = DEFAULT_RESAMPLES
) -> PairedComparison:
    """Paired bootstrap over per-sample differences (a and b aligned by sample)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.size == 0:
        nan = float("nan")
        return PairedComparison(0, nan, nan, nan, 1.0)
    mean = float(diff.mean())
    if np.all(diff == diff[0]):
        return PairedComparison(diff.size, mean, mean, mean, 1.0 if mean == 0 else 0.0)
    rng = np.random.default_rng(seed)
    means = _resampled_means(diff, rng, n_resamples)
    low, high = np.quantile(means, [0.025, 0.975])
    # p-value: how often the bootstrap distribution, shifted to a null mean of 0, is as extreme
    centred = means - mean
    p = float((np.sum(np.abs(centred) >= abs(mean)) + 1) / (n_resamples + 1))
    return PairedComparison(diff.size, mean, float(low), float(high), min(1.0, p))


def paired_permutation_test(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, n_permutations: int = DEFAULT_RESAMPLES
) -> float:
    """Two-sided sign-flip permutation test on paired differences; returns the p-value."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.size == 0 or np.all(diff == 0):
        return 1.0
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_permutations, diff.size))
    null = np.abs((signs * diff).mean(axis=1))
    return float((np.sum(null >= observed - 1e-12) + 1) / (n_permutations + 1))


@dataclass(frozen=True)
class SettingComparison:
    """Setting B minus setting A when each is several training runs scored on the same samples.

    The paired per-sample standard error treats each run as fixed. Between runs of one recipe the
    score can move by several points (another seed, or GPU arithmetic), so a claim about the
    recipe also needs the run-to-run spread: ``se_runs`` is Welch's term from the runs' mean
    scores, ``se_samples`` the paired standard error of the per-sample difference of the run
    averages, and ``se`` both together. The interval uses Student's t with the
    Welch-Satterthwaite degrees of freedom of the two terms. With one run in a setting the spread
    is unknown and ``se``, ``dof`` and the interval are NaN. ``run_sd`` is the spread of one run's
    score behind ``se_runs`` (pooled over both settings, or of the paired runs' own differences),
    the input of :func:`runs_needed`."""

    runs_a: int
    runs_b: int
    n: int
    difference: float
    se_runs: float
    se_samples: float
    se: float
    dof: float
    ci_low: float
    ci_high: float
    run_sd: float


def compare_settings(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], *, paired_runs: bool = False
) -> SettingComparison:
    """``a`` and ``b``: one row per run, one column per sample, both in the same sample order.

    ``paired_runs``: row k of ``b`` continues row k of ``a`` (a training stage and its start, with
    one seed per row), so the run term is the spread of the runs' own differences (n - 1 degrees
    of freedom) instead of Welch's two spreads."""
    from scipy.stats import t as student_t

    runs_a, runs_b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if runs_a.ndim != 2 or runs_b.ndim != 2 or runs_a.shape[1] != runs_b.shape[1] or runs_a.shape[1] == 0:
        raise ValueError("both settings need runs x samples scores over the same samples")
    n = runs_a.shape[1]
    per_sample = runs_b.mean(axis=0) - runs_a.mean(axis=0)
    difference = float(per_sample.mean())
    se_samples = float(per_sample.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    parts = []  # (variance of the term, its degrees of freedom)
    if paired_runs:
        if runs_a.shape[0] != runs_b.shape[0]:
            raise ValueError("paired runs need as many runs in each setting")
        count = runs_a.shape[0]
        own = runs_b.mean(axis=1) - runs_a.mean(axis=1)
        parts.append((own.var(ddof=1) / count if count > 1 else float("nan"), count - 1))
        run_sd = float(own.std(ddof=1)) if count > 1 else float("nan")
    else:
        run_sd = pooled_run_sd(runs_a, runs_b)
        for runs in (runs_a, runs_b):
            count = runs.shape[0]
            spread = runs.mean(axis=1).var(ddof=1) / count if count > 1 else float("nan")
            parts.append((spread, count - 1))
    se_runs = float(np.sqrt(sum(variance for variance, _ in parts)))
    parts.append((se_samples**2, n - 1))
    total = sum(variance for variance, _ in parts)
    nan = float("nan")
    if not np.isfinite(total):
        return SettingComparison(
            len(runs_a), len(runs_b), n, difference, se_runs, se_samples, nan, nan, nan, nan, run_sd
        )
    se = float(np.sqrt(total))
    denominator = sum(variance**2 / dof for variance, dof in parts if dof > 0 and variance > 0)
    dof = float(total**2 / denominator) if denominator > 0 else float("inf")
    half = float(student_t.ppf(0.975, dof)) * se if se > 0 else 0.0
    return SettingComparison(
        len(runs_a),
        len(runs_b),
        n,
        difference,
        se_runs,
        se_samples,
        se,
        dof,
        difference - half,
        difference + half,
        run_sd,
    )


def runs_needed(
    run_sd: float, difference: float, *, paired: bool = False, power: float = 0.8, alpha: float = 0.05
) -> float:
    """Runs per setting for a two-sided test at ``alpha`` to find ``difference`` with ``power``,
    when one run's mean score has standard deviation ``run_sd`` (normal approximation, equal runs
    per setting, sample noise left out: a lower bound). ``paired``: ``run_sd`` is the spread of
    the paired runs' own differences, and the count is of pairs. Infinite for a zero difference."""
    from scipy.stats import norm

    if difference == 0:
        return float("inf")
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return float((1 if paired else 2) * (z * run_sd / difference) ** 2)


def pooled_run_sd(*settings: Sequence[Sequence[float]]) -> float:
    """Standard deviation of one run's mean score, pooled over settings of runs x samples scores
    (NaN when no setting has two runs)."""
    squares, dof = 0.0, 0
    for runs in settings:
        means = np.asarray(runs, dtype=np.float64).mean(axis=1)
        if means.size > 1:
            squares += float(((means - means.mean()) ** 2).sum())
            dof += means.size - 1
    return float(np.sqrt(squares / dof)) if dof else float("nan")
