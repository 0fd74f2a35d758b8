"""The rule-based planner for global photo operations: instruction text -> ``global_adjust``
sub-edits, in the order the operations are mentioned.

The text is normalised (number words as digits, see ``photo_lexicon.normalise``) and cut into
steps at sentence breaks and sequencing words ("then", "after that", "Step 2:"). A step may hold
several operations joined by "and" or commas. Each piece of text is read against the photo-editing
lexicon (``photo_lexicon.MENTIONS``): the first operation it names whose parameter can be read
(degrees and direction, a region, a factor as a percentage, multiplier or relative change, a sigma,
a number of bits or levels) is the reading. A piece that names an operation without its parameter
("the photo looks too dark") joins a neighbouring reading of the same operation.

``read_photo_instruction`` also reports what it could not read: a step that asks for something
(not a description such as "the photo is dark", not a filler such as "do these in order") but
names no operation, or names one without a readable parameter. A photograph's plan with such a
problem is refused by the planner rather than carried out partially.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from baselines.tools.classical import photo_lexicon as lex
from baselines.tools.plans import SubEdit

Params = dict[str, object]


@dataclass(frozen=True)
class _Reading:
    """What one piece of text says: an operation with its parameters, an operation whose parameter
    is missing (``params`` None), or nothing (``op`` None)."""

    text: str
    op: str | None = None
    params: Params | None = None

    @property
    def complete(self) -> bool:
        return self.op is not None and self.params is not None

    @property
    def family(self) -> str | None:
        return "flip" if self.op and self.op.startswith("flip") else self.op


@dataclass
class PhotoReading:
    """The sub-edits read from an instruction and the steps that could not be read (with why)."""

    plan: list[SubEdit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- steps and pieces ----------------------------------------------------------------------------

_STEP_BREAK = re.compile(
    r"[.;!?](?:\s+|$)|\bstep \d+\s*[:.)-]?|,?\s*\b(?:and )?then\b,?|,?\s*\bafter that\b,?|,?\s*\bafterwards\b,?"
    r"|(?:^|,\s*|\band\s+)(?:next|finally|lastly|last)\b,?|^\s*first(?:ly)?\b,?|(?:^|\s)\(?\d+\)\s"
)
_PIECE_BREAK = re.compile(r",\s*(?:and\s+)?|\s+(?:and|&|plus|as well as)\s+")


def split_steps(text: str) -> list[str]:
    """Steps of a normalised instruction (commas inside brackets do not split)."""
    text = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(",", " "), text)
    return [part.strip(" ,:") for part in _STEP_BREAK.split(text) if part and re.search(r"[a-z0-9]", part)]


def read_photo_instruction(text: str) -> PhotoReading:
    readings: list[_Reading] = []
    for step in split_steps(lex.normalise(text)):
        readings.extend(_read_step(step))
    readings = _absorb_partials(readings)
    result = PhotoReading()
    for reading in readings:
        if reading.complete:
            assert reading.op is not None
            result.plan.append(
                SubEdit("global_adjust", reading.op, json.dumps(reading.params, sort_keys=True))
            )
        elif reading.op is not None:
            result.problems.append(
                f"found {reading.family} but not its {_PARAMETER[reading.family]} in {reading.text!r}"
            )
        elif unsupported := lex.UNSUPPORTED.search(reading.text):
            result.problems.append(
                f"{unsupported.group(0)!r} is not a photo operation here, in {reading.text!r}"
            )
        elif _is_command(reading.text):
            result.problems.append(f"no photo operation named in {reading.text!r}")
    return result


def plan_photo_instruction(text: str) -> list[SubEdit]:
    """The sub-edits that can be read (steps that cannot are left out; see ``read_photo_instruction``)."""
    return read_photo_instruction(text).plan


def _read_step(step: str) -> list[_Reading]:
    """The operations of the pieces between "and"/commas when one of them reads completely (a piece
    that names nothing is dropped, one missing its parameter joins a neighbour or is reported); one
    parameter shared by several named operations ("raise brightness and contrast by 20%");
    otherwise the step as one piece of text ("black and white", "left and right")."""
    pieces = [_read(piece) for piece in _PIECE_BREAK.split(step) if piece.strip()]
    merged = _absorb_partials(pieces, absorb_plain_text=True)
    merged = [r for i, r in enumerate(merged) if i == 0 or not _same_edit(merged[i - 1], r)]
    if len(merged) > 1 and any(r.complete for r in merged):
        return [_share_parameter(r, after) for r, after in zip(merged, [*merged[1:], None], strict=True)]
    families = list(dict.fromkeys(r.family for r in merged if r.family is not None))
    if len(families) > 1:
        shared = [_READERS[family](step) for family in families]
        if all(found is not None for found in shared):
            return [_Reading(step, found[0], found[1]) for found in shared if found is not None]
        return merged
    return [_read(step)]


def _share_parameter(reading: _Reading, after: _Reading | None) -> _Reading:
    """ "set the brightness and the contrast to 150%": an operation without its parameter takes the
    next operation's when it reads the same parameter from the two pieces together."""
    if reading.complete or reading.family is None or after is None or not after.complete:
        return reading
    found = _READERS[reading.family](f"{reading.text} {after.text}")
    return _Reading(reading.text, found[0], found[1]) if found and found[1] == after.params else reading


