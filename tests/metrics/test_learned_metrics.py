"""Learned metrics end to end on tiny random models of the real classes (open_clip, ViTModel, lpips)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("open_clip")
pytest.importorskip("transformers")
pytest.importorskip("lpips")

from harness.metrics.learned import weights  # noqa: E402
from harness.metrics.learned.base import score_metric_set, score_metric_sets  # noqa: E402
from harness.metrics.learned.clip import ClipDir, ClipI, ClipOut, ClipT  # noqa: E402
from harness.metrics.learned.dino import Dino, StructureDistance  # noqa: E402
from harness.metrics.learned.lpips_metric import Lpips, LpipsVgg  # noqa: E402
from harness.metrics.learned.pie import PieLpips  # noqa: E402
from harness.metrics.learned.recipes import get_recipe  # noqa: E402
from harness.types import ScoreInput  # noqa: E402

PIE_SMALL = dataclasses.replace(get_recipe("pie_bench"), pie_size=32)  # PIE's 512 convention, shrunk for CPU


def all_metrics(clip_arch: str, vit_dir: str, with_vgg: bool = False) -> list:
    metrics = [
        ClipI(arch=clip_arch),
        ClipT(arch=clip_arch),
        ClipOut(arch=clip_arch),
        ClipDir(arch=clip_arch),
        Dino(arch=vit_dir),
        StructureDistance(arch=vit_dir, recipe=PIE_SMALL),
        Lpips(),
        PieLpips(recipe=PIE_SMALL),
    ]
    return metrics + [LpipsVgg()] if with_vgg else metrics


def test_every_learned_metric_scores_in_range_and_is_tagged_smoke(
    random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker
):
    batch = batch_maker(4, with_mask=True)
    for metric in all_metrics(tiny_clip_arch, str(tiny_vit_dir), with_vgg=True):
        records = metric.score(batch)
        assert [r.sample_id for r in records] == ["s0", "s1", "s2", "s3"], metric.name
        low, high = metric.value_range
        for record in records:
            assert record.status == "ok", (metric.name, record.error)
            assert low - 1e-5 <= record.value <= high + 1e-5, (metric.name, record.value)
            assert record.smoke is True
            assert record.meta["weights"] == "random weights (smoke)"
        assert metric.fingerprint()["config"]["weights"] == "random"


def test_identical_images_give_the_ideal_value(random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker):
    base = batch_maker(2, with_mask=True)
    same = [
        ScoreInput(dataclasses.replace(inp.sample, target=inp.sample.source), inp.sample.source.copy())
        for inp in base
    ]
    expected = {
        "clip_i": 1.0,
        "dino": 1.0,
        "structure_distance": 0.0,
        "lpips": 0.0,
        "lpips_vgg": 0.0,
        "pie_lpips": 0.0,
        "clip_dir": 0.0,
    }
    for metric in all_metrics(tiny_clip_arch, str(tiny_vit_dir)):
        if metric.name not in expected:
            continue
        values = [r.value for r in metric.score(same)]
        assert values == pytest.approx([expected[metric.name]] * 2, abs=1e-4), metric.name


def test_batch_of_one_and_batch_of_eight_agree(random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker):
    batch = batch_maker(8, with_mask=True, seed=3)
    for metric in all_metrics(tiny_clip_arch, str(tiny_vit_dir)):
        together = [r.value for r in metric.score(batch)]
        metric.backbone().clear_memo()
        weights.configure(batch_size=1)
        alone = [metric.score([inp])[0].value for inp in batch]
        metric.backbone().clear_memo()
        weights.configure(batch_size=8)
        assert together == pytest.approx(alone, abs=1e-5), metric.name
        assert len(set(np.round(together, 6))) > 1, f"{metric.name} gives one value for different images"


def count_image_encodes(backbone) -> list[int]:
    """Wrap the backbone's image encoder; the returned list gets each call's batch size."""
    sizes: list[int] = []
    original = backbone.model.encode_image

    def counting(x):
        sizes.append(x.shape[0])
        return original(x)

    backbone.model.encode_image = counting
    return sizes


def test_clip_metrics_share_one_forward_per_image(random_weights, tiny_clip_arch, batch_maker):
    metrics = [
        ClipI(arch=tiny_clip_arch),
        ClipT(arch=tiny_clip_arch),
        ClipOut(arch=tiny_clip_arch),
        ClipDir(arch=tiny_clip_arch),
    ]
    backbone = metrics[0].backbone()
    assert all(m.backbone() is backbone for m in metrics)
    seen = count_image_encodes(backbone)
    batch = batch_maker(6)
    results = score_metric_set(metrics, batch)
    # edited, source and target of each of the 6 samples: 18 distinct images, each encoded once
    assert sum(seen) == 18
    assert len(seen) == 3  # grouped into chunks of the batch size (8)
    assert set(results) == {"clip_i", "clip_t", "clip_out", "clip_dir"}
    assert all(r.status == "ok" for records in results.values() for r in records)


def test_local_executor_groups_a_batchs_learned_metrics(random_weights, tiny_clip_arch, batch_maker):
    """The runner submits one call per metric; the local executor computes their features together,
    so a backbone runs over the batch's distinct images once, and the records do not change."""
    from types import SimpleNamespace

    from harness.backends import LocalExecutor

    metrics = {"clip_i": ClipI(arch=tiny_clip_arch), "clip_dir": ClipDir(arch=tiny_clip_arch)}
    backbone = metrics["clip_i"].backbone()
    calls = count_image_encodes(backbone)
    batch = batch_maker(5, seed=4)
    alone = {name: metric.score(batch) for name, metric in metrics.items()}
    # metric by metric: clip_i encodes edited + target (10 images: chunks of 8 and 2), clip_dir the
    # 5 sources its memo lacks (one chunk)
    assert calls == [8, 2, 5]
    backbone.clear_memo()
    calls.clear()
    executor = LocalExecutor(SimpleNamespace(metrics=metrics))
    pending = {name: executor.submit_score(name, list(batch)) for name in metrics}
    grouped = {name: call.result() for name, call in pending.items()}
    assert calls == [8, 7]  # the 15 distinct images in one group
    for name, records in grouped.items():
        assert [r.value for r in records] == pytest.approx([r.value for r in alone[name]], abs=1e-6)
        assert all(r.status == "ok" for r in records)


