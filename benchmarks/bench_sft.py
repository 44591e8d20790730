"""SFT throughput on the project's own training rows: TRL's ``SFTTrainer`` as shipped vs the
project's settings of it (issue 22, part 1).

The rows are gold replays of planned blueprints over the bundled sample specs, verified into the
SFT view (``benchmarks/bench_train.build_training_set``): long prompts (system prompt and tool
list) and short assistant steps, as every round trains on. Every configuration trains the same
model on the same rows for ``--steps`` steps of batch ``TrainConfig.sft_batch_size`` with the same seed, each in
its own process (its peak memory is its own), through ``training.train``:

- ``trl``: TRL's trainer as shipped on CPU: float32, its fused LM head scoring every position
  (the long prompt included) off Triton devices, random batches;
- ``completion_only``: the LM head scores only the tokens that enter the loss
  (``compat/trl_logprobs.completion_tokens_only``): the same batches, so the loss per token
  must equal ``trl``'s at every step;
- ``completion_only_bf16``: and bf16 autocast (float32 master weights), the same batches;
- ``fast`` (the default ``TrainConfig``): and batches of rows of similar length (less padding);
- ``fast_lora``: and LoRA (r 16) instead of full fine-tuning.

Tokens/s counts the non-padding tokens the trainer processed (TRL's ``num_tokens``) over the
training time; the first step is included in every configuration alike. Written to
``docs/bench/sft_throughput.json`` with ratios against ``trl`` in the same run.

    .venv/bin/python benchmarks/bench_sft.py [--steps 8] [--rows 96] [--configs trl,completion_only,...]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = ROOT / "docs" / "bench" / "sft_throughput.json"
PAIRS = {"sft_whole_chats": False}  # one prompt/completion pair per assistant step, as TRL's examples do
CONFIGS = {
    "trl": {"cpu_fast_logprobs": False, "sft_bf16": False, "group_by_length": False, "lora": False, **PAIRS},
    "completion_only": {"cpu_fast_logprobs": True, "sft_bf16": False, "group_by_length": False, "lora": False, **PAIRS},
    "completion_only_bf16": {
        "cpu_fast_logprobs": True,
        "sft_bf16": True,
        "group_by_length": False,
        "lora": False,
        **PAIRS,
    },
    "fast": {"cpu_fast_logprobs": True, "sft_bf16": None, "group_by_length": True, "lora": False, **PAIRS},
    "fast_lora": {"cpu_fast_logprobs": True, "sft_bf16": None, "group_by_length": True, "lora": True, **PAIRS},
    # each chat one sequence, the loss on every assistant step (the default TrainConfig); compare by --epoch
    "fast_chats": {"cpu_fast_logprobs": True, "sft_bf16": None, "group_by_length": True, "lora": False},
}
EPOCH_OUT = ROOT / "docs" / "bench" / "sft_whole_chats.json"


def epoch_steps(data: str, settings: dict) -> tuple[int, int]:
    """(steps for one pass over the SFT rows in this layout, assistant steps learnt in that pass)."""
    import math

    import polars as pl

    from inftool_dagster.models.loading import load_tokenizer
    from inftool_dagster.models.registry import resolve_model
    from inftool_dagster.training import TrainConfig
    from inftool_dagster.training.datasets import sft_pairs, sft_sequences, within_length, within_prompt_limit
    from inftool_dagster.training.sft import sft_max_length

    config = TrainConfig(method="sft", **settings)
    tokenizer = load_tokenizer(resolve_model("smollm2-135m-instruct"))
    frame = pl.read_parquet(Path(data) / "sft_train.parquet")
    pairs, _ = within_prompt_limit(tokenizer, sft_pairs(frame, tokenizer), config.max_prompt_tokens)
    if config.sft_whole_chats:
        rows, _ = within_length(sft_sequences(frame, tokenizer), sft_max_length(config))
        units = len(rows["input_ids"])
    else:
        units = len(pairs["prompt"])
    return math.ceil(units / config.sft_batch_size), len(pairs["prompt"])


def run_one(data: str, model: str, out: str, steps: int, settings: dict) -> dict:
    """In a child process: ``steps`` SFT steps; speed, peak memory and the per-step log."""
    import resource

    from inftool_dagster.training import TrainConfig, train
    from inftool_dagster.training.trainer import sft_bf16

    config = TrainConfig(method="sft", max_steps=steps, learning_rate=5e-5, save_steps=10_000, **settings)
    summary = train(data, model, out, config)
    log = json.loads((Path(summary["checkpoint"]) / "training_log.json").read_text())
    tokens = max((h.get("num_tokens", 0) for h in log), default=0)
    return {
        "bf16": sft_bf16(config),
        "seconds": summary["seconds"],
        "seconds_per_step": summary["seconds_per_step"],
        "tokens": int(float(tokens)),
        "tokens_per_s": round(float(tokens) / summary["seconds"], 1),
        "loss": [round(float(h["loss"]), 5) for h in log if "loss" in h],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rows", type=int, default=96, help="blueprints replayed into the SFT view")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--epoch",
        action="store_true",
        help="each config trains one pass over the same rows (chats vs pairs learn the same assistant steps "
        "in different numbers of steps); written to docs/bench/sft_whole_chats.json",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data, out, name = args.child.split("|")
        steps, learnt = epoch_steps(data, CONFIGS[name]) if args.epoch else (args.steps, None)
        result = run_one(data, args.model, out, steps, CONFIGS[name])
        if args.epoch:
            result.update(steps=steps, assistant_steps=learnt)
            result["assistant_steps_per_s"] = round(learnt / result["seconds"], 3)
        print(json.dumps(result))
        return
    from bench_train import build_training_set

    from inftool_dagster.training import TrainConfig
    from inftool_dagster.training.sft import sft_max_length

    with tempfile.TemporaryDirectory() as tmp:
        data = build_training_set(Path(tmp), n=args.rows)
        results = {}
        for name in args.configs.split(","):
            child = subprocess.run(
                [sys.executable, __file__, "--model", args.model, "--steps", str(args.steps), "--child",
                 f"{data}|{tmp}/{name}|{name}", *(["--epoch"] if args.epoch else [])],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if child.returncode != 0:
                raise SystemExit(f"{name} failed:\n{child.stderr[-3000:]}")
            results[name] = json.loads(child.stdout.strip().splitlines()[-1])
            print(name, json.dumps({k: v for k, v in results[name].items() if k != "loss"}), flush=True)
    if args.epoch:
        write_epoch(args, results)
        return
    base = results.get("trl") or results[next(iter(results))]
    record = {
        "model": args.model,
        "steps": args.steps,
        "batch": TrainConfig(method="sft").sft_batch_size,
        "max_length": sft_max_length(TrainConfig(method="sft")),
        "rows": "gold replays of planned blueprints over the bundled sample specs (SFT view)",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "configs": CONFIGS,
        "results": results,
        "tokens_per_s_vs_trl": {k: round(v["tokens_per_s"] / base["tokens_per_s"], 2) for k, v in results.items()},
        "peak_rss_vs_trl": {k: round(v["peak_rss_mib"] / base["peak_rss_mib"], 2) for k, v in results.items()},
        "loss_vs_trl_same_batches": {
            k: round(max(abs(a - b) for a, b in zip(v["loss"], base["loss"])), 5)
            for k, v in results.items()
            if not CONFIGS[k]["group_by_length"] and v["loss"] and base["loss"]
        },
        "command": "benchmarks/bench_sft.py " + " ".join(sys.argv[1:]),
    }
    out = args.out or OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: record[k] for k in ("tokens_per_s_vs_trl", "peak_rss_vs_trl", "loss_vs_trl_same_batches")}))


def write_epoch(args, results: dict) -> None:
    """One pass over the same rows per config: seconds and assistant steps learnt per second."""
    base = results[next(iter(results))]
    record = {
        "model": args.model,
        "rows": f"{args.rows} blueprints' gold replays over the bundled sample specs (SFT view), one pass",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "configs": {k: CONFIGS[k] for k in results},
        "results": results,
        "epoch_seconds_vs_first": {k: round(v["seconds"] / base["seconds"], 3) for k, v in results.items()},
        "assistant_steps_per_s_vs_first": {
            k: round(v["assistant_steps_per_s"] / base["assistant_steps_per_s"], 2) for k, v in results.items()
        },
        "command": "benchmarks/bench_sft.py " + " ".join(sys.argv[1:]),
    }
    out = args.out or EPOCH_OUT
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: record[k] for k in ("epoch_seconds_vs_first", "assistant_steps_per_s_vs_first")}))


if __name__ == "__main__":
    main()
