"""Learned tools (transformers / diffusers models), loaded lazily by id or local path."""
