"""The whole one-GPU experiment in one process: data, SFT, held-out evaluation, GRPO with each
reward variant, evaluation again, and the baselines on the same held-out samples.

Everything lands in ``out``: ``results.json`` (rewritten after every stage, so a run cut short
keeps what it finished), each stage's checkpoint, ``metrics.jsonl`` and learning-curve PNG.

Run again with the same ``out`` and the same settings, a pipeline that was cut short (a crash,
``kill -9``, a time limit) resumes: finished stages are kept as recorded (the data are rebuilt, they
are deterministic), an unfinished SFT continues from its newest complete checkpoint (every
``sft_save_every`` steps) and an unfinished GRPO stage from its own (every ``grpo_save_seconds`` of
training), with its time budget counted from where it stopped. Other settings in the same ``out``
are refused (:class:`PipelineMismatch`), since the kept stages would then describe another run.
"""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.atomic import write_json

EXACT_PSNR_DB = 40.0  # a photo-ops result this close to the exact target counts as solved
RESUME_IGNORED = ("workers", "mirror")  # settings a resumed run may change: no stage's result depends on them


@dataclass
class PipelineConfig:
    out: str
    sft_synth: int = 20000  # from scene graphs (no pixels), described as grounding describes them
    sft_photo: int = 600  # rendered and grounded
    photo_repeat: int = 3
    grpo_samples: int = 800  # synth-edit samples rendered and grounded for GRPO (photo: sft_photo)
    test_synth: int = 400
    test_photo: int = 300
    model_size: str = "small"
    base_model: str | None = None  # fine-tune this (HF id, directory, .gguf, "smollm2") instead
    lora_rank: int = 0  # > 0: train a LoRA adapter on the frozen base
    sft_steps: int = 8000
    sft_save_every: int = 200  # SFT checkpoint every this many steps (the newest is kept); 0: none
    sft_batch: int = 128
    sft_lr: float = 1.5e-3
    word_noise: float = 0.2
    size_synonyms: float = 0.5  # noisy copies write a size value as a tool-vocabulary synonym this often
    keep_relations: bool = False  # SFT word noise keeps spatial reference words (left, above, ...)
    cue_words: float = 0.0  # SFT noise writes a train action word (data.cue_words) this often
    rule_draft: bool = False  # prompts carry the rule grammar's draft line (imageedit_r1.drafts)
    set_order: str = "program"  # SFT goal (L4) plans: 'program' (as generated) or 'reading' (region order)
    subjects: str = "handles"  # plans name objects by 'handles' (o3) or 'phrases' grounding resolves
    grpo_noise: float = 0.2  # each GRPO prompt also appears once with this word noise
    grpo_keep_relations: bool = False  # that noise keeps spatial reference words (left, above, ...)
    grpo_cue_words: float = 0.0  # that noise writes a train action word (data.cue_words) this often
    grpo_keep_solved: float = 1.0  # < 1: drop most prompts the SFT policy already solves greedily
    grpo_levels: Sequence[str] = ()  # GRPO prompts of these levels only (every suite); empty: all
    grpo_level_weights: dict[str, int] = field(default_factory=dict)  # level -> copies of its prompts
    grpo_steps: int = 80
    grpo_seconds: float = 150.0
    grpo_save_seconds: float = 60.0  # GRPO checkpoint after this much training time; 0: final only
    prompts_per_step: int = 16
    generations: int = 8
    grpo_iterations: int = 1  # GRPO's mu: optimisation passes over each generated batch
    grpo_scale_rewards: str = "group"  # trl's scale_rewards: group (default), batch or none
    grpo_merged_sampling: bool = True  # sample GRPO's completions with the LoRA adapter merged
    grpo_lr: float = 5e-5
    beta: float = 0.0  # > 0: KL penalty to the GRPO start (a frozen copy of a LoRA adapter)
    temperature: float = 1.0
    rewards: Sequence[str] = ("harness", "f1")
    baselines: Sequence[str] = ("classic-pipeline",)
    workers: int = 14
    seed: int = 0
    deterministic: bool = False  # deterministic kernels in both training stages (determinism.py)
    init_sft: str | None = None  # reuse this SFT checkpoint instead of training one
    mirror: str | None = None  # copy results, logs and exported checkpoints here after every stage
    extra: dict[str, Any] = field(default_factory=dict)


class PipelineMismatch(ValueError):
    """``out`` holds a pipeline run made with other settings, or a results file that cannot be read."""


