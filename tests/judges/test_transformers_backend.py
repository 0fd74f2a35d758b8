"""The local transformers judge backend on a tiny random Qwen2-VL built from config (no download).

A random model writes gibberish, so every reply must end ``parse_failed`` after one re-ask: the real
processor, chat template, batching and generation run, and nothing is imputed.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_qwen2_vl_dir(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    vocab = {chr(c): i for i, c in enumerate(range(32, 127))}
    vocab["\n"] = len(vocab)
    for token in specials:
        vocab[token] = len(vocab)
    tokenizer = Tokenizer(
        models.WordPiece(vocab=vocab, unk_token="<|endoftext|>", max_input_chars_per_word=10_000)
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.add_special_tokens(specials)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}"
        "{% endif %}{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16),
        tokenizer=fast,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=template,
    )
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": 4096,
            "rope_scaling": {"type": "mrope", "mrope_section": [4, 2, 2]},
            "bos_token_id": vocab["<|im_start|>"],
            "eos_token_id": vocab["<|im_end|>"],
        },
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 32,
            "num_heads": 2,
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "in_chans": 3,
        },
        image_token_id=vocab["<|image_pad|>"],
        video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"],
        vision_end_token_id=vocab["<|vision_end|>"],
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_qwen2_vl")
    Qwen2VLForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_random_local_vlm_judge_is_parse_failed_not_a_score(tiny_qwen2_vl_dir, tmp_path, make_case):
    from harness.judges import config
    from harness.judges.backends.transformers_vlm import TransformersVLMBackend
    from harness.judges.builtin import VieScoreEdit

    settings = config.configure(
        backend="transformers",
        local_model=str(tiny_qwen2_vl_dir),
        local_batch_size=3,
        max_tokens=12,
        cache_dir=tmp_path / "cache",
        max_reask=1,
        temperature=0.0,
    )
    try:
        assert VieScoreEdit.unavailable_reason(None) is None
        backend = TransformersVLMBackend(settings)
        generated = []
        original = backend.model.generate

        def counting(**kwargs):
            generated.append(kwargs["input_ids"].shape[0])
            return original(**kwargs)

        backend.model.generate = counting
        judge = VieScoreEdit(backend=backend)
        batch = [make_case(f"q{i}", 40 + i, size=56) for i in range(3)]
        records = judge.score(batch)
        assert [r.status for r in records] == ["parse_failed"] * 3
        assert all(r.value is None and "unparseable judge reply" in r.error for r in records)
        assert all(r.meta["reasks"] == 2 for r in records)  # SC and PQ each re-asked once
        assert all(r.meta["judge_models"] == [str(tiny_qwen2_vl_dir)] for r in records)
        # 3 samples x 2 prompts = 6 requests, then 6 re-asks: batches of at most 3
        assert sum(generated) == 12 and max(generated) == 3
        again = VieScoreEdit(backend=backend).score(batch)
        assert [r.status for r in again] == ["parse_failed"] * 3 and sum(generated) == 12  # all cached
    finally:
        config.reset()


def test_local_judge_without_weights_is_unavailable_with_one_line(tmp_path):
    from harness.judges import config
    from harness.judges.builtin import VieScoreEdit

    config.configure(backend="transformers", local_model=str(tmp_path / "no-such-model"))
    try:
        reason = VieScoreEdit.unavailable_reason(None)
        assert reason is not None and "\n" not in reason and "missing weights" in reason
    finally:
        config.reset()
