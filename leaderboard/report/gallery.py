"""Gallery items: one per (suite, split, sample, editor), with images, scores and the agent trace."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.images import ImageStore
from harness.records import RunRecord
from leaderboard.rundir import RunData

MAX_DISPLAY_SIDE = 512  # gallery images larger than this are shown shrunk; records keep full size
FAILURE_STATUSES = ("refused", "error", "timeout", "skipped", "parse_failed", "no_edit")


@dataclass
class TraceItem:
    tool: str
    arguments: str
    status: str
    seconds: float
    message: str
    image: str  # site-relative path, or ""


@dataclass
class ScoreItem:
    metric: str
    value: float | None
    status: str


@dataclass
class GalleryItem:
    suite: str
    split: str
    sample: str
    editor: str
    reference: bool
    level: str
    category: str
    instruction: str
    status: str  # the edit status, else the first failed score status, else "ok"
    failed: bool
    error: str
    source: str
    edited: str
    target: str
    scores: list[ScoreItem] = field(default_factory=list)
    trace: list[TraceItem] = field(default_factory=list)


class ImageCopier:
    """Collects the images a site needs; ``copy_all`` copies only those, once each."""

    def __init__(self) -> None:
        self.wanted: dict[str, ImageStore] = {}

    def ref(self, store: ImageStore, digest: str) -> str:
        if not digest or not store.has(digest):
            return ""
        self.wanted.setdefault(digest, store)
        return f"img/{digest[:16]}.png"

    def copy_all(self, site_root: Path) -> int:
        folder = site_root / "img"
        folder.mkdir(parents=True, exist_ok=True)
        for digest, store in self.wanted.items():
            target = folder / f"{digest[:16]}.png"
            if not target.exists():
                _copy_display_size(store.path(digest), target)
        return len(self.wanted)


def _copy_display_size(source: Path, target: Path) -> None:
    """Copy a PNG; one larger than MAX_DISPLAY_SIDE is shrunk (Lanczos) so the site stays light."""
    from PIL import Image as PILImage

    with PILImage.open(source) as img:
        if max(img.size) <= MAX_DISPLAY_SIDE:
            target.write_bytes(source.read_bytes())
            return
        img.thumbnail((MAX_DISPLAY_SIDE, MAX_DISPLAY_SIDE), PILImage.Resampling.LANCZOS)
        img.save(target, format="PNG", compress_level=6)


def gallery_items(runs: Sequence[RunData], copier: ImageCopier) -> list[GalleryItem]:
    """Items of every run; a later run's item replaces an earlier one for the same key."""
    items: dict[tuple[str, str, str, str], GalleryItem] = {}
    for run in runs:
        samples = run.sample_index()
        scores: dict[tuple[str, str, str, str], list[ScoreItem]] = defaultdict(list)
        score_status: dict[tuple[str, str, str, str], str] = {}
        unedited: dict[tuple[str, str, str, str], RunRecord] = {}
        edited_keys = {e.key for e in run.edits}
        for record in run.records:
            if record.smoke:  # a value from random weights is never shown as a score
                continue
            key = (record.suite, record.split, record.sample_id, record.editor)
            scores[key].append(ScoreItem(record.metric, record.value, record.status))
            if record.status in FAILURE_STATUSES and key not in score_status:
                score_status[key] = record.status
            if key not in edited_keys:
                unedited.setdefault(key, record)  # e.g. a sample the suite could not load
        for key, record in unedited.items():
            sample = samples.get(key[:3])
            items[key] = GalleryItem(
                suite=record.suite, split=record.split, sample=record.sample_id, editor=record.editor,
                reference=record.reference, level=record.level, category=record.category,
                instruction=sample.instruction if sample else "", status=record.status,
                failed=record.status != "ok", error=record.error or (sample.error if sample else ""),
                source=copier.ref(run.images, sample.source_hash) if sample else "", edited="",
                target=copier.ref(run.images, sample.target_hash) if sample else "",
                scores=sorted(scores[key], key=lambda s: s.metric),
            )  # fmt: skip
        for edit in run.edits:
            if edit.smoke:
                continue
            sample = samples.get((edit.suite, edit.split, edit.sample_id))
            failed_score = score_status.get(edit.key, "")
            status = edit.status if edit.status != "ok" else (failed_score or "ok")
            items[edit.key] = GalleryItem(
                suite=edit.suite,
                split=edit.split,
                sample=edit.sample_id,
                editor=edit.editor,
                reference=edit.reference,
                level=sample.level if sample else "",
                category=sample.category if sample else "",
                instruction=sample.instruction if sample else "",
                status=status,
                failed=status != "ok",
                error=edit.error,
                source=copier.ref(run.images, sample.source_hash) if sample else "",
                edited=copier.ref(run.images, edit.edited_hash),
                target=copier.ref(run.images, sample.target_hash) if sample else "",
                scores=sorted(scores.get(edit.key, []), key=lambda s: s.metric),
                trace=[
                    TraceItem(
                        step.tool,
                        json.dumps(step.arguments, sort_keys=True, default=str)[:500],
                        step.status,
                        step.seconds,
                        step.message[:500],
                        copier.ref(run.images, step.image_hash or ""),
                    )
                    for step in edit.trace
                ],
            )
    return sorted(items.values(), key=lambda i: (not i.failed, i.suite, i.sample, i.reference, i.editor))


def items_json(items: Sequence[GalleryItem]) -> str:
    """JSON safe to embed in a <script type="application/json"> element."""
    text = json.dumps([asdict(i) for i in items], ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
