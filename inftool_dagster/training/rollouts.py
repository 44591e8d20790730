"""GRPO rollouts through the project's shared-prefix generator (``llm/shared_prefix.py``).

TRL's transformers rollout left-pads the batch (each prompt repeated ``num_generations``
times) and prefills every copy. A GRPO group is one prompt, so here each group's prompt is
prefilled once and its KV cache repeated to the group; consecutive groups also share the
system prompt and tool list prefix. Everything else (vLLM, continuous batching, multimodal
inputs) is TRL's own path. The override is TRL's ``_generate_single_turn`` extension point:
same inputs, same outputs (completion ids cut after the first EOS; no rollout log-probs, as in
TRL's transformers path).
"""

from __future__ import annotations

from typing import Any

from trl import GRPOTrainer


class SharedPrefixGRPOTrainer(GRPOTrainer):
    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if self.use_vllm or self.use_transformers_continuous_batching or images or multimodal_fields:
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                 has_tool_images)
        import torch
        from trl.models import unwrap_model_for_generation

        from inftool_dagster.llm.shared_prefix import PrefixCache, generate_rows

        with (
            unwrap_model_for_generation(
                self.model_wrapped, self.accelerator,
                gather_deepspeed3_params=self.args.ds3_gather_for_generation,
                generation_kwargs=self.generation_kwargs,
                gradient_checkpointing_kwargs=self.args.gradient_checkpointing_kwargs,
            ) as model,
            torch.no_grad(),
            self._dist.summon_full_params(self.model_wrapped, recurse=False),
        ):
            prefix_cache = PrefixCache(model)
            completions: list[list[int]] = []
            for group in _groups(prompt_ids):
                new = generate_rows(model, group, self._tokenizer.pad_token_id,
                                    {"generation_config": self.generation_config}, prefix_cache)
                completions += [_cut_after_eos(row, self.eos_token_ids) for row in new.tolist()]
        return completions, None


def _groups(rows: list[list[int]]) -> list[list[list[int]]]:
    """Consecutive identical prompts (TRL's sampler puts a group's copies side by side)."""
    groups: list[list[list[int]]] = []
    for row in rows:
        if groups and groups[-1][0] == row:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _cut_after_eos(row: list[int], eos_ids: Any) -> list[int]:
    eos = set(eos_ids if isinstance(eos_ids, (list, tuple, set)) else [eos_ids])
    end = next((k for k, t in enumerate(row) if t in eos), None)
    return row[: end + 1] if end is not None else row
