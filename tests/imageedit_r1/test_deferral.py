"""Deferral to the rule grammar: the gate's decisions, its file, the editor's trace and images, and
the bench that chooses the threshold."""

import json

import numpy as np
import pytest

from imageedit_r1.deferral import GATE_FILE, DeferralGate, load_gate, save_gate

from ..conftest import load_bench

COMPLETE = "Make the red circle blue."
INCOMPLETE = "The object nearest the bottom should end up in the upper left corner."
TWO_SENTENCES = "Make the red circle blue. Move the blue square to the top left corner."


def test_the_gate_defers_a_complete_reading_when_the_policy_is_unsure():
    gate = DeferralGate(-0.1)
    deferral, reading = gate.decide(COMPLETE, [-0.01, -0.5, -0.02])
    assert deferral.defer and deferral.complete and deferral.least_logprob == -0.5
    assert [s.action for s in reading.plan] == ["recolor"]
    assert deferral.to_dict() == {
        "defer": True,
        "least_token_logprob": -0.5,
        "grammar_complete": True,
        "sentences": 1,
        "grammar_unused": [],
    }


def test_the_gate_keeps_the_policy_when_it_is_sure_or_the_reading_is_incomplete():
    gate = DeferralGate(-0.1)
    sure, _ = gate.decide(COMPLETE, [-0.01, -0.099])
    assert not sure.defer and "sure" in sure.reason
    incomplete, _ = gate.decide(INCOMPLETE, [-3.0])
    assert not incomplete.defer and not incomplete.complete
    assert incomplete.unused == ("second position",) and "second position" in incomplete.reason


def test_one_sentence_gates_keep_the_policy_on_several_sentences():
    assert DeferralGate(-0.1).decide(TWO_SENTENCES, [-2.0])[0].defer
    several, reading = DeferralGate(-0.1, single_sentence=True).decide(TWO_SENTENCES, [-2.0])
    assert not several.defer and several.complete and reading.sentences == 2


def test_a_threshold_is_a_negative_log_probability():
    for bad in (0.0, 0.5):
        with pytest.raises(ValueError, match="below 0"):
            DeferralGate(bad)


def test_the_gate_file_round_trips_and_a_bad_one_names_itself(tmp_path):
    assert load_gate(tmp_path) is None
    save_gate(tmp_path, DeferralGate(-0.075, True), {"rule": "test"})
    assert load_gate(tmp_path) == DeferralGate(-0.075, True)
    assert json.loads((tmp_path / GATE_FILE).read_text())["chosen"] == {"rule": "test"}
    (tmp_path / GATE_FILE).write_text('{"single_sentence": true}')
    with pytest.raises(ValueError, match="unreadable deferral gate .*deferral.json"):
        load_gate(tmp_path)


pytest.importorskip("torch")


@pytest.fixture(scope="module")
def micro_checkpoint(micro_policy_dir):
    """A random micro policy: every plan it writes is unsure, so the gate's threshold decides alone."""
    return micro_policy_dir


def _editor(path, **options):
    from imageedit_r1.editor import ImageEditR1Editor

    return ImageEditR1Editor(arg=str(path), device="cpu", max_new_tokens=12, replans=0, **options)


def test_the_editor_hands_a_complete_reading_to_the_grammar_and_traces_why(
    tmp_path, micro_checkpoint, synth_samples
):
    import shutil

    from baselines.pipelines.decompose import ClassicPipelineEditor
    from harness.suites.photo_ops.suite import PhotoOpsSuite
    from harness.types import EditRequest

    gated = tmp_path / "gated"
    shutil.copytree(micro_checkpoint, gated)
    save_gate(gated, DeferralGate(-1e-6), {"rule": "test"})
    editor = _editor(gated)
    assert editor.config()["deferral"] == {
        "threshold": -1e-6,
        "single_sentence": False,
        "sentence_threshold": None,
    }
    assert "deferral" not in _editor(gated, defer=False).config()

    sample = synth_samples[0]  # a one-sentence train instruction the grammar reads completely
    photo = next(iter(PhotoOpsSuite(size=96).samples("test", limit=1)))
    requests = [
        EditRequest(sample.id, sample.source, sample.instruction),
        EditRequest("incomplete", sample.source, INCOMPLETE),
        EditRequest("photograph", photo.source, COMPLETE),
    ]
    deferred, kept, photograph = editor.edit(requests)

    assert deferred.status == "ok" and deferred.provider == {"deferred": True}
    gate_step, plan_step = deferred.trace[0], deferred.trace[1]
    assert gate_step.tool == "defer" and gate_step.arguments["defer"] is True
    assert gate_step.arguments["least_token_logprob"] < -1e-6
    assert gate_step.arguments["rule_plan"] == [
        {"action": "background", "subject": "background", "goal": "brick texture"}
    ]
    assert plan_step.tool == "plan" and plan_step.message == "not executed: deferred to the rule grammar"
    classic = ClassicPipelineEditor().edit_one(requests[0])
    assert np.array_equal(deferred.image, classic.image)
    assert not np.array_equal(deferred.image, sample.source)

    assert kept.trace[0].tool == "defer" and kept.trace[0].arguments["defer"] is False
    assert kept.trace[0].arguments["grammar_unused"] == ["second position"]
    assert "rule_plan" not in kept.trace[0].arguments
    assert any(step.tool == "plan" and "policy_output" in step.arguments for step in kept.trace[1:])
    assert kept.provider.get("deferred") is None
    # the grammar's domain is flat-colour scenes: a photograph is never deferred
    assert (
        photograph.trace[0].arguments["defer"] is False and photograph.trace[0].arguments["grammar_complete"]
    )
    assert photograph.trace[0].message.startswith("not a flat-colour scene")


