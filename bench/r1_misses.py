"""Where policies fail: the misses of each column of a paired-evaluation file, grouped by what the
synth-edit generator recorded about each sample.

A paired file (``bench/r1_paired_eval.py``, ``bench/r1_paired_merge.py``) holds each sample's
``synth_exact`` per column. This regenerates the samples from their ids (the suite is
deterministic) and counts, per group, the samples each column missed (value below 1; in an
average column of several seeds, a sample that not every seed solved):

    python bench/r1_misses.py docs/x_paired_test1600.json --level L1 --by action
    python bench/r1_misses.py docs/x_paired_test1600.json --level L1 --by wording \\
        --wording "placed in=placed in" --wording "in place of|instead of=replace idiom"

Groups (``--by``): ``action`` (the program's actions), ``family`` (the phrasing family),
``reference`` (how subjects are referred to), ``wording`` (the first ``--wording
PATTERN=LABEL`` whose regular expression matches the instruction, case-insensitive, else
"other"). The table is printed as Markdown; ``--out`` also writes it as JSON.

``--contrast A,B`` reads plans instead (a file scored with ``r1_paired_eval.py --plans``): the
samples column A solved and column B missed, each with how B's greedy plan differs from A's right
one, counted by kind (:func:`difference`) and listed with both plans (``--show N`` prints the first
N); e.g. what GRPO broke that its SFT start had right:

    python bench/r1_misses.py docs/x_paired_test1600.json --level L4 --contrast sft,grpo --show 5

Several ``--contrast`` pairs (e.g. each seed's start and its GRPO run, both ways) are listed one
after another and their kinds summed in a last table, since one run pair's changes are mostly
run-to-run churn.

``--lengths`` also reads plans: per column, how many sub-edits its greedy plans hold (the mean
over plans that parse) and how many plans are shorter than, as long as, or longer than the
sample's ground-truth program (the generator's ``program``); L4's quantified goals need one
sub-edit per object, so a plan one sub-edit short fails:

    python bench/r1_misses.py docs/x_paired_test1600.json --level L4 --lengths --columns sft,grpo
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

GROUPINGS = ("action", "family", "reference", "wording")


class MissesError(ValueError):
    """An id that is not a synth-edit sample, an unknown column or grouping, a bad --wording."""


def parse_wording(text: str) -> tuple[re.Pattern[str], str]:
    pattern, sep, label = text.rpartition("=")
    if not sep or not pattern or not label:
        raise MissesError(f"a wording is PATTERN=LABEL; got {text!r}")
    try:
        return re.compile(pattern, re.IGNORECASE), label
    except re.error as exc:
        raise MissesError(f"--wording {text!r}: not a regular expression ({exc})") from None


class GeneratedSample(NamedTuple):
    """What the groupings read of a synth-edit sample: its instruction, category and metadata."""

    instruction: str
    category: str
    metadata: dict[str, Any]


def sample_of(sample_id: str) -> GeneratedSample:
    """The synth-edit sample behind an id such as ``synth-edit/test/00012`` (generator seed 0),
    from the generator's edit, without rendering its images."""
    from harness.suites.synth_edit.suite import sample_edit, sample_metadata

    parts = sample_id.split("/")
    if len(parts) != 3 or parts[0] != "synth-edit" or not parts[2].isdigit():
        raise MissesError(f"{sample_id!r} is not a synth-edit sample id (synth-edit/SPLIT/INDEX)")
    split, index = parts[1], int(parts[2])
    edit = sample_edit(0, split, index)
    return GeneratedSample(edit.instruction, edit.category, sample_metadata(edit, 0, split, index))


