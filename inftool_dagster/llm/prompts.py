"""Prompt construction for function calling.

``native``: the model's own chat template with ``tools=`` when the template supports tools.
``prompt``: BFCL's prompting format — the functions as JSON in the system prompt and a
Python call list ``[f(a=1, b="x")]`` as the answer — for models without tool templates
(SmolLM2-135M-Instruct among them).
"""

from __future__ import annotations

import json
from typing import Any

from .tool_calls import ToolCall, render_python
from .types import Message

# BFCL's default system prompt for prompting (non-FC) models.
BFCL_SYSTEM_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. "
    "Based on the question, you will need to make one or more function/tool calls to achieve the purpose.\n"
    "If none of the functions can be used, point it out. If the given question lacks the parameters required "
    "by the function, also point it out.\nYou should only return the function calls in your response.\n\n"
    "If you decide to invoke any of the function(s), you MUST put it in the format of "
    "[func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)]\n"
    "You SHOULD NOT include any other text in the response.\n\n"
    "Here is a list of functions in JSON format that you can invoke.\n{functions}\n"
)


def template_supports_tools(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return isinstance(template, str) and "tools" in template


def function_docs(tools: list[dict]) -> list[dict]:
    """OpenAI tool dicts → bare function documents (name, description, parameters)."""
    return [t["function"] if isinstance(t.get("function"), dict) else t for t in tools]


def prompt_mode_messages(messages: list[Message], tools: list[dict] | None) -> list[Message]:
    """Rewrite a tool conversation into plain chat turns the BFCL prompting format expects."""
    out: list[Message] = []
    if tools:
        docs = json.dumps(function_docs(tools), ensure_ascii=False)
        system = BFCL_SYSTEM_PROMPT.format(functions=docs)
        if messages and messages[0]["role"] == "system" and messages[0].get("content"):
            system = f"{messages[0]['content']}\n\n{system}"
            messages = messages[1:]
        out.append({"role": "system", "content": system})
    for message in messages:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            calls = [ToolCall(c["function"]["name"], _args(c["function"].get("arguments")))
                     for c in message["tool_calls"]]
            out.append({"role": "assistant", "content": render_python(calls)})
        elif role == "tool":
            out.append({"role": "user", "content": f"Tool result ({message.get('name', 'tool')}): {message.get('content', '')}"})
        else:
            out.append({"role": role, "content": message.get("content") or ""})
    return out


def _args(arguments: Any) -> dict:
    if isinstance(arguments, dict):
        return arguments
    try:
        value = json.loads(arguments or "{}")
    except (TypeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def render_prompt(tokenizer: Any, messages: list[Message], tools: list[dict] | None, tool_format: str = "auto") -> str:
    """The text prompt for one conversation, ending with the assistant's generation prompt."""
    native = tool_format == "native" or (tool_format == "auto" and template_supports_tools(tokenizer))
    if native and tools:
        return tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)
    chat = prompt_mode_messages(messages, tools)
    return tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
