"""Shared pieces of the submit-then-poll providers (BFL, Replicate)."""

from __future__ import annotations

import urllib.parse


def trusted_poll_url(poll_url: str, base_url: str, provider_domain: str) -> bool:
    """Whether the API key may be sent to ``poll_url``: the base URL's host, or the provider's domain.

    The URL comes from the response body, so a hostile or broken server could name any host."""
    poll = urllib.parse.urlsplit(poll_url)
    base = urllib.parse.urlsplit(base_url)
    if poll.scheme not in ("http", "https") or not poll.hostname:
        return False
    if (poll.hostname, poll.port) == (base.hostname, base.port):
        return True
    return poll.scheme == "https" and (
        poll.hostname == provider_domain or poll.hostname.endswith("." + provider_domain)
    )
