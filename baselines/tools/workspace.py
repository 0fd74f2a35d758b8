"""The state a tool episode works on: images, region handles, masks by id and the history.

Grounding adds ``Region`` handles (``r1``, ``r2``, ...); segmentation adds masks (``m1``, ...).
Synthesis tools read them by id and replace ``image``; ``undo`` restores the previous image.
Boxes are normalised ``[x0, y0, x1, y1]`` fractions of width and height, so a policy's numbers
do not depend on resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from baselines.tools.calls import ToolCall, ToolResult


@dataclass
class Region:
    """A grounded object: id, label, normalised box, detector score, optional exact mask id and
    attributes a parser read (shape, colour, size, position)."""

    id: str
    label: str
    box: tuple[float, float, float, float]
    score: float = 1.0
    mask_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        x0, y0, x1, y1 = self.box
        return {
            "id": self.id,
            "label": self.label,
            "box": [round(v, 4) for v in self.box],
            "center": [round((x0 + x1) / 2, 4), round((y0 + y1) / 2, 4)],
            "score": round(float(self.score), 4),
            **({"mask": self.mask_id} if self.mask_id else {}),
            **dict(self.attributes),
        }


@dataclass
class HistoryEntry:
    """One executed call: what was asked, how it ended, how long it took."""

    call: ToolCall
    ok: bool
    invalid: bool
    error: str
    seconds: float
    output: Mapping[str, Any]
    image: np.ndarray | None = None  # the image after the call, when the call changed it


@dataclass
class Workspace:
    """Episode state. ``context`` carries side inputs tools may use (e.g. ``"instruction"``)."""

    source: np.ndarray
    image: np.ndarray
    regions: dict[str, Region] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    _undo_stack: list[np.ndarray] = field(default_factory=list, repr=False)
    _counters: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def start(cls, source: np.ndarray, **context: Any) -> Workspace:
        image = np.ascontiguousarray(source)
        return cls(source=image, image=image.copy(), context=dict(context))

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def new_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{self._counters[prefix]}"

    def add_region(self, label: str, box: tuple[float, float, float, float], **kwargs: Any) -> Region:
        region = Region(self.new_id("r"), label, tuple(float(v) for v in box), **kwargs)
        self.regions[region.id] = region
        return region

    def add_mask(self, mask: np.ndarray) -> str:
        mask_id = self.new_id("m")
        self.masks[mask_id] = np.asarray(mask, dtype=bool)
        return mask_id

    def mask_for(self, handle: str) -> np.ndarray | None:
        """The bool mask a region or mask id stands for: the mask itself, a region's exact mask,
        or the region's box as a rectangle. None for an unknown id."""
        if handle in self.masks:
            return self.masks[handle]
        region = self.regions.get(handle)
        if region is None:
            return None
        if region.mask_id and region.mask_id in self.masks:
            return self.masks[region.mask_id]
        return box_mask(region.box, self.height, self.width)

    def set_image(self, image: np.ndarray) -> None:
        self._undo_stack.append(self.image)
        self.image = np.ascontiguousarray(image)

    def undo(self) -> bool:
        if not self._undo_stack:
            return False
        self.image = self._undo_stack.pop()
        return True

    def record(self, call: ToolCall, result: ToolResult, seconds: float) -> HistoryEntry:
        entry = HistoryEntry(
            call, result.ok, result.invalid, result.error, seconds, dict(result.output), result.image
        )
        self.history.append(entry)
        return entry

    def summary(self) -> dict[str, Any]:
        """A JSON-able view for a text policy: regions, masks, history (no pixels)."""
        return {
            "size": [self.width, self.height],
            "regions": [region.describe() for region in self.regions.values()],
            "masks": {k: {"area": round(float(v.mean()), 4)} for k, v in self.masks.items()},
            "history": [
                {"tool": e.call.name, "arguments": dict(e.call.arguments), "ok": e.ok, "error": e.error}
                for e in self.history
            ],
        }


def box_mask(box: tuple[float, float, float, float], height: int, width: int) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros((height, width), dtype=bool)
    c0, c1 = int(np.floor(x0 * width)), int(np.ceil(x1 * width))
    r0, r1 = int(np.floor(y0 * height)), int(np.ceil(y1 * height))
    mask[max(r0, 0) : min(r1, height), max(c0, 0) : min(c1, width)] = True
    return mask


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """Normalised bounding box of a non-empty mask (pixel edges, so a 1-px object has width>0)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (cols[0] / w, rows[0] / h, (cols[-1] + 1) / w, (rows[-1] + 1) / h)
