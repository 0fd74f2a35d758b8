"""``--backend ray``: editors and metrics run in pools of Ray actors.

The runner still owns planning, records, cache and resume; this executor only answers
``edit(editor_name, requests)`` and ``score(metric_name, inputs)``, splitting each call across a
pool's actors and returning results in request order, so records are the same as with ``local``.

* Two pools. The GPU pool has one actor per GPU of the cluster, each holding that whole GPU
  (pinned through a placement group); it hosts every component whose class sets ``num_gpus`` to a
  number > 0. The CPU pool has ``cpu_actors`` actors (default: the cluster's CPUs, at most 4) that
  hold no logical CPU and host every other component. On a cluster without GPUs the GPU
  components get one CPU actor of their own, so a large model is loaded once, not per CPU.
* An actor builds each component it is asked for from the registry factory and the name's
  argument (never a pickled live object), once, and reuses it for every later batch; the built
  component's fingerprint must equal the one the runner records, or the call fails.
* Calls are asynchronous: ``submit_edit``/``submit_score`` queue a call's chunks and return at
  once, so the runner keeps the next batch's edits on the actors while it stores and scores the
  previous one. Backpressure: at most ``max_in_flight_per_actor`` chunks (of at most
  ``max_chunk`` items) per actor are on the actors at a time, so the object store holds a bounded
  number of images; the rest wait in the driver and are sent whenever it waits for a result.
* ``address`` connects to a running cluster (the harness must be importable on its nodes);
  without it a local cluster is started, and shut down again on ``close``.
"""

from __future__ import annotations

import collections
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.backends import Done, Pending
from harness.protocols import fingerprint_id
from harness.registry import Registry, unavailable_reason
from harness.types import EditRequest, EditResult, ScoreInput, ScoreRecord

DEFAULT_MAX_CPU_ACTORS = 4
DEFAULT_MAX_CHUNK = 16


@dataclass(frozen=True)
class ComponentSpec:
    """How an actor builds its component: the registry factory, the name's argument, the
    fingerprint the runner records, the GPU share one instance needs and the name's options."""

    kind: str
    name: str
    factory: Any
    arg: str | None
    fingerprint: str
    num_gpus: float
    options: tuple[tuple[str, Any], ...] = ()  # the name's ``+key=value`` options


def gpu_share(component: Any) -> float:
    """What a component declares through its class attribute ``num_gpus`` (0 or absent: CPU only)."""
    value = getattr(type(component), "num_gpus", 0) or 0
    if not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{type(component).__name__}.num_gpus must be a number >= 0, got {value!r}")
    return float(value)


def build_component(spec: ComponentSpec) -> Any:
    """Construct the component on the worker, as the planner did on the driver."""
    reason = unavailable_reason(spec.factory, spec.arg)
    if reason:
        raise RuntimeError(f"{spec.kind} '{spec.name}' is unavailable on this Ray worker: {reason}")
    arguments = {"arg": spec.arg} if spec.arg is not None else {}
    component = spec.factory(**arguments, **dict(spec.options))
    built = fingerprint_id(component)
    if built != spec.fingerprint:
        raise RuntimeError(
            f"{spec.kind} '{spec.name}' built on a Ray worker has fingerprint {built}, the run records "
            f"{spec.fingerprint}; make its config independent of where it runs"
        )
    return component


class ComponentWorker:
    """The actor body: builds each component it is asked for once and keeps it. Calls carry the
    spec, so an actor that Ray restarted after a crash rebuilds what it needs on its own."""

    def __init__(self) -> None:
        self.components: dict[tuple[str, str], Any] = {}

    def _component(self, spec: ComponentSpec) -> Any:
        key = (spec.kind, spec.name)
        if key not in self.components:
            self.components[key] = build_component(spec)
        return self.components[key]

    def load(self, spec: ComponentSpec) -> dict[str, Any]:
        import ray

        self._component(spec)
        return {"pid": os.getpid(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()]}

    def edit(self, spec: ComponentSpec, requests: list[EditRequest]) -> list[EditResult]:
        return list(self._component(spec).edit(requests))

    def score(self, spec: ComponentSpec, inputs: list[ScoreInput]) -> list[ScoreRecord]:
        return list(self._component(spec).score(inputs))


@dataclass
class _PoolCall:
    """One ``edit``/``score`` call split into chunks; results arrive chunk by chunk."""

    method: str
    spec: ComponentSpec
    chunks: list[list[Any]]
    results: list[list[Any] | None] = field(default_factory=list)
    open_chunks: int = 0
    retried: set[int] = field(default_factory=set)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.results = [None] * len(self.chunks)
        self.open_chunks = len(self.chunks)


class PendingCall:
    """A submitted call; ``result()`` waits for its chunks and returns them in request order."""

    def __init__(self, pool: ActorPool, call: _PoolCall) -> None:
        self._pool = pool
        self._call = call

    def result(self) -> list[Any]:
        return self._pool.gather(self._call)


