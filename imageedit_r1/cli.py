"""``ieval train``: SFT cold start, GRPO, held-out evaluation and the full one-GPU pipeline.

Only light modules are imported here; torch, transformers and trl load inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from imageedit_r1.training.determinism import prepare_environment
from imageedit_r1.training.run_lock import BUSY_EXIT, RunBusy, RunLock, claim_run

train_app = typer.Typer(
    help="Train the ImageEdit-R1 decomposition policy (SFT, then GRPO).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")


def _counts(synth: int, photo: int) -> dict[str, int]:
    return {name: n for name, n in (("synth-edit", synth), ("photo-ops", photo)) if n > 0}


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    """One clear line and exit 2 when ``value`` is not one of ``choices``."""
    if value not in choices:
        typer.echo(f"error: {option} must be one of {', '.join(choices)}, got {value!r}", err=True)
        raise typer.Exit(code=2)


def _check_share(option: str, value: float) -> None:
    """One clear line and exit 2 when a probability option lies outside [0, 1]."""
    if not 0.0 <= value <= 1.0:
        typer.echo(f"error: {option} must lie between 0 and 1, got {value}", err=True)
        raise typer.Exit(code=2)


def _claim(out: Path) -> RunLock:
    """Claim ``--out`` for this training process, or one line and exit 75 when another holds it."""
    try:
        return claim_run(out)
    except RunBusy as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=BUSY_EXIT) from None
    except OSError as exc:
        typer.echo(f"error: cannot use --out {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=2) from None


RULE_DRAFT_HELP = (
    "show the policy the classical rule grammar's reading of the instruction as a 'draft:' line of "
    "its prompt (imageedit_r1.drafts); the checkpoint records it, and whoever loads it adds the line"
)
CUE_WORDS_HELP = (
    "in the noisy copies, how often a replaced word is one of the train wording's action words "
    "(imageedit_r1.data.cue_words) instead of a random string"
)


def _check_merged_sampling() -> None:
    from imageedit_r1.training.merged_sampling import merged_sampling_problem

    problem = merged_sampling_problem()
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(code=2)


SCALE_REWARDS_HELP = (
    "how a group's rewards become advantages (trl's scale_rewards): group (divide by the group's "
    "standard deviation, trl's default), batch (by the whole batch's) or none; with group, a group "
    "where no plan is right weighs its format-reward differences like success against failure "
    '(docs/RESULTS.md, "Programs run out")'
)
MERGED_SAMPLING_HELP = (
    "sample the completions with the LoRA adapter merged into the base weights: 1.37x faster GRPO on "
    "an H200 (docs/PERFORMANCE.md), for a copy of the adapted base weights in memory; the base is "
    "restored exactly after each generation (imageedit_r1/training/merged_sampling.py)"
)


def _keep_summary(out: Path, summary: dict) -> None:
    """Print a stage's summary and keep it as OUT/summary.json (written whole, then renamed), so
    what the run recorded (its seconds, its ``environment``) stays with its checkpoints."""
    from harness.atomic import write_text

    text = json.dumps(summary, indent=1)
    typer.echo(text)
    write_text(out / "summary.json", text + "\n")


DETERMINISTIC_HELP = (
    "deterministic GPU kernels while training, so that a rerun with the same seed on the same GPU "
    "model and software repeats the run exactly (slower; imageedit_r1/training/determinism.py)"
)


@train_app.command("sft")
def sft_command(
    out: Path = typer.Option(..., "--out", help="output directory (checkpoints, metrics.jsonl, curve)"),
    synth: int = typer.Option(20000, help="synth-edit train samples (plans from scene graphs)"),
    photo: int = typer.Option(600, help="photo-ops train samples"),
    model_size: str = typer.Option("small", help="from-scratch size: micro, tiny, small"),
    base_model: str = typer.Option(
        None, help="fine-tune this instead: HF model id, directory, .gguf file, or 'smollm2'"
    ),
    lora_rank: int = typer.Option(0, help="> 0: train a LoRA adapter of this rank (base frozen)"),
    epochs: float = typer.Option(3.0),
    max_steps: int = typer.Option(None),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(1e-3),
    lr_schedule: str = typer.Option(
        "cosine",
        help="'cosine' over the whole run, or 'wsd': constant after the warmup, cosine decay over the "
        "last --decay-steps (runs of any length then share their learning rate up to that point)",
    ),
    decay_steps: int = typer.Option(400, help="'wsd': how many final steps decay"),
    word_noise: float = typer.Option(
        0.1, help="fraction of free instruction words replaced by random strings"
    ),
    size_synonyms: float = typer.Option(
        0.5, help="in the noisy copies, how often a size value is written as a synonym (big, tiny, ...)"
    ),
    keep_relations: bool = typer.Option(
        False, help="the word noise keeps spatial reference words (left, right, above, largest, ...)"
    ),
    cue_words: float = typer.Option(0.0, help=CUE_WORDS_HELP),
    set_order: str = typer.Option(
        "program", help="goal (L4) plans: 'program' (as generated) or 'reading' (region-list order)"
    ),
    subjects: str = typer.Option(
        "handles", help="how plans name objects: 'handles' (o3) or 'phrases' the grounding agent resolves"
    ),
    objective: str = typer.Option(
        "plan",
        help="'plan': the decomposition policy (prompt -> plan); 'channel': the verifier's channel "
        "model (scene + plan -> instruction, imageedit_r1.channel)",
    ),
    rule_draft: bool = typer.Option(False, help=RULE_DRAFT_HELP),
    draft_from: str = typer.Option(
        "seen",
        help="with --rule-draft, a noisy training copy shows the draft of the instruction it shows "
        "('seen') or of the instruction before noise ('clean')",
    ),
    save_every: int = typer.Option(
        0, help="> 0: a checkpoint-N directory every this many steps (--resume continues from one)"
    ),
    keep_checkpoints: int = typer.Option(
        0, help="> 0: keep only the newest this many checkpoint-N directories"
    ),
    resume: str = typer.Option(
        None,
        help="continue from a checkpoint directory of this stage; 'latest': the newest complete "
        "checkpoint-N in --out, or a fresh start when there is none",
    ),
    workers: int = typer.Option(None, help="processes generating and grounding samples"),
    seed: int = typer.Option(0),
    export: Path = typer.Option(
        None,
        help="also write a shippable copy of the final checkpoint here: float16 weights (an adapter "
        "stays an adapter), tokenizer and a card (imageedit_r1.json) with these options",
    ),
    data_cache: Path = typer.Option(
        None,
        help="keep the training plans in this file: the first run writes it, later runs with the "
        "same --synth, --photo and --subjects read it instead of building the plans again",
    ),
    deterministic: bool = typer.Option(False, help=DETERMINISTIC_HELP),
) -> None:
    """Cold-start SFT on plans converted from train-split ground-truth programs."""
    options = {k: str(v) if isinstance(v, Path) else v for k, v in locals().items()}
    prepare_environment(deterministic)
    from imageedit_r1.channel import OBJECTIVES
    from imageedit_r1.data import SET_ORDERS, SUBJECT_FORMS

    _check_choice("--set-order", set_order, SET_ORDERS)
    _check_choice("--subjects", subjects, SUBJECT_FORMS)
    _check_choice("--objective", objective, OBJECTIVES)
    _check_share("--cue-words", cue_words)
    from imageedit_r1.drafts import DRAFT_SOURCES

    _check_choice("--draft-from", draft_from, DRAFT_SOURCES)
    from imageedit_r1.policy import CARD_FILE
    from imageedit_r1.training.checkpoints import latest_checkpoint
    from imageedit_r1.training.corpus import build_corpus, graph_examples
    from imageedit_r1.training.data_cache import DataCacheError, load_or_build
    from imageedit_r1.training.sft import LR_SCHEDULES, STATE_FILE, SFTConfig, train_sft

    _check_choice("--lr-schedule", lr_schedule, LR_SCHEDULES)
    if decay_steps < 1:
        typer.echo(f"error: --decay-steps must be at least 1, got {decay_steps}", err=True)
        raise typer.Exit(code=2)

    with _claim(out):
        if resume == "latest":
            if (out / "final" / STATE_FILE).exists():
                typer.echo(f"already finished: {out / 'final'}")
                if export and not (export / CARD_FILE).is_file():
                    _export_sft(out / "final", export, options)
                return
            newest = latest_checkpoint(out, STATE_FILE)
            resume = str(newest) if newest else None
            typer.echo(
                f"resuming from {newest}" if newest else "no complete checkpoint in --out: fresh start"
            )

        photo_repeat = 3  # each photo-ops plan appears this often among the synth-edit ones

        def build() -> tuple[list, list[str]]:
            # the suite's own train split (generator seed 0); --seed draws only the training randomness
            examples, skipped = (
                graph_examples(synth, "train", workers=workers, subjects=subjects) if synth else ([], [])
            )
            if photo:
                corpus = build_corpus({"photo-ops": photo}, "train", workers=workers)
                examples, skipped = examples + corpus.examples * photo_repeat, skipped + corpus.skipped
            return examples, skipped

        settings = {
            "split": "train",
            "synth": synth,
            "photo": photo,
            "photo_repeat": photo_repeat,
            "subjects": subjects,
        }
        try:
            examples, skipped, cached = load_or_build(data_cache, settings, build)
        except DataCacheError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        read = f", read from {data_cache}" if cached else ""
        typer.echo(f"{len(examples)} training plans ({len(skipped)} samples skipped{read})")
        config = SFTConfig(
            output_dir=str(out),
            model_size=model_size,
            base_model=base_model,
            lora_rank=lora_rank,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            learning_rate=lr,
            lr_schedule=lr_schedule,
            decay_steps=decay_steps,
            word_noise=word_noise,
            size_synonyms=size_synonyms,
            keep_relations=keep_relations,
            cue_words=cue_words,
            set_order=set_order,
            objective=objective,
            rule_draft=rule_draft,
            draft_from=draft_from,
            save_every=save_every,
            keep_checkpoints=keep_checkpoints,
            resume_from=resume,
            seed=seed,
            deterministic=deterministic,
        )
        summary = train_sft(examples, config)
        _keep_summary(out, summary)
        if export:
            _export_sft(Path(summary["checkpoint"]), export, options)


def _export_sft(final: Path, target: Path, options: dict) -> None:
    """The shipped form of an SFT checkpoint (what ``imageedit-r1:PATH`` loads), without optimizer
    state; the card records the training options (not where the run wrote, nor how many workers)."""
    from imageedit_r1.policy import export_checkpoint, is_smoke_model

    where = ("out", "export", "resume", "workers", "data_cache")
    config = {k: v for k, v in options.items() if k not in where}
    smoke = is_smoke_model(options["model_size"], options["base_model"])
    path = export_checkpoint(final, target, {"stages": ["sft"], "smoke": smoke, "config": config})
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    typer.echo(f"exported {path} ({size / 2**20:.1f} MiB)")


@train_app.command("grpo")
def grpo_command(
    init: str = typer.Option(..., "--init", help="SFT checkpoint (or any causal LM) to start from"),
    out: Path = typer.Option(..., "--out"),
    reward: str = typer.Option(
        "harness", help="harness (exact checker + preservation), f1 (paper) or exact (exact result only)"
    ),
    steps: int = typer.Option(200),
    synth: int = typer.Option(1500),
    photo: int = typer.Option(300),
    offset: int = typer.Option(4000, help="first train index used (past the SFT samples)"),
    prompts_per_step: int = typer.Option(16),
    generations: int = typer.Option(8),
    iterations: int = typer.Option(1, help="GRPO's mu: optimisation passes per generated batch"),
    scale_rewards: str = typer.Option("group", help=SCALE_REWARDS_HELP),
    merged_sampling: bool = typer.Option(
        True, "--merged-sampling/--no-merged-sampling", help=MERGED_SAMPLING_HELP
    ),
    lr: float = typer.Option(5e-5),
    beta: float = typer.Option(0.0),
    temperature: float = typer.Option(1.0, help="sampling temperature of the group's completions"),
    noise: float = typer.Option(
        0.0, help="> 0: each prompt also appears once with this share of its words replaced"
    ),
    size_synonyms: float = typer.Option(0.0, help="in the noisy copies, size values as synonyms this often"),
    keep_relations: bool = typer.Option(False, help="the noise keeps spatial reference words"),
    cue_words: float = typer.Option(0.0, help=CUE_WORDS_HELP),
    seconds: float = typer.Option(None, help="stop (and save) after this much training time"),
    resume: str = typer.Option(None, help="a checkpoint-N directory of this run"),
    save_steps: int = typer.Option(100, help="a checkpoint every this many steps"),
    save_seconds: float = typer.Option(0.0, help="> 0: also a checkpoint after this much training time"),
    workers: int = typer.Option(None),
    seed: int = typer.Option(0),
    deterministic: bool = typer.Option(False, help=DETERMINISTIC_HELP),
) -> None:
    """GRPO (trl) with harness metrics as the reward, plan-then-execute. The prompt noise options
    are the pipeline's --grpo-noise, --size-synonyms, --grpo-keep-relations and --grpo-cue-words."""
    prepare_environment(deterministic)
    from imageedit_r1.editor import checkpoint_problem

    if merged_sampling:
        _check_merged_sampling()
    problem = checkpoint_problem(init)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(code=2)
    for option, share in (("--noise", noise), ("--size-synonyms", size_synonyms), ("--cue-words", cue_words)):
        _check_share(option, share)
    from imageedit_r1.training.grpo import SCALINGS

    _check_choice("--scale-rewards", scale_rewards, SCALINGS)
    from imageedit_r1.rollouts import RolloutPool
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.corpus import build_corpus
    from imageedit_r1.training.grpo import GRPORunConfig, train_grpo
    from imageedit_r1.training.pipeline import noisy_copies

    with _claim(out):
        counts = _counts(synth, photo)
        corpus = build_corpus(
            counts, "train", keep_samples=max(counts.values()), workers=workers, offset=offset
        )
        pool = RolloutPool(corpus.samples, default_toolbox, workers=workers or 0)
        prompts = noisy_copies(corpus.examples, noise, seed, size_synonyms, keep_relations, cue_words)
        typer.echo(
            f"GRPO on {len(prompts)} prompts ({len(prompts) - len(corpus.examples)} noisy copies), "
            f"temperature {temperature}, {reward} reward"
        )
        config = GRPORunConfig(
            output_dir=str(out),
            init_checkpoint=init,
            reward=reward,
            max_steps=steps,
            prompts_per_step=prompts_per_step,
            num_generations=generations,
            num_iterations=iterations,
            scale_rewards=scale_rewards,
            merged_sampling=merged_sampling,
            learning_rate=lr,
            beta=beta,
            temperature=temperature,
            time_budget_s=seconds,
            resume_from=resume,
            seed=seed,
            deterministic=deterministic,
            save_steps=save_steps,
            save_seconds=save_seconds,
        )
        try:
            summary = train_grpo(prompts, pool, config)
        finally:
            pool.close()
        _keep_summary(out, summary)


