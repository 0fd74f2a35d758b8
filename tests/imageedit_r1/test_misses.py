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


def plan(*subedits: tuple[str, str, str]) -> str:
    return json.dumps([{"action": a, "subject": s, "goal": g} for a, s, g in subedits])


RECOLOR = ("recolor", "o1", "red")
MOVE = ("move", "o2", "left")


@pytest.mark.parametrize(
    ("wrong", "kind"),
    [
        ("[{", "unparsed"),
        (plan(RECOLOR), "fewer sub-edits"),
        (plan(RECOLOR, MOVE, ("remove", "o3", "")), "more sub-edits"),
        (plan(MOVE, RECOLOR), "order"),
        (plan(("resize", "o1", "red"), MOVE), "action"),
        (plan(("recolor", "o3", "red"), MOVE), "subject"),
        (plan(RECOLOR, ("move", "o2", "right")), "goal"),
        (plan(RECOLOR, MOVE), "same"),
    ],
)
def test_a_wrong_plan_is_classified_against_the_right_one(wrong, kind):
    from imageedit_r1.plan import parse_plan

    right = parse_plan(plan(RECOLOR, MOVE))
    assert r1_misses.difference(right, parse_plan(wrong)) == kind


def test_contrast_lists_what_one_column_solved_and_the_other_missed(tmp_path, run_bench):
    paired = {
        **PAIRED,
        "plans": {
            "a": {IDS[0]: plan(RECOLOR), IDS[1]: plan(MOVE), IDS[2]: plan(RECOLOR, MOVE)},
            "b": {IDS[0]: plan(RECOLOR, MOVE), IDS[1]: plan(MOVE), IDS[2]: plan(RECOLOR)},
        },
    }
    # b solved sample 0 where a missed it (a's plan has one sub-edit fewer); sample 2 is a partial
    # success of b (0.5): a solved it, b dropped the move
    table = r1_misses.contrast(paired, "a", "b")
    assert table["kinds"] == {"fewer sub-edits": 1}
    assert [s["id"] for s in table["samples"]] == [IDS[2]]
    assert table["samples"][0]["instruction"] == r1_misses.sample_of(IDS[2]).instruction
    assert table["samples"][0]["b"] == plan(RECOLOR)
    reverse = r1_misses.contrast(paired, "b", "a", level="L1")
    assert (reverse["n"], reverse["kinds"]) == (2, {"fewer sub-edits": 1})
    text = r1_misses.contrast_markdown(reverse, show=1).splitlines()
    assert text[0] == "1 of 2 samples: b right, a wrong"
    assert text[4] == "| fewer sub-edits | 1 |"
    assert text[6].startswith(f"{IDS[0]} (fewer sub-edits): ")
    assert text[7:] == [f"  b: {plan(RECOLOR, MOVE)}", f"  a: {plan(RECOLOR)}"]

    with pytest.raises(
        r1_misses.MissesError, match="no plans of 'a': score it with bench/r1_paired_eval.py --plans"
    ):
        r1_misses.contrast(PAIRED, "a", "b")
    with pytest.raises(r1_misses.MissesError, match="no column 'c'"):
        r1_misses.contrast(paired, "a", "c")

    path = tmp_path / "p.json"
    path.write_text(json.dumps(paired))
    out = tmp_path / "c.json"
    done = run_bench("r1_misses.py", path, "--contrast", "a,b", "--out", out)
    assert done.stdout.splitlines()[0] == "1 of 3 samples: a right, b wrong"
    assert json.loads(out.read_text())["kinds"] == {"fewer sub-edits": 1}
    done = run_bench("r1_misses.py", path, "--contrast", "a", expect=2)
    assert done.stdout.strip() == "error: --contrast takes two columns A,B; got 'a'"