def _same_edit(first: _Reading, second: _Reading) -> bool:
    """One edit said twice in a step ("make blues red, i.e. a 120 degree hue shift")."""
    return first.complete and second.complete and (first.op, first.params) == (second.op, second.params)


def _absorb_partials(readings: list[_Reading], absorb_plain_text: bool = False) -> list[_Reading]:
    """Drop a reading without parameter next to a complete reading of the same operation (and,
    inside a step, text that names nothing); keep the rest in order."""
    kept: list[_Reading] = []
    for index, reading in enumerate(readings):
        if reading.complete:
            kept.append(reading)
            continue
        neighbours = readings[max(0, index - 1) : index] + readings[index + 1 : index + 2]
        if reading.op is None and absorb_plain_text and any(n.op is not None for n in readings):
            if lex.UNSUPPORTED.search(reading.text):  # "rotate it and sharpen it": not a description
                kept.append(reading)
            continue
        if reading.op is not None and any(n.complete and n.family == reading.family for n in neighbours):
            continue
        if reading.op is None and not absorb_plain_text and not _is_command(reading.text):
            continue
        kept.append(reading)
    return kept


def _read(text: str) -> _Reading:
    text = text.strip(" ,:")
    named = [op for op in lex.OP_ORDER if re.search(lex.MENTIONS[op], text)]
    for op in named:
        found = _READERS[op](text)
        if found is not None:
            return _Reading(text, found[0], found[1])
    return _Reading(text, named[0] if named else None)


def _is_command(text: str) -> bool:
    """Text that asks for something: not only filler words and not a description opening with
    "the", "it", "this" ... ("the sky is dull"); a bare parameter ("then by 180") asks too."""
    words = re.findall(r"[a-z0-9']+", text)
    content = [w for w in words if w not in lex.FILLER_WORDS and not w.isdigit()]
    if re.search(r"\b(?:by|to|at)\s+[+-]?\d", text):  # "then by 180": a parameter without its operation
        return True
    return bool(content) and words[0] not in lex.CONTEXT_OPENERS


# --- parameters ----------------------------------------------------------------------------------

Found = tuple[str, Params] | None


def _no_params(op: str) -> Callable[[str], Found]:
    return lambda text: (op, {})


def _grayscale(text: str) -> Found:
    partial = re.search(rf"({lex.NUMBER})\s*%", text)
    if partial and float(partial.group(1)) < 100:  # "desaturate by 40%" is not a full grayscale
        return None
    return "grayscale", {}


def _flip(text: str) -> Found:
    axis = lex.AXIS.search(text)
    if axis:
        return lex.AXIS_FLIP[axis.group(1)], {}
    left_right, top_bottom = bool(lex.LEFT_RIGHT.search(text)), bool(lex.TOP_BOTTOM.search(text))
    if left_right != top_bottom:
        return ("flip_horizontal" if left_right else "flip_vertical"), {}
    if not left_right and lex.MIRROR_IMAGE.search(text):
        return "flip_horizontal", {}
    return None


def _rotate(text: str) -> Found:
    degrees = _degrees(text)
    if degrees is None:
        degrees = next((size for pattern, size in lex.TURN_SIZES if re.search(pattern, text)), None)
    if degrees is None:
        plain = [v for v in _plain_numbers(text) if abs(v) in (90, 180, 270)]
        degrees = plain[0] if plain and re.search(r"\brotat", text) else None
    if degrees is None:
        return None
    if lex.COUNTERCLOCKWISE.search(text):
        degrees = -degrees
    return "rotate", {"degrees": int(degrees) % 360}


def _hue(text: str) -> Found:
    degrees = _degrees(text)
    if degrees is None:
        plain = _plain_numbers(text)
        degrees = plain[0] if len(plain) == 1 else None
    if degrees is None:
        change = lex.HUE_CHANGE.search(text)
        if change:
            degrees = lex.HUE_OF[change.group(2)] - lex.HUE_OF[change.group(1)]
        elif lex.HUE_OPPOSITE.search(text):
            degrees = 180
    if degrees is None:
        return None
    if lex.COUNTERCLOCKWISE.search(text) and not lex.HUE_CHANGE.search(text):
        degrees = -degrees
    return "hue_shift", {"degrees": int(degrees) % 360}


def _crop(text: str) -> Found:
    top, bottom = re.search(lex.REGION_TOP, text), re.search(lex.REGION_BOTTOM, text)
    left, right = re.search(lex.REGION_LEFT, text), re.search(lex.REGION_RIGHT, text)
    if bool(top) != bool(bottom) and bool(left) != bool(right):
        return "crop", {"region": f"{'top' if top else 'bottom'}-{'left' if left else 'right'}"}
    if re.search(lex.REGION_CENTRE, text):
        return "crop", {"region": "center"}
    return None