@train_app.command("branch")
def branch_command(
    out: Path = typer.Option(
        ..., "--out", help="OUT/long, OUT/short, OUT/grpo, OUT/export/ARM, OUT/branch.json"
    ),
    max_steps: int = typer.Option(..., help="the long arm's SFT steps"),
    branch_at: int = typer.Option(..., help="the checkpoint both arms share (a multiple of --save-every)"),
    decay_steps: int = typer.Option(200, help="final steps of each SFT run whose learning rate decays (wsd)"),
    save_every: int = typer.Option(100, help="the long arm's checkpoint interval (all are kept)"),
    grpo_seconds: float = typer.Option(
        None,
        help="GRPO's training seconds (default: the long arm's seconds after the branch minus the short SFT's)",
    ),
    sft: str = typer.Option("", help="options of `ieval train sft` for both SFT runs, in one quoted string"),
    grpo: str = typer.Option("", help="options of `ieval train grpo`, in one quoted string"),
    seed: int = typer.Option(0),
    parallel_arms: bool = typer.Option(
        False,
        help="start the short arm and GRPO once checkpoint-K is written, beside the long arm, on the "
        "second visible GPU (needs --grpo-seconds)",
    ),
    oom_retries: int = typer.Option(
        0,
        help="a stage that runs out of GPU memory (e.g. beside other runs on the GPU) starts again "
        "from its newest checkpoint, up to this many times per stage; the others keep running",
    ),
    oom_wait: float = typer.Option(60.0, help="seconds before such a stage starts again"),
) -> None:
    """GRPO against more SFT for the same GPU seconds, both from one SFT checkpoint (one seed of a
    paired comparison; several: `ieval train seeds branch`). Rerun to resume."""
    import shlex

    from imageedit_r1.training.branch import BranchConfig, BranchError, check_config, run_branch

    config = BranchConfig(
        out=str(out),
        max_steps=max_steps,
        branch_at=branch_at,
        decay_steps=decay_steps,
        save_every=save_every,
        grpo_seconds=grpo_seconds,
        sft_options=shlex.split(sft),
        grpo_options=shlex.split(grpo),
        seed=seed,
        parallel_arms=parallel_arms,
        oom_retries=oom_retries,
        oom_wait=oom_wait,
    )
    try:
        check_config(config)
        with _claim(out):
            summary = run_branch(config, report=lambda line: typer.echo(line, err=True))
    except BranchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=exc.exit_code) from None
    typer.echo(json.dumps({"summary": str(out / "branch.json"), **summary["after_branch"]}))


