"""Learned perceptual metrics (CLIP, DINO, LPIPS, PIE-Bench) on shared, batched backbones.

Weights come from ``harness.metrics.learned.weights`` (``configure(weights_dir=..., allow_random=...)``);
nothing heavy is imported until a metric scores.
"""
