"""synth-edit: procedurally generated 2-D scenes with exact edit targets and an exact checker.

Public, importable pieces (the tool layer and the RL policy reuse them):
``Scene``/``SceneObject``/``Background`` (scene graphs), ``render_scene``, ``apply_program`` /
``apply_step`` with ``EditStep``/``Subject`` (edit programs), ``resolve``/``resolve_unique``
(referring expressions), ``parse_scene`` (read a scene back from pixels) and the palette.
Schema: data_cards/synth-edit.md.
"""

from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    COLOURS,
    PALETTE,
    REGIONS,
    SHAPES,
    SIZE_ORDER,
    SIZES,
    TEXTURES,
    circumradius,
    region_centre,
)
from harness.suites.synth_edit.parse import parse_background, parse_objects, parse_scene
from harness.suites.synth_edit.program import (
    ACTIONS,
    EditStep,
    ProgramError,
    Subject,
    apply_program,
    apply_step,
    program_from_json,
    program_to_json,
)
from harness.suites.synth_edit.referring import ReferenceError, resolve, resolve_unique
from harness.suites.synth_edit.render import object_mask, render_background, render_scene
from harness.suites.synth_edit.scene import (
    Background,
    Scene,
    SceneError,
    SceneObject,
    object_fits,
    scene_fits,
)

__all__ = [
    "ACTIONS",
    "BACKGROUND_COLOURS",
    "COLOURS",
    "PALETTE",
    "REGIONS",
    "SHAPES",
    "SIZES",
    "SIZE_ORDER",
    "TEXTURES",
    "Background",
    "EditStep",
    "ProgramError",
    "ReferenceError",
    "Scene",
    "SceneError",
    "SceneObject",
    "Subject",
    "apply_program",
    "apply_step",
    "circumradius",
    "object_fits",
    "object_mask",
    "parse_background",
    "parse_objects",
    "parse_scene",
    "program_from_json",
    "program_to_json",
    "region_centre",
    "render_background",
    "render_scene",
    "resolve",
    "resolve_unique",
    "scene_fits",
]
