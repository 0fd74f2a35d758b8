"""Training-prompt noise: random strings for free words, tool-vocabulary synonyms for sizes."""

import random
import re

from harness.suites.synth_edit.phrasing import FAMILIES
from imageedit_r1.data import add_word_noise, cue_words, relation_words, size_synonyms
from imageedit_r1.training.pipeline import noisy_copies, solved

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


def _template_words(split: str) -> set[str]:
    return {
        word.strip(".,?;:!").lower()
        for family in FAMILIES.values()
        if family.split == split
        for templates in family.actions.values()
        for template in templates
        for word in re.sub(r"\{[^}]*\}", " ", template).split()
    }


def test_cue_words_come_from_train_action_templates_only():
    pool = set(cue_words(keep_relations=True))
    assert {"place", "paint", "delete", "shift", "swap", "resize", "turn", "rid"} <= pool
    assert pool <= _template_words("train")
    assert not pool & (_template_words("test") - _template_words("train"))  # no held-out-only word
    assert not pool & {"red", "circle", "circles", "large", "small", "left", "right"}  # kept words
    assert list(cue_words()) == sorted(cue_words())


def test_cue_noise_writes_train_action_words_where_it_replaces():
    """At rate 1 and cue share 1, every free word becomes a train action word; kept words stay
    in place. At cue share 0 the noise is the random-string noise, draw for draw."""
    prompt = "instruction: I want the red circle placed in the upper right corner.\nscene: o1 red circle"
    noisy = add_word_noise(prompt, 1.0, random.Random(5), keep_relations=True, cues=1.0)
    words, original = noisy.split("\n")[0].split(" ")[1:], prompt.split("\n")[0].split(" ")[1:]
    assert len(words) == len(original)
    for word, before in zip(words, original, strict=True):
        if before.strip(".") in ("red", "circle", "right"):
            assert word == before
        else:
            assert word in cue_words(keep_relations=True)
    assert noisy.endswith("\nscene: o1 red circle")
    plain = add_word_noise(prompt, 0.5, random.Random(9), 0.5, True)
    assert add_word_noise(prompt, 0.5, random.Random(9), 0.5, True, cues=0.0) == plain
    mixed = add_word_noise(prompt, 1.0, random.Random(9), keep_relations=True, cues=0.5)
    free = [w for w in mixed.split("\n")[0].split(" ")[1:] if w.strip(".") not in ("red", "circle", "right")]
    assert any(w in cue_words(True) for w in free) and any(w not in cue_words(True) for w in free)


def test_noisy_copies_pass_the_cue_share_on():
    from imageedit_r1.data import PlanExample

    examples = [
        PlanExample("instruction: Move the red circle to the centre.\nregions: o1", " []", "s1", "synth-edit")
    ]
    copies = noisy_copies(examples, 1.0, seed=0, keep_relations=True, cues=1.0)
    assert copies[0] == examples[0] and len(copies) == 2
    words = copies[1].prompt.split("\n")[0].split(" ")[1:]
    assert words[2:4] == ["red", "circle"]
    assert all(w in cue_words(True) for i, w in enumerate(words) if i not in (2, 3))
