"""Judge settings: one process-wide ``JudgeConfig`` set by the CLI or by Python (``configure``).

Nothing deeper in the judge code reads the environment, except the API key, which is read from the
variable named by ``api_key_env`` when a backend is built and is never written anywhere.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

# USD per million (input, output) tokens, OpenAI list prices (openai.com/api/pricing, 2025);
# override with ``configure(prices={model: (in, out)})``. Unknown models cost 0 (local servers).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-2025-04-14": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-2024-08-06": (2.5, 10.0),
    "gpt-4o-2024-11-20": (2.5, 10.0),
}


@dataclass(frozen=True)
class JudgeConfig:
    backend: Literal["openai", "transformers"] = "openai"
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4.1-2025-04-14"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    seed: int = 1234
    passes: int = 1
    max_tokens: int = 1024
    image_encoding: Literal["png", "jpeg"] = "png"
    jpeg_quality: int = 95
    max_image_side: int | None = None  # e.g. 768 for RISEBench's thumbnails
    structured_output: Literal["json_schema", "json_object", "none"] = "json_schema"
    max_reask: int = 1
    max_retries: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    timeout_s: float = 120.0
    concurrency: int = 8
    max_judge_usd: float | None = None
    prices: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    cache_dir: Path | None = None
    template_dir: Path | None = None  # official template files given by the user
    ledger_path: Path | None = None  # JSONL cost ledger of this run
    local_model: str = ""  # transformers backend: a model id or local directory
    local_batch_size: int = 4

    def decoding(self) -> dict[str, Any]:
        """The settings that change a reply: part of every cache key and of the judge's fingerprint."""
        return {
            "backend": self.backend,
            "model": self.model if self.backend == "openai" else self.local_model,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "image_encoding": self.image_encoding,
            "jpeg_quality": self.jpeg_quality if self.image_encoding == "jpeg" else None,
            "max_image_side": self.max_image_side,
            "structured_output": self.structured_output,
        }

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        root = os.environ.get("IEVAL_CACHE_DIR")
        return Path(root) if root else Path.home() / ".cache" / "ieval"

    def public(self) -> dict[str, Any]:
        """The settings as recorded in manifests (no key: only the variable's name)."""
        data = asdict(self)
        data["prices"] = {k: list(v) for k, v in self.prices.items()}
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


_config: JudgeConfig | None = None


def current() -> JudgeConfig:
    global _config
    if _config is None:
        _config = JudgeConfig()
    return _config


def configure(**changes: Any) -> JudgeConfig:
    """Set judge options, e.g. ``configure(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-vl")``."""
    global _config
    for key in ("cache_dir", "template_dir", "ledger_path"):
        if changes.get(key) is not None:
            changes[key] = Path(changes[key]).expanduser()
    _config = replace(current(), **changes)
    from harness.judges import ledger

    ledger.reset_run_ledger()
    return _config


def reset() -> None:
    global _config
    _config = None
    from harness.judges import ledger

    ledger.reset_run_ledger()
