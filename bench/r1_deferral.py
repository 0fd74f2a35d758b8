"""Choose and report the deferral gate (``imageedit_r1.deferral``) from paired files.

Reads files written by ``bench/r1_paired_eval.py --plans --confidence --baseline classic-pipeline``
(per sample: the instruction, the policy's greedy plan with its token log-probabilities, and both
editors' ``synth_exact``). For each gate (every threshold of the grid, all instructions or
one-sentence ones only) a sample scores classic-pipeline's value when the gate defers and the
policy's otherwise. synth-edit images are all flat-colour scenes, so the editor's flat-scene check
never changes a decision here.

The threshold is chosen on ``--select`` alone: the highest mean over levels (ties: the one nearest
0). Whether only one-sentence instructions are deferred is not chosen here but given
(``--single-sentence``): it is a design decision, read from the grammar's accuracy on train wording
(``--completeness``); the curve of the other choice is written too, for the picture. ``--report`` files are then scored with that gate, as paired columns
(policy, gated, classic-pipeline) with standard errors; ``--write-gate CHECKPOINT`` stores it in the
checkpoint's ``deferral.json`` with how it was chosen.

    python bench/r1_deferral.py --select docs/x_sel.json --report docs/x_test.json --out docs/gate.json

``--sentences`` then chooses the gate's sentence threshold (``DeferralGate.merge_sentences``) the
same way, for instructions of several sentences: their plans with sentences taken from the grammar
are new plans, so they are executed here, on samples rendered from the ids in the files.

``--completeness FILE`` (a file with ``--plans`` prompts and a classic-pipeline column, e.g. on the
train split) adds how often the grammar's reading is right when it is complete or not, by the
number of sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from r1_paired_eval import mean_and_se, sample_level  # noqa: E402

# sentence thresholds: 0.0 takes every completely read sentence whose sub-edit has any token below
# certainty (log-probability 0)
SENTENCE_THRESHOLDS = (0.0, -0.001, -0.005, -0.01, -0.02, -0.05, -0.1, -0.2, -0.5, -1.0)
THRESHOLDS = (-0.01, -0.02, -0.03, -0.05, -0.075, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5, -0.75, -1.0)
CLASSIC = "classic-pipeline"


def decided(
    result: dict[str, Any], entry: str, gate: Any, merged: dict[str, float] | None = None
) -> Iterator[tuple[str, Any, Any, float, float, float]]:
    """Per sample of ``result``: (id, the gate's Deferral, the grammar's Reading, policy value,
    classic-pipeline value, gated value). ``merged``: the executed values of plans with sentences
    taken from the grammar, by sample."""
    from imageedit_r1.drafts import instruction_of

    policy_index = result["columns"].index(entry)
    classic_index = result["columns"].index(CLASSIC)
    for sid, values in result["per_sample"].items():
        logprobs = result["token_logprobs"][entry][sid]
        deferral, reading = gate.decide(instruction_of(result["prompts"][sid]), logprobs)
        policy, classic = values[policy_index], values[classic_index]
        gated = classic if deferral.defer else (merged or {}).get(sid, policy)
        yield sid, deferral, reading, policy, classic, gated


def gate_columns(
    result: dict[str, Any], entry: str, gate: Any, merged: dict[str, float] | None = None
) -> dict[str, dict[str, float]]:
    """sample id -> value of the policy, the gated editor and classic-pipeline, plus 'deferred' (0/1).
    ``merged``: the executed values of plans with sentences taken from the grammar, by sample."""
    columns: dict[str, dict[str, float]] = {"policy": {}, "gated": {}, CLASSIC: {}, "deferred": {}}
    for sid, deferral, _, policy, classic, gated in decided(result, entry, gate, merged):
        columns["policy"][sid] = policy
        columns[CLASSIC][sid] = classic
        columns["deferred"][sid] = float(deferral.defer)
        columns["gated"][sid] = gated
    return columns


def merged_plans(result: dict[str, Any], entry: str, gate: Any, tokenizer: Any) -> dict[str, str]:
    """sample id -> the plan with sentences taken from the grammar (``DeferralGate.merge_sentences``),
    for the samples where any is taken and the instruction is not deferred whole."""
    from imageedit_r1.deferral import subedit_least_logprobs
    from imageedit_r1.drafts import instruction_of
    from imageedit_r1.plan import format_plan, parse_plan

    out = {}
    for sid in result["per_sample"]:
        completion, row = result["plans"][entry][sid], result["token_logprobs"][entry][sid]
        deferral, reading = gate.decide(instruction_of(result["prompts"][sid]), row)
        if deferral.defer or reading.sentences < 2:
            continue
        least = subedit_least_logprobs(tokenizer, completion, row)
        merged, taken = gate.merge_sentences(reading, parse_plan(completion).subedits, least)
        if taken:
            out[sid] = " " + format_plan(merged)
    return out


def execute_plans(plans: dict[tuple[str, str], str], workers: int) -> dict[tuple[str, str], float]:
    """synth_exact of each plan, executed on its sample (rendered and grounded here, in the split
    and index range the sample ids name)."""
    from imageedit_r1.rollouts import RolloutPool, evaluate_rollouts
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.corpus import build_corpus

    if not plans:
        return {}
    keys = sorted(plans)
    sids = sorted({sid for sid, _ in keys})
    split = sids[0].split("/")[1]
    indices = [int(sid.rsplit("/", 1)[1]) for sid in sids]
    corpus = build_corpus(
        {"synth-edit": max(indices) - min(indices) + 1},
        split,
        workers=workers,
        offset=min(indices),
        plans=False,
    )
    pool = RolloutPool(corpus.samples, default_toolbox, workers)
    try:
        scores = pool.map(evaluate_rollouts, [(sid, "synth-edit", plans[(sid, t)]) for sid, t in keys])
    finally:
        pool.close()
    return {key: score["synth_exact"] for key, score in zip(keys, scores, strict=True)}


def sentence_values(
    result: dict[str, Any], entry: str, gate: Any, thresholds: tuple[float, ...], tokenizer: Any, workers: int
) -> dict[float, dict[str, float]]:
    """Per sentence threshold, sample id -> synth_exact of its merged plan (samples with one)."""
    from dataclasses import replace

    plans = {}
    for threshold in thresholds:
        for sid, text in merged_plans(
            result, entry, replace(gate, sentence_threshold=threshold), tokenizer
        ).items():
            plans[(sid, str(threshold))] = text
    # one execution per distinct plan text of a sample
    distinct = {(sid, text): None for (sid, _), text in plans.items()}
    executed = execute_plans({(sid, text): text for sid, text in distinct}, workers)
    return {
        t: {sid: executed[(sid, text)] for (sid, key), text in plans.items() if key == str(t)}
        for t in thresholds
    }


def choose_sentences(
    select: dict[str, Any], entry: str, gate: Any, tokenizer: Any, workers: int
) -> tuple[Any, list[dict[str, Any]], dict[float, dict[str, float]]]:
    """The gate with the sentence threshold of the highest mean over levels on ``select`` (ties:
    nearest 0), the curve, and the executed merged plans per threshold."""
    from dataclasses import replace

    values = sentence_values(select, entry, gate, SENTENCE_THRESHOLDS, tokenizer, workers)
    curve, best, best_score = [], gate, None
    for threshold in SENTENCE_THRESHOLDS:
        candidate = replace(gate, sentence_threshold=threshold)
        table = by_level(select, gate_columns(select, entry, candidate, values[threshold]))
        score = level_mean(table, "gated")
        curve.append(
            {
                "sentence_threshold": threshold,
                "mean": score,
                "levels": table,
                "merged": len(values[threshold]),
            }
        )
        if best_score is None or score > best_score + 1e-12:
            best, best_score = candidate, score
    return best, curve, values


def sample_rows(
    result: dict[str, Any], entry: str, gate: Any, merged: dict[str, float] | None = None
) -> dict[str, list[Any]]:
    """sample id -> [level, least token log-probability, reading complete, sentences, deferred,
    policy value, classic-pipeline value, gated value]: what the gate read and what it chose."""
    levels = result.get("sample_levels", {})
    return {
        sid: [
            sample_level(sid, levels),
            round(deferral.least_logprob, 4),
            int(reading.complete),
            reading.sentences,
            int(deferral.defer),
            policy,
            classic,
            gated,
        ]
        for sid, deferral, reading, policy, classic, gated in decided(result, entry, gate, merged)
    }


def by_level(result: dict[str, Any], columns: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per level: each column's mean, and gated minus policy / minus classic-pipeline with standard
    errors (points)."""
    stored = result.get("sample_levels", {})
    ids_by_level: dict[str, list[str]] = defaultdict(list)
    for sid in columns["policy"]:
        ids_by_level[sample_level(sid, stored)].append(sid)
    table = {}
    for level, ids in sorted(ids_by_level.items()):
        row: dict[str, Any] = {"n": len(ids)}
        for name, values in columns.items():
            row[name] = sum(values[i] for i in ids) / len(ids)
        for other in ("policy", CLASSIC):
            mean, se = mean_and_se([columns["gated"][i] - columns[other][i] for i in ids])
            row[f"gated_minus_{other}_points"] = [round(100 * mean, 2), round(100 * se, 2)]
        table[level] = row
    return table