def test_lengths_count_sub_edits_against_the_true_programs(tmp_path, run_bench):
    # each of the three samples' ground-truth program holds one sub-edit
    paired = {
        **PAIRED,
        "plans": {
            "a": {IDS[0]: plan(RECOLOR), IDS[1]: plan(MOVE, RECOLOR), IDS[2]: "[{"},
            "b": {IDS[0]: "[]", IDS[1]: "not json", IDS[2]: plan(RECOLOR, MOVE, MOVE)},
        },
    }
    table = r1_misses.lengths(paired)
    assert (table["n"], table["truth_mean"]) == (3, 1.0)
    assert table["rows"]["a"] == {"mean": 1.5, "unparsed": 1, "shorter": 0, "as_long": 1, "longer": 1}
    # a plan without sub-edits does not parse: it is counted as unparsed, not as shorter
    assert table["rows"]["b"] == {"mean": 3.0, "unparsed": 2, "shorter": 0, "as_long": 0, "longer": 1}
    level = r1_misses.lengths(paired, level="L2", columns=["a"])
    assert (level["n"], level["rows"]) == (
        1,
        {"a": {"mean": None, "unparsed": 1, "shorter": 0, "as_long": 0, "longer": 0}},
    )
    text = r1_misses.lengths_markdown(table).splitlines()
    assert text[0] == "3 samples; their ground-truth programs hold 1.00 sub-edits on average"
    assert text[4] == "| a | 1.50 | 0 | 1 | 1 | 1 |"
    assert r1_misses.lengths_markdown(level).splitlines()[4] == "| a | - | 0 | 0 | 0 | 1 |"
    with pytest.raises(r1_misses.MissesError, match="no plans of 'a'"):
        r1_misses.lengths(PAIRED)

    path = tmp_path / "p.json"
    path.write_text(json.dumps(paired))
    out = tmp_path / "l.json"
    done = run_bench("r1_misses.py", path, "--lengths", "--columns", "a", "--level", "L1", "--out", out)
    assert done.stdout.splitlines()[4] == "| a | 1.50 | 0 | 1 | 1 | 0 |"
    assert json.loads(out.read_text())["rows"]["a"]["longer"] == 1
    done = run_bench("r1_misses.py", path, "--lengths", "--columns", "z", expect=2)
    assert done.stdout.strip() == "error: no column 'z'; the file has a, b"


def test_several_contrasts_are_listed_and_their_kinds_summed(tmp_path, run_bench):
    paired = {
        **PAIRED,
        "columns": ["a", "b", "c"],
        "per_sample": {IDS[0]: [0.0, 1.0, 1.0], IDS[1]: [1.0, 0.0, 0.0], IDS[2]: [1.0, 0.5, 0.0]},
        "plans": {
            "a": {IDS[0]: plan(RECOLOR), IDS[1]: plan(MOVE), IDS[2]: plan(RECOLOR, MOVE)},
            "b": {IDS[0]: plan(RECOLOR, MOVE), IDS[1]: plan(RECOLOR), IDS[2]: plan(RECOLOR)},
            "c": {IDS[0]: plan(RECOLOR, MOVE), IDS[1]: plan(MOVE, MOVE), IDS[2]: plan(MOVE, RECOLOR)},
        },
    }
    # a right, b wrong: sample 1 (another action) and 2 (a sub-edit fewer); a right, c wrong:
    # sample 1 (a sub-edit more) and 2 (another order)
    tables = [r1_misses.contrast(paired, "a", "b"), r1_misses.contrast(paired, "a", "c")]
    total = r1_misses.contrast_total(tables)
    assert total == {
        "pairs": [["a", "b"], ["a", "c"]],
        "samples": [2, 2],
        "kinds": {"action": 1, "fewer sub-edits": 1, "more sub-edits": 1, "order": 1},
    }
    assert r1_misses.total_markdown(total).splitlines()[0] == (
        "all 2 contrasts: a right / b wrong (2), a right / c wrong (2)"
    )

    path = tmp_path / "p.json"
    path.write_text(json.dumps(paired))
    out = tmp_path / "c.json"
    done = run_bench("r1_misses.py", path, "--contrast", "a,b", "--contrast", "a,c", "--out", out)
    lines = done.stdout.splitlines()
    assert lines[0] == "2 of 3 samples: a right, b wrong"
    assert "2 of 3 samples: a right, c wrong" in lines
    assert lines[-4:] == [
        "| action | 1 |",
        "| fewer sub-edits | 1 |",
        "| more sub-edits | 1 |",
        "| order | 1 |",
    ]
    saved = json.loads(out.read_text())
    assert saved["total"] == total and [t["columns"] for t in saved["contrasts"]] == [["a", "b"], ["a", "c"]]
    done = run_bench("r1_misses.py", path, "--contrast", "a,b", "--contrast", "c", expect=2)
    assert done.stdout.strip() == "error: --contrast takes two columns A,B; got 'c'"
