"""The rule grammar says what it found and left out of each sentence's sub-edit."""

import pytest

from baselines.tools.classical.instructions import plan_instruction, read_instruction


@pytest.mark.parametrize(
    ("text", "subedit"),
    [
        ("Make the red circle blue.", ("recolor", "the red circle", "blue")),
        ("Move the red circle to the top left corner.", ("move", "the red circle", "top-left")),
        ("Swap the red circle and the blue square.", ("swap", "the red circle", "the blue square")),
        ("Add a small red star in the top left corner.", ("add", "small red star", "top-left")),
        ("I want a circle in place of the green square.", ("replace", "the green square", "circle")),
        (
            "Keep only the largest shape and remove the rest.",
            ("remove", "every shape except the largest shape", ""),
        ),
    ],
)
def test_a_reading_that_uses_everything_it_found_is_complete(text, subedit):
    reading = read_instruction(text)
    assert reading.complete and reading.sentences == 1 and reading.unused == ((),)
    assert [(s.action, s.subject, s.goal) for s in reading.plan] == [subedit]


@pytest.mark.parametrize(
    ("text", "chosen", "unused"),
    [
        # two position phrases, merged into one goal
        (
            "The object nearest the bottom should end up in the upper left corner.",
            ("move", "the object", "bottom-left"),
            ("second position",),
        ),
        # a move chosen, the size word left over
        ("I want the circle second from the top to become little.", ("move", "the circle", "top"), ("size",)),
        # a swap of the two object phrases, the size word left over
        (
            "The object sitting above the orange square made big.",
            ("swap", "the object", "the orange square"),
            ("size",),
        ),
        # the keep-only cue without its rule
        (
            "Only the biggest object should be left at the end.",
            ("move", "the biggest object", "left"),
            ("only",),
        ),
    ],
)
def test_a_reading_that_left_something_out_says_what(text, chosen, unused):
    reading = read_instruction(text)
    assert not reading.complete
    assert [(s.action, s.subject, s.goal) for s in reading.plan] == [chosen]
    assert reading.unused == (unused,)


def test_an_unread_sentence_makes_the_reading_incomplete_and_is_skipped_in_the_plan():
    text = "Make the red circle blue. Then hello there."
    reading = read_instruction(text)
    assert reading.sentences == 2 and reading.unused == ((), ("unread",)) and not reading.complete
    assert plan_instruction(text) == list(reading.plan) and len(reading.plan) == 1
    assert not read_instruction("").complete and read_instruction("").sentences == 0
