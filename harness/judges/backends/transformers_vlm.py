"""A local transformers VLM (e.g. Qwen2-VL / Qwen2.5-VL) as a judge backend, batched.

The model is a local directory or a hub id (``local_files_only`` unless HF_HUB_OFFLINE=0), loaded with
``AutoProcessor`` and ``AutoModelForImageTextToText``. Requests are rendered with the processor's chat
template and generated in batches of ``local_batch_size`` with left padding; greedy at temperature 0,
sampled with a seed per pass otherwise.
"""

from __future__ import annotations

from typing import Any

from harness.judges.backends.base import JudgeReply, JudgeRequest, prepare_image
from harness.judges.config import JudgeConfig


class TransformersVLMBackend:
    provider = "transformers"

    def __init__(self, config: JudgeConfig) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        from harness.metrics.learned import weights

        self.config = config
        source = weights.resolve_hf_model(config.local_model, weights.current())
        if source.kind not in ("dir", "hub"):
            raise weights.MissingWeightsError(f"no weights for the local judge {config.local_model}")
        offline = weights.current().offline
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.processor = AutoProcessor.from_pretrained(source.location, local_files_only=offline)
        self.processor.tokenizer.padding_side = "left"
        self.model = AutoModelForImageTextToText.from_pretrained(
            source.location, local_files_only=offline, dtype=dtype
        ).to(self.device)
        self.model.eval()
        self.model_name = config.local_model

    def complete(self, requests: list[JudgeRequest]) -> list[JudgeReply]:
        replies: list[JudgeReply] = []
        size = max(1, self.config.local_batch_size)
        for start in range(0, len(requests), size):
            chunk = requests[start : start + size]
            try:
                replies += self.generate(chunk)
            except Exception as exc:  # one bad batch is recorded, never raised into the run
                replies += [JudgeReply("error", error=f"{type(exc).__name__}: {exc}"[:300]) for _ in chunk]
        return replies

    def generate(self, requests: list[JudgeRequest]) -> list[JudgeReply]:
        import torch
        from PIL import Image as PILImage

        texts, images = [], []
        for request in requests:
            messages, request_images = [], []
            for turn in request.turns:
                content: list[dict[str, Any]] = [{"type": "image"} for _ in turn.images]
                content.append({"type": "text", "text": turn.text})
                messages.append({"role": turn.role, "content": content})
                request_images += [
                    PILImage.fromarray(prepare_image(im, self.config.max_image_side)) for im in turn.images
                ]
            texts.append(
                self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            )
            images.append(request_images)
        inputs = self.processor(text=texts, images=images, return_tensors="pt", padding=True).to(self.device)
        sample = self.config.temperature > 0
        options: dict[str, Any] = {"max_new_tokens": self.config.max_tokens, "do_sample": sample}
        if sample:
            options["temperature"] = self.config.temperature
            torch.manual_seed(self.config.seed + requests[0].pass_index)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **options)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        texts_out = self.processor.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        pad = self.processor.tokenizer.pad_token_id
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        return [
            JudgeReply(
                "ok",
                text=text,
                model=self.model_name,
                input_tokens=int(prompt_tokens[row]),
                output_tokens=int((new_tokens[row] != pad).sum()),
            )
            for row, text in enumerate(texts_out)
        ]
