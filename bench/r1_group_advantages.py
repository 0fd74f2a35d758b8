"""Where a GRPO update's weight comes from: the group advantages of sampled plans, per level, in
groups that hold a right plan and in groups that hold none.

GRPO's advantage is a completion's reward minus its group's mean, divided (trl's default,
``scale_rewards="group"``) by the group's standard deviation. In a group where no plan is right,
the rewards differ only by the format reward and the penalties, yet the division gives those
differences the same weight as success against failure. This script measures how much of an
update that is, and which way it pushes the plans' length:

    python bench/r1_group_advantages.py --checkpoint CKPT --synth 64 --offset 20000 \\
        --noise 0.5 --keep-relations --size-synonyms 0.5 --cue-words 0.5 --out docs/x.json

It builds GRPO's prompts as ``ieval train grpo`` does (synth-edit train samples from
``--offset``, with the same noise options and noisy copies), samples ``--generations`` plans per
prompt at ``--temperature`` (top-k and top-p off, as trl samples), scores every plan with the GRPO
reward (``imageedit_r1.rewards.MultiSuiteReward``, the training code path), and computes the
advantages under trl's three scalings: ``group``, ``batch`` (the standard deviation of all
rewards here, where trl takes one step's) and ``none``. Per level and kind of group:

- ``groups`` and ``plans``;
- ``weight``: the share of the update's total absolute advantage (sum of |A|) in these groups;
- ``unparsed``: the share of plans that do not parse (they earn no format reward);
- ``length_corr``: among the plans that parse, the correlation of the advantage with the plan's
  number of sub-edits, both taken from their group's mean: below zero, the update favours
  shorter plans.

A plan is right when its ``synth_exact`` is 1. The numbers describe one checkpoint's samples
before any update, so they show the first steps' push, not a whole run's. ``--groups FILE``
summarises the groups a previous ``--out`` kept, without sampling again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imageedit_r1.training.grpo import SCALINGS

EPSILON = 1e-4  # trl adds it to the standard deviation


def sample_std(values: Sequence[float]) -> float:
    """The standard deviation with Bessel's correction, as trl's ``nanstd``; 0 for one value."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def advantages(groups: Sequence[Sequence[float]], scaling: str) -> list[list[float]]:
    """trl's advantages for rewards given group by group."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    batch_std = sample_std([r for group in groups for r in group])
    result = []
    for group in groups:
        mean = sum(group) / len(group)
        std = {"group": sample_std(group), "batch": batch_std, "none": None}[scaling]
        result.append([(r - mean) / (std + EPSILON) if std is not None else r - mean for r in group])
    return result


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None for fewer than two points or when either side does not vary."""
    try:
        return statistics.correlation(xs, ys)
    except statistics.StatisticsError:
        return None