def test_streamed_batches_match_batch_at_a_time_and_isolate_a_bad_sample(
    random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker
):
    metrics = all_metrics(tiny_clip_arch, str(tiny_vit_dir))
    batch = batch_maker(9, with_mask=True, seed=11)
    broken = ScoreInput(batch[4].sample, np.zeros((5, 5), dtype=np.uint8))  # not an HxWx3 image
    batch[4] = broken
    batches = [batch[0:4], batch[4:8], batch[8:9]]
    one_at_a_time = [score_metric_set(metrics, b) for b in batches]
    for metric in metrics:
        metric.backbone().clear_memo()
    streamed = list(score_metric_sets(metrics, iter(batches)))  # a generator: one batch ahead
    assert len(streamed) == 3
    for alone, ahead, b in zip(one_at_a_time, streamed, batches, strict=True):
        assert set(ahead) == {m.name for m in metrics}
        for name, records in ahead.items():
            assert [r.sample_id for r in records] == [inp.sample.id for inp in b]
            assert [r.status for r in records] == [r.status for r in alone[name]], name
            got = [r.value for r in records if r.status == "ok"]
            assert got == pytest.approx([r.value for r in alone[name] if r.status == "ok"], abs=1e-6), name
    bad = {name: records[0] for name, records in streamed[1].items()}
    assert all(r.sample_id == "s4" and r.status == "error" and r.value is None for r in bad.values())
    assert all(r.status == "ok" for r in streamed[1]["clip_t"] if r.sample_id != "s4")
    assert all(r.status == "ok" for records in streamed[0].values() for r in records)


def test_recipes_pick_reference_and_caption(random_weights, tiny_clip_arch, batch_maker):
    batch = batch_maker(2)
    emu = ClipI(arch=tiny_clip_arch, recipe="emu_edit")
    magicbrush = ClipI(arch=tiny_clip_arch, recipe="magicbrush")
    assert emu.fingerprint() != magicbrush.fingerprint()
    assert [r.value for r in emu.score(batch)] != [r.value for r in magicbrush.score(batch)]
    no_target = [ScoreInput(dataclasses.replace(i.sample, target=None), i.edited) for i in batch]
    assert {r.status for r in magicbrush.score(no_target)} == {"not_applicable"}
    assert {r.status for r in emu.score(no_target)} == {"ok"}
    no_local = [ScoreInput(dataclasses.replace(i.sample, captions={"output": "x"}), i.edited) for i in batch]
    statuses = [r.status for r in ClipT(arch=tiny_clip_arch, recipe="magicbrush").score(no_local)]
    assert statuses == ["not_applicable", "not_applicable"]