def grouper(by: str, wordings: list[tuple[re.Pattern[str], str]]) -> Callable[[Any], str]:
    if by not in GROUPINGS:
        raise MissesError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    if by == "wording" and not wordings:
        raise MissesError("--by wording needs at least one --wording PATTERN=LABEL")

    def group(sample: Any) -> str:
        meta = sample.metadata or {}
        if by == "action":
            program = meta.get("program") or []
            return "+".join(sorted({step["action"] for step in program})) or str(sample.category)
        if by == "family":
            return str(meta.get("phrasing_family", "?"))
        if by == "reference":
            return "+".join(sorted(set(meta.get("reference_types") or []))) or "none"
        return next((label for pattern, label in wordings if pattern.search(sample.instruction)), "other")

    return group


def check_columns(names: list[str], chosen: list[str]) -> None:
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise MissesError(f"no column {unknown[0]!r}; the file has {', '.join(names)}")


def sample_ids(result: dict[str, Any], level: str | None) -> list[str]:
    """The file's sample ids of ``level`` (all with None), sorted; refused when there are none."""
    levels = result.get("sample_levels", {})
    ids = [sid for sid in sorted(result["per_sample"]) if level is None or levels.get(sid) == level]
    if not ids:
        raise MissesError(f"no samples of level {level!r} in the file")
    return ids


def misses(
    result: dict[str, Any],
    group: Callable[[Any], str],
    level: str | None = None,
    columns: list[str] | None = None,
    sample_for: Callable[[str], Any] = sample_of,
) -> dict[str, Any]:
    """{"columns", "groups": {group: {"n": samples, column: misses}}, "total": {...}}."""
    names = list(result["columns"])
    chosen = columns or names
    check_columns(names, chosen)
    ids = sample_ids(result, level)
    sizes: Counter[str] = Counter()
    missed: dict[str, Counter[str]] = {c: Counter() for c in chosen}
    for sid in ids:
        name = group(sample_for(sid))
        sizes[name] += 1
        row = result["per_sample"][sid]
        for column in chosen:
            if row[names.index(column)] < 1:
                missed[column][name] += 1
    order = sorted(sizes, key=lambda g: (-sizes[g], g))
    groups = {g: {"n": sizes[g], **{c: missed[c][g] for c in chosen}} for g in order}
    total = {"n": len(ids), **{c: sum(missed[c].values()) for c in chosen}}
    return {"columns": chosen, "level": level, "groups": groups, "total": total}


