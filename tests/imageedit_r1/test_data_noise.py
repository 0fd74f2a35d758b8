"""Training-prompt noise: random strings for free words, tool-vocabulary synonyms for sizes."""

import random

from imageedit_r1.data import add_word_noise, relation_words, size_synonyms
from imageedit_r1.training.pipeline import solved

PROMPT = (
    "instruction: Make the small red circle large, then drop the tiny square.\nscene: o1 red circle small"
)


def test_size_synonyms_come_from_the_tool_vocabulary():
    assert size_synonyms() == {"small": ("little", "tiny"), "large": ("big", "huge")}


def test_synonyms_replace_only_size_values_and_keep_the_scene():
    noisy = add_word_noise(PROMPT, 0.0, random.Random(0), synonyms=1.0)
    head, scene = noisy.split("\n")
    words = head.removeprefix("instruction: ").split(" ")
    assert words[2] in ("little", "tiny") and words[5] in ("big,", "huge,")
    assert words[:2] == ["Make", "the"] and words[3:5] == ["red", "circle"]
    assert words[-2:] == ["tiny", "square."]  # not a canonical size: left as written
    assert scene == "scene: o1 red circle small"


def test_without_synonyms_the_noise_is_what_it_was():
    """Size values are kept by word noise, and adding the synonym option at 0 draws the same noise."""
    plain = add_word_noise(PROMPT, 0.5, random.Random(3))
    same = add_word_noise(PROMPT, 0.5, random.Random(3), synonyms=0.0)
    assert plain == same != PROMPT
    kept = plain.split("\n")[0].split(" ")
    assert "small" in kept and "red" in kept and "circle" in kept
    assert add_word_noise(PROMPT, 0.0, random.Random(3)) == PROMPT


def test_solved_means_exact():
    assert solved("synth-edit", {"synth_exact": 1.0, "synth_partial": 1.0})
    assert not solved("synth-edit", {"synth_exact": 0.0, "synth_partial": 0.9})
    assert solved("photo-ops", {"psnr": 41.0}) and not solved("photo-ops", {"psnr": 39.9})


def test_kept_relations_survive_full_noise():
    """At noise rate 1 every free word is replaced; with ``keep_relations`` the spatial reference
    words stay, and without it they go like any other free word."""
    prompt = (
        "instruction: Recolour the object furthest to the right, above the largest star, to blue.\nscene: -"
    )
    kept = add_word_noise(prompt, 1.0, random.Random(1), keep_relations=True).split("\n")[0].split(" ")
    assert [w for w in kept if w.strip(".,") in relation_words()] == ["right,", "above", "largest"]
    assert "star," in kept and "blue." in kept and "furthest" not in kept and "object" not in kept
    dropped = add_word_noise(prompt, 1.0, random.Random(1)).split("\n")[0].split(" ")
    assert not {w.strip(".,") for w in dropped} & relation_words()
    assert relation_words() >= {"left", "right", "top", "bottom", "above", "below", "leftmost"}
