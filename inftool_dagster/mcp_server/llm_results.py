"""Optional LLM-written tool results: a model writes the response, the schema decides.

The model's text must parse as JSON and conform to the operation's response schema;
anything else falls back to the deterministic simulator (and is counted), so a weak model
can never put a malformed result into a conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import SamplingParams

PROMPT = (
    "You are simulating the API operation `{name}`: {description}\n"
    "It was called with these arguments:\n{arguments}\n"
    "Reply with only the JSON response body, no prose. It must conform to this JSON Schema:\n{schema}"
)


@dataclass
class LLMResultWriter:
    backend: LLMBackend
    max_new_tokens: int = 256
    used: int = 0
    fallbacks: int = 0

    def write(self, tool: Any, arguments: dict) -> Any | None:
        """The model's result when it is valid JSON conforming to the response schema, else None."""
        schema = tool.response_schema or {"type": "object"}
        prompt = PROMPT.format(
            name=tool.name,
            description=tool.description,
            arguments=json.dumps(arguments, ensure_ascii=False),
            schema=json.dumps(schema),
        )
        generation = self.backend.generate(
            [[{"role": "user", "content": prompt}]], SamplingParams(max_new_tokens=self.max_new_tokens)
        )[0][0]
        value = _first_json(generation.text) if generation.ok else None
        validator = tool.response_validator
        if (
            value is None
            or (validator is not None and not validator.is_valid(value))
            or (validator is None and not isinstance(value, dict))
        ):
            self.fallbacks += 1
            return None
        self.used += 1
        return value


def _first_json(text: str) -> Any | None:
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                return decoder.raw_decode(text, start)[0]
            except json.JSONDecodeError:
                continue
    return None
