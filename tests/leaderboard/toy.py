"""A tiny deterministic suite, two real metrics and a writer of genuine run directories.

The writer uses the harness record dataclasses and image store exactly as a run does, so the
leaderboard is tested on the real file format (and tampering is done on real files).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness import registry
from harness.images import ImageStore
from harness.protocols import BaseMetric, fingerprint_id
from harness.records import EditRecord, JsonlLog, RunRecord, SampleRecord, TraceRecord
from harness.types import Sample, ScoreInput

SUITE = "lb-toy"
ACCURACY = "lb-toy-accuracy"
BRIGHTNESS = "lb-toy-brightness"


class ToySuite:
    name = SUITE
    version = "1"
    splits = ("test",)
    default_metrics = (ACCURACY,)

    def __init__(self, count: int = 12, seed: int = 0) -> None:
        self.count = count
        self.seed = seed

    def fingerprint(self) -> dict:
        return {"name": self.name, "version": self.version, "count": self.count, "seed": self.seed}

    def samples(self, split: str, limit: int | None = None):
        rng = np.random.default_rng(7 + self.seed)
        for i in range(self.count if limit is None else min(limit, self.count)):
            source = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
            mask = np.zeros((24, 32), dtype=bool)
            mask[4:14, 6:18] = True
            target = source.copy()
            target[mask] = np.array([200, 30, 30], dtype=np.uint8)
            yield Sample(
                id=f"toy-{i:03d}",
                source=source,
                instruction=f"make the box red (item {i})",
                mask=mask,
                target=target,
                category="recolor" if i % 2 == 0 else "remove",
                level=f"L{1 + i % 3}",
            )


class ToyAccuracy(BaseMetric):
    """1 - mean absolute pixel error to the target, in [0, 1]."""

    name = ACCURACY
    requires = frozenset({"edited", "target"})

    def compute(self, inp: ScoreInput) -> float:
        diff = np.abs(inp.edited.astype(np.float64) - inp.sample.target.astype(np.float64))
        return 1.0 - float(diff.mean()) / 255.0


class ToyBrightness(BaseMetric):
    """Mean brightness of the edited image in [0, 1]."""

    name = BRIGHTNESS

    def compute(self, inp: ScoreInput) -> float:
        return float(inp.edited.mean()) / 255.0


def register_toys() -> None:
    registry.suites.register(SUITE, ToySuite)
    registry.metrics.register(ACCURACY, ToyAccuracy)
    registry.metrics.register(BRIGHTNESS, ToyBrightness)


EditorFn = Callable[[Sample, int], "np.ndarray | str"]  # an image, or a failure status string


@dataclass
class ToyEditor:
    name: str
    make: EditorFn
    reference: bool = False
    smoke: bool = False
    cost_usd: float = 0.0
    trace: bool = False


def oracle(sample: Sample, i: int) -> np.ndarray:
    return sample.target


def identity(sample: Sample, i: int) -> np.ndarray:
    return sample.source


def noisy(amount: int) -> EditorFn:
    def make(sample: Sample, i: int) -> np.ndarray:
        rng = np.random.default_rng(100 + i)
        noise = rng.integers(-amount, amount + 1, size=sample.target.shape)
        return np.clip(sample.target.astype(int) + noise, 0, 255).astype(np.uint8)

    return make


def fails_every(k: int, status: str, base: EditorFn) -> EditorFn:
    def make(sample: Sample, i: int) -> np.ndarray | str:
        return status if i % k == 0 else base(sample, i)

    return make


def write_run(
    root: Path,
    editors: list[ToyEditor],
    *,
    metrics: tuple[str, ...] = (ACCURACY, BRIGHTNESS),
    count: int = 12,
    run_id: str | None = None,
    instruction_prefix: str = "",
    seed: int = 0,
) -> Path:
    """Score every toy editor on the toy suite and write a run directory at ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    store = ImageStore(root / "images")
    suite = ToySuite(count, seed)
    metric_objs = [registry.metrics.create(m) for m in metrics]
    samples = [s for s in suite.samples("test")]
    manifest = {
        "schema_version": 1,
        "created_unix": time.time(),
        "config": {
            "suites": [SUITE],
            "editors": [e.name for e in editors],
            "seed": seed,
            "suite_options": {SUITE: {"count": count}},
        },
        "fingerprints": {"metrics": {m.name: m.fingerprint() for m in metric_objs}},
    }
    if run_id:
        manifest["run_id"] = run_id
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    with (
        JsonlLog(root / "samples.jsonl") as sample_log,
        JsonlLog(root / "edits.jsonl") as edit_log,
        JsonlLog(root / "records.jsonl") as record_log,
    ):
        for sample in samples:
            sample_log.append(
                SampleRecord(
                    SUITE,
                    "test",
                    sample.id,
                    instruction_prefix + sample.instruction,
                    sample.category,
                    sample.level,
                    source_hash=store.put(sample.source),
                    target_hash=store.put(sample.target),
                    mask_hash=store.put(sample.mask.astype(np.uint8) * 255),
                )  # fmt: skip
            )
        for editor in editors:
            editor_fp = f"fp-{editor.name}"
            for i, sample in enumerate(samples):
                made = editor.make(sample, i)
                status = made if isinstance(made, str) else "ok"
                edited_hash = store.put(made) if status == "ok" else ""
                trace = []
                if editor.trace and status == "ok":
                    trace = [
                        TraceRecord(
                            "segment", {"query": "box"}, "ok", 0.1, "found 1", store.put(sample.source)
                        ),
                        TraceRecord("recolor", {"color": "red"}, "ok", 0.2, "", edited_hash),
                    ]
                edit_log.append(
                    EditRecord(
                        SUITE,
                        "test",
                        sample.id,
                        editor.name,
                        editor_fp,
                        status,
                        edited_hash=edited_hash,
                        error="" if status == "ok" else f"{status} on purpose",
                        seconds=0.5 + i * 0.01,
                        cost_usd=editor.cost_usd,
                        trace=trace,
                        smoke=editor.smoke,
                        reference=editor.reference,
                    )  # fmt: skip
                )
                for metric in metric_objs:
                    if status == "ok":
                        score = metric.score([ScoreInput(sample, made)])[0]
                        value, score_status = score.value, score.status
                    else:
                        value, score_status = None, "ok"
                    record_log.append(
                        RunRecord(
                            SUITE,
                            "1",
                            "test",
                            sample.id,
                            sample.category,
                            sample.level,
                            editor.name,
                            editor_fp,
                            metric.name,
                            fingerprint_id(metric),
                            metric.higher_is_better,
                            metric.worst,
                            status=status if status != "ok" else score_status,
                            value=value,
                            edit_status=status,
                            score_status=score_status,
                            smoke=editor.smoke,
                            reference=editor.reference,
                            latency_s=0.5 + i * 0.01,
                            cost_usd=editor.cost_usd,
                        )  # fmt: skip
                    )
    return root
