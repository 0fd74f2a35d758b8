"""The built-in judges: GEdit's VIEScore, ImgEdit's rubric, Complex-Edit, KRIS-Bench and RISEBench.

Each is a ``VLMJudge`` with its prompts (our versioned templates, or the user's official files via
``template_dir``), reply schemas and per-sample formula (``harness.judges.formulas``).
"""

from __future__ import annotations

from harness.judges import formulas
from harness.judges.judge import PromptSpec, VLMJudge
from harness.judges.parsing import ReplySchema, ScoreField


def _fields(names: tuple[str, ...], low: float, high: float) -> tuple[ScoreField, ...]:
    return tuple(ScoreField(name, low, high) for name in names)


class VieScoreEdit(VLMJudge):
    """GEdit-Bench VIEScore: SC = min(success, over-editing), PQ = min(naturalness, artifacts), O = sqrt(SC*PQ)."""

    name = "viescore_edit"
    value_range = (0.0, 10.0)
    prompts = (
        PromptSpec(
            "sc", "viescore_sc", ReplySchema("viescore_sc", _fields(("success", "overediting"), 0, 10))
        ),
        PromptSpec(
            "pq",
            "viescore_pq",
            ReplySchema("viescore_pq", _fields(("naturalness", "artifacts"), 0, 10)),
            images="edited",
        ),
    )

    def combine(self, scores, inp):
        sc, pq = scores["sc"], scores["pq"]
        parts = formulas.viescore(sc["success"], sc["overediting"], pq["naturalness"], pq["artifacts"])
        return parts["O"], {"SC": parts["SC"], "PQ": parts["PQ"]}


IMGEDIT_CRITERIA: dict[str, tuple[str, str, str]] = {
    "add": (
        "the requested object is added as described (kind, number, place)",
        "the added object blends in: scale, lighting, shadows and perspective match",
        "the rest of the image is unchanged and the new object's details are intact",
    ),
    "remove": (
        "the named object is fully removed",
        "the filled region is seamless with its surroundings",
        "nothing else was removed or altered",
    ),
    "replace": (
        "the named object is replaced by the requested one",
        "the new object fits the scene's lighting, scale and perspective",
        "everything else, including the background, is unchanged",
    ),
    "adjust": (
        "the requested attribute (colour, material, size, ...) is changed as asked",
        "the change looks natural, with consistent shading and texture",
        "the object's identity and the rest of the image are preserved",
    ),
    "background": (
        "the background is changed as asked",
        "the foreground subject sits naturally in the new background",
        "the foreground subject is unchanged in shape and detail",
    ),
    "style": (
        "the image is rendered in the requested style",
        "the style is applied consistently over the whole image",
        "the scene's content and layout are still recognisable",
    ),
    "action": (
        "the subject performs the requested action or pose",
        "the body and motion look physically plausible",
        "the subject's identity and the scene are preserved",
    ),
    "extract": (
        "the requested object is isolated as asked",
        "the object's outline is clean, without leftovers of the background",
        "the object's appearance and details are unchanged",
    ),
    "compose": (
        "every requested change is made",
        "the changes fit together naturally",
        "what was not mentioned is unchanged",
    ),
}
IMGEDIT_GENERIC = (
    "the edit does what the instruction asks",
    "the edited region blends seamlessly into the image",
    "details are intact and nothing else was changed",
)
IMGEDIT_SCHEMA = ReplySchema("imgedit_rubric", _fields(("compliance", "seamlessness", "fidelity"), 1, 5))


class ImgEditRubric(VLMJudge):
    """ImgEdit: three 1-5 criteria chosen by the sample's edit type (category); the value is their mean."""

    name = "imgedit_rubric"
    value_range = (1.0, 5.0)
    prompts = (PromptSpec("rubric", "imgedit_rubric", IMGEDIT_SCHEMA),)

    def placeholders(self, spec, inp):
        edit_type = (inp.sample.category or "edit").lower()
        criteria = IMGEDIT_CRITERIA.get(edit_type, IMGEDIT_GENERIC)
        lines = [
            f'- "{name}": {text}'
            for name, text in zip(("compliance", "seamlessness", "fidelity"), criteria, strict=True)
        ]
        return {"edit_type": edit_type, "criteria": "\n".join(lines)}

    def combine(self, scores, inp):
        s = scores["rubric"]
        values = [s["compliance"], s["seamlessness"], s["fidelity"]]
        return formulas.imgedit_mean(values), dict(s)


class ComplexEditJudge(VLMJudge):
    """Complex-Edit: IF and IP (input, output, instruction) and PQ (output only), 0-10; O = mean."""

    name = "complex_edit_judge"
    value_range = (0.0, 10.0)
    prompts = (
        PromptSpec(
            "alignment",
            "complex_edit_alignment",
            ReplySchema(
                "complex_edit_alignment", _fields(("instruction_following", "identity_preservation"), 0, 10)
            ),
        ),
        PromptSpec(
            "quality",
            "complex_edit_quality",
            ReplySchema("complex_edit_quality", _fields(("quality",), 0, 10)),
            images="edited",
        ),
    )

    def combine(self, scores, inp):
        a, q = scores["alignment"], scores["quality"]
        parts = formulas.complex_edit(a["instruction_following"], a["identity_preservation"], q["quality"])
        return parts["O"], {k: parts[k] for k in ("IF", "IP", "PQ")}


class KrisJudge(VLMJudge):
    """KRIS-Bench: VC, VQ, IF, KP on 1-5 (KP = 1 when IF <= 2), normalised to 0-100; value = their mean.
    The knowledge hint (``metadata['knowledge_hint']``) is shown to the judge only."""

    name = "kris_judge"
    value_range = (0.0, 100.0)
    prompts = (
        PromptSpec(
            "kris",
            "kris",
            ReplySchema("kris", _fields(("consistency", "quality", "following", "knowledge"), 1, 5)),
        ),
    )

    def placeholders(self, spec, inp):
        return {"knowledge_hint": str(inp.sample.metadata.get("knowledge_hint") or "(none given)")}

    def combine(self, scores, inp):
        s = scores["kris"]
        parts = formulas.kris(s["consistency"], s["quality"], s["following"], s["knowledge"])
        return parts["O"], {k: v for k, v in parts.items() if k != "O"}


class RiseJudge(VLMJudge):
    """RISEBench: reasoning, consistency, plausibility on 1-5; value = 1 when every applicable dimension
    scores 5 (accuracy), else 0. ``metadata['rise_dimensions']`` may narrow the applicable dimensions;
    a reference image (the sample's target), when present, is shown as a third image."""

    name = "rise_judge"
    value_range = (0.0, 1.0)
    schema = ReplySchema("rise", _fields(formulas.RISE_DIMENSIONS, 1, 5))
    prompts = (PromptSpec("rise", "rise", schema, images="source+edited+target"),)

    def placeholders(self, spec, inp):
        note = "A third image shows a reference answer.\n" if inp.sample.target is not None else ""
        return {"reference_note": note}

    def combine(self, scores, inp):
        s = scores["rise"]
        applicable = tuple(inp.sample.metadata.get("rise_dimensions") or formulas.RISE_DIMENSIONS)
        return formulas.rise_accuracy(s, applicable), dict(s)
