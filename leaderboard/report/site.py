"""Write the static report site: ``index.html`` plus ``img/`` with only the images it shows.

Every piece of text from records (editor names, instructions, errors) is HTML-escaped here or
set with ``textContent`` by the gallery script, so hostile text stays text.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from html import escape
from pathlib import Path

from leaderboard.cells import BoardRow, BoardTable
from leaderboard.render import fmt_rank, fmt_value, headline_tables, ranking_order
from leaderboard.report.gallery import GalleryItem, ImageCopier, gallery_items, items_json
from leaderboard.report.plots import Point, bars_svg, scatter_svg
from leaderboard.rundir import RunData, RunDirError, is_run_dir, load_run
from leaderboard.store import Board, build_table

ASSETS = Path(__file__).parent  # report.css and report.js ship beside this module (package data)


def load_source(path: str | os.PathLike[str]) -> list[RunData]:
    """A run directory or a board directory, as a list of runs."""
    if Board.is_board(path):
        runs = Board(path).runs()
        if not runs:
            raise RunDirError(
                f"{path}: the board holds no runs yet; add one with 'ieval leaderboard add BUNDLE'"
            )
        return runs
    if is_run_dir(path):
        return [load_run(path)]
    raise RunDirError(f"{path}: neither a run directory (manifest.json, records.jsonl) nor a board (runs/)")


def write_report(source: str | os.PathLike[str], out: str | os.PathLike[str], *, title: str = "") -> Path:
    """Build the site for a run or board directory at ``out``; return the path of index.html."""
    runs = load_source(source)
    table = build_table(runs)
    copier = ImageCopier()
    items = gallery_items(runs, copier)
    out = Path(out)
    if (out / "img").is_dir():
        shutil.rmtree(out / "img")
    out.mkdir(parents=True, exist_ok=True)
    copier.copy_all(out)
    html = render_page(runs, table, items, title=title or f"ieval report: {Path(source).name}")
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def primary_metrics(runs: Sequence[RunData], table: BoardTable) -> dict[str, str]:
    """suite -> the metric its report section ranks by, with the rule of the run's console summary
    and leaderboard.md (``harness.aggregate.choose_ranking_metric``); a later run's declaration wins."""
    from harness.aggregate import choose_ranking_metric

    declared: dict[str, str] = {}
    for run in runs:
        found = run.manifest.get("primary_metrics", {})
        if isinstance(found, dict):
            declared.update({str(k): str(v) for k, v in found.items()})
    metrics: dict[str, set[str]] = defaultdict(set)
    scored: dict[str, set[str]] = defaultdict(set)
    for row in table.rows:
        metrics[row.suite].add(row.metric)
        if row.value is not None:
            scored[row.suite].add(row.metric)
    return {
        suite: choose_ranking_metric(names, scored[suite], declared.get(suite))
        for suite, names in metrics.items()
    }


def render_page(
    runs: Sequence[RunData], table: BoardTable, items: Sequence[GalleryItem], *, title: str
) -> str:
    primary = primary_metrics(runs, table)
    failures = sum(1 for i in items if i.failed)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{(ASSETS / 'report.css').read_text(encoding='utf-8')}</style>",
        "</head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="summary">'
        + escape(
            f"{len(runs)} run(s) · {len({i.editor for i in items})} editors · {len({i.suite for i in items})} suites"
            f" · {len(items)} edits · {failures} failed"
            + (f" · {table.smoke_excluded} smoke records excluded" if table.smoke_excluded else "")
        )
        + (' <button type="button" data-show-failures="1">show failures</button>' if failures else "")
        + "</p>",
        '<nav><a href="#ranking">Ranking</a> · <a href="#plots">Plots</a> · <a href="#breakdowns">Breakdowns</a>'
        ' · <a href="#failures">Failures</a> · <a href="#gallery">Gallery</a></nav>',
        ranking_section(table, primary),
        plots_section(table, primary),
        breakdown_section(table, primary),
        failures_section(items),
        gallery_section(items),
        f'<script type="application/json" id="gallery-data">{items_json(items)}</script>',
        f"<script>{(ASSETS / 'report.js').read_text(encoding='utf-8')}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _ordered_tables(
    table: BoardTable, primary: dict[str, str]
) -> list[tuple[tuple[str, str, str, str], list[BoardRow]]]:
    tables = headline_tables(table.rows)
    return sorted(tables.items(), key=lambda kv: (kv[0][0], primary.get(kv[0][0]) != kv[0][3], kv[0]))


