"""GRPO's sampling step for ImageEdit-R1, with the LoRA adapter apart and merged into the base.

The policy is the SmolLM2-135M architecture (its public config, written out below) with random
weights, float32 as GRPO trains it, and a rank-16 LoRA adapter on every linear layer
(``imageedit_r1.policy.add_lora``, the training code's own). One GRPO step of the shipped recipe
samples 256 completions (16 prompts x 16) from prompts of about 80 tokens; the longest completion
of a step, which sets how long decoding runs, is about 100 tokens. Both variants generate exactly
that many tokens (``min_new_tokens``), alternating, after one warm-up each:

- ``apart``: the adapter as training keeps it (``PeftModel``, each adapted layer runs its own
  A and B products);
- ``merged``: inside ``MergedSampling.merged()``, as ``--merged-sampling`` samples.

With ``--with-load`` both variants are also timed while another process trains the same
architecture's adapter on the same device (batches of 64 x 100 tokens, forward, backward and an
AdamW step in a loop), as an SFT arm does beside GRPO in the branch design. Both conditions are
measured in one run, the loaded one after the trainer reports its first steps.

Usage: python bench/r1_sampling.py [--repeats 3] [--json OUT] [--tiny] [--with-load]
``--tiny`` runs a two-layer model with few tokens on the CPU to check the script.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SMOLLM2_135M = dict(  # HuggingFaceTB/SmolLM2-135M-Instruct config.json
    vocab_size=49152,
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
    bos_token_id=1,
    eos_token_id=2,
)


def build_policy(tiny: bool, rank: int, device: str) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from imageedit_r1.policy import Policy, add_lora

    settings = dict(SMOLLM2_135M)
    if tiny:
        settings.update(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=4)
        settings.update(num_key_value_heads=2, vocab_size=512)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**settings))
    policy = add_lora(Policy(model, None), rank, base="smollm2")
    with torch.no_grad():
        for name, parameter in policy.model.named_parameters():
            if "lora_B" in name:  # a fresh adapter's B is zero; give it weights as a trained one has
                parameter.normal_(0.0, 0.01)
    return policy.model.to(device).eval()


def time_generation(model: Any, ids: Any, new_tokens: int, merging: Any | None) -> float:
    import contextlib

    import torch

    settings = dict(
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=True,
        temperature=1.5,
        pad_token_id=0,
        eos_token_id=2,
        attention_mask=torch.ones_like(ids),
    )
    if ids.is_cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.no_grad(), merging.merged() if merging else contextlib.nullcontext():
        out = model.generate(input_ids=ids, **settings)
    if ids.is_cuda:
        torch.cuda.synchronize()
    assert out.shape[1] == ids.shape[1] + new_tokens
    return time.perf_counter() - started


def train_in_a_loop(tiny: bool, rank: int, device: str, ready: Path) -> None:
    """The background load: LoRA training steps on the same architecture until killed; ``ready``
    is written after the third step."""
    import torch

    model = build_policy(tiny, rank, device).train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    batch, length = (4, 8) if tiny else (64, 100)
    ids = torch.randint(3, model.config.vocab_size, (batch, length), device=device)
    step = 0
    while True:
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        step += 1
        if step == 3:
            ready.write_text("3")


def start_load(args: argparse.Namespace, ready: Path) -> Any:
    """The background trainer as a second process; it picks the same device from the same flags."""
    import subprocess

    command = [sys.executable, __file__, "--load-worker", str(ready), "--rank", str(args.rank)]
    if args.tiny:
        command.append("--tiny")
    worker = subprocess.Popen(command)
    deadline = time.monotonic() + 600
    while not ready.exists():
        if worker.poll() is not None:
            raise RuntimeError(f"the background trainer exited with status {worker.returncode}")
        if time.monotonic() > deadline:
            worker.kill()
            raise RuntimeError("the background trainer did not start within 600 s")
        time.sleep(0.2)
    return worker


def time_variants(
    model: Any, ids: Any, new_tokens: int, merging: Any, repeats: int
) -> dict[str, list[float]]:
    """Both variants, one warm-up each, then alternating ``repeats`` times."""
    seconds: dict[str, list[float]] = {"apart": [], "merged": []}
    for variant in seconds:  # warm-up
        time_generation(model, ids, new_tokens, merging if variant == "merged" else None)
    for _ in range(repeats):
        for variant in seconds:
            seconds[variant].append(
                time_generation(model, ids, new_tokens, merging if variant == "merged" else None)
            )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=256, help="completions sampled at once")
    parser.add_argument("--prompt-tokens", type=int, default=80)
    parser.add_argument("--new-tokens", type=int, default=100)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--with-load", action="store_true", help="also time both beside a training process")
    parser.add_argument("--load-worker", type=Path, help=argparse.SUPPRESS)  # internal: be the load
    parser.add_argument("--json", help="write the result here ('-': stdout)")
    args = parser.parse_args()

    import torch

    from bench.machine_info import describe_machine, write_json
    from imageedit_r1.training.merged_sampling import MergedSampling

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    if args.load_worker:
        train_in_a_loop(args.tiny, args.rank, device, args.load_worker)
        return
    prompts, prompt_tokens, new_tokens = args.prompts, args.prompt_tokens, args.new_tokens
    if args.tiny:
        prompts, prompt_tokens, new_tokens = 4, 8, 6
    model = build_policy(args.tiny, args.rank, device)
    merging = MergedSampling(model)
    vocab = model.config.vocab_size
    ids = torch.randint(3, vocab, (prompts, prompt_tokens), device=device)
    seconds = time_variants(model, ids, new_tokens, merging, args.repeats)
    print(f"alone: {dict((v, [round(x, 3) for x in t]) for v, t in seconds.items())}", flush=True)
    loaded: dict[str, list[float]] | None = None
    if args.with_load:
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            worker = start_load(args, Path(scratch) / "ready")
            try:
                loaded = time_variants(model, ids, new_tokens, merging, args.repeats)
            finally:
                worker.kill()
                worker.wait()
    median = {v: statistics.median(s) for v, s in seconds.items()}
    tokens = prompts * new_tokens
    result = {
        "what": "GRPO sampling: completions of the SmolLM2-135M architecture + rank-16 LoRA, random weights",
        "device": device,
        "prompts": prompts,
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "seconds": seconds,
        "median_seconds": median,
        "tokens_per_second": {v: tokens / s for v, s in median.items()},
        "merged_speedup": median["apart"] / median["merged"],
        "tiny": args.tiny,
    }
    print(
        f"{prompts} x {new_tokens} tokens on {device}: apart {median['apart']:.2f} s, merged "
        f"{median['merged']:.2f} s, {result['merged_speedup']:.2f}x"
    )
    if loaded is not None:
        loaded_median = {v: statistics.median(s) for v, s in loaded.items()}
        result["with_load"] = {
            "seconds": loaded,
            "median_seconds": loaded_median,
            "merged_speedup": loaded_median["apart"] / loaded_median["merged"],
        }
        print(
            f"beside a training process: apart {loaded_median['apart']:.2f} s, merged "
            f"{loaded_median['merged']:.2f} s, {result['with_load']['merged_speedup']:.2f}x"
        )
    result["machine"] = describe_machine()
    write_json(args.json, result)


if __name__ == "__main__":
    main()
