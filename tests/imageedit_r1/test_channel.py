"""The noisy-channel verifier: channel examples, teacher-forced log-probabilities, the pick rule,
the channel SFT objective, and choosing alpha on a selection set (bench/r1_verifier_sweep.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from imageedit_r1.channel import channel_example, channel_prompt, channel_target, pick, split_prompt
from imageedit_r1.data import PlanExample

from ..conftest import load_bench

ROOT = Path(__file__).resolve().parents[2]
PROMPT = (
    "instruction: Remove the red circle.\nregions: o1 red circle small 3 4 | o2 blue square large 9 9\nplan:"
)
PLAN = ' [{"action":"remove","subject":"o1","goal":""}]'


def test_a_policy_prompt_splits_into_instruction_and_scene():
    assert split_prompt(PROMPT) == (
        "Remove the red circle.",
        "regions: o1 red circle small 3 4 | o2 blue square large 9 9",
    )
    with pytest.raises(ValueError, match="not a policy prompt"):
        split_prompt("regions: o1 red circle small 3 4\nplan:")


def test_the_channel_model_reads_scene_and_plan_and_writes_the_instruction():
    assert channel_prompt(PROMPT, PLAN) == (
        "regions: o1 red circle small 3 4 | o2 blue square large 9 9\n"
        'plan: [{"action":"remove","subject":"o1","goal":""}]\n'
        "instruction:"
    )
    assert channel_target(PROMPT) == " Remove the red circle."
    example = channel_example(PlanExample(PROMPT, PLAN, "synth-edit/train/00000", "synth-edit", "L1"))
    assert example.prompt == channel_prompt(PROMPT, PLAN)
    assert example.completion == " Remove the red circle."
    assert (example.sample_id, example.level) == ("synth-edit/train/00000", "L1")


def test_pick_keeps_the_best_usable_candidate_at_alpha():
    forward = [-1.0, -3.0, -2.0]
    channel = [-9.0, -1.0, -5.0]
    usable = [True, True, True]
    assert pick(forward, channel, usable, alpha=0.0) == 0  # the policy's most likely plan
    assert pick(forward, channel, usable, alpha=1.0) == 1  # the best explanation of the instruction
    # alpha 0.5: scores -5.0, -2.0, -3.5
    assert pick(forward, channel, usable, alpha=0.5) == 1
    assert pick(forward, channel, [True, False, True], alpha=1.0) == 2  # no image, no pick
    assert pick(forward, channel, [False, False, False], alpha=1.0) == 0
    assert pick([-1.0, -1.0], [-2.0, -2.0], [True, True], alpha=0.5) == 0  # ties: the earliest
    with pytest.raises(ValueError, match="alpha"):
        pick(forward, channel, usable, alpha=1.5)


def _tiny_policy():
    from imageedit_r1.policy import Policy, build_model, build_tokenizer

    texts = [PROMPT + PLAN, channel_prompt(PROMPT, PLAN) + channel_target(PROMPT)] * 4
    tokenizer = build_tokenizer(texts, vocab_size=300)
    return Policy(build_model(tokenizer, "micro"), tokenizer)


def test_completion_logprobs_are_the_teacher_forced_sum_whatever_the_batch():
    import torch

    from imageedit_r1.channel import completion_logprobs

    torch.manual_seed(0)
    policy = _tiny_policy()
    prompts = [PROMPT, "instruction: Make the blue square red.\nregions: o1 blue square large 9 9\nplan:"]
    completions = [PLAN, ' [{"action":"recolor","subject":"o1","goal":"red"}]']
    batched = completion_logprobs(policy, prompts, completions, batch_size=2)
    single = [
        completion_logprobs(policy, [p], [c], batch_size=1)[0]
        for p, c in zip(prompts, completions, strict=True)
    ]
    tok = policy.tokenizer
    for value, prompt, completion in zip(batched, prompts, completions, strict=True):
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        c_ids = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        ids = torch.tensor([p_ids + c_ids])
        with torch.no_grad():
            logp = torch.log_softmax(policy.model(input_ids=ids).logits[0].float(), dim=-1)
        expected = sum(logp[len(p_ids) - 1 + i, t].item() for i, t in enumerate(c_ids))
        assert math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-3)
        assert value < 0
    assert all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-3) for a, b in zip(batched, single, strict=True))
    with pytest.raises(ValueError, match="differ in length"):
        completion_logprobs(policy, prompts, completions[:1])


def test_the_channel_objective_trains_on_instructions(tmp_path, synth_examples):
    from imageedit_r1.training.sft import SFTConfig, train_sft

    config = SFTConfig(
        output_dir=str(tmp_path / "channel"),
        model_size="micro",
        max_steps=150,
        batch_size=4,
        warmup_steps=1,
        learning_rate=1e-2,
        log_every=1,
        vocab_size=400,
        word_noise=0.5,  # ignored: the noise edits instructions, which are the channel's targets
        objective="channel",
    )
    summary = train_sft(synth_examples, config)
    assert summary["objective"] == "channel" and summary["steps"] == 150
    records = [json.loads(line) for line in (tmp_path / "channel" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if "loss" in r]
    assert losses[-1] < 0.5 * losses[0]  # the four instructions are learned from scene + plan
    # the trained channel model prefers each sample's own instruction to another sample's
    from imageedit_r1.channel import completion_logprobs
    from imageedit_r1.policy import load_policy

    channel = load_policy(str(tmp_path / "channel" / "final"))
    own = [channel_target(e.prompt) for e in synth_examples]
    other = own[1:] + own[:1]
    inputs = [channel_prompt(e.prompt, e.completion) for e in synth_examples]
    right = completion_logprobs(channel, inputs, own)
    wrong = completion_logprobs(channel, inputs, other)
    assert all(r > w for r, w in zip(right, wrong, strict=True))
    with pytest.raises(ValueError, match="unknown SFT objective"):
        train_sft(synth_examples, SFTConfig(output_dir=str(tmp_path / "x"), objective="reverse"))


def test_the_bench_refuses_a_channel_without_sampled_plans(tmp_path, run_bench):
    out = tmp_path / "x.json"
    args = ["--out", out, "--entry", "a=/nowhere", "--channel", "/nowhere"]
    done = run_bench("r1_paired_eval.py", *args, expect=1)
    assert done.stderr.strip() == "error: --channel ranks sampled plans: give --vote K as well"
    assert not out.exists()


def _bench_file(first: int, rows: list[dict[str, list]], what: str) -> dict:
    """A bench file with candidates (greedy + 2 sampled) on samples first, first+1, ..."""
    ids = [f"synth-edit/test/{first + i:05d}" for i in range(len(rows))]
    candidates = dict(zip(ids, rows, strict=True))
    per_sample = {
        sid: [row["exact"][0], row["exact"][0], max(row["exact"]), row["exact"][0]]
        for sid, row in candidates.items()
    }
    return {
        "what": what,
        "columns": ["p", "p_vote2", "p_any2", "p_channel2"],
        "per_sample": per_sample,
        "sample_levels": {sid: f"L{(first + i) % 4 + 1}" for i, sid in enumerate(ids)},
        "candidates": {"p": candidates},
        "channel": {"checkpoint": "c", "alpha": 0.5},
    }


def _row(exact, forward, channel):
    return {"exact": exact, "usable": [True] * len(exact), "forward": forward, "channel": channel}


def test_alpha_is_chosen_on_the_selection_set_and_reported_on_the_test_set(tmp_path, run_bench):
    sweep = load_bench("r1_verifier_sweep")
    # selection: the greedy plan is wrong where a sampled plan explains the instruction much better,
    # and right where the channel is only slightly against it: alphas from 0.3 to 0.65 fix the first
    # two samples and keep the third
    select = _bench_file(
        100,
        [
            _row([0.0, 1.0, 0.0], [-1.0, -2.0, -3.0], [-5.0, -2.0, -9.0]),
            _row([0.0, 0.0, 1.0], [-1.0, -2.0, -2.5], [-6.0, -7.0, -2.0]),
            _row([1.0, 0.0, 0.0], [-1.0, -4.0, -4.0], [-2.0, -0.5, -3.0]),
        ],
        "synth-edit test samples 100-102 (held-out phrasings), greedy plans, synth_exact",
    )
    test = _bench_file(
        0,
        [
            _row([0.0, 1.0, 0.0], [-1.0, -1.5, -3.0], [-4.0, -1.0, -9.0]),
            _row([1.0, 0.0, 0.0], [-1.0, -1.2, -3.0], [-1.0, -0.9, -9.0]),
        ],
        "synth-edit test samples 0-1 (held-out phrasings), greedy plans, synth_exact",
    )
    curve = sweep.sweep(select, "p")
    assert curve[0.0]["all"] == pytest.approx(1 / 3) and curve[1.0]["all"] == pytest.approx(2 / 3)
    assert curve[0.4]["all"] == 1.0
    result = sweep.report(select, test, "p")
    assert result["alpha"] == 0.3  # the smallest alpha of the best selection score
    assert result["columns"] == ["p", "p_verifier2", "p_vote2", "p_any2"]
    # test at 0.3: sample 0 switches to the right plan (-1.35 > -1.9); sample 1 keeps greedy (-1.0 > -1.11)
    assert result["per_sample"] == {
        "synth-edit/test/00000": [0.0, 1.0, 0.0, 1.0],
        "synth-edit/test/00001": [1.0, 1.0, 1.0, 1.0],
    }
    assert result["levels"]["all"]["p_verifier2_minus_p"] == 0.5
    assert result["curve"]["report"]["0.30"]["all"] == 1.0
    with pytest.raises(ValueError, match="share samples"):
        sweep.report(test, test, "p")
    out = tmp_path / "v.json"
    sel_path, test_path = tmp_path / "s.json", tmp_path / "t.json"
    sel_path.write_text(json.dumps(select))
    test_path.write_text(json.dumps(test))
    args = ["--select", sel_path, "--report", test_path, "--out", out, "--plot", tmp_path / "v.png"]
    run_bench("r1_verifier_sweep.py", *args, "--entry", "p")
    assert json.loads(out.read_text())["alpha"] == 0.3 and (tmp_path / "v.png").stat().st_size > 0
    done = run_bench("r1_verifier_sweep.py", *args, "--entry", "q", expect=1)
    assert done.stderr.strip().startswith("error: the selection file has no candidates")


def test_the_bench_ranks_sampled_plans_with_a_channel_model(tmp_path, synth_examples, run_bench):
    from imageedit_r1.training.sft import SFTConfig, train_sft

    for objective in ("plan", "channel"):
        config = SFTConfig(
            output_dir=str(tmp_path / objective),
            model_size="micro",
            max_steps=3,
            batch_size=4,
            objective=objective,
        )
        train_sft(synth_examples, config)
    out = tmp_path / "c.json"
    args = ["--synth", "4", "--workers", "1", "--entry", f"p={tmp_path / 'plan' / 'final'}", "--vote", "2"]
    args += ["--channel-alpha", "0.3", "--channel", tmp_path / "channel" / "final", "--out", out]
    run_bench("r1_paired_eval.py", *args, "--plans")
    result = json.loads(out.read_text())
    # --plans keeps the greedy plan, the first of each sample's candidates
    assert result["plans"]["p"] == {sid: row["plans"][0] for sid, row in result["candidates"]["p"].items()}
    assert result["columns"] == ["p", "p_vote2", "p_any2", "p_channel2"]
    assert result["channel"] == {"checkpoint": str(tmp_path / "channel" / "final"), "alpha": 0.3}
    candidates = result["candidates"]["p"]
    assert sorted(candidates) == sorted(result["per_sample"])
    for sid, row in candidates.items():
        assert len(row["exact"]) == len(row["usable"]) == len(row["forward"]) == len(row["channel"]) == 3
        assert len(row["plans"]) == 3 and all(isinstance(plan, str) for plan in row["plans"])
        assert all(v < 0 for v in row["forward"] + row["channel"])  # log-probabilities of real text
        greedy, _, best, chosen = result["per_sample"][sid]
        assert greedy == row["exact"][0] and best == max(row["exact"])
        # the verifier's column is the exact value of the candidate pick() keeps (scores stored rounded)
        scores = [
            0.7 * f + 0.3 * c if ok else None
            for f, c, ok in zip(row["forward"], row["channel"], row["usable"], strict=True)
        ]
        if any(s is not None for s in scores):
            top = max(s for s in scores if s is not None)
            assert chosen in {
                row["exact"][i] for i, s in enumerate(scores) if s is not None and s > top - 0.01
            }
        else:
            assert chosen == row["exact"][0]