class ActorPool:
    """Actors of one placement class. ``submit`` splits items into chunks and queues them; a chunk
    goes to the actor with the fewest items outstanding, at most ``max_in_flight_per_actor``
    chunks per actor at a time, and queued chunks are sent whenever the driver waits for any
    result of this pool."""

    def __init__(
        self, actors: list[Any], max_in_flight_per_actor: int = 2, max_chunk: int = DEFAULT_MAX_CHUNK
    ):
        if not actors:
            raise ValueError("an actor pool needs at least one actor")
        self.actors = actors
        self.max_in_flight = max(1, max_in_flight_per_actor) * len(actors)
        self.max_chunk = max(1, max_chunk)
        self.peak_in_flight = 0
        self.loaded: dict[tuple[str, str], list[str]] = {}  # component -> where each actor runs it
        self._queued: collections.deque[tuple[_PoolCall, int, int | None]] = collections.deque()
        self._in_flight: dict[Any, tuple[_PoolCall, int, int]] = {}  # ref -> (call, chunk, actor)
        self._load = [0] * len(actors)  # items outstanding per actor

    def load(self, spec: ComponentSpec) -> None:
        """Build ``spec`` on every actor (once); a failure is one line naming the component."""
        import ray

        key = (spec.kind, spec.name)
        if key in self.loaded:
            return
        try:
            info = ray.get([actor.load.remote(spec) for actor in self.actors])
        except Exception as exc:
            raise RuntimeError(
                f"could not build {spec.kind} '{spec.name}' on Ray workers: {_cause(exc)}"
            ) from exc
        self.loaded[key] = [",".join(i["gpu_ids"]) or "cpu" for i in info]

    def chunks(self, items: Sequence[Any]) -> list[list[Any]]:
        size = min(self.max_chunk, max(1, math.ceil(len(items) / len(self.actors))))
        return [list(items[i : i + size]) for i in range(0, len(items), size)]

    def submit(self, method: str, spec: ComponentSpec, items: Sequence[Any]) -> PendingCall:
        call = _PoolCall(method, spec, self.chunks(items))
        self._queued.extend((call, index, None) for index in range(len(call.chunks)))
        self._dispatch()
        return PendingCall(self, call)

    def call(self, method: str, spec: ComponentSpec, items: Sequence[Any]) -> list[Any]:
        return self.submit(method, spec, items).result()

    def gather(self, call: _PoolCall) -> list[Any]:
        """Wait until every chunk of ``call`` is back (sending queued chunks of any call as actors
        free up), then its results in request order, or the error of a chunk that failed."""
        import ray

        self._dispatch()
        while call.open_chunks:
            done, _ = ray.wait(list(self._in_flight), num_returns=1)
            for ref in done:
                self._receive(ref)
            self._dispatch()  # before returning, so no actor waits while the driver works
        if call.error is not None:
            raise call.error
        ordered: list[Any] = []
        for chunk, result in zip(call.chunks, call.results, strict=True):
            if result is None or len(result) != len(chunk):
                got = "nothing" if result is None else f"{len(result)} results"
                raise RuntimeError(f"a Ray worker returned {got} for {len(chunk)} items")
            ordered.extend(result)
        return ordered

    def _dispatch(self) -> None:
        while self._queued and len(self._in_flight) < self.max_in_flight:
            call, index, avoid = self._queued.popleft()
            actor = min(range(len(self.actors)), key=lambda i: (i == avoid, self._load[i]))
            ref = getattr(self.actors[actor], call.method).remote(call.spec, call.chunks[index])
            self._in_flight[ref] = (call, index, actor)
            self._load[actor] += len(call.chunks[index])
        self.peak_in_flight = max(self.peak_in_flight, len(self._in_flight))

    def _receive(self, ref: Any) -> None:
        import ray
        from ray.exceptions import ActorUnavailableError, RayActorError

        call, index, actor = self._in_flight.pop(ref)
        self._load[actor] -= len(call.chunks[index])
        try:
            call.results[index] = ray.get(ref)
        except (ActorUnavailableError, RayActorError) as exc:
            if index not in call.retried:  # the actor died or is restarting: one more try,
                call.retried.add(index)  # on another actor where there is one
                self._queued.appendleft((call, index, actor))
                return
            call.error = call.error or exc
        except Exception as exc:
            call.error = call.error or exc
        call.open_chunks -= 1

    def kill(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)