def ranking_section(table: BoardTable, primary: dict[str, str]) -> str:
    out = [
        '<section id="ranking"><h2>Ranking</h2>',
        "<p>Value = strict mean (failures count as the metric's worst value) with a bootstrap 95% CI. "
        "Rank = 1 + the number of editors significantly better (paired bootstrap over shared samples, "
        "p &lt; 0.05); <b>2=</b> marks a shared rank. Reference rows are shown, not ranked.</p>",
    ]
    for (suite, version, split, metric), rows in _ordered_tables(table, primary):
        arrow = "↑ higher is better" if rows[0].higher_is_better else "↓ lower is better"
        star = " (primary)" if primary.get(suite) == metric else ""
        out.append(
            f"<h3>{escape(suite)} {escape(version)} / {escape(split)} — {escape(metric)}{star} {arrow}</h3>"
        )
        out.append(
            f'<table class="ranking" data-suite="{escape(suite)}" data-metric="{escape(metric)}"><thead><tr>'
            "<th>rank</th><th>editor</th><th>value [95% CI]</th><th>valid-only</th><th>coverage</th><th>n</th>"
            "<th>cost $/sample</th><th>median s</th><th>judge</th><th>provenance</th>"
            "<th>not sig. different from</th></tr></thead><tbody>"
        )
        ordered = ranking_order(rows)
        for row in ordered:
            ci = (
                f'<span class="ci">[{fmt_value(row.ci_low)}, {fmt_value(row.ci_high)}]</span>'
                if row.ci_low is not None
                else ""
            )
            coverage = f"{row.coverage:.0%}" if row.coverage is not None else "–"
            per_sample = row.cost_usd / row.n if row.n else 0.0
            out.append(
                f'<tr class="rank-row{" reference" if row.reference else ""}" data-editor="{escape(row.editor)}">'
                f"<td>{escape(fmt_rank(row, ordered))}</td><td>{escape(row.editor)}</td>"
                f'<td class="num">{fmt_value(row.value)} {ci}</td><td class="num">{fmt_value(row.valid_mean)}</td>'
                f'<td class="num">{coverage}</td><td class="num">{row.n}</td><td class="num">{per_sample:.4f}</td>'
                f'<td class="num">{fmt_value(row.median_latency_s)}</td><td>{escape(row.judge_model or "–")}</td>'
                f'<td class="prov-{escape(row.provenance)}">{escape(row.provenance)}</td>'
                f"<td>{escape(', '.join(row.tied_with) or '–')}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def plots_section(table: BoardTable, primary: dict[str, str]) -> str:
    out = ['<section id="plots"><h2>Plots</h2><div class="plots">']
    for (suite, _version, split, metric), rows in _ordered_tables(table, primary):
        if primary.get(suite) != metric:
            continue
        ordered = ranking_order(rows)
        points = [
            Point(
                r.editor, r.cost_usd / r.n if r.n else 0.0, r.value or 0.0, r.ci_low, r.ci_high, r.reference
            )
            for r in ordered
            if r.value is not None
        ]
        out.append(
            scatter_svg(
                points,
                title=f"{suite}/{split}: {metric} vs cost",
                x_label="cost per sample (USD)",
                y_label=metric,
            )
        )
        levels = sorted(
            {
                r.group[6:]
                for r in table.rows
                if r.suite == suite and r.metric == metric and r.group.startswith("level=")
            }
        )
        if levels:
            value = {(r.editor, r.group[6:]): r.value for r in table.rows
                     if r.suite == suite and r.split == split and r.metric == metric and r.group.startswith("level=")}  # fmt: skip
            series = [(r.editor, [value.get((r.editor, lv)) for lv in levels]) for r in ordered]
            out.append(bars_svg(levels, series, title=f"{suite}/{split}: {metric} by level", y_label=metric))
    out.append("</div></section>")
    return "\n".join(out)


def breakdown_section(table: BoardTable, primary: dict[str, str]) -> str:
    out = ['<section id="breakdowns"><h2>Breakdowns by level and category</h2>']
    for (suite, version, split, metric), rows in _ordered_tables(table, primary):
        opened = " open" if primary.get(suite) == metric else ""
        out.append(
            f"<details{opened}><summary>{escape(suite)} / {escape(split)} — {escape(metric)}</summary>"
        )
        editors = [r.editor for r in ranking_order(rows)]
        for prefix in ("level=", "category="):
            cells = {(r.editor, r.group[len(prefix):]): r for r in table.rows
                     if (r.suite, r.suite_version, r.split, r.metric) == (suite, version, split, metric)
                     and r.group.startswith(prefix)}  # fmt: skip
            groups = sorted({g for _, g in cells})
            if not groups:
                continue
            out.append(f'<table class="breakdown" data-by="{prefix[:-1]}"><thead><tr><th>editor</th>')
            out.append("".join(f"<th>{escape(g)}</th>" for g in groups) + "</tr></thead><tbody>")
            for editor in editors:
                tds = []
                for g in groups:
                    cell = cells.get((editor, g))
                    tip = f' title="n={cell.n}, coverage {cell.coverage or 0:.0%}"' if cell else ""
                    tds.append(f'<td class="num"{tip}>{fmt_value(cell.value if cell else None)}</td>')
                out.append(f"<tr><td>{escape(editor)}</td>{''.join(tds)}</tr>")
            out.append("</tbody></table>")
        out.append("</details>")
    out.append("</section>")
    return "\n".join(out)


def failures_section(items: Sequence[GalleryItem]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        if item.failed:
            counts[item.editor][item.status] += 1
    out = ['<section id="failures"><h2>Failures</h2>']
    if not counts:
        out.append("<p>No failed edits or scores.</p></section>")
        return "\n".join(out)
    statuses = sorted({s for c in counts.values() for s in c})
    out.append(
        '<table class="failures"><thead><tr><th>editor</th>'
        + "".join(f"<th>{escape(s)}</th>" for s in statuses)
    )
    out.append("<th></th></tr></thead><tbody>")
    for editor, counter in sorted(counts.items()):
        tds = "".join(f'<td class="num">{counter.get(s, 0)}</td>' for s in statuses)
        out.append(
            f'<tr><td>{escape(editor)}</td>{tds}<td><button type="button" data-show-failures="1" '
            f'data-editor="{escape(editor)}">show</button></td></tr>'
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def gallery_section(items: Sequence[GalleryItem]) -> str:
    filters = "".join(
        f'<label>{label} <select id="filter-{key}" data-filter="{key}"><option value="">all</option></select></label>'
        for key, label in (("suite", "suite"), ("editor", "editor"), ("level", "level"), ("status", "status"))
    )
    return (
        '<section id="gallery"><h2>Gallery</h2>'
        f'<div class="filters">{filters}<span id="gallery-count"></span>'
        '<button type="button" id="gallery-prev">‹ prev</button><span id="gallery-page"></span>'
        '<button type="button" id="gallery-next">next ›</button></div>'
        '<div id="gallery-grid"></div></section>'
    )
