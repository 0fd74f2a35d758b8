"""ImageEdit-R1: a multi-agent image editor whose decomposition policy is trained with GRPO, with
harness metrics as the reward. See docs/RESULTS.md for the training runs and held-out numbers."""
