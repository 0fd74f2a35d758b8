"""Judge backends: an OpenAI-compatible HTTP endpoint and a local transformers VLM."""
