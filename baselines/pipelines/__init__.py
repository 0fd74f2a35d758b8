"""Fixed multi-agent pipelines (genartist-style, decompose-then-edit, classic-pipeline)."""
