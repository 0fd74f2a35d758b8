"""Instruction templates for photo-ops, split into train and held-out phrasing families.

``DIRECT`` clauses name the operation (L1); ``INDIRECT`` clauses describe the wanted look or refer
to the photo's subject (L2). ``SEQUENCES`` join clauses into ordered multi-step instructions (L3).
The test split draws only from the held-out family, so a learned editor is scored on wording it
never saw in training. Every clause carries the exact parameter, so the target stays computable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FAMILIES: tuple[str, ...] = ("train", "heldout")

REGION_WORDS = {
    "top-left": "top-left quarter",
    "top-right": "top-right quarter",
    "bottom-left": "bottom-left quarter",
    "bottom-right": "bottom-right quarter",
    "center": "central part (the middle half of the width and height)",
}
HUE_WORDS = {120: "reds turn green", 180: "every colour becomes its complement", 240: "reds turn blue"}

DIRECT: dict[str, dict[str, tuple[str, ...]]] = {
    "grayscale": {
        "train": ("convert the image to grayscale", "make the photo grayscale"),
        "heldout": ("turn the picture into shades of gray", "desaturate the image completely"),
    },
    "flip_horizontal": {
        "train": ("flip the image horizontally", "mirror the image left to right"),
        "heldout": ("do a horizontal flip of the picture", "reflect the photo across its vertical axis"),
    },
    "flip_vertical": {
        "train": ("flip the image vertically", "mirror the image top to bottom"),
        "heldout": ("do a vertical flip of the picture", "reflect the photo across its horizontal axis"),
    },
    "rotate": {
        "train": ("rotate the image {degrees} degrees clockwise", "turn the photo {degrees}° clockwise"),
        "heldout": (
            "apply a clockwise rotation of {degrees} degrees",
            "rotate the picture clockwise by {degrees} degrees",
        ),
    },
    "crop": {
        "train": ("crop to the {region_words} and scale it back up to full size",),
        "heldout": ("cut out the {region_words} and enlarge it to the original size",),
    },
    "brightness": {
        "train": ("multiply the brightness by {factor}", "scale the brightness by a factor of {factor}"),
        "heldout": ("set the brightness to {percent}% of what it is", "change the exposure to {percent}%"),
    },
    "contrast": {
        "train": ("multiply the contrast by {factor}", "scale the contrast around mid-grey by {factor}"),
        "heldout": ("set the contrast to {percent}% of the original", "change the contrast to {percent}%"),
    },
    "gaussian_blur": {
        "train": ("apply a Gaussian blur with sigma {sigma}", "blur the image (Gaussian, sigma {sigma} px)"),
        "heldout": ("smooth the photo with a Gaussian of sigma {sigma}", "Gaussian-blur it, sigma {sigma}"),
    },
    "hue_shift": {
        "train": ("shift the hue by {degrees} degrees", "rotate the hue {degrees}°"),
        "heldout": ("move every hue {degrees} degrees around the colour wheel",),
    },
    "invert": {
        "train": ("invert the colours", "invert the image"),
        "heldout": ("make the colour inverse of the picture", "replace every pixel with its inverse"),
    },
    "posterize": {
        "train": ("posterize to {bits} bits per channel", "reduce each channel to {bits} bits"),
        "heldout": ("keep only {levels} tone levels per channel", "posterize it to {levels} levels"),
    },
}

INDIRECT: dict[str, dict[str, tuple[str, ...]]] = {
    "grayscale": {
        "train": ("make it look like an old black-and-white photo of {subject}",),
        "heldout": ("drain all the colour out of {subject} so only light and shade remain",),
    },
    "flip_horizontal": {
        "train": ("mirror it so {subject} faces the other way",),
        "heldout": ("show the photo of {subject} as it would appear in a mirror standing beside it",),
    },
    "flip_vertical": {
        "train": ("make {subject} look like its reflection in a still lake, top becoming bottom",),
        "heldout": ("swap the sky side and the ground side of the picture as in a water reflection",),
    },
    "rotate": {
        "train": ("turn the picture {turn_words} so {subject} ends up {rotated_words}",),
        "heldout": ("give the print {turn_words}, leaving {subject} {rotated_words}",),
    },
    "crop": {
        "train": ("zoom in so the {region_words} of the shot of {subject} fills the frame",),
        "heldout": ("punch in on the {region_words} of the picture until it fills the whole frame",),
    },
    "brightness": {
        "train": ("the photo of {subject} looks {exposure_problem}; make it {percent}% as bright",),
        "heldout": ("{exposure_fix} so every value ends at {percent}% of today's level",),
    },
    "contrast": {
        "train": ("make {subject} look {contrast_look}: contrast at {percent}% of now",),
        "heldout": ("give the picture a {contrast_look} feel by setting contrast to {percent}%",),
    },
    "gaussian_blur": {
        "train": ("make {subject} look out of focus, as a Gaussian blur of sigma {sigma} would",),
        "heldout": ("defocus the whole shot like a lens blur of Gaussian sigma {sigma}",),
    },
    "hue_shift": {
        "train": ("recolour {subject} so {hue_words} (hue turned {degrees} degrees)",),
        "heldout": ("spin the colour wheel so {hue_words}, a {degrees}-degree hue turn",),
    },
    "invert": {
        "train": ("make it look like the film negative of this photo of {subject}",),
        "heldout": ("show the picture as it appears on the developed negative",),
    },
    "posterize": {
        "train": ("make {subject} look like a screen print with {levels} levels per colour",),
        "heldout": ("give it a cheap poster look: only {levels} shades per colour channel",),
    },
}

SEQUENCES: dict[str, tuple[str, ...]] = {
    "train": ("first {0}, then {1}", "{0}; after that, {1}", "start by doing this: {0}. Next, {1}"),
    "heldout": ("do these in order: {0}, and then {1}", "step one: {0}. Step two: {1}"),
}
SEQUENCES_3: dict[str, tuple[str, ...]] = {
    "train": ("first {0}, then {1}, and finally {2}", "{0}; next {1}; last, {2}"),
    "heldout": (
        "do these in order: {0}, then {1}, then {2}",
        "step one: {0}. Step two: {1}. Step three: {2}",
    ),
}

TURN_WORDS = {90: "a quarter turn clockwise", 180: "a half turn", 270: "a quarter turn anticlockwise"}
ROTATED_WORDS = {90: "lying on its side", 180: "upside down", 270: "lying on its other side"}


def fields(args: Mapping[str, Any], subject: str) -> dict[str, Any]:
    """Template fields for one step's arguments."""
    out: dict[str, Any] = {"subject": subject, **args}
    if "region" in args:
        out["region_words"] = REGION_WORDS[args["region"]]
    if "factor" in args:
        out["percent"] = round(args["factor"] * 100)
        out["exposure_problem"] = "too dark" if args["factor"] > 1 else "too bright"
        out["exposure_fix"] = "brighten it up" if args["factor"] > 1 else "darken it down"
        out["contrast_look"] = "punchy" if args["factor"] > 1 else "washed out"
    if "bits" in args:
        out["levels"] = 2 ** args["bits"]
    if "degrees" in args:
        out["turn_words"] = TURN_WORDS.get(args["degrees"], "")
        out["rotated_words"] = ROTATED_WORDS.get(args["degrees"], "")
        out["hue_words"] = HUE_WORDS.get(args["degrees"], "")
    return out


def clause(
    table: Mapping[str, Mapping[str, tuple[str, ...]]], op: str, family: str, pick: int, **values: Any
) -> str:
    templates = table[op][family]
    return templates[pick % len(templates)].format(**values)


def sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
