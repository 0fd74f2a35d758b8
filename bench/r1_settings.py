"""Compare training settings, each several runs, on one paired-evaluation file.

A paired file's differences and standard errors (bench/r1_paired_eval.py, r1_paired_merge.py)
treat each column as one fixed policy. Runs of one recipe differ by several points (another seed,
or GPU arithmetic on the same seed), so "recipe B beats recipe A" needs that spread too. Per
level, this gives each setting's mean over its runs and, against the first setting, the
difference with a standard error from the run-to-run spread and from the samples
(``harness.statistics.compare_settings``):

    python bench/r1_settings.py docs/paired.json --setting sft=s0,s1,s2,s3 \\
        --setting grpo=g0,g1,g2 --out docs/settings.json

The last column is how many runs per setting a test at the 5 % level would need to find the
observed difference 80 % of the time, from the pooled spread of one run's score: a lower bound,
since sample noise is left out. With ``--paired-runs`` the k-th run of every setting continues
the reference's k-th run (GRPO seed k from SFT seed k), and the run term is the spread of those
runs' own differences. ``--plot PNG`` draws each setting's difference from the reference per level
with its 95 % interval; with ``--paired-runs`` also each run pair's own difference, as a dot.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.statistics import compare_settings, runs_needed

_spec = importlib.util.spec_from_file_location(
    "r1_paired_eval", Path(__file__).with_name("r1_paired_eval.py")
)
paired_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paired_eval)


class SettingsError(ValueError):
    """A setting names no run, or a run the file does not have."""


def parse_setting(text: str) -> tuple[str, list[str]]:
    name, _, runs = text.partition("=")
    columns = [c.strip() for c in runs.split(",") if c.strip()]
    if not name.strip() or not columns:
        raise SettingsError(f"a setting is written NAME=C1,C2,...; got {text!r}")
    return name.strip(), columns


def compare(
    result: dict[str, Any], settings: list[tuple[str, list[str]]], paired_runs: bool = False
) -> dict[str, Any]:
    """level -> {"n", setting: mean over its runs, "runs": {setting: [run means]},
    "<setting>_minus_<first>": the SettingComparison as a dict} for every setting after the first."""
    if len(settings) < 2:
        raise SettingsError("give at least two settings; the first is the reference")
    names = list(result["columns"])
    values: dict[str, dict[str, float]] = {}
    for _, columns in settings:
        for column in columns:
            if column not in names:
                raise SettingsError(f"no column {column!r}; the file has {', '.join(names)}")
            values[column] = paired_eval.column(result, column)
    ids = sorted(result["per_sample"])
    stored = result.get("sample_levels", {})
    levels = {sid: paired_eval.sample_level(sid, stored) for sid in ids}
    table: dict[str, Any] = {}
    for level in sorted(set(levels.values())) + ["all"]:
        chosen = [sid for sid in ids if level == "all" or levels[sid] == level]
        scores = {name: [[values[c][sid] for sid in chosen] for c in cols] for name, cols in settings}
        row: dict[str, Any] = {"n": len(chosen), "runs": {}}
        for name, runs in scores.items():
            run_means = [sum(run) / len(run) for run in runs]
            row["runs"][name] = run_means
            row[name] = sum(run_means) / len(run_means)
        reference = settings[0][0]
        for name, _ in settings[1:]:
            if paired_runs and len(scores[name]) != len(scores[reference]):
                raise SettingsError(f"--paired-runs: {name} and {reference} need as many runs")
            comparison = compare_settings(scores[reference], scores[name], paired_runs=paired_runs)
            needed = runs_needed(comparison.run_sd, comparison.difference, paired=paired_runs)
            row[f"{name}_minus_{reference}"] = {**asdict(comparison), "runs_for_80pct_power": needed}
        table[level] = row
    return table


def _points(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:+.2f}"


def markdown(table: dict[str, Any], settings: list[tuple[str, list[str]]]) -> str:
    reference = settings[0][0]
    lines = [
        "| level | setting (runs) | mean | minus "
        + reference
        + " | s.e. (runs, samples) | 95 % interval | d.o.f. | runs for 80 % power |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for level, row in table.items():
        for name, columns in settings:
            cells = [level, f"{name} ({len(columns)})", f"{row[name]:.4f}"]
            if name == reference:
                cells += ["", "", "", "", ""]
            else:
                c = row[f"{name}_minus_{reference}"]
                spread = f"{100 * c['se']:.2f} ({100 * c['se_runs']:.2f}, {100 * c['se_samples']:.2f})"
                interval = f"[{_points(c['ci_low'])}, {_points(c['ci_high'])}]"
                needed = c["runs_for_80pct_power"]
                runs = "n/a" if math.isnan(needed) or math.isinf(needed) else f"{math.ceil(needed)}"
                cells += [_points(c["difference"]), spread, interval, f"{c['dof']:.1f}", runs]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_pair_differences(row: dict[str, Any], name: str, reference: str) -> list[float]:
    """Each run pair's own difference (run k of ``name`` minus run k of the reference)."""
    return [b - a for a, b in zip(row["runs"][reference], row["runs"][name], strict=True)]


