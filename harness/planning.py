"""Turn the names a user typed into live suites, editors and metrics, or one clear error.

Unknown names fail fast (did-you-mean); components that cannot run here are dropped with
their reason so that ``--suite all`` runs what it can and reports the rest.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import registry
from harness.protocols import ScoredItem
from harness.registry import Registry, UnavailableError

if TYPE_CHECKING:
    from harness.runner import RunConfig


@dataclass
class ResolvedPlan:
    suites: dict[str, Any] = field(default_factory=dict)
    editors: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, str] = field(default_factory=dict)
    suite_metrics: dict[str, list[str]] = field(default_factory=dict)
    sample_counts: dict[str, int | None] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    primary_metrics: dict[str, str] = field(default_factory=dict)
    suite_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def official_aggregation(self, suite_name: str) -> Callable[[Sequence[ScoredItem]], float] | None:
        suite = self.suites.get(suite_name)
        target = getattr(suite, "official_aggregation", None)
        if target is None:
            return None
        if isinstance(target, str):
            return registry._resolve(target)
        return target


def expand_suite_names(names: Sequence[str]) -> list[str]:
    """``all`` means every registered suite that needs no argument."""
    expanded: list[str] = []
    for name in names:
        if name == "all":
            for candidate in registry.suites.names():
                if candidate.endswith("<arg>"):
                    continue
                factory, _ = _factory_or_none(registry.suites, candidate)
                if factory is not None and getattr(factory, "requires_arg", False):
                    continue
                expanded.append(candidate)
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


def _factory_or_none(reg: Registry[Any], name: str) -> tuple[Any, str | None]:
    try:
        return reg.factory(name)
    except ImportError:
        return None, None


def check_names(config: RunConfig) -> None:
    """Raise UnknownNameError for the first name that is not registered, or UnknownOptionError
    for the first ``+key=value`` option its factory does not take."""
    named = [(registry.suites, n) for n in config.suites if n != "all"]
    named += [(registry.editors, n) for n in config.editors]
    named += [(registry.metrics, n) for n in config.metrics or ()]
    for reg, name in named:
        if name not in reg:
            reg.factory(name)
        try:
            reg.options(name)
        except ImportError:  # reported as unavailable when the plan is resolved
            pass


def resolve_plan(config: RunConfig) -> ResolvedPlan:
    check_names(config)
    plan = ResolvedPlan()
    for name in expand_suite_names(config.suites):
        suite = _create(registry.suites, name, plan, seed=config.seed)
        if suite is None:
            continue
        plan.suite_options[name] = accepted_options(registry.suites.factory(name)[0], {"seed": config.seed})
        split = (
            config.split
            or getattr(suite, "default_split", None)
            or ("test" if "test" in suite.splits else suite.splits[0])
        )
        if split not in suite.splits:
            plan.unavailable[f"suite {name}"] = f"has no split '{split}' (splits: {', '.join(suite.splits)})"
            continue
        plan.suites[name] = suite
        plan.splits[name] = split
        counter = getattr(suite, "num_samples", None)
        count = counter(split) if callable(counter) else None
        if config.limit is not None:
            count = min(count, config.limit) if count is not None else config.limit
        if count is not None and config.shard is not None:
            k, n = config.shard
            count = len(range(k - 1, count, n))
        plan.sample_counts[name] = count
    for name in config.editors:
        editor = _create(registry.editors, name, plan)
        if editor is not None:
            plan.editors[name] = editor
    for suite_name, suite in plan.suites.items():
        wanted = list(config.metrics) if config.metrics else list(suite.default_metrics)
        chosen = []
        for metric_name in wanted:
            if metric_name not in plan.metrics and f"metric {metric_name}" not in plan.unavailable:
                metric = _create(registry.metrics, metric_name, plan)
                if metric is not None:
                    plan.metrics[metric_name] = metric
            if metric_name in plan.metrics:
                chosen.append(metric_name)
        plan.suite_metrics[suite_name] = chosen
        if chosen:
            # rank by the first chosen metric the suite itself scores with (`--metrics synth_exact,psnr`
            # over photo-ops ranks by psnr: synth_exact is not applicable there)
            defaults = set(getattr(suite, "default_metrics", ()))
            native = [m for m in chosen if m in defaults]
            plan.primary_metrics[suite_name] = (native or chosen)[0]
    return plan


def _create(reg: Registry[Any], name: str, plan: ResolvedPlan, **options: Any) -> Any | None:
    label = f"{reg.kind} {name}"
    try:
        factory, _ = reg.factory(name)
    except ImportError as exc:
        plan.unavailable[label] = f"cannot import ({exc}); install the extra that provides it"
        return None
    accepted = accepted_options(factory, options)
    try:
        return reg.create(name, **accepted)
    except UnavailableError as exc:
        plan.unavailable[label] = str(exc).split(": ", 1)[-1]
    except ImportError as exc:
        plan.unavailable[label] = f"missing package ({exc})"
    return None


def accepted_options(factory: Any, options: dict[str, Any]) -> dict[str, Any]:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return options
    return {k: v for k, v in options.items() if k in params}
