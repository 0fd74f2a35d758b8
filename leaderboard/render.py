"""Render board rows to CSV and Markdown (the JSONL store is the source of truth)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields

from leaderboard.cells import BoardRow

CSV_COLUMNS = [f.name for f in fields(BoardRow)]


def fmt_value(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}"


def fmt_ci(row: BoardRow) -> str:
    if row.ci_low is None or row.ci_high is None:
        return fmt_value(row.value)
    return f"{fmt_value(row.value)} [{fmt_value(row.ci_low)}, {fmt_value(row.ci_high)}]"


def fmt_rank(row: BoardRow, rows: Sequence[BoardRow]) -> str:
    if row.reference:
        return "ref"
    if row.rank is None:
        return ""
    shared = sum(1 for other in rows if other.rank == row.rank and not other.reference)
    return f"{row.rank}=" if shared > 1 else str(row.rank)


def ranking_order(rows: Iterable[BoardRow]) -> list[BoardRow]:
    """Ranked rows first (by rank, then value in the metric's direction), reference rows last."""

    def order(row: BoardRow) -> tuple[int, int, float, str]:
        value = row.value if row.value is not None else -math.inf
        signed = -value if row.higher_is_better else value
        return (1 if row.reference else 0, row.rank or 10**6, signed, row.editor)

    return sorted(rows, key=order)


def rows_to_csv(rows: Sequence[BoardRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        data = asdict(row)
        data["tied_with"] = ";".join(row.tied_with)
        writer.writerow(data)
    return buffer.getvalue()


def rows_to_jsonl(rows: Sequence[BoardRow]) -> str:
    return "".join(json.dumps(asdict(r), sort_keys=True, allow_nan=False) + "\n" for r in rows)


def md_cell(text: object) -> str:
    """Markdown table cell text: pipes and angle brackets escaped so names stay text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def headline_tables(rows: Sequence[BoardRow]) -> dict[tuple[str, str, str, str], list[BoardRow]]:
    """Group rows of the ``all`` group by (suite, version, split, metric)."""
    tables: dict[tuple[str, str, str, str], list[BoardRow]] = defaultdict(list)
    for row in rows:
        if row.group == "all" and row.aggregation == "micro":
            tables[(row.suite, row.suite_version, row.split, row.metric)].append(row)
    return tables


def rows_to_markdown(rows: Sequence[BoardRow], *, smoke_excluded: int = 0) -> str:
    lines = ["# Leaderboard", ""]
    lines.append(
        "Value = strict mean (a failed sample counts as the metric's worst value) with a bootstrap "
        "95% CI. Rank = 1 + the number of editors significantly better (paired bootstrap over shared "
        "samples, p < 0.05); `2=` marks a shared rank. `ref` rows are references, not ranked."
    )
    if smoke_excluded:
        lines += ["", f"{smoke_excluded} records computed with random (smoke) weights were excluded."]
    for (suite, version, split, metric), table in sorted(headline_tables(rows).items()):
        arrow = "higher is better" if table[0].higher_is_better else "lower is better"
        lines += [
            "",
            f"## {md_cell(suite)} {md_cell(version)} / {md_cell(split)} — {md_cell(metric)} ({arrow})",
            "",
        ]
        lines.append(
            "| rank | editor | value [95% CI] | valid-only | coverage | n | cost $ | median s | judge "
            "| provenance | not sig. different from |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        ordered = ranking_order(table)
        for row in ordered:
            coverage = f"{row.coverage:.0%}" if row.coverage is not None else "–"
            lines.append(
                "| "
                + " | ".join(
                    md_cell(x)
                    for x in (
                        fmt_rank(row, ordered),
                        row.editor,
                        fmt_ci(row),
                        fmt_value(row.valid_mean),
                        coverage,
                        row.n,
                        f"{row.cost_usd:.4f}",
                        fmt_value(row.median_latency_s),
                        row.judge_model or "–",
                        row.provenance,
                        ", ".join(row.tied_with) or "–",
                    )
                )  # fmt: skip
                + " |"
            )
        lines += breakdown_markdown(rows, suite, version, split, metric)
    return "\n".join(lines) + "\n"


def breakdown_markdown(
    rows: Sequence[BoardRow], suite: str, version: str, split: str, metric: str
) -> list[str]:
    """Editor x level and editor x category tables of strict means for one metric."""
    out: list[str] = []
    for prefix in ("level=", "category="):
        cells = [
            r
            for r in rows
            if (r.suite, r.suite_version, r.split, r.metric) == (suite, version, split, metric)
            and r.group.startswith(prefix)
        ]
        if not cells:
            continue
        groups = sorted({r.group[len(prefix) :] for r in cells})
        editors = sorted({r.editor for r in cells})
        value = {(r.editor, r.group[len(prefix) :]): r.value for r in cells}
        out += ["", f"By {prefix[:-1]}:", ""]
        out.append("| editor | " + " | ".join(md_cell(g) for g in groups) + " |")
        out.append("|---" * (len(groups) + 1) + "|")
        for editor in editors:
            out.append(
                f"| {md_cell(editor)} | "
                + " | ".join(fmt_value(value.get((editor, g))) for g in groups)
                + " |"
            )
    return out
