"""bench/r1_paired_eval.py: paired differences and their standard errors, and the per-level picture
reading each sample's stored level."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ..conftest import load_bench

ROOT = Path(__file__).resolve().parents[2]
paired_eval = load_bench("r1_paired_eval")


def test_paired_difference_and_its_standard_error():
    per_sample = {
        "a": {"s1": 1.0, "s2": 0.0, "s3": 1.0, "s4": 0.0},
        "b": {"s1": 1.0, "s2": 1.0, "s3": 1.0, "s4": 1.0},
    }
    levels = {"s1": "L1", "s2": "L1", "s3": "L2", "s4": "L2"}
    table = paired_eval.paired_levels(per_sample, levels, ["a", "b"])
    l1 = table["L1"]
    assert {k: l1[k] for k in ("n", "a", "b", "b_minus_a", "b_minus_a_se")} == {
        "n": 2,
        "a": 0.5,
        "b": 1.0,
        "b_minus_a": 0.5,
        "b_minus_a_se": 0.5,
    }
    # the bootstrap of differences (0, 1): resampled means are 0, 0.5 or 1
    assert l1["b_minus_a_ci95"] == [0.0, 1.0] and 0 < l1["b_minus_a_p"] <= 1
    # all: differences 0, 1, 0, 1 -> mean 0.5, sample variance 1/3, s.e. sqrt(1/12)
    assert table["all"]["b_minus_a"] == 0.5
    assert math.isclose(table["all"]["b_minus_a_se"], math.sqrt(1 / 12))


def test_the_picture_groups_samples_by_their_stored_level(tmp_path, monkeypatch):
    drawn: dict[str, list[float]] = {}

    def spy_bar(self, xs, means, *args, label=None, **kwargs):
        drawn[label] = list(means)

    import matplotlib.axes

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", spy_bar)
    result = {
        "columns": ["a"],
        # index % 4 would put both in L1; the stored levels say L2 and L3
        "per_sample": {"synth-edit/test/00000": [1.0], "synth-edit/test/00004": [0.0]},
        "sample_levels": {"synth-edit/test/00000": "L2", "synth-edit/test/00004": "L3"},
    }
    paired_eval.plot_levels(result, tmp_path / "p.png", "t")
    assert drawn == {"a": [1.0, 0.0]}
    del result["sample_levels"]  # a file written before levels were stored: the generator's rule
    paired_eval.plot_levels(result, tmp_path / "q.png", "t")
    assert drawn == {"a": [0.5]}


paired_merge = load_bench("r1_paired_merge")


def _file(columns, rows, levels):
    return {"what": "w", "columns": columns, "per_sample": rows, "sample_levels": levels}


def test_files_of_the_same_samples_merge_into_one_paired_table(tmp_path):
    levels = {"s1": "L1", "s2": "L1", "s3": "L2", "s4": "L2"}
    first = _file(
        ["a", "b"], {"s1": [1.0, 1.0], "s2": [0.0, 1.0], "s3": [1.0, 0.0], "s4": [0.0, 0.0]}, levels
    )
    second = _file(
        ["c", "a"], {"s1": [0.0, 9.0], "s2": [0.0, 9.0], "s3": [1.0, 9.0], "s4": [1.0, 9.0]}, levels
    )
    merged = paired_merge.merge([first, second], reference="b")
    assert merged["columns"] == ["b", "a", "c"]  # the reference first; "a" kept from the first file
    assert merged["per_sample"]["s2"] == [1.0, 0.0, 0.0]
    assert merged["levels"]["L1"]["c_minus_b"] == -1.0 and merged["levels"]["L2"]["c_minus_b"] == 1.0
    assert merged["levels"]["L1"]["a_minus_b"] == -0.5 and merged["levels"]["all"]["a_minus_b"] == 0.0
    paired_merge.plot_differences(merged, tmp_path / "d.png", "t")
    assert (tmp_path / "d.png").stat().st_size > 0
    assert "plans" not in merged  # neither file kept plans
    # greedy plans (r1_paired_eval.py --plans) travel with their columns; a dropped column's do not
    first["plans"] = {"a": {"s1": "A1"}, "b": {"s1": "B1"}}
    second["plans"] = {"a": {"s1": "other"}, "c": {"s1": "C1"}}
    second["prompts"] = {"s1": "instruction: x\nregions: o1 red circle small 1 1\nplan:"}
    kept = paired_merge.merge([first, second], reference="b", keep=["a"])
    assert kept["plans"] == {"a": {"s1": "A1"}, "b": {"s1": "B1"}}  # "a" as the first file has it
    assert kept["prompts"] == second["prompts"]  # the samples' prompts, from the file that kept them


def test_greedy_plans_are_kept_per_sample_with_plans(tmp_path, run_bench, synth_examples):
    import json

    from imageedit_r1.training.sft import SFTConfig, train_sft

    config = SFTConfig(output_dir=str(tmp_path / "plan"), model_size="micro", max_steps=3, batch_size=4)
    train_sft(synth_examples, config)
    out = tmp_path / "p.json"
    args = ["--synth", "4", "--workers", "1", "--entry", f"m={tmp_path / 'plan' / 'final'}", "--out", out]
    run_bench("r1_paired_eval.py", *args, "--plans", "--confidence", "--baseline", "classic-pipeline")
    result = json.loads(out.read_text())
    assert sorted(result["plans"]["m"]) == sorted(result["per_sample"])
    # --confidence: each greedy plan's token log-probabilities (and its end's) under its checkpoint
    from imageedit_r1.channel import completion_token_logprobs
    from imageedit_r1.policy import load_policy

    ids = sorted(result["per_sample"])
    expected = completion_token_logprobs(
        load_policy(tmp_path / "plan" / "final", device="cpu"),
        [result["prompts"][i] for i in ids],
        [result["plans"]["m"][i] for i in ids],
    )
    for sid, row in zip(ids, expected, strict=True):
        assert result["token_logprobs"]["m"][sid] == pytest.approx(row, abs=1e-4)
    # which is what the deferral bench reads to choose a gate and store it with the checkpoint
    run_bench(
        "r1_deferral.py",
        "--select",
        out,
        "--entry",
        "m",
        "--out",
        tmp_path / "gate.json",
        "--write-gate",
        tmp_path / "plan" / "final",
        "--sentences",
        "--workers",
        "1",
    )
    gate = json.loads((tmp_path / "gate.json").read_text())["gate"]
    assert set(gate) == {"threshold", "single_sentence", "sentence_threshold"}
    assert (
        json.loads((tmp_path / "plan" / "final" / "deferral.json").read_text())["threshold"]
        == gate["threshold"]
    )
    assert all(isinstance(text, str) for text in result["plans"]["m"].values())
    # the prompts hold the region lists whose handles the plans name
    assert sorted(result["prompts"]) == sorted(result["per_sample"])
    assert all("regions: o1 " in prompt for prompt in result["prompts"].values())
    run_bench("r1_paired_eval.py", *args)  # without the options, no plans are kept
    assert not {"plans", "prompts", "token_logprobs"} & set(json.loads(out.read_text()))


def test_a_run_stopped_part_way_keeps_its_columns_and_a_rerun_scores_the_rest(
    tmp_path, run_bench, micro_policy_dir
):
    import json
    import shutil

    out, later = tmp_path / "p.json", tmp_path / "later"
    args = ["--synth", "4", "--workers", "1", "--plans", "--out", out]
    args += ["--entry", f"a={micro_policy_dir}", "--entry", f"b={later}", "--baseline", "identity"]
    # b's checkpoint is not there yet: the run stops at b, after a's column was written
    stopped = run_bench("r1_paired_eval.py", *args, expect=1)
    last = stopped.stderr.strip().splitlines()[-1]
    assert last == f"error: entry b: no checkpoint at {later}; the finished columns are kept"
    first = json.loads(out.read_text())
    assert first["columns"] == ["a"] and first["partial"]["done"] == {"a": ["a"]}
    assert sorted(first["plans"]["a"]) == sorted(first["per_sample"])
    assert not out.with_name("p.json.partial").exists()

    # other settings on that partial file: one line, nothing scored, the file kept
    other = run_bench("r1_paired_eval.py", *args[:-1], "classic-pipeline", expect=1)
    assert other.stderr.strip() == (
        f"error: {out} holds a partial run with other settings; rerun it with those, or remove the file"
    )
    assert json.loads(out.read_text()) == first

    shutil.copytree(micro_policy_dir, later)
    done = run_bench("r1_paired_eval.py", *args)
    assert "kept from the interrupted run: a" in done.stdout
    result = json.loads(out.read_text())
    assert "partial" not in result and result["columns"] == ["a", "b", "identity"]
    assert result["seconds"]["a"] == first["seconds"]["a"]  # a was not scored again
    a, b = paired_eval.column(result, "a"), paired_eval.column(result, "b")
    assert a == paired_eval.column(first, "a") and b == a  # b is the same checkpoint
    assert result["plans"]["a"] == first["plans"]["a"] and result["plans"]["b"] == result["plans"]["a"]
    assert result["levels"]["all"]["n"] == 4 and "b_minus_a" in result["levels"]["all"]

    # a finished file is no partial run: the same command scores everything again; so is a file
    # that is no paired evaluation at all
    again = run_bench("r1_paired_eval.py", *args)
    assert "kept from" not in again.stdout
    out.write_text("[1, 2]")
    run_bench("r1_paired_eval.py", *args)
    assert json.loads(out.read_text())["columns"] == ["a", "b", "identity"]
    duplicate = run_bench("r1_paired_eval.py", *args, "--baseline", "identity", expect=1)
    assert duplicate.stderr.strip().startswith("error: each --entry and --baseline needs its own name")


def test_files_of_other_samples_or_a_missing_reference_are_refused():
    import pytest

    levels = {"s1": "L1"}
    one = _file(["a"], {"s1": [1.0]}, levels)
    other = _file(["b"], {"s2": [1.0]}, {"s2": "L1"})
    with pytest.raises(paired_merge.MergeError, match="other samples"):
        paired_merge.merge([one, other])
    with pytest.raises(paired_merge.MergeError, match="no column 'z'; the files have a"):
        paired_merge.merge([one], reference="z")


def test_an_average_column_is_the_per_sample_mean_of_its_columns():
    import pytest

    levels = {"s1": "L1", "s2": "L1"}
    result = _file(["ref", "x", "y"], {"s1": [0.0, 1.0, 0.0], "s2": [0.0, 1.0, 1.0]}, levels)
    merged = paired_merge.merge([result], averages={"xy": ["x", "y"]})
    assert merged["per_sample"]["s1"][-1] == 0.5 and merged["per_sample"]["s2"][-1] == 1.0
    assert merged["levels"]["L1"]["xy_minus_ref"] == 0.75
    with pytest.raises(paired_merge.MergeError, match="--average xy: no column z"):
        paired_merge.merge([result], averages={"xy": ["x", "z"]})


def test_a_gain_column_is_each_samples_change_and_gains_compare_as_paired_columns(tmp_path):
    import pytest

    levels = {"s1": "L1", "s2": "L1", "s3": "L1"}
    # two starts and what each stage made of them: "rl" fixes s1 and s2, "more" fixes s1 and breaks s3
    result = _file(
        ["start_a", "rl", "start_b", "more"],
        {"s1": [0.0, 1.0, 0.0, 1.0], "s2": [0.0, 1.0, 1.0, 1.0], "s3": [1.0, 1.0, 1.0, 0.0]},
        levels,
    )
    merged = paired_merge.merge(
        [result],
        reference="gain_more",
        gains={"gain_rl": ("rl", "start_a"), "gain_more": ("more", "start_b")},
    )
    assert merged["columns"][0] == "gain_more"
    assert [merged["per_sample"][s][0] for s in ("s1", "s2", "s3")] == [1.0, 0.0, -1.0]
    row = merged["levels"]["L1"]
    assert row["gain_more"] == 0.0 and row["gain_rl"] == pytest.approx(2 / 3)
    # per sample, the RL gain minus the other gain is 0, 1, 1
    assert row["gain_rl_minus_gain_more"] == pytest.approx(2 / 3)
    assert row["gain_rl_minus_gain_more_se"] == pytest.approx((1 / 3) ** 0.5 / 3**0.5)
    assert merged["gains"] == {"gain_rl": ["rl", "start_a"], "gain_more": ["more", "start_b"]}
    with pytest.raises(paired_merge.MergeError, match="--gain g: no column nope"):
        paired_merge.merge([result], gains={"g": ("rl", "nope")})
    kept = paired_merge.merge(
        [result],
        reference="gain_more",
        gains={"gain_rl": ("rl", "start_a"), "gain_more": ("more", "start_b")},
        keep=["gain_rl"],
    )
    assert kept["columns"] == ["gain_more", "gain_rl"] and kept["per_sample"]["s3"] == [-1.0, 0.0]
    with pytest.raises(paired_merge.MergeError, match="--keep: no column x"):
        paired_merge.merge([result], keep=["x"])
    paired_merge.plot_means(kept, tmp_path / "means.png", "gains")
    assert (tmp_path / "means.png").stat().st_size > 0
    # twelve columns get twelve colours (matplotlib's default cycle repeats after ten)
    assert len(set(paired_merge.column_colors(12))) == 12 and len(paired_merge.column_colors(3)) == 3


def test_an_average_of_gains_equals_the_gain_of_averages_and_a_cycle_is_refused():
    import pytest

    levels = {"s1": "L1", "s2": "L2", "s3": "L2"}
    result = _file(
        ["a0", "a1", "b0", "b1"],
        {"s1": [0.0, 1.0, 1.0, 1.0], "s2": [0.0, 0.0, 1.0, 0.0], "s3": [1.0, 1.0, 0.0, 1.0]},
        levels,
    )
    merged = paired_merge.merge(
        [result],
        averages={"gain_mean": ["gain_a", "gain_b"], "end": ["a1", "b1"], "start": ["a0", "b0"]},
        gains={"gain_a": ("a1", "a0"), "gain_b": ("b1", "b0"), "gain_of_means": ("end", "start")},
        keep=["gain_mean", "gain_of_means"],
    )
    columns = merged["columns"]
    by_sample = {s: dict(zip(columns, row, strict=True)) for s, row in merged["per_sample"].items()}
    # a gains 1, 0, 0 and b gains 0, -1, 1: their mean per sample is 0.5, -0.5, 0.5
    assert [by_sample[s]["gain_mean"] for s in ("s1", "s2", "s3")] == [0.5, -0.5, 0.5]
    assert all(by_sample[s]["gain_mean"] == by_sample[s]["gain_of_means"] for s in by_sample)
    assert merged["levels"]["L2"]["gain_mean"] == 0.0 and merged["levels"]["L1"]["gain_mean"] == 0.5
    with pytest.raises(paired_merge.MergeError, match="--average x: no column y"):
        paired_merge.merge([result], averages={"x": ["y", "a0"], "y": ["x", "a1"]})
    with pytest.raises(paired_merge.MergeError, match=r"--average e: no column \(none given\)"):
        paired_merge.merge([result], averages={"e": []})


def test_a_clear_paired_difference_has_a_small_bootstrap_p_value():
    ids = [f"s{i}" for i in range(40)]
    per_sample = {"a": {i: 0.0 for i in ids}, "b": {i: float(k % 2) for k, i in enumerate(ids)}}
    row = paired_eval.paired_levels(per_sample, dict.fromkeys(ids, "L1"), ["a", "b"])["L1"]
    low, high = row["b_minus_a_ci95"]
    assert row["b_minus_a"] == 0.5 and 0.3 < low < 0.5 < high < 0.7
    assert row["b_minus_a_p"] < 0.01


def test_nothing_to_evaluate_is_one_line_and_a_non_zero_exit(tmp_path, run_bench):
    out = tmp_path / "x.json"
    done = run_bench("r1_paired_eval.py", "--out", out, expect=1)
    assert done.stderr.strip() == "error: give at least one --entry NAME=CHECKPOINT or --baseline EDITOR"
    assert not out.exists()


def test_a_baseline_alone_is_evaluated_end_to_end(tmp_path, run_bench):
    import json

    out = tmp_path / "b.json"
    args = ["--synth", "4", "--offset", "8", "--workers", "1", "--baseline", "classic-pipeline", "--out", out]
    run_bench("r1_paired_eval.py", *args)
    result = json.loads(out.read_text())
    assert sorted(result["per_sample"]) == [f"synth-edit/test/{i:05d}" for i in range(8, 12)]
    assert result["sample_levels"] == {f"synth-edit/test/{i:05d}": f"L{i % 4 + 1}" for i in range(8, 12)}
    assert result["columns"] == ["classic-pipeline"] and result["levels"]["all"]["n"] == 4
    assert result["what"].startswith("synth-edit test samples 8-11 (held-out phrasings")
    assert result["device"]["cpu_count"] >= 1


seed_spread = load_bench("r1_seed_spread")


def test_seed_spread_gives_each_group_its_mean_lowest_and_highest_seed(tmp_path, run_bench):
    import json

    import pytest

    rows = {
        "synth-edit/test/00000": [1.0, 0.0, 1.0, 1.0],
        "synth-edit/test/00001": [0.0, 0.0, 1.0, 0.0],
        "synth-edit/test/00004": [1.0, 1.0, 0.0, 1.0],
    }
    result = _file(["a_s0", "a_s1", "b_s0", "classic"], rows, {})
    table = seed_spread.spread(result, [("A", ["a_s0", "a_s1"]), ("B", ["b_s0"])])
    # samples 0 and 4 are L1, sample 1 is L2 (index % 4)
    assert table["A"]["L1"] == {"mean": 0.75, "low": 0.5, "high": 1.0, "seeds": 2}
    assert table["A"]["L2"] == {"mean": 0.0, "low": 0.0, "high": 0.0, "seeds": 2}
    assert table["B"]["all"]["mean"] == pytest.approx(2 / 3)
    with pytest.raises(seed_spread.SpreadError, match="no column 'c_s0'"):
        seed_spread.spread(result, [("C", ["c_s0"])])
    with pytest.raises(seed_spread.SpreadError, match="NAME=COLUMN"):
        seed_spread.parse_group("a_s0,a_s1")
    path = tmp_path / "paired.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    args = [path, "--out", tmp_path / "s.png", "--baseline", "classic"]
    done = run_bench("r1_seed_spread.py", *args, "--group", "A=a_s0,a_s1")
    assert "A: L1 0.7500 [0.5000, 1.0000]" in done.stdout and (tmp_path / "s.png").stat().st_size > 0
    refused = run_bench("r1_seed_spread.py", *args, "--group", "A=a_s9", expect=1)
    assert refused.stderr.strip().splitlines() == [
        "error: no column 'a_s9'; the file has a_s0, a_s1, b_s0, classic"
    ]


def test_training_curves_read_each_run_and_key_from_a_joined_log(tmp_path, run_bench):
    import json

    import pytest

    module = load_bench("r1_training_curves")
    rows = [
        {"run": "a", "step": 10, "reward": 0.6, "entropy": 0.3},
        {"run": "a", "step": 5, "reward": 0.5, "entropy": 0.4},
        {"run": "a", "step": 10, "train_loss": 0.1},  # the end-of-run summary: no reward
        {"run": "b", "step": 5, "reward": 0.7},
    ]
    table = module.curves(rows, ["a", "b"], ["reward", "entropy"])
    assert table["a"]["reward"] == [(5, 0.5), (10, 0.6)]  # in step order, the summary left out
    assert table["b"] == {"reward": [(5, 0.7)], "entropy": []}
    with pytest.raises(module.CurvesError, match="no run 'c' in the log; it has a, b"):
        module.curves(rows, ["c"], ["reward"])
    with pytest.raises(module.CurvesError, match="no run has the key 'kl'"):
        module.curves(rows, ["a"], ["kl"])
    log = tmp_path / "runs_metrics.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = [log, "--out", tmp_path / "c.png", "--run", "a"]
    done = run_bench("r1_training_curves.py", *args, "--key", "reward", "--mark", "7.5")
    assert done.stdout.strip() == "a: reward 0.5000 -> 0.6000" and (tmp_path / "c.png").stat().st_size > 0
    refused = run_bench("r1_training_curves.py", *args, "--run", "z", expect=1)
    assert refused.stderr.strip().splitlines() == ["error: no run 'z' in the log; it has a, b"]


def test_settings_of_several_runs_compare_per_level_with_run_spread(tmp_path, capsys):
    import json

    import pytest

    from harness.statistics import compare_settings

    settings_tool = load_bench("r1_settings")
    rows = {  # columns a1 a2 b1 b2 b3
        "s1": [1.0, 1.0, 1.0, 1.0, 1.0],
        "s2": [0.0, 1.0, 1.0, 1.0, 1.0],
        "s3": [1.0, 1.0, 1.0, 0.0, 1.0],
        "s4": [0.0, 0.0, 1.0, 1.0, 0.0],
    }
    result = _file(["a1", "a2", "b1", "b2", "b3"], rows, {"s1": "L1", "s2": "L1", "s3": "L2", "s4": "L2"})
    chosen = [("a", ["a1", "a2"]), ("b", ["b1", "b2", "b3"])]
    table = settings_tool.compare(result, chosen)
    assert list(table) == ["L1", "L2", "all"]
    assert table["all"]["runs"] == {"a": [0.5, 0.75], "b": [1.0, 0.75, 0.75]}
    by_run = [[rows[s][k] for s in sorted(rows)] for k in range(5)]
    expected = compare_settings(by_run[:2], by_run[2:])
    assert table["all"]["b_minus_a"]["difference"] == pytest.approx(expected.difference)
    assert table["all"]["b_minus_a"]["se"] == pytest.approx(expected.se)
    assert table["L1"]["a"] == 0.75 and table["L1"]["b"] == 1.0 and table["L1"]["n"] == 2
    assert "| all | b (3) | 0.8333 | +20.83 |" in settings_tool.markdown(table, chosen)
    from harness.statistics import pooled_run_sd, runs_needed

    spread = pooled_run_sd(by_run[:2], by_run[2:])
    assert table["all"]["b_minus_a"]["run_sd"] == pytest.approx(spread)
    assert table["all"]["b_minus_a"]["runs_for_80pct_power"] == pytest.approx(runs_needed(spread, 5 / 24))

    path = tmp_path / "paired.json"
    path.write_text(json.dumps(result))
    assert settings_tool.main([str(path), "--setting", "a=a1,a2", "--setting", "b=b1,zz"]) == 2
    assert capsys.readouterr().out == "error: no column 'zz'; the file has a1, a2, b1, b2, b3\n"
    assert settings_tool.main([str(path), "--setting", "a=a1,a2"]) == 2
    assert "at least two settings" in capsys.readouterr().out
    out = tmp_path / "settings.json"
    assert (
        settings_tool.main([str(path), "--setting", "a=a1,a2", "--setting", "b=b1,b2,b3", "--out", str(out)])
        == 0
    )
    assert json.loads(out.read_text())["settings"] == {"a": ["a1", "a2"], "b": ["b1", "b2", "b3"]}
    # runs paired by seed need as many runs on each side
    with pytest.raises(settings_tool.SettingsError, match="--paired-runs: b and a need as many runs"):
        settings_tool.compare(result, chosen, paired_runs=True)
    paired = settings_tool.compare(result, [("a", ["a1", "a2"]), ("b", ["b1", "b2"])], paired_runs=True)
    assert paired["all"]["b_minus_a"]["se_runs"] == pytest.approx(0.25)  # own differences 1/2, 0


def test_the_settings_picture_draws_each_seed_pairs_own_difference(tmp_path, monkeypatch):
    import json

    import matplotlib.axes

    settings_tool = load_bench("r1_settings")
    rows = {  # columns a1 a2 b1 b2: run b1 continues a1, b2 continues a2
        "s1": [1.0, 0.0, 1.0, 1.0],
        "s2": [0.0, 0.0, 1.0, 0.0],
        "s3": [1.0, 1.0, 0.0, 1.0],
        "s4": [0.0, 1.0, 0.0, 1.0],
    }
    path = tmp_path / "paired.json"
    path.write_text(json.dumps(_file(["a1", "a2", "b1", "b2"], rows, dict.fromkeys(rows, "L1"))))
    dots: list[list[float]] = []
    real_scatter = matplotlib.axes.Axes.scatter

    def spy_scatter(self, xs, ys, *args, **kwargs):
        dots.append(list(ys))
        return real_scatter(self, xs, ys, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "scatter", spy_scatter)
    picture = tmp_path / "settings.png"
    argv = [
        str(path),
        "--setting",
        "a=a1,a2",
        "--setting",
        "b=b1,b2",
        "--paired-runs",
        "--plot",
        str(picture),
    ]
    assert settings_tool.main(argv) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # pair 1: b1 0.5 minus a1 0.5 = 0; pair 2: b2 0.75 minus a2 0.5 = +25 points (L1 and all)
    assert dots == [[0.0, 25.0], [0.0, 25.0]]
    dots.clear()
    assert settings_tool.main(argv[:-3] + ["--plot", str(tmp_path / "unpaired.png")]) == 0
    assert dots == []  # unpaired runs have no pair to draw
