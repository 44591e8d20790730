"""Prompt construction for function calling.

``native``: the model's own chat template with ``tools=`` when the template supports tools.
``prompt``: the project's prompting format for models without tool templates
(SmolLM2-135M-Instruct among them): a short instruction, each function as one signature line
plus its parameter descriptions (``compact_function_docs``), and a Python call list
``[f(a=1, b="x")]`` as the answer — BFCL's answer format, with the function documents in
about a third of the tokens of BFCL's indented JSON. Prefill is most of the cost of a call
on CPU, so the format the project's models are trained and evaluated in is kept small.
"""

from __future__ import annotations

import json
from typing import Any

from .tool_calls import ToolCall, render_python
from .types import Message

# The project's own instruction (the models it trains see this; BFCL's stays in bfcl/evaluate.py).
COMPACT_SYSTEM_PROMPT = (
    "You call functions. Answer with only a Python list of calls: [func(arg=value), func2(arg=value)]. "
    "If no function fits, or the request lacks a required value, say so in plain words instead.\n"
    "Functions (name(param: type = default) - description; param? is optional):\n{functions}\n"
)


def _type(schema: dict) -> str:
    """A parameter schema as a short type: ``string``, ``'a'|'b'``, ``array[integer]``, ``dict{x: number}``."""
    if not isinstance(schema, dict):
        return "any"
    if schema.get("enum"):
        return "|".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    kind = schema.get("type", "any")
    kind = "|".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array[{_type(schema['items'])}]"
    if kind in ("object", "dict") and isinstance(schema.get("properties"), dict) and schema["properties"]:
        required = set(schema.get("required") or [])
        inner = ", ".join(_param(k, v, k in required) for k, v in schema["properties"].items())
        return f"dict{{{inner}}}"
    return kind


def _param(name: str, schema: dict, required: bool) -> str:
    text = f"{name}{'' if required else '?'}: {_type(schema)}"
    if isinstance(schema, dict) and "default" in schema:
        text += f" = {json.dumps(schema['default'], ensure_ascii=False)}"
    return text


def _descriptions(properties: dict, path: str = "") -> list[str]:
    lines = []
    for name, schema in properties.items():
        if not isinstance(schema, dict):
            continue
        extra = {
            k: v
            for k, v in schema.items()
            if k in ("format", "pattern", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength")
        }
        description = (schema.get("description") or "").strip()
        if extra:
            description = f"{description} {json.dumps(extra, ensure_ascii=False)}".strip()
        if description:
            lines.append(f"  {path}{name}: {description}")
        nested = schema.get("items") if schema.get("type") == "array" else schema
        if isinstance(nested, dict) and isinstance(nested.get("properties"), dict):
            lines += _descriptions(nested["properties"], f"{path}{name}.")
    return lines


def compact_function_docs(functions: list[dict]) -> str:
    """Function documents as signature lines: the JSON schema's names, types, required-ness,
    defaults, enums, nested properties and descriptions, without its punctuation."""
    blocks = []
    for fn in functions:
        params = fn.get("parameters") or {}
        properties = params.get("properties") or {}
        required = set(params.get("required") or [])
        signature = ", ".join(_param(k, v, k in required) for k, v in properties.items())
        description = (fn.get("description") or "").strip()
        head = f"{fn['name']}({signature})" + (f" - {description}" if description else "")
        blocks.append("\n".join([head] + _descriptions(properties)))
    return "\n".join(blocks)


def template_supports_tools(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return isinstance(template, str) and "tools" in template


def function_doc(tool: dict) -> dict:
    """An OpenAI tool dict's bare function document (name, description, parameters); a bare one as is."""
    return tool["function"] if isinstance(tool.get("function"), dict) else tool


def function_docs(tools: list[dict]) -> list[dict]:
    """OpenAI tool dicts → bare function documents (name, description, parameters)."""
    return [function_doc(t) for t in tools]


def prompt_mode_messages(messages: list[Message], tools: list[dict] | None) -> list[Message]:
    """Rewrite a tool conversation into plain chat turns the BFCL prompting format expects."""
    out: list[Message] = []
    if tools:
        system = COMPACT_SYSTEM_PROMPT.format(functions=compact_function_docs(function_docs(tools)))
        if messages and messages[0]["role"] == "system" and messages[0].get("content"):
            system = f"{messages[0]['content']}\n\n{system}"
            messages = messages[1:]
        out.append({"role": "system", "content": system})
    for message in messages:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            calls = [
                ToolCall(c["function"]["name"], call_arguments(c["function"].get("arguments")))
                for c in message["tool_calls"]
            ]
            out.append({"role": "assistant", "content": render_python(calls)})
        elif role == "tool":
            out.append(
                {
                    "role": "user",
                    "content": f"Tool result ({message.get('name', 'tool')}): {message.get('content', '')}",
                }
            )
        else:
            out.append({"role": role, "content": message.get("content") or ""})
    return out


def call_arguments(arguments: Any) -> dict:
    """A call's arguments as a dict: as given, or parsed from JSON text; {} when they are not an object."""
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
