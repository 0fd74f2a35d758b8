"""bench/r1_misses.py: each column's misses grouped by what the generator recorded per sample."""

from __future__ import annotations

import json

import pytest

from ..conftest import load_bench

r1_misses = load_bench("r1_misses")

# test samples 0, 4 and 8 of the generator (seed 0): a recolor worded as an outcome, a swap worded
# as a desire ("... to trade places"), a resize worded as an outcome
IDS = ["synth-edit/test/00000", "synth-edit/test/00004", "synth-edit/test/00008"]
PAIRED = {
    "columns": ["a", "b"],
    "per_sample": {IDS[0]: [0.0, 1.0], IDS[1]: [0.0, 0.0], IDS[2]: [1.0, 0.5]},
    "sample_levels": {IDS[0]: "L1", IDS[1]: "L1", IDS[2]: "L2"},
}


def test_misses_are_counted_per_action_family_and_wording():
    by_action = r1_misses.misses(PAIRED, r1_misses.grouper("action", []))
    assert by_action["groups"] == {
        "recolor": {"n": 1, "a": 1, "b": 0},
        "resize": {"n": 1, "a": 0, "b": 1},  # 0.5 (a partial success) is a miss
        "swap": {"n": 1, "a": 1, "b": 1},
    }
    assert by_action["total"] == {"n": 3, "a": 2, "b": 2}
    by_family = r1_misses.misses(PAIRED, r1_misses.grouper("family", []), level="L1", columns=["b"])
    assert by_family["groups"] == {"desire": {"n": 1, "b": 1}, "outcome": {"n": 1, "b": 0}}
    wording = [r1_misses.parse_wording("trade PLACES|swap=swap words")]
    by_wording = r1_misses.misses(PAIRED, r1_misses.grouper("wording", wording))
    assert by_wording["groups"] == {"other": {"n": 2, "a": 1, "b": 1}, "swap words": {"n": 1, "a": 1, "b": 1}}
    table = r1_misses.markdown(by_wording, "wording")
    assert table.splitlines()[2:] == [
        "| other (2) | 1 | 1 |",
        "| swap words (1) | 1 | 1 |",
        "| all (3) | 2 | 2 |",
    ]


def test_bad_input_is_refused_with_one_line(tmp_path, run_bench):
    with pytest.raises(r1_misses.MissesError, match="not a synth-edit sample id"):
        r1_misses.sample_of("photo-ops/test/00001")
    with pytest.raises(r1_misses.MissesError, match="a wording is PATTERN=LABEL"):
        r1_misses.parse_wording("no label")
    with pytest.raises(r1_misses.MissesError, match="not a regular expression"):
        r1_misses.parse_wording("(unclosed=x")
    with pytest.raises(r1_misses.MissesError, match="--by must be one of action, family"):
        r1_misses.grouper("colour", [])
    with pytest.raises(r1_misses.MissesError, match="no column 'z'; the file has a, b"):
        r1_misses.misses(PAIRED, r1_misses.grouper("action", []), columns=["z"])
    with pytest.raises(r1_misses.MissesError, match="no samples of level 'L4'"):
        r1_misses.misses(PAIRED, r1_misses.grouper("action", []), level="L4")

    paired = tmp_path / "p.json"
    paired.write_text(json.dumps(PAIRED))
    done = run_bench("r1_misses.py", paired, "--by", "wording", expect=2)
    assert done.stdout.strip() == "error: --by wording needs at least one --wording PATTERN=LABEL"
    out = tmp_path / "t.json"
    run_bench("r1_misses.py", paired, "--by", "family", "--out", out)
    assert json.loads(out.read_text())["groups"]["outcome"] == {"n": 2, "a": 1, "b": 1}
