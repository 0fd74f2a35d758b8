"""Vocabulary of photo editing for the rule planner: how people name each photo-ops operation, its
parameter, directions and regions, and the text normalisation that turns number words into digits.

The words are the ones photo editors and their users use for the operations in
``harness.suites.photo_ops.ops`` (grayscale, flips, rotation, crop, brightness, contrast, Gaussian
blur, hue shift, invert, posterize); they are regular expressions over lower-case text that has
been through ``normalise``.
"""

from __future__ import annotations

import re

# --- numbers -------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "hundred"], key=len, reverse=True))
_NUMBER_RUN = re.compile(rf"\b(?:{_NUMBER_WORD})\b(?:(?:[\s-]+|(?<=hundred)\s+and\s+)(?:{_NUMBER_WORD})\b)*")


def _words_to_int(words: str) -> int | None:
    """ "one hundred and eighty" -> 180; None for a run that is not one number ("two three")."""
    value, last = 0, ""
    for word in re.split(r"[\s-]+(?:and\s+)?", words):
        if word == "hundred" and last in ("", "unit"):
            value, last = max(value, 1) * 100, "hundred"
        elif word in _TENS and last in ("", "hundred"):
            value, last = value + _TENS[word], "tens"
        elif (
            word in _UNITS and last in ("", "hundred", "tens") and not (last == "tens" and _UNITS[word] >= 10)
        ):
            value, last = value + _UNITS[word], "unit"
        else:
            return None
    return value


def _number_run(match: re.Match[str]) -> str:
    value = _words_to_int(match.group(0))
    return match.group(0) if value is None else str(value)


def normalise(text: str) -> str:
    """Lower case; number words as digits ("one hundred and eighty" -> 180); percent, degree and
    multiplication signs spelled one way; "120-degree" -> "120 degree", "2px" -> "2 px"."""
    text = text.lower().replace("\u2019", "'").replace("\u2212", "-").replace("\u00d7", "x")
    text = re.sub(r"\b(one|two|three) and a half\b", lambda m: f"{_UNITS[m.group(1)]}.5", text)
    text = _NUMBER_RUN.sub(_number_run, text)
    text = re.sub(r"\s*°", " degrees", text)
    text = re.sub(r"\s*(?:per ?cent|pct)\b", "%", text)
    text = re.sub(r"\b(?:minus|negative)\s+(?=\d)", "-", text)
    text = re.sub(r"(\d)[-\s]*(degrees?|deg|bits?|levels?|pixels?|px|stops?|ev)\b", r"\1 \2", text)
    return re.sub(r"\s+", " ", text).strip()


NUMBER = r"[+-]?\d+(?:\.\d+)?"

# --- operation names ------------------------------------------------------------------------------

