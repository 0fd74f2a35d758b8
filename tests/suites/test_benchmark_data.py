"""Availability before download, `ieval ls --json`, and `ieval data fetch/verify` on local copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import registry
from harness.data.location import DATA_DIR_ENV, data_root
from harness.suites.benchmarks.pie_bench import PieBenchSuite
from tests.suites.benchmark_fixtures import image, write_json, write_png

BENCHMARKS = (
    "magicbrush",
    "emu-edit",
    "gedit-bench",
    "imgedit",
    "pie-bench",
    "complex-edit",
    "kris-bench",
    "risebench",
    "anyedit",
    "hq-edit",
    "psr",
    "realedit",
    "ultraedit",
)


def _app():  # noqa: ANN202
    from harness.cli.main import app

    return app


def test_data_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv(DATA_DIR_ENV)
    assert data_root() == Path.home() / ".cache" / "ieval" / "data"


@pytest.mark.parametrize("name", BENCHMARKS)
def test_missing_benchmark_is_unavailable_with_the_fetch_command(data_dir: Path, name: str) -> None:
    availability = registry.suites.availability(name)
    assert not availability.available
    assert f"not downloaded: run 'ieval data fetch {name}'" in availability.reason


def test_ls_json_lists_every_suite_with_reason(data_dir: Path) -> None:
    result = CliRunner().invoke(_app(), ["ls", "--json"])
    assert result.exit_code == 0, result.output
    suites = {entry["name"]: entry for entry in json.loads(result.stdout)["suites"]}
    assert suites["photo-ops"]["available"] is True
    for name in BENCHMARKS:
        assert suites[name]["available"] is False
        assert f"ieval data fetch {name}" in suites[name]["reason"]


def _pie_fixture(root: Path) -> None:
    write_png(root / "annotation_images" / "a.png", image(1, (512, 512)))
    entry = {
        "image_path": "a.png",
        "original_prompt": "a cat",
        "editing_prompt": "a [dog]",
        "editing_instruction": "make it a dog",
        "editing_type_id": "1",
        "blended_word": "cat dog",
        "mask": [0, 10],
    }
    write_json(root / "mapping_file.json", {"000": entry, "001": entry, "002": entry})


def test_fetch_manual_benchmark_records_manifest_and_verify_checks_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    missing = runner.invoke(_app(), ["data", "fetch", "pie-bench"])
    assert missing.exit_code == 1 and "PnPInversion README" in missing.stderr
    _pie_fixture(data_dir / "pie-bench")
    fetched = runner.invoke(_app(), ["data", "fetch", "pie-bench"])
    assert fetched.exit_code == 0, fetched.output
    assert "records: test 3" in fetched.stdout
    manifest = json.loads((data_dir / "pie-bench" / "ieval-manifest.json").read_text())
    assert set(manifest["files"]) == {"annotation_images/a.png", "mapping_file.json"} and manifest[
        "counts"
    ] == {"test": 3}

    published = runner.invoke(_app(), ["data", "verify", "pie-bench"])
    assert (
        published.exit_code == 1 and "split test: 3 records, the benchmark publishes 700" in published.stderr
    )

    monkeypatch.setattr(PieBenchSuite, "expected_counts", {"test": 3})
    ok = runner.invoke(_app(), ["data", "verify", "pie-bench", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True and json.loads(ok.stdout)["files_checked"] == 2

    write_png(data_dir / "pie-bench" / "annotation_images" / "a.png", image(2, (512, 512)))
    tampered = runner.invoke(_app(), ["data", "verify", "pie-bench"])
    assert tampered.exit_code == 1 and "annotation_images/a.png: sha256" in tampered.stderr


def test_fetch_from_the_hub_offline_fails_with_one_line(data_dir: Path) -> None:
    result = CliRunner().invoke(_app(), ["data", "fetch", "gedit-bench"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "stepfun-ai/GEdit-Bench@58159f3de6689982b1df7f1a6c557ded16548a24" in lines[0]


def test_fetch_refuses_embedded_and_unknown_suites(data_dir: Path) -> None:
    embedded = CliRunner().invoke(_app(), ["data", "fetch", "photo-ops"])
    assert embedded.exit_code == 2 and "nothing to fetch" in embedded.stderr
    unknown = CliRunner().invoke(_app(), ["data", "verify", "gedt-bench"])
    assert unknown.exit_code == 2 and "Did you mean 'gedit-bench'" in unknown.stderr


def test_verify_without_manifest_names_the_fetch_command(data_dir: Path) -> None:
    _pie_fixture(data_dir / "pie-bench")
    result = CliRunner().invoke(_app(), ["data", "verify", "pie-bench"])
    assert result.exit_code == 1 and "run 'ieval data fetch pie-bench'" in result.stderr


@pytest.mark.parametrize("name", BENCHMARKS)
def test_default_metrics_are_registered_preferred_metrics(data_dir: Path, name: str) -> None:
    cls, _ = registry.suites.factory(name)
    chosen = cls().default_metrics
    assert all(metric in registry.metrics for metric in chosen)
    assert chosen == tuple(m for m in cls.preferred_metrics if m in registry.metrics)
    assert cls.source.revision is None or len(cls.source.revision) == 40


def test_pixel_reference_benchmarks_default_to_pixel_metrics(data_dir: Path) -> None:
    from harness.suites.benchmarks.magicbrush import MagicBrushSuite
    from harness.suites.benchmarks.pairs import PSRSuite

    assert MagicBrushSuite().default_metrics[:2] == ("l1", "l2")
    assert set(PSRSuite().default_metrics) == {"l1", "l2", "psnr", "ssim"}


def test_magicbrush_defaults_to_dev_until_the_manual_test_split_is_in_place(data_dir: Path) -> None:
    from harness.suites.benchmarks.magicbrush import MagicBrushSuite

    assert MagicBrushSuite().default_split == "dev"
    write_json(data_dir / "magicbrush" / "test" / "edit_sessions.json", {})
    assert MagicBrushSuite().default_split == "test"


def test_imgedit_tar_is_unpacked_and_the_github_json_is_asked_for(data_dir: Path) -> None:
    import io
    import tarfile

    from harness.data.fetch import FetchError, finish
    from harness.suites.benchmarks.imgedit import ImgEditSuite
    from tests.suites.benchmark_fixtures import png

    folder = data_dir / "imgedit"
    folder.mkdir()
    with tarfile.open(folder / "Benchmark.tar", "w") as tar:
        data = png(image(1))
        info = tarfile.TarInfo("Benchmark/singleturn/animal/a.jpg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(
        FetchError, match="copy Benchmark/Basic/basic_edit.json .* then run 'ieval data fetch imgedit'"
    ):
        finish(ImgEditSuite, folder, None)
    assert (folder / "Benchmark" / "singleturn" / "animal" / "a.jpg").is_file()
    write_json(
        folder / "basic_edit.json", {"1": {"id": "animal/a.jpg", "prompt": "add a hat", "edit_type": "add"}}
    )
    result = finish(ImgEditSuite, folder, None)
    assert result.counts == {"basic": 1}
    (sample,) = ImgEditSuite().samples("basic")
    assert sample.category == "add"


def test_archive_members_outside_the_folder_are_refused(tmp_path: Path) -> None:
    import zipfile

    from harness.data.fetch import FetchError, extract

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escaped.txt", "x")
    with pytest.raises(FetchError, match="outside"):
        extract(archive, tmp_path / "into")
    assert not (tmp_path / "escaped.txt").exists()


def test_fetch_downloads_the_pinned_revision_from_the_hub_and_verify_passes(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ieval data fetch magicbrush` against a loopback server speaking the Hub API."""
    from huggingface_hub import constants

    from harness.suites.benchmarks.magicbrush import MagicBrushSuite
    from tests.suites.hub_server import folder_files, hub_server
    from tests.suites.test_benchmark_tables import _magicbrush_dev

    upstream = tmp_path / "upstream"
    _magicbrush_dev(upstream)
    files = folder_files(upstream / "magicbrush")
    files["README.md"] = b"# MagicBrush"
    files["data/train-00000-of-00001.parquet"] = b"not requested by the loader"
    pinned = MagicBrushSuite.source.revision
    with hub_server("osunlp/MagicBrush", files, head_sha="b" * 40) as (url, log):
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", url)
        monkeypatch.setattr(
            constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        result = CliRunner().invoke(_app(), ["data", "fetch", "magicbrush"])
    assert result.exit_code == 0, result.output
    assert f"revision {pinned}" in result.stdout and "records: dev 3, dev-multiturn 2" in result.stdout
    assert "note: manual step for the remaining split" in result.stdout
    assert any(f"/resolve/{pinned}/data/dev-00000-of-00001.parquet" in line for line in log)
    assert not any("train-" in line for line in log if line.startswith("GET /datasets"))
    folder = data_dir / "magicbrush"
    assert not (folder / "data" / "train-00000-of-00001.parquet").exists()
    manifest = json.loads((folder / "ieval-manifest.json").read_text())
    assert manifest["revision"] == pinned and manifest["counts"] == {"dev": 3, "dev-multiturn": 2}
    assert [s.id for s in MagicBrushSuite().samples("dev")] == ["100-turn1", "100-turn2", "200-turn1"]
    monkeypatch.setattr(MagicBrushSuite, "expected_counts", {"dev": 3, "dev-multiturn": 2})
    verified = CliRunner().invoke(_app(), ["data", "verify", "magicbrush"])
    assert verified.exit_code == 0, verified.output
