"""SAM (Kirillov et al., 2023) through transformers: segment(region) prompts SAM with the
region's box and keeps the mask with the highest predicted IoU."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baselines.tools.calls import ToolResult
from baselines.tools.learned.loading import load_pretrained, weights_reason
from baselines.tools.specs import spec
from baselines.tools.workspace import Workspace


class SamSegment:
    spec = spec("segment")
    default_model = "facebook/sam-vit-base"

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "auto",
        network: Any = None,
        processor: Any = None,
        smoke: bool = False,
    ) -> None:
        self.model = model or self.default_model
        self.device = device
        self._network, self._processor = network, processor
        self.smoke = bool(smoke)

    @classmethod
    def unavailable_reason(cls, model: str | None = None) -> str | None:
        return weights_reason(model or cls.default_model, "SAM")

    def fingerprint(self) -> dict[str, Any]:
        return {"impl": "SamSegment", "model": self.model, "smoke": self.smoke}

    def loaded(self) -> tuple[Any, Any]:
        if self._network is None:
            from transformers import SamModel, SamProcessor

            self._network, self._processor, marker = load_pretrained(
                SamModel, SamProcessor, self.model, self.device
            )
            self.smoke = self.smoke or marker
        return self._network, self._processor

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        import torch

        region = ws.regions.get(arguments["region"])
        if region is None:
            return ToolResult.failure(f"unknown region '{arguments['region']}'", invalid=True)
        network, processor = self.loaded()
        x0, y0, x1, y1 = region.box
        box = [[[x0 * ws.width, y0 * ws.height, x1 * ws.width, y1 * ws.height]]]
        inputs = processor(images=ws.image, input_boxes=box, return_tensors="pt").to(network.device)
        with torch.inference_mode():
            outputs = network(**inputs, multimask_output=True)
        masks = processor.image_processor.post_process_masks(
            outputs.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu()
        )[0][0]
        scores = outputs.iou_scores[0, 0].float().cpu()
        best = int(torch.argmax(scores))
        mask = masks[best].numpy().astype(bool)
        if not mask.any():
            return ToolResult.failure(f"SAM returned an empty mask for {region.id}")
        mask_id = ws.add_mask(mask)
        region.mask_id = mask_id
        return ToolResult(
            ok=True,
            output={"mask": mask_id, "area": round(float(mask.mean()), 5), "iou": float(scores[best])},
        )
