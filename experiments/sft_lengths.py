"""How long a round's SFT chats are as the trainer sees them, with the catalog's tool documents
and with lean ones (``training/tool_docs.py``): chats under the trainer's length limit, their
tokens, and the share of tokens the loss falls on; and how many parameters the offered tools
have (what the lean documents cut). Tokenizing only, no model.

    .venv/bin/python experiments/sft_lengths.py --home .experiments/headline/loop --round r0002 \
        [--record docs/bench/sft_lengths.json]
"""

from __future__ import annotations

import json
import statistics

from round_records import print_and_record, round_arguments  # this directory is on sys.path as a script

RENDERINGS = {
    "as_in_catalog": {},
    "descriptions_120": {"description_chars": 120},
    "lean_120_2": {"description_chars": 120, "optional_params": 2},
    "lean_120_2_dotted_0.3": {"description_chars": 120, "optional_params": 2, "dotted_share": 0.3},
}


def lengths(frame, tokenizer, limit: int, **rendering) -> dict:
    from inftool_dagster.training.datasets import sft_sequences
    from inftool_dagster.training.tool_docs import ToolRendering

    rows = sft_sequences(frame, tokenizer, ToolRendering(**rendering))
    sizes = [len(ids) for ids in rows["input_ids"]]
    learnt = [sum(mask) for mask in rows["completion_mask"]]
    kept = [i for i, n in enumerate(sizes) if n <= limit]
    return {
        "chats": len(sizes),
        "under_limit": len(kept),
        "median_tokens": statistics.median(sizes),
        "tokens_under_limit": sum(sizes[i] for i in kept),
        "learnt_share": round(sum(learnt[i] for i in kept) / max(1, sum(sizes[i] for i in kept)), 3),
    }


def tool_parameters(frame) -> dict:
    """Parameters per offered tool (each offer counted), at the median and the 75th percentile."""
    from inftool_dagster.llm.prompts import function_docs

    counts, required = [], []
    for tools in frame["tools"].to_list():
        for fn in function_docs(json.loads(tools)):
            params = fn.get("parameters") or {}
            counts.append(len(params.get("properties") or {}))
            required.append(len(params.get("required") or []))
    quartiles = statistics.quantiles(counts, n=4)
    return {
        "offers": len(counts),
        "median": statistics.median(counts),
        "p75": quartiles[2],
        "median_required": statistics.median(required),
    }


def main() -> None:
    args = round_arguments(__doc__.split("\n\n")[0])
    import polars as pl

    from inftool_dagster.layout import RoundLayout
    from inftool_dagster.models.loading import load_tokenizer
    from inftool_dagster.models.registry import resolve_model
    from inftool_dagster.training.config import TrainConfig
    from inftool_dagster.training.sft import sft_max_length

    layout = RoundLayout.local(args.home, args.round)
    frame = pl.read_parquet(layout.training_set() / "sft_train.parquet")
    tokenizer = load_tokenizer(resolve_model("smollm2-135m-instruct"))
    limit = sft_max_length(TrainConfig(method="sft"))
    result = {
        "limit": limit,
        "tool_parameters": tool_parameters(frame),
        **{name: lengths(frame, tokenizer, limit, **r) for name, r in RENDERINGS.items()},
    }
    print_and_record(args, result)


if __name__ == "__main__":
    main()
