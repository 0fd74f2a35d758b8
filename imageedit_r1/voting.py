"""Self-consistency over executed plans: of several candidate plans, keep the one whose edited
image the most candidates agree on.

Plans that differ in wording or order but produce the same pixels count as one answer, so the vote
is over outcomes, not strings. A candidate with no image (unparseable plan, invalid call) has no
vote. Ties go to the earliest candidate. The greedy plan comes first, so it is kept whenever it
produced a valid image and no other outcome has more votes than its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def vote(digests: Sequence[str | None]) -> int:
    """Index of the chosen candidate (0 when no candidate produced a valid image)."""
    counts = Counter(d for d in digests if d is not None)
    if not counts:
        return 0
    top = max(counts.values())
    return next(i for i, d in enumerate(digests) if d is not None and counts[d] == top)