def _plain_config(config: PipelineConfig) -> dict[str, Any]:
    """The settings as results.json stores them (tuples as lists, paths as strings)."""
    return json.loads(json.dumps(asdict(config), default=str))


def earlier_results(out: Path, config: PipelineConfig) -> dict[str, Any]:
    """What an earlier run into ``out`` recorded (``{}`` if none); refuses one made with other
    settings, naming the first settings that differ. A setting the earlier record lacks (it was
    added to the pipeline later) counts as its default."""
    path = out / "results.json"
    if not path.is_file():
        return {}
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PipelineMismatch(f"{path} cannot be read ({exc}); use another --out") from None
    defaults = _plain_config(PipelineConfig(out=config.out))
    old = {k: v for k, v in {**defaults, **earlier.get("config", {})}.items() if k not in RESUME_IGNORED}
    new = {k: v for k, v in _plain_config(config).items() if k not in RESUME_IGNORED}
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if changed:
        shown = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise PipelineMismatch(
            f"{out} holds a pipeline run with other settings ({shown}{more}); "
            "rerun with its settings to resume it, or use another --out"
        )
    return earlier


def _levels(values: Sequence[tuple[str, str, dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """suite -> level -> metric mean (plus n), and an 'all' level."""
    grouped: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for suite, level, scores in values:
        for name, value in scores.items():
            grouped[suite][level][name].append(value)
            grouped[suite]["all"][name].append(value)
            if name == "psnr":
                grouped[suite][level]["psnr_ge_40db"].append(float(value >= EXACT_PSNR_DB))
                grouped[suite]["all"]["psnr_ge_40db"].append(float(value >= EXACT_PSNR_DB))
    table: dict[str, dict[str, dict[str, float]]] = {}
    for suite, levels in grouped.items():
        table[suite] = {}
        for level, metrics in sorted(levels.items()):
            row = {name: sum(v) / len(v) for name, v in metrics.items()}
            row["n"] = len(next(iter(metrics.values())))
            table[suite][level] = row
    return table


def greedy_scores(
    checkpoint: str, pool: Any, jobs: Sequence[tuple[str, str, str]]
) -> tuple[list[str], list[dict[str, float]], float]:
    """Greedy plans of the policy at ``checkpoint`` for (sample_id, suite, prompt) jobs, executed and
    scored in the pool: (plans, raw metric values, seconds of generation)."""
    from imageedit_r1.policy import load_policy
    from imageedit_r1.rollouts import evaluate_rollouts

    began = time.perf_counter()
    policy = load_policy(checkpoint)
    plans = policy.generate([prompt for _, _, prompt in jobs], max_new_tokens=160, batch_size=256)
    generation_seconds = time.perf_counter() - began
    del policy
    scores = pool.map(
        evaluate_rollouts, [(sid, suite, plan) for (sid, suite, _), plan in zip(jobs, plans, strict=True)]
    )
    return plans, scores, generation_seconds


def evaluate_checkpoint(
    checkpoint: str, pool: Any, test: Sequence[tuple[str, str, str, str]]
) -> dict[str, Any]:
    """Greedy plans for the held-out prompts, executed and scored in the pool."""
    began = time.perf_counter()
    completions, scores, generation_seconds = greedy_scores(
        checkpoint, pool, [(sid, suite, prompt) for sid, suite, _, prompt in test]
    )
    return {
        "levels": _levels([(suite, level, s) for (_, suite, level, _), s in zip(test, scores, strict=True)]),
        "generation_seconds": generation_seconds,
        "seconds": time.perf_counter() - began,
        "examples": [
            {"prompt": t[3], "completion": c} for t, c in list(zip(test, completions, strict=True))[:6]
        ],
    }


def evaluate_baseline(name: str, pool: Any, test: Sequence[tuple[str, str, str, str]]) -> dict[str, Any]:
    from imageedit_r1.rollouts import evaluate_editor

    began = time.perf_counter()
    scores = pool.map(evaluate_editor, [(name, sid, suite) for sid, suite, _, _ in test])
    return {
        "levels": _levels([(suite, level, s) for (_, suite, level, _), s in zip(test, scores, strict=True)]),
        "seconds": time.perf_counter() - began,
    }


def noisy_copies(
    examples: Sequence[Any],
    rate: float,
    seed: int,
    synonyms: float = 0.0,
    keep_relations: bool = False,
    cues: float = 0.0,
) -> list[Any]:
    """The examples plus, when ``rate > 0``, one copy of each with word noise in the instruction."""
    import random
    from dataclasses import replace

    from imageedit_r1.data import add_word_noise

    if rate <= 0:
        return list(examples)
    rng = random.Random(seed)
    return list(examples) + [
        replace(e, prompt=add_word_noise(e.prompt, rate, rng, synonyms, keep_relations, cues))
        for e in examples
    ]


def solved(suite: str, scores: dict[str, float]) -> bool:
    """An exact result: synth-edit's exact checker passes, or photo-ops is within 40 dB of the target."""
    if suite == "synth-edit":
        return scores.get("synth_exact", 0.0) >= 1.0
    return scores.get("psnr", 0.0) >= EXACT_PSNR_DB


def at_levels(examples: Sequence[Any], levels: Sequence[str]) -> list[Any]:
    """The examples whose level is one of ``levels`` (all of them when ``levels`` is empty)."""
    return [e for e in examples if not levels or e.level in levels]


def weighted(examples: Sequence[Any], weights: dict[str, int]) -> list[Any]:
    """Each example repeated ``weights[level]`` times (once when its level has no weight), so a GRPO
    prompt mix can lean towards some levels without dropping the others."""
    return [e for e in examples for _ in range(weights.get(e.level, 1))]


def parse_level_weights(text: str, known: Sequence[str]) -> dict[str, int]:
    """``"L1,L2,L3:2,L4:2"`` -> ``{"L1": 1, "L2": 1, "L3": 2, "L4": 2}``; ValueError with one line
    naming the bad item otherwise."""
    weights: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        level, _, count = item.partition(":")
        if level not in known:
            raise ValueError(f"--grpo-levels must be one of {', '.join(known)}, got {level!r}")
        if count and not (count.isdigit() and int(count) > 0):
            raise ValueError(f"--grpo-levels weight must be a positive integer, got {item!r}")
        weights[level] = int(count) if count else 1
    return weights


def unsolved_first(
    checkpoint: str, pool: Any, examples: Sequence[Any], keep_solved: float, seed: int
) -> tuple[list[Any], dict[str, Any]]:
    """The GRPO prompts the policy at ``checkpoint`` gets wrong with its greedy plan, plus a random
    ``keep_solved`` share of those it gets right. A prompt it always solves gives a group of equal
    rewards, hence no GRPO gradient; filtering them up front spends the generation budget on
    prompts where the group's outcomes can differ."""
    import random

    began = time.perf_counter()
    _, scores, _ = greedy_scores(checkpoint, pool, [(e.sample_id, e.suite, e.prompt) for e in examples])
    rng = random.Random(seed)
    kept, right = [], 0
    for example, score in zip(examples, scores, strict=True):
        if solved(example.suite, score):
            right += 1
            if rng.random() >= keep_solved:
                continue
        kept.append(example)
    summary = {
        "prompts": len(examples),
        "solved_greedily": right,
        "kept": len(kept),
        "keep_solved": keep_solved,
        "seconds": round(time.perf_counter() - began, 1),
    }
    return kept, summary


def mirror(out: Path, target: Path) -> None:
    """results.json, a tarball of logs and curves, and one tarball per exported checkpoint."""
    import shutil
    import tarfile

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "results.json", target / "results.json")
    with tarfile.open(target / "logs.tgz", "w:gz") as tar:
        for path in sorted(out.glob("*/metrics.jsonl")) + sorted(out.glob("*/*.png")):
            tar.add(path, arcname=str(path.relative_to(out)))
    for exported in sorted((out / "export").glob("*")):
        archive = target / f"ckpt_{exported.name}.tgz"
        if not archive.exists():
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(exported, arcname=exported.name)


def run_pipeline(config: PipelineConfig) -> dict[str, Any]:
    from harness.manifest import device_info
    from imageedit_r1.policy import export_checkpoint, is_smoke_model
    from imageedit_r1.rollouts import RolloutPool, observe
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.checkpoints import PROGRESS_FILE, latest_checkpoint
    from imageedit_r1.training.corpus import build_corpus, graph_examples
    from imageedit_r1.training.grpo import GRPORunConfig, train_grpo
    from imageedit_r1.training.sft import STATE_FILE as SFT_STATE_FILE
    from imageedit_r1.training.sft import SFTConfig, train_sft

    out = Path(config.out)
    smoke = is_smoke_model(config.model_size, config.base_model)
    earlier = earlier_results(out, config)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    results: dict[str, Any] = {
        "config": asdict(config),
        "host": platform.node(),
        "stages": dict(earlier.get("stages", {})),
    }
    if earlier:
        results["resumed"] = int(earlier.get("resumed", 0)) + 1  # how many times this run was resumed

    def save(stage: str, value: Any) -> None:
        value = dict(value) if isinstance(value, dict) else {"value": value}
        value["elapsed"] = round(time.perf_counter() - began, 1)
        results["stages"][stage] = value
        results["device"] = device_info()  # names the GPUs once torch is loaded
        write_json(out / "results.json", results, default=str)  # written whole: a kill cannot tear it
        if config.mirror:
            mirror(out, Path(config.mirror))
        print(f"[{value['elapsed']:7.1f}s] {stage}: {json.dumps(value, default=str)[:600]}", flush=True)

    def finished(stage: str) -> bool:
        """The earlier run recorded this stage without an error: keep it, do not run it again."""
        value = earlier.get("stages", {}).get(stage)
        if not isinstance(value, dict) or "error" in value:
            return False
        print(f"[{time.perf_counter() - began:7.1f}s] {stage}: kept from the earlier run", flush=True)
        return True

    # The data are the suite's own train split (generator seed 0), the same samples the grounded
    # corpus renders; ``config.seed`` draws only the training randomness (noise, filter, trainer).
    # with --init-sft no SFT runs, so its plans from scene graphs are not built
    graph, graph_skipped = (
        ([], [])
        if config.init_sft
        else graph_examples(config.sft_synth, "train", workers=config.workers, subjects=config.subjects)
    )
    grounded_counts = {"synth-edit": config.grpo_samples, "photo-ops": config.sft_photo}
    train = build_corpus(
        {k: v for k, v in grounded_counts.items() if v},
        "train",
        max(grounded_counts.values()),
        config.workers,
        subjects=config.subjects,
    )
    test_counts = {"synth-edit": config.test_synth, "photo-ops": config.test_photo}
    test = build_corpus(
        {k: v for k, v in test_counts.items() if v}, "test", workers=config.workers, plans=False
    )
    by_id = {e.sample_id: e for e in graph}
    grounded_synth = [e for e in train.examples if e.suite == "synth-edit" and e.sample_id in by_id]
    agree_prompt = sum(e.prompt == by_id[e.sample_id].prompt for e in grounded_synth)
    agree_plan = sum(e.completion == by_id[e.sample_id].completion for e in grounded_synth)
    photo = [e for e in train.examples if e.suite == "photo-ops"]
    sft_examples = [] if config.init_sft else graph + photo * config.photo_repeat
    agreement = (  # how often the grounded corpus and the scene-graph plans agree (None: nothing to compare)
        (agree_prompt / len(grounded_synth), agree_plan / len(grounded_synth))
        if grounded_synth
        else (None, None)
    )
    save(
        "data",
        {
            "sft_plans": len(sft_examples),
            "graph_synth": len(graph),
            "photo": len(photo),
            "skipped": len(graph_skipped) + len(train.skipped),
            "skip_examples": (graph_skipped + train.skipped)[:5],
            "grounded_vs_graph_prompt_agreement": agreement[0],
            "grounded_vs_graph_plan_agreement": agreement[1],
            "disagreement_examples": [
                {"grounded": e.prompt, "graph": by_id[e.sample_id].prompt}
                for e in grounded_synth
                if e.prompt != by_id[e.sample_id].prompt
            ][:3],
            "test_samples": len(test.samples),
            "grpo_samples": len(train.samples),
        },
    )
    pool = RolloutPool({**train.samples, **test.samples}, default_toolbox, config.workers)
    try:
        test_ids = [(sid, _suite_of(sid), s.level) for sid, s in test.samples.items()]
        prompts = pool.map(observe, [sid for sid, _, _ in test_ids])
        test_items = [
            (sid, suite, level, prompt) for (sid, suite, level), prompt in zip(test_ids, prompts, strict=True)
        ]
        for name in config.baselines:
            if finished(f"baseline:{name}"):
                continue
            try:
                save(f"baseline:{name}", evaluate_baseline(name, pool, test_items))
            except Exception as exc:  # a missing baseline is reported, not fatal
                save(f"baseline:{name}", {"error": f"{type(exc).__name__}: {exc}"})

        sft_config = SFTConfig(
            output_dir=str(out / "sft"),
            model_size=config.model_size,
            base_model=config.base_model,
            lora_rank=config.lora_rank,
            max_steps=config.sft_steps,
            batch_size=config.sft_batch,
            learning_rate=config.sft_lr,
            word_noise=config.word_noise,
            size_synonyms=config.size_synonyms,
            keep_relations=config.keep_relations,
            cue_words=config.cue_words,
            rule_draft=config.rule_draft,
            set_order=config.set_order,
            seed=config.seed,
            deterministic=config.deterministic,
            save_every=config.sft_save_every,
            keep_checkpoints=1,
        )
        if config.init_sft:
            sft_checkpoint = config.init_sft
            save("sft", {"reused": config.init_sft})
        else:
            sft_checkpoint = str(out / "sft" / "final")
            if not ((out / "sft" / "final" / SFT_STATE_FILE).is_file() and finished("sft")):
                resume = latest_checkpoint(out / "sft", SFT_STATE_FILE)
                sft_config = replace(sft_config, resume_from=str(resume) if resume else None)
                summary = train_sft(sft_examples, sft_config)
                save("sft", {**summary, **({"resumed_from": str(resume)} if resume else {})})
        export_checkpoint(
            sft_checkpoint,
            out / "export" / "sft",
            {"stages": ["sft"], "smoke": smoke, "config": asdict(config)},
        )
        if not finished("eval:sft"):
            save("eval:sft", evaluate_checkpoint(sft_checkpoint, pool, test_items))

        grpo_examples = noisy_copies(
            [e for e in train.examples if e.sample_id in train.samples],
            config.grpo_noise,
            config.seed,
            config.size_synonyms,
            config.grpo_keep_relations,
            config.grpo_cue_words,
        )
        if config.grpo_levels:
            before = len(grpo_examples)
            grpo_examples = at_levels(grpo_examples, config.grpo_levels)
            save(
                "grpo-levels",
                {"levels": list(config.grpo_levels), "prompts": before, "kept": len(grpo_examples)},
            )
        if any(w != 1 for w in config.grpo_level_weights.values()):
            before = len(grpo_examples)
            grpo_examples = weighted(grpo_examples, config.grpo_level_weights)
            save(
                "grpo-level-weights",
                {"weights": dict(config.grpo_level_weights), "prompts": before, "after": len(grpo_examples)},
            )
        if config.grpo_keep_solved < 1.0:
            grpo_examples, summary = unsolved_first(
                sft_checkpoint, pool, grpo_examples, config.grpo_keep_solved, config.seed
            )
            save("grpo-prompts", summary)
        for variant in config.rewards:
            run_dir = out / f"grpo_{variant}"
            resume = latest_checkpoint(run_dir, PROGRESS_FILE)
            grpo_config = GRPORunConfig(
                output_dir=str(run_dir),
                init_checkpoint=sft_checkpoint,
                reward=variant,
                max_steps=config.grpo_steps,
                prompts_per_step=config.prompts_per_step,
                num_generations=config.generations,
                num_iterations=config.grpo_iterations,
                scale_rewards=config.grpo_scale_rewards,
                merged_sampling=config.grpo_merged_sampling,
                learning_rate=config.grpo_lr,
                beta=config.beta,
                temperature=config.temperature,
                seed=config.seed,
                deterministic=config.deterministic,
                time_budget_s=config.grpo_seconds,
                save_steps=10_000,
                save_seconds=config.grpo_save_seconds,
                keep_checkpoints=2,  # a kill while saving the newest leaves the one before it whole
                resume_from=str(resume) if resume else None,
            )
            if not ((run_dir / "final").is_dir() and finished(f"grpo:{variant}")):
                save(f"grpo:{variant}", train_grpo(grpo_examples, pool, grpo_config))
            export_checkpoint(
                out / f"grpo_{variant}" / "final",
                out / "export" / f"grpo_{variant}",
                {"stages": ["sft", f"grpo-{variant}"], "smoke": smoke, "config": asdict(config)},
            )
            if not finished(f"eval:grpo_{variant}"):
                save(
                    f"eval:grpo_{variant}",
                    evaluate_checkpoint(str(run_dir / "final"), pool, test_items),
                )
    finally:
        pool.close()
    return results


def _suite_of(sample_id: str) -> str:
    return "synth-edit" if sample_id.startswith("synth-edit/") else "photo-ops"
