"""A tiny tool-calling task for learning tests: one tool, the city to copy from the request."""

import json
from pathlib import Path

import polars as pl

CITIES = [
    "Lisbon",
    "Porto",
    "Paris",
    "Berlin",
    "Madrid",
    "Rome",
    "Vienna",
    "Prague",
    "Oslo",
    "Dublin",
    "Athens",
    "Warsaw",
    "Zurich",
    "Milan",
    "Munich",
    "Seville",
]
TOOLS = json.dumps(
    [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
)


def write_tiny_task(root: Path) -> Path:
    """``grpo_train.parquet`` and ``sft_train.parquet`` in the training-set layout ``inftool verify`` writes."""
    root.mkdir(parents=True, exist_ok=True)
    grpo, sft = [], []
    for city in CITIES:
        request = [{"role": "user", "content": f"What is the weather in {city}?"}]
        gold = [{"name": "get_weather", "arguments": {"city": city}}]
        grpo.append({"prompt": json.dumps(request), "tools": TOOLS, "gold_calls": json.dumps(gold)})
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
        }
        sft.append(
            {
                "messages": json.dumps(request + [{"role": "assistant", "content": None, "tool_calls": [call]}]),
                "tools": TOOLS,
            }
        )
    pl.DataFrame(grpo).write_parquet(root / "grpo_train.parquet")
    pl.DataFrame(sft).write_parquet(root / "sft_train.parquet")
    return root
