"""CLIP metrics on open_clip: clip_i, clip_t, clip_out, clip_dir (MagicBrush / Emu Edit conventions).

- ``clip_i``: cosine of image embeddings, edited vs the recipe's reference (target, or source for Emu).
- ``clip_t``: cosine of the edited image with the output caption (MagicBrush: the local caption).
- ``clip_out``: the same with Emu Edit's output caption.
- ``clip_dir``: cosine of (E(edited) - E(source)) with (T(output caption) - T(input caption)).

The default model is ViT-B-32 with OpenAI weights; ``clip_i@ViT-L-14`` and friends are distinct
metrics, and any open_clip architecture/tag can be named: ``clip_i:arch=ViT-L-14,pretrained=openai``.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from harness.fingerprint import canonical_json
from harness.metrics.learned import weights
from harness.metrics.learned.backbones import Backbone, FeatureRequest
from harness.metrics.learned.base import LearnedMetric, row_dots
from harness.metrics.learned.recipes import CLIP_224, ImagePrep
from harness.types import ScoreInput


class OpenClipBackbone(Backbone):
    def load(self, config: weights.WeightsConfig) -> None:
        import open_clip

        self.source = weights.resolve_open_clip(self.spec.arch, self.spec.pretrained, config)
        if self.source.kind == "file":
            pretrained: str | None = self.source.location
        elif self.source.kind == "hub":
            pretrained = self.spec.pretrained
        else:
            pretrained = None
        model = open_clip.create_model(self.spec.arch, pretrained=pretrained, device=self.device)
        self.model = model.eval()
        self.tokenizer = open_clip.get_tokenizer(self.spec.arch)
        self.tokenizer_id = _tokenizer_identity(self.spec.arch, self.tokenizer)
        size = getattr(model.visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)

    def tokens(self, texts: Sequence[str]) -> Any:
        """Token rows of ``texts`` (N, context length), memoised per text across backbones whose
        tokenizers are interchangeable (open_clip pads every text to the context length on its own)."""
        import torch

        with _token_lock:
            missing = [t for t in dict.fromkeys(texts) if (self.tokenizer_id, t) not in _token_rows]
            rows = self.tokenizer(missing) if missing else []
            for text, row in zip(missing, rows, strict=True):
                _token_rows[(self.tokenizer_id, text)] = row
            found = []
            for text in texts:
                _token_rows.move_to_end((self.tokenizer_id, text))
                found.append(_token_rows[(self.tokenizer_id, text)])
            while len(_token_rows) > TOKEN_ROWS:
                _token_rows.popitem(last=False)
        return torch.stack(found)

    def _forward(self, kind: str, prep: ImagePrep | None, items: list[Any]) -> list[Any]:
        import torch

        def encode_image(x: Any) -> Any:
            return torch.nn.functional.normalize(self.model.encode_image(x).float(), dim=-1)

        with torch.inference_mode(), self.autocast():
            if kind == "image" and prep is not None:
                return self.run_images(items, prep, encode_image)
            if kind == "text":
                tokens = self.tokens(items).to(self.device, non_blocking=True)
                return list(torch.nn.functional.normalize(self.model.encode_text(tokens).float(), dim=-1))
        raise ValueError(f"open_clip backbone has no feature {kind!r}")


TOKEN_ROWS = 8192
_token_rows: OrderedDict[tuple[Hashable, str], Any] = OrderedDict()
_token_lock = threading.Lock()


def _tokenizer_identity(arch: str, tokenizer: Any) -> Hashable:
    """Equal for tokenizers that give the same tokens: open_clip's default BPE tokenizer built from the
    same context length and tokenizer options; any other tokenizer is its own (a fresh key)."""
    from open_clip import get_model_config
    from open_clip.tokenizer import SimpleTokenizer

    text_cfg = (get_model_config(arch) or {}).get("text_cfg") or {}
    if type(tokenizer) is SimpleTokenizer and not text_cfg.get("hf_tokenizer_name"):
        options = canonical_json(text_cfg.get("tokenizer_kwargs") or {})
        return ("open_clip.SimpleTokenizer", tokenizer.context_length, options)
    return ("own", object())


class ClipMetric(LearnedMetric):
    family = "open_clip"
    packages = ("torch", "open_clip")
    default_arch = "ViT-B-32"
    default_pretrained = "openai"
    value_range = (-1.0, 1.0)

    @classmethod
    def resolve_weights(cls, arch: str, pretrained: str) -> weights.WeightsSource:
        return weights.resolve_open_clip(arch, pretrained)

    def backbone_factory(self) -> Any:
        return OpenClipBackbone

    def image_prep(self) -> ImagePrep:
        """CLIP's own preprocessing at the model's input size (224, or 336 for the -336 models)."""
        size = _open_clip_image_size(self.arch)
        return CLIP_224 if size == 224 else ImagePrep(size=size, crop_size=size)

    def preprocessing(self) -> dict[str, Any]:
        return self.image_prep().fingerprint()

    def image_request(self, image: Any) -> FeatureRequest:
        return FeatureRequest(self.backbone_spec(), "image", self.image_prep(), image)

    def text_request(self, text: str) -> FeatureRequest:
        return FeatureRequest(self.backbone_spec(), "text", None, text)

    def image_features(self, backbone: Backbone, *images: Any) -> list[Any]:
        return backbone.features("image", self.image_prep(), list(images), weights.current().batch_size)

    def text_features(self, backbone: Backbone, *texts: str) -> list[Any]:
        return backbone.features("text", None, list(texts), weights.current().batch_size)

    def reference(self, inp: ScoreInput) -> Any:
        return inp.sample.target if self.recipe.reference == "target" else inp.sample.source


class ClipI(ClipMetric):
    name = "clip_i"
    requires = frozenset({"edited", "source"})

    def not_applicable(self, inp: ScoreInput) -> str | None:
        if self.recipe.reference == "target" and inp.sample.target is None:
            return f"sample lacks target (recipe {self.recipe.name} compares with the target)"
        return None

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        return [self.image_request(inp.edited), self.image_request(self.reference(inp))]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        edited, ref = self.image_features(backbone, inp.edited, self.reference(inp))
        return float((edited * ref).sum())

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        n = len(inputs)
        images = [inp.edited for inp in inputs] + [self.reference(inp) for inp in inputs]
        features = self.image_features(backbone, *images)
        return row_dots(features[:n], features[n:])


class ClipT(ClipMetric):
    """Image-text cosine with the recipe's output caption (MagicBrush CLIP-T uses local captions)."""

    name = "clip_t"
    requires = frozenset({"edited", "captions"})
    caption_role: ClassVar[str] = "output"

    def not_applicable(self, inp: ScoreInput) -> str | None:
        if self.recipe.output_caption(inp.sample.captions) is None:
            keys = "/".join(self.recipe.output_caption_keys)
            return f"sample lacks an output caption ({keys}) for recipe {self.recipe.name}"
        return None

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        caption = self.recipe.output_caption(inp.sample.captions) or ""
        return [self.image_request(inp.edited), self.text_request(caption)]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        caption = self.recipe.output_caption(inp.sample.captions) or ""
        (image,) = self.image_features(backbone, inp.edited)
        (text,) = self.text_features(backbone, caption)
        return float((image * text).sum())

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        captions = [self.recipe.output_caption(inp.sample.captions) or "" for inp in inputs]
        images = self.image_features(backbone, *[inp.edited for inp in inputs])
        return row_dots(images, self.text_features(backbone, *captions))


