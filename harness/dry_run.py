"""``ieval run --dry-run``: per editor, the calls a run would make, the cache hits and the cost."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from harness.cache import Cache, edit_key
from harness.images import image_hash
from harness.planning import resolve_plan
from harness.protocols import fingerprint_id
from harness.runner import RunConfig
from harness.types import EditRequest, Sample


@dataclass
class EditorPlan:
    editor: str
    samples: int = 0
    cached: int = 0
    calls: int = 0
    estimated_usd: float = 0.0


def plan_calls(config: RunConfig) -> tuple[list[EditorPlan], dict[str, str]]:
    plan = resolve_plan(config)
    cache = Cache(config.cache_dir) if config.use_cache else None
    rows = {name: EditorPlan(name) for name in plan.editors}
    fps = {name: fingerprint_id(editor) for name, editor in plan.editors.items()}
    try:
        for suite_name, suite in plan.suites.items():
            for index, sample in enumerate(suite.samples(plan.splits[suite_name], limit=config.limit)):
                if not isinstance(sample, Sample):
                    continue
                if config.shard and index % config.shard[1] != config.shard[0] - 1:
                    continue
                for name, editor in plan.editors.items():
                    row = rows[name]
                    row.samples += 1
                    request = EditRequest(sample.id, sample.source, sample.instruction, sample.turns,
                                          sample.mask, seed=config.seed)  # fmt: skip
                    key = edit_key(fps[name], image_hash(sample.source),
                                   image_hash(sample.mask) if sample.mask is not None else "",
                                   sample.instruction, sample.turns, config.seed, {})  # fmt: skip
                    if cache is not None and getattr(editor, "cache_edits", True) and cache.get_edit(key):
                        row.cached += 1
                        continue
                    row.calls += 1
                    estimate = getattr(editor, "estimate_cost_usd", None)
                    if callable(estimate):
                        row.estimated_usd += float(estimate(request))
    finally:
        if cache is not None:
            cache.close()
    return list(rows.values()), plan.unavailable


def print_dry_run(config: RunConfig, console: Console) -> None:
    rows, unavailable = plan_calls(config)
    for name, reason in unavailable.items():
        console.print(f"[yellow]skipped[/] {name}: {reason}")
    table = Table(title="dry run: nothing was called", title_justify="left")
    for column in ("editor", "samples", "cached", "calls", "estimated USD"):
        table.add_column(column, justify="right" if column != "editor" else "left")
    for row in rows:
        table.add_row(
            row.editor, str(row.samples), str(row.cached), str(row.calls), f"{row.estimated_usd:.2f}"
        )
    console.print(table)
