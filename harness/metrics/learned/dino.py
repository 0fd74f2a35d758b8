"""DINO metrics on transformers' ViTModel: ``dino`` (CLS cosine) and PIE-Bench's ``structure_distance``.

- ``dino``: cosine of the final-layer CLS tokens of ``facebook/dino-vits16`` (MagicBrush / Emu Edit;
  resize 256 bicubic, centre crop 224, ImageNet normalisation), edited vs the recipe's reference.
- ``structure_distance``: PIE-Bench's DINO-ViT self-similarity distance: the cosine self-similarity of
  the last layer's attention keys (all tokens, CLS included) of source and edited, compared by mean
  squared error; ``facebook/dino-vitb8`` at shorter side 224 (max 480), no crop, as PnPInversion's
  evaluation does. Lower is better; PIE reports it x10^3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.images import resize_to
from harness.metrics.learned import weights
from harness.metrics.learned.backbones import Backbone, FeatureRequest
from harness.metrics.learned.base import LearnedMetric, row_dots
from harness.metrics.learned.recipes import DINO_MAGICBRUSH, DINO_STRUCTURE, ImagePrep, pie_square
from harness.types import ScoreInput

# Architectures of the DINO checkpoints, so random-weight smoke runs need no download.
KNOWN_VIT_CONFIGS: dict[str, dict[str, Any]] = {
    "facebook/dino-vits16": {
        "hidden_size": 384,
        "num_attention_heads": 6,
        "intermediate_size": 1536,
        "patch_size": 16,
    },
    "facebook/dino-vits8": {
        "hidden_size": 384,
        "num_attention_heads": 6,
        "intermediate_size": 1536,
        "patch_size": 8,
    },
    "facebook/dino-vitb16": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "patch_size": 16,
    },
    "facebook/dino-vitb8": {
        "hidden_size": 768,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "patch_size": 8,
    },
}


class DinoBackbone(Backbone):
    def load(self, config: weights.WeightsConfig) -> None:
        from transformers import ViTConfig, ViTModel

        self.source = weights.resolve_hf_model(self.spec.arch, config)
        if self.source.kind in ("dir", "hub"):
            model = ViTModel.from_pretrained(
                self.source.location, add_pooling_layer=False, local_files_only=config.offline
            )
        elif self.source.location:  # a config without weights
            model = ViTModel(ViTConfig.from_pretrained(self.source.location), add_pooling_layer=False)
        else:
            known = KNOWN_VIT_CONFIGS.get(self.spec.arch)
            if known is None:
                raise weights.MissingWeightsError(
                    f"no weights and no known architecture for {self.spec.arch}: {weights.HOW_TO_PROVIDE}"
                )
            vit_config = ViTConfig(image_size=224, qkv_bias=True, layer_norm_eps=1e-6, **known)
            model = ViTModel(vit_config, add_pooling_layer=False)
        self.model = model.to(self.device).eval()
        self._keys_proj = _last_key_projection(self.model)

    def _forward(self, kind: str, prep: ImagePrep | None, items: list[Any]) -> list[Any]:
        import torch

        if prep is None:
            raise ValueError("DINO features need an image preprocessing")
        with torch.inference_mode(), self.autocast():
            if kind == "cls":
                return self.run_images(items, prep, self._cls)
            if kind == "keys_selfsim":
                return self.run_images(items, prep, self._keys_selfsim)
        raise ValueError(f"DINO backbone has no feature {kind!r}")

    def _cls(self, x: Any) -> Any:
        import torch

        hidden = self.model(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state
        return torch.nn.functional.normalize(hidden[:, 0].float(), dim=-1)

    def _keys_selfsim(self, x: Any) -> Any:
        import torch

        captured: list[Any] = []
        handle = self._keys_proj.register_forward_hook(lambda _m, _i, out: captured.append(out))
        try:
            self.model(pixel_values=x, interpolate_pos_encoding=True)
        finally:
            handle.remove()
        keys = torch.nn.functional.normalize(captured[-1].float(), dim=-1, eps=1e-8)  # (B, T, heads*dim)
        return keys @ keys.transpose(1, 2)


def _last_key_projection(model: Any) -> Any:
    encoder = getattr(model, "encoder", None)
    layers = encoder.layer if encoder is not None else model.layers  # transformers 4.x vs 5.x layout
    last = layers[-1]
    for name, module in last.named_modules():
        if name.endswith("k_proj") or name.endswith(".key"):
            return module
    raise RuntimeError("cannot find the attention key projection of the last ViT layer")


class DinoMetricBase(LearnedMetric):
    family = "dino_vit"
    packages = ("torch", "transformers")

    @classmethod
    def resolve_weights(cls, arch: str, pretrained: str) -> weights.WeightsSource:
        return weights.resolve_hf_model(arch)

    def backbone_factory(self) -> Any:
        return DinoBackbone


class Dino(DinoMetricBase):
    """Cosine of DINO ViT-S/16 CLS features, edited vs the recipe's reference (MagicBrush: target)."""

    name = "dino"
    default_arch = "facebook/dino-vits16"
    value_range = (-1.0, 1.0)
    requires = frozenset({"edited", "source"})

    def preprocessing(self) -> dict[str, Any]:
        return DINO_MAGICBRUSH.fingerprint()

    def reference(self, inp: ScoreInput) -> Any:
        return inp.sample.target if self.recipe.reference == "target" else inp.sample.source

    def not_applicable(self, inp: ScoreInput) -> str | None:
        if self.recipe.reference == "target" and inp.sample.target is None:
            return f"sample lacks target (recipe {self.recipe.name} compares with the target)"
        return None

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        spec = self.backbone_spec()
        return [
            FeatureRequest(spec, "cls", DINO_MAGICBRUSH, inp.edited),
            FeatureRequest(spec, "cls", DINO_MAGICBRUSH, self.reference(inp)),
        ]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        edited, ref = backbone.features(
            "cls", DINO_MAGICBRUSH, [inp.edited, self.reference(inp)], weights.current().batch_size
        )
        return float((edited * ref).sum())

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        n = len(inputs)
        images = [inp.edited for inp in inputs] + [self.reference(inp) for inp in inputs]
        features = backbone.features("cls", DINO_MAGICBRUSH, images, weights.current().batch_size)
        return row_dots(features[:n], features[n:])


class StructureDistance(DinoMetricBase):
    """PIE-Bench structure distance between source and edited (lower is better)."""

    name = "structure_distance"
    default_arch = "facebook/dino-vitb8"
    default_recipe = "pie_bench"
    higher_is_better = False
    value_range = (0.0, 4.0)
    requires = frozenset({"edited", "source"})

    def preprocessing(self) -> dict[str, Any]:
        return DINO_STRUCTURE.fingerprint()

    def pair(self, inp: ScoreInput) -> tuple[Any, Any]:
        size = self.recipe.pie_size
        source = pie_square(inp.sample.source, size)
        edited = pie_square(resize_to(inp.edited, inp.sample.source.shape[:2]), size)
        return source, edited

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        spec = self.backbone_spec()
        return [FeatureRequest(spec, "keys_selfsim", DINO_STRUCTURE, image) for image in self.pair(inp)]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        source, edited = backbone.features(
            "keys_selfsim", DINO_STRUCTURE, list(self.pair(inp)), weights.current().batch_size
        )
        return float(((source - edited) ** 2).mean())
