"""The photo planner reads wordings outside the photo-ops train phrasings (written here, not taken
from the suite), with the axis and direction meaning the exact ops compute, and refuses an
instruction it cannot read whole instead of editing part of it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines.pipelines.decompose import ClassicPipelineEditor
from baselines.tools.classical.photo_instructions import read_photo_instruction
from baselines.tools.classical.photo_lexicon import normalise
from harness.suites.photo_ops.ops import OPS, apply_program
from harness.suites.photo_ops.suite import PhotoOpsSuite, photo_at
from harness.types import EditRequest


def _read(text: str) -> list[tuple[str, dict]]:
    reading = read_photo_instruction(text)
    assert reading.problems == [], (text, reading.problems)
    return [(sub.subject, json.loads(sub.goal)) for sub in reading.plan]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Make it greyscale.", [("grayscale", {})]),
        ("Could you make this a B&W image?", [("grayscale", {})]),
        ("Strip out the colours entirely.", [("grayscale", {})]),
        ("Set saturation to zero.", [("grayscale", {})]),
        ("Reflect the image about the y-axis.", [("flip_horizontal", {})]),
        ("Reflect the image over the x axis.", [("flip_vertical", {})]),
        ("Flip it about its horizontal centre line.", [("flip_vertical", {})]),
        ("Mirror it along the vertical midline.", [("flip_horizontal", {})]),
        ("Flip the picture left-right.", [("flip_horizontal", {})]),
        ("Flip the photo upside down.", [("flip_vertical", {})]),
        ("Give me a mirror image of the photo.", [("flip_horizontal", {})]),
        ("Rotate 90° counter-clockwise.", [("rotate", {"degrees": 270})]),
        ("Turn the image ninety degrees to the left.", [("rotate", {"degrees": 270})]),
        ("Rotate it by a right angle clockwise.", [("rotate", {"degrees": 90})]),
        ("Spin the photo one hundred and eighty degrees.", [("rotate", {"degrees": 180})]),
        ("Rotate the photo -90 degrees.", [("rotate", {"degrees": 270})]),
        ("Turn it upside down.", [("rotate", {"degrees": 180})]),
        ("Give it a three-quarter turn clockwise.", [("rotate", {"degrees": 270})]),
        ("Zoom into the lower right corner.", [("crop", {"region": "bottom-right"})]),
        ("Blow up the top right corner to fill the frame.", [("crop", {"region": "top-right"})]),
        ("Crop the centre of the image.", [("crop", {"region": "center"})]),
        ("Brighten the photo by 30%.", [("brightness", {"factor": 1.3})]),
        ("Darken the image by 30 percent.", [("brightness", {"factor": 0.7})]),
        ("Reduce exposure to seventy percent.", [("brightness", {"factor": 0.7})]),
        ("Make it 60% brighter.", [("brightness", {"factor": 1.6})]),
        ("Halve the brightness.", [("brightness", {"factor": 0.5})]),
        ("Increase the exposure by one stop.", [("brightness", {"factor": 2.0})]),
        ("Brighten it by a third.", [("brightness", {"factor": 1.333333})]),
        ("Double the contrast.", [("contrast", {"factor": 2.0})]),
        ("Reduce the contrast by a quarter.", [("contrast", {"factor": 0.75})]),
        ("Lower the contrast to one half.", [("contrast", {"factor": 0.5})]),
        ("Boost contrast 1.5 times.", [("contrast", {"factor": 1.5})]),
        ("Blur it with a Gaussian kernel, standard deviation 3.", [("gaussian_blur", {"sigma": 3.0})]),
        ("Apply a 2-pixel gaussian blur.", [("gaussian_blur", {"sigma": 2.0})]),
        ("Defocus it (σ 2).", [("gaussian_blur", {"sigma": 2.0})]),
        ("Shift hues by 240°.", [("hue_shift", {"degrees": 240})]),
        ("Rotate the hue by one hundred and twenty degrees.", [("hue_shift", {"degrees": 120})]),
        ("Shift the hue so that greens become blue.", [("hue_shift", {"degrees": 120})]),
        ("Swap every colour for its complementary colour.", [("hue_shift", {"degrees": 180})]),
        ("Make a negative of this photo.", [("invert", {})]),
        ("Negate all pixel values.", [("invert", {})]),
        ("Posterise to 4 levels.", [("posterize", {"bits": 2})]),
        ("Quantize each channel to 2 levels.", [("posterize", {"bits": 1})]),
        ("Reduce to 8 distinct tones per channel.", [("posterize", {"bits": 3})]),
        ("Use a 3-bit depth per channel.", [("posterize", {"bits": 3})]),
    ],
)
def test_one_operation_in_wordings_outside_the_train_phrasings(text: str, expected: list) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Convert to black and white and then mirror it.", [("grayscale", {}), ("flip_horizontal", {})]),
        (
            "Rotate 90 degrees clockwise, invert the colours and blur with sigma 2.",
            [("rotate", {"degrees": 90}), ("invert", {}), ("gaussian_blur", {"sigma": 2.0})],
        ),
        (
            "1) crop to the top left quadrant 2) posterize to 2 bits",
            [("crop", {"region": "top-left"}), ("posterize", {"bits": 2})],
        ),
        ("The photo is too dark. Brighten it by a third.", [("brightness", {"factor": 1.333333})]),
        (
            "Increase brightness and contrast by 20%.",
            [("brightness", {"factor": 1.2}), ("contrast", {"factor": 1.2})],
        ),
        (
            "Set the brightness and the contrast to 150%.",
            [("brightness", {"factor": 1.5}), ("contrast", {"factor": 1.5})],
        ),
    ],
)
def test_several_operations_in_order(text: str, expected: list) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Sharpen the photo.", "'sharpen' is not a photo operation here"),
        ("Rotate it 90 degrees, then add a vignette.", "'vignette' is not a photo operation here"),
        ("Rotate it 90 degrees and sharpen it.", "'sharpen' is not a photo operation here"),
        ("Make it look nicer.", "no photo operation named in 'make it look nicer'"),
        ("Flip the image.", "found flip but not its direction"),
        ("Make it brighter.", "found brightness but not its factor"),
        ("Change the brightness by 20%.", "found brightness but not its factor"),
        ("Desaturate by 40%.", "found grayscale but not its amount"),
        ("Posterize to 6 levels.", "found posterize but not its number of levels"),
        ("Rotate by 90 and then by 180.", "no photo operation named in 'by 180'"),
    ],
)
def test_what_cannot_be_read_is_reported(text: str, problem: str) -> None:
    assert any(problem in reported for reported in read_photo_instruction(text).problems)


def test_number_words_and_units_are_normalised() -> None:
    assert normalise("Rotate it One Hundred and Eighty°") == "rotate it 180 degrees"
    assert normalise("a 120-degree turn, 70 per cent, 3-bit, 2px") == "a 120 degree turn, 70%, 3 bit, 2 px"
    assert normalise("two three, tension, nineteen") == "two three, tension, 19"


def test_axis_words_give_the_flip_the_exact_op_computes() -> None:
    image = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    ((op, args),) = _read("Mirror it about the vertical axis.")
    assert np.array_equal(OPS[op](image, **args), image[:, ::-1])  # left and right swap
    ((op, args),) = _read("Mirror it about the horizontal axis.")
    assert np.array_equal(OPS[op](image, **args), image[::-1])  # top and bottom swap
    ((op, args),) = _read("Rotate it a quarter turn to the left.")
    assert np.array_equal(OPS[op](image, **args), np.rot90(image, k=1))  # counter-clockwise


def test_train_phrasings_are_read_exactly() -> None:
    suite = PhotoOpsSuite(n_per_level=40, size=16)
    for sample in suite.samples("train"):
        program = [{"op": op, "args": args} for op, args in _read(sample.instruction)]
        assert program == sample.metadata["program"], sample.instruction


def test_the_pipeline_edits_a_photo_from_new_wording_and_refuses_a_partial_reading() -> None:
    source = photo_at("astronaut", 64)
    requests = [
        EditRequest("ok", source, "Reflect it about the y-axis, then posterise to 4 levels."),
        EditRequest("partial", source, "Rotate it 90 degrees and sharpen it."),
        EditRequest("none", source, "Turn the photo into a watercolour painting."),
    ]
    done, partial, unread = ClassicPipelineEditor().edit(requests)
    expected = apply_program(
        source, [{"op": "flip_horizontal", "args": {}}, {"op": "posterize", "args": {"bits": 2}}]
    )
    assert done.status == "ok" and np.array_equal(done.image, expected)
    for result in (partial, unread):
        assert result.status == "error" and result.error.startswith("plan: the photo grammar cannot read")
        assert [step.tool for step in result.trace] == ["plan", "finish"]
    assert "'sharpen' is not a photo operation here" in partial.error
    assert "found rotate but not its angle in 'turn the photo into a watercolour painting'" in unread.error
