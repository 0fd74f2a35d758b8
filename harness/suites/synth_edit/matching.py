"""Object-level comparison of two scenes with the checker's tolerances.

Objects are paired by a minimum-cost assignment (centre distance plus attribute mismatches), gated
at ``MATCH_GATE`` of the canvas. Each target object then gets four checks: position, shape, colour
and size; an unpaired target object fails all four, an unpaired detected object is an extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from harness.suites.synth_edit.scene import Scene, SceneObject

POSITION_TOLERANCE = 0.06  # of the canvas side, for objects with an exact position
REGION_TOLERANCE = 0.10  # of the canvas side, for objects placed into a named region
MATCH_GATE = 0.20  # objects further apart than this are never paired
OBJECT_CHECKS: tuple[str, ...] = ("position", "shape", "colour", "size")


@dataclass
class ObjectCheck:
    target_id: str
    detected_index: int | None
    position: bool = False
    shape: bool = False
    colour: bool = False
    size: bool = False
    distance: float | None = None

    @property
    def passed(self) -> int:
        return sum((self.position, self.shape, self.colour, self.size))

    @property
    def ok(self) -> bool:
        return self.passed == len(OBJECT_CHECKS)


@dataclass
class SceneComparison:
    objects: list[ObjectCheck] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)  # indices of unpaired detected objects
    background_ok: bool = True

    @property
    def total_checks(self) -> int:
        return len(OBJECT_CHECKS) * len(self.objects) + len(self.extra) + 1

    @property
    def passed_checks(self) -> int:
        return sum(check.passed for check in self.objects) + int(self.background_ok)

    @property
    def exact(self) -> bool:
        return self.background_ok and not self.extra and all(check.ok for check in self.objects)

    @property
    def partial(self) -> float:
        return self.passed_checks / self.total_checks

    def summary(self) -> dict[str, float]:
        return {
            "objects_ok": float(sum(check.ok for check in self.objects)),
            "objects": float(len(self.objects)),
            "missing": float(sum(check.detected_index is None for check in self.objects)),
            "extra": float(len(self.extra)),
            "background_ok": float(self.background_ok),
            "checks_passed": float(self.passed_checks),
            "checks_total": float(self.total_checks),
        }


def position_tolerance(target: SceneObject, canvas: int) -> float:
    return (REGION_TOLERANCE if target.region else POSITION_TOLERANCE) * canvas


def compare_objects(
    detected: Sequence[SceneObject], target: Sequence[SceneObject], canvas: int
) -> tuple[list[ObjectCheck], list[int]]:
    checks = [ObjectCheck(t.id, None) for t in target]
    paired: set[int] = set()
    if detected and target:
        gate = MATCH_GATE * canvas
        cost = np.full((len(detected), len(target)), 1e6)
        for i, d in enumerate(detected):
            for j, t in enumerate(target):
                distance = math.hypot(d.x - t.x, d.y - t.y)
                if distance <= gate:
                    mismatch = (
                        0.3 * (d.shape != t.shape) + 0.3 * (d.colour != t.colour) + 0.15 * (d.size != t.size)
                    )
                    cost[i, j] = distance / canvas + mismatch
        rows, cols = linear_sum_assignment(cost)
        for i, j in zip(rows, cols, strict=True):
            if cost[i, j] >= 1e6:
                continue
            d, t = detected[i], target[j]
            distance = math.hypot(d.x - t.x, d.y - t.y)
            checks[j] = ObjectCheck(
                target_id=t.id,
                detected_index=int(i),
                position=distance <= position_tolerance(t, canvas),
                shape=d.shape == t.shape,
                colour=d.colour == t.colour,
                size=d.size == t.size,
                distance=round(distance, 2),
            )
            paired.add(int(i))
    extra = [i for i in range(len(detected)) if i not in paired]
    return checks, extra


def compare_scenes(detected: Scene, target: Scene, background_ok: bool | None = None) -> SceneComparison:
    """Compare object lists; ``background_ok`` defaults to equality of the background specs."""
    checks, extra = compare_objects(detected.objects, target.objects, target.canvas)
    if background_ok is None:
        background_ok = detected.background == target.background
    return SceneComparison(objects=checks, extra=extra, background_ok=background_ok)


def scenes_equivalent(a: Scene, b: Scene) -> bool:
    """True when ``a`` would pass the checker against ``b`` (same objects within tolerance, same background)."""
    return compare_scenes(a, b).exact