class RayExecutor:
    """Runs the plan's editors and metrics in Ray actor pools (see the module docstring)."""

    def __init__(
        self,
        plan: Any,
        address: str | None = None,
        cpu_actors: int | None = None,
        max_in_flight_per_actor: int = 2,
        max_chunk: int = DEFAULT_MAX_CHUNK,
    ) -> None:
        from harness.runner import RunError

        try:
            import ray
        except ImportError as exc:
            raise RunError("--backend ray needs the 'ray' package: pip install 'ray>=2.31'") from exc
        self.plan = plan
        self.started_cluster = False
        try:
            if ray.is_initialized():
                pass  # a cluster this process already joined (e.g. a notebook's); left running on close
            elif address:
                _probe(address)
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
                self.started_cluster = True
        except (ConnectionError, TimeoutError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
            raise RunError(f"could not start or join {where}: {_cause(exc)}") from exc
        resources = ray.cluster_resources()
        self.cluster_cpus = int(resources.get("CPU", 1))
        self.cluster_gpus = int(resources.get("GPU", 0))
        self.cpu_actors = cpu_actors or max(1, min(DEFAULT_MAX_CPU_ACTORS, self.cluster_cpus))
        self.max_in_flight_per_actor = max_in_flight_per_actor
        self.max_chunk = max_chunk
        self.pools: dict[str, ActorPool] = {}
        self._specs: dict[tuple[str, str], ComponentSpec] = {}
        self._placement_group: Any = None

    # -- the Executor protocol ---------------------------------------------------------------------
    overlaps = True  # submitted calls run on the actors while the runner stores and records

    def edit(self, editor_name: str, requests: list[EditRequest]) -> list[EditResult]:
        return self.submit_edit(editor_name, requests).result()

    def score(self, metric_name: str, inputs: list[ScoreInput]) -> list[ScoreRecord]:
        return self.submit_score(metric_name, inputs).result()

    def submit_edit(self, editor_name: str, requests: list[EditRequest]) -> Pending[EditResult]:
        return self._submit("editor", "edit", editor_name, requests)

    def submit_score(self, metric_name: str, inputs: list[ScoreInput]) -> Pending[ScoreRecord]:
        return self._submit("metric", "score", metric_name, inputs)

    def _submit(self, kind: str, method: str, name: str, items: list[Any]) -> Pending[Any]:
        if not items:
            return Done([])
        spec = self._spec(kind, name)
        return self._pool_for(spec).submit(method, spec, items)

    def placement(self) -> dict[str, list[str]]:
        """Where each loaded component runs: ``"editor NAME" -> [GPU id or "cpu", one per actor]``."""
        return {
            f"{kind} {name}": where
            for pool in self.pools.values()
            for (kind, name), where in pool.loaded.items()
        }

    def close(self) -> None:
        import ray

        if not ray.is_initialized():
            return
        for pool in self.pools.values():
            pool.kill()
        self.pools.clear()
        if self._placement_group is not None:
            from ray.util.placement_group import remove_placement_group

            remove_placement_group(self._placement_group)
            self._placement_group = None
        if self.started_cluster:
            ray.shutdown()
            self.started_cluster = False

    # -- pools -------------------------------------------------------------------------------------
    def _spec(self, kind: str, name: str) -> ComponentSpec:
        if (kind, name) in self._specs:
            return self._specs[(kind, name)]
        from harness import registry

        reg: Registry[Any] = registry.editors if kind == "editor" else registry.metrics
        live = (self.plan.editors if kind == "editor" else self.plan.metrics)[name]
        factory, arg = reg.factory(name)
        options = tuple(reg.options(name).items())
        spec = ComponentSpec(kind, name, factory, arg, fingerprint_id(live), gpu_share(live), options)
        self._specs[(kind, name)] = spec
        return spec

    def _pool_for(self, spec: ComponentSpec) -> ActorPool:
        placement = "cpu" if spec.num_gpus == 0 else ("gpu" if self.cluster_gpus else "gpu-less")
        pool = self.pools.get(placement)
        if pool is None:
            pool = ActorPool(self._start_actors(placement), self.max_in_flight_per_actor, self.max_chunk)
            self.pools[placement] = pool
        pool.load(spec)
        return pool

    def _start_actors(self, placement: str) -> list[Any]:
        import ray

        worker = ray.remote(max_restarts=2)(ComponentWorker)
        if placement == "gpu":
            from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

            group = self._gpu_placement_group()
            return [
                worker.options(
                    num_cpus=0,
                    num_gpus=1,
                    scheduling_strategy=PlacementGroupSchedulingStrategy(
                        group, placement_group_bundle_index=i
                    ),
                ).remote()
                for i in range(self.cluster_gpus)
            ]
        count = self.cpu_actors if placement == "cpu" else 1
        return [worker.options(num_cpus=0).remote() for _ in range(count)]

    def _gpu_placement_group(self) -> Any:
        if self._placement_group is None:
            import ray
            from ray.util.placement_group import placement_group

            bundles = [{"GPU": 1.0} for _ in range(self.cluster_gpus)]
            self._placement_group = placement_group(bundles, strategy="PACK")
            ray.get(self._placement_group.ready(), timeout=120)
        return self._placement_group


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on a ``host:port`` nobody answers on (Ray itself retries for minutes)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # "auto", "ray://..." and the like: left to Ray
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConnectionError(f"nothing answers at {address} ({exc.strerror or exc})") from exc


def _cause(exc: BaseException) -> str:
    """The innermost message of a Ray task/actor error, on one line."""
    cause = getattr(exc, "cause", None) or exc.__cause__ or exc
    text = str(cause).strip().splitlines()
    return text[-1] if text else type(cause).__name__