COLOUR = r"colou?rs?"
MENTIONS: dict[str, str] = {
    "hue_shift": rf"\bhues?\b|\b{COLOUR} wheel|\bcomplementary {COLOUR}",
    "posterize": (
        r"\bposteri[sz]\w*|\bposter\b|\bquanti[sz]\w*|\bbit[- ]?depth|\d bits?\b|\bscreen[- ]?print"
        rf"|\d (?:[a-z-]+ ){{0,2}}?(?:levels?|shades?|tones?|steps?|values?|{COLOUR}) (?:per|for each|in each|of each) "
    ),
    "contrast": r"\bcontrast",
    "brightness": (
        r"\bbright\w*|\bexposure|\bexpos(?:e|ed|ing)\b|\blighten\w*|\blighter\b|\bdarken\w*|\bdark(?:er)?\b"
        r"|\bdim(?:mer|med|ming)?\b|\bluminosity"
    ),
    "gaussian_blur": (
        r"\bblur\w*|\bgaussian|\bsigma\b|σ|\bsoften\w*|\bsmooth\w*|\bdefocus\w*|\bout of focus|\bunfocus\w*"
    ),
    "grayscale": (
        r"\bgr[ae]y[- ]?scale|\bgr[ae]y[- ]?tones?|\bshades of gr[ae]y|\bblack[- ](?:and|&)[- ]white|\bb ?& ?w\b"
        r"|\bb/w\b|\bmonochrom\w*|\bmono\b|\bdesaturat\w*|\bcolou?rless|\b(?:no|without|zero) colou?r"
        r"|\b(?:remove|removing|strip|stripping|drain|draining|take out|taking out|suck out|leach|eliminate)\w*"
        r"(?: out)?(?: all)?(?: of)?(?: the)? (?:colou?rs?|saturation|chroma)\b(?! cast)"
        r"|\bsaturation (?:to|of|at) 0\b|\b(?:luminance|luma|brightness) only\b"
    ),
    "rotate": (r"\brotat\w*|\bturn\w*|\bspin\w*|\btwist\w*|\brevolv\w*"),
    "flip": r"\bflip\w*|\bmirror\w*|\breflect\w*|\bfaces? the other way",
    "crop": (
        r"\bcrop\w*|\bcut(?:ting)? out|\btrim\w*|\bzoom\w*|\bpunch\w* in|\bclose[- ]?up|\benlarg\w*"
        r"|\bmagnif\w*|\bblow\w* up|\bfills? the (?:whole |entire )?(?:frame|picture|image)|\bquadrant"
    ),
    "invert": r"\binver(?:t|ts|ted|ting|sion|se)\b|\bnegative\b|\bnegat(?:e|ed|ing)\b",
}
# Tried in this order: the first operation named in a clause whose parameter can be read wins, so
# an op named with its own noun ("rotate the hue") comes before the op whose verb it borrows.
OP_ORDER: tuple[str, ...] = (
    "hue_shift",
    "posterize",
    "contrast",
    "brightness",
    "gaussian_blur",
    "grayscale",
    "rotate",
    "flip",
    "crop",
    "invert",
)

# edits photo editors offer that photo-ops has not: asking for one is reported, never skipped
UNSUPPORTED = re.compile(
    r"\bsharpen\w*|\bdenois\w*|\bnoise\b|\bgrain\w*|\bvignett\w*|\bsaturat\w*|\bvibranc\w*|\bwarm\w*"
    r"|\bcool\w*|\btemperature|\btint\w*|\bwhite balance|\bclarity|\bdehaz\w*|\bstraighten\w*|\bskew\w*"
    r"|\bperspective|\bresiz\w*|\bwatermark\w*|\bborder|\bsepia|\bpixelat\w*|\bemboss\w*|\bgamma\b"
    r"|\bcurves\b|\bshadows\b|\bhighlights\b|\bvintage|\bfilter\b"
)

# --- directions, axes, regions --------------------------------------------------------------------

# reflecting across the vertical axis (the y axis) swaps left and right: a horizontal flip
AXIS = re.compile(r"\b(vertical|horizontal|x|y)[- ]?(?:axis|axes|centre ?line|center ?line|mid-?line|line)\b")
AXIS_FLIP = {
    "vertical": "flip_horizontal",
    "y": "flip_horizontal",
    "horizontal": "flip_vertical",
    "x": "flip_vertical",
}
LEFT_RIGHT = re.compile(
    r"\bhorizontal\w*|\bleft[- ](?:to[- ]|and[- ])?right\b|\bright[- ](?:to[- ]|and[- ])?left\b|\bside[- ]to[- ]side\b"
    r"|\bsideways\b|\blateral\w*|\beast[- ](?:to[- ])?west\b|\bfaces? the other way"
)
TOP_BOTTOM = re.compile(
    r"\bvertical\w*|\btop[- ](?:to[- ]|and[- ])?bottom\b|\bbottom[- ](?:to[- ]|and[- ])?top\b|\bupside[- ]down\b|\bup[- ]down\b"
    r"|\btop becom\w* (?:the )?bottom|\bnorth[- ](?:to[- ])?south\b"
    r"|\b(?:water|lake|pond|puddle|sea)\b"
)
MIRROR_IMAGE = re.compile(r"\bmirror\w*")  # a plain mirror image is left-right

