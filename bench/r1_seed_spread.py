"""Seed spread of ImageEdit-R1 training settings, drawn from one paired-evaluation file.

Each group names the columns of one setting (its seeds). Per level, every seed is a dot, the
group's mean a bar, and baseline columns a dashed line, so the spread between seeds sits next to
the differences between settings:

    python bench/r1_seed_spread.py docs/x_paired_test1600.json --out docs/x_seeds.png \\
        --group "SFT=sft_s0,sft_s1,sft_s2" --group "SFT + GRPO=grpo_s0,grpo_s1" \\
        --baseline classic-pipeline

It also prints, per group and level, the mean, the lowest and the highest seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location(
    "r1_paired_eval", Path(__file__).with_name("r1_paired_eval.py")
)
paired_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paired_eval)

LEVELS = ("L1", "L2", "L3", "L4", "all")


class SpreadError(ValueError):
    """A group names a column the file does not hold, or is written without NAME=."""


def parse_group(text: str) -> tuple[str, list[str]]:
    name, sep, columns = text.partition("=")
    if not sep or not name or not columns:
        raise SpreadError(f"a group is NAME=COLUMN,COLUMN,...; got {text!r}")
    return name, [c for c in columns.split(",") if c]


def level_means(result: dict[str, Any], column: str) -> dict[str, float]:
    """Level -> mean of one column (and 'all')."""
    return paired_eval.level_means(paired_eval.column(result, column), result.get("sample_levels", {}))


def spread(
    result: dict[str, Any], groups: list[tuple[str, list[str]]]
) -> dict[str, dict[str, dict[str, float]]]:
    """group -> level -> {mean, low, high, seeds}."""
    missing = [c for _, cols in groups for c in cols if c not in result["columns"]]
    if missing:
        raise SpreadError(f"no column {missing[0]!r}; the file has {', '.join(result['columns'])}")
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, columns in groups:
        per_seed = [level_means(result, c) for c in columns]
        table[name] = {
            level: {
                "mean": sum(s[level] for s in per_seed) / len(per_seed),
                "low": min(s[level] for s in per_seed),
                "high": max(s[level] for s in per_seed),
                "seeds": len(per_seed),
            }
            for level in per_seed[0]
        }
    return table


def plot_spread(
    result: dict[str, Any],
    groups: list[tuple[str, list[str]]],
    baselines: list[str],
    path: Path,
    title: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [level for level in LEVELS if level in level_means(result, groups[0][1][0])]
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(9, 4.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, columns) in enumerate(groups):
        colour = colours[k % len(colours)]
        centres = [i + (k - (len(groups) - 1) / 2) * width for i in range(len(levels))]
        seeds = [level_means(result, c) for c in columns]
        means = [sum(s[level] for s in seeds) / len(seeds) for level in levels]
        ax.bar(centres, means, width * 0.9, color=colour, alpha=0.35, label=f"{name} ({len(columns)})")
        for seed in seeds:
            ax.plot(centres, [seed[level] for level in levels], "o", color=colour, markersize=4)
    for j, name in enumerate(baselines):
        means = level_means(result, name)
        for i, level in enumerate(levels):
            ax.hlines(means[level], i - 0.45, i + 0.45, colors="black", linestyles=("--", ":")[j % 2])
        ax.plot([], [], "--" if j % 2 == 0 else ":", color="black", label=name)
    ax.set_xticks(range(len(levels)), levels)
    paired_eval.save_share_figure(
        fig, ax, path, title, "synth_exact (dots: seeds, bars: mean)", ncol=3, loc="lower left"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--group", action="append", default=[], help="NAME=COLUMN,COLUMN,... (seeds)")
    parser.add_argument("--baseline", action="append", default=[], help="a column drawn as a line")
    parser.add_argument("--out", type=Path, required=True, help="the PNG")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    try:
        result = json.loads(args.file.read_text(encoding="utf-8"))
        groups = [parse_group(text) for text in args.group]
        if not groups:
            raise SpreadError("name at least one --group")
        table = spread(result, groups + [(name, [name]) for name in args.baseline])
    except (OSError, json.JSONDecodeError, SpreadError) as exc:
        raise SystemExit(f"error: {exc}") from None
    for name, levels in table.items():
        cells = "  ".join(
            f"{level} {row['mean']:.4f} [{row['low']:.4f}, {row['high']:.4f}]"
            for level, row in levels.items()
        )
        print(f"{name}: {cells}")
    plot_spread(result, groups, args.baseline, args.out, args.title or result.get("what", ""))


if __name__ == "__main__":
    main()