@train_app.command("seeds", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def seeds_command(
    ctx: typer.Context,
    stage: str = typer.Argument(..., help="sft, grpo, pipeline or branch; its options follow (after --)"),
    seeds: str = typer.Option(..., "--seeds", help="e.g. 0-3 or 0,2,5"),
    out: Path = typer.Option(..., "--out", help="one OUT/seed_S directory and log per seed"),
    gpus: int = typer.Option(None, help="GPUs to spread the runs over (default: all visible; 0: CPU)"),
    per_gpu: int = typer.Option(1, help="runs sharing one GPU (on the CPU: runs at once)"),
    gpus_per_run: int = typer.Option(
        1, help="GPUs of each run's own, e.g. 2 for `branch --parallel-arms` (one arm on each)"
    ),
) -> None:
    """Several seeds of one training command at once, one GPU slot each; a rerun skips finished seeds."""
    from rich.console import Console

    from imageedit_r1.training.seeds import SeedsError, check_stage_args, parse_seeds, run_seeds, slots

    console = Console(stderr=True)
    try:
        chosen = parse_seeds(seeds)
        check_stage_args(stage, ctx.args)
        if gpus is None:
            import torch

            gpus = torch.cuda.device_count()
        slots(gpus, per_gpu, gpus_per_run)
    except SeedsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    share = f"{gpus_per_run} to a run" if gpus_per_run > 1 else f"{per_gpu} at a time each"
    console.print(f"{len(chosen)} seeds of `ieval train {stage}` on {gpus or 'no'} GPUs, {share}")
    runs = run_seeds(
        stage,
        ctx.args,
        chosen,
        out,
        gpus,
        per_gpu,
        on_done=lambda run: console.print(
            f"seed {run.seed}: {run.status} (exit {run.returncode}, {run.seconds:.0f} s) log {run.log}"
        ),
        gpus_per_run=gpus_per_run,
    )
    failed = [run.seed for run in runs if run.status == "failed"]
    busy = [run.seed for run in runs if run.status == "busy"]
    skipped = [run.seed for run in runs if run.status == "skipped"]
    if skipped:
        console.print(f"skipped (done before): {', '.join(map(str, skipped))}")
    typer.echo(json.dumps({"summary": str(out / "seeds.json"), "failed": failed, "busy": busy}))
    if failed:
        typer.echo(f"error: {len(failed)} of {len(runs)} seeds failed; see their logs", err=True)
    if busy:
        typer.echo(
            f"error: {len(busy)} of {len(runs)} seeds are being trained by another process; "
            "run the sweep again once it has ended",
            err=True,
        )
    if failed or busy:
        raise typer.Exit(code=1)


@train_app.command("eval")
def eval_command(
    editor: list[str] = typer.Option(
        ..., "--editor", help="editor names, e.g. imageedit-r1:DIR classic-pipeline"
    ),
    synth: int = typer.Option(400),
    photo: int = typer.Option(300),
    split: str = typer.Option("test"),
    out: Path = typer.Option(None, help="write the results as JSON here"),
    workers: int = typer.Option(None),
) -> None:
    """Held-out per-level numbers (synth_exact, synth_partial, psnr) for several editors."""
    from harness.registry import editors
    from imageedit_r1.training.corpus import build_corpus
    from imageedit_r1.training.evaluate import evaluate_editor, format_table

    results: dict[str, dict] = {}
    for suite, n in _counts(synth, photo).items():
        corpus = build_corpus({suite: n}, split, workers=workers, plans=False)
        samples = list(corpus.samples.values())
        for name in editor:
            results[f"{suite}:{name}"] = evaluate_editor(editors.create(name), samples, suite)
    for suite, metric in (("synth-edit", "synth_exact"), ("photo-ops", "psnr_success")):
        chosen = {k.split(":", 1)[1]: v for k, v in results.items() if k.startswith(suite + ":")}
        if chosen:
            typer.echo(f"{suite} {metric}\n{format_table(chosen, metric)}")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1), encoding="utf-8")


