"""Open-vocabulary grounding tools: OWLv2 and Grounding DINO through transformers.

``ground(query)`` returns the detector's boxes above ``threshold`` as regions (normalised boxes,
scores). Models load lazily by id or local path; a test passes tiny random models instead, and
then every output is smoke."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from baselines.tools.calls import ToolResult
from baselines.tools.learned.loading import load_pretrained, weights_reason
from baselines.tools.specs import spec
from baselines.tools.workspace import Workspace


class _Detector:
    spec = spec("ground")
    default_model = ""
    model_class = ""
    processor_class = ""

    def __init__(
        self,
        model: str | None = None,
        *,
        threshold: float = 0.1,
        device: str = "auto",
        network: Any = None,
        processor: Any = None,
        smoke: bool = False,
    ) -> None:
        self.model = model or self.default_model
        self.threshold = float(threshold)
        self.device = device
        self._network, self._processor = network, processor
        self.smoke = bool(smoke)

    @classmethod
    def unavailable_reason(cls, model: str | None = None) -> str | None:
        return weights_reason(model or cls.default_model, cls.__name__)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "impl": type(self).__name__,
            "model": self.model,
            "threshold": self.threshold,
            "smoke": self.smoke,
        }

    def loaded(self) -> tuple[Any, Any]:
        if self._network is None:
            import transformers

            self._network, self._processor, marker = load_pretrained(
                getattr(transformers, self.model_class),
                getattr(transformers, self.processor_class),
                self.model,
                self.device,
            )
            self.smoke = self.smoke or marker
        return self._network, self._processor

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        query = str(arguments["query"])
        boxes, scores = self.detect(ws.image, query)
        keep = np.argsort(-scores)[: int(arguments["max_regions"])]
        regions = []
        for index in keep:
            x0, y0, x1, y1 = boxes[index]
            box = (
                float(np.clip(x0 / ws.width, 0, 1)),
                float(np.clip(y0 / ws.height, 0, 1)),
                float(np.clip(x1 / ws.width, 0, 1)),
                float(np.clip(y1 / ws.height, 0, 1)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            regions.append(ws.add_region(query, box, score=float(scores[index])).describe())
        if not regions:
            return ToolResult.failure(f"no box for '{query}' above score {self.threshold}")
        return ToolResult(ok=True, output={"regions": regions, "total": len(regions)})

    def detect(self, image: np.ndarray, query: str) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class Owlv2Ground(_Detector):
    """OWLv2 (Minderer et al., 2023). Boxes refer to the image padded to a square, as its processor does."""

    default_model = "google/owlv2-base-patch16-ensemble"
    model_class = "Owlv2ForObjectDetection"
    processor_class = "Owlv2Processor"

    def detect(self, image: np.ndarray, query: str) -> tuple[np.ndarray, np.ndarray]:
        import torch

        network, processor = self.loaded()
        inputs = processor(text=[[query]], images=image, return_tensors="pt").to(network.device)
        with torch.inference_mode():
            outputs = network(**inputs)
        side = max(image.shape[:2])
        result = processor.post_process_grounded_object_detection(
            outputs, threshold=self.threshold, target_sizes=[(side, side)], text_labels=[[query]]
        )[0]
        return result["boxes"].float().cpu().numpy(), result["scores"].float().cpu().numpy()


class GroundingDinoGround(_Detector):
    """Grounding DINO (Liu et al., 2023); the query is lower-cased and ends with a period, as it expects."""

    default_model = "IDEA-Research/grounding-dino-tiny"
    model_class = "GroundingDinoForObjectDetection"
    processor_class = "GroundingDinoProcessor"

    def __init__(self, model: str | None = None, *, text_threshold: float = 0.25, **kwargs: Any) -> None:
        kwargs.setdefault("threshold", 0.35)
        super().__init__(model, **kwargs)
        self.text_threshold = float(text_threshold)

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "text_threshold": self.text_threshold}

    def detect(self, image: np.ndarray, query: str) -> tuple[np.ndarray, np.ndarray]:
        import torch

        network, processor = self.loaded()
        text = query.lower().strip().rstrip(".") + "."
        inputs = processor(images=image, text=text, return_tensors="pt").to(network.device)
        with torch.inference_mode():
            outputs = network(**inputs)
        result = processor.post_process_grounded_object_detection(
            outputs,
            inputs["input_ids"],
            threshold=self.threshold,
            text_threshold=self.text_threshold,
            target_sizes=[image.shape[:2]],
        )[0]
        return result["boxes"].float().cpu().numpy(), result["scores"].float().cpu().numpy()
