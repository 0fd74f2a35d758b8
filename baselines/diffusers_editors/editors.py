"""The open-weights editors: InstructPix2Pix, MagicBrush, FLUX.1 Kontext [dev], Qwen-Image-Edit
and Stable Diffusion inpainting. Defaults follow each model card / paper; every one of them is in
the fingerprint and can be overridden (``--editor-option`` or keyword arguments)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from baselines.diffusers_editors.base import DiffusersEditor, DiffusionSettings, PreparedItem


class InstructPix2PixEditor(DiffusersEditor):
    """InstructPix2Pix (Brooks et al., 2023): 512 px, text guidance 7.5, image guidance 1.5."""

    name = "instruct-pix2pix"
    pipeline_class = "StableDiffusionInstructPix2PixPipeline"
    defaults = DiffusionSettings(
        model="timbrooks/instruct-pix2pix",
        steps=50,
        guidance_scale=7.5,
        image_guidance_scale=1.5,
        resolution=512,
        multiple=64,
        batch_size=1,
    )

    cuda_dtype = "float16"

    def call_arguments(self, items: Sequence[PreparedItem]) -> dict[str, Any]:
        s = self.settings
        return {
            "prompt": [item.request.instruction for item in items],
            "image": [item.image for item in items],
            "num_inference_steps": int(self.param(items, "steps", s.steps)),
            "guidance_scale": float(self.param(items, "guidance_scale", s.guidance_scale)),
            "image_guidance_scale": float(self.param(items, "image_guidance_scale", s.image_guidance_scale)),
        }


class MagicBrushEditor(InstructPix2PixEditor):
    """InstructPix2Pix fine-tuned on MagicBrush (Zhang et al., 2023), diffusers conversion."""

    name = "magicbrush"
    defaults = DiffusionSettings(
        model="vinesmsuic/magicbrush-jul7",
        steps=50,
        guidance_scale=7.5,
        image_guidance_scale=1.5,
        resolution=512,
        multiple=64,
        batch_size=1,
    )


class FluxKontextEditor(DiffusersEditor):
    """FLUX.1 Kontext [dev]: 28 steps, distilled guidance 2.5, the pipeline's preferred ~1 MP size."""

    name = "flux-kontext-dev"
    pipeline_class = "FluxKontextPipeline"
    weights_hint = "accept the FLUX.1 [dev] licence on the hub first; or pass flux-kontext-dev:/path/to/dir"
    defaults = DiffusionSettings(
        model="black-forest-labs/FLUX.1-Kontext-dev",
        steps=28,
        guidance_scale=2.5,
        resolution=1024,
        resolution_rule="pipeline",
        multiple=16,
        batch_size=1,
        extra={"max_sequence_length": 512},
    )

    def call_arguments(self, items: Sequence[PreparedItem]) -> dict[str, Any]:
        s = self.settings
        sizing: dict[str, Any] = {"max_area": s.resolution * s.resolution}
        if s.resolution_rule == "long-side":  # our size instead of Kontext's preferred list
            width, height = items[0].image.size
            sizing = {"height": height, "width": width, "max_area": height * width, "_auto_resize": False}
        return {
            "prompt": [item.request.instruction for item in items],
            "image": [item.image for item in items],
            "num_inference_steps": int(self.param(items, "steps", s.steps)),
            "guidance_scale": float(self.param(items, "guidance_scale", s.guidance_scale)),
            "max_sequence_length": int(s.extra.get("max_sequence_length", 512)),
            **sizing,
        }


class QwenImageEditEditor(DiffusersEditor):
    """Qwen-Image-Edit: 50 steps, true CFG 4.0 with an empty negative prompt, ~1 MP output.
    The pipeline conditions each prompt on exactly one image, so it runs one request at a time."""

    name = "qwen-image-edit"
    pipeline_class = "QwenImageEditPipeline"
    max_batch = 1
    defaults = DiffusionSettings(
        model="Qwen/Qwen-Image-Edit",
        steps=50,
        guidance_scale=1.0,
        true_cfg_scale=4.0,
        negative_prompt=" ",
        resolution=1024,
        resolution_rule="pipeline",
        multiple=16,
        batch_size=1,
    )

    def call_arguments(self, items: Sequence[PreparedItem]) -> dict[str, Any]:
        s = self.settings
        (item,) = items
        sizing: dict[str, Any] = {}
        if s.resolution_rule == "long-side":  # the output size; the condition image stays ~1 MP
            width, height = item.image.size
            sizing = {"height": height, "width": width}
        return {
            **sizing,
            "prompt": item.request.instruction,
            "image": item.image,
            "negative_prompt": s.negative_prompt,
            "num_inference_steps": int(self.param(items, "steps", s.steps)),
            "true_cfg_scale": float(self.param(items, "true_cfg_scale", s.true_cfg_scale)),
        }


class SDInpaintEditor(DiffusersEditor):
    """Stable Diffusion 1.5 inpainting: repaints the request's mask from the instruction text."""

    name = "sd-inpaint"
    pipeline_class = "StableDiffusionInpaintPipeline"
    needs_mask = True
    defaults = DiffusionSettings(
        model="stable-diffusion-v1-5/stable-diffusion-inpainting",
        steps=50,
        guidance_scale=7.5,
        strength=1.0,
        resolution=512,
        multiple=8,
        batch_size=1,
    )

    cuda_dtype = "float16"

    def call_arguments(self, items: Sequence[PreparedItem]) -> dict[str, Any]:
        s = self.settings
        width, height = items[0].image.size
        return {
            "prompt": [item.request.instruction for item in items],
            "image": [item.image for item in items],
            "mask_image": [item.mask for item in items],
            "height": height,
            "width": width,
            "strength": float(self.param(items, "strength", s.strength)),
            "num_inference_steps": int(self.param(items, "steps", s.steps)),
            "guidance_scale": float(self.param(items, "guidance_scale", s.guidance_scale)),
        }
