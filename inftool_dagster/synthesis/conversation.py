"""The three agents in one loop: User Simulator ⇄ Tool-Calling Assistant ⇄ MCP Server.

All conversations of a shard advance step by step together, so every model step is one
batched ``generate`` call; tool calls go through the official MCP client to the MCP Server
(in-process by default), one simulated world per conversation.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import anyio
from mcp import Client

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.tool_calls import parse_tool_calls
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.mcp_server.server import SESSION_META_KEY

from .blueprints import Blueprint
from .user_simulator import UserSimulator

MAX_ASSISTANT_STEPS = 4


@dataclass
class Conversation:
    blueprint: Blueprint
    tools: list[dict]
    messages: list[dict]
    request_source: str
    request_template: str = "unknown"
    turn: int = 0  # index of the current user turn (multi_turn)
    steps: int = 0
    done: bool = False
    clarified: bool = False
    predicted_calls: list[list[dict]] = field(default_factory=list)  # per assistant step
    tool_errors: int = 0
    parse_failures: list[str] = field(default_factory=list)
    final_answer: str | None = None


@dataclass
class ShardTimings:
    model_s: float = 0.0
    user_s: float = 0.0
    tools_s: float = 0.0
    total_s: float = 0.0


def openai_tools(server: CatalogServer, names: list[str]) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {
                "name": n,
                "description": server.tools[n].description,
                "parameters": server.tools[n].parameters,
            },
        }
        for n in names
    ]


def opened_conversations(blueprints: list[Blueprint], server: CatalogServer, user: UserSimulator) -> list[Conversation]:
    """One conversation per blueprint: its tools offered and the User Simulator's first request."""
    return [
        Conversation(
            b,
            openai_tools(server, b.tools),
            [{"role": "user", "content": text}],
            source,
            user.templates.get(b.blueprint_id, "unknown"),
        )
        for b, (text, source) in zip(blueprints, user.requests(blueprints))
    ]


def run_conversations(
    blueprints: list[Blueprint],
    server: CatalogServer,
    policy: LLMBackend,
    user: UserSimulator,
    params: SamplingParams,
) -> tuple[list[Conversation], ShardTimings]:
    timings = ShardTimings()
    start = time.perf_counter()
    t0 = time.perf_counter()
    conversations = opened_conversations(blueprints, server, user)
    timings.user_s += time.perf_counter() - t0

    async def loop() -> None:
        async with Client(server.server) as client:
            while True:
                active = [c for c in conversations if not c.done]
                if not active:
                    return
                t = time.perf_counter()
                generations = policy.generate([c.messages for c in active], params, [c.tools for c in active])
                timings.model_s += time.perf_counter() - t
                for conv, gens in zip(active, generations):
                    await _advance(conv, gens[0], client, user, timings)

    anyio.run(loop)
    timings.total_s = time.perf_counter() - start
    return conversations, timings


async def _advance(conv: Conversation, generation, client: Client, user: UserSimulator, timings: ShardTimings) -> None:
    conv.steps += 1
    text = generation.text if generation.ok else ""
    parsed = parse_tool_calls(text)
    if parsed.ok:
        call_ids = [f"call_{conv.steps}_{i}" for i in range(len(parsed.calls))]
        conv.messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [c.to_openai(i) for c, i in zip(parsed.calls, call_ids)],
            }
        )
        conv.predicted_calls.append([{"name": c.name, "arguments": c.arguments} for c in parsed.calls])
        t = time.perf_counter()
        for call, call_id in zip(parsed.calls, call_ids):
            try:
                result = await client.call_tool(
                    call.name, call.arguments, meta={SESSION_META_KEY: conv.blueprint.blueprint_id}
                )
            except RuntimeError as exc:  # the official client rejects a result it cannot validate
                conv.tool_errors += 1
                conv.messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call_id,
                        "name": call.name,
                        "content": json.dumps({"error": f"client rejected the result: {exc}"[:300]}),
                    }
                )
                continue
            content = result.content[0].text if result.content else ""
            if result.is_error:
                conv.tool_errors += 1
                content = json.dumps({"error": content})
            conv.messages.append({"role": "tool", "tool_call_id": call_id, "name": call.name, "content": content})
        timings.tools_s += time.perf_counter() - t
    else:
        if not generation.ok:
            conv.parse_failures.append(f"generation failed: {generation.error}")
        elif parsed.failure and parsed.style:  # it tried to call and the call was malformed
            conv.parse_failures.append(parsed.failure)
        conv.messages.append({"role": "assistant", "content": text})
        blueprint = conv.blueprint
        if blueprint.scenario_type == "missing_parameter" and not conv.clarified and not conv.predicted_calls:
            conv.clarified = True  # the assistant asked (or answered); the user supplies the value
            conv.messages.append({"role": "user", "content": user.answer_clarification(blueprint)})
        else:
            conv.turn += 1
            follow_up = user.next_turn(blueprint, conv.turn)
            if follow_up is None:
                conv.final_answer = text
                conv.done = True
            else:
                conv.messages.append({"role": "user", "content": follow_up})
    if conv.steps >= MAX_ASSISTANT_STEPS * (1 + (conv.blueprint.scenario_type == "multi_turn")) and not conv.done:
        conv.done = True
