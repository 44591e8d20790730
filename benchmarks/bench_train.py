"""Training step speed and peak memory: TRL's GRPO as shipped vs the project's CPU fast path, LoRA, SFT.

The training set is the gold replay of blueprints over the bundled sample specs (the views
``inftool verify`` writes). Each configuration runs in its own process so that its peak
resident memory (``ru_maxrss``) is its own. The first configuration is the baseline the others are printed
against: TRL's GRPO trainer as shipped (full fine-tuning; its fused LM head scores every
position, prompt included, off Triton devices). ``grpo_fast`` is the same with
``cpu_fast_logprobs`` (only the completion tokens scored; identical log-probs, tested), no
gradient checkpointing on CPU, and each group's prompt computed once in rollouts and loss
(``compat/trl_grpo.py``). ``grpo_no_checkpointing`` has the first two only, to show what
the shared prompt buys.

    .venv/bin/python benchmarks/bench_train.py [--model smollm2-135m-instruct] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FAST = {"cpu_fast_logprobs": True, "shared_prompt": True, "gradient_checkpointing": None}
CONFIGS = {  # TRL as shipped: every position scored on CPU, every prompt copy processed, gradient checkpointing
    "grpo_trl_default": {
        "method": "grpo",
        "lora": False,
        "cpu_fast_logprobs": False,
        "shared_prompt": False,
        "gradient_checkpointing": True,
    },
    "grpo_no_checkpointing": {
        "method": "grpo",
        "lora": False,
        "cpu_fast_logprobs": True,
        "shared_prompt": False,
        "gradient_checkpointing": None,
    },
    "grpo_fast": {"method": "grpo", "lora": False, **FAST},
    "grpo_fast_lora": {"method": "grpo", "lora": True, **FAST},
    "grpo_fast_bf16": {"method": "grpo", "lora": False, **FAST, "grpo_bf16": True},
    "sft_full": {"method": "sft", "lora": False, **FAST},
}


def build_training_set(root: Path, n: int = 48) -> Path:
    import polars as pl

    from inftool_dagster.catalog import build_catalog
    from inftool_dagster.catalog.sources import SAMPLE_SPECS
    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.synthesis.blueprints import Planner
    from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
    from inftool_dagster.synthesis.user_simulator import UserSimulator
    from inftool_dagster.training.views import gold_trajectory_rows
    from inftool_dagster.verification import verify

    build_catalog([SAMPLE_SPECS], workers=1).write(root / "catalog")
    server = CatalogServer.from_catalog(root / "catalog")
    blueprints = Planner(list(server.tools.values()), seed=0).plan(0, n)
    user = UserSimulator({name: t.description for name, t in server.tools.items()}, None, 0)
    (root / "traj").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(gold_trajectory_rows(blueprints, server, user), schema=TRAJECTORY_SCHEMA).write_parquet(
        root / "traj" / "shard-00000.parquet"
    )
    verify(root / "traj", root / "catalog", root / "views")
    return root / "views"


def run_one(data: str, model: str, out: str, steps: int, settings: dict, group: int, completion: int) -> dict:
    """In a child process: train ``steps`` steps, report speed and this process's peak memory."""
    import resource

    from inftool_dagster.training import TrainConfig, train

    config = TrainConfig(
        method=settings["method"],
        lora=settings["lora"],
        max_steps=steps,
        num_generations=group,
        cpu_fast_logprobs=settings["cpu_fast_logprobs"],
        shared_prompt=settings["shared_prompt"],
        gradient_checkpointing=settings["gradient_checkpointing"],
        grpo_bf16=settings.get("grpo_bf16", False),
        prompts_per_step=2,
        max_completion_length=completion,
        save_steps=10_000,
    )
    summary = train(data, model, out, config)
    samples = group * 2 if settings["method"] == "grpo" else 4
    return {
        "seconds_per_step": summary["seconds_per_step"],
        "samples_per_s": round(samples / summary["seconds_per_step"], 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--group", type=int, default=4, help="GRPO completions per prompt (2 prompts per step)")
    parser.add_argument("--completion", type=int, default=48, help="GRPO max completion tokens")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data, out, name = args.child.split("|")
        print(json.dumps(run_one(data, args.model, out, args.steps, CONFIGS[name], args.group, args.completion)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = build_training_set(Path(tmp))
        results = {}
        for name in args.configs.split(","):
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--model",
                    args.model,
                    "--steps",
                    str(args.steps),
                    "--group",
                    str(args.group),
                    "--completion",
                    str(args.completion),
                    "--child",
                    f"{data}|{tmp}/{name}|{name}",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{name:10s} {results[name]}", flush=True)
    base = results[next(iter(results))]
    print(
        json.dumps(
            {
                "model": args.model,
                "steps": args.steps,
                "grpo": {"prompts_per_step": 2, "group": args.group, "max_completion_tokens": args.completion},
                "sft": sft_settings(),
                "results": results,
                "step_time_vs_first": {
                    k: round(v["seconds_per_step"] / base["seconds_per_step"], 3) for k, v in results.items()
                },
                "peak_rss_vs_first": {
                    k: round(v["peak_rss_mib"] / base["peak_rss_mib"], 3) for k, v in results.items()
                },
            },
            indent=1,
        )
    )


def sft_settings() -> dict:
    """The SFT batch and max_length the trainer uses (read from its config, not restated)."""
    from inftool_dagster.training import TrainConfig
    from inftool_dagster.training.sft import sft_max_length

    config = TrainConfig(method="sft")
    return {"batch": config.sft_batch_size, "max_length": sft_max_length(config)}


if __name__ == "__main__":
    main()