def plot(
    table: dict[str, Any], settings: list[tuple[str, list[str]]], paired_runs: bool, path: Path, title: str
) -> None:
    """Per level, each setting's difference from the reference in points, with its 95 % interval
    (run-to-run spread included) and, for runs paired by seed, each pair's own difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = settings[0][0]
    others = [name for name, _ in settings[1:]]
    levels = list(table)
    width = 0.8 / len(others)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for k, name in enumerate(others):
        xs = [i + (k - (len(others) - 1) / 2) * width for i in range(len(levels))]
        comparisons = [table[level][f"{name}_minus_{reference}"] for level in levels]
        centre = [100 * c["difference"] for c in comparisons]
        below = [100 * (c["difference"] - c["ci_low"]) for c in comparisons]
        above = [100 * (c["ci_high"] - c["difference"]) for c in comparisons]
        shown = ax.errorbar(
            xs, centre, yerr=[below, above], fmt="s", capsize=4, label=f"{name} (95 % interval)"
        )
        if paired_runs:
            for x, level in zip(xs, levels, strict=True):
                pairs = run_pair_differences(table[level], name, reference)
                ax.scatter(
                    [x + width / 4] * len(pairs),
                    [100 * d for d in pairs],
                    s=12,
                    alpha=0.6,
                    color=shown[0].get_color(),
                )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(levels)), [f"{lv} (n={table[lv]['n']})" for lv in levels])
    ax.set_ylabel(f"minus {reference} (points)")
    note = "dots: each seed pair's own difference" if paired_runs else "runs unpaired"
    ax.set_title(f"{title}\n{note}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paired", type=Path, help="a paired-evaluation JSON file")
    parser.add_argument(
        "--setting", action="append", default=[], help="NAME=C1,C2,...: the runs of one setting"
    )
    parser.add_argument(
        "--paired-runs",
        action="store_true",
        help="each setting's k-th run continues the reference's k-th run (a stage and its start)",
    )
    parser.add_argument("--out", type=Path, help="also write the table as JSON")
    parser.add_argument("--plot", type=Path, help="also draw the differences as this PNG")
    parser.add_argument("--title", help="the picture's title (default: the samples' description)")
    args = parser.parse_args(argv)
    try:
        settings = [parse_setting(text) for text in args.setting]
        result = json.loads(args.paired.read_text(encoding="utf-8"))
        table = compare(result, settings, args.paired_runs)
    except (OSError, json.JSONDecodeError, KeyError, SettingsError) as exc:
        print(f"error: {exc}")
        return 2
    print(markdown(table, settings))
    if args.out:
        payload = {
            "what": result.get("what", ""),
            "settings": dict(settings),
            "paired_runs": args.paired_runs,
            "levels": table,
        }
        args.out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    if args.plot:
        plot(table, settings, args.paired_runs, args.plot, args.title or result.get("what", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
