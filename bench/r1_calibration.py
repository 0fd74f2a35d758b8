"""How well each checkpoint's confidence tells its right plans from its wrong ones, and what a
deferral gate makes of it.

Reads paired-evaluation files written with ``bench/r1_paired_eval.py --confidence`` (synth-edit
samples; one of them with a ``classic-pipeline`` column). Per checkpoint column and level:

- ``accuracy``: the share of right greedy plans (``synth_exact`` as executed);
- ``auroc``: how well the least token log-probability of a plan separates right plans from wrong
  ones, as the chance that a random right plan's least token is above a random wrong plan's (ties
  count half; 0.5 is no information);
- ``right_unsure`` / ``wrong_sure``: the share of right plans below the gate's threshold, and of
  wrong plans at or above it;
- ``gated`` and ``deferred``: the one-sentence part of a deferral gate (``imageedit_r1.deferral``,
  read from a checkpoint's ``deferral.json``; its thresholds as stored, not chosen again):
  classic-pipeline's value where an instruction of one sentence is read completely by the grammar
  and the plan's least token is below the threshold, the plan's value elsewhere. Sentences taken
  from the grammar inside longer instructions need their merged plans executed
  (``bench/r1_deferral.py --sentences``) and are not simulated here.

The instructions are regenerated from the sample ids (the synth-edit generator, from scene graphs).
``--compare NAME=A1,A2,...:B1,B2,...`` adds, per level, the mean of the paired differences
A_k - B_k of each measure over the pairs, with its standard error over the pairs.

Usage: python bench/r1_calibration.py FILE [FILE ...] --gate CHECKPOINT_DIR --out OUT.json
  [--compare NAME=A1,...:B1,...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from r1_paired_eval import column, level_means, mean_and_se, sample_level  # noqa: E402

CLASSIC = "classic-pipeline"
MEASURES = ("accuracy", "auroc", "right_unsure", "wrong_sure", "gated", "deferred")


def auroc(right: list[float], wrong: list[float]) -> float | None:
    """P(a right plan's value > a wrong plan's), ties half; None without both kinds."""
    if not right or not wrong:
        return None
    ranked = sorted([(v, 1) for v in right] + [(v, 0) for v in wrong])
    rank_sum, position = 0.0, 0
    while position < len(ranked):  # average ranks over ties
        end = position
        while end < len(ranked) and ranked[end][0] == ranked[position][0]:
            end += 1
        mean_rank = (position + 1 + end) / 2
        rank_sum += mean_rank * sum(label for _, label in ranked[position:end])
        position = end
    return (rank_sum - len(right) * (len(right) + 1) / 2) / (len(right) * len(wrong))


def instructions(sample_ids: list[str]) -> dict[str, str]:
    """Sample id -> instruction, regenerated from the synth-edit generator's scene graphs."""
    from imageedit_r1.drafts import instruction_of
    from imageedit_r1.training.corpus import graph_examples

    by_split: dict[str, list[int]] = defaultdict(list)
    for sid in sample_ids:
        suite, split, index = sid.split("/")
        if suite != "synth-edit":
            raise SystemExit(f"error: {sid} is not a synth-edit sample")
        by_split[split].append(int(index))
    out = {}
    for split, indices in by_split.items():
        first, last = min(indices), max(indices)
        examples, _ = graph_examples(last - first + 1, split, offset=first, workers=2)
        for offset, example in enumerate(examples):
            out[f"synth-edit/{split}/{first + offset:05d}"] = instruction_of(example.prompt)
    return out