def summarise(groups: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per scaling, per level (and ``all``) and kind of group (``with_right`` / ``none_right``):
    groups, plans, weight, unparsed and length_corr. Each group is {"level", "rewards", "right",
    "lengths"} (one entry per plan; length 0: the plan does not parse)."""
    table: dict[str, Any] = {}
    for scaling in SCALINGS:
        scaled = advantages([g["rewards"] for g in groups], scaling)
        total = sum(abs(a) for group in scaled for a in group) or 1.0
        cells: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for group, adv in zip(groups, scaled, strict=True):
            kind = "with_right" if any(group["right"]) else "none_right"
            parsed = [(a, k) for a, k in zip(adv, group["lengths"], strict=True) if k > 0]
            mean_length = sum(k for _, k in parsed) / len(parsed) if parsed else 0.0
            for level in (group["level"], "all"):
                cell = cells[(level, kind)]
                cell["adv"].extend(adv)
                cell["unparsed"].append(len(adv) - len(parsed))  # one entry per group
                cell["parsed_adv"].extend(a for a, _ in parsed)
                cell["centred_length"].extend(k - mean_length for _, k in parsed)
        rows = {}
        for (level, kind), cell in sorted(cells.items()):
            corr = correlation(cell["parsed_adv"], cell["centred_length"])
            rows.setdefault(level, {})[kind] = {
                "groups": len(cell["unparsed"]),
                "plans": len(cell["adv"]),
                "weight": sum(abs(a) for a in cell["adv"]) / total,
                "unparsed": sum(cell["unparsed"]) / len(cell["adv"]),
                "length_corr": None if corr is None else round(corr, 4),
            }
        table[scaling] = rows
    return table


def markdown(table: dict[str, Any]) -> str:
    lines = [
        "| level | groups with a right plan / none | weight of groups with none: group / batch / none scaling "
        "| unparsed plans in groups with none | length corr. in groups with none (group) "
        "| in groups with a right plan (group) |",
        "|---|---|---|---|---|---|",
    ]

    def cell(scaling: str, level: str, kind: str, key: str) -> Any:
        return table[scaling].get(level, {}).get(kind, {}).get(key)

    for level in table["group"]:
        weights = " / ".join(f"{cell(s, level, 'none_right', 'weight') or 0.0:.2f}" for s in SCALINGS)
        counts = f"{cell('group', level, 'with_right', 'groups') or 0} / {cell('group', level, 'none_right', 'groups') or 0}"
        corr_none, corr_right = (cell("group", level, k, "length_corr") for k in ("none_right", "with_right"))
        unparsed = cell("group", level, "none_right", "unparsed")
        unparsed_text = "" if unparsed is None else f"{unparsed:.2f}"
        lines.append(f"| {level} | {counts} | {weights} | {unparsed_text} | {corr_none} | {corr_right} |")
    return "\n".join(lines)


def sample_groups(args: argparse.Namespace) -> list[dict[str, Any]]:
    """GRPO's prompts for ``args``, ``args.generations`` sampled plans each, scored by the GRPO
    reward: one entry per prompt."""
    import torch

    from imageedit_r1.plan import parse_plan
    from imageedit_r1.policy import load_policy
    from imageedit_r1.rewards import MultiSuiteReward
    from imageedit_r1.rollouts import RolloutPool
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.corpus import build_corpus
    from imageedit_r1.training.pipeline import noisy_copies

    corpus = build_corpus(
        {"synth-edit": args.synth}, "train", keep_samples=args.synth, workers=args.workers, offset=args.offset
    )
    prompts = noisy_copies(
        corpus.examples, args.noise, args.seed, args.size_synonyms, args.keep_relations, args.cue_words
    )
    policy = load_policy(args.checkpoint, device="cpu")
    torch.manual_seed(args.seed)
    pool = RolloutPool(corpus.samples, default_toolbox, workers=args.workers)
    reward = MultiSuiteReward(pool, args.reward)
    groups = []
    try:
        for index, example in enumerate(prompts):
            plans = policy.generate(
                [example.prompt] * args.generations,
                max_new_tokens=args.max_new_tokens,
                batch_size=args.generations,
                do_sample=True,
                temperature=args.temperature,
                top_k=0,
                top_p=1.0,
            )
            jobs = [(example.sample_id, "synth-edit", plan, args.reward) for plan in plans]
            scored = reward.score(jobs)
            if any(s.reward is None for s in scored):  # an infrastructure failure: the group is left out
                continue
            parsed = [parse_plan(plan) for plan in plans]
            groups.append(
                {
                    "sample_id": example.sample_id,
                    "level": example.level,
                    "rewards": [s.reward for s in scored],
                    "right": [(s.terms.get("synth_exact") or 0.0) >= 1.0 for s in scored],
                    "lengths": [len(p.subedits) if p.ok else 0 for p in parsed],
                }
            )
            if (index + 1) % 16 == 0:
                print(f"{index + 1}/{len(prompts)} prompts", file=sys.stderr, flush=True)
    finally:
        pool.close()
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="the policy GRPO would start from")
    parser.add_argument("--groups", type=Path, help="summarise the groups of a previous --out instead")
    parser.add_argument(
        "--synth", type=int, default=64, help="synth-edit train samples (before noisy copies)"
    )
    parser.add_argument("--offset", type=int, default=20000, help="the first train index")
    parser.add_argument("--generations", type=int, default=16)
    parser.add_argument("--temperature", type=float, default=1.5)
    parser.add_argument("--reward", default="exact")
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--size-synonyms", type=float, default=0.5)
    parser.add_argument("--keep-relations", action="store_true")
    parser.add_argument("--cue-words", type=float, default=0.5)
    parser.add_argument("--max-new-tokens", type=int, default=128, help="GRPO's max completion length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="also write the groups and the table as JSON")
    args = parser.parse_args(argv)
    if args.groups:
        try:
            saved = json.loads(args.groups.read_text(encoding="utf-8"))
            settings, groups = saved["settings"], saved["groups"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            print(f"error: {args.groups}: not a file this script wrote with --out ({exc})")
            return 2
    else:
        from imageedit_r1.editor import checkpoint_problem

        problem = checkpoint_problem(args.checkpoint) if args.checkpoint else "give --checkpoint or --groups"
        if problem:
            print(f"error: {problem}")
            return 2
        settings = {k: v for k, v in vars(args).items() if k not in ("out", "groups")}
        groups = sample_groups(args)
    table = summarise(groups)
    print(markdown(table))
    if args.out:
        args.out.write_text(json.dumps({"settings": settings, "table": table, "groups": groups}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
