"""Gemini 2.5 Flash Image: ``generateContent`` with the image as inline data.

Safety outcomes arrive as HTTP 200: ``promptFeedback.blockReason`` or a candidate
``finishReason`` other than STOP with no image part. Both are refusals with that code.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import decode_b64_image, parse_json, png_b64
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError
from baselines.api.pricing import TOKEN_RATES
from baselines.api.transport import CallContext, ProviderLimits, http_failure, parse_duration
from harness.types import EditRequest, Image, Mask


def classify_gemini(response: httpx.Response, what: str) -> Any:
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    status = str(error.get("status") or "")
    message = str(error.get("message") or "")
    retry_after = None
    daily = False
    for detail in error.get("details") or []:
        kind = str(detail.get("@type", ""))
        if kind.endswith("RetryInfo"):
            retry_after = parse_duration(detail.get("retryDelay"))
        if kind.endswith("QuotaFailure"):
            for violation in detail.get("violations") or []:
                daily = daily or "PerDay" in str(violation.get("quotaId", ""))
    if response.status_code == 429 and daily:
        raise PermanentFailure(
            f"{what}: daily quota exhausted: {message[:300]}", code=status, http_status=429
        )
    raise http_failure(response, what, message, code=status, retry_after=retry_after)


class GeminiImageEditor(ApiEditor):
    provider = "gemini"
    key_env = "GEMINI_API_KEY"
    default_base_url = "https://generativelanguage.googleapis.com"
    endpoint = "/v1beta/models/{model}:generateContent"
    endpoint_version = "v1beta"
    model = "gemini-2.5-flash-image"
    default_params: ClassVar[dict[str, Any]] = {"response_modalities": ["IMAGE"], "aspect_ratio": ""}
    default_limits = ProviderLimits(max_concurrency=8)

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        config: dict[str, Any] = {"responseModalities": list(params["response_modalities"])}
        if params["aspect_ratio"]:
            config["imageConfig"] = {"aspectRatio": params["aspect_ratio"]}
        payload = {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": instruction},
                        {"inlineData": {"mimeType": "image/png", "data": png_b64(image)}},
                    ],
                }
            ],
            "generationConfig": config,
        }
        what = f"gemini/{self.model} generateContent"
        body = await ctx.request(
            "POST",
            self.url(self.endpoint.format(model=self.model)),
            lambda r: classify_gemini(r, what),
            what="generateContent",
            headers={"x-goog-api-key": self._key.reveal()},
            json=payload,
        )
        if body.get("responseId"):
            ctx.request_ids.append(str(body["responseId"])[:200])
        edited, finish = _image_from_candidates(body, what)
        usage = body.get("usageMetadata") or {}
        prompt_tokens = int(usage.get("promptTokenCount") or 0)
        output_tokens = int(usage.get("candidatesTokenCount") or 0)
        cost = TOKEN_RATES[self.model].cost(prompt_tokens, 0, output_tokens) if usage else None
        return TurnOutput(
            edited,
            input_tokens=prompt_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            meta={"finish_reason": finish, "model_version": body.get("modelVersion")},
        )


def _image_from_candidates(body: dict[str, Any], what: str) -> tuple[Image, str]:
    block = (body.get("promptFeedback") or {}).get("blockReason")
    if block:
        raise Refusal(f"{what}: prompt blocked ({block})", code=str(block))
    candidates = body.get("candidates") or []
    if not candidates:
        raise ResponseFormatError(f"{what}: response has no candidates")
    candidate = candidates[0]
    finish = str(candidate.get("finishReason") or "")
    texts = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        inline = part.get("inlineData") or part.get("inline_data")
        if inline:
            return decode_b64_image(inline.get("data"), what), finish
        if part.get("text"):
            texts.append(str(part["text"]))
    if finish and finish != "STOP":
        raise Refusal(f"{what}: no image, finishReason {finish}", code=finish)
    said = " ".join(texts)[:200]
    raise ResponseFormatError(
        f"{what}: response has no image part" + (f" (text only: {said!r})" if said else "")
    )
