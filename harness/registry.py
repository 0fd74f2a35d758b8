"""One generic registry for suites, editors, metrics and judges.

Entries are lazy: a ``"module:attr"`` string is imported only when the name is used, so listing
components never loads torch or weights. Third-party plug-ins register through the entry-point
groups ``ieval.suites``, ``ieval.editors``, ``ieval.metrics`` and ``ieval.judges``.

Names may carry one argument: ``from-dir:PATH`` passes ``PATH`` to the factory, and a registered
prefix such as ``replicate/`` matches ``replicate/owner/model`` with ``owner/model`` as argument.

Names may also end in options for the factory, each ``+key=value``:
``imageedit-r1:smollm2+defer=false+replans=0`` builds that editor with ``defer=False, replans=0``.
A value is read as JSON where it parses (``true``, ``0``, ``0.7``, ``null``), else kept as text.
Only parameters the factory names are options; another key is an error that lists them. The
whole name, options included, is the component's name in records and leaderboards, so a run can
compare an editor with and without an option.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(LookupError):
    """A user asked for a component that is not registered."""


class UnknownOptionError(UnknownNameError):
    """A name's ``+key=value`` option that its factory does not take, or cannot take as written."""


class UnavailableError(RuntimeError):
    """A registered component cannot run here (missing package, weights, data or key)."""


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    reason: str = ""


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, str | Callable[..., T]] = {}
        self._prefixes: dict[str, str | Callable[..., T]] = {}
        self._plugins_loaded = False

    def register(self, name: str, target: str | Callable[..., T], *, prefix: bool = False) -> None:
        """Register ``target`` (a factory or a lazy ``"module:attr"``) under ``name``.

        With ``prefix=True`` the entry answers every name that starts with ``name``.
        """
        table = self._prefixes if prefix else self._entries
        table[name] = target

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries) + sorted(f"{p}<arg>" for p in self._prefixes)

    def __contains__(self, name: str) -> bool:
        try:
            self._lookup(name)
        except UnknownNameError:
            return False
        return True

    def factory(self, name: str) -> tuple[Callable[..., T], str | None]:
        """The factory for ``name`` and the argument it carries (or None)."""
        target, arg = self._lookup(name)
        return _resolve(target), arg

    def options(self, name: str) -> dict[str, Any]:
        """The ``+key=value`` options ``name`` ends in, checked against its factory's parameters."""
        base, options = split_options(name)
        if options:
            factory, _ = self.factory(name)
            check_options(factory, options, f"{self.kind} '{base}'")
        return options

    def create(self, name: str, **options: Any) -> T:
        base, named = split_options(name)
        factory, arg = self.factory(name)
        if named:
            check_options(factory, named, f"{self.kind} '{base}'")
        reason = unavailable_reason(factory, arg)
        if reason:
            raise UnavailableError(f"{self.kind} '{name}' is unavailable: {reason}")
        if arg is not None:
            options["arg"] = arg
        if not named:
            return factory(**options)
        try:
            return factory(**{**options, **named})
        except (TypeError, ValueError) as exc:  # the options as written, not the component, are wrong
            raise UnknownOptionError(f"{self.kind} '{base}' cannot be built with {named}: {exc}") from exc

    def availability(self, name: str) -> Availability:
        try:
            factory, arg = self.factory(name)
        except ImportError as exc:
            return Availability(name, False, f"cannot import: {exc}")
        reason = unavailable_reason(factory, arg)
        return Availability(name, reason is None, reason or "")

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _lookup(self, name: str) -> tuple[str | Callable[..., T], str | None]:
        self._load_plugins()
        name, _ = split_options(name)
        if name in self._entries:
            return self._entries[name], None
        base, sep, arg = name.partition(":")
        if sep and base in self._entries:
            return self._entries[base], arg
        for prefix in sorted(self._prefixes, key=len, reverse=True):
            if name.startswith(prefix) and len(name) > len(prefix):
                return self._prefixes[prefix], name[len(prefix) :]
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        choices = list(self._entries) + list(self._prefixes)
        close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} '{name}'.{hint} Run 'ieval ls' to see all {self.kind}s."

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            self._entries.setdefault(ep.name, ep.value)


def _resolve(target: str | Callable[..., T]) -> Callable[..., T]:
    if not isinstance(target, str):
        return target
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def split_options(name: str) -> tuple[str, dict[str, Any]]:
    """``NAME+key=value+...`` -> (NAME, options in the order written). A ``+`` that does not start
    a ``key=value`` (key an identifier) belongs to the name, as do those before it."""
    parts = name.split("+")
    found: list[tuple[str, Any]] = []
    while len(parts) > 1:
        key, sep, text = parts[-1].partition("=")
        if not (sep and key.isidentifier()):
            break
        if any(key == seen for seen, _ in found):
            raise UnknownOptionError(f"'{name}' sets the option '{key}' twice")
        found.append((key, _option_value(text)))
        parts.pop()
    return "+".join(parts), dict(reversed(found))


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def option_parameters(factory: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The parameters a name's options may set: those the factory names, but its ``arg``."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    return {
        key: p
        for key, p in parameters.items()
        if key != "arg" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def option_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """Each option's default as ``ieval ls`` shows it (None when it has none)."""
    return {
        key: None if p.default is inspect.Parameter.empty else p.default
        for key, p in option_parameters(factory).items()
    }


def check_options(factory: Callable[..., Any], options: dict[str, Any], label: str) -> None:
    """Raise UnknownOptionError unless every option is a parameter the factory names, and a value
    of the kind its default is (a bool for a bool, a number for a number)."""
    named = option_parameters(factory)
    for key, value in options.items():
        if key not in named:
            takes = ", ".join(named) or "none"
            raise UnknownOptionError(f"{label} has no option '{key}' (its options: {takes})")
        default = named[key].default
        if isinstance(default, bool):
            wrong, kind = not isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            wrong, kind = isinstance(value, bool) or not isinstance(value, int), "a whole number"
        elif isinstance(default, float):
            wrong, kind = isinstance(value, bool) or not isinstance(value, int | float), "a number"
        else:
            wrong, kind = False, ""
        if wrong:
            raise UnknownOptionError(
                f"{label}: option '{key}' takes {kind} (default {default!r}), got {value!r}"
            )


def unavailable_reason(factory: Callable[..., Any], arg: str | None) -> str | None:
    check = getattr(factory, "unavailable_reason", None)
    if check is None:
        return None
    try:
        return check(arg)
    except ImportError as exc:
        return f"missing package: {exc}"


suites: Registry[Any] = Registry("suite", "ieval.suites")
editors: Registry[Any] = Registry("editor", "ieval.editors")
metrics: Registry[Any] = Registry("metric", "ieval.metrics")
judges: Registry[Any] = Registry("judge", "ieval.judges")


def _register_builtins() -> None:
    from harness import catalog

    for registry, table in (
        (suites, catalog.SUITES),
        (editors, catalog.EDITORS),
        (metrics, catalog.METRICS),
        (judges, catalog.JUDGES),
    ):
        for name, target in table.items():
            if name.endswith("/*"):
                registry.register(name[:-1], target, prefix=True)
            else:
                registry.register(name, target)


_register_builtins()
