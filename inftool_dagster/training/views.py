"""Training views of a verified set: GRPO prompts (with gold for the reward) and SFT chats.

GRPO needs prompts whose correct outcome is known, not the policy's successes: every
deduplicated trajectory whose gold calls replay cleanly on the MCP Server yields prompts
(the conversation up to the step, the tools, the gold calls of that step; ``[]`` = the
right move is not to call: irrelevance, or asking for a withheld value). SFT warm-start
chats are the verified policy trajectories plus *gold replays* (the gold calls executed on
the MCP Server, real results, a short answer) for the rest, marked by ``source``: ``policy``,
``gold_replay`` (the policy tried and failed a gate) or ``gold_only`` (planned for volume: the
policy never ran it, ``planned_rows``).

The split is by tool: in a round, the held-out probe's tools (whole specs, evaluation/probe.py);
standalone (``inftool verify``), a hash of the tool name puts ``heldout_fraction`` of the
catalog's tools aside. A training row never offers a held-out tool, a held-out row targets one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from inftool_dagster.llm.tool_calls import ToolCall
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.mcp_server.simulator import ToolCallError
from inftool_dagster.storage.files import write_parquet_atomic
from inftool_dagster.synthesis.blueprints import Blueprint
from inftool_dagster.synthesis.user_simulator import UserSimulator, words
from inftool_dagster.verification.dedup import dedup
from inftool_dagster.verification.matching import resolve_placeholders

GRPO_SCHEMA = {
    "prompt_id": pl.Utf8,
    "trajectory_id": pl.Utf8,
    "scenario_type": pl.Utf8,
    "domain": pl.Utf8,
    "prompt": pl.Utf8,  # JSON chat messages up to the assistant step
    "tools": pl.Utf8,  # JSON OpenAI tool list
    "gold_calls": pl.Utf8,  # JSON [{"name", "arguments"}]; [] = do not call
    "target_tools": pl.List(pl.Utf8),
    "split": pl.Utf8,
}
SFT_SCHEMA = {
    "trajectory_id": pl.Utf8,
    "scenario_type": pl.Utf8,
    "messages": pl.Utf8,
    "tools": pl.Utf8,
    "source": pl.Utf8,
    "target_tools": pl.List(pl.Utf8),
    "split": pl.Utf8,
}

GOLD_ONLY = "gold_only"  # ``policy_model`` of a planned row no assistant ran (``planned_rows``)


def is_heldout_tool(name: str, fraction: float, seed: int = 0) -> bool:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_of(offered: list[str], targets: list[str], heldout: Callable[[str], bool]) -> str | None:
    """ "train", "heldout", or None (a held-out tool appears only as a distractor: dropped)."""
    if any(heldout(t) for t in targets):
        return "heldout"
    if any(heldout(t) for t in offered):
        return None
    return "train"


def _answer(call: ToolCall, result: Any) -> str:
    text = json.dumps(result, ensure_ascii=False)
    return f"Done: {words(call.name)} returned {text[:200] + ('…' if len(text) > 200 else '')}"


class GoldReplayError(Exception):
    pass


def gold_replay(
    server: CatalogServer, user: UserSimulator, blueprint: Blueprint, request: str
) -> tuple[list[dict], list[tuple[list[dict], list[dict]]]]:
    """(full chat, [(prompt messages, gold calls of the next assistant step), ...])."""
    messages: list[dict] = [{"role": "user", "content": request}]
    steps: list[tuple[list[dict], list[dict]]] = []
    session = f"replay:{blueprint.blueprint_id}"
    results: list[Any] = []
    counter = 0

    def call_step(calls: list[dict]) -> Any:
        nonlocal counter
        steps.append(([dict(m) for m in messages], calls))
        counter += 1
        ids = [f"call_{counter}_{i}" for i in range(len(calls))]
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [ToolCall(c["name"], c["arguments"]).to_openai(i) for c, i in zip(calls, ids)],
            }
        )
        last = None
        for c, call_id in zip(calls, ids):
            try:
                last = server.call(c["name"], c["arguments"], session_key=session)
            except ToolCallError as exc:
                raise GoldReplayError(f"gold call rejected by the MCP server: {exc}") from None
            results.append(last)
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": c["name"],
                    "content": json.dumps(last, ensure_ascii=False),
                }
            )
        return last

    def answer(call: dict, result: Any) -> None:
        messages.append({"role": "assistant", "content": _answer(ToolCall(call["name"], call["arguments"]), result)})

    gold = [{"name": c.name, "arguments": c.arguments} for c in blueprint.gold_calls]
    kind = blueprint.scenario_type
    if kind == "irrelevance":
        steps.append(([dict(m) for m in messages], []))
        messages.append({"role": "assistant", "content": "Sorry, none of the tools available to me can do that."})
    elif kind == "missing_parameter":
        steps.append(([dict(m) for m in messages], []))
        messages.append(
            {
                "role": "assistant",
                "content": f"Could you tell me the {words(blueprint.missing_parameter or 'missing value')}?",
            }
        )
        messages.append({"role": "user", "content": user.answer_clarification(blueprint)})
        answer(gold[0], call_step(gold))
    elif kind == "multi_step":
        call_step([gold[0]])
        second = resolve_placeholders(gold[1], results)
        answer(second, call_step([second]))
    elif kind == "multi_turn":
        for turn, call in enumerate(gold):
            if turn:
                messages.append({"role": "user", "content": user.next_turn(blueprint, turn)})
            answer(call, call_step([call]))
    else:
        result = call_step(gold)
        answer(gold[-1], result)
    return messages, steps


def training_views(
    deduped: pl.DataFrame, server: CatalogServer, *, heldout: Callable[[str], bool] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(grpo prompts, sft chats, counts) from deduplicated gated trajectories."""
    grpo_rows, sft_rows = [], []
    counts = {"gold_rejected": 0, "dropped_heldout_distractor": 0}
    users: dict[int, UserSimulator] = {}
    for row in deduped.iter_rows(named=True):
        split = split_of(row["tool_names"], row["target_tools"], heldout or (lambda name: is_heldout_tool(name, 0.2)))
        if split is None:
            counts["dropped_heldout_distractor"] += 1
            continue
        blueprint = Blueprint.from_row(orjson.loads(row["blueprint"]))
        user = users.setdefault(row["seed"], UserSimulator.for_tools(server.tools.values(), None, row["seed"]))
        try:
            chat, steps = gold_replay(server, user, blueprint, row["request"])
        except GoldReplayError:
            counts["gold_rejected"] += 1
            continue
        for i, (prompt, gold) in enumerate(steps):
            grpo_rows.append(
                {
                    "prompt_id": f"{row['trajectory_id']}:{i}",
                    "trajectory_id": row["trajectory_id"],
                    "scenario_type": row["scenario_type"],
                    "domain": row["domain"],
                    "prompt": json.dumps(prompt, ensure_ascii=False),
                    "tools": row["tools"],
                    "gold_calls": json.dumps(gold, ensure_ascii=False),
                    "target_tools": row["target_tools"],
                    "split": split,
                }
            )
        verified = row.get("verified")
        sft_rows.append(
            {
                "trajectory_id": row["trajectory_id"],
                "scenario_type": row["scenario_type"],
                "messages": row["messages"] if verified else json.dumps(chat, ensure_ascii=False),
                "tools": row["tools"],
                "source": _source(row),
                "target_tools": row["target_tools"],
                "split": split,
            }
        )
    return pl.DataFrame(grpo_rows, schema=GRPO_SCHEMA), pl.DataFrame(sft_rows, schema=SFT_SCHEMA), counts


