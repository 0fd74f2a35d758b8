"""The base class of learned metrics: argument parsing, availability, batched scoring on a shared backbone.

A metric name may carry options: ``clip_i:arch=ViT-L-14,pretrained=openai,recipe=emu_edit`` (or the
short form ``clip_i:ViT-L-14`` / ``clip_i:ViT-L-14/openai``). Subclasses say which backbone they need
(``backbone_spec``), which features a sample needs (``sample_requests``) and how features become a
value (``value_from``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from harness.metrics.learned import weights
from harness.metrics.learned.backbones import (
    Backbone,
    BackboneSpec,
    FeatureRequest,
    PendingFeatures,
    get_backbone,
    launch_features,
    prefetch,
)
from harness.metrics.learned.recipes import Recipe, get_recipe
from harness.protocols import BaseMetric, _describe
from harness.types import ScoreInput, ScoreRecord

OPTION_KEYS = ("arch", "pretrained", "recipe")


def parse_options(arg: str | None) -> dict[str, str]:
    """``"arch=ViT-L-14,recipe=emu_edit"`` or ``"ViT-L-14/openai"`` -> options dict; bad keys raise."""
    if not arg:
        return {}
    if "=" not in arg:
        arch, _, pretrained = arg.partition("/")
        return {"arch": arch, **({"pretrained": pretrained} if pretrained else {})}
    options: dict[str, str] = {}
    for part in arg.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in OPTION_KEYS:
            raise ValueError(f"bad metric option {part!r}; use {', '.join(k + '=...' for k in OPTION_KEYS)}")
        options[key] = value.strip()
    return options


class LearnedMetric(BaseMetric):
    family: ClassVar[str] = ""
    packages: ClassVar[tuple[str, ...]] = ("torch",)
    default_arch: ClassVar[str] = ""
    default_pretrained: ClassVar[str] = ""
    default_recipe: ClassVar[str] = "default"

    def __init__(
        self,
        arg: str | None = None,
        *,
        arch: str | None = None,
        pretrained: str | None = None,
        recipe: str | Recipe | None = None,
    ) -> None:
        options = parse_options(arg)
        self.arch = arch or options.get("arch") or self.default_arch
        self.pretrained = (
            pretrained if pretrained is not None else options.get("pretrained", self.default_pretrained)
        )
        if isinstance(recipe, Recipe):
            self.recipe = recipe
        else:
            self.recipe = get_recipe(recipe or options.get("recipe") or self.default_recipe)
        base_name = type(self).name
        self.name = f"{base_name}:{arg}" if arg else base_name
        self._backbone: Backbone | None = None
        self._load_error: str | None = None

    # -- availability ---------------------------------------------------------------------------
    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        for package in cls.packages:
            if importlib.util.find_spec(package) is None:
                return f"missing package '{package}': pip install 'ieval[metrics]'"
        try:
            options = parse_options(arg)
            cls.resolve_weights(
                options.get("arch") or cls.default_arch, options.get("pretrained", cls.default_pretrained)
            )
        except (weights.MissingWeightsError, ValueError) as exc:
            return str(exc)
        return None

    @classmethod
    def resolve_weights(cls, arch: str, pretrained: str) -> weights.WeightsSource:
        raise NotImplementedError

    # -- identity -------------------------------------------------------------------------------
    def backbone_spec(self) -> BackboneSpec:
        return BackboneSpec(self.family, self.arch, self.pretrained)

    def config(self) -> dict[str, Any]:
        try:
            source = self.resolve_weights(self.arch, self.pretrained)
            weights_kind = "random" if source.smoke else "pretrained"
        except weights.MissingWeightsError:
            weights_kind = "missing"
        return {
            "arch": self.arch,
            "pretrained": self.pretrained,
            "weights": weights_kind,
            "recipe": self.recipe.fingerprint(),
            "preprocessing": self.preprocessing(),
        }

    def preprocessing(self) -> dict[str, Any]:
        return {}

    # -- scoring --------------------------------------------------------------------------------
    def backbone(self) -> Backbone:
        if self._backbone is None:
            self._backbone = get_backbone(self.backbone_spec(), self.backbone_factory())
        return self._backbone

    def backbone_factory(self) -> Any:
        raise NotImplementedError

    def sample_requests(self, inp: ScoreInput) -> list[FeatureRequest]:
        raise NotImplementedError

    def value_from(self, backbone: Backbone, inp: ScoreInput) -> float:
        raise NotImplementedError

    def values_from(self, backbone: Backbone, inputs: Sequence[ScoreInput]) -> list[float]:
        """``value_from`` of every input; subclasses compute it as one tensor operation where they can."""
        return [float(self.value_from(backbone, inp)) for inp in inputs]

    def not_applicable(self, inp: ScoreInput) -> str | None:
        """Beyond ``requires``: e.g. a missing caption. None when the sample can be scored."""
        return self.applicable(inp.sample)

    def feature_requests(self, batch: Sequence[ScoreInput]) -> list[tuple[Backbone, FeatureRequest]]:
        backbone = self.backbone()
        requests = []
        for inp in batch:
            if self.not_applicable(inp) is None:
                requests += [(backbone, req) for req in self.sample_requests(inp)]
        return requests

    def score(self, batch: Sequence[ScoreInput], *, prefetched: bool = False) -> list[ScoreRecord]:
        """One record per input. ``prefetched``: the batch's features were already computed together
        (``score_metric_set``), so only the values remain."""
        try:
            backbone = self.backbone()
        except Exception as exc:
            line = str(exc) if isinstance(exc, weights.MissingWeightsError) else _describe(exc)
            return [ScoreRecord(self.name, inp.sample.id, None, status="error", error=line) for inp in batch]
        if not prefetched:
            try:
                prefetch(self.feature_requests(batch), weights.current().batch_size)
            except Exception:
                pass  # a bad item sank the batched forward: the per-sample pass below isolates it
        reasons = [self.not_applicable(inp) for inp in batch]
        ready = [inp for inp, reason in zip(batch, reasons, strict=True) if not reason]
        values = self._batch_values(backbone, ready)
        described = backbone.source.describe()
        records = []
        for inp, reason in zip(batch, reasons, strict=True):
            if reason:
                records.append(
                    ScoreRecord(self.name, inp.sample.id, None, status="not_applicable", error=reason)
                )
                continue
            try:
                value = values[id(inp)] if values is not None else float(self.value_from(backbone, inp))
                records.append(
                    ScoreRecord(
                        self.name, inp.sample.id, value, smoke=backbone.smoke, meta={"weights": described}
                    )
                )
            except Exception as exc:
                records.append(
                    ScoreRecord(self.name, inp.sample.id, None, status="error", error=_describe(exc))
                )
        return records

    def _batch_values(self, backbone: Backbone, inputs: list[ScoreInput]) -> dict[int, float] | None:
        """Values of all ``inputs`` at once, or None when one fails (then each is computed on its own)."""
        if not inputs:
            return {}
        try:
            values = self.values_from(backbone, inputs)
        except Exception:
            return None
        return {id(inp): float(value) for inp, value in zip(inputs, values, strict=True)}


def row_dots(a: Sequence[Any], b: Sequence[Any]) -> list[float]:
    """Dot products of matching feature vectors (cosines of unit features) as one tensor operation."""
    import torch

    return (torch.stack(list(a)) * torch.stack(list(b))).sum(-1).tolist()


class LaunchedSet:
    """A batch whose learned features are queued on the device (``launch_metric_set``)."""

    def __init__(self, metrics: Sequence[Any], batch: Sequence[ScoreInput], pending: PendingFeatures | None):
        self.metrics = list(metrics)
        self.batch = list(batch)
        self.pending = pending

    def finish(self) -> dict[str, list[ScoreRecord]]:
        """Wait for the features, then every metric's records for the batch."""
        prefetched = self.pending is not None
        if self.pending is not None:
            try:
                self.pending.complete()
            except Exception:
                prefetched = False  # each metric retries its own features and records per-sample errors
        return {
            metric.name: metric.score(self.batch, prefetched=prefetched)
            if isinstance(metric, LearnedMetric)
            else metric.score(self.batch)
            for metric in self.metrics
        }


