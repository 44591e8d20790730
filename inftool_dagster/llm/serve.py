"""An OpenAI-compatible API for any local checkpoint: ``/v1/models``, ``/v1/chat/completions``.

``tools`` in the request are rendered with the model's tool format (native template or the
BFCL prompting format) and parsed calls come back as ``tool_calls``, so external harnesses
(the official BFCL runner, agents) can evaluate a trained model.

Concurrent requests are batched (``RequestBatcher``): requests that arrive while a generation
runs wait and go into the next one together, so the local model decodes them in one batch (the
continuous decoder refills its slots as rows finish) instead of one request at a time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .backend import LLMBackend
from .tool_calls import parse_tool_calls
from .types import Generation, Message, SamplingParams


class RequestBatcher:
    """One generation at a time on the local model, each over every request waiting for it.

    Requests with the same sampling parameters share a ``generate`` call (at most
    ``max_batch`` conversations); the batch sizes served are counted in ``batch_sizes``.
    """

    def __init__(self, backend: LLMBackend, max_batch: int = 64) -> None:
        self.backend = backend
        self.max_batch = max_batch
        # (sampling key, messages, tools, params, future): requests with equal keys share a call
        self.pending: list[tuple[str, list[Message], list[dict] | None, SamplingParams, asyncio.Future]] = []
        self.worker: asyncio.Task | None = None
        self.batch_sizes: list[int] = []

    async def generate(
        self, messages: list[Message], tools: list[dict] | None, params: SamplingParams
    ) -> list[Generation]:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((params.model_dump_json(), messages, tools, params, future))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let requests that arrived together join the first batch
        while self.pending:
            key = self.pending[0][0]
            batch = [item for item in self.pending if item[0] == key][: self.max_batch]
            self.pending = [item for item in self.pending if not any(item is b for b in batch)]
            _, messages, tools, params, futures = zip(*batch)
            offered = [t or [] for t in tools] if any(tools) else None
            self.batch_sizes.append(len(batch))
            try:
                results = await asyncio.to_thread(self.backend.generate, list(messages), params[0], offered)
            except Exception as exc:  # every waiting request learns of it; the server keeps serving
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for future, result in zip(futures, results):
                if not future.done():
                    future.set_result(result)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def create_app(
    backend: LLMBackend, model_name: str, *, max_new_tokens_cap: int = 2048, max_batch: int = 64
) -> Starlette:
    batcher = RequestBatcher(backend, max_batch)
    created = int(time.time())

    async def models(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": model_name, "object": "model", "created": created, "owned_by": "inftool"}],
            }
        )

    async def chat(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except Exception:
            return _error(400, "request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error(400, "'messages' must be a non-empty list")
        if body.get("stream"):
            return _error(400, "streaming is not supported by this server")
        tools = body.get("tools") or None
        if tools is not None and not isinstance(tools, list):
            return _error(400, "'tools' must be a list")
        if body.get("tool_choice") == "none":
            tools = None
        stop = body.get("stop") or []
        try:
            params = SamplingParams(
                max_new_tokens=min(
                    int(body.get("max_completion_tokens") or body.get("max_tokens") or 256), max_new_tokens_cap
                ),
                temperature=float(body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0),
                top_p=float(body.get("top_p") or 1.0),
                n=int(body.get("n") or 1),
                stop=[stop] if isinstance(stop, str) else list(stop),
                seed=body.get("seed"),
            )
        except (ValueError, TypeError) as exc:
            return _error(400, f"invalid sampling parameters: {exc}")
        try:
            result = await batcher.generate(body["messages"], tools, params)
        except Exception as exc:
            return _error(500, f"generation failed: {type(exc).__name__}: {exc}"[:500], "server_error")
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for index, generation in enumerate(result):
            if not generation.ok:
                return _error(500, f"generation failed: {generation.error}", "server_error")
            prompt_tokens = generation.prompt_tokens
            completion_tokens += generation.completion_tokens
            message: dict[str, Any] = {"role": "assistant", "content": generation.text}
            finish = generation.finish_reason
            if tools:
                parsed = parse_tool_calls(generation.text)
                if parsed.ok:
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [c.to_openai(f"call_{uuid.uuid4().hex[:12]}") for c in parsed.calls],
                    }
                    finish = "tool_calls"
            choices.append({"index": index, "message": message, "finish_reason": finish})
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model_name,
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    app = Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )
    app.state.batcher = batcher
    return app
