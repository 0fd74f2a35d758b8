"""The learned toolbox: an LLM planner, OWLv2 or Grounding DINO, SAM, and diffusers editors for
synthesis; classical tools fill the capabilities no learned model here serves (move, resize,
swap, background, photo operations, verification)."""

from __future__ import annotations

from typing import Any

from baselines.tools.toolbox import Toolbox

GROUNDERS = ("owlv2", "grounding-dino")


def learned_unavailable_reason(grounder: str = "owlv2", models: dict[str, str] | None = None) -> str | None:
    from baselines.diffusers_editors.editors import InstructPix2PixEditor, SDInpaintEditor
    from baselines.tools.learned.grounding import GroundingDinoGround, Owlv2Ground
    from baselines.tools.learned.loading import weights_reason
    from baselines.tools.learned.planner import TransformersPlanner
    from baselines.tools.learned.segmentation import SamSegment

    models = models or {}
    detector = Owlv2Ground if grounder == "owlv2" else GroundingDinoGround
    checks = (  # checked in order, stopping at the first missing piece
        lambda: detector.unavailable_reason(models.get("grounder")),
        lambda: SamSegment.unavailable_reason(models.get("segmenter")),
        lambda: SDInpaintEditor.unavailable_reason(models.get("inpainter")),
        lambda: InstructPix2PixEditor.unavailable_reason(models.get("instruct")),
        lambda: weights_reason(models.get("planner") or TransformersPlanner.default_model, "planner"),
    )
    return next((reason for reason in (check() for check in checks) if reason), None)


def learned_toolbox(
    grounder: str = "owlv2",
    planner: Any = None,
    detector: Any = None,
    segmenter: Any = None,
    inpainter: Any = None,
    instruct_editor: Any = None,
    models: dict[str, str] | None = None,
) -> Toolbox:
    """Learned tools over the classical base; any component may be passed in ready-made, or
    its weights named in ``models`` (keys ``planner``, ``grounder``, ``segmenter``,
    ``inpainter``, ``instruct``: hub ids or local directories)."""
    models = models or {}
    from baselines.diffusers_editors.editors import InstructPix2PixEditor, SDInpaintEditor
    from baselines.tools.classical import classical_toolbox
    from baselines.tools.learned import synthesis
    from baselines.tools.learned.grounding import GroundingDinoGround, Owlv2Ground
    from baselines.tools.learned.planner import TransformersPlanner
    from baselines.tools.learned.segmentation import SamSegment

    if grounder not in GROUNDERS:
        raise ValueError(f"unknown grounder {grounder!r}; expected one of {', '.join(GROUNDERS)}")
    box = classical_toolbox()
    inpainter = inpainter or SDInpaintEditor(models.get("inpainter"))
    detector_cls = Owlv2Ground if grounder == "owlv2" else GroundingDinoGround
    for tool in (
        planner or TransformersPlanner(models.get("planner")),
        detector or detector_cls(models.get("grounder")),
        segmenter or SamSegment(models.get("segmenter")),
        synthesis.InstructEditTool(instruct_editor or InstructPix2PixEditor(models.get("instruct"))),
        synthesis.InpaintTool(inpainter),
        synthesis.InpaintRemove(inpainter),
        synthesis.InpaintRecolor(inpainter),
        synthesis.InpaintReplace(inpainter),
        synthesis.InpaintAddObject(inpainter),
    ):
        box.add(tool)
    return box
