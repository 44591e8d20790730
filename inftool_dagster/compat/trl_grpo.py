"""GRPO with the group's shared prompt computed once: in the rollouts and in the loss. Fenced
here because it overrides private ``GRPOTrainer`` methods and reads ``self._dist`` and
``self._tokenizer``: ``grpo_trainer_class`` returns TRL's own ``GRPOTrainer`` on a TRL version
this was not written for (``compat.fast_path``).

A GRPO group is ``num_generations`` completions of one prompt, and TRL processes every copy of
the prompt: prefilled once per completion in the rollout, and forwarded and back-propagated
once per completion when the loss scores the completion tokens. Two overrides of TRL's own
methods change that, for text-only inputs (anything else is TRL's path):

- ``_generate_single_turn``: each group's prompt is prefilled once and its completions decoded
  together; with a Llama-family model through the continuous decoder (``llm/continuous.py``:
  rows end on their own, slots refill, the prompts' common prefix computed once), otherwise
  through ``generate`` from a shared KV cache (``llm/shared_prefix.generate_groups``). Same
  outputs shape: completion ids cut after the first EOS, no rollout log-probs. With
  ``rollout_dtype="bfloat16"`` the continuous decoder samples from a bf16 copy of the policy.
- ``_get_per_token_logps_and_entropies``: the distinct prompts are forwarded once (with
  gradient), their KV cache is indexed out to the completions, and only the completion tokens
  run on top. The computation graph is the same function of the weights, so log-probs,
  entropies and gradients equal TRL's (tested); the prompt's forward and backward are done
  once per group instead of once per completion. Needs the KV cache during training, so it
  applies when gradient checkpointing is off (the trainer turns it off on CPU).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from trl import GRPOTrainer

from . import fast_path, mark

FEATURE = "trl_grpo_shared_prefix"


def grpo_trainer_class(shared_prompt: bool = True) -> type:
    """``SharedPrefixGRPOTrainer`` where it applies, else TRL's ``GRPOTrainer``."""
    return SharedPrefixGRPOTrainer if shared_prompt and fast_path(FEATURE) else GRPOTrainer


