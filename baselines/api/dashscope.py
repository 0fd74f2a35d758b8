"""Alibaba Qwen-Image-Edit on DashScope / Model Studio (synchronous multimodal-generation).

Moderation is HTTP 400 ``DataInspectionFailed``: a refusal. The image comes back as a URL valid
for 24 h, fetched at once. Regions have separate keys; the default host is the Singapore one.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import parse_json, png_data_uri
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask

REFUSAL_CODES = ("DataInspectionFailed", "InvalidParameter.DataInspection", "IPInfringementSuspect")
PERMANENT_CODES = ("Arrearage", "AccessDenied", "InvalidApiKey", "QuotaExhausted")


def classify_dashscope(response: httpx.Response, what: str) -> Any:
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("code") or "")
    message = str(body.get("message") or "")
    if code.startswith(REFUSAL_CODES):
        raise Refusal(f"{what}: refused ({code})", code=code, http_status=response.status_code)
    if code.startswith(PERMANENT_CODES):
        raise PermanentFailure(
            f"{what}: {code}: {message[:300]}", code=code, http_status=response.status_code
        )
    raise http_failure(response, what, message, code=code)


class QwenImageEdit(ApiEditor):
    provider = "dashscope"
    key_env = "DASHSCOPE_API_KEY"
    default_base_url = "https://dashscope-intl.aliyuncs.com"
    endpoint = "/api/v1/services/aigc/multimodal-generation/generation"
    endpoint_version = "v1"
    model = "qwen-image-edit"
    default_params: ClassVar[dict[str, Any]] = {"negative_prompt": " ", "watermark": False}
    default_limits = ProviderLimits(max_concurrency=2)
    capabilities = EditorCapabilities(multi_turn=True, seeded=True, batch_size=32)

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        payload = {
            "model": self.model,
            "input": {
                "messages": [
                    {"role": "user", "content": [{"image": png_data_uri(image)}, {"text": instruction}]}
                ]
            },
            "parameters": {**params, "seed": int(request.seed) % 2147483648},
        }
        what = f"dashscope/{self.model}"
        body = await ctx.request(
            "POST",
            self.url(self.endpoint),
            lambda r: classify_dashscope(r, what),
            what="generation",
            headers={"Authorization": f"Bearer {self._key.reveal()}"},
            json=payload,
        )
        if body.get("request_id"):
            ctx.request_ids.append(str(body["request_id"])[:200])
        try:
            content = body["output"]["choices"][0]["message"]["content"]
            url = next(item["image"] for item in content if isinstance(item, dict) and item.get("image"))
        except (KeyError, IndexError, TypeError, StopIteration) as exc:
            raise ResponseFormatError(f"{what}: response has no output.choices[0] image") from exc
        edited = await self.download_image(ctx, str(url), "result image")
        return TurnOutput(edited, meta={"usage": body.get("usage") or {}})
