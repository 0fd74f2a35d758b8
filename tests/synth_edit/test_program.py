"""Scene and program schema, step semantics and referring-expression resolution on hand-built scenes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.registry import metrics, suites
from harness.suites.synth_edit import (
    Background,
    EditStep,
    ProgramError,
    Scene,
    SceneError,
    Subject,
    apply_program,
    apply_step,
    circumradius,
    program_from_json,
    program_to_json,
    resolve,
    resolve_unique,
)
from harness.suites.synth_edit.referring import ReferenceError, attribute_ref, is_clear


@pytest.fixture()
def scene() -> Scene:
    base = Scene(256, 256, Background("plain", "white"))
    return replace(
        base,
        objects=(
            base.make_object("o1", "circle", "red", "small", 40, 128),
            base.make_object("o2", "square", "blue", "large", 128, 128),
            base.make_object("o3", "star", "red", "medium", 216, 128),
            base.make_object("o4", "triangle", "green", "medium", 128, 40),
        ),
    )


def _subject(object_id: str, **attrs: str) -> Subject:
    return Subject(object_id, attribute_ref(**attrs), "")


def test_scene_json_round_trip_and_validation(scene: Scene) -> None:
    assert Scene.from_dict(scene.to_dict()) == scene
    data = scene.to_dict()
    data["objects"][0]["colour"] = "beige"
    with pytest.raises(SceneError, match="unknown colour 'beige'"):
        Scene.from_dict(data)
    with pytest.raises(SceneError, match="lacks field 'height'"):
        Scene.from_dict({"width": 256})


def test_each_action_changes_only_what_it_says(scene: Scene) -> None:
    recoloured = apply_step(scene, EditStep("recolor", _subject("o1"), {"colour": "yellow"}))
    assert recoloured.get("o1").colour == "yellow" and recoloured.objects[1:] == scene.objects[1:]
    resized = apply_step(scene, EditStep("resize", _subject("o1"), {"size": "large"}))
    assert resized.get("o1").radius == circumradius("circle", "large", 256) == 26.88
    reshaped = apply_step(scene, EditStep("replace_shape", _subject("o4"), {"shape": "hexagon"}))
    assert (reshaped.get("o4").shape, reshaped.get("o4").radius) == (
        "hexagon",
        circumradius("hexagon", "medium", 256),
    )
    swapped = apply_step(scene, EditStep("swap", _subject("o1"), {"other": _subject("o3")}))
    assert (swapped.get("o1").x, swapped.get("o3").x) == (216.0, 40.0)
    moved = apply_step(scene, EditStep("move", _subject("o4"), {"x": 43, "y": 213, "region": "bottom-left"}))
    assert (moved.get("o4").x, moved.get("o4").y, moved.get("o4").region) == (43.0, 213.0, "bottom-left")
    removed = apply_step(scene, EditStep("remove", _subject("o2")))
    assert [o.id for o in removed.objects] == ["o1", "o3", "o4"]
    added = apply_step(
        scene, EditStep("add", None, {"shape": "star", "colour": "cyan", "size": "small", "x": 40, "y": 40})
    )
    assert added.objects[-1].id == "o5" and added.objects[-1].colour == "cyan"
    background = apply_step(
        scene, EditStep("background", None, {"background": {"kind": "texture", "texture": "grass"}})
    )
    assert (
        background.background == Background("texture", texture="grass")
        and background.objects == scene.objects
    )


def test_program_json_round_trip_and_errors(scene: Scene) -> None:
    program = [
        EditStep("recolor", Subject("o1", attribute_ref(shape="circle"), "the circle"), {"colour": "blue"}),
        EditStep(
            "swap", _subject("o2"), {"other": Subject("o4", attribute_ref(shape="triangle"), "the triangle")}
        ),
    ]
    data = program_to_json(program)
    assert data[1]["arguments"]["other"] == {
        "id": "o4",
        "ref": attribute_ref(shape="triangle"),
        "text": "the triangle",
    }
    assert apply_program(scene, program_from_json(data)) == apply_program(scene, program)
    with pytest.raises(ProgramError, match="step 1 .remove.: no object 'o9'"):
        apply_program(scene, [EditStep("remove", _subject("o9"))])
    with pytest.raises(ProgramError, match="unknown action 'explode'"):
        program_from_json([{"action": "explode"}])
    with pytest.raises(ProgramError, match="bad arguments"):
        apply_step(scene, EditStep("recolor", _subject("o1"), {"colour": "beige"}))


def test_by_reference_execution_resolves_on_the_current_scene(scene: Scene) -> None:
    # "make the red circle blue, then remove the blue circle": by reference, step 2 needs step 1
    program = [
        EditStep("recolor", Subject("o1", attribute_ref(shape="circle", colour="red")), {"colour": "blue"}),
        EditStep("remove", Subject("o1", attribute_ref(shape="circle", colour="blue"))),
    ]
    assert [o.id for o in apply_program(scene, program, by_reference=True).objects] == ["o2", "o3", "o4"]
    with pytest.raises(ProgramError, match="matches nothing"):
        apply_program(scene, list(reversed(program)), by_reference=True)


def test_reference_types_resolve(scene: Scene) -> None:
    def ids(ref: dict) -> list[str]:
        return [o.id for o in resolve(scene, ref)]

    assert ids(attribute_ref(colour="red")) == ["o1", "o3"]
    square = attribute_ref(shape="square")
    assert ids({"type": "relation", "relation": "left_of", "anchor": square}) == ["o1"]
    assert ids({"type": "relation", "relation": "above", "anchor": square}) == ["o4"]
    assert ids({"type": "superlative", "property": "largest", "filter": None}) == ["o2"]
    assert ids({"type": "superlative", "property": "smallest", "filter": attribute_ref(colour="red")}) == [
        "o1"
    ]
    assert ids({"type": "superlative", "property": "rightmost", "filter": None}) == ["o3"]
    assert ids({"type": "ordinal", "index": 2, "from": "left", "filter": attribute_ref(colour="red")}) == [
        "o3"
    ]
    assert ids({"type": "analogy", "attribute": "colour", "anchor": attribute_ref(shape="star")}) == ["o1"]
    # the square and the triangle share x: "second from the left" is ambiguous with a margin
    second = {"type": "ordinal", "index": 2, "from": "left", "filter": None}
    assert not is_clear(scene, second, resolve_unique(scene, second).id)
    with pytest.raises(ReferenceError, match="2 objects"):
        resolve_unique(scene, attribute_ref(colour="red"))


def test_registered_in_the_catalog() -> None:
    assert suites.create("synth-edit").name == "synth-edit"
    assert metrics.create("synth_exact").name == "synth_exact"
    assert metrics.create("synth_partial").name == "synth_partial"
