"""Official aggregations on hand-worked numbers: macro vs micro gives different answers on purpose."""

from __future__ import annotations

import pytest

from harness.protocols import ScoredItem
from harness.suites.benchmarks import aggregation as agg


def items(*rows: tuple[str, str, float]) -> list[ScoredItem]:
    return [ScoredItem(f"s{i}", category, level, value) for i, (category, level, value) in enumerate(rows)]


def test_gedit_is_mean_of_group_means() -> None:
    scored = items(
        ("background_change", "", 8.0),
        ("background_change", "", 6.0),
        ("subject-add", "", 2.0),
        *[("text_change", "", 5.0)] * 4,
    )
    # group means 7, 2, 5 -> (7 + 2 + 5) / 3 = 4.6667; the pooled mean would be 36 / 7 = 5.1429
    assert agg.gedit_overall(scored) == pytest.approx(14 / 3)
    assert agg.gedit_overall(scored) != pytest.approx(36 / 7)


def test_imgedit_overall_is_mean_over_types() -> None:
    scored = items(
        ("add", "", 4.0), ("add", "", 5.0), ("remove", "", 3.0), *[("style", "", 5.0)] * 3, ("style", "", 2.0)
    )
    # type means 4.5, 3.0, 4.25 -> 11.75 / 3 = 3.9167; pooled would be 29 / 7 = 4.1429
    assert agg.imgedit_overall(scored) == pytest.approx(11.75 / 3)


def test_complex_edit_levels_and_per_sample_overall() -> None:
    scored = items(("real", "C1", 9.0), ("real", "C1", 7.0), ("real", "C8", 3.0))
    # level means C1 = 8, C8 = 3 -> 5.5; pooled would be 19 / 3
    assert agg.complex_edit_overall(scored) == pytest.approx(5.5)
    assert agg.complex_edit_o(8.0, 6.0, 7.0) == pytest.approx(7.0)


def test_kris_pools_normalised_scores_and_rejects_out_of_range() -> None:
    # judge scores 5, 3, 1, 4 on 1..5 become (s - 1) * 25 = 100, 50, 0, 75
    assert [agg.kris_normalise(s) for s in (5, 3, 1, 4)] == [100.0, 50.0, 0.0, 75.0]
    scored = items(
        ("biology", "", 100.0), ("biology", "", 50.0), ("physics", "", 0.0), ("humanities", "", 75.0)
    )
    # pooled mean 56.25; a macro over the three tasks would be (75 + 0 + 75) / 3 = 50
    assert agg.kris_overall(scored) == pytest.approx(56.25)
    with pytest.raises(ValueError, match="sample s0 is outside 0..100"):
        agg.kris_overall(items(("biology", "", 101.0)))
    with pytest.raises(ValueError, match="outside 1..5"):
        agg.kris_normalise(0.0, "s9")


def test_rise_accuracy_is_pooled_share_of_full_marks() -> None:
    scored = items(
        ("temporal", "", 1.0),
        ("temporal", "", 0.0),
        ("causal", "", 1.0),
        ("causal", "", 0.0),
        ("causal", "", 0.0),
    )
    # 2 of 5 items at full marks -> 40%; a macro over categories would give (50 + 33.3) / 2 = 41.7
    assert agg.rise_accuracy(scored) == pytest.approx(40.0)
    assert agg.rise_full_marks({"reasoning": 5, "consistency": None, "plausibility": 5}) == 1.0
    assert agg.rise_full_marks({"reasoning": 5, "consistency": 4, "plausibility": 5}) == 0.0


def test_empty_input_is_an_error_not_a_number() -> None:
    for function in (
        agg.gedit_overall,
        agg.imgedit_overall,
        agg.complex_edit_overall,
        agg.kris_overall,
        agg.rise_accuracy,
    ):
        with pytest.raises(ValueError):
            function([])


def test_suites_declare_their_official_aggregation() -> None:
    from harness import registry

    expected = {
        "gedit-bench": agg.gedit_overall,
        "imgedit": agg.imgedit_overall,
        "complex-edit": agg.complex_edit_overall,
        "kris-bench": agg.kris_overall,
        "risebench": agg.rise_accuracy,
    }
    for name, function in expected.items():
        cls, _ = registry.suites.factory(name)
        module, _, attr = cls.official_aggregation.partition(":")
        assert getattr(__import__(module, fromlist=[attr]), attr) is function
