"""Edit programs: ordered steps ``{action, subject, arguments}`` and their exact execution.

A subject names the object by id and by the referring expression the instruction used (a
structured ``ref`` plus its words). ``apply_program`` executes by id (the ground truth);
``apply_program(..., by_reference=True)`` re-resolves every subject's ``ref`` on the scene as it
is at that step, which is what an agent that follows the words does (and why order matters).

Actions and their arguments (JSON):
  recolor        {"colour": NAME}
  remove         {}
  add            {"id", "shape", "colour", "size", "x", "y", "region"}   (subject is null)
  move           {"x", "y", "region"}    region "" when the target is another object's old place
  resize         {"size": NAME}
  replace_shape  {"shape": NAME}
  swap           {"other": SUBJECT}      the two objects exchange centres
  background     {"background": BACKGROUND}                            (subject is null)
Extra descriptive keys (e.g. "colour_ref", "anchor") may appear; execution ignores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.suites.synth_edit.palette import circumradius
from harness.suites.synth_edit.referring import ReferenceError, resolve_unique
from harness.suites.synth_edit.scene import Background, Scene, SceneError, SceneObject

ACTIONS: tuple[str, ...] = (
    "recolor",
    "remove",
    "add",
    "move",
    "resize",
    "replace_shape",
    "swap",
    "background",
)


class ProgramError(ValueError):
    """A step that cannot run on the scene (unknown object, unresolvable reference, bad argument)."""


@dataclass(frozen=True)
class Subject:
    id: str
    ref: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ref": dict(self.ref), "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Subject:
        return cls(
            id=str(data.get("id", "")), ref=dict(data.get("ref") or {}), text=str(data.get("text", ""))
        )


@dataclass(frozen=True)
class EditStep:
    action: str
    subject: Subject | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        args = dict(self.arguments)
        if isinstance(args.get("other"), Subject):
            args["other"] = args["other"].to_dict()
        return {
            "action": self.action,
            "subject": self.subject.to_dict() if self.subject else None,
            "arguments": args,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EditStep:
        action = str(data.get("action", ""))
        if action not in ACTIONS:
            raise ProgramError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        subject = data.get("subject")
        args = dict(data.get("arguments") or {})
        if isinstance(args.get("other"), Mapping):
            args["other"] = Subject.from_dict(args["other"])
        return cls(action, Subject.from_dict(subject) if subject else None, args)


Program = Sequence[EditStep]


def program_to_json(program: Program) -> list[dict[str, Any]]:
    return [step.to_dict() for step in program]


def program_from_json(data: Sequence[Mapping[str, Any]]) -> list[EditStep]:
    return [EditStep.from_dict(item) for item in data]


def apply_program(scene: Scene, program: Program, *, by_reference: bool = False) -> Scene:
    """The scene after every step in order. Raises ProgramError on the first step that cannot run."""
    for index, step in enumerate(program):
        try:
            scene = apply_step(scene, step, by_reference=by_reference)
        except ProgramError as exc:
            raise ProgramError(f"step {index + 1} ({step.action}): {exc}") from exc
    return scene


def apply_step(scene: Scene, step: EditStep, *, by_reference: bool = False) -> Scene:
    """One step. Objects keep their ids; geometry (circumradius) follows shape and size."""
    args = step.arguments
    if step.action == "background":
        try:
            background = Background.from_dict(args["background"])
        except (KeyError, SceneError) as exc:
            raise ProgramError(f"bad background argument: {exc}") from exc
        return replace(scene, background=background)
    if step.action == "add":
        return _add(scene, args)
    target = _subject_object(scene, step.subject, by_reference)
    try:
        if step.action == "remove":
            return scene.without(target.id)
        if step.action == "recolor":
            return scene.replace_object(_checked(replace(target, colour=str(args["colour"]))))
        if step.action == "resize":
            size = str(args["size"])
            radius = circumradius(target.shape, size, scene.canvas)
            return scene.replace_object(_checked(replace(target, size=size, radius=radius)))
        if step.action == "replace_shape":
            shape = str(args["shape"])
            radius = circumradius(shape, target.size, scene.canvas)
            return scene.replace_object(_checked(replace(target, shape=shape, radius=radius)))
        if step.action == "move":
            moved = replace(
                target, x=float(args["x"]), y=float(args["y"]), region=str(args.get("region", ""))
            )
            return scene.replace_object(_checked(moved))
        if step.action == "swap":
            other_subject = args["other"]
            if isinstance(other_subject, Mapping):
                other_subject = Subject.from_dict(other_subject)
            other = _subject_object(scene, other_subject, by_reference)
            if other.id == target.id:
                raise ProgramError("cannot swap an object with itself")
            first = replace(target, x=other.x, y=other.y, region=other.region)
            second = replace(other, x=target.x, y=target.y, region=target.region)
            return scene.replace_object(first).replace_object(second)
    except (KeyError, SceneError, ValueError, TypeError) as exc:
        if isinstance(exc, ProgramError):
            raise
        raise ProgramError(f"bad arguments {dict(args)}: {exc}") from exc
    raise ProgramError(f"unknown action {step.action!r}")


def _add(scene: Scene, args: Mapping[str, Any]) -> Scene:
    try:
        object_id = str(args.get("id") or scene.next_object_id())
        if scene.has(object_id):
            object_id = scene.next_object_id()
        obj = scene.make_object(
            object_id,
            str(args["shape"]),
            str(args["colour"]),
            str(args["size"]),
            float(args["x"]),
            float(args["y"]),
            str(args.get("region", "")),
        )
        obj.validate()
    except (KeyError, SceneError, ValueError, TypeError) as exc:
        raise ProgramError(f"bad add arguments {dict(args)}: {exc}") from exc
    return scene.with_object(obj)


def _checked(obj: SceneObject) -> SceneObject:
    obj.validate()
    return obj


def _subject_object(scene: Scene, subject: Subject | None, by_reference: bool) -> SceneObject:
    if subject is None:
        raise ProgramError("this action needs a subject")
    if by_reference and subject.ref:
        try:
            return resolve_unique(scene, subject.ref)
        except ReferenceError as exc:
            raise ProgramError(str(exc)) from exc
    try:
        return scene.get(subject.id)
    except KeyError:
        raise ProgramError(f"no object {subject.id!r} in the scene") from None
