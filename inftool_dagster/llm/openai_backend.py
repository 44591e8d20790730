"""OpenAI-compatible backend: vLLM serve, SGLang, llama.cpp server, hosted APIs.

Concurrency limit, retries with exponential backoff (honouring ``Retry-After``) on
timeouts, connection errors, HTTP 429 and 5xx, and on empty output; every item that still
fails is a recorded ``Generation.failure``, never a lost batch.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx

from .backend import LLMBackend, OpenAIConfig
from .tool_calls import ToolCall, render_json
from .types import Generation, Message, SamplingParams

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIBackend(LLMBackend):
    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config

    def generate(self, conversations, params: SamplingParams, tools=None) -> list[list[Generation]]:
        return asyncio.run(self.agenerate(conversations, params, tools))

    async def agenerate(
        self, conversations: list[list[Message]], params: SamplingParams, tools: list[list[dict]] | None = None
    ) -> list[list[Generation]]:
        limit = asyncio.Semaphore(self.config.max_concurrency)
        headers = {"Authorization": f"Bearer {self.config.api_key}"}
        async with httpx.AsyncClient(
            base_url=self.config.base_url.rstrip("/"), headers=headers, timeout=self.config.timeout_s
        ) as client:

            async def one(i: int) -> list[Generation]:
                async with limit:
                    return await self._complete(client, conversations[i], params, tools[i] if tools else None)

            return list(await asyncio.gather(*(one(i) for i in range(len(conversations)))))

    async def _complete(
        self, client: httpx.AsyncClient, messages: list[Message], params: SamplingParams, tools: list[dict] | None
    ) -> list[Generation]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
        }
        if params.stop:
            body["stop"] = params.stop
        if params.seed is not None:
            body["seed"] = params.seed
        if tools:
            body["tools"] = tools
        reason = "no attempt made"
        for attempt in range(1, self.config.max_retries + 2):
            delay = self.config.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random())
            try:
                response = await client.post("/chat/completions", json=body)
            except httpx.TimeoutException:
                reason = f"timed out after {self.config.timeout_s}s"
            except httpx.TransportError as exc:
                reason = f"connection error: {type(exc).__name__}"
            else:
                if response.status_code in RETRYABLE_STATUS:
                    reason = f"HTTP {response.status_code}"
                    delay = max(delay, _retry_after(response))
                elif response.status_code >= 400:
                    return [
                        Generation.failure(f"HTTP {response.status_code}: {response.text[:200]}", attempt)
                    ] * params.n
                else:
                    generations = _parse_response(response, attempt)
                    if isinstance(generations, list):
                        return (generations + [Generation.failure("fewer choices than requested", attempt)] * params.n)[
                            : params.n
                        ]
                    reason = generations  # empty or malformed output: worth another try
            if attempt <= self.config.max_retries:
                await asyncio.sleep(delay)
        return [
            Generation.failure(f"{reason} (after {self.config.max_retries + 1} attempts)", self.config.max_retries + 1)
            for _ in range(params.n)
        ]


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", 0)), 30.0)
    except ValueError:
        return 0.0


def _parse_response(response: httpx.Response, attempt: int) -> list[Generation] | str:
    try:
        payload = response.json()
        choices = payload["choices"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return "malformed response body"
    usage = payload.get("usage") or {}
    out = []
    for choice in choices:
        message = choice.get("message") or {}
        text = message.get("content") or ""
        calls = message.get("tool_calls") or []
        if calls:
            parsed = []
            for call in calls:
                fn = call.get("function") or {}
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = {"__unparsed__": fn.get("arguments")}
                parsed.append(ToolCall(fn.get("name", ""), args if isinstance(args, dict) else {}))
            text = render_json(parsed)
        if not text:  # nothing at all (whitespace is a real, if useless, completion)
            return "empty output"
        out.append(
            Generation(
                text=text,
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)) // max(len(choices), 1),
                finish_reason=choice.get("finish_reason") or "stop",
                attempts=attempt,
                meta={"tool_calls": calls} if calls else {},
            )
        )
    return out or "no choices in the response"