def test_an_unreadable_gate_is_a_recorded_failure_not_a_crash(tmp_path, micro_checkpoint, synth_samples):
    import shutil

    from harness.types import EditRequest

    broken = tmp_path / "broken"
    shutil.copytree(micro_checkpoint, broken)
    (broken / GATE_FILE).write_text("{not json")
    sample = synth_samples[0]
    (result,) = _editor(broken).edit([EditRequest(sample.id, sample.source, sample.instruction)])
    assert result.status == "error" and "unreadable deferral gate" in result.error


def _paired(ids_and_rows):
    """A paired file as bench/r1_paired_eval.py --plans --confidence writes it."""
    return {
        "what": "hand-built",
        "columns": ["shipped", "classic-pipeline"],
        "per_sample": {sid: [policy, classic] for sid, (_, _, _, policy, classic) in ids_and_rows.items()},
        "sample_levels": {sid: level for sid, (level, *_) in ids_and_rows.items()},
        "prompts": {
            sid: f"instruction: {text}\nregions: o1\nplan:" for sid, (_, text, *_) in ids_and_rows.items()
        },
        "token_logprobs": {"shipped": {sid: [lp] for sid, (_, _, lp, _, _) in ids_and_rows.items()}},
    }


def test_the_bench_chooses_the_threshold_on_the_selection_file_alone(tmp_path):
    bench = load_bench("r1_deferral")
    select = _paired(
        {
            "s/1": ("L1", COMPLETE, -0.5, 0.0, 1.0),  # deferred below -0.4: gains
            "s/2": ("L1", COMPLETE, -0.03, 0.0, 1.0),  # deferred below -0.02: gains
            "s/3": ("L2", COMPLETE, -0.015, 1.0, 0.0),  # deferred below -0.01: loses
            "s/4": ("L2", INCOMPLETE, -2.0, 1.0, 0.0),  # never deferred
        }
    )
    gate, curve = bench.choose(select, "shipped", single_sentence=False)
    assert gate == DeferralGate(-0.02)
    best = next(c for c in curve if c["threshold"] == -0.02 and not c["single_sentence"])
    assert best["levels"]["L1"]["gated"] == 1.0 and best["levels"]["L2"]["gated"] == 1.0
    columns = bench.gate_columns(select, "shipped", DeferralGate(-0.01))
    assert columns["deferred"] == {"s/1": 1.0, "s/2": 1.0, "s/3": 1.0, "s/4": 0.0}
    assert columns["gated"] == {"s/1": 1.0, "s/2": 1.0, "s/3": 0.0, "s/4": 1.0}
    assert bench.sample_rows(select, "shipped", gate)["s/2"] == ["L1", -0.03, 1, 1, 1, 0.0, 1.0, 1.0]


def test_sentences_pair_with_sub_edits_and_take_the_grammars_reading_when_unsure():
    from baselines.tools.classical.instructions import read_instruction
    from imageedit_r1.plan import SubEdit

    reading = read_instruction(TWO_SENTENCES)
    plan = [SubEdit("recolor", "o1", "red"), SubEdit("move", "o2", "bottom")]
    gate = DeferralGate(-0.1, single_sentence=True, sentence_threshold=-0.05)
    merged, taken = gate.merge_sentences(reading, plan, [-0.2, -0.01])
    assert taken == [0]  # the second sub-edit is sure enough
    assert merged == [SubEdit("recolor", "the red circle", "blue"), plan[1]]
    merged, taken = gate.merge_sentences(reading, plan, [-0.2, -0.3])
    assert taken == [0, 1] and merged[1] == SubEdit("move", "the blue square", "top-left")
    # no pairing, no sentence threshold: the policy's plan as it is
    assert gate.merge_sentences(reading, plan[:1], [-1.0]) == (plan[:1], [])
    assert DeferralGate(-0.1).merge_sentences(reading, plan, [-1.0, -1.0]) == (plan, [])


