"""How much prefill the continuous decoder's prefix sharing saves on BFCL's single-turn test split:
per category and in total, the prompt tokens, the tokens prefilled when only the prefix common to
all prompts is computed once, and the tokens prefilled with prefix blocks (``llm/prefix_blocks``).
The prompts are the ones ``inftool bfcl eval`` sends (one generate call per stop rule, all
categories together), tokenized with the default model's tokenizer. Counting only: no model runs.

    .venv/bin/python benchmarks/prefix_sharing.py [--prompt-format compact] [--out docs/bench/prefix_sharing.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inftool_dagster.bfcl.data import MULTI_TURN, expand_categories, language_of, load_category
from inftool_dagster.bfcl.prompting import prompt_messages
from inftool_dagster.bfcl.splits import select
from inftool_dagster.llm.prefix_blocks import BlockPrefixes, deepest, prefix_blocks
from inftool_dagster.llm.shared_prefix import common_prefix_length
from inftool_dagster.models.loading import load_tokenizer
from inftool_dagster.models.registry import DEFAULT_MODEL, resolve_model


def prefilled(prompts: list[list[int]]) -> tuple[int, int]:
    """(tokens prefilled with the common prefix once, with prefix blocks) for one generate call
    (one run of the decoder: memory tiers ignored)."""
    common = common_prefix_length(prompts)
    items = list(range(len(prompts)))
    plain = BlockPrefixes(None, prompts, items, [1] * len(prompts), {}, None, common).planned_tokens(items)
    block_of = deepest(prefix_blocks(prompts))
    blocks = BlockPrefixes(None, prompts, items, [1] * len(prompts), block_of, None, common).planned_tokens(items)
    return plain, blocks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompt-format", default="compact", choices=["compact", "bfcl"])
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, default=Path("docs/bench/prefix_sharing.json"))
    args = parser.parse_args()
    tokenizer = load_tokenizer(resolve_model(DEFAULT_MODEL))
    categories = [c for c in expand_categories("single_turn") if c not in MULTI_TURN]
    groups: dict[bool, list[list[int]]] = {}  # one generate call per stop rule, as bfcl/evaluate sends them
    by_category = {}
    for category in categories:
        prompts = [
            tokenizer.apply_chat_template(
                prompt_messages(e, args.prompt_format, category),
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
            )["input_ids"]
            for e in select(list(load_category(category)), args.split, None)
        ]
        plain, blocks = prefilled(prompts)
        by_category[category] = {
            "prompts": len(prompts),
            "prompt_tokens": sum(map(len, prompts)),
            "prefilled_common_prefix_only": plain,
            "prefilled_with_blocks": blocks,
        }
        groups.setdefault(language_of(category) == "python", []).extend(prompts)
    calls = [prefilled(rows) for rows in groups.values()]
    plain, blocks = sum(c[0] for c in calls), sum(c[1] for c in calls)
    rows = [r for g in groups.values() for r in g]
    total = sum(map(len, rows))
    record = {
        "split": args.split,
        "prompt_format": args.prompt_format,
        "model_tokenizer": DEFAULT_MODEL,
        "categories": by_category,
        "all": {
            "prompts": len(rows),
            "prompt_tokens": total,
            "prefilled_common_prefix_only": plain,
            "prefilled_with_blocks": blocks,
            "saved_by_blocks": round(1 - blocks / plain, 4),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(json.dumps(record["all"]))


if __name__ == "__main__":
    main()
