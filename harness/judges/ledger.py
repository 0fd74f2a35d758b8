"""The per-run cost ledger of judge calls and the ``max_judge_usd`` budget.

Every paid call is checked against the budget before it is sent (``try_reserve``) and entered with
its token usage and price afterwards (``record``). Once the spend reaches the budget no further paid
call is sent: the judge records ``error`` / "budget exhausted" instead of a score. Cached replies cost
nothing and are entered as such.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class LedgerEntry:
    judge: str
    sample_id: str
    prompt: str
    pass_index: int
    model: str
    input_tokens: int
    output_tokens: int
    usd: float
    cached: bool
    status: str


class BudgetExhausted(RuntimeError):
    def __str__(self) -> str:
        return "budget exhausted"


class CostLedger:
    def __init__(self, max_usd: float | None = None, path: Path | None = None) -> None:
        self.max_usd = max_usd
        self.path = path
        self.entries: list[LedgerEntry] = []
        self.spent_usd = 0.0
        self.in_flight = 0
        self._lock = threading.Lock()

    def try_reserve(self) -> None:
        """Raise BudgetExhausted when the budget is spent; else count one call in flight."""
        with self._lock:
            if self.max_usd is not None and self.spent_usd >= self.max_usd:
                raise BudgetExhausted()
            self.in_flight += 1

    def release(self) -> None:
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self.entries.append(entry)
            self.spent_usd += entry.usd
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(asdict(entry), sort_keys=True) + "\n")

    def summary(self) -> dict[str, float | int]:
        with self._lock:
            paid = [e for e in self.entries if not e.cached]
            return {
                "calls": len(paid),
                "cached_calls": len(self.entries) - len(paid),
                "input_tokens": sum(e.input_tokens for e in paid),
                "output_tokens": sum(e.output_tokens for e in paid),
                "usd": round(self.spent_usd, 6),
            }


def price_usd(
    prices: dict[str, tuple[float, float]], model: str, input_tokens: int, output_tokens: int
) -> float:
    """USD of one call; the provider's dated snapshot falls back to its base name's price."""
    rate = prices.get(model)
    if rate is None:
        for name, value in prices.items():
            if model.startswith(name + "-"):
                rate = value
                break
    if rate is None:
        return 0.0
    return (input_tokens * rate[0] + output_tokens * rate[1]) / 1_000_000


_run_ledger: CostLedger | None = None
_ledger_lock = threading.Lock()


def run_ledger() -> CostLedger:
    """The ledger of this run, built from the current judge configuration on first use."""
    global _run_ledger
    with _ledger_lock:
        if _run_ledger is None:
            from harness.judges import config

            settings = config.current()
            _run_ledger = CostLedger(settings.max_judge_usd, settings.ledger_path)
        return _run_ledger


def reset_run_ledger() -> None:
    global _run_ledger
    with _ledger_lock:
        _run_ledger = None
