"""Options in component names (``NAME+key=value``): parsed, checked, built, recorded apart."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from harness import registry
from harness.backends.ray_backend import ComponentSpec, build_component
from harness.cli.main import app
from harness.protocols import BaseEditor, fingerprint_id
from harness.registry import Registry, UnknownNameError, UnknownOptionError, split_options
from harness.runner import RunConfig, run_evaluation
from harness.types import EditRequest, EditResult

from .conftest import write_folder_suite


class Brightens(BaseEditor):
    """Adds ``amount`` to every pixel; refuses a negative amount."""

    name = "brightens"

    def __init__(self, amount: int = 0, clip: bool = True, label: str = "", **_):
        if amount < 0:
            raise ValueError(f"amount must be >= 0, got {amount}")
        self.amount, self.clip, self.label = amount, clip, label

    def config(self):
        return {"amount": self.amount, "clip": self.clip}

    def edit_one(self, request: EditRequest) -> EditResult:
        image = np.asarray(request.source).astype(np.int16) + self.amount
        return EditResult(status="ok", image=np.clip(image, 0, 255).astype(np.uint8))


registry.editors.register("brightens", Brightens)


def test_options_are_read_from_the_end_of_a_name_as_json_or_text():
    assert split_options("imageedit-r1:smollm2+defer=false+replans=0") == (
        "imageedit-r1:smollm2",
        {"defer": False, "replans": 0},
    )
    assert split_options("x+a=hello+b=0.5+c=null+d=[1, 2]") == (
        "x",
        {"a": "hello", "b": 0.5, "c": None, "d": [1, 2]},
    )
    # a + that does not start key=value belongs to the name, and so does everything before it
    assert split_options("from-dir:/runs/a+b") == ("from-dir:/runs/a+b", {})
    assert split_options("from-dir:/runs/a+b+amount=3") == ("from-dir:/runs/a+b", {"amount": 3})
    assert split_options("clip_i@ViT-L-14") == ("clip_i@ViT-L-14", {})
    with pytest.raises(UnknownOptionError, match="sets the option 'a' twice"):
        split_options("x+a=1+a=2")


def test_create_passes_the_names_options_beside_its_argument():
    reg: Registry[object] = Registry("thing", "ieval.tests-none")
    reg.register("from-dir", lambda arg=None, scale=1.0: ("from-dir", arg, scale))
    reg.register("replicate/", lambda arg=None, steps=10: ("replicate", arg, steps), prefix=True)
    assert reg.create("from-dir:/some/path+scale=2.5") == ("from-dir", "/some/path", 2.5)
    assert reg.create("replicate/owner/model+steps=4") == ("replicate", "owner/model", 4)
    assert "from-dir:/p+scale=2" in reg and reg.options("from-dir:/p+scale=2") == {"scale": 2}
    # the name's options win over the planner's
    assert reg.create("from-dir:/p+scale=3", scale=1.0) == ("from-dir", "/p", 3)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("brightens+amout=3", "editor 'brightens' has no option 'amout' (its options: amount, clip, label)"),
        (
            "brightens+amount=2.5",
            "editor 'brightens': option 'amount' takes a whole number (default 0), got 2.5",
        ),
        (
            "brightens+amount=true",
            "editor 'brightens': option 'amount' takes a whole number (default 0), got True",
        ),
        ("brightens+clip=1", "editor 'brightens': option 'clip' takes true or false (default True), got 1"),
        ("identity+amount=3", "editor 'identity' has no option 'amount' (its options: none)"),
    ],
)
def test_an_option_the_factory_does_not_take_is_refused_with_what_it_takes(name, message):
    with pytest.raises(UnknownOptionError) as info:
        registry.editors.options(name)
    assert str(info.value) == message
    assert isinstance(info.value, UnknownNameError)  # the CLI's one line and exit 2


def test_a_construction_the_options_break_is_one_clear_error():
    with pytest.raises(UnknownOptionError, match=r"editor 'brightens' cannot be built with \{'amount': -1\}"):
        registry.editors.create("brightens+amount=-1")


def _cells(out):
    with open(out / "leaderboard.csv") as handle:
        return {(r["editor"], r["metric"], r["group"]): r for r in csv.DictReader(handle)}


def test_a_run_compares_an_editor_with_and_without_an_option_and_resumes(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    config = RunConfig(
        suites=[f"folder:{suite}"],
        editors=["brightens", "brightens+amount=40"],
        metrics=["l1"],
        out=tmp_path / "run",
    )
    summary = run_evaluation(config)
    assert summary.counters.edits_computed == 12  # different fingerprints: nothing shared between the two
    cells = _cells(tmp_path / "run")
    plain, brighter = (float(cells[(e, "l1", "all")]["mean"]) for e in ("brightens", "brightens+amount=40"))
    assert plain != brighter
    fingerprints = json.loads((tmp_path / "run" / "manifest.json").read_text())["fingerprints"]["editors"]
    assert fingerprints["brightens"]["config"] == {"amount": 0, "clip": True}
    assert fingerprints["brightens+amount=40"]["config"] == {"amount": 40, "clip": True}
    again = run_evaluation(config)
    assert again.counters.edits_computed == 0 and again.counters.records_written == 0


@pytest.mark.parametrize(
    ("editors", "expected"),
    [
        ("brightens+amout=3", "error: editor 'brightens' has no option 'amout'"),
        ("brightens+amount=-1", "error: editor 'brightens' cannot be built with {'amount': -1}"),
    ],
)
def test_a_bad_option_on_the_command_line_exits_2_with_one_line(tmp_path, editors, expected):
    suite = write_folder_suite(tmp_path / "data")
    args = ["run", "--suite", f"folder:{suite}", "--editors", editors, "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "run" / "records.jsonl").exists()


def test_a_ray_worker_builds_the_component_with_the_names_options():
    live = registry.editors.create("brightens+amount=7")
    factory, arg = registry.editors.factory("brightens+amount=7")
    options = tuple(registry.editors.options("brightens+amount=7").items())
    spec = ComponentSpec("editor", "brightens+amount=7", factory, arg, fingerprint_id(live), 0.0, options)
    assert build_component(spec).amount == 7
    without = ComponentSpec("editor", "brightens+amount=7", factory, arg, fingerprint_id(live), 0.0)
    with pytest.raises(
        RuntimeError, match="fingerprint"
    ):  # built without them, it would not be the same editor
        build_component(without)


def test_ls_shows_each_available_components_options_with_their_defaults():
    result = CliRunner().invoke(app, ["ls", "--json"])
    assert result.exit_code == 0, result.output
    editors = {e["name"]: e for e in json.loads(result.output)["editors"]}
    assert editors["brightens"]["options"] == {"amount": 0, "clip": True, "label": ""}
    assert editors["identity"]["options"] == {}
    assert editors["imageedit-r1"]["options"]["defer"] is True
    assert "options" not in editors["replicate/<arg>"]  # nothing is built without its argument