@train_app.command("pipeline")
def pipeline_command(
    out: Path = typer.Option(..., "--out"),
    sft_synth: int = typer.Option(20000),
    sft_photo: int = typer.Option(600),
    test_synth: int = typer.Option(400),
    test_photo: int = typer.Option(300),
    model_size: str = typer.Option("small"),
    base_model: str = typer.Option(None, help="fine-tune this (id, directory, .gguf, 'smollm2')"),
    lora_rank: int = typer.Option(0, help="> 0: LoRA adapter of this rank on the base model"),
    word_noise: float = typer.Option(0.2, help="SFT word-noise rate (0 for none)"),
    size_synonyms: float = typer.Option(0.5, help="how often noisy copies write a size as a synonym"),
    keep_relations: bool = typer.Option(False, help="SFT word noise keeps spatial reference words"),
    cue_words: float = typer.Option(0.0, help="SFT: " + CUE_WORDS_HELP),
    set_order: str = typer.Option(
        "program", help="SFT goal (L4) plans: 'program' (as generated) or 'reading' (region-list order)"
    ),
    subjects: str = typer.Option(
        "handles", help="how plans name objects: 'handles' (o3) or 'phrases' the grounding agent resolves"
    ),
    sft_steps: int = typer.Option(8000),
    sft_save_every: int = typer.Option(
        200, help="SFT checkpoint every this many steps, the newest kept (a rerun resumes from it); 0: none"
    ),
    grpo_steps: int = typer.Option(80),
    grpo_seconds: float = typer.Option(150.0),
    grpo_save_seconds: float = typer.Option(
        60.0, help="GRPO checkpoint after this much training time (a rerun resumes from it); 0: none"
    ),
    reward: list[str] = typer.Option(["harness", "f1"], help="GRPO reward variants; 'none': SFT only"),
    baseline: list[str] = typer.Option(
        ["classic-pipeline"], help="editors scored on the same samples ('none': no baseline)"
    ),
    workers: int = typer.Option(14),
    seed: int = typer.Option(0),
    init_sft: str = typer.Option(None, help="reuse this SFT checkpoint (skip SFT)"),
    grpo_synth: int = typer.Option(600, help="synth-edit train samples rendered for GRPO"),
    prompts_per_step: int = typer.Option(8),
    generations: int = typer.Option(8, help="GRPO group size: completions per prompt"),
    temperature: float = typer.Option(1.0, help="GRPO sampling temperature of the rollouts"),
    grpo_lr: float = typer.Option(1e-4),
    grpo_iterations: int = typer.Option(1, help="GRPO's mu: optimisation passes per generated batch"),
    grpo_scale_rewards: str = typer.Option("group", help=SCALE_REWARDS_HELP),
    grpo_merged_sampling: bool = typer.Option(
        True, "--grpo-merged-sampling/--no-grpo-merged-sampling", help=MERGED_SAMPLING_HELP
    ),
    grpo_noise: float = typer.Option(0.2, help="word-noise rate of the extra copy of each GRPO prompt"),
    grpo_keep_solved: float = typer.Option(
        1.0, help="< 1: keep only this share of the GRPO prompts the SFT policy already solves greedily"
    ),
    grpo_keep_relations: bool = typer.Option(
        False, help="GRPO prompt noise keeps spatial reference words (left, right, above, largest, ...)"
    ),
    grpo_cue_words: float = typer.Option(0.0, help="GRPO prompt noise: " + CUE_WORDS_HELP),
    grpo_levels: str = typer.Option(
        "",
        help="GRPO prompts of these levels only, e.g. L2,L3,L4 (default all); LEVEL:K repeats that "
        "level's prompts K times, e.g. L1,L2,L3:2,L4:2",
    ),
    beta: float = typer.Option(
        0.0, help="GRPO KL penalty to the start policy (with LoRA: a frozen copy of the SFT adapter)"
    ),
    rule_draft: bool = typer.Option(False, help=RULE_DRAFT_HELP),
    sft_batch: int = typer.Option(128),
    sft_lr: float = typer.Option(1.5e-3),
    mirror: str = typer.Option(None, help="copy results, logs and checkpoints here after every stage"),
    deterministic: bool = typer.Option(False, help=DETERMINISTIC_HELP),
) -> None:
    """Data, SFT, evaluation, GRPO per reward variant, evaluation, baselines: one experiment.

    Rerun with the same --out and options to resume one cut short: finished stages are kept,
    unfinished training continues from its newest checkpoint."""
    prepare_environment(deterministic)
    from imageedit_r1.data import SET_ORDERS, SUBJECT_FORMS

    _check_choice("--set-order", set_order, SET_ORDERS)
    _check_choice("--subjects", subjects, SUBJECT_FORMS)
    _check_share("--cue-words", cue_words)
    _check_share("--grpo-cue-words", grpo_cue_words)
    from imageedit_r1.training.grpo import SCALINGS

    _check_choice("--grpo-scale-rewards", grpo_scale_rewards, SCALINGS)
    if grpo_merged_sampling:
        _check_merged_sampling()
    from harness.suites.synth_edit.generator import LEVELS
    from imageedit_r1.training.pipeline import PipelineConfig, parse_level_weights, run_pipeline

    try:
        weights = parse_level_weights(grpo_levels, LEVELS)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None

    config = PipelineConfig(
        out=str(out),
        sft_synth=sft_synth,
        sft_photo=sft_photo,
        test_synth=test_synth,
        test_photo=test_photo,
        model_size=model_size,
        base_model=base_model,
        lora_rank=lora_rank,
        word_noise=word_noise,
        size_synonyms=size_synonyms,
        keep_relations=keep_relations,
        cue_words=cue_words,
        rule_draft=rule_draft,
        set_order=set_order,
        subjects=subjects,
        sft_steps=sft_steps,
        sft_save_every=sft_save_every,
        grpo_steps=grpo_steps,
        grpo_seconds=grpo_seconds,
        grpo_save_seconds=grpo_save_seconds,
        rewards=tuple(r for r in reward if r != "none"),
        baselines=tuple(b for b in baseline if b != "none"),
        workers=workers,
        seed=seed,
        deterministic=deterministic,
        init_sft=init_sft,
        grpo_samples=grpo_synth,
        prompts_per_step=prompts_per_step,
        generations=generations,
        temperature=temperature,
        grpo_lr=grpo_lr,
        grpo_iterations=grpo_iterations,
        grpo_scale_rewards=grpo_scale_rewards,
        grpo_merged_sampling=grpo_merged_sampling,
        grpo_noise=grpo_noise,
        grpo_keep_solved=grpo_keep_solved,
        grpo_keep_relations=grpo_keep_relations,
        grpo_cue_words=grpo_cue_words,
        grpo_levels=tuple(weights),
        grpo_level_weights=weights,
        beta=beta,
        sft_batch=sft_batch,
        sft_lr=sft_lr,
        mirror=mirror,
    )
    from imageedit_r1.training.pipeline import PipelineMismatch

    with _claim(out):
        try:
            run_pipeline(config)
        except PipelineMismatch as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None


if __name__ == "__main__":  # accelerate launch -m imageedit_r1.cli sft|grpo ...
    train_app()