def markdown(table: dict[str, Any], by: str) -> str:
    columns = table["columns"]
    lines = [f"| {by} (samples) | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in [*table["groups"].items(), ("all", table["total"])]:
        cells = " | ".join(str(row[c]) for c in columns)
        lines.append(f"| {name} ({row['n']}) | {cells} |")
    return "\n".join(lines)


KINDS = ("unparsed", "fewer sub-edits", "more sub-edits", "same", "order", "action", "subject", "goal")
FIELDS = ("action", "subject", "goal")


def difference(right: Any, wrong: Any) -> str:
    """How a wrong plan differs from a right plan of the same sample (parsed plans,
    ``imageedit_r1.plan.parse_plan``): the first of :data:`KINDS` that applies. ``order``: the same
    sub-edits in another order; ``action`` / ``subject`` / ``goal``: as many sub-edits, and the
    first field that differs somewhere is of that kind. ``same`` when the plans agree (the miss
    came from execution, not the plan)."""
    if not wrong.ok:
        return "unparsed"
    a, b = list(right.subedits), list(wrong.subedits)
    if len(b) != len(a):
        return "fewer sub-edits" if len(b) < len(a) else "more sub-edits"
    if a == b:
        return "same"
    if sorted(a, key=repr) == sorted(b, key=repr):
        return "order"
    return next(f for f in FIELDS if [getattr(x, f) for x in a] != [getattr(x, f) for x in b])


def ranked(counts: Counter[str]) -> dict[str, int]:
    """``counts`` as a dict, the largest first (ties by name)."""
    return {k: counts[k] for k in sorted(counts, key=lambda k: (-counts[k], k))}


def plans_of(result: dict[str, Any], columns: list[str]) -> dict[str, dict[str, str]]:
    """The file's greedy plans (column -> sample id -> text); refused for an unknown column or a
    column scored without ``--plans``."""
    check_columns(list(result["columns"]), columns)
    plans = result.get("plans") or {}
    lacking = [c for c in columns if c not in plans]
    if lacking:
        raise MissesError(
            f"the file has no plans of {lacking[0]!r}: score it with bench/r1_paired_eval.py --plans"
        )
    return plans


def lengths(
    result: dict[str, Any],
    level: str | None = None,
    columns: list[str] | None = None,
    sample_for: Callable[[str], Any] = sample_of,
) -> dict[str, Any]:
    """Per column, the greedy plans' number of sub-edits against each sample's ground-truth
    program: {"columns", "level", "n", "truth_mean", "rows": {column: {"unparsed", "mean",
    "shorter", "as_long", "longer"}}}; "mean" is over the plans that parse (None if none do)."""
    from imageedit_r1.plan import parse_plan

    chosen = columns or list(result["columns"])
    plans = plans_of(result, chosen)
    ids = sample_ids(result, level)
    truth = {sid: len((sample_for(sid).metadata or {}).get("program") or []) for sid in ids}
    rows = {}
    for column in chosen:
        counts: Counter[str] = Counter()
        sizes = []
        for sid in ids:
            parsed = parse_plan(plans[column].get(sid, ""))
            if not parsed.ok:
                counts["unparsed"] += 1
                continue
            size = len(parsed.subedits)
            sizes.append(size)
            counts["shorter" if size < truth[sid] else "longer" if size > truth[sid] else "as_long"] += 1
        mean = sum(sizes) / len(sizes) if sizes else None
        rows[column] = {"mean": mean, **{k: counts[k] for k in ("unparsed", "shorter", "as_long", "longer")}}
    truth_mean = sum(truth.values()) / len(ids)
    return {"columns": chosen, "level": level, "n": len(ids), "truth_mean": truth_mean, "rows": rows}


def lengths_markdown(table: dict[str, Any]) -> str:
    lines = [
        f"{table['n']} samples; their ground-truth programs hold {table['truth_mean']:.2f} sub-edits on average",
        "",
        "| column | mean sub-edits (parsed plans) | shorter | as long | longer | unparsed |",
        "|---|---|---|---|---|---|",
    ]
    for column, row in table["rows"].items():
        mean = "-" if row["mean"] is None else f"{row['mean']:.2f}"
        lines.append(
            f"| {column} | {mean} | {row['shorter']} | {row['as_long']} | {row['longer']} | {row['unparsed']} |"
        )
    return "\n".join(lines)


def contrast(
    result: dict[str, Any],
    solved_by: str,
    missed_by: str,
    level: str | None = None,
    sample_for: Callable[[str], Any] = sample_of,
) -> dict[str, Any]:
    """The samples ``solved_by`` solved and ``missed_by`` missed, with the kind of each difference
    of the plans: {"columns", "level", "kinds": {kind: n}, "samples": [...]}."""
    from imageedit_r1.plan import parse_plan

    names = list(result["columns"])
    plans = plans_of(result, [solved_by, missed_by])
    ids = sample_ids(result, level)
    a, b = names.index(solved_by), names.index(missed_by)
    kinds: Counter[str] = Counter()
    samples = []
    for sid in ids:
        row = result["per_sample"][sid]
        if not (row[a] >= 1 and row[b] < 1):
            continue
        right, wrong = plans[solved_by].get(sid, ""), plans[missed_by].get(sid, "")
        kind = difference(parse_plan(right), parse_plan(wrong))
        kinds[kind] += 1
        instruction = sample_for(sid).instruction
        samples.append(
            {"id": sid, "kind": kind, "instruction": instruction, solved_by: right, missed_by: wrong}
        )
    return {
        "columns": [solved_by, missed_by],
        "level": level,
        "n": len(ids),
        "kinds": ranked(kinds),
        "samples": samples,
    }


def contrast_total(tables: list[dict[str, Any]]) -> dict[str, Any]:
    """The kinds of several contrasts summed: {"pairs": [[A, B], ...], "samples": how many each
    pair listed, "kinds": {kind: n}} (kinds by count, then name)."""
    kinds: Counter[str] = Counter()
    for table in tables:
        kinds.update(table["kinds"])
    return {
        "pairs": [table["columns"] for table in tables],
        "samples": [len(table["samples"]) for table in tables],
        "kinds": ranked(kinds),
    }


def total_markdown(total: dict[str, Any]) -> str:
    pairs = ", ".join(
        f"{a} right / {b} wrong ({n})" for (a, b), n in zip(total["pairs"], total["samples"], strict=True)
    )
    return "\n".join(
        [
            f"all {len(total['pairs'])} contrasts: {pairs}",
            "",
            "| how the wrong plan differs | samples |",
            "|---|---|",
            *[f"| {kind} | {n} |" for kind, n in total["kinds"].items()],
        ]
    )


def contrast_markdown(table: dict[str, Any], show: int = 0) -> str:
    solved_by, missed_by = table["columns"]
    total = sum(table["kinds"].values())
    lines = [
        f"{total} of {table['n']} samples: {solved_by} right, {missed_by} wrong",
        "",
        f"| how {missed_by}'s plan differs | samples |",
        "|---|---|",
        *[f"| {kind} | {n} |" for kind, n in table["kinds"].items()],
    ]
    for sample in table["samples"][:show]:
        lines += [
            "",
            f"{sample['id']} ({sample['kind']}): {sample['instruction']}",
            f"  {solved_by}: {sample[solved_by].strip()}",
            f"  {missed_by}: {sample[missed_by].strip()}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paired", type=Path, help="a paired-evaluation JSON file")
    parser.add_argument("--by", default="action", help=f"one of {', '.join(GROUPINGS)}")
    parser.add_argument("--level", help="only samples of this level, e.g. L1")
    parser.add_argument("--columns", help="C1,C2,...: only these columns (default: all)")
    parser.add_argument("--wording", action="append", default=[], help="PATTERN=LABEL (--by wording)")
    parser.add_argument("--out", type=Path, help="also write the table as JSON")
    parser.add_argument(
        "--contrast",
        action="append",
        default=[],
        help="A,B: the samples A solved and B missed, by how the plans differ (repeat to sum several pairs)",
    )
    parser.add_argument("--show", type=int, default=0, help="with --contrast: print the first N samples")
    parser.add_argument(
        "--lengths", action="store_true", help="the plans' numbers of sub-edits against the true programs'"
    )
    args = parser.parse_args(argv)
    try:
        result = json.loads(args.paired.read_text(encoding="utf-8"))
        columns = [c for c in args.columns.split(",") if c] if args.columns else None
        if args.lengths:
            table = lengths(result, args.level, columns)
            print(lengths_markdown(table))
            if args.out:
                args.out.write_text(json.dumps(table, indent=1), encoding="utf-8")
            return 0
        if args.contrast:
            tables = []
            for text in args.contrast:
                pair = [c for c in text.split(",") if c]
                if len(pair) != 2:
                    raise MissesError(f"--contrast takes two columns A,B; got {text!r}")
                tables.append(contrast(result, pair[0], pair[1], args.level))
            texts = [contrast_markdown(table, args.show) for table in tables]
            saved: Any = tables[0]
            if len(tables) > 1:
                total = contrast_total(tables)
                texts.append(total_markdown(total))
                saved = {"contrasts": tables, "total": total}
            print("\n\n".join(texts))
            if args.out:
                args.out.write_text(json.dumps(saved, indent=1), encoding="utf-8")
            return 0
        wordings = [parse_wording(text) for text in args.wording]
        table = misses(result, grouper(args.by, wordings), args.level, columns)
    except (OSError, json.JSONDecodeError, KeyError, MissesError) as exc:
        print(f"error: {exc}")
        return 2
    print(markdown(table, args.by))
    if args.out:
        args.out.write_text(json.dumps({"by": args.by, **table}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
