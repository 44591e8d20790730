"""Where the continuous decoder's time goes on this machine: a bare GEMM's rate (the ceiling),
prefill tokens/s and its matrix-product rate, a decode step's cost at 1/8/32 rows and its LM
head, for one checkpoint in one dtype. Written to ``--out`` (JSON).

    .venv/bin/python benchmarks/profile_decoder.py --checkpoint DIR [--dtype bfloat16]
        [--out docs/bench/decoder_profile.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def _seconds(fn, repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--out", type=Path, default=Path("docs/bench/decoder_profile.json"))
    args = parser.parse_args()
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.continuous import ContinuousDecoder, _SlotCache
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    dtype = getattr(torch, args.dtype)
    model = TransformersBackend(TransformersConfig(model=args.checkpoint, dtype=args.dtype)).model
    config = model.config
    hidden, inter = config.hidden_size, config.intermediate_size
    report: dict = {"checkpoint": args.checkpoint, "dtype": args.dtype, "threads": torch.get_num_threads()}
    a, w = torch.randn(512, hidden, dtype=dtype), torch.randn(inter, hidden, dtype=dtype)
    report["gemm_gflops_512_rows"] = round(2 * 512 * hidden * inter / _seconds(lambda: F.linear(a, w), 50) / 1e9, 1)
    decoder = ContinuousDecoder(model, slots=32)
    non_embedding = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    with torch.inference_mode():
        rows, length = 4, 140
        cache = _SlotCache(model.model, rows, length + 80, decoder.kv_heads, decoder.head_dim)
        prefix = decoder.prefix_kv(list(range(100, 160)))
        ids = [torch.randint(0, 1000, (length,)).tolist() for _ in range(rows)]
        seconds = _seconds(lambda: decoder._prefill(ids, list(range(rows)), cache, prefix, 60), 3)
        report["prefill_tokens_per_s"] = round(rows * length / seconds)
        report["prefill_gflops"] = round(2 * non_embedding * rows * length / seconds / 1e9, 1)
        report["decode_ms_per_step"] = {}
        for width in (1, 8, 32):
            cache = _SlotCache(model.model, width, 264, decoder.kv_heads, decoder.head_dim)
            cache.lengths[:] = 200
            tokens = torch.randint(0, 1000, (width,))
            report["decode_ms_per_step"][width] = round(
                1000 * _seconds(lambda: decoder._decode_step(tokens, cache, width), 10), 1
            )
        last = torch.randn(32, hidden, dtype=dtype)
        report["lm_head_ms_32_rows"] = round(1000 * _seconds(lambda: model.lm_head(last), 20), 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
