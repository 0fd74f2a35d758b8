"""bench/r1_calibration.py: confidence against correctness, and a stored gate applied to checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imageedit_r1.deferral import DeferralGate, save_gate

from ..conftest import load_bench


def test_auroc_is_the_chance_a_right_plan_looks_surer_than_a_wrong_one():
    auroc = load_bench("r1_calibration").auroc
    assert auroc([-0.1, -0.01], [-1.0]) == 1.0
    assert auroc([-1.0], [-0.1, -0.01]) == 0.0
    assert auroc([-0.5], [-0.5]) == 0.5  # a tie counts half
    assert auroc([-0.01, -1.0], [-0.5]) == 0.5
    assert auroc([-0.01, -0.5, -1.0], [-0.5, -2.0]) == pytest.approx((1 + 1 + 0.5 + 1 + 0 + 1) / 6)
    assert auroc([-0.1], []) is None


def _paired_file(path: Path, ids: list[str]) -> None:
    """'sure' is right on even samples, its every plan certain; 'unsure' has the same values and
    every plan's least token at -1; classic-pipeline is right everywhere."""
    per_sample = {sid: [float(i % 2 == 0), float(i % 2 == 0), 1.0] for i, sid in enumerate(ids)}
    data = {
        "what": "synth-edit test samples, hand-built",
        "columns": ["sure", "unsure", "classic-pipeline"],
        "per_sample": per_sample,
        "sample_levels": {sid: f"L{i % 4 + 1}" for i, sid in enumerate(ids)},
        "token_logprobs": {
            "sure": {sid: [0.0, -0.001] for sid in ids},
            "unsure": {sid: [-0.01, -1.0] for sid in ids},
        },
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_stored_gate_defers_where_the_reading_is_complete_and_the_plan_unsure(tmp_path, run_bench):
    from imageedit_r1.deferral import read_instruction

    bench = load_bench("r1_calibration")
    ids = [f"synth-edit/test/{i:05d}" for i in range(12)]
    _paired_file(tmp_path / "paired.json", ids)
    save_gate(tmp_path, DeferralGate(-0.075, single_sentence=True), {"rule": "hand-built"})
    out = tmp_path / "calibration.json"
    run_bench("r1_calibration.py", tmp_path / "paired.json", "--gate", tmp_path, "--out", out,
              "--compare", "surer=sure:unsure")  # fmt: skip
    report = json.loads(out.read_text())
    said = bench.instructions(ids)
    one_complete = {sid for sid in ids if (r := read_instruction(said[sid])).complete and r.sentences == 1}
    assert one_complete  # the generator's first samples include some the grammar reads whole
    sure, unsure = report["columns"]["sure"]["all"], report["columns"]["unsure"]["all"]
    assert sure["accuracy"] == unsure["accuracy"] == 0.5
    assert sure["deferred"] == 0.0 and sure["gated"] == 0.5 and sure["right_unsure"] == 0.0
    assert sure["wrong_sure"] == 1.0 and sure["auroc"] == 0.5
    # deferred samples take classic-pipeline's 1.0; the others keep the plan's value
    expected = sum(1.0 if sid in one_complete else float(i % 2 == 0) for i, sid in enumerate(ids)) / len(ids)
    assert unsure["deferred"] == len(one_complete) / len(ids)
    assert unsure["gated"] == pytest.approx(expected)
    assert report["comparisons"]["surer"]["all"]["gated"]["mean"] == pytest.approx(0.5 - expected)
    assert report["comparisons"]["surer"]["all"]["gated"]["se"] is None  # one pair


def test_the_bench_refuses_files_without_confidence_in_one_line(tmp_path, run_bench):
    (tmp_path / "plain.json").write_text(json.dumps({"columns": [], "per_sample": {}}), encoding="utf-8")
    save_gate(tmp_path, DeferralGate(-0.075, single_sentence=True), {"rule": "hand-built"})
    done = run_bench(
        "r1_calibration.py",
        tmp_path / "plain.json",
        "--gate",
        tmp_path,
        "--out",
        tmp_path / "o.json",
        expect=1,
    )
    assert done.stderr.strip().endswith("has no token log-probabilities: write it with --confidence")
