"""What a round trained on, by scenario type: its SFT chats (by source) and GRPO prompts per
scenario type, and the scenario weights its parent's gaps set for it (``gaps.json``'s
``scenario_weights`` of the round before). Shows how the gap rule moves the mix.

    .venv/bin/python experiments/training_mix.py --home .experiments/headline/loop_seed1 --round r0002 \
        [--record docs/bench/training_mix.json]
"""

from __future__ import annotations

import json

from round_records import print_and_record, round_arguments  # this directory is on sys.path as a script


def main() -> None:
    args = round_arguments(__doc__.split("\n\n")[0])
    import polars as pl

    from inftool_dagster.assets.partitions import round_key
    from inftool_dagster.layout import RoundLayout

    layout = RoundLayout.local(args.home, args.round)
    sft = pl.read_parquet(layout.training_set() / "sft_train.parquet")
    grpo = pl.read_parquet(layout.training_set() / "grpo_train.parquet")
    by_type = sft.group_by("scenario_type", "source").len().sort("scenario_type", "source")
    result = {
        "sft_chats": sft.height,
        "sft_by_scenario": dict(sft.group_by("scenario_type").len().sort("scenario_type").iter_rows()),
        "sft_by_scenario_and_source": {f"{t}/{s}": n for t, s, n in by_type.iter_rows()},
        "grpo_prompts": grpo.height,
        "grpo_by_scenario": dict(grpo.group_by("scenario_type").len().sort("scenario_type").iter_rows())
        if "scenario_type" in grpo.columns
        else None,
    }
    index = int(args.round.lstrip("r"))
    if index:
        parent = RoundLayout.local(args.home, round_key(index - 1)).gaps()
        if parent.exists():
            result["weights_from_parent_gaps"] = json.loads(parent.read_text()).get("scenario_weights")
    print_and_record(args, result)


if __name__ == "__main__":
    main()
