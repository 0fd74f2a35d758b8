"""The exact checker: the oracle always passes, the source (nearly) never, every single-object
perturbation fails, L3 steps followed in the wrong order fail where order matters."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from harness.images import resize_to
from harness.suites.synth_edit.checker import SynthExact, SynthPartial, check_edit
from harness.suites.synth_edit.generator import follow_leniently
from harness.suites.synth_edit.palette import COLOURS, SHAPES, SIZE_ORDER, circumradius
from harness.suites.synth_edit.program import program_from_json
from harness.suites.synth_edit.render import render_scene
from harness.suites.synth_edit.scene import Background, Scene, object_fits
from harness.types import Sample, ScoreInput

EXACT, PARTIAL = SynthExact(), SynthPartial()


def _exact(sample: Sample, edited: np.ndarray) -> float:
    record = EXACT.score([ScoreInput(sample, edited)])[0]
    assert record.status == "ok", record.error
    return record.value


def test_metric_declarations() -> None:
    for metric in (EXACT, PARTIAL):
        assert metric.requires == frozenset({"target_scene"})
        assert metric.higher_is_better and metric.value_range == (0.0, 1.0)
        assert metric.fingerprint()["config"]["position"] == 0.06


def test_oracle_passes_and_identity_fails_on_default_test_split(default_test_split) -> None:
    oracle = EXACT.score([ScoreInput(s, s.target) for s in default_test_split])
    assert [r.value for r in oracle] == [1.0] * len(default_test_split)
    identity = EXACT.score([ScoreInput(s, s.source) for s in default_test_split])
    assert all(r.status == "ok" for r in identity)
    identity_pass_rate = float(np.mean([r.value for r in identity]))
    assert identity_pass_rate <= 0.05, identity_pass_rate
    partial = PARTIAL.score([ScoreInput(s, s.source) for s in default_test_split[:40]])
    assert all(0.0 <= r.value < 1.0 for r in partial)


def _perturbations(scene: Scene, rng: np.random.Generator) -> dict[str, Scene]:
    """One re-rendered single-object change per kind (skipping kinds that do not fit this scene)."""
    obj = scene.objects[int(rng.integers(len(scene.objects)))]
    out = {
        "colour": scene.replace_object(
            replace(obj, colour=COLOURS[(COLOURS.index(obj.colour) + 3) % len(COLOURS)])
        ),
        "missing": scene.without(obj.id),
    }
    for size in SIZE_ORDER:
        if size != obj.size:
            resized = replace(obj, size=size, radius=circumradius(obj.shape, size, scene.canvas))
            if object_fits(scene, resized):
                out["size"] = scene.replace_object(resized)
                break
    for shape in SHAPES:
        if shape != obj.shape:
            reshaped = replace(obj, shape=shape, radius=circumradius(shape, obj.size, scene.canvas))
            if object_fits(scene, reshaped):
                out["shape"] = scene.replace_object(reshaped)
                break
    for angle in np.linspace(0, 2 * math.pi, 16, endpoint=False):
        step = 0.11 * scene.canvas  # beyond both position tolerances (6% exact, 10% region)
        moved = replace(obj, x=obj.x + step * math.cos(angle), y=obj.y + step * math.sin(angle))
        if object_fits(scene, moved):
            out["position"] = scene.replace_object(moved)
            break
    for _ in range(40):
        extra = scene.make_object(
            "extra", SHAPES[int(rng.integers(5))], COLOURS[int(rng.integers(8))], "small", 0, 0
        )
        extra = replace(
            extra, x=float(rng.integers(20, scene.width - 20)), y=float(rng.integers(20, scene.height - 20))
        )
        if object_fits(scene, extra):
            out["extra"] = scene.with_object(extra)
            break
    return out


def test_single_object_perturbations_fail(default_test_split) -> None:
    rng = np.random.default_rng(0)
    counts: dict[str, int] = {}
    for sample in default_test_split[:48]:
        target = Scene.from_dict(sample.metadata["target_scene"])
        if not target.objects:
            continue
        for kind, perturbed in _perturbations(target, rng).items():
            comparison = check_edit(render_scene(perturbed), target, sample.target)
            assert not comparison.exact and comparison.partial < 1.0, (sample.id, kind)
            counts[kind] = counts.get(kind, 0) + 1
    assert set(counts) == {"colour", "missing", "size", "shape", "position", "extra"}
    assert min(counts.values()) >= 20, counts


def test_changed_background_fails_and_small_jitter_passes(default_test_split) -> None:
    for sample in default_test_split[:12]:
        target = Scene.from_dict(sample.metadata["target_scene"])
        other = (
            Background("texture", texture="gravel") if target.background.kind != "texture" else Background()
        )
        assert _exact(sample, render_scene(replace(target, background=other))) == 0.0
        jittered = tuple(replace(o, x=o.x + 2.0, y=o.y - 1.5) for o in target.objects)
        assert _exact(sample, render_scene(replace(target, objects=jittered))) == 1.0


def test_wrong_order_fails_where_order_matters(default_test_split) -> None:
    sensitive = [s for s in default_test_split if s.level == "L3" and s.metadata["order_matters"]]
    assert len(sensitive) >= 40
    for sample in sensitive:
        source = Scene.from_dict(sample.metadata["source_scene"])
        program = program_from_json(sample.metadata["program"])
        wrong = follow_leniently(source, list(reversed(program)))
        assert _exact(sample, render_scene(wrong)) == 0.0, sample.id


def test_partial_credit_counts_documented_checks() -> None:
    scene = Scene(256, 256, Background("plain", "white"))
    objects = (
        scene.make_object("o1", "circle", "red", "medium", 60, 60),
        scene.make_object("o2", "square", "blue", "medium", 190, 60),
        scene.make_object("o3", "star", "green", "large", 128, 180),
    )
    source = replace(scene, objects=objects)
    target = source.without("o3")
    sample = Sample(
        id="t",
        source=render_scene(source),
        instruction="remove the star",
        target=render_scene(target),
        metadata={"target_scene": target.to_dict()},
    )
    # unedited: 2 target objects x 4 checks pass, 1 extra object, background passes -> 9 / 10
    record = PARTIAL.score([ScoreInput(sample, sample.source)])[0]
    assert record.value == pytest.approx(0.9)
    assert record.components["extra"] == 1.0 and record.components["checks_total"] == 10.0
    recoloured = render_scene(target.replace_object(replace(target.get("o1"), colour="yellow")))
    assert PARTIAL.score([ScoreInput(sample, recoloured)])[0].value == pytest.approx(8 / 9)


def test_ghost_of_removed_object_fails_background() -> None:
    scene = Scene(256, 256, Background("plain", "light grey"))
    star = scene.make_object("o1", "star", "red", "large", 128, 128)
    circle = scene.make_object("o2", "circle", "blue", "small", 40, 40)
    target = replace(scene, objects=(circle,))
    ghost = render_scene(replace(scene, objects=(circle,)))
    footprint = render_scene(replace(scene, objects=(circle, star)))[..., 0] != ghost[..., 0]
    ghost[footprint] = (120, 120, 120)  # a grey blob where the star was
    comparison = check_edit(ghost, target)
    assert all(check.ok for check in comparison.objects) and not comparison.extra
    assert not comparison.background_ok and not comparison.exact


def test_other_size_is_resized_before_checking(default_test_split) -> None:
    sample = default_test_split[0]
    upscaled = resize_to(sample.target, (512, 512))
    assert _exact(sample, upscaled) == 1.0


def test_bad_inputs_are_recorded_not_raised(default_test_split) -> None:
    sample = default_test_split[0]
    no_scene = replace(sample, metadata={})
    assert EXACT.score([ScoreInput(no_scene, sample.target)])[0].status == "not_applicable"
    broken = replace(sample, metadata={"target_scene": {"width": 256}})
    record = EXACT.score([ScoreInput(broken, sample.target)])[0]
    assert record.status == "error" and record.value is None and "height" in record.error


def test_codec_noise_passes_but_global_shift_fails(default_test_split) -> None:
    import io

    from PIL import Image as PILImage

    def jpeg(image: np.ndarray) -> np.ndarray:
        buffer = io.BytesIO()
        PILImage.fromarray(image).save(buffer, format="JPEG", quality=75)
        return np.asarray(PILImage.open(buffer).convert("RGB"))

    def half_resolution(image: np.ndarray) -> np.ndarray:
        return resize_to(resize_to(image, (128, 128)), (256, 256))

    for sample in default_test_split[:24]:
        target = Scene.from_dict(sample.metadata["target_scene"])
        assert check_edit(jpeg(sample.target), target, sample.target).exact, sample.id
        assert check_edit(half_resolution(sample.target), target, sample.target).exact, sample.id
        brighter = np.clip(sample.target.astype(np.int16) + 10, 0, 255).astype(np.uint8)
        comparison = check_edit(brighter, target, sample.target)
        assert all(check.ok for check in comparison.objects) and not comparison.background_ok
