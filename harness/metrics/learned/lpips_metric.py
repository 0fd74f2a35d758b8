"""LPIPS on the ``lpips`` package: ``lpips`` (AlexNet), ``lpips_vgg``, and the SqueezeNet variant PIE uses.

The package ships its linear heads; the ImageNet backbone is torchvision's checkpoint, found under
``--weights-dir`` (``torchvision/alexnet-owt-7be5be79.pth``) or TORCH_HOME and copied into the
LPIPS feature slices. Inputs are full-resolution RGB scaled to [-1, 1]; the edited image is resized to
its reference first (the harness's size rule). Lower is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.images import resize_to
from harness.metrics.learned import weights
from harness.metrics.learned.backbones import Backbone, FeatureRequest
from harness.metrics.learned.base import LearnedMetric
from harness.metrics.learned.recipes import LPIPS_FULL, ImagePrep
from harness.types import ScoreInput


class LpipsBackbone(Backbone):
    """``spec.arch`` is the lpips net name: alex | vgg | squeeze."""

    def load(self, config: weights.WeightsConfig) -> None:
        import lpips
        import torch

        self.source = weights.resolve_torchvision_backbone(self.spec.arch, config)
        model = lpips.LPIPS(net=self.spec.arch, pretrained=True, pnet_rand=True, verbose=False)
        if self.source.kind == "file":
            _load_torchvision_features(
                model, torch.load(self.source.location, map_location="cpu", weights_only=True)
            )
        elif self.source.kind == "hub":
            model = lpips.LPIPS(net=self.spec.arch, pretrained=True, pnet_rand=False, verbose=False)
        self.model = model.to(self.device).eval()

    def _forward(self, kind: str, prep: ImagePrep | None, items: list[Any]) -> list[Any]:
        import torch

        if kind != "distance" or prep is None:
            raise ValueError(f"LPIPS backbone has no feature {kind!r}")
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, (a, _b) in enumerate(items):
            by_shape.setdefault(tuple(a.shape), []).append(index)
        outputs: list[Any] = [None] * len(items)
        with torch.inference_mode(), self.autocast():
            for indices in by_shape.values():
                first = self.to_input([items[i][0] for i in indices], prep)
                second = self.to_input([items[i][1] for i in indices], prep)
                distances = self.model(first, second).float().flatten()
                for row, index in enumerate(indices):
                    outputs[index] = distances[row]
        return outputs


def _load_torchvision_features(model: Any, state: dict[str, Any]) -> None:
    """Copy torchvision ``features.<i>.*`` tensors into LPIPS's ``net.slice<k>.<i>.*`` parameters."""
    import torch

    own = model.net.state_dict()
    mapped = {}
    for name in own:
        _slice, index, param = name.split(".", 2)
        source_name = f"features.{index}.{param}"
        if source_name not in state:
            raise weights.MissingWeightsError(
                f"checkpoint lacks {source_name}; is it the right torchvision file?"
            )
        mapped[name] = state[source_name]
    with torch.no_grad():
        model.net.load_state_dict(mapped, strict=True)


class LpipsBase(LearnedMetric):
    family = "lpips"
    packages = ("torch", "lpips")
    higher_is_better = False
    value_range = (0.0, 2.0)

    @classmethod
    def resolve_weights(cls, arch: str, pretrained: str) -> weights.WeightsSource:
        if arch not in weights.TORCHVISION_FILES:
            raise ValueError(f"unknown LPIPS net {arch!r}; use alex, vgg or squeeze")
        return weights.resolve_torchvision_backbone(arch)

    def backbone_factory(self) -> Any:
        return LpipsBackbone

    def preprocessing(self) -> dict[str, Any]:
        return LPIPS_FULL.fingerprint()

    def pair(self, inp: ScoreInput) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        return [FeatureRequest(self.backbone_spec(), "distance", LPIPS_FULL, self.pair(inp))]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        (distance,) = backbone.features(
            "distance", LPIPS_FULL, [self.pair(inp)], weights.current().batch_size
        )
        return float(distance)

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        pairs = [self.pair(inp) for inp in inputs]
        return [
            float(d) for d in backbone.features("distance", LPIPS_FULL, pairs, weights.current().batch_size)
        ]


class Lpips(LpipsBase):
    """LPIPS (AlexNet) between the edited image and the recipe's reference (target by default)."""

    name = "lpips"
    default_arch = "alex"
    requires = frozenset({"edited", "source"})

    def reference(self, inp: ScoreInput) -> np.ndarray:
        return inp.sample.target if self.recipe.reference == "target" else inp.sample.source

    def not_applicable(self, inp: ScoreInput) -> str | None:
        if self.recipe.reference == "target" and inp.sample.target is None:
            return f"sample lacks target (recipe {self.recipe.name} compares with the target)"
        return None

    def pair(self, inp: ScoreInput) -> tuple[np.ndarray, np.ndarray]:
        reference = self.reference(inp)
        return resize_to(inp.edited, reference.shape[:2]), reference


class LpipsVgg(Lpips):
    name = "lpips_vgg"
    default_arch = "vgg"