def measure(
    values: dict[str, float],
    logprobs: dict[str, list[float]],
    classic: dict[str, float],
    said: dict[str, str],
    gate: Any,
    stored_levels: dict[str, str],
) -> dict[str, dict[str, float | None]]:
    """The measures per level (and 'all') of one checkpoint column."""
    per_level: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for sid, value in values.items():
        least = min(logprobs[sid]) if logprobs[sid] else float("-inf")
        deferral, _ = gate.decide(said[sid], logprobs[sid])
        gated = classic[sid] if deferral.defer else value
        for level in (sample_level(sid, stored_levels), "all"):
            row = per_level[level]
            row["values"].append(value)
            row["right" if value == 1.0 else "wrong"].append(least)
            row["gated"].append(gated)
            row["deferred"].append(float(deferral.defer))
    out = {}
    for level, row in sorted(per_level.items()):
        right, wrong = row["right"], row["wrong"]
        out[level] = {
            "n": len(row["values"]),
            "accuracy": sum(row["values"]) / len(row["values"]),
            "auroc": auroc(right, wrong),
            "right_unsure": sum(v < gate.threshold for v in right) / len(right) if right else None,
            "wrong_sure": sum(v >= gate.threshold for v in wrong) / len(wrong) if wrong else None,
            "gated": sum(row["gated"]) / len(row["gated"]),
            "deferred": sum(row["deferred"]) / len(row["deferred"]),
        }
    return out


def compare(table: dict[str, dict[str, dict[str, float | None]]], spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME=A1,A2:B1,B2`` -> (NAME, per level and measure: mean and s.e. of A_k - B_k over k)."""
    name, _, pairs = spec.partition("=")
    left, _, right = pairs.partition(":")
    a, b = left.split(","), right.split(",")
    if not name or len(a) != len(b) or not a[0] or not b[0]:
        raise SystemExit(f"error: --compare {spec!r}: write NAME=A1,A2,...:B1,B2,... with as many A as B")
    for entry in a + b:
        if entry not in table:
            raise SystemExit(f"error: --compare names {entry!r}, which no file has")
    out: dict[str, Any] = {"pairs": [f"{x} - {y}" for x, y in zip(a, b, strict=True)]}
    for level in table[a[0]]:
        out[level] = {}
        for key in MEASURES:
            differences = [table[x][level][key] - table[y][level][key] for x, y in zip(a, b, strict=True)
                           if table[x][level][key] is not None and table[y][level][key] is not None]  # fmt: skip
            if differences:
                mean, se = mean_and_se(differences)
                out[level][key] = {"mean": mean, "se": se if len(differences) > 1 else None}
    return name, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="paired files written with --confidence")
    parser.add_argument("--gate", type=Path, required=True, help="a checkpoint directory with deferral.json")
    parser.add_argument("--compare", action="append", default=[], help="NAME=A1,A2,...:B1,B2,...")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from imageedit_r1.deferral import load_gate

    gate = load_gate(args.gate)
    if gate is None:
        raise SystemExit(f"error: {args.gate} has no deferral.json")
    results = [json.loads(path.read_text(encoding="utf-8")) for path in args.files]
    for path, result in zip(args.files, results, strict=True):
        if "token_logprobs" not in result:
            raise SystemExit(f"error: {path} has no token log-probabilities: write it with --confidence")
    with_classic = [r for r in results if CLASSIC in r["columns"]]
    if not with_classic:
        raise SystemExit(f"error: none of the files has a {CLASSIC!r} column")
    source = with_classic[0]
    classic = column(source, CLASSIC)
    said = instructions(sorted(classic))
    table: dict[str, dict[str, dict[str, float | None]]] = {}
    for result in results:
        if set(result["per_sample"]) != set(classic):
            raise SystemExit("error: the files do not hold the same samples")
        for name in result["token_logprobs"]:
            table[name] = measure(
                column(result, name),
                result["token_logprobs"][name],
                classic,
                said,
                gate,
                result.get("sample_levels", {}),
            )
    out: dict[str, Any] = {
        "what": source["what"],
        "gate": {"from": str(args.gate), "threshold": gate.threshold, "single_sentence_part_only": True},
        "classic_pipeline": level_means(classic, source.get("sample_levels", {})),
        "columns": table,
        "comparisons": dict(compare(table, spec) for spec in args.compare),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"| column | level | {' | '.join(MEASURES)} |")
    for name, levels in table.items():
        for level, row in levels.items():
            cells = " | ".join("" if row[k] is None else f"{row[k]:.4f}" for k in MEASURES)
            print(f"| {name} | {level} | {cells} |")
    for name, rows in out["comparisons"].items():
        for level, row in rows.items():
            if level != "pairs":
                print(name, level, {k: f"{v['mean']:+.4f}" for k, v in row.items()})


if __name__ == "__main__":
    main()
