"""Paired held-out comparison of ImageEdit-R1 checkpoints (greedy plans) on the same test samples.

Renders and grounds the synth-edit test samples once, then executes every checkpoint's greedy plans
on them (and, optionally, baseline editors) and writes per-sample ``synth_exact`` with per-level
means and the standard error of each paired difference against the first entry:

    python bench/r1_paired_eval.py --synth 1600 --workers 15 --out docs/x.json \\
        --entry shipped=imageedit_r1/checkpoints/smollm2 --entry new=/tmp/sft --baseline classic-pipeline

Per level, ``difference_se`` is the standard error of the mean of (entry - first) per sample, so
two checkpoints that miss the same samples are compared on what differs between them alone.
``--plans`` also keeps each checkpoint's greedy plan per sample (``plans``: name -> sample -> text)
and each sample's prompt (``prompts``: the instruction and the region list whose handles the plans
name), so the misses of a run whose weights are gone can still be read.

The file is written (whole, through a ``.partial`` sibling) after every entry and baseline, marked
``partial`` until the last: a run stopped part way (a job's time limit, a crash, a kill) keeps the
columns it finished, and the same command run again scores only the rest. A partial file of other
settings is refused with one line.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console


def mean_and_se(values: list[float]) -> tuple[float, float]:
    """The mean of ``values`` and the standard error of that mean."""
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)
    return mean, math.sqrt(variance / len(values))


def paired_levels(
    per_sample: dict[str, dict[str, float]], levels: dict[str, str], names: list[str]
) -> dict[str, dict[str, Any]]:
    """level -> {name: mean, name + '_minus_' + first: difference, ... '_se': its standard error,
    ... '_ci95' and '_p': the paired bootstrap's 95 % interval and p-value}."""
    from harness.statistics import paired_bootstrap

    first = names[0]
    table: dict[str, dict[str, Any]] = {}
    by_level: dict[str, list[str]] = defaultdict(list)
    for sample_id, level in levels.items():
        by_level[level].append(sample_id)
        by_level["all"].append(sample_id)
    for level, ids in sorted(by_level.items()):
        row: dict[str, Any] = {"n": len(ids)}
        for name in names:
            row[name] = sum(per_sample[name][i] for i in ids) / len(ids)
            if name == first:
                continue
            diffs = [per_sample[name][i] - per_sample[first][i] for i in ids]
            row[f"{name}_minus_{first}"], row[f"{name}_minus_{first}_se"] = mean_and_se(diffs)
            # the harness's own paired test (as `leaderboard compare`): bootstrap interval, p-value
            test = paired_bootstrap([per_sample[name][i] for i in ids], [per_sample[first][i] for i in ids])
            row[f"{name}_minus_{first}_ci95"] = [test.ci_low, test.ci_high]
            row[f"{name}_minus_{first}_p"] = test.p_value
        table[level] = row
    return table


def sample_level(sample_id: str, stored: dict[str, str]) -> str:
    """A sample's level as stored in the file, else the generator's rule (``LEVELS[index % 4]``)
    for files written before levels were stored."""
    return stored.get(sample_id) or f"L{int(sample_id.rsplit('/', 1)[1]) % 4 + 1}"


def level_means(values: dict[str, float], stored: dict[str, str]) -> dict[str, float]:
    """Per-level and overall ('all') means of sample id -> value; levels as ``sample_level``."""
    by_level: dict[str, list[float]] = defaultdict(list)
    for sample_id, value in values.items():
        by_level[sample_level(sample_id, stored)].append(value)
        by_level["all"].append(value)
    return {level: sum(v) / len(v) for level, v in sorted(by_level.items())}


def column(result: dict[str, Any], name: str) -> dict[str, float]:
    """One column of a paired file: sample id -> value."""
    index = result["columns"].index(name)
    return {sid: values[index] for sid, values in result["per_sample"].items()}


def plot_levels(result: dict[str, Any], path: Path, title: str) -> None:
    """Per-level synth_exact of every column, with the binomial standard error of each mean. A
    sample's level is read from ``sample_levels``; files written before it was stored fall back to
    the generator's rule (``LEVELS[index % 4]``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = result["columns"]
    stored = result.get("sample_levels", {})
    by_level: dict[str, list[list[float]]] = defaultdict(list)
    for sample_id, values in result["per_sample"].items():
        by_level[sample_level(sample_id, stored)].append(values)
    levels = sorted(by_level)
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for k, name in enumerate(names):
        means, errors = [], []
        for level in levels:
            column = [row[k] for row in by_level[level]]
            mean = sum(column) / len(column)
            means.append(mean)
            errors.append(math.sqrt(max(mean * (1 - mean), 1e-9) / len(column)))
        xs = [i + (k - (len(names) - 1) / 2) * width for i in range(len(levels))]
        ax.bar(xs, means, width, yerr=errors, capsize=2, label=name)
    ax.set_xticks(range(len(levels)), [f"{lv} (n={len(by_level[lv])})" for lv in levels])
    save_share_figure(fig, ax, path, title, "synth_exact (held-out phrasings)", ncol=2, loc="upper right")


def save_share_figure(fig: Any, ax: Any, path: Path, title: str, ylabel: str, **legend: Any) -> None:
    """Label a per-level figure of shares (0-1), write it as a PNG and close it."""
    import matplotlib.pyplot as plt

    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, **legend)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def voted_scores(
    name: str, checkpoint: str, pool: Any, jobs: list[tuple[str, str, str]], args: argparse.Namespace
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[Any]]], dict[str, str]]:
    """Greedy, voted and any-of columns of one checkpoint: the greedy plan and ``args.vote``
    sampled plans per sample, all executed; the vote picks among them by outcome. With
    ``args.channel`` (a channel model, ``imageedit_r1.channel``) every candidate also gets its
    forward and channel log-probabilities, and NAME_channelK keeps the candidate the verifier
    picks at ``args.channel_alpha``. Returns the columns; per sample, every candidate's plan,
    exact value, usability and log-probabilities (for choosing alpha on a selection set); and
    per sample the greedy plan."""
    import torch

    from imageedit_r1.channel import channel_prompt, channel_target, completion_logprobs, pick
    from imageedit_r1.policy import load_policy
    from imageedit_r1.rollouts import candidate_outcomes
    from imageedit_r1.voting import vote

    policy = load_policy(checkpoint)
    prompts = [prompt for _, _, prompt in jobs]
    greedy = policy.generate(prompts, max_new_tokens=160, batch_size=256)
    torch.manual_seed(args.seed)
    sampled = policy.generate(
        prompts,
        max_new_tokens=160,
        batch_size=max(1, 512 // args.vote),
        do_sample=True,
        temperature=args.vote_temperature,
        num_return_sequences=args.vote,
    )
    k = args.vote
    candidates = [[g, *sampled[i * k : (i + 1) * k]] for i, g in enumerate(greedy)]
    flat_prompts = [p for p, row in zip(prompts, candidates, strict=True) for _ in row]
    flat = [c for row in candidates for c in row]
    forward = channel = [0.0] * len(flat)
    if args.channel:
        forward = completion_logprobs(policy, flat_prompts, flat, batch_size=128)
    del policy
    if args.channel:
        verifier = load_policy(args.channel)
        channel = completion_logprobs(
            verifier,
            [channel_prompt(p, c) for p, c in zip(flat_prompts, flat, strict=True)],
            [channel_target(p) for p in flat_prompts],
            batch_size=128,
        )
        del verifier
    rows = pool.map(
        candidate_outcomes, [(sid, suite, c) for (sid, suite, _), c in zip(jobs, candidates, strict=True)]
    )
    columns: dict[str, dict[str, float]] = {name: {}, f"{name}_vote{k}": {}, f"{name}_any{k}": {}}
    if args.channel:
        columns[f"{name}_channel{k}"] = {}
    detail: dict[str, dict[str, list[Any]]] = {}
    for index, ((sid, _, _), row) in enumerate(zip(jobs, rows, strict=True)):
        exact = [c.scores["synth_exact"] for c in row]
        columns[name][sid] = exact[0]
        columns[f"{name}_vote{k}"][sid] = exact[vote([c.digest for c in row])]
        columns[f"{name}_any{k}"][sid] = max(exact)
        if args.channel:
            span = slice(index * (k + 1), (index + 1) * (k + 1))
            usable = [c.digest is not None for c in row]
            chosen = pick(forward[span], channel[span], usable, args.channel_alpha)
            columns[f"{name}_channel{k}"][sid] = exact[chosen]
            detail[sid] = {
                "plans": candidates[index],  # so another verifier can re-score without sampling again
                "exact": exact,
                "usable": usable,
                "forward": [round(v, 3) for v in forward[span]],
                "channel": [round(v, 3) for v in channel[span]],
            }
    return columns, detail, dict(zip((sid for sid, _, _ in jobs), greedy, strict=True))


def greedy_token_logprobs(
    checkpoint: str, ids: list[str], prompts: list[str], plans: list[str]
) -> dict[str, list[float]]:
    """sample id -> the log-probability of each token of its greedy plan (and of the plan's end)
    under the checkpoint that wrote it, rounded to 4 decimals."""
    from imageedit_r1.channel import completion_token_logprobs
    from imageedit_r1.policy import load_policy

    policy = load_policy(checkpoint)
    rows = completion_token_logprobs(policy, prompts, plans, batch_size=128)
    return {sid: [round(v, 4) for v in row] for sid, row in zip(ids, rows, strict=True)}


def run_settings(args: argparse.Namespace, entries: list[tuple[str, str]]) -> dict[str, Any]:
    """What a partial file must share with a rerun for its columns to be kept."""
    keys = ("split", "offset", "synth", "levels", "baseline", "vote", "vote_temperature", "channel")
    keys += ("channel_alpha", "seed", "confidence", "plans")
    return {"entries": [list(entry) for entry in entries], **{key: getattr(args, key) for key in keys}}


def finished_part(out: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The file an interrupted run with these settings left at ``out`` (None: none to resume);
    a partial file of other settings is refused."""
    if not out.is_file():
        return None
    try:
        earlier = json.loads(out.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):  # not a file of this bench: replaced
        return None
    partial = earlier.get("partial") if isinstance(earlier, dict) else None
    if not isinstance(partial, dict):  # a finished file (or another one): this run replaces it
        return None
    if partial["settings"] != settings:
        raise SystemExit(
            f"error: {out} holds a partial run with other settings; rerun it with those, or remove the file"
        )
    return earlier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entry", action="append", default=[], help="NAME=CHECKPOINT (first: reference)")
    parser.add_argument(
        "--baseline", action="append", default=[], help="an editor name, e.g. classic-pipeline"
    )
    parser.add_argument("--synth", type=int, default=1600, help="synth-edit test samples 0..N-1")
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "train"),
        help="test: held-out phrasings; train: training phrasings (pick an --offset past the "
        "training scenes, e.g. 40000, to see new scenes in familiar words)",
    )
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="first test index: OFFSET..OFFSET+N-1, e.g. a selection set disjoint from 0..N-1",
    )
    parser.add_argument("--levels", default="", help="comma-separated levels to keep, e.g. L3 (default all)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plot", type=Path, help="also draw the per-level bars as this PNG")
    parser.add_argument(
        "--vote",
        type=int,
        default=0,
        help="K > 0: also K sampled plans per sample; adds NAME_voteK (the outcome most candidates "
        "agree on, imageedit_r1.voting) and NAME_anyK (some candidate is right: the ceiling of any "
        "choice among them)",
    )
    parser.add_argument("--vote-temperature", type=float, default=1.0)
    parser.add_argument(
        "--channel",
        help="with --vote: a channel model checkpoint (ieval train sft --objective channel); adds "
        "NAME_channelK (the verifier's pick) and every candidate's plan and log-probabilities under "
        "'candidates'",
    )
    parser.add_argument("--channel-alpha", type=float, default=0.5, help="the verifier's channel weight")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled plans")
    parser.add_argument(
        "--confidence",
        action="store_true",
        help="also keep, per checkpoint and sample, the log-probability of each token of the greedy plan "
        "and of its end ('token_logprobs'; greedy entries only), for gates on the policy's confidence",
    )
    parser.add_argument(
        "--plans",
        action="store_true",
        help="also keep each checkpoint's greedy plan per sample ('plans') and each sample's prompt ('prompts')",
    )
    args = parser.parse_args()

    from harness.atomic import write_json
    from imageedit_r1.rollouts import RolloutPool, evaluate_editor, observe
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.corpus import build_corpus
    from imageedit_r1.training.pipeline import greedy_scores

    console = Console()
    entries = [tuple(item.split("=", 1)) for item in args.entry]
    if any(len(entry) != 2 for entry in entries):
        raise SystemExit("error: --entry takes NAME=CHECKPOINT")
    if args.confidence and args.vote > 0:
        raise SystemExit("error: --confidence scores greedy plans: leave out --vote")
    if args.channel and args.vote <= 0:
        raise SystemExit("error: --channel ranks sampled plans: give --vote K as well")
    if not entries and not args.baseline:
        raise SystemExit("error: give at least one --entry NAME=CHECKPOINT or --baseline EDITOR")
    named = [name for name, _ in entries] + list(args.baseline)
    if len(set(named)) < len(named):
        raise SystemExit(f"error: each --entry and --baseline needs its own name; got {', '.join(named)}")
    settings = run_settings(args, entries)
    earlier = finished_part(args.out, settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with console.status(
        f"rendering and grounding {args.synth} synth-edit {args.split} samples from {args.offset}"
    ):
        corpus = build_corpus(
            {"synth-edit": args.synth}, args.split, workers=args.workers, offset=args.offset, plans=False
        )
    wanted = {level for level in args.levels.split(",") if level}
    ids = sorted(sid for sid, sample in corpus.samples.items() if not wanted or sample.level in wanted)
    levels = {sid: corpus.samples[sid].level for sid in ids}
    pool = RolloutPool(corpus.samples, default_toolbox, args.workers)
    per_sample: dict[str, dict[str, float]] = {}
    candidates: dict[str, dict[str, dict[str, list[Any]]]] = {}
    plans: dict[str, dict[str, str]] = {}
    confidence: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    done: dict[str, list[str]] = {}  # entry or baseline -> the columns it wrote
    if earlier is not None:
        for name, columns in earlier["partial"]["done"].items():
            for col in columns:
                per_sample[col] = column(earlier, col)
            for kept, stored in (
                (plans, "plans"),
                (confidence, "token_logprobs"),
                (candidates, "candidates"),
            ):
                if name in earlier.get(stored, {}):
                    kept[name] = earlier[stored][name]
            seconds[name] = earlier["seconds"][name]
            done[name] = columns
        console.print(f"kept from the interrupted run: {', '.join(done)}")

    def save(final: bool) -> dict[str, Any]:
        result = assemble(args, entries, ids, levels, prompts, per_sample, plans, confidence, candidates)
        result.update(seconds=seconds, wall_seconds=time.perf_counter() - began)
        if not final:
            result["partial"] = {"settings": settings, "done": done}
        write_json(args.out, result)
        return result

    try:
        prompts = pool.map(observe, ids)
        jobs = [(sid, "synth-edit", prompt) for sid, prompt in zip(ids, prompts, strict=True)]
        for name, checkpoint in entries:
            if name in done:
                continue
            if not Path(checkpoint).exists():  # the columns before it are in the file already
                raise SystemExit(
                    f"error: entry {name}: no checkpoint at {checkpoint}; the finished columns are kept"
                )
            before = set(per_sample)
            start = time.perf_counter()
            if args.vote > 0:
                with console.status(f"{name}: greedy + {args.vote} sampled plans for {len(jobs)} samples"):
                    columns, detail, greedy = voted_scores(name, checkpoint, pool, jobs, args)
                if args.plans:
                    plans[name] = greedy
                per_sample.update(columns)
                if detail:
                    candidates[name] = detail
            else:
                with console.status(f"{name}: greedy plans for {len(jobs)} samples, executed and scored"):
                    texts, scores, _ = greedy_scores(checkpoint, pool, jobs)
                per_sample[name] = {sid: s["synth_exact"] for sid, s in zip(ids, scores, strict=True)}
                if args.plans:
                    plans[name] = dict(zip(ids, texts, strict=True))
                if args.confidence:
                    with console.status(f"{name}: log-probabilities of the greedy plans"):
                        confidence[name] = greedy_token_logprobs(checkpoint, ids, prompts, texts)
            seconds[name] = time.perf_counter() - start
            done[name] = [col for col in per_sample if col not in before]
            save(final=False)
            console.print(f"{name}: {sum(per_sample[name].values()) / len(ids):.4f} in {seconds[name]:.0f} s")
        for name in args.baseline:
            if name in done:
                continue
            start = time.perf_counter()
            with console.status(f"{name} on {len(ids)} samples"):
                scores = pool.map(evaluate_editor, [(name, sid, "synth-edit") for sid in ids])
            per_sample[name] = {sid: s["synth_exact"] for sid, s in zip(ids, scores, strict=True)}
            seconds[name] = time.perf_counter() - start
            done[name] = [name]
            save(final=False)
    finally:
        pool.close()
    result = save(final=True)
    if args.plot:
        plot_levels(result, args.plot, result["what"])
    for level, row in result["levels"].items():
        console.print(level, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})


