"""``train``: GRPO (``grpo.py``) or SFT (``sft.py``) on a training set with TRL, full fine-tuning
or LoRA (peft), laid out the way TRL lays out its trainers: one module per trainer, the datasets
in ``datasets.py``, checkpoints in ``checkpoint.py``, settings in ``config.py``.

Prompts are rendered with the project's compact prompting format (the policy's tool format),
so completions are plain text the reward functions parse. Checkpoints are saved every
``save_steps`` under ``out/trainer`` (the newest ``save_total_limit`` kept: each is ~1.5 GB
with its optimizer state); a killed run resumes from the last one. The final checkpoint
(LoRA merged) lands in ``out/checkpoint`` as safetensors with tokenizer, generation config
and a model card.
"""

from __future__ import annotations

import time
from pathlib import Path

from inftool_dagster.compat.trl_logprobs import completion_tokens_only
from inftool_dagster.models.loading import load_model, load_tokenizer
from inftool_dagster.models.registry import resolve_model

from .checkpoint import last_checkpoint, save_checkpoint
from .config import TrainConfig
from .grpo import grpo_trainer
from .sft import sft_trainer

ZERO_STD = "frac_reward_zero_std"  # TRL's GRPO log key


def sft_bf16(config: TrainConfig) -> bool:
    """Whether SFT runs under bf16 autocast: as configured, else where the hardware computes bf16 natively."""
    if config.sft_bf16 is not None:
        return config.sft_bf16
    from inftool_dagster.llm.backend import resolve_dtype

    return resolve_dtype("auto", "cpu") == "bfloat16"


def train(data_dir: str | Path, model_name: str, out_dir: str | Path, config: TrainConfig) -> dict:
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    resolved = resolve_model(model_name)
    tokenizer = load_tokenizer(resolved)
    model = load_model(resolved)
    model.train()
    peft_config = None
    if config.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=config.lora_r, lora_alpha=2 * config.lora_r, target_modules="all-linear", task_type="CAUSAL_LM"
        )
    gpu = torch.cuda.is_available()
    common = dict(
        output_dir=str(out / "trainer"),
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        logging_steps=1,
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        report_to=[],
        seed=config.seed,
        use_cpu=not gpu,
        bf16=gpu or (sft_bf16(config) if config.method == "sft" else config.grpo_bf16),
        disable_tqdm=True,
        deepspeed=config.deepspeed,
        gradient_checkpointing=gpu if config.gradient_checkpointing is None else config.gradient_checkpointing,
    )
    build = grpo_trainer if config.method == "grpo" else sft_trainer
    trainer, info = build(model, tokenizer, Path(data_dir), config, common, peft_config)
    resume = last_checkpoint(out / "trainer")
    start = time.perf_counter()
    with completion_tokens_only(config.cpu_fast_logprobs):  # GRPO's and SFT's loss tokens only
        trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    history = [h for h in trainer.state.log_history if "loss" in h or "reward" in h]
    rewards = [h["reward"] for h in history if "reward" in h]
    checkpoint = out / "checkpoint"
    if trainer.is_world_process_zero():  # under accelerate launch: one writer, the others wait for it
        save_checkpoint(trainer, tokenizer, checkpoint, config, model_name, history, Path(data_dir))
    trainer.accelerator.wait_for_everyone()
    steps_run = trainer.state.global_step - (int(resume.split("-")[-1]) if resume else 0)
    return {
        "method": config.method,
        "steps": trainer.state.global_step,
        "resumed_from": resume,
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(1, steps_run), 3),
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
        "rewards": [round(float(r), 4) for r in rewards],  # GRPO: the reward curve, one mean per step
        # GRPO: per step, the share of prompts whose group had one reward for every completion (no signal)
        "frac_reward_zero_std": [
            round(float(h["frac_reward_zero_std"]), 4) for h in history if "frac_reward_zero_std" in h
        ],
        "loss_last": next((h["loss"] for h in reversed(history) if "loss" in h), None),
        "checkpoint": str(checkpoint),
        **info,
        "processes": trainer.accelerator.num_processes,
    }
