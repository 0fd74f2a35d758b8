"""Join paired-evaluation files of the same samples into one table, and draw the differences.

Runs evaluated in different `bench/r1_paired_eval.py` calls on the same test samples (same ids)
are still paired: this joins their columns, recomputes every difference against the first column
and draws each column's per-level difference with its standard error:

    python bench/r1_paired_merge.py docs/a.json docs/b.json --reference sft \\
        --out docs/merged.json --plot docs/merged_differences.png

A column name that occurs in several files is taken from the first; files whose sample ids differ
are refused with one line. ``--average NAME=C1,C2,C3`` adds a column holding each sample's mean of
those columns (e.g. the seeds of one setting), paired against the reference like the others.
``--gain NAME=TO,FROM`` adds a column holding each sample's change from FROM to TO (e.g. what a
training stage added to its starting checkpoint); with one gain as the reference, another gain's
difference from it compares the two changes sample by sample:

    python bench/r1_paired_merge.py docs/a.json --gain grpo=grpo,sft --gain more_sft=sft_long,sft \
        --reference more_sft --out docs/gains.json
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


class MergeError(ValueError):
    """The files do not hold the same samples, or the reference column is missing."""


def merge(
    results: list[dict[str, Any]],
    reference: str | None = None,
    averages: dict[str, list[str]] | None = None,
    gains: dict[str, tuple[str, str]] | None = None,
    keep: list[str] | None = None,
) -> dict[str, Any]:
    """One result with the columns of all ``results``; ``reference`` (default: the first file's
    first column) comes first, so every difference is taken against it. ``averages`` maps a new
    column name to the columns whose per-sample mean it holds; ``gains`` maps a new column name to
    (TO, FROM): each sample's TO value minus its FROM value. Either may use the other's columns (a
    gain of averages, an average of gains); a name that is never made is refused. ``keep``, when
    given, lists the only columns kept beside the reference (after averages and gains are made)."""
    ids = sorted(results[0]["per_sample"])
    values: dict[str, dict[str, float]] = {}
    for result in results:
        if sorted(result["per_sample"]) != ids:
            raise MergeError(
                f"{result.get('what', 'a file')} holds other samples than {results[0].get('what')}"
            )
        for name in result["columns"]:
            if name not in values:
                values[name] = paired_eval.column(result, name)
    derived = [("average", name, list(columns)) for name, columns in (averages or {}).items()]
    derived += [("gain", name, [to, start]) for name, (to, start) in (gains or {}).items()]
    while derived:  # each derived column once its inputs exist: an average of gains, a gain of averages
        ready = [item for item in derived if item[2] and all(c in values for c in item[2])]
        if not ready:
            kind, name, columns = derived[0]
            missing = [c for c in columns if c not in values]
            raise MergeError(f"--{kind} {name}: no column {', '.join(missing) or '(none given)'}")
        for item in ready:
            kind, name, columns = item
            if kind == "average":
                values[name] = {sid: sum(values[c][sid] for c in columns) / len(columns) for sid in ids}
            else:
                values[name] = {sid: values[columns[0]][sid] - values[columns[1]][sid] for sid in ids}
            derived.remove(item)
    names = list(values)
    reference = reference or names[0]
    if reference not in values:
        raise MergeError(f"no column {reference!r}; the files have {', '.join(names)}")
    names = [reference] + [name for name in names if name != reference]
    if keep:
        missing = [c for c in keep if c not in values]
        if missing:
            raise MergeError(f"--keep: no column {', '.join(missing)}")
        names = [reference] + [name for name in keep if name != reference]
    levels: dict[str, str] = {}
    for result in results:
        levels.update(result.get("sample_levels", {}))
    levels = {sid: paired_eval.sample_level(sid, levels) for sid in ids}
    plans: dict[str, dict[str, str]] = {}  # greedy plans (r1_paired_eval.py --plans) of the kept columns
    for result in results:
        for name, texts in result.get("plans", {}).items():
            if name in names:
                plans.setdefault(name, texts)
    merged = {
        "what": results[0].get("what", ""),
        "merged_from": [result.get("entries", {}) for result in results],
        "averages": dict(averages or {}),
        "gains": {name: list(pair) for name, pair in (gains or {}).items()},
        "levels": paired_eval.paired_levels(values, levels, names),
        "per_sample": {sid: [values[name][sid] for name in names] for sid in ids},
        "sample_levels": levels,
        "columns": names,
    }
    if plans:
        merged["plans"] = plans
    prompts = next((result["prompts"] for result in results if "prompts" in result), None)
    if prompts:
        merged["prompts"] = prompts  # the samples' prompts: one set, since the files share samples
    return merged


def column_colors(count: int) -> list:
    """Distinct colours for ``count`` columns: matplotlib's 10-colour cycle repeats after ten."""
    from matplotlib import colormaps

    palette = colormaps["tab10" if count <= 10 else "tab20"]
    return [palette(k % palette.N) for k in range(count)]


