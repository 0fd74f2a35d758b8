"""Choose the channel verifier's weight on a selection set, then report it on the test samples.

Reads two files written by ``bench/r1_paired_eval.py --vote K --channel CHANNEL`` (their
``candidates``: every candidate's exact value, usability and log-probabilities), sweeps alpha of
``imageedit_r1.channel.pick`` over a grid on the selection file, keeps the alpha with the highest
overall synth_exact there (ties: the smaller alpha, the one closer to the policy alone), and
writes the report file's samples as paired columns — greedy, the verifier at that alpha, the
vote and any-of-K — in the bench's format (``bench/r1_paired_merge.py`` joins it with others):

    python bench/r1_verifier_sweep.py --select docs/x_dev.json --report docs/x_test.json \\
        --entry shipped --out docs/x_verifier.json --plot docs/x_verifier.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from r1_paired_eval import column, level_means, paired_levels, sample_level  # noqa: E402

from imageedit_r1.channel import pick  # noqa: E402

GRID = tuple(round(0.05 * i, 2) for i in range(21))


def picked(candidates: dict[str, dict[str, list[Any]]], alpha: float) -> dict[str, float]:
    """Per sample, the exact value of the candidate the verifier keeps at ``alpha``."""
    return {
        sid: row["exact"][pick(row["forward"], row["channel"], row["usable"], alpha)]
        for sid, row in candidates.items()
    }


def sweep(
    result: dict[str, Any], entry: str, grid: tuple[float, ...] = GRID
) -> dict[float, dict[str, float]]:
    """alpha -> per-level and overall mean synth_exact of the verifier's picks."""
    candidates = result["candidates"][entry]
    levels = result.get("sample_levels", {})
    return {alpha: level_means(picked(candidates, alpha), levels) for alpha in grid}


def choose(curve: dict[float, dict[str, float]]) -> float:
    """The alpha with the highest overall mean; ties go to the smaller alpha."""
    return max(sorted(curve), key=lambda alpha: (curve[alpha]["all"], -alpha))


def report(select: dict[str, Any], test: dict[str, Any], entry: str) -> dict[str, Any]:
    for name, result in (("selection", select), ("report", test)):
        if entry not in result.get("candidates", {}):
            raise ValueError(f"the {name} file has no candidates of {entry!r} (run the bench with --channel)")
    if set(select["candidates"][entry]) & set(test["candidates"][entry]):
        raise ValueError("the selection and report files share samples; pick alpha on disjoint samples")
    select_curve, test_curve = sweep(select, entry), sweep(test, entry)
    alpha = choose(select_curve)
    k = len(next(iter(test["candidates"][entry].values()))["exact"]) - 1
    columns = {
        entry: column(test, entry),
        f"{entry}_verifier{k}": picked(test["candidates"][entry], alpha),
        f"{entry}_vote{k}": column(test, f"{entry}_vote{k}"),
        f"{entry}_any{k}": column(test, f"{entry}_any{k}"),
    }
    ids = sorted(columns[entry])
    levels = {sid: sample_level(sid, test.get("sample_levels", {})) for sid in ids}
    names = list(columns)
    return {
        "what": test["what"].replace("greedy plans", f"greedy plans and the verifier at alpha {alpha}"),
        "alpha": alpha,
        "alpha_chosen_on": select["what"],
        "channel": test.get("channel"),
        "curve": {"selection": _keyed(select_curve), "report": _keyed(test_curve)},
        "levels": paired_levels(columns, levels, names),
        "per_sample": {sid: [columns[name][sid] for name in names] for sid in ids},
        "sample_levels": levels,
        "columns": names,
    }


def _keyed(curve: dict[float, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {f"{alpha:.2f}": row for alpha, row in curve.items()}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for curve in result["curve"].values() for row in curve.values()]
    levels = sorted({level for row in rows for level in row if level != "all"})
    fig, axes = plt.subplots(1, len(levels) + 1, figsize=(3.0 * (len(levels) + 1), 3.2), sharex=True)
    for ax, level in zip(axes, [*levels, "all"], strict=True):
        for name, style in (("selection", "--"), ("report", "-")):
            curve = result["curve"][name]
            ax.plot(
                [float(a) for a in curve],
                [row.get(level, math.nan) for row in curve.values()],
                style,
                label=name,
            )
        ax.axvline(result["alpha"], color="grey", linewidth=0.8)
        ax.set_title(level, fontsize=10)
        ax.set_xlabel("alpha (channel weight)")
    axes[0].set_ylabel("synth_exact of the kept plan")
    axes[0].legend(fontsize=8)
    fig.suptitle("Noisy-channel verifier: alpha 0 = most likely plan, 1 = best explanation", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", type=Path, required=True, help="bench file of the selection samples")
    parser.add_argument("--report", type=Path, required=True, help="bench file of the reported samples")
    parser.add_argument("--entry", required=True, help="the checkpoint column whose candidates are ranked")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    try:
        select = json.loads(args.select.read_text(encoding="utf-8"))
        test = json.loads(args.report.read_text(encoding="utf-8"))
        result = report(select, test, args.entry)
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"error: {exc}") from None
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.plot:
        plot(result, args.plot)
    print(f"alpha {result['alpha']} (chosen on {result['alpha_chosen_on']})")
    for level, row in result["levels"].items():
        print(
            level, {k: round(v, 4) for k, v in row.items() if isinstance(v, float) and not k.endswith("_p")}
        )


if __name__ == "__main__":
    main()
