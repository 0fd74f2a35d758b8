"""Make the tiny-model builders importable as ``tiny_models`` and keep torch to two threads."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
try:
    import torch

    torch.set_num_threads(2)
except ImportError:  # torch is optional for the classical tests
    pass
