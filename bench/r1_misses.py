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
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def sample_of(sample_id: str) -> Any:
    """The synth-edit sample behind an id such as ``synth-edit/test/00012`` (generator seed 0)."""
    from harness.suites.synth_edit.suite import make_sample

    parts = sample_id.split("/")
    if len(parts) != 3 or parts[0] != "synth-edit" or not parts[2].isdigit():
        raise MissesError(f"{sample_id!r} is not a synth-edit sample id (synth-edit/SPLIT/INDEX)")
    return make_sample(0, parts[1], int(parts[2]))


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
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise MissesError(f"no column {unknown[0]!r}; the file has {', '.join(names)}")
    levels = result.get("sample_levels", {})
    ids = [sid for sid in sorted(result["per_sample"]) if level is None or levels.get(sid) == level]
    if not ids:
        raise MissesError(f"no samples of level {level!r} in the file")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paired", type=Path, help="a paired-evaluation JSON file")
    parser.add_argument("--by", default="action", help=f"one of {', '.join(GROUPINGS)}")
    parser.add_argument("--level", help="only samples of this level, e.g. L1")
    parser.add_argument("--columns", help="C1,C2,...: only these columns (default: all)")
    parser.add_argument("--wording", action="append", default=[], help="PATTERN=LABEL (--by wording)")
    parser.add_argument("--out", type=Path, help="also write the table as JSON")
    args = parser.parse_args(argv)
    try:
        result = json.loads(args.paired.read_text(encoding="utf-8"))
        wordings = [parse_wording(text) for text in args.wording]
        columns = [c for c in args.columns.split(",") if c] if args.columns else None
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
