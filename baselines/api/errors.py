"""Classified outcomes of a provider call that did not yield an image.

Provider code raises one of these; the transport retries only ``retryable`` ones and the editor
maps the final one onto an ``EditResult`` status.
"""

from __future__ import annotations

from typing import ClassVar

from harness.types import EditStatus


class ApiFailure(Exception):
    """A provider call that ended without an image; ``message`` never contains a credential."""

    status: ClassVar[EditStatus] = "error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retry_after: float | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.http_status = http_status


class Refusal(ApiFailure):
    """The provider declined (moderation, safety filter). Never retried with the same input."""

    status = "refused"


class PermanentFailure(ApiFailure):
    """Quota exhausted, payment required, bad credentials or an invalid request: not retried."""


class ResponseFormatError(ApiFailure):
    """A success status with a body we cannot use (malformed JSON, truncated base64, no image).

    Not retried: the provider may already have billed the call."""


class TransientFailure(ApiFailure):
    """Rate limited, overloaded or a server error: retried after ``retry_after`` or a backoff."""

    retryable = True


class TimeoutFailure(ApiFailure):
    """No response within the per-request timeout, or the edit's total time cap was reached."""

    status = "timeout"
    retryable = True