def _posterize(text: str) -> Found:
    bits = re.search(r"\b(\d+) bits?\b", text)
    if bits:
        return "posterize", {"bits": int(bits.group(1))}
    count = re.search(
        rf"\b(\d+) (?:[a-z-]+ ){{0,2}}?(levels?|shades?|tones?|steps?|values?|{lex.COLOUR})\b", text
    )
    if count is None:
        return None
    per_channel = re.search(r"\b(?:per|each|every) (?:colou?r )?channel|\bper colou?r\b", text)
    named = re.search(r"\bposteri[sz]|\bquanti[sz]|\bposter\b|\bscreen[- ]?print", text)
    if not (per_channel or named or count.group(2).startswith("level")):
        return None
    levels = int(count.group(1))
    exponent = math.log2(levels) if levels >= 2 else 0.0
    return ("posterize", {"bits": int(exponent)}) if exponent.is_integer() and exponent >= 1 else None


def _factor_op(op: str) -> Callable[[str], Found]:
    def read(text: str) -> Found:
        factor = _factor(text, stops=op == "brightness")
        return (op, {"factor": factor}) if factor is not None else None

    return read


def _blur(text: str) -> Found:
    named = re.search(
        rf"(?:sigma|σ|standard deviation|std(?:\.|dev)?|radius|strength)\s*(?:of|=|:|is|to|at)?\s*({lex.NUMBER})",
        text,
    )
    pixels = re.search(rf"({lex.NUMBER}) (?:px|pixels?)\b", text)
    plain = _plain_numbers(text)
    sigma = (
        float(named.group(1))
        if named
        else float(pixels.group(1))
        if pixels
        else plain[0]
        if len(plain) == 1
        else None
    )
    return ("gaussian_blur", {"sigma": sigma}) if sigma is not None and sigma > 0 else None


_READERS: dict[str, Callable[[str], Found]] = {
    "hue_shift": _hue,
    "posterize": _posterize,
    "contrast": _factor_op("contrast"),
    "brightness": _factor_op("brightness"),
    "gaussian_blur": _blur,
    "grayscale": _grayscale,
    "rotate": _rotate,
    "flip": _flip,
    "crop": _crop,
    "invert": _no_params("invert"),
}
_PARAMETER = {
    "hue_shift": "angle",
    "posterize": "number of levels",
    "contrast": "factor",
    "brightness": "factor",
    "gaussian_blur": "sigma",
    "grayscale": "amount (only a full grayscale is supported)",
    "rotate": "angle",
    "flip": "direction",
    "crop": "region",
    "invert": "",
}


def _degrees(text: str) -> float | None:
    match = re.search(rf"({lex.NUMBER}) (?:degrees?|deg)\b", text)
    return float(match.group(1)) if match else None


def _plain_numbers(text: str) -> list[float]:
    """Numbers without a unit after them (a percentage, angle, bit or level count is not plain)."""
    return [
        float(m.group(1))
        for m in re.finditer(
            rf"(?<![\w.])({lex.NUMBER})(?![\w.%]|\s*(?:%|degree|deg\b|bits?\b|levels?\b|px\b|pixel|half|third|quarter))",
            text,
        )
    ]


def _factor(text: str, stops: bool) -> float | None:
    """A multiplicative factor: "to 70%", "70% as bright", "by 1.3", "x1.5", "by 30%" after an
    increase or decrease word, "+30%", "double", "by a third", "+1 stop" (brightness only)."""
    rises, falls = bool(lex.INCREASE.search(text)), bool(lex.DECREASE.search(text))
    direction = 1 if rises and not falls else -1 if falls and not rises else 0
    percent = re.search(
        rf"(by |to |at |of )?({lex.NUMBER})\s*%(?:\s+(brighter|darker|more|less|higher|lower))?", text
    )
    if percent:
        value = float(percent.group(2)) / 100
        after = percent.group(3)
        if percent.group(2)[0] in "+-":
            return _round(1 + value)
        if after:
            return _round(1 + value if after in ("brighter", "more", "higher") else 1 - value)
        if percent.group(1) == "by " and not re.search(r"\b(?:multipl|scal)\w*", text):
            return _round(1 + direction * value) if direction else None  # "by 20%": up or down?
        return _round(value)
    if stops:
        stop = re.search(rf"({lex.NUMBER}) (?:stops?|ev)\b", text)
        if stop:
            return _round(2 ** (float(stop.group(1)) * (direction or 1)))
    fraction = re.search(r"\b(by|to|at) (half|a half|1 half|a third|1 third|a quarter|1 quarter)\b", text)
    if fraction and fraction.group(1) != "by":
        return _round(lex.FRACTION_WORDS[fraction.group(2)])
    if fraction and direction:
        return _round(1 + direction * lex.FRACTION_WORDS[fraction.group(2)])
    times = re.search(rf"\bx\s*({lex.NUMBER})\b|({lex.NUMBER})\s*(?:x|times)\b", text)
    if times:
        return _round(float(times.group(1) or times.group(2)))
    for pattern, factor in lex.WORD_FACTORS:
        if re.search(pattern, text):
            return factor
    plain = [v for v in _plain_numbers(text) if 0 < v <= 10]
    return _round(plain[0]) if plain else None


def _round(value: float) -> float | None:
    return round(value, 6) if value > 0 else None