def test_metric_names_carry_architecture_options(tiny_clip_arch):
    from harness import registry

    metric = registry.metrics.factory("clip_i@ViT-L-14")[0]()
    assert metric.arch == "ViT-L-14" and metric.name == "clip_i@ViT-L-14"
    other = ClipI(f"arch={tiny_clip_arch},recipe=emu_edit")
    assert other.arch == tiny_clip_arch and other.recipe.name == "emu_edit"
    assert ClipI("ViT-L-14/openai").pretrained == "openai"
    with pytest.raises(ValueError, match="bad metric option"):
        ClipI("colour=red")


def test_pie_clip_scores_follow_clipscore_convention(random_weights, tiny_clip_arch, batch_maker):
    from harness.metrics.learned.clip import ClipEdited, ClipWhole

    batch = batch_maker(3, with_mask=True)
    whole = ClipWhole(arch=tiny_clip_arch, recipe=PIE_SMALL).score(batch)
    edited = ClipEdited(arch=tiny_clip_arch, recipe=PIE_SMALL).score(batch)
    for record in whole + edited:
        assert record.status == "ok" and 0.0 <= record.value <= 100.0 and record.smoke
    no_mask = [ScoreInput(dataclasses.replace(i.sample, mask=None), i.edited) for i in batch]
    assert {r.status for r in ClipEdited(arch=tiny_clip_arch, recipe=PIE_SMALL).score(no_mask)} == {
        "not_applicable"
    }


def test_batched_values_equal_per_sample_values(random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker):
    from harness.metrics.learned.clip import ClipEdited, ClipWhole

    batch = batch_maker(5, with_mask=True, seed=4)
    extra = [
        ClipWhole(arch=tiny_clip_arch, recipe=PIE_SMALL),
        ClipEdited(arch=tiny_clip_arch, recipe=PIE_SMALL),
    ]
    for metric in all_metrics(tiny_clip_arch, str(tiny_vit_dir)) + extra:
        backbone = metric.backbone()
        ready = [inp for inp in batch if metric.not_applicable(inp) is None]
        assert len(ready) == 5, metric.name
        together = metric.values_from(backbone, ready)
        alone = [metric.value_from(backbone, inp) for inp in ready]
        assert together == pytest.approx(alone, rel=1e-6, abs=1e-7), metric.name


def test_clip_models_with_one_preprocessing_share_prepared_images_and_tokens(
    random_weights, tiny_clip_arch, batch_maker, tmp_path
):
    import json

    import open_clip

    # the tiny CLIP's input size and tokenizer, a wider image tower
    wide = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 96, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    (tmp_path / "ieval-tiny-clip-wide.json").write_text(json.dumps(wide))
    open_clip.add_model_config(tmp_path / "ieval-tiny-clip-wide.json")
    metrics = [ClipI(arch=tiny_clip_arch), ClipDir(arch=tiny_clip_arch), ClipI("arch=ieval-tiny-clip-wide")]
    narrow, wide_bb = metrics[0].backbone(), metrics[2].backbone()
    assert narrow is not wide_bb and metrics[0].image_prep() == metrics[2].image_prep()
    prepared = {id(narrow): 0, id(wide_bb): 0}
    tokenised: list[str] = []
    for backbone in (narrow, wide_bb):
        prepare, tokenizer = backbone._prepare, backbone.tokenizer

        def counting_prepare(images, prep, backbone=backbone, prepare=prepare):
            prepared[id(backbone)] += len(images)
            return prepare(images, prep)

        def counting_tokenizer(texts, tokenizer=tokenizer):
            tokenised.extend(texts)
            return tokenizer(texts)

        backbone._prepare, backbone.tokenizer = counting_prepare, counting_tokenizer
    texts = {
        i: {"input": f"{tmp_path.name} before {i}", "output": f"{tmp_path.name} after {i}"} for i in range(4)
    }
    batch = [
        ScoreInput(dataclasses.replace(inp.sample, captions=texts[i]), inp.edited)
        for i, inp in enumerate(batch_maker(4, seed=5))
    ]
    together = score_metric_set(metrics, batch)
    # edited, target and source of 4 samples: prepared once, by whichever backbone came first
    assert prepared == {id(narrow): 12, id(wide_bb): 0}
    assert sorted(tokenised) == sorted(text for pair in texts.values() for text in pair.values())
    # tokens of the wide model come from the shared memo, and every value is the one scored alone
    assert wide_bb.tokens([texts[0]["output"]]).equal(narrow.tokenizer([texts[0]["output"]]))
    for metric in metrics:
        metric.backbone().clear_memo()
        alone = [r.value for r in metric.score(batch)]
        assert alone == pytest.approx([r.value for r in together[metric.name]], abs=1e-6), metric.name
