"""The decomposition policy: any Hugging Face causal LM, or a small one built from scratch.

``build_tokenizer`` trains a byte-level BPE tokenizer (the ``tokenizers`` library) on generated
train-split text; ``build_model`` makes a randomly initialised Llama-architecture causal LM of a
named size; ``load_policy`` loads either a local directory or a model id (``local_files_only`` when
``HF_HUB_OFFLINE=1``). ``Policy.generate`` is batched greedy decoding with left padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOS, EOS, PAD = "<s>", "</s>", "<pad>"

# Named sizes of the from-scratch policy (Llama architecture).
MODEL_SIZES: dict[str, dict[str, int]] = {
    "micro": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2},
    "tiny": {"hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4, "num_attention_heads": 4},
    "small": {"hidden_size": 256, "intermediate_size": 768, "num_hidden_layers": 6, "num_attention_heads": 8},
}


def build_tokenizer(texts: Sequence[str], vocab_size: int = 1024) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, wrapped as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD, padding_side="left"
    )


def build_model(tokenizer: Any, size: str = "tiny", max_positions: int = 512) -> Any:
    """A randomly initialised Llama-architecture causal LM of a named size."""
    from transformers import LlamaConfig, LlamaForCausalLM

    if size not in MODEL_SIZES:
        raise ValueError(f"unknown model size {size!r}; choose one of {', '.join(MODEL_SIZES)}")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **MODEL_SIZES[size],
    )
    return LlamaForCausalLM(config)


@dataclass
class Policy:
    model: Any
    tokenizer: Any
    source: str = ""

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def generate(
        self, prompts: Sequence[str], max_new_tokens: int = 96, batch_size: int = 64, **sampling: Any
    ) -> list[str]:
        """Completions for ``prompts`` (greedy unless ``do_sample=True`` is passed)."""
        import torch

        self.model.eval()
        self.tokenizer.padding_side = "left"
        outputs: list[str] = []
        options = {"do_sample": False, **sampling}
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start : start + batch_size])
            encoded = self.tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
            encoded = {k: v.to(self.device) for k, v in encoded.items()}
            with torch.inference_mode():
                generated = self.model.generate(
                    **encoded,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=self.tokenizer.eos_token_id,
                    **options,
                )
            new_tokens = generated[:, encoded["input_ids"].shape[1] :]
            outputs.extend(self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        return outputs

    def save(self, directory: str | os.PathLike[str], dtype: str | None = None) -> Path:
        """Save weights as safetensors plus config and tokenizer; ``dtype='float16'`` halves the size."""
        import torch

        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        model = self.model
        if dtype is not None:
            import copy

            model = copy.deepcopy(model).to(getattr(torch, dtype))
        model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        return path


class PolicyLoadError(RuntimeError):
    """A checkpoint that is missing or cannot be read; the message says how to provide one."""


def load_policy(source: str | os.PathLike[str], device: str | None = None, dtype: str = "float32") -> Policy:
    """Load a causal LM and its tokenizer from a local directory or a model id."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise PolicyLoadError(f"needs torch and transformers (pip install 'ieval[train]'): {exc}") from exc
    text = str(source)
    is_dir = Path(text).is_dir()
    if not is_dir and (text.startswith((".", "/", "~")) or os.sep in text and Path(text).suffix):
        raise PolicyLoadError(
            f"no policy checkpoint at {text}; train one with 'ieval train sft' or pass a path"
        )
    offline = is_dir or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        tokenizer = AutoTokenizer.from_pretrained(text, local_files_only=offline)
        model = AutoModelForCausalLM.from_pretrained(
            text, local_files_only=offline, dtype=getattr(torch, dtype)
        )
    except (OSError, ValueError) as exc:
        where = "directory" if is_dir else "model id (not in the local Hugging Face cache; set HF_HOME)"
        raise PolicyLoadError(
            f"cannot load the policy from {where} {text}: {str(exc).splitlines()[0]}"
        ) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    model.eval()
    return Policy(model, tokenizer, source=text)


def export_checkpoint(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    card: dict[str, Any],
    dtype: str = "float16",
) -> Path:
    """Copy a checkpoint for shipping: weights in ``dtype`` (safetensors), config, tokenizer and a
    card (``imageedit_r1.json``: how it was trained); optimizer state is left behind."""
    import json

    policy = load_policy(source, device="cpu")
    path = policy.save(target, dtype=dtype)
    (path / "imageedit_r1.json").write_text(json.dumps(card, indent=1, sort_keys=True), encoding="utf-8")
    return path
