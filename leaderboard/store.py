"""The board: a directory of verified submissions and the leaderboard built from them.

```
BOARD/
  runs/<run_id>/    manifest.json, samples.jsonl, edits.jsonl, records.jsonl, verification.json
  images/ab/<sha256>.png   edited and trace images of every run, plus re-created sources/targets
  rows.jsonl        the store: one BoardRow per line (the source of truth)
  leaderboard.csv, leaderboard.md   renderings of rows.jsonl
```
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.atomic import write_text
from harness.images import ImageStore
from leaderboard.bundle import extract_bundle
from leaderboard.cells import (
    PROVENANCE_SELF,
    BoardRow,
    BoardTable,
    CellKey,
    compute_rows,
    official_aggregation_for,
)
from leaderboard.ranking import rank_table
from leaderboard.render import rows_to_csv, rows_to_jsonl, rows_to_markdown
from leaderboard.rundir import RUN_FILES, RunData, is_run_dir, load_run
from leaderboard.verify import Tolerance, VerificationReport, verify_run_dir

DEFAULT_BOARD = "leaderboard-store"


class BoardError(ValueError):
    """A board operation a user asked for that cannot be done; one line with the fix."""


@dataclass
class AddResult:
    run_id: str
    report: VerificationReport
    table: BoardTable


def provenance_from_verification(run: RunData, key: CellKey) -> str:
    for cell in run.verification.get("cells", []):
        if (cell["suite"], cell["split"], cell["editor"], cell["editor_fp"], cell["metric"]) == key:
            return str(cell["provenance"])
    return PROVENANCE_SELF


def build_table(runs: Sequence[RunData], *, seed: int = 0) -> BoardTable:
    """Rows of all runs (later runs win on equal keys), ranked with paired tests."""
    table = compute_rows(
        runs, provenance=provenance_from_verification, official=official_aggregation_for, seed=seed
    )
    rank_table(table, seed=seed)
    return table


def write_table(table: BoardTable, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "rows.jsonl", rows_to_jsonl(table.rows))
    write_text(out / "leaderboard.csv", rows_to_csv(table.rows))
    write_text(out / "leaderboard.md", rows_to_markdown(table.rows, smoke_excluded=table.smoke_excluded))


def read_rows(path: Path) -> list[BoardRow]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(BoardRow(**json.loads(line)))
    return rows


class Board:
    def __init__(self, root: str | os.PathLike[str] = DEFAULT_BOARD) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.images = ImageStore(self.root / "images")

    @staticmethod
    def is_board(path: str | os.PathLike[str]) -> bool:
        return (Path(path) / "runs").is_dir()

    def run_ids(self) -> list[str]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(p.name for p in self.runs_dir.iterdir() if is_run_dir(p))

    def runs(self) -> list[RunData]:
        runs = [load_run(self.runs_dir / run_id, images=self.images) for run_id in self.run_ids()]
        return sorted(runs, key=lambda r: (r.manifest.get("created_unix", 0), r.run_id))

    def add(
        self,
        bundle: str | os.PathLike[str],
        *,
        tolerance: Tolerance = Tolerance(),
        rejudge: bool = False,
        cache_dir: str | None = None,
        allow_mismatch: bool = False,
    ) -> AddResult:
        """Verify ``bundle`` and file it under runs/<run_id>; refuse it when values do not re-score."""
        self.root.mkdir(parents=True, exist_ok=True)
        incoming = self.root / f".incoming-{os.getpid()}"
        shutil.rmtree(incoming, ignore_errors=True)
        try:
            extract_bundle(bundle, incoming)
            samples: list = []
            report = verify_run_dir(
                incoming, tolerance=tolerance, rejudge=rejudge, cache_dir=cache_dir, keep_samples=samples
            )
            if not report.ok and not allow_mismatch:
                bad = [c for c in report.cells if c.mismatched]
                ids = sorted({s for c in bad for s in c.mismatched})
                raise BoardError(
                    f"{bundle}: reported values differ from what its images give in {len(bad)} cells "
                    f"(samples {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}); run 'ieval verify' for details"
                )
            self._file_run(incoming, report.run_id, samples)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        return AddResult(report.run_id, report, self.build())

    def _file_run(self, incoming: Path, run_id: str, samples: list) -> None:
        staged = ImageStore(incoming / "images")
        if staged.root.is_dir():
            for path in staged.root.glob("*/*.png"):
                self.images.copy_from(staged, path.stem)
        for sample in samples:
            self.images.put(sample.source)
            if sample.target is not None:
                self.images.put(sample.target)
            if sample.mask is not None:
                self.images.put(sample.mask.astype("uint8") * 255)  # stored as the runner stores masks
        target = self.runs_dir / run_id
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in (*RUN_FILES, "verification.json"):
            if (incoming / name).exists():
                shutil.copyfile(incoming / name, target / name)

    def build(self) -> BoardTable:
        table = build_table(self.runs())
        write_table(table, self.root)
        return table
