"""A tiny Llama built in the test with the real SmolLM2 tokenizer (fetched once, cached)."""

import functools


@functools.lru_cache(maxsize=1)
def real_tokenizer():
    from inftool_dagster.models.loading import load_tokenizer
    from inftool_dagster.models.registry import DEFAULT_MODEL, resolve_model

    return load_tokenizer(resolve_model(DEFAULT_MODEL))


def tiny_model(seed: int = 0, layers: int = 2):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = real_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def tiny_backend(**config):
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    model, tokenizer = tiny_model()
    return TransformersBackend(TransformersConfig(model="tiny", **config), model=model, tokenizer=tokenizer)
