"""Per-sample judge formulas with known sub-scores, and reply parsing against schemas."""

from __future__ import annotations

import math

import pytest

from harness.judges import formulas
from harness.judges.parsing import ReplyParseError, ReplySchema, ScoreField, extract_json_object, parse_reply
from harness.judges.templates import load_template


def test_viescore_takes_minima_then_geometric_mean():
    parts = formulas.viescore(success=9, overediting=4, naturalness=6, artifacts=8)
    assert parts == {"SC": 4, "PQ": 6, "O": pytest.approx(math.sqrt(24))}
    assert formulas.viescore(10, 10, 0, 7)["O"] == 0.0  # a zero on either side zeroes the overall


def test_kris_knowledge_rule_and_normalisation():
    kept = formulas.kris(consistency=5, quality=4, following=3, knowledge=5)
    assert kept["KP"] == 100.0 and kept["IF"] == 50.0 and kept["VQ"] == 75.0
    assert kept["O"] == pytest.approx((100 + 75 + 50 + 100) / 4)
    forced = formulas.kris(consistency=5, quality=4, following=2, knowledge=5)
    assert forced["KP_raw"] == 1.0 and forced["KP"] == 0.0  # KP forced to 1 when IF <= 2
    assert forced["O"] == pytest.approx((100 + 75 + 25 + 0) / 4)


def test_rise_accuracy_needs_full_marks_on_every_applicable_dimension():
    full = {"reasoning": 5, "consistency": 5, "plausibility": 5}
    assert formulas.rise_accuracy(full) == 1.0
    assert formulas.rise_accuracy({**full, "plausibility": 4}) == 0.0
    assert formulas.rise_accuracy({**full, "plausibility": 1}, applicable=("reasoning", "consistency")) == 1.0
    with pytest.raises(ValueError):
        formulas.rise_accuracy({"reasoning": 5})


def test_imgedit_and_complex_edit_means():
    assert formulas.imgedit_mean([5, 4, 3]) == 4.0
    with pytest.raises(ValueError):
        formulas.imgedit_mean([5, 4])
    assert formulas.complex_edit(9, 6, 3)["O"] == 6.0


SCHEMA = ReplySchema("t", (ScoreField("a", 0, 10), ScoreField("b", 1, 5)))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"reasoning": "ok", "a": 7, "b": 2}', {"a": 7.0, "b": 2.0}),
        ('Here you go:\n```json\n{"a": 0, "b": 5}\n```', {"a": 0.0, "b": 5.0}),
        ('{"note": {"x": 1}} then {"a": 10, "b": 1}', {"a": 10.0, "b": 1.0}),
    ],
)
def test_parse_accepts_json_in_fences_and_prose(reply, expected):
    assert parse_reply(reply, SCHEMA) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty reply"),
        ("Score: 7", "no JSON object"),
        ('{"a": 7}', "missing field 'b'"),
        ('{"a": "7", "b": 2}', "not a number"),
        ('{"a": 11, "b": 2}', "outside 0-10"),
        ('{"a": 7.5, "b": 2}', "not an integer"),
        ('{"a": true, "b": 2}', "not a number"),
    ],
)
def test_parse_rejects_with_a_reason(reply, reason):
    with pytest.raises(ReplyParseError, match=reason):
        parse_reply(reply, SCHEMA)


def test_strict_json_schema_lists_every_property():
    schema = SCHEMA.json_schema()
    assert schema["required"] == ["reasoning", "a", "b"] and schema["additionalProperties"] is False
    assert extract_json_object('x {"k": 1} y') == {"k": 1}


def test_every_builtin_template_renders_and_hashes():
    from harness.judges.builtin import ComplexEditJudge, ImgEditRubric, KrisJudge, RiseJudge, VieScoreEdit

    seen = set()
    for judge in (VieScoreEdit, ImgEditRubric, ComplexEditJudge, KrisJudge, RiseJudge):
        for spec in judge.prompts:
            template = load_template(spec.template, spec.version)
            text = template.render(
                instruction="I",
                schema="S",
                edit_type="add",
                criteria="C",
                knowledge_hint="K",
                reference_note="",
            )
            assert "{{" not in text and "S" in text
            seen.add(template.sha256)
    assert len(seen) == 7
    with pytest.raises(KeyError, match="needs instruction"):
        load_template("viescore_sc").render(schema="S")
