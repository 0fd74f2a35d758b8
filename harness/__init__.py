"""ieval: the evaluation harness core (types, registries, suites, metrics, runner, CLI)."""

__version__ = "0.1.0"