def _source(row: dict) -> str:
    if row.get("verified"):
        return "policy"
    return GOLD_ONLY if row.get("policy_model") == GOLD_ONLY else "gold_replay"


def planned_rows(
    blueprints: list[Blueprint], server: CatalogServer, user: UserSimulator, round_key: str
) -> pl.DataFrame:
    """Blueprints planned for volume, not for the policy: the User Simulator's request and nothing
    else, shaped like gated trajectories that passed no gate, so that ``training_views`` gold-replays
    them (source ``gold_only``) beside the policy's own conversations. Costs no model time."""
    from inftool_dagster.synthesis.config import SynthConfig
    from inftool_dagster.synthesis.conversation import ShardTimings, opened_conversations
    from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA, trajectory_rows

    conversations = opened_conversations(blueprints, server, user)
    config = SynthConfig(n=len(blueprints), seed=user.seed, round_key=round_key, policy_model=GOLD_ONLY)
    frame = pl.DataFrame(trajectory_rows(conversations, config, ShardTimings()), schema=TRAJECTORY_SCHEMA)
    return frame.with_columns(verified=pl.lit(False), rejected_by=pl.lit(GOLD_ONLY))


def gold_trajectory_rows(
    blueprints: list[Blueprint], server: CatalogServer, user: UserSimulator, round_key: str = "gold"
) -> list[dict]:
    """Trajectory rows whose assistant is the gold replay: a set every gate must pass.

    Used to test the gates (each perturbation of a gold row must fail exactly its gate) and to
    benchmark verification at scale without spending model time.
    """
    from inftool_dagster.synthesis.config import SynthConfig
    from inftool_dagster.synthesis.conversation import Conversation, ShardTimings, openai_tools
    from inftool_dagster.synthesis.trajectories import trajectory_rows

    conversations = []
    requests = user.requests(blueprints)
    for blueprint, (text, source) in zip(blueprints, requests):
        chat, _ = gold_replay(server, user, blueprint, text)
        conv = Conversation(
            blueprint,
            openai_tools(server, blueprint.tools),
            chat,
            source,
            user.templates.get(blueprint.blueprint_id, "unknown"),
        )
        for message in chat:
            if message["role"] == "assistant" and message.get("tool_calls"):
                conv.predicted_calls.append(
                    [
                        {"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                        for c in message["tool_calls"]
                    ]
                )
        conv.steps = sum(m["role"] == "assistant" for m in chat)
        conv.final_answer = chat[-1]["content"]
        conv.done = True
        conversations.append(conv)
    config = SynthConfig(n=len(blueprints), seed=user.seed, round_key=round_key, policy_model="gold-replay")
    return trajectory_rows(conversations, config, ShardTimings())


def build_views(
    gated: pl.DataFrame, server: CatalogServer, out_dir: str | Path, config: Any, planned: pl.DataFrame | None = None
) -> dict:
    """GRPO prompts and SFT chats, train/held-out by tool, from every trajectory with a sound gold
    and every ``planned`` row (``planned_rows``; after the policy's in the dedup's order).
    ``config``: a ``verification.VerifyConfig`` (dedup, held-out tools or fraction, BFCL exclusion)."""
    if planned is not None and planned.height:
        gated = pl.concat([gated, planned], how="diagonal_relaxed")
    candidates, _ = dedup(gated, config.dedup)
    dropped_bfcl = 0
    if config.exclude_bfcl and candidates.height:
        candidates, dropped_bfcl = _without_bfcl(candidates)
    grpo, sft, counts = training_views(candidates, server, heldout=heldout_rule(config))
    counts["dropped_bfcl_overlap"] = dropped_bfcl
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, view in (("grpo", grpo), ("sft", sft)):
        for split in ("train", "heldout"):
            write_parquet_atomic(view.filter(pl.col("split") == split), out / f"{name}_{split}.parquet")
    return {
        "grpo_prompts": {s: grpo.filter(pl.col("split") == s).height for s in ("train", "heldout")},
        "sft_chats": {s: sft.filter(pl.col("split") == s).height for s in ("train", "heldout")},
        "sft_sources": dict(Counter(sft["source"].to_list())),
        "rows_by_source": rows_by_source(grpo, sft),
        "views": counts,
    }


def heldout_rule(config: Any):
    """The predicate "this tool is held out of training" that a config describes."""
    if config.heldout_tools is not None:
        held = frozenset(config.heldout_tools)
        return held.__contains__
    return lambda name: is_heldout_tool(name, config.heldout_fraction, config.split_seed)


def rows_by_source(grpo: pl.DataFrame, sft: pl.DataFrame) -> dict:
    """Training rows (train split) by where they came from: SFT chats are the policy's own verified
    conversations or gold replays; GRPO prompts all carry gold calls from the plan."""
    train_sft = sft.filter(pl.col("split") == "train")
    return {
        "sft": dict(Counter(train_sft["source"].to_list())),
        "grpo_prompts": {"gold": grpo.filter(pl.col("split") == "train").height},
    }


def _without_bfcl(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """BFCL is the yardstick: no BFCL function or question may reach training."""
    from inftool_dagster.bfcl.leakage import bfcl_index, normalize_question

    index = bfcl_index()
    keep = [
        not (set(tools) & index.function_names) and normalize_question(request) not in index.questions
        for tools, request in zip(frame["tool_names"].to_list(), frame["request"].to_list())
    ]
    kept = frame.filter(pl.Series(keep, dtype=pl.Boolean))
    return kept, frame.height - kept.height