class SharedPrefixGRPOTrainer(GRPOTrainer):
    # "bfloat16": rollouts are sampled from a bfloat16 copy of the policy, refreshed from the
    # training weights before every generation (on CPUs with native bf16 the decode runs about
    # twice as fast); the loss still scores them with the float32 policy, as with vLLM rollouts.
    rollout_dtype: str = "float32"
    _rollout_copy: Any = None

    def _rollout_model(self, model: Any) -> Any:
        """The model rollouts are sampled from: ``model`` itself, or its refreshed bf16 copy."""
        if self.rollout_dtype != "bfloat16" or model.dtype != torch.float32 or hasattr(model, "peft_config"):
            return model
        if self._rollout_copy is None:
            self._rollout_copy = copy.deepcopy(model).to(torch.bfloat16).eval()
        else:
            target = dict(self._rollout_copy.named_parameters())
            for name, value in model.named_parameters():
                target[name].data.copy_(value.data)
        return self._rollout_copy

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        from .transformers_cache import shared_prefix_available

        stock = self.use_vllm or self.use_transformers_continuous_batching or images or multimodal_fields
        # settings only where this path may run: they draw a sampling seed from torch's generator
        continuous = None if stock else _continuous_settings(self.model, self.generation_config, self.eos_token_ids)
        if stock or (continuous is None and not shared_prefix_available()):
            return super()._generate_single_turn(
                prompt_ids, images, multimodal_fields, num_generations, has_tool_images
            )
        from trl.models import unwrap_model_for_generation

        from inftool_dagster.llm.shared_prefix import PrefixCache, generate_groups

        mark(FEATURE)

        with (
            unwrap_model_for_generation(
                self.model_wrapped,
                self.accelerator,
                gather_deepspeed3_params=self.args.ds3_gather_for_generation,
                generation_kwargs=self.generation_kwargs,
                gradient_checkpointing_kwargs=self.args.gradient_checkpointing_kwargs,
            ) as model,
            torch.no_grad(),
            self._dist.summon_full_params(self.model_wrapped, recurse=False),
        ):
            groups = _groups(prompt_ids)
            if continuous is not None:
                from inftool_dagster.llm.continuous import ContinuousDecoder

                outputs = ContinuousDecoder(self._rollout_model(model)).generate(
                    [g[0] for g in groups], continuous, copies=[len(g) for g in groups]
                )
                return [sample.tokens for group in outputs for sample in group], None
            new = generate_groups(
                model,
                [g[0] for g in groups],
                [len(g) for g in groups],
                self._tokenizer.pad_token_id,
                {"generation_config": self.generation_config},
                PrefixCache(model),
            )
        return [_cut_after_eos(row, self.eos_token_ids) for row in new.tolist()], None

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **multimodal,
    ):
        checkpointing = getattr(self.accelerator.unwrap_model(model), "is_gradient_checkpointing", False)
        if compute_aux_loss or checkpointing or logits_to_keep < 2 or any(v is not None for v in multimodal.values()):
            return super()._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size,
                compute_entropy,
                compute_aux_loss,
                **multimodal,
            )
        mark(FEATURE)
        batch_size = batch_size or input_ids.size(0)
        logps, entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            rows = slice(start, start + batch_size)
            lp, ent = self._score_shared_prompt(
                model, input_ids[rows], attention_mask[rows], logits_to_keep, compute_entropy
            )
            logps.append(lp)
            entropies.append(ent)
        return torch.cat(logps), (torch.cat(entropies) if compute_entropy else None), None

    def _score_shared_prompt(self, model, input_ids, attention_mask, completion_len, compute_entropy):
        prompt_len = input_ids.size(1) - completion_len
        prompt = torch.cat([input_ids[:, :prompt_len], attention_mask[:, :prompt_len]], dim=1)
        unique, inverse = torch.unique(prompt, dim=0, return_inverse=True)
        with self.accelerator.autocast():
            head = model(
                input_ids=unique[:, :prompt_len],
                attention_mask=unique[:, prompt_len:],
                use_cache=True,
                logits_to_keep=1,
            )
            cache = head.past_key_values
            cache.batch_select_indices(inverse)  # each completion gets its prompt's keys and values (with grad)
            tail = model(
                input_ids=input_ids[:, prompt_len:-1],
                attention_mask=attention_mask[:, :-1],
                past_key_values=cache,
                use_cache=True,
            )
        logits = torch.cat([head.logits[inverse][:, -1:], tail.logits], dim=1)
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()
        logits = logits / self.temperature
        log_probs = torch.log_softmax(logits, dim=-1)
        token_logps = log_probs.gather(-1, input_ids[:, prompt_len:, None]).squeeze(-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1) if compute_entropy else None
        return token_logps, entropy


def _continuous_settings(model: Any, config: Any, eos_ids: Any):
    """Decode settings for the continuous decoder, or None when the model or the sampling
    (top-k, min-p, repetition penalty: not implemented there) needs ``generate``."""
    from inftool_dagster.llm.continuous import DecodeSettings, supports

    plain = (not config.top_k or config.top_k <= 0) and not config.min_p and config.repetition_penalty in (None, 1.0)
    if not (supports(model) and plain):
        return None
    eos = set(eos_ids if isinstance(eos_ids, (list, tuple, set)) else [eos_ids])
    sampled = config.do_sample and config.temperature and config.temperature > 0
    return DecodeSettings(
        max_new_tokens=config.max_new_tokens,
        eos_ids=frozenset(eos),
        temperature=float(config.temperature) if sampled else 0.0,
        top_p=float(config.top_p or 1.0),
        seed=int(torch.randint(0, 2**31 - 1, (1,))),
    )


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
