"""The exact, weight-free checker: read objects back from the edited pixels and compare them with
the target scene graph.

Rules (documented in data_cards/synth-edit.md):
- an edited image of another size is first resized to the target size with
  ``harness.images.resize_to`` (the harness's one size rule);
- objects are read with ``parse_objects`` and paired with target objects (``matching``); each
  target object gets four checks: position (centre within 6% of the canvas side, 10% for objects
  an instruction placed into a named region), shape, colour, size class;
- the background check compares edited and target images after a Gaussian low-pass (sigma
  ``LOW_PASS_SIGMA`` px, so codec noise and the loss of fine texture detail are tolerated): away
  from every target and detected object (``FOOTPRINT_MARGIN`` px margin) the mean absolute
  difference must be <= ``BACKGROUND_MEAN_TOLERANCE`` and no connected patch of at least
  ``MIN_RESIDUE_FRACTION`` of a small object's area may differ by more than
  ``RESIDUE_THRESHOLD`` (so a ghost of a removed object fails);
- ``synth_exact`` = 1 iff all object checks pass, nothing extra is detected and the background
  passes; ``synth_partial`` = passed checks / (4 x target objects + extra objects + 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage

from harness.images import as_rgb, resize_to
from harness.protocols import BaseMetric
from harness.suites.synth_edit.matching import (
    MATCH_GATE,
    POSITION_TOLERANCE,
    REGION_TOLERANCE,
    SceneComparison,
    compare_objects,
)
from harness.suites.synth_edit.palette import SIZES
from harness.suites.synth_edit.parse import (
    CHROMA_THRESHOLD,
    MAX_COLOUR_DISTANCE,
    MAX_SHAPE_DISTANCE,
    MIN_AREA_FRACTION,
    object_region_mask,
    parse_objects,
)
from harness.suites.synth_edit.render import render_scene
from harness.suites.synth_edit.scene import Scene
from harness.types import ScoreInput

CHECKER_VERSION = "2"
LOW_PASS_SIGMA = 1.0
BACKGROUND_MEAN_TOLERANCE = 6.0
RESIDUE_THRESHOLD = 40.0
MIN_RESIDUE_FRACTION = 0.3
FOOTPRINT_MARGIN = 4


def tolerances() -> dict[str, Any]:
    return {
        "position": POSITION_TOLERANCE,
        "region_position": REGION_TOLERANCE,
        "match_gate": MATCH_GATE,
        "chroma_threshold": CHROMA_THRESHOLD,
        "min_area_fraction": MIN_AREA_FRACTION,
        "max_colour_distance": MAX_COLOUR_DISTANCE,
        "max_shape_distance": MAX_SHAPE_DISTANCE,
        "low_pass_sigma": LOW_PASS_SIGMA,
        "background_mean": BACKGROUND_MEAN_TOLERANCE,
        "residue_threshold": RESIDUE_THRESHOLD,
        "min_residue_fraction": MIN_RESIDUE_FRACTION,
        "footprint_margin": FOOTPRINT_MARGIN,
    }


def background_matches(edited: np.ndarray, target_scene: Scene, target_image: np.ndarray) -> bool:
    """Preservation outside the objects: small mean difference and no large differing patch."""
    # Target objects are exactly the saturated pixels of the target image (backgrounds are neutral).
    free = ~(
        object_region_mask(edited, FOOTPRINT_MARGIN) | object_region_mask(target_image, FOOTPRINT_MARGIN)
    )
    if not free.any():
        return True
    sigma = (LOW_PASS_SIGMA, LOW_PASS_SIGMA, 0.0)
    # The low-pass is linear: filtering the difference equals the difference of the filtered images.
    delta = np.abs(
        ndimage.gaussian_filter(edited.astype(np.float32) - target_image.astype(np.float32), sigma)
    )
    difference = (delta[..., 0] + delta[..., 1] + delta[..., 2]) / 3.0
    if float(difference[free].mean()) > BACKGROUND_MEAN_TOLERANCE:
        return False
    residue, _ = ndimage.label((difference > RESIDUE_THRESHOLD) & free)
    if residue.max() == 0:
        return True
    min_area = MIN_RESIDUE_FRACTION * math.pi * (SIZES["small"] * target_scene.canvas) ** 2
    return int(np.bincount(residue.ravel())[1:].max()) < min_area


def check_edit(
    edited: np.ndarray, target_scene: Scene, target_image: np.ndarray | None = None
) -> SceneComparison:
    """Compare an edited image with the target scene (see the module docstring for the rules)."""
    if target_image is None:
        target_image = render_scene(target_scene)
    edited = as_rgb(edited)
    if edited.shape[:2] != target_image.shape[:2]:
        edited = resize_to(edited, target_image.shape[:2])
    detected = parse_objects(edited)
    checks, extra = compare_objects(detected, target_scene.objects, target_scene.canvas)
    background_ok = background_matches(edited, target_scene, target_image)
    return SceneComparison(objects=checks, extra=extra, background_ok=background_ok)


class _SynthChecker(BaseMetric):
    version = CHECKER_VERSION
    higher_is_better = True
    value_range = (0.0, 1.0)
    requires = frozenset({"target_scene"})
    deterministic = True

    def config(self) -> dict[str, Any]:
        return tolerances()

    def value(self, comparison: SceneComparison) -> float:
        raise NotImplementedError

    def compute(self, inp: ScoreInput) -> tuple[float, dict[str, float]]:
        target_scene = Scene.from_dict(inp.sample.metadata["target_scene"])
        comparison = check_edit(inp.edited, target_scene, inp.sample.target)
        return self.value(comparison), comparison.summary()


class SynthExact(_SynthChecker):
    """1 iff every target object is read back with the right shape, colour, size and position, no
    extra object is present and the background is preserved; else 0."""

    name = "synth_exact"

    def value(self, comparison: SceneComparison) -> float:
        return 1.0 if comparison.exact else 0.0


class SynthPartial(_SynthChecker):
    """Fraction of passed checks: 4 per target object, 1 per extra object (always failed), 1 background."""

    name = "synth_partial"

    def value(self, comparison: SceneComparison) -> float:
        return comparison.partial
