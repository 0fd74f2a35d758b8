"""A fully cached re-run vs the first run: same command, new ``--out``, same cache.

The editor is ``classic-pipeline`` when it is registered, else a stand-in that caches its edits
(``cache_edits = True``) and does a fixed amount of real CPU work per image (repeated Gaussian
blurs with scipy). Metrics are the pixel metrics. The first run fills a fresh cache; the second
must compute nothing (checked) and its wall time is reported as a share of the first's.
``--profile`` adds the top functions of the cached re-run by own time.

    python bench/cached_rerun.py --samples 100 --json cached_rerun.json
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from harness_overhead import PIXEL_METRICS, _top_functions
from machine_info import describe_machine, write_json

from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult

GOAL = 0.05
BLUR_PASSES = 12


class BlurEditor(BaseEditor):
    """Stand-in editor with a cached, deterministic, CPU-bound edit: repeated Gaussian blurs."""

    name = "bench-blur"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=8)
    cache_edits: ClassVar[bool] = True

    def __init__(self, **_: Any) -> None:
        pass

    def config(self) -> dict[str, Any]:
        return {"passes": BLUR_PASSES, "sigma": 1.5}

    def edit_one(self, request: EditRequest) -> EditResult:
        from scipy.ndimage import gaussian_filter

        image = request.source.astype(np.float32)
        for _ in range(BLUR_PASSES):
            image = gaussian_filter(image, sigma=(1.5, 1.5, 0))
        return EditResult(status="ok", image=np.clip(image + 0.5, 0, 255).astype(np.uint8))


def _run(editor: str, samples: int, out: Path, cache: Path, profile: bool) -> tuple[Any, list[str]]:
    import cProfile

    from harness.runner import RunConfig, run_evaluation

    config = RunConfig(suites=["synth-edit"], editors=[editor], metrics=list(PIXEL_METRICS), limit=samples,
                       out=out, cache_dir=cache)  # fmt: skip
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    summary = run_evaluation(config)
    if profiler:
        profiler.disable()
    return summary, (_top_functions(profiler) if profiler else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument(
        "--editor", help="editor name (default: classic-pipeline if registered, else bench-blur)"
    )
    parser.add_argument("--profile", action="store_true", help="profile the cached re-run")
    parser.add_argument("--json", help="write the result as JSON to this file ('-': stdout)")
    args = parser.parse_args(argv)

    from harness import registry

    registry.editors.register("bench-blur", BlurEditor)
    editor = args.editor or ("classic-pipeline" if "classic-pipeline" in registry.editors else "bench-blur")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first, _ = _run(editor, args.samples, root / "first", root / "cache", profile=False)
        second, top = _run(editor, args.samples, root / "second", root / "cache", profile=args.profile)
    c1, c2 = first.counters, second.counters
    if c2.edits_computed or c2.scores_computed:
        print(f"cached_rerun: the re-run computed {c2.edits_computed} edits and {c2.scores_computed} scores")
        return 1
    share = second.wall_seconds / first.wall_seconds
    result = {
        "benchmark": "cached_rerun", "editor": editor, "samples": args.samples,
        "first_wall_s": round(first.wall_seconds, 3), "first_editor_s": round(c1.editor_seconds, 3),
        "first_metric_s": round(c1.metric_seconds, 3), "rerun_wall_s": round(second.wall_seconds, 3),
        "rerun_edits_reused": c2.edits_reused, "rerun_scores_reused": c2.scores_reused,
        "rerun_share": round(share, 4), "goal": f"<= {GOAL:.0%}", "met": share <= GOAL,
        "profile_top": top, "machine": describe_machine(),
    }  # fmt: skip
    print(f"cached_rerun: {editor} first run {first.wall_seconds:.1f}s, cached re-run {second.wall_seconds:.1f}s "
          f"= {share:.1%} of the first (goal <= {GOAL:.0%}: {'met' if result['met'] else 'NOT met'})")  # fmt: skip
    for line in top:
        print("  " + line)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
