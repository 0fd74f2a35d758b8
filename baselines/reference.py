"""Reference editors: the lower bound (``identity``), the upper bound (``oracle``) and
``from-dir``, which reads outputs made elsewhere so the harness can score them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from harness.images import ImageDecodeError, load_image
from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


class IdentityEditor(BaseEditor):
    """Returns the source unchanged: every metric's floor for "did anything happen"."""

    name = "identity"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(mask=True, multi_turn=True, batch_size=64)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        return EditResult(status="ok", image=request.source.copy())


class OracleEditor(BaseEditor):
    """Returns the ground-truth target. A reference row (upper bound), never ranked."""

    name = "oracle"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(
        mask=True, multi_turn=True, batch_size=64, needs_ground_truth=True, reference=True
    )
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        sample = request.ground_truth
        if sample is None or sample.target is None:
            return EditResult(status="skipped", error="no ground-truth target for this sample")
        return EditResult(status="ok", image=sample.target.copy())


class FromDirEditor(BaseEditor):
    """Reads ``PATH/<sample_id>.png`` (or .jpg/.jpeg/.webp); ids with '/' map to sub-folders."""

    name = "from-dir"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(mask=True, multi_turn=True, batch_size=64)
    cache_edits: ClassVar[bool] = False

    def __init__(self, arg: str | None = None, **_: Any) -> None:
        if not arg:
            raise ValueError("from-dir needs a folder: --editors from-dir:PATH")
        self.root = Path(arg).expanduser()

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        if not arg:
            return "needs a folder of edited images: use 'from-dir:PATH'"
        if not Path(arg).expanduser().is_dir():
            return f"folder not found: {arg}"
        return None

    def config(self) -> dict[str, Any]:
        return {"root": str(self.root.resolve())}

    def edit_one(self, request: EditRequest) -> EditResult:
        for suffix in OUTPUT_SUFFIXES:
            path = self.root / f"{request.sample_id}{suffix}"
            if path.exists():
                try:
                    return EditResult(status="ok", image=load_image(path))
                except ImageDecodeError as exc:
                    return EditResult(status="error", error=str(exc))
        return EditResult(status="skipped", error=f"no output file {self.root / request.sample_id}.png")
