from imageedit_r1.plan import SubEdit, decomposition_f1, format_plan, parse_plan
from imageedit_r1.synthesis import calls_for_subedit


def test_plan_round_trip():
    plan = [SubEdit("recolor", "r2", "blue"), SubEdit("move", "r1", "top-left")]
    parsed = parse_plan(" " + format_plan(plan))
    assert parsed.ok
    assert list(parsed.subedits) == plan


def test_unparseable_outputs_are_reasons_not_exceptions():
    assert parse_plan("recolor the thing").error == "no JSON array in the policy output"
    assert "not valid JSON" in parse_plan('[{"action": "recolor", "subject"').error
    assert parse_plan("[]").error == "the plan has no sub-edits"
    bad = parse_plan('[{"action": "remove", "subject": "r1", "goal": ""}, {"action": "recolor"}]')
    assert not bad.ok
    assert bad.subedits == (SubEdit("remove", "r1", ""),)
    assert "sub-edit 2: missing subject, goal" in bad.error


def test_decomposition_f1_per_field():
    reference = [SubEdit("recolor", "r1", "blue"), SubEdit("remove", "r3", "")]
    assert decomposition_f1(reference, reference) == 1.0
    wrong_subject = [SubEdit("recolor", "r2", "blue"), SubEdit("remove", "r3", "")]
    # action F1 = 1, subject F1 = 0.5, goal F1 = 1
    assert abs(decomposition_f1(wrong_subject, reference) - (1 + 0.5 + 1) / 3) < 1e-9
    assert decomposition_f1([], reference) == 0.0


def test_synthesis_maps_subedits_to_tool_calls():
    calls, problem = calls_for_subedit(SubEdit("move", "r2", "centre"))
    assert (
        problem == "" and calls[0].name == "move" and calls[0].arguments == {"region": "r2", "to": "center"}
    )
    calls, _ = calls_for_subedit(SubEdit("add", "image", "small red star at top-left"))
    assert calls[0].name == "add_object"
    assert calls[0].arguments == {"object": "small red star", "position": "top-left"}
    calls, _ = calls_for_subedit(SubEdit("rotate", "image", "90"))
    assert calls[0].arguments == {"op": "rotate", "params": {"degrees": 90}}
    assert calls_for_subedit(SubEdit("recolor", "image", "blue"))[1].startswith("recolor needs a region")
    assert calls_for_subedit(SubEdit("brightness", "image", "bright"))[1].startswith(
        "brightness needs a float"
    )
    assert calls_for_subedit(SubEdit("teleport", "r1", "x"))[1] == "unknown action 'teleport'"