def level_mean(table: dict[str, dict[str, Any]], column: str) -> float:
    """The mean over levels (each level weighs the same)."""
    return sum(row[column] for row in table.values()) / len(table)


def choose(select: dict[str, Any], entry: str, single_sentence: bool) -> tuple[Any, list[dict[str, Any]]]:
    """The gate (of the given kind) with the highest mean over levels on ``select``, and the curves
    of both kinds."""
    from imageedit_r1.deferral import DeferralGate

    curve, best, best_score = [], None, None
    for single in (False, True):
        for threshold in THRESHOLDS:
            gate = DeferralGate(threshold, single)
            table = by_level(select, gate_columns(select, entry, gate))
            score = level_mean(table, "gated")
            curve.append({"threshold": threshold, "single_sentence": single, "mean": score, "levels": table})
            if single == single_sentence and (best_score is None or score > best_score + 1e-12):
                best, best_score = gate, score
    return best, curve


def completeness(result: dict[str, Any]) -> dict[str, Any]:
    """How often classic-pipeline is right, by (complete reading, one sentence or more)."""
    from baselines.tools.classical.instructions import read_instruction
    from imageedit_r1.drafts import instruction_of

    classic_index = result["columns"].index(CLASSIC)
    counts: dict[str, list[float]] = defaultdict(list)
    for sid, values in result["per_sample"].items():
        reading = read_instruction(instruction_of(result["prompts"][sid]))
        key = f"{'complete' if reading.complete else 'not complete'}, {'one sentence' if reading.sentences == 1 else 'several sentences'}"
        counts[key].append(values[classic_index])
    return {key: {"n": len(v), "classic_right": sum(v) / len(v)} for key, v in sorted(counts.items())}


