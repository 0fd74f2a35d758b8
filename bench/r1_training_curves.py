"""Training curves of several runs, drawn from one joined metrics log.

The runs' ``metrics.jsonl`` files are joined into one file with a ``run`` field per row (as the
``docs/imageedit_r1_smollm2_*_runs_metrics.jsonl`` files are). This draws, for each key, one panel
with a line per run, and can mark a step (e.g. where shorter runs of the same seeds stopped):

    python bench/r1_training_curves.py docs/x_runs_metrics.jsonl --out docs/x_curve.png \\
        --run cue_grpo400_s0 --run cue_grpo400_s1 --key reward --key entropy --mark 30.5

It prints each run's first and last value of each key. Rows without a key (the end-of-run
summary) are left out of that key's panel.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from imageedit_r1.training.logs import plot_curves


class CurvesError(ValueError):
    """A run or a key the log does not hold."""


def curves(rows: list[dict[str, Any]], runs: list[str], keys: list[str]) -> dict[str, dict[str, list]]:
    """run -> key -> [(step, value), ...] in step order."""
    present = {row.get("run") for row in rows}
    missing = [run for run in runs if run not in present]
    if missing:
        known = ", ".join(sorted(str(r) for r in present))
        raise CurvesError(f"no run {missing[0]!r} in the log; it has {known}")
    table: dict[str, dict[str, list]] = {}
    for run in runs:
        mine = [row for row in rows if row.get("run") == run]
        table[run] = {
            key: sorted((row["step"], row[key]) for row in mine if isinstance(row.get(key), (int, float)))
            for key in keys
        }
    empty = [key for key in keys if not any(table[run][key] for run in runs)]
    if empty:
        raise CurvesError(f"no run has the key {empty[0]!r}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="a JSONL metrics log whose rows carry a 'run' field")
    parser.add_argument("--run", action="append", required=True, help="a run to draw (repeat)")
    parser.add_argument("--key", action="append", default=[], help="a logged value (default: reward)")
    parser.add_argument("--mark", type=float, help="draw a dotted line at this step")
    parser.add_argument("--title", default="")
    parser.add_argument("--out", type=Path, required=True, help="the PNG")
    args = parser.parse_args()
    keys = args.key or ["reward"]
    rows = [json.loads(line) for line in args.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        table = curves(rows, args.run, keys)
    except CurvesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    chosen = [row for row in rows if row.get("run") in args.run]
    plot_curves(chosen, keys, args.out, args.title, series="run", mark=args.mark)
    for run, by_key in table.items():
        ends = {k: (v[0][1], v[-1][1]) for k, v in by_key.items() if v}
        print(f"{run}: " + "  ".join(f"{k} {a:.4f} -> {b:.4f}" for k, (a, b) in ends.items()))


if __name__ == "__main__":
    main()
