"""verify: clean bundles re-score, tampered ones are caught with their sample ids."""

from __future__ import annotations

import json

import numpy as np

from harness import registry
from harness.cache import Cache, score_key
from harness.protocols import BaseMetric, fingerprint_id
from harness.run_support import sample_input_hashes as _sample_input_hashes
from harness.types import ScoreInput
from leaderboard.bundle import pack_bundle
from leaderboard.verify import Tolerance, verify_bundle
from tests.leaderboard.test_board import _inflate
from tests.leaderboard.toy import ACCURACY, BRIGHTNESS, ToyEditor, ToySuite, identity, noisy, write_run

JUDGE = "lb-toy-judge"


class ToyJudge(BaseMetric):
    """Stands in for a VLM judge: declared non-deterministic, so verify never calls it unasked."""

    name = JUDGE
    deterministic = False
    requires = frozenset({"edited", "target"})

    def compute(self, inp: ScoreInput) -> float:
        return float((inp.edited == inp.sample.target).all(axis=2).mean())


registry.metrics.register(JUDGE, ToyJudge)


def cells_by(report):
    return {(c.editor, c.metric): c for c in report.cells}


def test_a_clean_bundle_is_rescored_everywhere(run_dir, tmp_path):
    pack_bundle(run_dir, tmp_path / "b.zip")
    report = verify_bundle(tmp_path / "b.zip")
    assert report.ok
    assert {c.provenance for c in report.cells} == {"re-scored"}
    assert all(c.n_rescored == c.n_records == 12 for c in report.cells)


def test_inflated_values_are_caught_with_their_sample_ids(run_dir, tmp_path):
    _inflate(run_dir, "good", ["toy-001", "toy-007"])
    pack_bundle(run_dir, tmp_path / "b.zip")
    report = verify_bundle(tmp_path / "b.zip")
    assert not report.ok
    cells = cells_by(report)
    bad = cells[("good", ACCURACY)]
    assert bad.provenance == "mismatch" and bad.mismatched == ["toy-001", "toy-007"]
    assert bad.n_rescored == 10
    assert cells[("good", BRIGHTNESS)].provenance == "re-scored"
    assert cells[("identity", ACCURACY)].provenance == "re-scored"
    line = next(line for line in report.lines() if line.startswith("mismatch"))
    assert "good" in line and "toy-001, toy-007" in line


def test_a_small_difference_within_the_declared_tolerance_passes(run_dir, tmp_path):
    _inflate(run_dir, "good", ["toy-003"], delta=5e-5)
    pack_bundle(run_dir, tmp_path / "b.zip")
    assert verify_bundle(tmp_path / "b.zip").ok
    assert not verify_bundle(tmp_path / "b.zip", tolerance=Tolerance(abs_tol=1e-6, rel_tol=0)).ok


def test_a_swapped_image_is_caught(run_dir, tmp_path):
    """The submitter points a sample at a better image but keeps the values it reported."""
    edits = [json.loads(line) for line in (run_dir / "edits.jsonl").read_text().splitlines()]
    oracle_hash = next(
        e["edited_hash"] for e in edits if e["editor"] == "oracle" and e["sample_id"] == "toy-004"
    )
    for e in edits:
        if e["editor"] == "identity" and e["sample_id"] == "toy-004":
            e["edited_hash"] = oracle_hash
    (run_dir / "edits.jsonl").write_text("".join(json.dumps(e) + "\n" for e in edits))
    pack_bundle(run_dir, tmp_path / "b.zip")
    cells = cells_by(verify_bundle(tmp_path / "b.zip"))
    assert cells[("identity", ACCURACY)].mismatched == ["toy-004"]
    assert cells[("identity", BRIGHTNESS)].mismatched == ["toy-004"]


