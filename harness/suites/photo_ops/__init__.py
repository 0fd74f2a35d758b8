"""photo-ops: real photographs with exactly computable edit targets (see ``suite.py``)."""

from harness.suites.photo_ops.ops import OPS, apply_program, apply_step, inverse_step

__all__ = ["OPS", "apply_program", "apply_step", "inverse_step"]
