"""GRPO (and SFT warm start) on a training set with TRL, full fine-tuning or LoRA (peft).

Prompts are rendered with the project's compact prompting format (the policy's tool format),
so completions are plain text the reward functions parse. Checkpoints are saved every
``save_steps`` under ``out/trainer``; a killed run resumes from the last one. The final
checkpoint (LoRA merged) lands in ``out/checkpoint`` as safetensors with tokenizer,
generation config and a model card.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import polars as pl

from inftool_dagster.compat.trl_logprobs import completion_tokens_only
from inftool_dagster.llm.prompts import prompt_mode_messages, render_prompt
from inftool_dagster.models.loading import load_model, load_tokenizer
from inftool_dagster.models.registry import resolve_model

from .config import TrainConfig
from .rewards import reward_functions

SFT_BATCH = 4


def sft_max_length(config: TrainConfig) -> int:
    """SFT rows are cut at the prompt limit plus room for the assistant's step."""
    return config.max_prompt_tokens + 256


def _prompts(frame: pl.DataFrame, tokenizer: Any) -> list[str]:
    return [
        render_prompt(tokenizer, json.loads(p), json.loads(t), "prompt")
        for p, t in zip(frame["prompt"].to_list(), frame["tools"].to_list())
    ]


def _sft_pairs(frame: pl.DataFrame, tokenizer: Any) -> dict[str, list[str]]:
    """One prompt/completion pair per assistant step of each chat (prompt format): TRL then puts
    the loss on the assistant's tokens only, not on the long system prompt and tool list."""
    prompts, completions = [], []
    for messages, tools in zip(frame["messages"].to_list(), frame["tools"].to_list()):
        chat = prompt_mode_messages(json.loads(messages), json.loads(tools))
        for i, message in enumerate(chat):
            if message["role"] != "assistant":
                continue
            prompt = tokenizer.apply_chat_template(chat[:i], add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(chat[: i + 1], tokenize=False)
            completion = full[len(prompt) :] if full.startswith(prompt) else message["content"] + tokenizer.eos_token
            prompts.append(prompt)
            completions.append(completion)
    return {"prompt": prompts, "completion": completions}


def _within(tokenizer: Any, columns: dict[str, list], max_tokens: int) -> tuple[dict[str, list], int]:
    """The rows whose prompt fits ``max_tokens``, and how many were left out."""
    lengths = [len(ids) for ids in tokenizer(columns["prompt"], add_special_tokens=False)["input_ids"]]
    keep = [i for i, n in enumerate(lengths) if n <= max_tokens]
    if not keep:
        raise ValueError(f"every training prompt is longer than max_prompt_tokens={max_tokens}")
    return {k: [v[i] for i in keep] for k, v in columns.items()}, len(lengths) - len(keep)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _last_checkpoint(directory: Path) -> str | None:
    checkpoints = sorted(directory.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def train(data_dir: str | Path, model_name: str, out_dir: str | Path, config: TrainConfig) -> dict:
    import torch
    from datasets import Dataset

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
    data = Path(data_dir)
    gpu = torch.cuda.is_available()
    common = dict(
        output_dir=str(out / "trainer"),
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        logging_steps=1,
        save_steps=config.save_steps,
        report_to=[],
        seed=config.seed,
        use_cpu=not gpu,
        bf16=gpu,
        disable_tqdm=True,
        deepspeed=config.deepspeed,
        gradient_checkpointing=gpu if config.gradient_checkpointing is None else config.gradient_checkpointing,
    )
    if config.method == "grpo":
        from trl import GRPOConfig

        from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer, grpo_trainer_class

        frame = pl.read_parquet(data / "grpo_train.parquet")
        if frame.is_empty():
            raise ValueError(f"no GRPO prompts in {data / 'grpo_train.parquet'}")
        rows, dropped = _within(
            tokenizer,
            {"prompt": _prompts(frame, tokenizer), "gold_calls": frame["gold_calls"].to_list()},
            config.max_prompt_tokens,
        )
        dataset = Dataset.from_dict(rows)
        names = list(config.reward_weights)
        funcs = reward_functions(names, config.catalog_dir)
        use_vllm = config.use_vllm if config.use_vllm is not None else gpu and _installed("vllm")
        args = GRPOConfig(
            **common,
            num_generations=config.num_generations,
            per_device_train_batch_size=config.num_generations * config.prompts_per_step,
            max_completion_length=config.max_completion_length,
            temperature=config.temperature,
            beta=config.beta,
            reward_weights=[config.reward_weights[n] for n in names],
            use_vllm=use_vllm,
            **({"vllm_mode": "colocate"} if use_vllm else {}),
        )
        trainer_class = grpo_trainer_class(config.shared_prompt)
        trainer = trainer_class(
            model=model,
            reward_funcs=funcs,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
        )
        if isinstance(trainer, SharedPrefixGRPOTrainer):
            from inftool_dagster.llm.backend import resolve_dtype

            trainer.rollout_dtype = resolve_dtype(config.rollout_dtype, "cuda" if gpu else "cpu")
    else:
        from trl import SFTConfig, SFTTrainer

        frame = pl.read_parquet(data / "sft_train.parquet")
        rows, dropped = _within(tokenizer, _sft_pairs(frame, tokenizer), config.max_prompt_tokens)
        dataset = Dataset.from_dict(rows)
        args = SFTConfig(**common, per_device_train_batch_size=SFT_BATCH, max_length=sft_max_length(config))
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
        )
    resume = _last_checkpoint(out / "trainer")
    start = time.perf_counter()
    with completion_tokens_only(config.cpu_fast_logprobs and config.method == "grpo"):
        trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    history = [h for h in trainer.state.log_history if "loss" in h or "reward" in h]
    rewards = [h["reward"] for h in history if "reward" in h]
    checkpoint = save_checkpoint(trainer, tokenizer, out / "checkpoint", config, model_name, history, data)
    steps_run = trainer.state.global_step - (int(resume.split("-")[-1]) if resume else 0)
    return {
        "method": config.method,
        "steps": trainer.state.global_step,
        "resumed_from": resume,
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(1, steps_run), 3),
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
        "loss_last": next((h["loss"] for h in reversed(history) if "loss" in h), None),
        "checkpoint": str(checkpoint),
        "rows_over_max_prompt_tokens": dropped,
    }


def save_checkpoint(
    trainer: Any, tokenizer: Any, path: Path, config: TrainConfig, base: str, history: list, data: Path
) -> Path:
    model = trainer.model
    if hasattr(model, "merge_and_unload"):  # LoRA: ship merged weights
        model = model.merge_and_unload()
    tmp = path.with_name(path.name + ".partial")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    model.generation_config.save_pretrained(tmp)
    (tmp / "training_log.json").write_text(json.dumps(history, indent=1))
    curve = ", ".join(f"{h['reward']:.3f}" for h in history if "reward" in h)
    (tmp / "README.md").write_text(
        f"---\nbase_model: {base}\nlibrary_name: transformers\ntags: [inftool, {config.method}, tool-calling]\n---\n"
        f"# inftool policy checkpoint ({config.round_key})\n\n"
        f"- base model: `{base}`\n- method: {config.method}{' + LoRA (merged)' if config.lora else ''}\n"
        f"- training data: `{data}`\n- steps: {trainer.state.global_step}\n"
        f"- config: `{config.model_dump_json()}`\n- reward per step: {curve or 'n/a'}\n"
    )
    if path.exists():
        import shutil

        shutil.rmtree(path)
    os.replace(tmp, path)
    return path
