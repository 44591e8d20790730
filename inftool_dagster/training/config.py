"""The trainer's settings and a round's training step, with their defaults: the one place they are
defined (the Dagster config and the CLI read them from here). Plain pydantic, cheap to import."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TrainConfig(BaseModel):
    method: str = Field("grpo", pattern="^(grpo|sft)$")
    max_steps: int = Field(20, ge=1)
    learning_rate: float = 1e-5
    num_generations: int = Field(4, ge=2, description="GRPO group size (completions per prompt).")
    prompts_per_step: int = Field(2, ge=1)
    max_completion_length: int = Field(48, ge=1)
    temperature: float = 1.0
    beta: float = 0.0  # KL coefficient (0 = no reference model, TRL's default)
    lora: bool = False
    lora_r: int = 16
    reward_weights: dict[str, float] = Field(default_factory=lambda: {"format": 0.2, "name": 0.3, "arguments": 0.5})
    save_steps: int = 10
    save_total_limit: int | None = Field(
        1,
        ge=1,
        description="Resume points kept under out/trainer (the newest; each holds weights and optimizer state, "
        "~1.5 GB for the default model); None: every one.",
    )
    gradient_accumulation_steps: int = Field(1, ge=1, description="Batches per optimizer step (per process).")
    seed: int = 0
    round_key: str = "adhoc"
    cpu_fast_logprobs: bool = Field(
        True,
        description="On CPU, score only completion tokens in TRL's fused LM "
        "head (TRL scores every position off Triton devices).",
    )
    shared_prompt: bool = Field(
        True,
        description="GRPO computes each group's prompt once, in the rollouts and in "
        "the loss (compat/trl_grpo.py), instead of once per completion.",
    )
    sft_bf16: bool | None = Field(
        None,
        description="SFT under bf16 autocast (float32 master weights and optimizer); None: on GPUs and on CPUs "
        "with native bf16 arithmetic (AVX512-BF16, AMX), where it is faster (benchmarks/bench_sft.py).",
    )
    group_by_length: bool = Field(True, description="SFT batches of rows of similar length: less padding.")
    sft_batch_size: int = Field(4, ge=1, description="SFT chats (or pairs) per batch.")
    tool_doc_chars: int = Field(
        0,
        ge=0,
        description="Training rows show each tool and parameter description cut to its first sentence "
        "within this many characters (training/tool_docs.py): shorter chats, more of them per step; 0: whole.",
    )
    tool_optional_params: int | None = Field(
        None,
        ge=0,
        description="SFT chats show each tool's required and used parameters and at most this many other "
        "optional ones (training/tool_docs.py); None: all of them.",
    )
    dotted_name_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="This share of SFT chats show their tool names namespaced with dots "
        "(inspector.add_tags), as many tool sets name them (training/tool_docs.py); 0: as in the catalog.",
    )
    sft_whole_chats: bool = Field(
        True,
        description="SFT on each chat as one sequence, the loss on every assistant step (the prompt computed once); "
        "False: one prompt/completion pair per step (the prompt computed again for every step).",
    )
    grpo_bf16: bool = Field(
        False,
        description="GRPO's loss under bf16 autocast on CPU (on GPUs the Trainer's bf16 applies anyway); off "
        "by default: measured for speed only (benchmarks/bench_train.py), not yet for what it does to learning.",
    )
    boundary_candidates: int = Field(
        32,
        ge=0,
        description="GRPO trains only on prompts at the policy's boundary: this many candidates get a sampled "
        "group each before training, those whose rewards all agree are left out (training/boundary.py); 0: off.",
    )
    max_prompt_tokens: int = Field(
        1024,
        description="Rows whose prompt is longer are left out (counted in the "
        "summary): real specs' deep schemas can make prompts of "
        "tens of thousands of tokens.",
    )
    rollout_dtype: str = Field(
        "auto",
        pattern="^(auto|float32|bfloat16)$",
        description="GRPO rollouts on the continuous decoder from a copy of the policy in "
        "this dtype; auto: bfloat16 where the CPU computes it natively.",
    )
    gradient_checkpointing: bool | None = Field(
        None,
        description="None: on GPU (TRL's default), off on CPU, where memory is not short and recomputing costs time.",
    )
    catalog_dir: str | None = Field(None, description="Tool catalog for the execution reward (MCP Server).")
    deepspeed: str | None = Field(None, description="DeepSpeed JSON config (multi-GPU, under accelerate launch).")
    use_vllm: bool | None = Field(
        None, description="GRPO rollouts with vLLM (colocated); None: when on GPU and vllm is installed."
    )


def _train_default(name: str) -> Any:
    return TrainConfig.model_fields[name].default


class RoundTraining(BaseModel):
    """What a round's training step takes: steps per stage and the trainer settings a round may
    change (their defaults are ``TrainConfig``'s)."""

    sft_steps: int = Field(
        10, ge=0, description="SFT warm start on the SFT chats (a base model starts near zero reward); 0 skips it."
    )
    grpo_steps: int = Field(2, ge=0, description="GRPO steps after the warm start; 0 skips GRPO.")
    num_generations: int = _train_default("num_generations")
    max_completion_length: int = _train_default("max_completion_length")
    lora: bool = _train_default("lora")
    learning_rate: float = _train_default("learning_rate")
    boundary_candidates: int = _train_default("boundary_candidates")
    seed: int = _train_default("seed")
    sft_batch_size: int = _train_default("sft_batch_size")
    tool_doc_chars: int = _train_default("tool_doc_chars")
    tool_optional_params: int | None = _train_default("tool_optional_params")
    dotted_name_share: float = _train_default("dotted_name_share")

    def steps(self) -> dict[str, int]:
        return {"sft": self.sft_steps, "grpo": self.grpo_steps}

    def settings(self, round_key: str) -> dict[str, Any]:
        """``TrainConfig`` fields for ``train_stages``."""
        return {
            "num_generations": self.num_generations,
            "lora": self.lora,
            "round_key": round_key,
            "max_completion_length": self.max_completion_length,
            "learning_rate": self.learning_rate,
            "boundary_candidates": self.boundary_candidates,
            "seed": self.seed,
            "sft_batch_size": self.sft_batch_size,
            "tool_doc_chars": self.tool_doc_chars,
            "tool_optional_params": self.tool_optional_params,
            "dotted_name_share": self.dotted_name_share,
        }