def feature_requests_of(
    calls: Iterable[tuple[Any, Sequence[ScoreInput]]],
) -> list[tuple[Backbone, FeatureRequest]]:
    """The feature requests of every learned metric among (metric, inputs) calls; other metrics and
    calls whose requests cannot be built (their own ``score`` records why) add nothing."""
    requests: list[tuple[Backbone, FeatureRequest]] = []
    for metric, batch in calls:
        if isinstance(metric, LearnedMetric):
            try:
                requests += metric.feature_requests(batch)
            except Exception:
                continue
    return requests


def prefetch_requests(requests: Sequence[tuple[Backbone, FeatureRequest]]) -> None:
    """Compute the features of several calls' requests (``feature_requests_of``) together, grouped by
    backbone, into the backbones' memos; each call's ``score`` then finds them there. A failure here
    is left to those ``score`` calls, which isolate it per sample."""
    if requests:
        try:
            prefetch(requests, weights.current().batch_size)
        except Exception:
            pass


def launch_metric_set(metrics: Sequence[Any], batch: Sequence[ScoreInput]) -> LaunchedSet:
    """Queue the forwards every learned metric of ``metrics`` needs for ``batch``, grouped so that each
    shared backbone runs once over the batch; nothing is copied back yet."""
    requests = feature_requests_of((metric, batch) for metric in metrics)
    try:
        pending: PendingFeatures | None = launch_features(requests, weights.current().batch_size)
    except Exception:
        pending = None
    return LaunchedSet(metrics, batch, pending)


def score_metric_set(metrics: Sequence[Any], batch: Sequence[ScoreInput]) -> dict[str, list[ScoreRecord]]:
    """Score ``batch`` with several metrics, running each shared backbone once over the whole batch."""
    return launch_metric_set(metrics, batch).finish()


def score_metric_sets(
    metrics: Sequence[Any], batches: Iterable[Sequence[ScoreInput]]
) -> Iterator[dict[str, list[ScoreRecord]]]:
    """``score_metric_set`` over a stream of batches, one batch ahead: batch i+1 is hashed, uploaded and
    its forwards queued before batch i's results are copied back, so on a GPU the host work of one
    batch overlaps the forwards of the previous one. Yields the records of each batch in order."""
    ahead: LaunchedSet | None = None
    for batch in batches:
        launched = launch_metric_set(metrics, batch)
        if ahead is not None:
            yield ahead.finish()
        ahead = launched
    if ahead is not None:
        yield ahead.finish()
