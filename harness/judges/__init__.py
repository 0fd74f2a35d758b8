"""VLM judges as metrics: versioned prompt templates, schema-checked replies, cached and budgeted calls.

Configure with ``harness.judges.config.configure(base_url=..., model=..., max_judge_usd=...)``.
"""