def test_readings_without_a_policy_form_are_never_taken():
    from baselines.tools.plans import SubEdit as RuleSubEdit
    from imageedit_r1.deferral import policy_subedit
    from imageedit_r1.plan import SubEdit

    assert policy_subedit(RuleSubEdit("add", "small red star", "top-left")) == SubEdit(
        "add", "image", "small red star at top-left"
    )
    assert policy_subedit(RuleSubEdit("background", "background", "grass texture")) == SubEdit(
        "background", "image", "grass texture"
    )
    assert policy_subedit(RuleSubEdit("resize", "the star", "small")) == SubEdit(
        "resize", "the star", "small"
    )
    for rule in (
        RuleSubEdit("swap", "the red circle", "the blue square"),
        RuleSubEdit("move", "the star", "where the red circle was"),
        RuleSubEdit("recolor", "the star", "colour of the red circle"),
        RuleSubEdit("remove", "every shape except the largest shape", ""),
        RuleSubEdit("add", "star", "top; colour of the red circle"),
    ):
        assert policy_subedit(rule) is None


def test_each_sub_edit_gets_the_least_log_probability_of_its_own_tokens(micro_checkpoint):
    from transformers import AutoTokenizer

    from imageedit_r1.deferral import subedit_least_logprobs

    tokenizer = AutoTokenizer.from_pretrained(micro_checkpoint)
    text = ' [{"action":"remove","subject":"o1","goal":""},{"action":"move","subject":"o2","goal":"top"}]'
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    second = text.index("},{") + 2
    # one unsure token inside each object: the first object's at its start, the second's at its end
    logprobs = [0.0] * (len(offsets) + 1)
    first_token = next(i for i, (a, b) in enumerate(offsets) if b > text.index("{"))
    last_token = max(i for i, (a, b) in enumerate(offsets) if a < len(text) - 1)
    logprobs[first_token], logprobs[last_token] = -1.5, -0.7
    assert subedit_least_logprobs(tokenizer, text, logprobs) == [-1.5, -0.7]
    assert offsets[last_token][0] >= second - 1
    assert subedit_least_logprobs(tokenizer, text, logprobs[:-1]) == []  # tokens and values do not pair


def test_the_editor_executes_the_merged_plan_and_traces_the_sentences_taken(
    tmp_path, micro_checkpoint, synth_samples
):
    import shutil

    from harness.types import EditRequest
    from imageedit_r1.agents import Proposal

    gated = tmp_path / "gated"
    shutil.copytree(micro_checkpoint, gated)
    save_gate(gated, DeferralGate(-0.1, single_sentence=True, sentence_threshold=0.0), {"rule": "test"})
    editor = _editor(gated)
    assert editor.config()["deferral"]["sentence_threshold"] == 0.0
    agents = editor._system()
    sample = synth_samples[
        2
    ]  # "Please take out the purple triangle. Lastly, ... to where the purple triangle was?"
    request = EditRequest(sample.id, sample.source, sample.instruction)
    (proposal,) = agents.propose([(sample.source, sample.instruction, 0)])
    written = (
        ' [{"action":"recolor","subject":"o2","goal":"red"},{"action":"move","subject":"o4","goal":"o2"}]'
    )
    proposal = Proposal(proposal.env, proposal.prompt, written)
    (decision,) = editor._decisions([request], [proposal])
    deferral, merged = decision.deferral, decision.proposal
    # sentence 1 is read completely and taken; sentence 2 ("where X was") has no policy form
    assert not deferral.defer and deferral.sentences_from_grammar == (0,)
    assert merged.completion == (
        ' [{"action":"remove","subject":"the purple triangle","goal":""},'
        '{"action":"move","subject":"o4","goal":"o2"}]'
    )
    # the trace keeps the policy's own plan beside the decision
    from imageedit_r1.editor import _gate_step

    step = _gate_step(deferral, None, written)
    assert step.arguments["sentences_from_grammar"] == [0] and step.arguments["policy_output"] == written
    run = agents.carry_out((sample.source, sample.instruction, 0), merged)
    edits = [step for step in run.episode.trace if step.tool in ("remove", "move")]
    assert [(step.tool, step.status) for step in edits] == [("remove", "ok"), ("move", "ok")]


def test_the_bench_refuses_files_it_cannot_choose_from_in_one_line(tmp_path, run_bench):
    select = _paired({"s/1": ("L1", COMPLETE, -0.5, 0.0, 1.0)})
    (tmp_path / "select.json").write_text(json.dumps(select))
    (tmp_path / "same.json").write_text(json.dumps(select))
    bare = {k: v for k, v in select.items() if k != "token_logprobs"}
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    out = ["--out", tmp_path / "gate.json"]
    done = run_bench("r1_deferral.py", "--select", tmp_path / "bare.json", *out, expect=1)
    assert "has no 'token_logprobs'" in done.stderr and "--confidence" in done.stderr
    done = run_bench(
        "r1_deferral.py",
        "--select",
        tmp_path / "select.json",
        "--report",
        tmp_path / "same.json",
        *out,
        expect=1,
    )
    assert "shares samples with the selection file" in done.stderr
    assert not (tmp_path / "gate.json").exists()