def plot_curve(curve: list[dict[str, Any]], path: Path, title: str, chosen: Any) -> None:
    """Per level, the gated greedy plans' synth_exact against the threshold, for both kinds of gate;
    dotted: the policy without a gate; the vertical line: the chosen threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, single in zip(axes, (False, True), strict=True):
        points = [c for c in curve if c["single_sentence"] == single]
        xs = [-p["threshold"] for p in points]
        for level in ("L1", "L2", "L3", "L4"):
            (line,) = ax.plot(
                xs, [p["levels"][level]["gated"] for p in points], marker="o", ms=3, label=level
            )
            ax.axhline(points[0]["levels"][level]["policy"], color=line.get_color(), ls=":", lw=1)
        ax.plot(xs, [p["mean"] for p in points], color="black", lw=2, label="mean of levels")
        if single == chosen.single_sentence:
            ax.axvline(-chosen.threshold, color="grey", ls="--", lw=1, label="chosen")
        ax.set_xscale("log")
        ax.set_xlabel("defer below least-token log-probability (-threshold, log scale)")
        kind = "one-sentence instructions" if single else "all instructions"
        ax.set_title(f"deferring {kind} (dotted: no gate)", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("synth_exact of the gated editor (greedy plans)")
    axes[1].set_ylim(0.35, 1.13)
    axes[1].legend(fontsize=8, loc="upper center", ncol=4)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", type=Path, required=True, help="paired file the gate is chosen on")
    parser.add_argument("--report", type=Path, action="append", default=[], help="paired files to report")
    parser.add_argument("--single-sentence", action="store_true", help="defer one-sentence instructions only")
    parser.add_argument("--entry", default="shipped", help="the checkpoint's column in the files")
    parser.add_argument("--completeness", type=Path, help="a paired file with prompts and classic-pipeline")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plot", type=Path, help="the selection curve as a PNG")
    parser.add_argument("--write-gate", type=Path, help="store the chosen gate in this checkpoint directory")
    parser.add_argument(
        "--sentences",
        action="store_true",
        help="also choose the sentence threshold: plans with sentences taken from the grammar are "
        "executed on their samples (rendered here), for instructions of several sentences",
    )
    parser.add_argument(
        "--tokenizer", help="the policy's tokenizer (default: the entry's checkpoint in the file)"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    def load(path: Path) -> dict[str, Any]:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("prompts", "token_logprobs", *(("plans",) if args.sentences else ())):
            if key not in data:
                raise SystemExit(f"error: {path} has no '{key}': write it with --plans --confidence")
        if args.entry not in data["columns"] or CLASSIC not in data["columns"]:
            raise SystemExit(f"error: {path} lacks the column {args.entry!r} or {CLASSIC!r}")
        return data

    select = load(args.select)
    reports = {str(path): load(path) for path in args.report}
    overlap = [p for p, r in reports.items() if set(r["per_sample"]) & set(select["per_sample"])]
    if overlap:
        raise SystemExit(f"error: {', '.join(overlap)} shares samples with the selection file")
    gate, curve = choose(select, args.entry, args.single_sentence)
    chosen = {
        "rule": "threshold, then sentence threshold: highest mean over levels on the selection file "
        "(ties: nearest 0)",
        "selection": select["what"],
        "selection_file": args.select.name,
        "date": time.strftime("%Y-%m-%d"),
    }
    out: dict[str, Any] = {"gate": {}, "chosen": chosen, "curve": curve, "reports": {}}
    merged: dict[str, dict[str, float]] = {}
    if args.sentences:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or select["entries"][args.entry])
        gate, out["sentence_curve"], values = choose_sentences(
            select, args.entry, gate, tokenizer, args.workers
        )
        merged[str(args.select)] = values[gate.sentence_threshold]
        for path, result in reports.items():
            threshold = (gate.sentence_threshold,)
            merged[path] = sentence_values(result, args.entry, gate, threshold, tokenizer, args.workers)[
                threshold[0]
            ]
    out["gate"] = asdict(gate)
    for path, result in reports.items():
        out["reports"][Path(path).name] = {
            "what": result["what"],
            "levels": by_level(result, gate_columns(result, args.entry, gate, merged.get(path))),
        }
    out["sample_columns"] = [
        "level",
        "least_token_logprob",
        "reading_complete",
        "sentences",
        "deferred",
        args.entry,
        CLASSIC,
        "gated",
    ]
    out["samples"] = {
        Path(path).name: sample_rows(result, args.entry, gate, merged.get(path))
        for path, result in [(str(args.select), select), *reports.items()]
    }
    if args.completeness:
        data = json.loads(args.completeness.read_text(encoding="utf-8"))
        out["completeness"] = {"what": data["what"], "table": completeness(data)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    samples = out.pop("samples")  # one line per sample
    text = json.dumps(out, indent=1)[:-2] + ',\n "samples": {\n'
    text += ",\n".join(
        f"  {json.dumps(name)}: {{\n"
        + ",\n".join(f"   {json.dumps(k)}: {json.dumps(v)}" for k, v in rows.items())
        + "\n  }"
        for name, rows in samples.items()
    )
    args.out.write_text(text + "\n }\n}\n", encoding="utf-8")
    if args.plot:
        plot_curve(curve, args.plot, f"deferral gate, {select['what'].split(',')[0]}", gate)
    if args.write_gate:
        from imageedit_r1.deferral import save_gate

        save_gate(args.write_gate, gate, chosen)
    print("gate:", out["gate"])
    for name, report in out["reports"].items():
        for level, row in report["levels"].items():
            print(name, level, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
