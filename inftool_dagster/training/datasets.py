"""Training rows as TRL reads them: GRPO prompts (with their gold calls for the rewards) and SFT
prompt/completion pairs, rendered in the policy's tool format; rows whose prompt is over the
limit are left out and counted."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from inftool_dagster.llm.prompts import prompt_mode_messages, render_prompt


def prompt_texts(frame: pl.DataFrame, tokenizer: Any) -> list[str]:
    """Each GRPO row's prompt, rendered in the policy's tool format."""
    return [
        render_prompt(tokenizer, json.loads(p), json.loads(t), "prompt")
        for p, t in zip(frame["prompt"].to_list(), frame["tools"].to_list())
    ]


def sft_pairs(frame: pl.DataFrame, tokenizer: Any) -> dict[str, list[str]]:
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


def sft_sequences(frame: pl.DataFrame, tokenizer: Any) -> dict[str, list[list[int]]]:
    """One token sequence per chat (prompt format) with ``completion_mask`` on every assistant step:
    each step is learnt on the same context and the same completion text as ``sft_pairs`` gives it,
    but the shared prompt (system prompt, tool list, earlier turns) is computed once per chat
    instead of once per step."""
    input_ids, masks = [], []
    for messages, tools in zip(frame["messages"].to_list(), frame["tools"].to_list()):
        chat = prompt_mode_messages(json.loads(messages), json.loads(tools))
        text = tokenizer.apply_chat_template(chat, tokenize=False)
        spans = []
        for i, message in enumerate(chat):
            if message["role"] != "assistant":
                continue
            prompt = tokenizer.apply_chat_template(chat[:i], add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(chat[: i + 1], tokenize=False)
            if not (text.startswith(full) and full.startswith(prompt)):
                raise ValueError("the chat template does not render a chat as the prefix of its continuation")
            spans.append((len(prompt), len(full)))
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        input_ids.append(encoded["input_ids"])
        masks.append([int(any(a <= start < b for a, b in spans)) for start, _ in encoded["offset_mapping"]])
    return {"input_ids": input_ids, "completion_mask": masks}


def within_length(columns: dict[str, list], max_tokens: int) -> tuple[dict[str, list], int]:
    """The tokenized rows of at most ``max_tokens`` tokens, and how many were left out."""
    keep = [i for i, ids in enumerate(columns["input_ids"]) if len(ids) <= max_tokens]
    if not keep:
        raise ValueError(f"every training sequence is longer than {max_tokens} tokens")
    return {k: [v[i] for i in keep] for k, v in columns.items()}, len(columns["input_ids"]) - len(keep)


def within_prompt_limit(tokenizer: Any, columns: dict[str, list], max_tokens: int) -> tuple[dict[str, list], int]:
    """The rows whose prompt fits ``max_tokens``, and how many were left out."""
    lengths = [len(ids) for ids in tokenizer(columns["prompt"], add_special_tokens=False)["input_ids"]]
    keep = [i for i, n in enumerate(lengths) if n <= max_tokens]
    if not keep:
        raise ValueError(f"every training prompt is longer than max_prompt_tokens={max_tokens}")
    return {k: [v[i] for i in keep] for k, v in columns.items()}, len(lengths) - len(keep)
