"""Training rows as TRL reads them: GRPO prompts (with their gold calls for the rewards) and SFT
prompt/completion pairs, rendered in the policy's tool format; rows whose prompt is over the
limit are left out and counted."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from inftool_dagster.llm.prompts import prompt_mode_messages, render_prompt

from .tool_docs import AS_IN_CATALOG, ToolRendering, trimmed_tools


def prompt_texts(frame: pl.DataFrame, tokenizer: Any, description_chars: int = 0) -> list[str]:
    """Each GRPO row's prompt, rendered in the policy's tool format (descriptions cut to
    ``description_chars``, ``tool_docs.trim``; names as they are, the rewards compare them)."""
    return [
        render_prompt(tokenizer, json.loads(p), trimmed_tools(json.loads(t), description_chars), "prompt")
        for p, t in zip(frame["prompt"].to_list(), frame["tools"].to_list())
    ]


def _chats(frame: pl.DataFrame, rendering: ToolRendering) -> list[list[dict]]:
    """Each SFT row as prompt-format chat turns, its tools shown as ``rendering`` says."""
    ids = frame["trajectory_id"].to_list() if "trajectory_id" in frame.columns else list(map(str, range(frame.height)))
    chats = []
    for row_id, messages, tools in zip(ids, frame["messages"].to_list(), frame["tools"].to_list()):
        chats.append(prompt_mode_messages(*rendering.apply(row_id, json.loads(messages), json.loads(tools))))
    return chats


def sft_pairs(frame: pl.DataFrame, tokenizer: Any, rendering: ToolRendering = AS_IN_CATALOG) -> dict[str, list[str]]:
    """One prompt/completion pair per assistant step of each chat (prompt format): TRL then puts
    the loss on the assistant's tokens only, not on the long system prompt and tool list."""
    prompts, completions = [], []
    for chat in _chats(frame, rendering):
        for i, message in enumerate(chat):
            if message["role"] != "assistant":
                continue
            prompt = tokenizer.apply_chat_template(chat[:i], add_generation_prompt=True, tokenize=False)
            full = tokenizer.apply_chat_template(chat[: i + 1], tokenize=False)
            completion = full[len(prompt) :] if full.startswith(prompt) else message["content"] + tokenizer.eos_token
            prompts.append(prompt)
            completions.append(completion)
    return {"prompt": prompts, "completion": completions}


def sft_sequences(
    frame: pl.DataFrame, tokenizer: Any, rendering: ToolRendering = AS_IN_CATALOG
) -> dict[str, list[list[int]]]:
    """One token sequence per chat (prompt format) with ``completion_mask`` on every assistant step:
    each step is learnt on the same context and the same completion text as ``sft_pairs`` gives it,
    but the shared prompt (system prompt, tool list, earlier turns) is computed once per chat
    instead of once per step."""
    input_ids, masks = [], []
    for chat in _chats(frame, rendering):
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
