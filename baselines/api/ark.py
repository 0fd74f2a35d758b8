"""ByteDance SeedEdit 3.0 and Seedream 4.0 on Volcengine Ark (``/api/v3/images/generations``).

Moderation is an HTTP 400 whose ``error.code`` contains ``SensitiveContentDetected``: a refusal.
For BytePlus ModelArk set ``IEVAL_ARK_BASE_URL=https://ark.ap-southeast.bytepluses.com`` and
``model_id`` to the id without the ``doubao-`` prefix.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import decode_b64_image, parse_json, png_data_uri
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask

PERMANENT_CODES = ("AccountOverdue", "QuotaExceeded", "ServiceNotOpen", "AuthenticationError")


def classify_ark(response: httpx.Response, what: str) -> Any:
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or "")
    message = str(error.get("message") or "")
    if "SensitiveContentDetected" in code:
        raise Refusal(f"{what}: refused ({code})", code=code, http_status=response.status_code)
    if any(code.startswith(prefix) for prefix in PERMANENT_CODES):
        raise PermanentFailure(
            f"{what}: {code}: {message[:300]}", code=code, http_status=response.status_code
        )
    raise http_failure(response, what, message, code=code)


class ArkImageEditor(ApiEditor):
    provider = "ark"
    key_env = "ARK_API_KEY"
    default_base_url = "https://ark.cn-beijing.volces.com"
    endpoint = "/api/v3/images/generations"
    endpoint_version = "v3"
    default_limits = ProviderLimits(max_concurrency=8)
    capabilities = EditorCapabilities(multi_turn=True, seeded=True, batch_size=32)

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        payload: dict[str, Any] = {
            "prompt": instruction,
            "image": png_data_uri(image),
            "response_format": "b64_json",
            **params,
        }
        if "guidance_scale" in params:  # the v3 models take a seed; 4.x ignores it
            payload["seed"] = int(request.seed)
        what = f"ark/{self.model}"
        body = await ctx.request(
            "POST",
            self.url(self.endpoint),
            lambda r: classify_ark(r, what),
            what="images.generations",
            headers={"Authorization": f"Bearer {self._key.reveal()}"},
            json=payload,
        )
        try:
            item = body["data"][0]
        except (KeyError, IndexError, TypeError) as exc:
            raise ResponseFormatError(f"{what}: response has no data[0]") from exc
        error = item.get("error") if isinstance(item, dict) else None
        if error:
            code = str(error.get("code") or "")
            if "SensitiveContentDetected" in code:
                raise Refusal(f"{what}: refused ({code})", code=code)
            raise PermanentFailure(f"{what}: image failed: {code}", code=code)
        if item.get("b64_json"):
            edited = decode_b64_image(item["b64_json"], what)
        elif item.get("url"):
            edited = await self.download_image(ctx, str(item["url"]), "data[0].url")
        else:
            raise ResponseFormatError(f"{what}: data[0] has neither b64_json nor url")
        usage = body.get("usage") or {}
        return TurnOutput(
            edited, output_tokens=int(usage.get("output_tokens") or 0), meta={"size": item.get("size")}
        )


class SeedEdit30(ArkImageEditor):
    model = "seededit-3.0"
    default_params: ClassVar[dict[str, Any]] = {
        "model": "doubao-seededit-3-0-i2i-250628",
        "size": "adaptive",
        "guidance_scale": 5.5,
        "watermark": False,
    }


class Seedream40(ArkImageEditor):
    model = "seedream-4.0"
    default_params: ClassVar[dict[str, Any]] = {
        "model": "doubao-seedream-4-0-250828",
        "size": "2K",
        "sequential_image_generation": "disabled",
        "watermark": False,
    }
