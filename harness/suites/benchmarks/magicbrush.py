"""MagicBrush: manually annotated, mask-guided edits of real photos, single- and multi-turn.

Dev comes from the Hugging Face parquet files (one row per turn: img_id, turn_index, source_img,
mask_img, instruction, target_img). Test is a password-protected zip linked from the project README;
unpacked under ``test/`` it holds ``edit_sessions.json`` (img_id -> list of turns with input, mask,
output file names and the instruction), ``global_descriptions.json`` and ``local_descriptions.json``
(img_id -> file name -> caption) and ``images/<img_id>/`` with the files.

Splits: ``test`` / ``dev`` are single-turn (each turn on its ground-truth input, earlier turns kept
in ``metadata["history"]``): the pairs of MagicBrush's "all-turn" scores, which evaluation/image_eval.py
builds from independent per-turn edits. ``test-multiturn`` / ``dev-multiturn`` give one sample per
session with every turn in ``turns`` and the final ground truth as target: the "final-turn" setting,
where the editor chains its own outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataError, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import (
    image_field,
    mask_field,
    read_json,
    require,
    same_size,
    stream_table,
    table_files,
)
from harness.types import Sample

DEV_FILES = ("data/dev-*.parquet",)
TEST_DIR = "test"


class MagicBrushSuite(BenchmarkSuite):
    name = "magicbrush"
    splits = ("test", "dev", "test-multiturn", "dev-multiturn")
    preferred_metrics = (
        "l1",
        "l2",
        "clip_i:recipe=magicbrush",
        "dino:recipe=magicbrush",
        "clip_t:recipe=magicbrush",
    )
    official_metrics = ("l1", "l2", "clip_i", "dino", "clip_t")
    source = DataSource(
        "hf",
        repo_id="osunlp/MagicBrush",
        revision="456d01d201e8cb6bfae36ebf8e17d2a461f742eb",
        allow_patterns=("data/dev-*.parquet", "README.md"),
        homepage="https://github.com/OSU-NLP-Group/MagicBrush",
        manual_steps=(
            "the test split is a password-protected zip linked from the MagicBrush GitHub README; "
            "unzip it so that {root}/test/edit_sessions.json and {root}/test/images/ exist"
        ),
        license="CC-BY-4.0",
    )
    layout = ("data/dev-*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {
        "dev": 528,
        "dev-multiturn": 266,
        "test": 1053,
        "test-multiturn": 535,
    }

    @property
    def default_split(self) -> str:
        """``test`` once the manual test download is in place, else ``dev``."""
        return "test" if (self.root / TEST_DIR / "edit_sessions.json").is_file() else "dev"

    def records(self, split: str) -> Iterator[Record]:
        multiturn = split.endswith("-multiturn")
        base_split = split.removesuffix("-multiturn")
        turns = self._dev_turns() if base_split == "dev" else self._test_turns()
        if not multiturn:
            yield from turns
            return
        session: list[Record] = []
        for record in turns:
            if session and record.extra["img_id"] != session[0].extra["img_id"]:
                yield _session_record(session)
                session = []
            session.append(record)
        if session:
            yield _session_record(session)

    def _dev_turns(self) -> Iterator[Record]:
        history: tuple[str, Any] = ("", [])
        for row in stream_table(table_files(self.root, DEV_FILES)):
            img_id = str(row.get("img_id") or "")
            turn = row.get("turn_index")
            if history[0] != img_id:
                history = (img_id, [])
            yield Record(
                id=f"{img_id}-turn{turn}",
                fields=row,
                category="single-turn",
                extra={"img_id": img_id, "turn_index": turn, "history": list(history[1]), "base": None},
            )
            history[1].append(row.get("instruction") or "")

    def _test_turns(self) -> Iterator[Record]:
        folder = self.root / TEST_DIR
        if not (folder / "edit_sessions.json").is_file():
            raise DataError(
                f"magicbrush test split not found at {folder}: "
                + self.source.manual_steps.format(root=self.root)
            )
        sessions = read_json(folder / "edit_sessions.json")
        global_captions = _first_json(folder, ("global_descriptions.json", "global_description.json"))
        local_captions = _first_json(folder, ("local_descriptions.json", "local_description.json"))
        for img_id, turns in sessions.items():
            history: list[str] = []
            for index, turn in enumerate(turns, start=1):
                output = str(turn.get("output") or "")
                captions = {
                    "global": global_captions.get(img_id, {}).get(output, ""),
                    "local": local_captions.get(img_id, {}).get(output, ""),
                    "input": global_captions.get(img_id, {}).get(str(turn.get("input") or ""), ""),
                }
                fields = {
                    "img_id": img_id,
                    "turn_index": index,
                    "instruction": turn.get("instruction"),
                    "source_img": turn.get("input"),
                    "mask_img": turn.get("mask"),
                    "target_img": turn.get("output"),
                }
                yield Record(
                    id=f"{img_id}-turn{index}",
                    fields=fields,
                    category="single-turn",
                    extra={
                        "img_id": img_id,
                        "turn_index": index,
                        "history": list(history),
                        "base": folder / "images" / img_id,
                        "captions": {k: v for k, v in captions.items() if v},
                    },
                )
                history.append(str(turn.get("instruction") or ""))

    def to_sample(self, record: Record) -> Sample:
        if "session" in record.extra:
            return self._session_sample(record)
        fields, base = record.fields, record.extra["base"]
        instruction = str(require(fields, "instruction"))
        source = image_field(fields.get("source_img"), "source_img", base)
        target = image_field(fields.get("target_img"), "target_img", base)
        same_size(source, target, "target_img")
        mask = mask_field(fields.get("mask_img"), "mask_img", source.shape[:2], base)
        return Sample(
            id=record.id,
            source=source,
            instruction=instruction,
            mask=mask,
            target=target,
            category=record.category,
            level=f"turn{record.extra['turn_index']}",
            captions=record.extra.get("captions", {}),
            metadata={
                "img_id": record.extra["img_id"],
                "turn_index": record.extra["turn_index"],
                "history": record.extra["history"],
            },
        )

    def _session_sample(self, record: Record) -> Sample:
        turns: list[Record] = record.extra["session"]
        first, last = turns[0], turns[-1]
        instructions = tuple(str(require(t.fields, "instruction")) for t in turns)
        source = image_field(first.fields.get("source_img"), "source_img", first.extra["base"])
        target = image_field(last.fields.get("target_img"), "target_img", last.extra["base"])
        same_size(source, target, "final target_img")
        indices = [t.extra["turn_index"] for t in turns]
        if indices != list(range(1, len(turns) + 1)):
            raise SampleError(f"turns are not numbered 1..{len(turns)}: {indices}")
        return Sample(
            id=record.id,
            source=source,
            instruction=instructions[-1],
            turns=instructions,
            target=target,
            category="multi-turn",
            level=f"turns{len(turns)}",
            captions=last.extra.get("captions", {}),
            metadata={"img_id": first.extra["img_id"], "n_turns": len(turns), "setting": "final-turn"},
        )


def _session_record(turns: list[Record]) -> Record:
    img_id = turns[0].extra["img_id"]
    return Record(
        id=str(img_id), fields={}, category="multi-turn", extra={"session": list(turns), "img_id": img_id}
    )


def _first_json(folder: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The first of ``names`` that exists in ``folder`` (the archive and the eval script spell them differently)."""
    for name in names:
        if (folder / name).is_file():
            return read_json(folder / name)
    return {}