COUNTERCLOCKWISE = re.compile(
    r"\bcounter[- ]?clockwise|\banti[- ]?clockwise|\bccw\b|\bwiddershins\b|\b(?:to the )?left(?:wards?)?\b"
)
CLOCKWISE = re.compile(r"\bclockwise|\bcw\b|\b(?:to the )?right(?:wards?)?\b")
TURN_SIZES: tuple[tuple[str, int], ...] = (
    (r"\b3[- ]quarters? (?:of a )?turn|\b270 degree", 270),
    (r"\bhalf[- ](?:a[- ])?turn|\bhalf[- ]rotation|\bhalf way round|\bupside[- ]down", 180),
    (r"\bquarter[- ](?:of a[- ])?turn|\bquarter[- ]rotation|\bright angle", 90),
)

REGION_TOP = r"\b(?:top|upper|north)"
REGION_BOTTOM = r"\b(?:bottom|lower|south)"
REGION_LEFT = r"(?:\bleft|west)"
REGION_RIGHT = r"(?:\bright|east)"
REGION_CENTRE = r"\b(?:centre|center|central|centred|centered|middle)\b"

# --- hue ------------------------------------------------------------------------------------------

# HSV hue angles of the primaries and secondaries: "reds become green" is a 120 degree turn
HUE_OF = {"red": 0, "yellow": 60, "green": 120, "cyan": 180, "blue": 240, "magenta": 300}
_HUE_NAME = r"(red|yellow|green|cyan|blue|magenta)s?"
HUE_CHANGE = re.compile(
    rf"\b{_HUE_NAME}\b(?: \w+)?? (?:turn|turns|become|becomes|go|goes|into|to|->|→) (?:\w+ )??{_HUE_NAME}\b"
)
HUE_OPPOSITE = re.compile(r"\bcomplement\w*|\bopposite\w*")

# --- brightness / contrast amounts ----------------------------------------------------------------

INCREASE = re.compile(
    r"\b(?:increase\w*|rais\w*|boost\w*|brighten\w*|lighten\w*|up\b|more\b|add\w*|enhanc\w*|higher|bump\w*"
    r"|strengthen\w*|intensif\w*|push\w*|stronger|brighter|lighter)"
)
DECREASE = re.compile(
    r"\b(?:decrease\w*|reduc\w*|lower\w*|cut\w*|darken\w*|dim\w*|drop\w*|less\b|lessen\w*|weaken\w*"
    r"|soften\w*|tone down|pull\w* down|weaker|darker|flatten\w*)"
)
# relative amounts in words: "by a third", "by half"
FRACTION_WORDS = {
    "half": 0.5,
    "a half": 0.5,
    "1 half": 0.5,
    "a third": 1 / 3,
    "1 third": 1 / 3,
    "a quarter": 0.25,
    "1 quarter": 0.25,
}
WORD_FACTORS: tuple[tuple[str, float], ...] = (
    (r"\bdouble\w*|\btwice\b", 2.0),
    (r"\btripl\w*|\bthrice\b", 3.0),
    (r"\bhalve\w*|\bhalf as\b|\bin half\b", 0.5),
)

# --- clause structure -----------------------------------------------------------------------------

# words that only order or introduce steps ("Step 2:", "do these in order", "finally")
FILLER_WORDS = frozenset(
    "do these this the following in order start starting by doing step steps please now first firstly "
    "second secondly third thirdly then next finally last lastly after that afterwards and edits edit "
    "changes operations instructions here are is to it thanks thank you ok okay".split()
)
# a clause opening with one of these describes the photo rather than asking for an edit
CONTEXT_OPENERS = frozenset(
    "the this that it its it's my our a an i we there here these those thanks thank ok okay so well hi hello".split()
)
