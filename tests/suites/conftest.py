from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty benchmark data folder, pointed to by IEVAL_DATA_DIR; the Hub client is offline
    (a test that serves the Hub on loopback switches it back on)."""
    root = tmp_path / "ieval-data"
    root.mkdir()
    monkeypatch.setenv("IEVAL_DATA_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    try:
        from huggingface_hub import constants
    except ImportError:
        return root
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return root
