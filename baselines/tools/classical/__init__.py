"""Classical tools (no learned weights): a flat-colour scene parser for grounding and
segmentation, exact pixel edits with background fill, the photo-ops operations, a rule-based
planner and a re-parsing verifier."""

from __future__ import annotations

from baselines.tools.toolbox import Toolbox


def classical_toolbox() -> Toolbox:
    from baselines.tools.classical.other_tools import PhotoAdjust, RulePlanner, SceneVerifier
    from baselines.tools.classical.scene_tools import SCENE_TOOLS

    return Toolbox([*(tool() for tool in SCENE_TOOLS), PhotoAdjust(), RulePlanner(), SceneVerifier()])


__all__ = ["classical_toolbox"]
