"""Learned tools on tiny random models of the real classes (OWLv2, Grounding DINO, SAM, a causal
LM planner), an OpenAI-compatible planner against a local server, and the learned toolbox driving
decompose-then-edit end to end. Every output is smoke."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

import tiny_models  # noqa: E402

from baselines.diffusers_editors.editors import InstructPix2PixEditor, SDInpaintEditor  # noqa: E402
from baselines.pipelines.decompose import DecomposeThenEditEditor  # noqa: E402
from baselines.tools import ToolCall, Workspace  # noqa: E402
from baselines.tools.learned.grounding import GroundingDinoGround, Owlv2Ground  # noqa: E402
from baselines.tools.learned.planner import OpenAIChatPlanner, TransformersPlanner  # noqa: E402
from baselines.tools.learned.segmentation import SamSegment  # noqa: E402
from baselines.tools.learned.toolbox import learned_toolbox  # noqa: E402
from baselines.tools.toolbox import Toolbox  # noqa: E402
from harness.types import EditRequest  # noqa: E402

IMAGE = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)


def test_owlv2_grounding_returns_normalised_boxes(tmp_path: Path) -> None:
    model, processor = tiny_models.owlv2(tmp_path)
    tool = Owlv2Ground(network=model, processor=processor, threshold=0.0, smoke=True)
    box, ws = Toolbox([tool]), Workspace.start(IMAGE)
    result = box.call(ws, ToolCall("ground", {"query": "a red circle", "max_regions": 2}))
    assert result.ok, result.error
    assert 1 <= len(result.output["regions"]) <= 2  # degenerate random boxes are dropped
    for region in result.output["regions"]:
        x0, y0, x1, y1 = region["box"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and region["label"] == "a red circle"
    assert box.smoke and tool.fingerprint()["model"] == "google/owlv2-base-patch16-ensemble"
    strict = Owlv2Ground(network=model, processor=processor, threshold=1.1, smoke=True)
    failed = Toolbox([strict]).call(ws, ToolCall("ground", {"query": "a red circle"}))
    assert not failed.ok and "no box for 'a red circle' above score 1.1" in failed.error


def test_grounding_dino_grounding_runs(tmp_path: Path) -> None:
    model, processor = tiny_models.grounding_dino(tmp_path)
    tool = GroundingDinoGround(
        network=model, processor=processor, threshold=0.0, text_threshold=0.0, smoke=True
    )
    ws = Workspace.start(IMAGE)
    result = Toolbox([tool]).call(ws, ToolCall("ground", {"query": "red circle", "max_regions": 3}))
    assert result.ok, result.error
    assert 1 <= len(result.output["regions"]) <= 3


def test_sam_segments_a_grounded_box(tmp_path: Path) -> None:
    model, processor = tiny_models.sam()
    tool = SamSegment(network=model, processor=processor, smoke=True)
    ws = Workspace.start(IMAGE)
    ws.add_region("thing", (0.1, 0.1, 0.6, 0.7))
    result = Toolbox([tool]).call(ws, ToolCall("segment", {"region": "r1"}))
    if result.ok:
        mask = ws.masks[result.output["mask"]]
        assert mask.shape == IMAGE.shape[:2] and mask.dtype == bool and ws.regions["r1"].mask_id == "m1"
    else:  # random weights may predict nothing: that must be a recorded failure, not an empty mask
        assert "empty mask" in result.error
    unknown = Toolbox([tool]).call(ws, ToolCall("segment", {"region": "r9"}))
    assert not unknown.ok and unknown.invalid


def test_transformers_planner_with_random_weights_fails_cleanly(tmp_path: Path) -> None:
    model, tokenizer = tiny_models.tiny_causal_lm(tmp_path)
    planner = TransformersPlanner(network=model, tokenizer=tokenizer, max_new_tokens=8, smoke=True)
    result = Toolbox([planner]).call(Workspace.start(IMAGE), ToolCall("plan", {"instruction": "make it red"}))
    assert not result.ok and "planner answer did not parse" in result.error


class _ChatServer(BaseHTTPRequestHandler):
    answer = '[{"action": "recolor", "subject": "the left half", "goal": "red"}]'
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's method name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        reply = {
            "choices": [{"message": {"role": "assistant", "content": self.answer}}],
            "model": body["model"],
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_compatible_planner_speaks_chat_completions(monkeypatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), _ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PLANNER_KEY", "sk-test-123")
        planner = OpenAIChatPlanner(
            "planner-model", f"http://127.0.0.1:{server.server_port}/v1", api_key_env="PLANNER_KEY"
        )
        result = Toolbox([planner]).call(
            Workspace.start(IMAGE), ToolCall("plan", {"instruction": "make the left half red"})
        )
    finally:
        server.shutdown()
    assert result.ok and result.output["subedits"] == [
        {"action": "recolor", "subject": "the left half", "goal": "red"}
    ]
    (request,) = _ChatServer.seen
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test-123"
    assert (
        request["body"]["temperature"] == 0
        and "make the left half red" in request["body"]["messages"][0]["content"]
    )
    assert "sk-test" not in json.dumps(planner.fingerprint())


class _FixedPlanner:
    """A plan tool standing in for an LLM that answered correctly (the LLM path is tested above)."""

    from baselines.tools.specs import spec as _spec

    spec = _spec("plan")
    smoke = False

    def run(self, ws, arguments):
        from baselines.tools import ToolResult

        return ToolResult(
            ok=True, output={"subedits": [{"action": "recolor", "subject": "the box", "goal": "blue"}]}
        )


def test_decompose_then_edit_on_learned_tools_end_to_end(tmp_path: Path) -> None:
    owl_model, owl_processor = tiny_models.owlv2(tmp_path)
    sam_model, sam_processor = tiny_models.sam()
    inpainter = SDInpaintEditor(
        pipeline=tiny_models.sd_inpaint_pipeline(tmp_path / "inpaint"), smoke=True, steps=1, resolution=32
    )
    instruct = InstructPix2PixEditor(
        pipeline=tiny_models.instruct_pix2pix_pipeline(tmp_path / "ip2p"), smoke=True, steps=1, resolution=32
    )
    toolbox = learned_toolbox(
        planner=_FixedPlanner(),
        detector=Owlv2Ground(network=owl_model, processor=owl_processor, threshold=0.0, smoke=True),
        segmenter=SamSegment(network=sam_model, processor=sam_processor, smoke=True),
        inpainter=inpainter,
        instruct_editor=instruct,
    )
    editor = DecomposeThenEditEditor(toolbox=toolbox)
    (result,) = editor.edit([EditRequest("x", IMAGE, "make the box blue", seed=3)])
    assert result.smoke
    tools = [step.tool for step in result.trace]
    assert tools[:3] == ["plan", "ground", "segment"] and tools[-1] == "finish"
    assert all(step.image is not None and step.image.shape == IMAGE.shape for step in result.trace)
    if result.status == "ok":
        assert tools[3] == "recolor" and result.trace[3].status == "ok"
    else:  # SAM with random weights may find no mask; then the recolor runs on the box or fails loudly
        assert result.error and any(step.status == "error" for step in result.trace)
