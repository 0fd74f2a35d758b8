"""Board rows: values, CIs, coverage, smoke exclusion, reference rows, honest ranks, renderings."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from harness.records import RunRecord, read_jsonl
from leaderboard.bundle import pack_bundle
from leaderboard.cells import compute_rows
from leaderboard.render import rows_to_csv, rows_to_markdown
from leaderboard.rundir import load_run
from leaderboard.store import Board, BoardError, build_table, read_rows
from tests.leaderboard.toy import ACCURACY, SUITE, ToyEditor, identity, noisy, write_run


def row_for(table, editor, metric=ACCURACY, group="all"):
    matches = [r for r in table.rows if r.editor == editor and r.metric == metric and r.group == group]
    assert len(matches) == 1, (editor, metric, group, matches)
    return matches[0]


def test_rows_match_the_records_by_hand(run_dir):
    table = build_table([load_run(run_dir)])
    records = [r for r in read_jsonl(run_dir / "records.jsonl", RunRecord) if r.metric == ACCURACY]
    flaky = [r for r in records if r.editor == "flaky"]
    strict = [r.value if r.status == "ok" else r.worst for r in flaky]
    valid = [r.value for r in flaky if r.status == "ok"]
    row = row_for(table, "flaky")
    assert row.n == 12 and row.n_ok == 8 and row.coverage == pytest.approx(8 / 12)
    assert row.value == pytest.approx(np.mean(strict)) == pytest.approx(row.strict_mean)
    assert row.valid_mean == pytest.approx(np.mean(valid))
    assert row.value < row.valid_mean  # failures count as the worst value
    assert row.ci_low <= row.value <= row.ci_high
    assert row.median_latency_s == pytest.approx(np.median([r.latency_s for r in flaky]))
    good = row_for(table, "good")
    assert good.cost_usd == pytest.approx(0.12) and good.run_id == "toy-run" and len(good.manifest_hash) == 64
    keys = [r.key for r in table.rows]
    assert len(keys) == len(set(keys))


def test_groups_by_level_and_category(run_dir):
    table = build_table([load_run(run_dir)])
    levels = {r.group for r in table.rows if r.editor == "good" and r.metric == ACCURACY}
    assert levels == {"all", "level=L1", "level=L2", "level=L3", "category=recolor", "category=remove"}
    # flaky fails on every third sample: exactly the L1 ones
    assert row_for(table, "flaky", group="level=L1").value == 0.0
    assert row_for(table, "flaky", group="level=L1").n == 4


def test_smoke_records_never_enter_and_are_counted(run_dir):
    table = build_table([load_run(run_dir)])
    assert table.smoke_excluded == 24  # 12 samples x 2 metrics of the random-weights editor
    assert not [r for r in table.rows if r.editor == "random-weights"]
    assert "24 records computed with random (smoke) weights were excluded" in rows_to_markdown(
        table.rows, smoke_excluded=table.smoke_excluded
    )


def test_reference_rows_are_shown_not_ranked(run_dir):
    table = build_table([load_run(run_dir)])
    oracle = row_for(table, "oracle")
    assert oracle.reference and oracle.rank is None and oracle.value == 1.0
    assert all("oracle" not in r.tied_with for r in table.rows)
    md = rows_to_markdown(table.rows)
    assert "| ref | oracle |" in md


def test_ranks_share_places_when_not_significantly_different(run_dir):
    table = build_table([load_run(run_dir)])
    good, twin, ident, flaky = (row_for(table, e) for e in ("good", "good-twin", "identity", "flaky"))
    assert (good.rank, twin.rank) == (1, 1)
    assert good.tied_with == ["good-twin"] and twin.tied_with == ["good"]
    assert ident.rank == 3 and flaky.rank == 4
    assert "| 1= | good |" in rows_to_markdown(table.rows)


def test_lower_is_better_metrics_rank_the_other_way(tmp_path):
    from harness import registry
    from harness.protocols import BaseMetric

    class ToyError(BaseMetric):
        name = "lb-toy-error"
        higher_is_better = False
        requires = frozenset({"edited", "target"})

        def compute(self, inp):
            return float(np.abs(inp.edited.astype(float) - inp.sample.target.astype(float)).mean()) / 255.0

    registry.metrics.register("lb-toy-error", ToyError)
    run = write_run(tmp_path / "r", [ToyEditor("good", noisy(3)), ToyEditor("identity", identity)],
                    metrics=("lb-toy-error",))  # fmt: skip
    table = build_table([load_run(run)])
    assert row_for(table, "good", "lb-toy-error").rank == 1
    assert row_for(table, "identity", "lb-toy-error").rank == 2


def test_official_aggregation_adds_an_official_row(run_dir):
    def best_category_mean(items):
        by: dict[str, list[float]] = {}
        for item in items:
            by.setdefault(item.category, []).append(item.value)
        return max(sum(v) / len(v) for v in by.values())

    table = compute_rows(
        [load_run(run_dir)], official=lambda suite: best_category_mean if suite == SUITE else None
    )
    official = [
        r for r in table.rows if r.editor == "identity" and r.metric == ACCURACY and r.group == "official"
    ]
    assert len(official) == 1 and official[0].aggregation == "official"
    by_cat = [row_for(table, "identity", group=g).value for g in ("category=recolor", "category=remove")]
    assert official[0].value == pytest.approx(max(by_cat))
    # the official number is over scored samples (as the benchmarks' scripts do); coverage says how many
    flaky = row_for(table, "flaky", group="official")
    valid_by_cat = [
        row_for(table, "flaky", group=g).valid_mean for g in ("category=recolor", "category=remove")
    ]
    assert flaky.value == pytest.approx(max(valid_by_cat)) and flaky.coverage == pytest.approx(8 / 12)


def test_csv_and_markdown_render_every_row_and_escape_names(tmp_path):
    hostile = "<b>bold|pipe</b>"
    run = write_run(tmp_path / "r", [ToyEditor(hostile, identity), ToyEditor("good", noisy(3))])
    table = build_table([load_run(run)])
    parsed = list(csv.DictReader(io.StringIO(rows_to_csv(table.rows))))
    assert len(parsed) == len(table.rows)
    assert {p["editor"] for p in parsed} == {hostile, "good"}
    assert float(parsed[0]["value"]) == pytest.approx(table.rows[0].value)
    md = rows_to_markdown(table.rows)
    assert "&lt;b&gt;bold\\|pipe&lt;/b&gt;" in md and "<b>" not in md


def test_board_add_build_marks_rescored_cells(run_dir, tmp_path):
    bundle = tmp_path / "sub.zip"
    pack_bundle(run_dir, bundle)
    board = Board(tmp_path / "board")
    result = board.add(bundle)
    assert result.run_id == "toy-run"
    rows = read_rows(board.root / "rows.jsonl")
    assert rows and {r.provenance for r in rows} == {"re-scored"}
    assert (board.root / "leaderboard.csv").read_text().count("\n") == len(rows) + 1
    assert "re-scored" in (board.root / "leaderboard.md").read_text()
    # re-created sources and targets were stored for the report
    samples = [
        json.loads(line) for line in (board.runs_dir / "toy-run" / "samples.jsonl").read_text().splitlines()
    ]
    assert all(board.images.has(s["source_hash"]) and board.images.has(s["target_hash"]) for s in samples)
    assert all(board.images.has(s["mask_hash"]) for s in samples)
    # build again from the stored runs gives the same rows
    assert [r.key for r in board.build().rows] == [r.key for r in rows]


def test_board_refuses_a_tampered_bundle_and_stays_unchanged(run_dir, tmp_path):
    _inflate(run_dir, "identity", ["toy-002", "toy-005"])
    bundle = tmp_path / "sub.zip"
    pack_bundle(run_dir, bundle)
    board = Board(tmp_path / "board")
    with pytest.raises(BoardError) as info:
        board.add(bundle)
    message = str(info.value)
    assert "toy-002" in message and "toy-005" in message and "\n" not in message
    assert board.run_ids() == []


def test_board_files_a_mismatching_bundle_only_when_asked_and_marks_its_cells(run_dir, tmp_path):
    _inflate(run_dir, "identity", ["toy-002"])
    pack_bundle(run_dir, tmp_path / "sub.zip")
    board = Board(tmp_path / "board")
    board.add(tmp_path / "sub.zip", allow_mismatch=True)
    rows = read_rows(board.root / "rows.jsonl")
    marked = {(r.editor, r.metric) for r in rows if r.provenance == "mismatch"}
    assert marked == {("identity", ACCURACY)}
    assert "mismatch" in (board.root / "leaderboard.md").read_text()


def _inflate(run_dir, editor, sample_ids, metric=ACCURACY, delta=0.05):
    """Report better values than the images give, for some samples of one editor."""
    path = run_dir / "records.jsonl"
    lines = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        if data["editor"] == editor and data["metric"] == metric and data["sample_id"] in sample_ids:
            data["value"] = min(1.0, data["value"] + delta)
        lines.append(json.dumps(data))
    path.write_text("\n".join(lines) + "\n")