class ClipOut(ClipT):
    """Emu Edit's CLIP-out: the edited image against the output caption."""

    name = "clip_out"
    default_recipe = "emu_edit"


class ClipDir(ClipMetric):
    """Directional CLIP similarity: the image change against the caption change."""

    name = "clip_dir"
    requires = frozenset({"edited", "source", "captions"})
    default_recipe = "emu_edit"

    def captions(self, inp: ScoreInput) -> tuple[str | None, str | None]:
        return self.recipe.input_caption(inp.sample.captions), self.recipe.output_caption(inp.sample.captions)

    def not_applicable(self, inp: ScoreInput) -> str | None:
        before, after = self.captions(inp)
        if before is None or after is None:
            return f"sample lacks input and output captions for recipe {self.recipe.name}"
        return None

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        before, after = self.captions(inp)
        return [
            self.image_request(inp.edited),
            self.image_request(inp.sample.source),
            self.text_request(before or ""),
            self.text_request(after or ""),
        ]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        import torch

        before, after = self.captions(inp)
        edited, source = self.image_features(backbone, inp.edited, inp.sample.source)
        t_before, t_after = self.text_features(backbone, before or "", after or "")
        # an unchanged image (or caption) has no direction: torch's eps makes the cosine 0
        return float(torch.nn.functional.cosine_similarity(edited - source, t_after - t_before, dim=0))

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        import torch

        n = len(inputs)
        captions = [self.captions(inp) for inp in inputs]
        texts = [before or "" for before, _ in captions] + [after or "" for _, after in captions]
        images = [inp.edited for inp in inputs] + [inp.sample.source for inp in inputs]
        image = torch.stack(self.image_features(backbone, *images))
        text = torch.stack(self.text_features(backbone, *texts))
        cosines = torch.nn.functional.cosine_similarity(image[:n] - image[n:], text[n:] - text[:n], dim=1)
        return cosines.tolist()


