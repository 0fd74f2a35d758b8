"""The mock server itself: stats over HTTP, reset, deterministic fault selection, the CLI."""

from __future__ import annotations

import base64
import subprocess
import sys

import httpx
import numpy as np
import pytest

from baselines.api.mock import FaultSpec, MockServer, mock_edit
from baselines.api.mock.faults import parse_directive
from harness.images import decode_image, encode_png
from tests.api.conftest import source_image


def test_stats_and_reset_over_http(server: MockServer) -> None:
    png = encode_png(source_image())
    with httpx.Client(base_url=server.url) as client:
        files = {"image": ("i.png", png, "image/png")}
        reply = client.post(
            "/stability/v2beta/stable-image/edit/search-and-replace",
            headers={"Authorization": "Bearer k", "Accept": "image/*"},
            data={"prompt": "p", "search_prompt": "q", "seed": "3"},
            files=files,
        )
        assert reply.status_code == 200 and reply.headers["finish-reason"] == "SUCCESS"
        np.testing.assert_array_equal(decode_image(reply.content), mock_edit(source_image()))
        assert (
            client.post("/stability/v2beta/stable-image/edit/inpaint", json={"prompt": "p"}).status_code
            == 401
        )
        stats = client.get("/_stats").json()
        assert stats["calls"]["stability"] == 2 and stats["calls"]["openai"] == 0
        assert stats["edits_served"] == 1
        assert client.post("/_reset").json() == {"reset": True}
        assert client.get("/_stats").json()["total_calls"] == 0


def test_stability_rejects_json_bodies_like_the_real_api(server: MockServer) -> None:
    reply = httpx.post(
        f"{server.url}/stability/v2beta/stable-image/edit/inpaint",
        headers={"Authorization": "Bearer k"},
        json={},
    )
    assert reply.status_code == 400 and "multipart/form-data" in reply.json()["errors"][0]


def test_openai_json_variant_with_image_url(server: MockServer) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(encode_png(source_image())).decode()
    reply = httpx.post(
        f"{server.url}/openai/v1/images/edits",
        headers={"Authorization": "Bearer k"},
        json={"model": "gpt-image-1", "prompt": "p", "images": [{"image_url": data_url}]},
    )
    image = decode_image(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    np.testing.assert_array_equal(image, mock_edit(source_image()))


def test_unknown_route_is_404_and_counted(server: MockServer) -> None:
    assert httpx.get(f"{server.url}/openai/v1/nothing").status_code == 404
    assert httpx.get(f"{server.url}/nobody/here").status_code == 404
    assert server.stats()["calls"]["openai"] == 1


def test_directive_parsing() -> None:
    assert parse_directive("no directive") is None
    rule = parse_directive("x [mock:429,n=2,retry_after=0.5] y")
    assert (rule.name, rule.times, rule.retry_after) == ("429", 2, 0.5)
    assert parse_directive("[mock:timeout,n=all]").times == -1
    assert parse_directive("[mock:none,polls=3]").polls == 3
    with pytest.raises(ValueError, match="unknown mock fault 'teapot'"):
        parse_directive("[mock:teapot]")
    with pytest.raises(ValueError, match="bad mock directive option"):
        parse_directive("[mock:429,sometimes]")


def test_fault_spec_is_deterministic_and_close_to_its_rate() -> None:
    spec = FaultSpec.parse("429=0.1,500=0.05,retry_after=0.5")
    prompts = [f"edit number {i}" for i in range(4000)]
    first = [spec.choose("openai", p) for p in prompts]
    assert first == [spec.choose("openai", p) for p in prompts]
    share_429 = sum(1 for r in first if r and r.name == "429") / len(prompts)
    share_500 = sum(1 for r in first if r and r.name == "500") / len(prompts)
    assert 0.08 < share_429 < 0.12 and 0.035 < share_500 < 0.065
    assert all(r.times == 1 and r.retry_after == 0.5 for r in first if r)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("429", "expected FAULT=FRACTION"),
        ("teapot=0.1", "unknown fault 'teapot'"),
        ("429=0.7,500=0.5", "more than 1"),
        ("429=-1", "expected FAULT=FRACTION"),
    ],
)
def test_bad_fault_specs_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(spec)


def test_spec_faults_hit_only_the_first_call_so_a_retry_succeeds() -> None:
    with MockServer(faults="503=1.0") as server:
        with httpx.Client(base_url=server.base_url("ark"), headers={"Authorization": "Bearer k"}) as client:
            body = {"model": "m", "prompt": "p", "image": "data:image/png;base64,"}
            body["image"] += base64.b64encode(encode_png(source_image())).decode()
            assert client.post("/api/v3/images/generations", json=body).status_code == 503
            assert client.post("/api/v3/images/generations", json=body).status_code == 200
        assert server.stats()["faults"] == {"ark:503": 1}


def test_cli_serves_and_rejects_bad_options() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "baselines.api.mock", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("mock API server listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[-1].strip()
        assert httpx.get(f"{url}/_stats").json()["total_calls"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "baselines.api.mock", "--faults", "429=2"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: fault fractions add up to more than 1"


def test_ieval_mock_server_command_is_registered() -> None:
    from typer.testing import CliRunner

    from harness.cli.main import app

    runner = CliRunner()
    assert "--latency" in runner.invoke(app, ["mock-server", "--help"]).output
    bad = runner.invoke(app, ["mock-server", "--port", "0", "--faults", "500=0.2,teapot=0.1"])
    assert bad.exit_code == 2
    assert "unknown fault 'teapot'" in bad.output