def test_a_failed_edit_that_carries_a_score_is_caught(run_dir, tmp_path):
    path = run_dir / "records.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        if r["editor"] == "flaky" and r["sample_id"] == "toy-003" and r["metric"] == ACCURACY:
            r["value"], r["status"] = 0.99, "ok"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pack_bundle(run_dir, tmp_path / "b.zip")
    assert cells_by(verify_bundle(tmp_path / "b.zip"))[("flaky", ACCURACY)].mismatched == ["toy-003"]


def test_ground_truth_comes_from_the_suite_not_the_bundle(run_dir, tmp_path):
    path = run_dir / "samples.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[2]["source_hash"] = "0" * 64
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pack_bundle(run_dir, tmp_path / "b.zip")
    cell = cells_by(verify_bundle(tmp_path / "b.zip"))[("good", ACCURACY)]
    assert cell.provenance == "self-reported" and cell.n_rescored == 11
    assert "toy-002: submitted source hash differs" in cell.reason


def test_unknown_metric_stays_self_reported(tmp_path):
    run = write_run(tmp_path / "r", [ToyEditor("identity", identity)], metrics=(ACCURACY,))
    path = run / "records.jsonl"
    path.write_text(path.read_text().replace(ACCURACY, "metric-nobody-has"))
    pack_bundle(run, tmp_path / "b.zip")
    (cell,) = verify_bundle(tmp_path / "b.zip").cells
    assert cell.provenance == "self-reported" and "unknown metric 'metric-nobody-has'" in cell.reason


def test_judge_scores_replay_from_the_cache_or_rejudge_when_asked(tmp_path):
    run = write_run(tmp_path / "r", [ToyEditor("good", noisy(40))], metrics=(JUDGE,), count=4)
    pack_bundle(run, tmp_path / "b.zip")
    empty = tmp_path / "empty-cache"
    (cell,) = verify_bundle(tmp_path / "b.zip", cache_dir=str(empty)).cells
    assert cell.provenance == "self-reported" and "--rejudge" in cell.reason
    (cell,) = verify_bundle(tmp_path / "b.zip", rejudge=True).cells
    assert cell.provenance == "re-scored" and cell.n_rescored == 4
    # fill a score cache the way a run does, then replay from it without calling the judge
    judge = ToyJudge()
    cache = Cache(tmp_path / "cache")
    edits = {
        json.loads(x)["sample_id"]: json.loads(x)["edited_hash"]
        for x in (run / "edits.jsonl").read_text().splitlines()
    }
    records = {
        json.loads(x)["sample_id"]: json.loads(x)["value"]
        for x in (run / "records.jsonl").read_text().splitlines()
    }
    rows = []
    for sample in ToySuite(4).samples("test"):
        key = score_key(fingerprint_id(judge), _sample_input_hashes(sample), edits[sample.id])
        value = records[sample.id] if sample.id != "toy-001" else records[sample.id] + 0.5
        rows.append((key, "ok", value, {}))
    cache.put_scores(rows)
    cache.close()
    (cell,) = verify_bundle(tmp_path / "b.zip", cache_dir=str(tmp_path / "cache")).cells
    assert cell.provenance == "mismatch" and cell.mismatched == ["toy-001"] and cell.n_rescored == 3
    assert np.isfinite(records["toy-000"])


def test_suites_are_recreated_with_the_runs_seed(tmp_path):
    run = write_run(tmp_path / "r", [ToyEditor("good", noisy(3))], metrics=(ACCURACY,), count=4, seed=5)
    pack_bundle(run, tmp_path / "b.zip")
    (cell,) = verify_bundle(tmp_path / "b.zip").cells
    assert cell.provenance == "re-scored" and cell.n_rescored == 4
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["config"]["seed"] = 6  # a different seed makes different samples: nothing can be re-scored
    (run / "manifest.json").write_text(json.dumps(manifest))
    pack_bundle(run, tmp_path / "b.zip")
    (cell,) = verify_bundle(tmp_path / "b.zip").cells
    assert cell.provenance == "self-reported" and "source hash differs" in cell.reason
