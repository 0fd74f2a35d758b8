import pytest

from harness.suites.synth_edit.suite import make_sample


@pytest.fixture(scope="session")
def synth_samples():
    """Four real synth-edit train samples (L1..L4) on a small canvas."""
    return [make_sample(0, "train", index, size=96) for index in range(4)]


@pytest.fixture(scope="session")
def synth_examples(synth_samples):
    """The four samples as policy training examples (prompt from the grounding agent, plan)."""
    from imageedit_r1.agents import AgentSystem
    from imageedit_r1.data import build_examples
    from imageedit_r1.toolbox import default_toolbox

    agents = AgentSystem(default_toolbox, verify=False)

    def observe(sample):
        env, prompt = agents.observe(sample.source, sample.instruction, 0)
        return prompt, env.regions()

    found, skipped = build_examples(synth_samples, observe, "synth-edit")
    assert len(found) + len(skipped) == len(synth_samples) and found
    return found


@pytest.fixture(scope="session")
def micro_policy_dir(tmp_path_factory, synth_examples):
    """A random micro Llama policy with a tokenizer built from the four examples, saved as an
    ordinary checkpoint directory (also usable as a LoRA base)."""
    import torch

    from imageedit_r1.policy import Policy, build_model, build_tokenizer

    torch.manual_seed(0)
    tokenizer = build_tokenizer([e.prompt + e.completion for e in synth_examples], vocab_size=300)
    path = tmp_path_factory.mktemp("micro_policy")
    Policy(build_model(tokenizer, "micro"), tokenizer).save(path)
    return path


@pytest.fixture
def one_grpo_step(synth_samples):
    """Run one GRPO step (2 prompts x 2 generations) from ``init`` into ``out`` on the four samples,
    and return its summary; keyword arguments change any setting of the run."""
    from imageedit_r1.rollouts import RolloutPool
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.grpo import GRPORunConfig, train_grpo

    def run(examples, init, out, **changes):
        pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
        settings = dict(
            output_dir=str(out),
            init_checkpoint=str(init),
            max_steps=1,
            prompts_per_step=2,
            num_generations=2,
            max_completion_length=12,
            logging_steps=1,
        )
        return train_grpo(examples, pool, GRPORunConfig(**{**settings, **changes}))

    return run


@pytest.fixture
def micro_pipeline():
    """A factory of the smallest one-process pipeline config (micro model, a few samples, one GRPO
    reward, no baselines); keyword arguments change any setting."""
    from imageedit_r1.training.pipeline import PipelineConfig

    def make(out, **changes):
        settings = dict(
            out=str(out),
            sft_synth=8,
            sft_photo=4,
            photo_repeat=1,
            grpo_samples=4,
            test_synth=4,
            test_photo=3,
            model_size="micro",
            sft_steps=2,
            sft_batch=4,
            grpo_steps=1,
            grpo_seconds=600,
            prompts_per_step=2,
            generations=2,
            rewards=("exact",),
            baselines=(),
            workers=1,
        )
        return PipelineConfig(**{**settings, **changes})

    return make
