"""Held-out reward curve of the default model: SFT warm start, then GRPO, on synthetic data.

The training set is the gold replay of blueprints over the bundled sample specs; the held-out
split holds tools never offered in training. At every saved step the policy answers every
held-out GRPO prompt greedily (the project's prompt format) and the gated reward components
are averaged (weights of ``TrainConfig``). Writes ``curve.json`` and ``curve.png`` to ``--out``.

    .venv/bin/python benchmarks/heldout_curve.py --out docs/img [--sft-steps 30] [--grpo-steps 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import polars as pl
from bench_train import build_training_set

from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.models.loading import load_model, load_tokenizer
from inftool_dagster.models.registry import resolve_model
from inftool_dagster.training import TrainConfig, train
from inftool_dagster.training.heldout import heldout_eval


def heldout_reward(model_path: str, tokenizer, frame: pl.DataFrame, weights: dict) -> dict:
    backend = TransformersBackend(
        TransformersConfig(model=model_path, batch_size=8),
        model=load_model(resolve_model(model_path)),
        tokenizer=tokenizer,
    )
    return heldout_eval(backend, frame, weights)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--out", required=True)
    parser.add_argument("--sft-steps", type=int, default=30)
    parser.add_argument("--grpo-steps", type=int, default=10)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--heldout", type=int, default=32, help="held-out prompts evaluated")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(resolve_model(args.model))
    weights = TrainConfig().reward_weights
    points = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = build_training_set(Path(tmp), n=160)
        frame = pl.read_parquet(data / "grpo_heldout.parquet").head(args.heldout)
        points.append({"phase": "base", "step": 0, **heldout_reward(args.model, tokenizer, frame, weights)})
        print(points[-1], flush=True)
        sft = train(
            data,
            args.model,
            f"{tmp}/sft",
            TrainConfig(method="sft", max_steps=args.sft_steps, learning_rate=5e-5, save_steps=args.every),
        )

        def evaluate_checkpoints(phase: str, offset: int) -> None:
            for ckpt in sorted(
                Path(f"{tmp}/{phase}/trainer").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])
            ):
                step = offset + int(ckpt.name.split("-")[1])
                points.append({"phase": phase, "step": step, **heldout_reward(str(ckpt), tokenizer, frame, weights)})
                print(points[-1], flush=True)

        evaluate_checkpoints("sft", 0)
        grpo = train(
            data,
            sft["checkpoint"],
            f"{tmp}/grpo",
            TrainConfig(max_steps=args.grpo_steps, learning_rate=1e-5, save_steps=args.every),
        )
        evaluate_checkpoints("grpo", args.sft_steps)
        train_prompts, heldout_prompts = len(pl.read_parquet(data / "grpo_train.parquet")), len(frame)
    summary = {
        "model": args.model,
        "sft_steps": args.sft_steps,
        "grpo_steps": args.grpo_steps,
        "train_prompts": train_prompts,
        "heldout_prompts": heldout_prompts,
        "weights": weights,
        "sft_seconds_per_step": sft["seconds_per_step"],
        "grpo_seconds_per_step": grpo["seconds_per_step"],
        "seconds": round(time.perf_counter() - start, 1),
        "points": points,
    }
    (out / "heldout_curve.json").write_text(json.dumps(summary, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in ["reward", *weights]:
        ax.plot(
            [p["step"] for p in points],
            [p[key] for p in points],
            marker="o",
            label=key,
            linewidth=2.5 if key == "reward" else 1,
        )
    ax.axvline(args.sft_steps, color="grey", linestyle=":", label="SFT → GRPO")
    ax.set_xlabel("training step")
    ax.set_ylabel("held-out reward (greedy)")
    ax.set_title(f"{args.model}: held-out tools ({heldout_prompts} prompts)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "heldout_curve.png", dpi=120)
    print(json.dumps({k: v for k, v in summary.items() if k != "points"}))


if __name__ == "__main__":
    main()
