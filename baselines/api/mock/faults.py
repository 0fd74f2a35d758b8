"""Deterministic fault selection and the mock's fake edit.

A request gets a fault in one of two ways, both reproducible:

* a directive in its prompt, ``[mock:FAULT]`` or ``[mock:FAULT,n=2,retry_after=0.5,polls=3]``:
  the first ``n`` calls (default 1, ``n=all`` for every call) for that prompt get the fault;
* a server-wide spec, ``429=0.1,500=0.05`` (``--faults``): a prompt whose sha256 falls in a
  fault's share gets that fault on its first call only, so a retry succeeds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

FAULTS: tuple[str, ...] = (
    "429",  # rate limited, with the provider's own retry hint
    "quota",  # quota exhausted / payment required: never retried
    "500",
    "503",
    "timeout",  # the server holds the request open for ``hang_s``
    "refusal",  # the provider's refusal, delivered its own way (some as HTTP 200)
    "blocked",  # gemini: promptFeedback.blockReason
    "moderation",  # stability: 403 content_moderation
    "text_only",  # gemini: STOP with text and no image
    "malformed",  # HTTP 200 with a body that is not JSON
    "truncated_b64",  # the image data cut short (base64 or downloaded bytes)
    "expired",  # polling URL / result URL no longer valid
    "invalid",  # request validation error
    "auth",  # bad key; the error echoes the key the client sent (worse than real APIs)
)
DIRECTIVE = re.compile(r"\[mock:([^\]]*)\]")


@dataclass(frozen=True)
class FaultRule:
    name: str
    times: int = 1  # -1: every call
    retry_after: float = 1.0
    polls: int | None = None  # pending polls before a task is ready (bfl, replicate)


def parse_directive(prompt: str) -> FaultRule | None:
    """The ``[mock:...]`` directive in ``prompt``; ValueError on a malformed one."""
    match = DIRECTIVE.search(prompt)
    if not match:
        return None
    name, *options = [item.strip() for item in match.group(1).split(",")]
    if name not in FAULTS and name != "none":
        raise ValueError(f"unknown mock fault {name!r}; known: {', '.join(FAULTS)}")
    values: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("n", "retry_after", "polls"):
            raise ValueError(f"bad mock directive option {option!r}; use n=, retry_after=, polls=")
        values[key] = value
    times = -1 if values.get("n") == "all" else int(values.get("n", 1))
    polls = int(values["polls"]) if "polls" in values else None
    return FaultRule(name, times, float(values.get("retry_after", 1.0)), polls)


@dataclass(frozen=True)
class FaultSpec:
    """Server-wide faults: ``rates`` maps a fault to the share of prompts that get it once."""

    rates: tuple[tuple[str, float], ...] = ()
    retry_after: float = 1.0

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """``"429=0.1,500=0.05,retry_after=0.5"``; ValueError with the reason on bad input."""
        if not text:
            return cls()
        rates: list[tuple[str, float]] = []
        retry_after = 1.0
        for item in text.split(","):
            key, sep, value = item.strip().partition("=")
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not sep or number < 0:
                raise ValueError(f"bad fault spec item {item.strip()!r}: expected FAULT=FRACTION")
            if key == "retry_after":
                retry_after = number
            elif key in FAULTS:
                rates.append((key, number))
            else:
                raise ValueError(f"unknown fault {key!r} in fault spec; known: {', '.join(FAULTS)}")
        if sum(rate for _, rate in rates) > 1.0:
            raise ValueError("fault fractions add up to more than 1")
        return cls(tuple(rates), retry_after)

    def choose(self, provider: str, prompt: str) -> FaultRule | None:
        if not self.rates:
            return None
        digest = hashlib.sha256(f"{provider}|{prompt}".encode()).hexdigest()
        position = int(digest[:12], 16) / float(16**12)
        edge = 0.0
        for name, rate in self.rates:
            edge += rate
            if position < edge:
                return FaultRule(name, 1, self.retry_after)
        return None


def mock_edit(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The mock's deterministic "edit": rotate the colour channels (R,G,B -> G,B,R) inside the mask."""
    rotated = image[:, :, [1, 2, 0]]
    if mask is None:
        return np.ascontiguousarray(rotated)
    return np.where(mask[:, :, None], rotated, image).astype(np.uint8)
