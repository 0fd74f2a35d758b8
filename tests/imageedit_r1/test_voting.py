"""Self-consistency over executed plans: candidates vote by the image they produce."""

import pytest

from imageedit_r1.agents import AgentSystem, episode_seed
from imageedit_r1.data import reference_subedits
from imageedit_r1.plan import SubEdit, format_plan
from imageedit_r1.rollouts import RolloutPool, candidate_outcomes
from imageedit_r1.toolbox import default_toolbox
from imageedit_r1.voting import vote


@pytest.mark.parametrize(
    ("digests", "chosen"),
    [
        (["a", "b", "b"], 1),  # the majority outcome beats the greedy plan
        (["a", "b", "a", "b"], 0),  # a tie goes to the earliest candidate: the greedy plan
        ([None, "b", "c", "c"], 2),  # a candidate without an image has no vote
        ([None, None], 0),  # nothing valid: the greedy plan stays
        (["a"], 0),
    ],
)
def test_the_vote_keeps_the_outcome_most_candidates_agree_on(digests, chosen):
    assert vote(digests) == chosen


def test_plans_with_the_same_result_share_a_digest(synth_samples):
    sample = synth_samples[3]  # L4: one goal for a set of regions
    assert sample.level == "L4"
    env, _ = AgentSystem(default_toolbox, verify=False).observe(
        sample.source, sample.instruction, episode_seed(sample.id)
    )
    plan = reference_subedits(sample, env.regions())
    assert len(plan) >= 2
    wrong = [SubEdit(s.action, s.subject, "cyan" if s.goal != "cyan" else "red") for s in plan]
    candidates = [
        " " + format_plan(plan),
        " " + format_plan(list(reversed(plan))),  # another order, the same pixels
        " " + format_plan(wrong),
        " not a plan",
        " " + format_plan([SubEdit("remove", "o99", "")]),  # an invalid call
    ]
    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    [row] = candidate_outcomes([(sample.id, "synth-edit", candidates)])
    pool.close()
    assert [c.scores["synth_exact"] for c in row] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert row[0].digest == row[1].digest is not None
    assert row[2].digest not in (None, row[0].digest)
    assert row[3].digest is None and row[4].digest is None
    assert vote([c.digest for c in row]) == 0
    assert vote([row[2].digest, row[0].digest, row[1].digest]) == 1
