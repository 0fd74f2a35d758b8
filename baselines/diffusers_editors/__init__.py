"""Open-weights editors through diffusers (imported lazily: torch and diffusers load on first use)."""