class ClipWhole(ClipT):
    """PIE-Bench CLIP similarity of the whole edited image with the target prompt: torchmetrics' CLIPScore
    convention, 100 * max(cosine, 0), on CLIP ViT-L/14 (OpenAI weights)."""

    name = "clip_whole"
    default_arch = "ViT-L-14"
    default_recipe = "pie_bench"
    value_range = (0.0, 100.0)

    def image_of(self, inp: ScoreInput) -> Any:
        return inp.edited

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        caption = self.recipe.output_caption(inp.sample.captions) or ""
        return [self.image_request(self.image_of(inp)), self.text_request(caption)]

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        caption = self.recipe.output_caption(inp.sample.captions) or ""
        (image,) = self.image_features(backbone, self.image_of(inp))
        (text,) = self.text_features(backbone, caption)
        return 100.0 * max(float((image * text).sum()), 0.0)

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        captions = [self.recipe.output_caption(inp.sample.captions) or "" for inp in inputs]
        images = self.image_features(backbone, *[self.image_of(inp) for inp in inputs])
        return [
            100.0 * max(cosine, 0.0) for cosine in row_dots(images, self.text_features(backbone, *captions))
        ]


class ClipEdited(ClipWhole):
    """PIE-Bench CLIP similarity of the edited region only (pixels outside the edit mask zeroed)."""

    name = "clip_edited"
    requires = frozenset({"edited", "captions", "mask"})

    def not_applicable(self, inp: ScoreInput) -> str | None:
        return "sample lacks mask" if inp.sample.mask is None else super().not_applicable(inp)

    def image_of(self, inp: ScoreInput) -> Any:
        from harness.images import resize_to
        from harness.metrics.learned.recipes import pie_mask, pie_square

        size = self.recipe.pie_size
        edited = pie_square(resize_to(inp.edited, inp.sample.source.shape[:2]), size)
        mask = pie_mask(inp.sample.mask, size, self.recipe.mask_border_edited)
        return edited * mask[..., None]


@functools.lru_cache(maxsize=64)
def _open_clip_image_size(arch: str) -> int:
    try:
        from open_clip import get_model_config
    except ImportError:
        return 224
    size = ((get_model_config(arch) or {}).get("vision_cfg") or {}).get("image_size", 224)
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def _variant(base: type[ClipMetric], arch: str) -> type[ClipMetric]:
    return type(
        f"{base.__name__}_{arch.replace('-', '')}",
        (base,),
        {"name": f"{base.name}@{arch}", "default_arch": arch},
    )


ClipIViTL14 = _variant(ClipI, "ViT-L-14")
ClipTViTL14 = _variant(ClipT, "ViT-L-14")
ClipOutViTL14 = _variant(ClipOut, "ViT-L-14")
ClipDirViTL14 = _variant(ClipDir, "ViT-L-14")
