"""Candidate decode-step speed-ups for the continuous decoder, measured against its own step on
one checkpoint in the same process: a plain re-statement of the step (the baseline for the
variants), fused q/k/v and gate/up weights (one GEMM each instead of three and two), a bf16 KV
cache, and ``torch.compile`` of the fused step (dynamic shapes; its first call, the compile, is
timed on its own). Each variant's logits are compared with the decoder's (argmax equal, largest
difference). Written to ``--out`` (JSON).

    .venv/bin/python benchmarks/decode_variants.py --checkpoint DIR [--compile]
        [--out docs/bench/decode_variants.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb


def _ms(fn, repeat: int = 20) -> float:
    fn()
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return round((time.perf_counter() - start) / repeat * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--compile", action="store_true", help="also torch.compile the fused step")
    parser.add_argument("--out", type=Path, default=Path("docs/bench/decode_variants.json"))
    args = parser.parse_args()
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.continuous import ContinuousDecoder, _SlotCache
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    model = TransformersBackend(TransformersConfig(model=args.checkpoint, dtype="bfloat16")).model
    decoder = ContinuousDecoder(model, slots=32)
    inner = model.model
    heads, kv, dim = decoder.heads, decoder.kv_heads, decoder.head_dim
    inter = model.config.intermediate_size
    qkv = [
        torch.cat([b.self_attn.q_proj.weight, b.self_attn.k_proj.weight, b.self_attn.v_proj.weight])
        for b in inner.layers
    ]
    gate_up = [torch.cat([b.mlp.gate_proj.weight, b.mlp.up_proj.weight]) for b in inner.layers]

    def step(tokens, lengths, keys, values, end: int, fused: bool):
        batch = tokens.shape[0]
        hidden = inner.embed_tokens(tokens[:, None])
        cos, sin = inner.rotary_emb(hidden, lengths[:, None])
        rows = torch.arange(batch)
        mask = (torch.arange(end)[None, :] <= lengths[:, None])[:, None, None]
        for layer, block in enumerate(inner.layers):
            attn = block.self_attn
            x = block.input_layernorm(hidden)
            if fused:
                q, k, v = F.linear(x, qkv[layer]).split([heads * dim, kv * dim, kv * dim], -1)
            else:
                q, k, v = attn.q_proj(x), attn.k_proj(x), attn.v_proj(x)
            q = q.view(batch, 1, heads, dim).transpose(1, 2)
            k = k.view(batch, 1, kv, dim).transpose(1, 2)
            v = v.view(batch, 1, kv, dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            q, k, v = q.to(keys[layer].dtype), k.to(keys[layer].dtype), v.to(keys[layer].dtype)
            keys[layer][rows, :, lengths] = k[:, :, 0]
            values[layer][rows, :, lengths] = v[:, :, 0]
            out = F.scaled_dot_product_attention(
                q.reshape(batch, kv, heads // kv, dim),
                keys[layer][:batch, :, :end],
                values[layer][:batch, :, :end],
                attn_mask=mask,
                scale=dim**-0.5,
            )
            hidden = hidden + attn.o_proj(out.reshape(batch, 1, heads * dim).to(hidden.dtype))
            h = block.post_attention_layernorm(hidden)
            if fused:
                gate, up = F.linear(h, gate_up[layer]).split([inter, inter], -1)
                hidden = hidden + block.mlp.down_proj(F.silu(gate) * up)
            else:
                hidden = hidden + block.mlp(h)
        return model.lm_head(inner.norm(hidden[:, 0])).float()

    report: dict = {"checkpoint": args.checkpoint, "threads": torch.get_num_threads(), "ms_per_step": []}
    torch.manual_seed(0)
    with torch.inference_mode():
        for width, length in ((8, 300), (32, 300), (32, 600)):
            row: dict = {"rows": width, "cached_tokens": length}
            for cache_dtype in (torch.float32, torch.bfloat16):
                cache = _SlotCache(inner, width, length + 100, kv, dim)
                cache.keys = [torch.randn_like(k).to(cache_dtype) for k in cache.keys]
                cache.values = [torch.randn_like(v).to(cache_dtype) for v in cache.values]
                cache.dtype = cache_dtype
                cache.lengths[:] = length
                lengths = torch.full((width,), length)
                tokens = torch.randint(0, 1000, (width,))
                reference = decoder._decode_step(tokens, cache, width)
                name = "f32_cache" if cache_dtype == torch.float32 else "bf16_cache"
                row[f"decoder_{name}"] = _ms(lambda: decoder._decode_step(tokens, cache, width))
                row[f"restated_{name}"] = _ms(
                    lambda: step(tokens, lengths, cache.keys, cache.values, length + 1, False)
                )
                row[f"fused_{name}"] = _ms(lambda: step(tokens, lengths, cache.keys, cache.values, length + 1, True))
                fused = step(tokens, lengths, cache.keys, cache.values, length + 1, True)
                row[f"fused_{name}_argmax_equal"] = bool(torch.equal(fused.argmax(-1), reference.argmax(-1)))
                row[f"fused_{name}_max_abs_diff"] = round(float((fused - reference).abs().max()), 4)
            report["ms_per_step"].append(row)
            print(json.dumps(row), flush=True)
        if args.compile:
            compiled = torch.compile(step, dynamic=True)
            report["compile"] = []
            for width, length in ((32, 300), (32, 301), (8, 300), (32, 600)):
                cache = _SlotCache(inner, width, length + 100, kv, dim)
                keys = [torch.randn_like(k).to(torch.bfloat16) for k in cache.keys]
                values = [torch.randn_like(v).to(torch.bfloat16) for v in cache.values]
                lengths, tokens = torch.full((width,), length), torch.randint(0, 1000, (width,))
                start = time.perf_counter()
                out = compiled(tokens, lengths, keys, values, length + 1, True)
                first = time.perf_counter() - start
                eager = step(tokens, lengths, keys, values, length + 1, True)
                row = {
                    "rows": width,
                    "cached_tokens": length,
                    "first_call_s": round(first, 1),
                    "compiled_ms": _ms(lambda: compiled(tokens, lengths, keys, values, length + 1, True)),
                    "eager_ms": _ms(lambda: step(tokens, lengths, keys, values, length + 1, True)),
                    "argmax_equal": bool(torch.equal(out.argmax(-1), eager.argmax(-1))),
                    "max_abs_diff": round(float((out - eager).abs().max()), 4),
                }
                report["compile"].append(row)
                print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
