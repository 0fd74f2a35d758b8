from __future__ import annotations

import pytest

from harness import registry
from harness.registry import Registry, UnknownNameError


def test_unknown_name_suggests_the_closest_registered_names():
    with pytest.raises(UnknownNameError) as info:
        registry.editors.factory("identiy")
    assert "Did you mean 'identity'" in str(info.value)


def test_lazy_entries_are_not_imported_until_used():
    reg: Registry[object] = Registry("thing", "ieval.tests-none")
    reg.register("lazy", "module_that_does_not_exist:Thing")
    assert "lazy" in reg.names()  # listing does not import
    with pytest.raises(ModuleNotFoundError):
        reg.factory("lazy")
    availability = reg.availability("lazy")
    assert not availability.available and "cannot import" in availability.reason


def test_argument_and_prefix_names_pass_their_argument():
    reg: Registry[object] = Registry("thing", "ieval.tests-none")
    reg.register("from-dir", lambda arg=None: ("from-dir", arg))
    reg.register("replicate/", lambda arg=None: ("replicate", arg), prefix=True)
    assert reg.create("from-dir:/some/path") == ("from-dir", "/some/path")
    assert reg.create("replicate/owner/model") == ("replicate", "owner/model")
    with pytest.raises(UnknownNameError):
        reg.create("replicate/")


def test_unavailable_component_reports_reason():
    class NeedsKey:
        @classmethod
        def unavailable_reason(cls, arg):
            return "EXAMPLE_KEY is not set"

    reg: Registry[object] = Registry("thing", "ieval.tests-none")
    reg.register("needs-key", NeedsKey)
    availability = reg.availability("needs-key")
    assert (availability.available, availability.reason) == (False, "EXAMPLE_KEY is not set")
    with pytest.raises(registry.UnavailableError, match="EXAMPLE_KEY is not set"):
        reg.create("needs-key")


def test_entry_point_plugins_are_registered(monkeypatch):
    from importlib.metadata import EntryPoint

    reg: Registry[object] = Registry("editor", "ieval.editors")
    plugin = EntryPoint(name="my-editor", value="baselines.reference:IdentityEditor", group="ieval.editors")
    monkeypatch.setattr(registry, "entry_points", lambda group: [plugin] if group == "ieval.editors" else [])
    assert "my-editor" in reg.names()
    assert reg.create("my-editor").name == "identity"