def assemble(
    args: argparse.Namespace,
    entries: list[tuple[str, str]],
    ids: list[str],
    levels: dict[str, str],
    prompts: list[str],
    per_sample: dict[str, dict[str, float]],
    plans: dict[str, dict[str, str]],
    confidence: dict[str, dict[str, list[float]]],
    candidates: dict[str, dict[str, dict[str, list[Any]]]],
) -> dict[str, Any]:
    """The file's content from the columns scored so far (baselines last)."""
    from harness.manifest import device_info

    wanted = {level for level in args.levels.split(",") if level}
    names = [column for column in per_sample if column not in args.baseline]
    names += [name for name in args.baseline if name in per_sample]
    result = {
        "what": f"synth-edit {args.split} samples {args.offset}-{args.offset + args.synth - 1} "
        + ("(held-out phrasings" if args.split == "test" else "(training phrasings")
        + (f"; levels {args.levels}" if wanted else "")
        + "), synth_exact"
        + (": checkpoints by greedy plans" if entries else "")
        + ("; baselines as their editors run" if args.baseline else ""),
        "host": platform.node(),
        "device": device_info(),
        "date": time.strftime("%Y-%m-%d"),
        "entries": dict(entries),
        "levels": paired_levels(per_sample, levels, names),
        "per_sample": {sid: [per_sample[name][sid] for name in names] for sid in ids},
        "sample_levels": levels,
        "columns": names,
    }
    if args.plans:
        result["prompts"] = dict(zip(ids, prompts, strict=True))
    if plans:
        result["plans"] = plans
    if confidence:
        result["token_logprobs"] = confidence
    if candidates:
        result["candidates"] = candidates
        result["channel"] = {"checkpoint": args.channel, "alpha": args.channel_alpha}
    return result


if __name__ == "__main__":
    main()