def plot_differences(result: dict[str, Any], path: Path, title: str) -> None:
    """Per level, each column's mean difference from the first column (in points) with +-1
    standard error of the paired difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first, others = result["columns"][0], result["columns"][1:]
    levels = [level for level in sorted(result["levels"]) if level != "all"] + ["all"]
    width = 0.8 / max(len(others), 1)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    colors = column_colors(len(others))
    for k, name in enumerate(others):
        rows = [result["levels"][level] for level in levels]
        means = [100 * row[f"{name}_minus_{first}"] for row in rows]
        errors = [100 * row[f"{name}_minus_{first}_se"] for row in rows]
        xs = [i + (k - (len(others) - 1) / 2) * width for i in range(len(levels))]
        ax.errorbar(xs, means, yerr=errors, fmt="o", capsize=3, label=name, color=colors[k])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(levels)), levels)
    ax.set_ylabel(f"synth_exact minus {first} (points, +-1 s.e.)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_means(result: dict[str, Any], path: Path, title: str) -> None:
    """Per level, each column's mean (in points) with +-1 standard error of that mean: for gain
    columns, each change with the standard error of that paired change."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = result["columns"]
    levels = sorted(set(result["sample_levels"].values())) + ["all"]
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(9, 4.2))
    colors = column_colors(len(names))
    for k, name in enumerate(names):
        means, errors = [], []
        for level in levels:
            values = [
                row[k]
                for sid, row in result["per_sample"].items()
                if level == "all" or result["sample_levels"][sid] == level
            ]
            mean, se = paired_eval.mean_and_se(values)
            means.append(100 * mean)
            errors.append(100 * se)
        xs = [i + (k - (len(names) - 1) / 2) * width for i in range(len(levels))]
        ax.bar(xs, means, width=width * 0.9, yerr=errors, capsize=3, label=name, color=colors[k])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(levels)), levels)
    ax.set_ylabel("mean (points, +-1 s.e.)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--reference", help="the column every difference is taken against")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plot", type=Path, help="draw the per-level differences as this PNG")
    parser.add_argument(
        "--plot-means", type=Path, help="draw each column's per-level mean and its s.e. as this PNG"
    )
    parser.add_argument("--title", help="the picture's title (default: the samples' description)")
    parser.add_argument(
        "--average", action="append", default=[], help="NAME=C1,C2,...: a column of their per-sample mean"
    )
    parser.add_argument(
        "--gain", action="append", default=[], help="NAME=TO,FROM: a column of each sample's TO minus FROM"
    )
    parser.add_argument("--keep", default="", help="C1,C2,...: keep only these columns beside the reference")
    args = parser.parse_args()
    averages = {}
    for item in args.average:
        name, _, columns = item.partition("=")
        averages[name] = [c for c in columns.split(",") if c]
    gains = {}
    for item in args.gain:
        name, _, pair = item.partition("=")
        columns = [c for c in pair.split(",") if c]
        if len(columns) != 2:
            raise SystemExit(f"error: --gain {item}: expected NAME=TO,FROM")
        gains[name] = (columns[0], columns[1])
    try:
        result = merge(
            [json.loads(f.read_text(encoding="utf-8")) for f in args.files],
            args.reference,
            averages,
            gains,
            [c for c in args.keep.split(",") if c],
        )
    except MergeError as exc:
        raise SystemExit(f"error: {exc}") from None
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.plot:
        plot_differences(result, args.plot, args.title or result["what"])
    if args.plot_means:
        plot_means(result, args.plot_means, args.title or result["what"])
    for level, row in result["levels"].items():
        print(level, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})


if __name__ == "__main__":
    main()
